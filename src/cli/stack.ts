/**
 * `darkroom stack FILES... -o OUT.fits`: integrate frames (row-band streaming, rejection,
 * normalization, weights). Rejection maps go beside OUT as OUT_rejlow.fits / OUT_rejhigh.fits.
 */
import type { Command } from 'commander';
import { DarkroomError } from '../util/errors.js';
import { assertOutputsAreNotInputs } from '../util/paths.js';
import {
  COMBINES,
  NORMALIZES,
  REJECTS,
  REJECT_NORMALIZES,
  integrateToFile,
  rejectionMapPaths,
  type Combine,
  type IntegrateOptions,
  type Normalize,
  type Reject,
  type RejectNormalize,
  type Weights,
} from '../integrate/index.js';

function bad(msg: string): never {
  throw new DarkroomError('BAD_ARGUMENT', msg);
}

function num(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const x = Number(v);
  if (v.trim() === '' || !Number.isFinite(x)) bad(`${name}: '${v}' is not a number`);
  return x;
}

function oneOf<T extends string>(name: string, v: string, list: readonly T[]): T {
  if (!(list as readonly string[]).includes(v)) bad(`${name}: unknown value '${v}' (choose ${list.join(', ')})`);
  return v as T;
}

/** '2GB', '512MB', '100k', '1000000' -> bytes. */
export function parseMemory(v: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?\s*$/i.exec(v);
  if (!m) bad(`--memory: '${v}' is not a size (e.g. 2GB, 512MB)`);
  const mult = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 }[m[2]!.toLowerCase() as '' | 'k' | 'm' | 'g' | 't'];
  const bytes = Math.floor(Number(m[1]) * mult);
  if (!(bytes > 0)) bad(`--memory: '${v}' must be more than 0`);
  return bytes;
}

function parseWeights(v: string): Weights {
  if (v === 'none' || v === 'exposure' || v === 'noise') return v;
  const m = /^keyword:([A-Za-z0-9_-]{1,8})$/.exec(v);
  if (m) return { keyword: m[1]!.toUpperCase() };
  bad(`--weights: unknown value '${v}' (choose none, exposure, noise or keyword:NAME)`);
}

interface StackFlags {
  output?: string;
  combine: string;
  reject: string;
  sigmaLow?: string;
  sigmaHigh?: string;
  winsorCutoff?: string;
  linearLow?: string;
  linearHigh?: string;
  percentileLow?: string;
  percentileHigh?: string;
  minmaxLow?: string;
  minmaxHigh?: string;
  gesdFraction?: string;
  gesdAlpha?: string;
  clipLow: boolean;
  clipHigh: boolean;
  rangeLow?: string;
  rangeHigh?: string;
  normalize: string;
  rejectNormalize: string;
  weights: string;
  estimator: string;
  rejectionMaps?: boolean;
  memory?: string;
  workers?: string;
  json?: boolean;
}

