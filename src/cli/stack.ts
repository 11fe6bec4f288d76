/**
 * `darkroom stack FILES... -o OUT.fits`: integrate frames (row-band streaming, rejection,
 * normalization, weights). Rejection maps go beside OUT as OUT_rejlow.fits / OUT_rejhigh.fits.
 */
import type { Command } from 'commander';
import { assertOutputsAreNotInputs } from '../util/paths.js';
import { addOptions, parseCli, parseText } from '../util/options.js';
import { INTEGRATE_CATALOGUE, integrateToFile, rejectionMapPaths, type IntegrateOptions } from '../integrate/index.js';

/** '2GB', '512MB', '100k', '1000000' -> bytes (the catalogue's --memory). */
export function parseMemory(v: string): number {
  return parseText(INTEGRATE_CATALOGUE.find((d) => d.key === 'memory')!, v) as number;
}

interface StackFlags extends Record<string, unknown> {
  output?: string;
  json?: boolean;
}

export function registerStack(program: Command): void {
  const cmd = program
    .command('stack')
    .description('integrate (stack) frames: combination, pixel rejection, normalization and weights, streamed by row bands')
    .argument('<files...>', 'input FITS frames (same size and channels)')
    .requiredOption('-o, --output <out.fits>', 'output FITS (float32)');
  // every integration option from the catalogue (flags, help, defaults, ranges defined once)
  addOptions(cmd, INTEGRATE_CATALOGUE)
    .option('--json', 'print a JSON summary')
    .action(async (files: string[], f: StackFlags) => {
      const opts = parseCli(INTEGRATE_CATALOGUE, f) as Partial<IntegrateOptions>;
      const out = f.output!;
      const maps = opts.rejectionMaps ? rejectionMapPaths(out) : undefined;
      assertOutputsAreNotInputs(maps ? [out, maps.low, maps.high] : [out], files);
      const t0 = Date.now();
      // streamed to the files band by band: the budget (--memory) bounds the memory whatever the frame size
      const r = await integrateToFile(files, out, opts);
      for (const w of r.warnings) process.stderr.write(`darkroom: warning: ${w}\n`);
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
