/**
 * `darkroom demo`: a whole simulated night end to end, with no hardware and no network. The built-in
 * camera simulator (KAF-8300-like CCD at -10 C) writes bias, darks, flats per filter and dithered
 * LRGB lights; `darkroom run` processes them (masters, calibration, registration, integration);
 * then the filter stacks are registered onto L and combined into a colour picture.
 */
import type { Command } from 'commander';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { simulateDemoNight } from '../acquire/demo-night.js';
import { combineFilterStacks } from '../acquire/lrgb.js';
import { buildPlan, DEFAULT_OPTIONS } from '../pipeline/plan.js';
import { executePlan } from '../pipeline/execute.js';
import { writeFits } from '../fits/index.js';
import { writeFileAtomic } from '../util/atomic.js';
import { stretchToPng } from './stretch.js';
import { DarkroomError } from '../util/errors.js';

interface DemoOpts {
  out: string;
  size: string;
  lights: string;
  seed: string;
  force?: boolean;
}

export interface DemoResult {
  out: string;
  night: string;
  stacks: string[];
  colour?: string;
  colourPng?: string;
  seconds: number;
}

export async function runDemo(opts: { out: string; width: number; height: number; lights: number; seed: number; force?: boolean; log?: (s: string) => void }): Promise<DemoResult> {
  const log = opts.log ?? ((): void => {});
  const t0 = Date.now();
  const out = resolve(opts.out);
  const night = join(out, 'night');
  if (existsSync(night) && opts.force) rmSync(night, { recursive: true, force: true });
  if (!existsSync(night) || readdirSync(night).length === 0) {
    log(`demo: simulating a night in ${night} (${opts.width}x${opts.height} KAF-8300-like CCD at -10 C)`);
    let last = 0;
    simulateDemoNight(night, {
      width: opts.width,
      height: opts.height,
      seed: opts.seed,
      lightsPerFilter: opts.lights,
      onFrame: (done, total, path) => {
        if (done === total || Date.now() - last > 2000) {
          last = Date.now();
          log(`demo: [${done}/${total}] ${path.slice(night.length + 1)}`);
        }
      },
    });
  } else log(`demo: reusing the simulated night in ${night} (--force to simulate it again)`);

  const results = join(out, 'results');
  log(`demo: darkroom run ${night} --out ${results}`);
  const plan = buildPlan(night, results, { ...DEFAULT_OPTIONS, force: !!opts.force }, { saveCache: true });
  const report = await executePlan(plan, { log: (line) => log(`run: ${line}`) });
  const stacks = report.stacks.map((s) => join(results, s.path));
  const byFilter = new Map(report.stacks.map((s) => [String(s.filter), join(results, s.path)]));
  const res: DemoResult = { out, night, stacks, seconds: 0 };
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
  program
    .command('demo')
    .description('simulate a whole LRGB night with the built-in camera simulator and process it end to end')
    .option('--out <dir>', 'output folder (night/ and results/ inside)', 'darkroom-demo')
    .option('--size <WxH>', 'sensor size of the simulated camera', '640x480')
    .option('--lights <n>', 'lights per filter', '6')
    .option('--seed <n>', 'seed of the simulated camera and sky', '2026')
    .option('--force', 'simulate the night again and redo every step')
    .action(async (o: DemoOpts) => {
      const m = /^(\d+)x(\d+)$/.exec(o.size);
      if (!m) throw new DarkroomError('BAD_ARGUMENT', `--size must look like 640x480, got '${o.size}'`);
      const width = Number(m[1]);
      const height = Number(m[2]);
      if (width < 128 || height < 128 || width > 8192 || height > 8192) throw new DarkroomError('BAD_ARGUMENT', `--size must be between 128x128 and 8192x8192, got '${o.size}'`);
      const lights = Number(o.lights);
      if (!Number.isInteger(lights) || lights < 3 || lights > 100) throw new DarkroomError('BAD_ARGUMENT', `--lights must be an integer from 3 to 100, got '${o.lights}'`);
      const seed = Number(o.seed);
      if (!Number.isInteger(seed)) throw new DarkroomError('BAD_ARGUMENT', `--seed must be an integer, got '${o.seed}'`);
      const r = await runDemo({ out: o.out, width, height, lights, seed, force: o.force, log: (s) => process.stderr.write(`${s}\n`) });
      process.stdout.write(`demo finished in ${r.seconds.toFixed(1)} s\n`);
      process.stdout.write(`  night:   ${r.night}\n`);
      for (const s of r.stacks) process.stdout.write(`  stack:   ${s}\n`);
      if (r.colour) process.stdout.write(`  colour:  ${r.colour}\n  preview: ${r.colourPng}\n`);
      process.stdout.write(`  report:  ${join(r.out, 'results', 'report.html')}\n`);
    });
}