export function registerStack(program: Command): void {
  program
    .command('stack')
    .description('integrate (stack) frames: combination, pixel rejection, normalization and weights, streamed by row bands')
    .argument('<files...>', 'input FITS frames (same size and channels)')
    .requiredOption('-o, --output <out.fits>', 'output FITS (float32)')
    .option('--combine <how>', `combination: ${COMBINES.join('|')}`, 'average')
    .option('--reject <how>', `rejection: ${REJECTS.join('|')}`, 'winsorized')
    .option('--sigma-low <k>', 'low sigma for sigma/winsorized/averaged-sigma/mad clipping (default 4)')
    .option('--sigma-high <k>', 'high sigma (default 3)')
    .option('--winsor-cutoff <k>', 'winsorization cutoff (default 5)')
    .option('--linear-low <k>', 'linear fit low sigma (default 5)')
    .option('--linear-high <k>', 'linear fit high sigma (default 4)')
    .option('--percentile-low <p>', 'percentile clipping low (default 0.2)')
    .option('--percentile-high <p>', 'percentile clipping high (default 0.1)')
    .option('--minmax-low <n>', 'min/max: number of lowest values dropped (default 1)')
    .option('--minmax-high <n>', 'min/max: number of highest values dropped (default 1)')
    .option('--gesd-fraction <f>', 'GESD: outlier fraction (default 0.3)')
    .option('--gesd-alpha <a>', 'GESD: significance (default 0.05)')
    .option('--no-clip-low', 'do not reject low values')
    .option('--no-clip-high', 'do not reject high values')
    .option('--range-low <v>', 'reject raw values <= v')
    .option('--range-high <v>', 'reject raw values >= v')
    .option('--normalize <how>', `normalization for the combination: ${NORMALIZES.join('|')}`, 'none')
    .option('--reject-normalize <how>', `normalization for the rejection: ${REJECT_NORMALIZES.join('|')}`, 'none')
    .option('--weights <how>', 'weights: none|exposure|noise|keyword:NAME', 'none')
    .option('--estimator <e>', 'location/scale estimator: ikss|mad', 'ikss')
    .option('--rejection-maps', 'write OUT_rejlow.fits and OUT_rejhigh.fits (fraction of frames rejected per pixel)')
    .option('--memory <size>', 'memory budget for the row bands, e.g. 2GB (default: a quarter of free memory, at most 512MB)')
    .option('--workers <n>', 'worker threads (default: all cores)')
    .option('--json', 'print a JSON summary')
    .action(async (files: string[], f: StackFlags) => {
      const workers = num('--workers', f.workers);
      const opts: Partial<IntegrateOptions> = {
        combine: oneOf<Combine>('--combine', f.combine, COMBINES),
        reject: oneOf<Reject>('--reject', f.reject, REJECTS),
        sigmaLow: num('--sigma-low', f.sigmaLow),
        sigmaHigh: num('--sigma-high', f.sigmaHigh),
        winsorCutoff: num('--winsor-cutoff', f.winsorCutoff),
        linearLow: num('--linear-low', f.linearLow),
        linearHigh: num('--linear-high', f.linearHigh),
        percentileLow: num('--percentile-low', f.percentileLow),
        percentileHigh: num('--percentile-high', f.percentileHigh),
        minmaxLow: num('--minmax-low', f.minmaxLow),
        minmaxHigh: num('--minmax-high', f.minmaxHigh),
        gesdFraction: num('--gesd-fraction', f.gesdFraction),
        gesdAlpha: num('--gesd-alpha', f.gesdAlpha),
        clipLow: f.clipLow,
        clipHigh: f.clipHigh,
        rangeLow: num('--range-low', f.rangeLow),
        rangeHigh: num('--range-high', f.rangeHigh),
        normalize: oneOf<Normalize>('--normalize', f.normalize, NORMALIZES),
        rejectNormalize: oneOf<RejectNormalize>('--reject-normalize', f.rejectNormalize, REJECT_NORMALIZES),
        weights: parseWeights(f.weights),
        estimator: oneOf<'ikss' | 'mad'>('--estimator', f.estimator, ['ikss', 'mad']),
        rejectionMaps: f.rejectionMaps === true,
        memoryBytes: f.memory !== undefined ? parseMemory(f.memory) : undefined,
        workers,
      };
      const out = f.output!;
      const maps = opts.rejectionMaps ? rejectionMapPaths(out) : undefined;
      assertOutputsAreNotInputs(maps ? [out, maps.low, maps.high] : [out], files);
      const t0 = Date.now();
      // streamed to the files band by band: the budget (--memory) bounds the memory whatever the frame size
      const r = await integrateToFile(files, out, opts);
      const written = r.files;
      if (f.json) {
        const lowAll = r.frames.reduce((s, x) => s + x.rejectedLowPct, 0) / r.frames.length;
        const highAll = r.frames.reduce((s, x) => s + x.rejectedHighPct, 0) / r.frames.length;
        const summary = {
          output: out,
          files: written,
          frames: r.frames.map((x) => ({ ...x, noise: Number.isFinite(x.noise) ? x.noise : null })),
          rejectedLowPct: lowAll,
          rejectedHighPct: highAll,
          weights: r.frames.map((x) => x.weight),
          noise: r.noise,
          noiseRatio: r.noiseRatio,
          warnings: r.warnings,
          events: r.events ?? [],
          seconds: (Date.now() - t0) / 1000,
        };
        process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
      } else {
        process.stdout.write(
          `stacked ${r.frames.length} frames -> ${out}: noise ${r.noise.toPrecision(4)} (${r.noiseRatio.toPrecision(3)} x one frame)\n`,
        );
        for (const x of r.frames) {
          process.stdout.write(
            `  ${x.path}: weight ${x.weight.toFixed(3)}, rejected low ${x.rejectedLowPct.toFixed(2)}%, high ${x.rejectedHighPct.toFixed(2)}%\n`,
          );
        }
        if (written.length > 1) process.stdout.write(`rejection maps: ${written.slice(1).join(', ')}\n`);
      }
    });
}
