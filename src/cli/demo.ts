/**
 * `darkroom demo`: a whole simulated night end to end, with no hardware and no network. The built-in
 * simulators acquire it on a virtual clock through the sequencer (acquireDemoNight): the KAF-8300 camera
 * cools to -10 C and settles, then flats per filter, flat-darks, bias, darks, and LRGB lights of NGC 7000
 * in cycle order on a guided, dithered mount. `darkroom run` processes the night (masters, calibration,
 * registration, integration); then the filter stacks are registered onto L and combined into a colour
 * picture. The acquisition summary (cooling, guiding RMS) is kept in OUT/acquisition.json.
 */
import type { Command } from 'commander';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { acquireDemoNight, type AcquiredNight } from '../acquire/demo-night.js';
import { combineFilterStacks } from '../color/lrgb.js';
import { buildPlan, DEFAULT_OPTIONS } from '../pipeline/plan.js';
import { executePlan } from '../pipeline/execute.js';
import { writeFits } from '../fits/index.js';
import { writeFileAtomic } from '../util/atomic.js';
import { stretchToPng } from '../render/stretch.js';
import { DarkroomError } from '../util/errors.js';
import { deviceCommand, numberArg } from './device-options.js';

interface DemoOpts {
  out: string;
  size: string;
  lights: string;
  seed: string;
  force?: boolean;
  json?: boolean;
}

/** What the acquisition reported (saved as OUT/acquisition.json, so a reused night still reports it). */
export type AcquisitionSummary = Omit<AcquiredNight, 'files'> & { frames: number };

export interface DemoResult {
  out: string;
  night: string;
  stacks: string[];
  colour?: string;
  colourPng?: string;
  acquisition?: AcquisitionSummary;
  seconds: number;
}

/** R, G, B or L for a filter name (Red, r, Luminance, Lum, L...); undefined for others. */
function filterKey(name: string): 'L' | 'R' | 'G' | 'B' | undefined {
  const k = name.trim().charAt(0).toUpperCase();
  return k === 'L' || k === 'R' || k === 'G' || k === 'B' ? k : undefined;
}

export async function runDemo(opts: { out: string; width: number; height: number; lights: number; seed: number; force?: boolean; log?: (s: string) => void }): Promise<DemoResult> {
  const log = opts.log ?? ((): void => {});
  const t0 = Date.now();
  const out = resolve(opts.out);
  const night = join(out, 'night');
  if (existsSync(night) && opts.force) rmSync(night, { recursive: true, force: true });
  const summaryPath = join(out, 'acquisition.json');
  let acquisition: AcquisitionSummary | undefined;
  if (!existsSync(night) || readdirSync(night).length === 0) {
    log(`demo: acquiring a simulated night in ${night} (${opts.width}x${opts.height} KAF-8300-like CCD, LRGB, guided mount)`);
    const r = await acquireDemoNight(night, {
      width: opts.width,
      height: opts.height,
      seed: opts.seed,
      lightsPerFilter: opts.lights,
      log: (line) => log(`demo: ${line}`),
    });
    const { files, ...rest } = r;
    acquisition = { ...rest, frames: files.length };
    writeFileAtomic(summaryPath, [Buffer.from(`${JSON.stringify(acquisition, null, 2)}\n`)]);
  } else {
    log(`demo: reusing the simulated night in ${night} (--force to simulate it again)`);
    if (existsSync(summaryPath)) {
      try {
        acquisition = JSON.parse(readFileSync(summaryPath, 'utf8')) as AcquisitionSummary;
      } catch {
        acquisition = undefined;
      }
    }
  }

  const results = join(out, 'results');
  log(`demo: darkroom run ${night} --out ${results}`);
  const plan = buildPlan(night, results, { ...DEFAULT_OPTIONS, force: !!opts.force }, { saveCache: true });
  const report = await executePlan(plan, { log: (line) => log(`run: ${line}`) });
  const stacks = report.stacks.map((s) => join(results, s.path));
  const byFilter = new Map<string, string>();
  for (const st of report.stacks) {
    const k = filterKey(String(st.filter));
    if (k && !byFilter.has(k)) byFilter.set(k, join(results, st.path));
  }
  const res: DemoResult = { out, night, stacks, acquisition, seconds: 0 };
  const R = byFilter.get('R');
  const G = byFilter.get('G');
  const B = byFilter.get('B');
  if (R && G && B) {
    const L = byFilter.get('L');
    const colour = combineFilterStacks({ L, R, G, B });
    const object = report.stacks[0]?.object ?? 'target';
    const base = `${String(object).replace(/[^A-Za-z0-9]+/g, '_')}_${L ? 'LRGB' : 'RGB'}`;
    res.colour = join(results, 'stacks', `${base}.fits`);
    res.colourPng = join(results, 'previews', `${base}.png`);
    writeFits(res.colour, colour.image, { history: colour.history });
    writeFileAtomic(res.colourPng, [stretchToPng(colour.image, { linked: false })]);
    log(`demo: colour image ${res.colourPng}`);
  }
  res.seconds = (Date.now() - t0) / 1000;
  return res;
}

