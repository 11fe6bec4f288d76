/**
 * The first pass's per-frame statistics on the worker pool (one task per frame) give the serial
 * pass's numbers bit for bit, whatever the workers and the memory budget; a frame that cannot be
 * normalized is refused with the same error.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { writeFits, FitsHeader } from '../../src/fits/index.js';
import { integrateFiles, openFrames, closeFrames, resolveOptions, type IntegrateOptions } from '../../src/integrate/index.js';
import { frameStatistics, frameStatisticsWith, statsOfFrame } from '../../src/integrate/frames.js';
import { createPool, statsOnPool } from '../../src/integrate/engine.js';
import { DarkroomError } from '../../src/util/errors.js';
import { fileTempDir } from '../helpers/env.js';
import { makeStack } from './stackdata.js';

const tmp = fileTempDir();
const OPTS: Partial<IntegrateOptions> = { normalize: 'additive-scaling', weights: 'noise', reject: 'winsorized' };

/** 4 frames 160 x 120 x 2 channels, different levels/scales, outliers and a few NaNs. */
function stack(dir: string): string[] {
  mkdirSync(dir, { recursive: true });
  const s = makeStack(dir, { n: 4, width: 160, height: 120, channels: 2, seed: 7, level: (i) => 900 + 40 * i, gain: (i) => 1 + 0.1 * i, outlierFraction: 0.002 }, 'p');
  return s.paths;
}

function sameBits(a: Float32Array, b: Float32Array, what: string): void {
  assert.equal(a.length, b.length, what);
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < ua.length; i++) if (ua[i] !== ub[i]) assert.fail(`${what}: pixel ${i} differs (${a[i]} vs ${b[i]})`);
}

test('integrateFiles: workers 1 and 2, whole planes or a tiny budget, give the same image, weights and frame statistics', async () => {
  const paths = stack(join(tmp, 'a'));
  const runs = [
    await integrateFiles(paths, { ...OPTS, workers: 1 }),
    await integrateFiles(paths, { ...OPTS, workers: 2 }),
    await integrateFiles(paths, { ...OPTS, workers: 1, memory: 40_000 }),
    await integrateFiles(paths, { ...OPTS, workers: 2, memory: 40_000 }),
  ];
  const ref = runs[0]!;
  assert.ok(ref.frames.every((f) => Number.isFinite(f.location) && f.scale > 0 && f.noise > 0 && f.weight > 0));
  for (const [k, r] of runs.entries()) {
    assert.deepEqual(r.frames, ref.frames, `run ${k}: per-frame location, scale, noise, weight`);
    assert.equal(r.noise, ref.noise, `run ${k}: result noise`);
    for (let c = 0; c < 2; c++) sameBits(r.image.data[c]!, ref.image.data[c]!, `run ${k} channel ${c}`);
  }
});

test('frameStatisticsWith on the pool equals frameStatistics, per channel and frame', async () => {
  const paths = stack(join(tmp, 'b'));
  const o = resolveOptions(OPTS);
  const { frames, geometry: g } = openFrames(paths);
  const pool = createPool(2);
  try {
    for (const mem of [1 << 28, 40_000]) {
      const serial = frameStatistics(frames, g, o, mem);
      const pooled = await frameStatisticsWith(frames, g, o, mem, statsOnPool(pool, frames, g, 2));
      assert.deepEqual(pooled, serial, `budget ${mem}`);
      assert.ok(serial.noise[1]!.every((x) => x > 0));
    }
  } finally {
    await pool.destroy();
    closeFrames(frames);
  }
});

test('statsOfFrame: a plane read once for IKSS and noise (central rows of a big plane) equals the streamed reads', () => {
  // 1500 x 1500 > NOISE_MAX_PIXELS: the noise is taken on the central rows, from the whole plane or read on their own
  const W = 1500;
  const d = new Float32Array(W * W);
  let s = 99;
  for (let p = 0; p < d.length; p++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    d[p] = 500 + ((s >>> 0) % 1000) / 10;
  }
  d[W * 750 + 3] = NaN;
  const path = join(tmp, 'big.fits');
  writeFits(path, { width: W, height: W, channels: 1, data: [d], header: new FitsHeader() });
  const { frames, geometry: g } = openFrames([path]);
  try {
    const req = { estimator: 'ikss' as const, location: true, noise: true };
    const whole = statsOfFrame(frames[0]!, g, { ...req, memoryBytes: 1 << 28 });
    const streamed = statsOfFrame(frames[0]!, g, { ...req, memoryBytes: 1 << 20 });
    assert.deepEqual(whole, streamed);
    assert.ok(whole.noise[0]! > 0 && whole.scale[0]! > 0);
  } finally {
    closeFrames(frames);
  }
});

test('a frame without finite pixels is refused by the pooled pass as by the serial one', async () => {
  const paths = stack(join(tmp, 'c'));
  const bad = join(tmp, 'c', 'nan.fits');
  const nan = new Float32Array(160 * 120).fill(NaN);
  writeFits(bad, { width: 160, height: 120, channels: 2, data: [nan, nan], header: new FitsHeader() });
  const list = [paths[0]!, bad, ...paths.slice(1)];
  for (const workers of [1, 2]) {
    await assert.rejects(integrateFiles(list, { ...OPTS, workers }), (e: unknown) => {
      assert.ok(e instanceof DarkroomError, String(e));
      assert.equal(e.code, 'BAD_ARGUMENT');
      assert.equal(e.file, bad);
      assert.match(e.message, /no finite pixels in channel 0/);
      return true;
    });
  }
});
