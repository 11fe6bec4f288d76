/**
 * calibrateFiles on worker threads (one light per thread, the masters read from their files once per
 * thread): outputs byte-identical (but for DATE) and reports equal to one thread, with dark
 * optimization, a flat, cosmetic correction and a light that cannot be calibrated (left out in order).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFits } from '../../src/fits/index.js';
import { createImage, type Image } from '../../src/image/image.js';
import { Rng } from '../../src/util/random.js';
import { calibrateFiles } from '../../src/calibrate/files.js';
import { useTempDir } from '../helpers/env.js';

const W = 96, H = 64;
function frame(dir: string, name: string, level: number, seed: number, keys: Record<string, number> = {}, w = W): string {
  const img: Image = createImage(w, H);
  const rng = new Rng(seed);
  const p = img.data[0]!;
  for (let i = 0; i < p.length; i++) p[i] = level * (1 + 0.1 * Math.sin(i / 500)) + 5 * rng.gauss() + (i % 997 === 0 ? 4000 : 0);
  for (const [k, v] of Object.entries(keys)) img.header.set(k, v);
  const path = join(dir, name);
  writeFits(path, img);
  return path;
}

test('calibrateFiles: lights on two threads give the outputs and reports of one thread', async (t) => {
  const dir = useTempDir(t);
  const bias = frame(dir, 'MB.fits', 500, 1);
  const dark = frame(dir, 'MD.fits', 700, 2, { EXPTIME: 120 });
  const flat = frame(dir, 'MF.fits', 20000, 3);
  const lights = [0, 1, 2, 3].map((k) => frame(dir, `L${k}.fits`, 1500 + 10 * k, 10 + k, { EXPTIME: 60 }));
  lights.splice(2, 0, frame(dir, 'small.fits', 1500, 9, { EXPTIME: 60 }, 40));
  const runWith = async (workers: number): Promise<{ r: Awaited<ReturnType<typeof calibrateFiles>>; progress: string[]; bytes: (string | null)[] }> => {
    const progress: string[] = [];
    const out = (lp: string): string => join(dir, `w${workers}`, lp.slice(dir.length + 1));
    const r = await calibrateFiles(lights, out, { bias, dark, flat, darkMode: 'optimize', cosmetic: 'each-plane', workers, historyHead: (lp) => [`test ${lp.slice(dir.length + 1)}`] }, { onProgress: (e) => progress.push(e.file) });
    const undated = (p: string): string | null => (existsSync(p) ? readFileSync(p).toString('latin1').replace(/DATE    = '[^']*'/, 'DATE') : null);
    return { r, progress, bytes: lights.map((lp) => undated(out(lp))) };
  };
  const one = await runWith(1), two = await runWith(2);
  assert.deepEqual([one.r.threads, two.r.threads], [1, 2]);
  assert.deepEqual(two.progress, lights);
  assert.deepEqual(two.r.frames.map((f) => f.ok), [true, true, false, true, true]);
  const strip = (f: (typeof one.r.frames)[number]): unknown => (f.ok ? { ...f.report, output: undefined } : { path: f.path, reason: f.reason, code: f.error.code });
  assert.deepEqual(two.r.frames.map(strip), one.r.frames.map(strip));
  assert.deepEqual(two.r.warnings, one.r.warnings);
  for (let i = 0; i < lights.length; i++) assert.equal(two.bytes[i], one.bytes[i], `light ${i}`);
  assert.equal(two.bytes[2], null);
  // every stage ran on the threads: dark optimization (k0), flat scaling (s0 = the flat's mean), cosmetic
  const r0 = two.r.frames[0]!;
  assert.ok(r0.ok && r0.report.mode === 'optimize' && Number.isFinite(r0.report.k0) && r0.report.cosmetic, JSON.stringify(r0.ok && r0.report));
  assert.ok(Math.abs(r0.report.s0![0]! - 20000) < 100, `s0 ${r0.report.s0}`);
});
