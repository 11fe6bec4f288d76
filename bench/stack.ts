/**
 * Integration benchmark: N frames of SxS 16-bit (generated into a temp dir), winsorized
 * rejection (4/3) by default (`--reject NAME`: any rejection, with Siril's counterpart where it
 * has one), average. Prints wall time and peak RSS of Darkroom (measured in a child process), and
 * the ratio to Siril (`siril-cli`, same frames, same run) when it can run headless.
 *
 * Siril runs `link` in a first script (not timed) and `stack ... rej w 4 3 -nonorm` in a second
 * (timed, the same algorithm family: Siril's variants differ in detail, see
 * docs/algorithms.md#rejection); both results are compared (median and 99.9th percentile of |difference| in units
 * of the frame noise). Kernel: `--kernel ts` forces the plain-TS reference (DARKROOM_KERNEL=ts).
 * `--runs K`: each program K times on the same frames, the best wall time reported (loaded machines).
 * `--normalize additive-scaling --weights noise` measure what `darkroom run` stacks lights with
 * (Siril: -norm=addscale -weighted); the defaults (none) measure the kernel and the I/O alone.
 *
 *   npx tsx bench/stack.ts [--frames 20] [--size 4096] [--reject winsorized] [--normalize none] [--weights none] [--runs 1] [--workers N] [--memory 512MB] [--kernel ts|wasm] [--keep]
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { readFits, writeFits } from '../src/fits/index.js';
import { createImage } from '../src/image/image.js';
import { Rng } from '../src/util/random.js';
import type { Normalize, Reject } from '../src/integrate/options.js';

/** Darkroom's parameters per rejection and Siril's `rej` arguments (none where Siril has no such algorithm). */
const REJECTS: Record<Reject, { opts: Record<string, number>; siril: string | null }> = {
  none: { opts: {}, siril: 'n' },
  minmax: { opts: { minmaxLow: 1, minmaxHigh: 1 }, siril: null },
  percentile: { opts: { percentileLow: 0.2, percentileHigh: 0.1 }, siril: 'p 0.2 0.1' },
  sigma: { opts: { sigmaLow: 4, sigmaHigh: 3 }, siril: 's 4 3' },
  winsorized: { opts: { sigmaLow: 4, sigmaHigh: 3 }, siril: 'w 4 3' },
  'averaged-sigma': { opts: { sigmaLow: 4, sigmaHigh: 3 }, siril: null },
  'linear-fit': { opts: { linearLow: 5, linearHigh: 4 }, siril: 'l 5 4' },
  gesd: { opts: { gesdFraction: 0.3, gesdAlpha: 0.05 }, siril: 'g 0.3 0.05' },
  mad: { opts: { sigmaLow: 4, sigmaHigh: 3 }, siril: 'a 4 3' },
};

/** Siril's stack options for a normalization and weights. */
const SIRIL_NORM: Record<string, string> = { none: '-nonorm', additive: '-norm=add', multiplicative: '-norm=mul', 'additive-scaling': '-norm=addscale', 'multiplicative-scaling': '-norm=mulscale' };

function sirilNormArgs(): string {
  const norm = SIRIL_NORM[arg('normalize', 'none')!] ?? '-nonorm';
  return arg('weights', 'none') === 'noise' ? `${norm} -weighted` : norm;
}

function rejectArg(): Reject {
  const r = arg('reject', 'winsorized') as Reject;
  if (!(r in REJECTS)) throw new Error(`--reject: one of ${Object.keys(REJECTS).join(', ')}`);
  return r;
}

function arg(name: string, def?: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : def;
}

async function child(): Promise<void> {
  const { integrateFiles, writeIntegration } = await import('../src/integrate/index.js');
  const { parseMemory } = await import('../src/cli/stack.js');
  const dir = arg('dir')!;
  const files = readdirSync(dir).filter((f) => /^frame_\d+\.fits$/.test(f)).sort().map((f) => join(dir, f));
  const w = arg('workers');
  const m = arg('memory');
  const t0 = performance.now();
  const reject = rejectArg();
  const r = await integrateFiles(files, {
    reject, ...REJECTS[reject].opts, combine: 'average',
    normalize: arg('normalize', 'none') as Normalize, weights: arg('weights', 'none') as 'none' | 'noise',
    workers: w ? Number(w) : undefined, memory: m ? parseMemory(m) : undefined,
  });
  // outside the frame folder: Siril's `link` takes every FITS file it finds there
  writeIntegration(r, join(dir, '..', `${basename(dir)}_darkroom.fits`));
  const wall = (performance.now() - t0) / 1000;
  process.stdout.write(JSON.stringify({ wall, maxRssMB: process.resourceUsage().maxRSS / 1024, noise: r.noise, history: r.history.slice(0, 7) }) + '\n');
}