export function registerDemo(program: Command): void {
  deviceCommand(program, 'demo', 'simulate a whole LRGB night with the built-in camera simulator and process it end to end', {
    seed: { help: 'seed of the simulated camera and sky', default: '2026' },
    json: 'print the summary as JSON',
  })
    .option('--out <dir>', 'output folder (night/ and results/ inside)', 'darkroom-demo')
    .option('--size <WxH>', 'sensor size of the simulated camera', '640x480')
    .option('--lights <n>', 'lights per filter', '6')
    .option('--force', 'simulate the night again and redo every step')
    .action(async (o: DemoOpts) => {
      const m = /^(\d+)x(\d+)$/.exec(o.size);
      if (!m) throw new DarkroomError('BAD_ARGUMENT', `--size must look like 640x480, got '${o.size}'`);
      const width = Number(m[1]);
      const height = Number(m[2]);
      if (width < 128 || height < 128 || width > 8192 || height > 8192) throw new DarkroomError('BAD_ARGUMENT', `--size must be between 128x128 and 8192x8192, got '${o.size}'`);
      const lights = numberArg('lights', o.lights, (n) => Number.isInteger(n) && n >= 3 && n <= 100, 'an integer from 3 to 100');
      const seed = numberArg('seed', o.seed, Number.isInteger, 'an integer');
      const r = await runDemo({ out: o.out, width, height, lights, seed, force: o.force, log: (s) => process.stderr.write(`${s}\n`) });
      if (o.json) {
        process.stdout.write(`${JSON.stringify({ ...r, report: join(r.out, 'results', 'report.json') }, null, 2)}\n`);
        return;
      }
      process.stdout.write(`demo finished in ${r.seconds.toFixed(1)} s\n`);
      process.stdout.write(`  night:   ${r.night}\n`);
      const a = r.acquisition;
      if (a) {
        process.stdout.write(`  acquired: ${a.frames} frames in ${(a.nightS / 3600).toFixed(2)} h of simulated time (cooling wait ${Math.round(a.coolingWaitS)} s)\n`);
        process.stdout.write(
          `  guiding: RMS ${a.guide.rmsTotalArcsec.toFixed(2)}" (RA ${a.guide.rmsRaArcsec.toFixed(2)}", Dec ${a.guide.rmsDecArcsec.toFixed(2)}"), ${a.guide.samples} guide frames, ${a.dithersSettled}/${a.dithers} dithers settled\n`,
        );
      }
      for (const s of r.stacks) process.stdout.write(`  stack:   ${s}\n`);
      if (r.colour) process.stdout.write(`  colour:  ${r.colour}\n  preview: ${r.colourPng}\n`);
      process.stdout.write(`  report:  ${join(r.out, 'results', 'report.html')}\n`);
    });
}
