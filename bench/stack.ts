/**
 * Integration benchmark: N frames of SxS float32 (generated into a temp dir), winsorized
 * rejection (4/3), average. Prints wall time and peak RSS of Darkroom (measured in a child
 * process), and the ratio to Siril (`siril-cli`, same frames, same run) when it can run headless.
 *
 *   npx tsx bench/stack.ts [--frames 20] [--size 4096] [--workers N] [--memory 512MB] [--keep]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFits } from '../src/fits/index.js';
import { createImage } from '../src/image/image.js';
import { Rng } from '../src/util/random.js';

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
  const r = await integrateFiles(files, {
    reject: 'winsorized', sigmaLow: 4, sigmaHigh: 3, combine: 'average',
    workers: w ? Number(w) : undefined, memoryBytes: m ? parseMemory(m) : undefined,
  });
  writeIntegration(r, join(dir, 'darkroom_result.fits'));
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
      writeFits(join(dir, `frame_${String(i + 1).padStart(5, '0')}.fits`), img, { stamp: false });
    }
    console.log(`generated ${n} frames ${size}x${size} float32 in ${((performance.now() - t0) / 1000).toFixed(1)} s (${dir})`);

    const extra: string[] = [];
    for (const k of ['workers', 'memory']) if (arg(k)) extra.push(`--${k}`, arg(k)!);
    const c = spawnSync(process.execPath, ['--import', 'tsx', new URL(import.meta.url).pathname, '--child', '--dir', dir, ...extra], { encoding: 'utf8', maxBuffer: 64 << 20 });
    if (c.status !== 0) throw new Error(`darkroom run failed: ${c.stderr}`);
    const res = JSON.parse(c.stdout.trim().split('\n').pop()!) as { wall: number; maxRssMB: number; history: string[] };
    console.log(`darkroom: wall ${res.wall.toFixed(2)} s, peak RSS ${res.maxRssMB.toFixed(0)} MB (${res.history[5]})`);

    // Siril on the same frames
    const which = spawnSync('sh', ['-c', 'command -v siril-cli'], { encoding: 'utf8' });
    if (which.status !== 0) {
      console.log('siril: siril-cli not found (Debian package `siril`); Darkroom numbers only');
      return;
    }
    const ssf = join(dir, 'bench.ssf');
    writeFileSync(ssf, ['requires 1.0.0', `cd ${dir}`, 'link frame_ -out=.', 'stack frame_ rej w 4 3 -nonorm -out=siril_result', ''].join('\n'));
    const t1 = performance.now();
    const s = spawnSync('siril-cli', ['-d', dir, '-s', ssf], { encoding: 'utf8', maxBuffer: 64 << 20 });
    const sw = (performance.now() - t1) / 1000;
    if (s.status !== 0 || !readdirSync(dir).some((f) => f.startsWith('siril_result'))) {
      console.log(`siril: could not run headless (exit ${s.status}): ${(s.stderr || s.stdout).trim().split('\n').slice(-3).join(' | ')}`);
      return;
    }
    console.log(`siril: wall ${sw.toFixed(2)} s (includes its sequence link step)`);
    console.log(`ratio darkroom/siril: ${(res.wall / sw).toFixed(2)}`);
  } finally {
    if (!process.argv.includes('--keep')) rmSync(dir, { recursive: true, force: true });
  }
}

await main();