async function main(): Promise<void> {
  if (process.argv.includes('--child')) return child();
  const n = Number(arg('frames', '20'));
  const size = Number(arg('size', '4096'));
  const dir = mkdtempSync(join(tmpdir(), 'darkroom-bench-stack-'));
  try {
    const rng = new Rng(42);
    const t0 = performance.now();
    for (let i = 0; i < n; i++) {
      const img = createImage(size, size, 1);
      const d = img.data[0]!;
      for (let p = 0; p < d.length; p++) {
        d[p] = 1000 + 10 * rng.gauss();
        if (rng.uniform() < 0.001) d[p] += 5000; // hot pixels / cosmic rays
      }
      // 16-bit unsigned like a camera's raw frames (Siril clips float input to [0, 1])
      writeFits(join(dir, `frame_${String(i + 1).padStart(5, '0')}.fits`), img, { stamp: false, bitpix: 16 });
    }
    console.log(`generated ${n} frames ${size}x${size} 16-bit in ${((performance.now() - t0) / 1000).toFixed(1)} s (${dir})`);

    const extra: string[] = [];
    for (const k of ['workers', 'memory', 'normalize', 'weights']) if (arg(k)) extra.push(`--${k}`, arg(k)!);
    const env = { ...process.env };
    if (arg('kernel')) env.DARKROOM_KERNEL = arg('kernel');
    const reject = rejectArg();
    const runs = Math.max(1, Number(arg('runs', '1')));
    let res: { wall: number; maxRssMB: number; history: string[] } | null = null;
    const walls: string[] = [];
    for (let k = 0; k < runs; k++) {
      const c = spawnSync(process.execPath, ['--import', 'tsx', new URL(import.meta.url).pathname, '--child', '--dir', dir, '--reject', reject, ...extra], { encoding: 'utf8', maxBuffer: 64 << 20, env });
      if (c.status !== 0) throw new Error(`darkroom run failed: ${c.stderr}`);
      const rk = JSON.parse(c.stdout.trim().split('\n').pop()!) as { wall: number; maxRssMB: number; history: string[] };
      walls.push(rk.wall.toFixed(2));
      if (!res || rk.wall < res.wall) res = rk;
    }
    console.log(`darkroom ${reject}: wall ${res!.wall.toFixed(2)} s${runs > 1 ? ` (best of ${walls.join(', ')})` : ''}, peak RSS ${res!.maxRssMB.toFixed(0)} MB (${res!.history[5]})`);
    if (!REJECTS[reject].siril) {
      console.log(`siril: no counterpart of ${reject} rejection; Darkroom numbers only`);
      return;
    }

    // Siril on the same frames
    const which = spawnSync('sh', ['-c', 'command -v siril-cli'], { encoding: 'utf8' });
    if (which.status !== 0) {
      console.log('siril: siril-cli not found (Debian package `siril`); Darkroom numbers only');
      return;
    }
    // The links go to a subfolder: linked into the frames' own folder with Siril's extension set to
    // .fits (saved in siril.config by any script that ran `setext fits`), each link would replace
    // its frame by a link to itself.
    const sdir = join(dir, 'siril');
    writeFileSync(join(dir, 'link.ssf'), ['requires 1.0.0', 'setext fits', 'link frame_ -out=siril', ''].join('\n'));
    const l = spawnSync('siril-cli', ['-d', dir, '-s', join(dir, 'link.ssf')], { encoding: 'utf8', maxBuffer: 64 << 20 });
    if (l.status !== 0) {
      console.log(`siril: could not run headless (exit ${l.status}): ${(l.stderr || l.stdout).trim().split('\n').slice(-3).join(' | ')}`);
      return;
    }
    const ssf = join(dir, 'bench.ssf');
    writeFileSync(ssf, ['requires 1.0.0', `stack frame_ rej ${REJECTS[reject].siril} ${sirilNormArgs()} -out=siril_result`, ''].join('\n'));
    const haveTime = spawnSync('sh', ['-c', 'test -x /usr/bin/time']).status === 0;
    let sw = Infinity;
    let s: SpawnSyncReturns<string> | null = null;
    for (let k = 0; k < runs; k++) {
      const t1 = performance.now();
      s = haveTime
        ? spawnSync('/usr/bin/time', ['-f', 'MAXRSS_KB=%M', 'siril-cli', '-d', sdir, '-s', ssf], { encoding: 'utf8', maxBuffer: 64 << 20 })
        : spawnSync('siril-cli', ['-d', sdir, '-s', ssf], { encoding: 'utf8', maxBuffer: 64 << 20 });
      sw = Math.min(sw, (performance.now() - t1) / 1000);
      if (s.status !== 0) break;
    }
    if (!s) return;
    const resultFile = readdirSync(sdir).find((f) => f.startsWith('siril_result'));
    if (s.status !== 0 || !resultFile) {
      console.log(`siril: could not run headless (exit ${s.status}): ${(s.stderr || s.stdout).trim().split('\n').slice(-3).join(' | ')}`);
      return;
    }
    const rss = /MAXRSS_KB=(\d+)/.exec(s.stderr ?? '');
    const threads = /(\d+) (?:threads|CPU cores|logical processors)/i.exec(s.stdout ?? '');
    console.log(`siril: wall ${sw.toFixed(2)} s${rss ? `, peak RSS ${(Number(rss[1]) / 1024).toFixed(0)} MB` : ''} (stack step only; ${threads ? threads[0] : 'default threads'})`);
    console.log(`ratio darkroom/siril (wall): ${(res!.wall / sw).toFixed(2)}`);
    // agreement of the two results (Siril writes 32-bit float in [0,1] or ADU depending on input: scale by medians)
    const a = readFits(join(dir, '..', `${basename(dir)}_darkroom.fits`)).data[0]!;
    const b = readFits(join(sdir, resultFile)).data[0]!;
    const med = (x: Float32Array): number => Float32Array.from(x).sort()[x.length >> 1]!;
    const k = med(a) / med(b);
    const d = new Float32Array(a.length);
    for (let p = 0; p < a.length; p++) d[p] = Math.abs(a[p]! - k * b[p]!);
    d.sort();
    console.log(`darkroom vs siril (siril x ${k.toPrecision(6)}): median |diff| ${d[d.length >> 1]!.toPrecision(3)} ADU, 99.9% ${d[Math.floor(d.length * 0.999)]!.toPrecision(3)} ADU (frame noise 10 ADU)`);
  } finally {
    if (!process.argv.includes('--keep')) {
      rmSync(dir, { recursive: true, force: true });
      rmSync(join(dir, '..', `${basename(dir)}_darkroom.fits`), { force: true });
    }
  }
}

await main();
