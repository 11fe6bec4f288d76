import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resampleKernel } from '../../src/kernels/resample.js';
import { warpPlane, WarpPool, type Interp } from '../../src/register/resample.js';
import { Rng } from '../../src/util/random.js';

function plane(w: number, h: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  const p = new Float32Array(w * h);
  for (let i = 0; i < p.length; i++) p[i] = 800 + 25 * rng.gauss() + (rng.uniform() < 0.002 ? 40000 * rng.uniform() : 0);
  return p;
}

test('resampling on worker threads with the WASM kernel gives the TS reference bit for bit (DARKROOM_KERNEL=ts in the main thread)', async () => {
  assert.ok(resampleKernel(), 'resample-simd.wasm not loaded');
  const w = 420, h = 310;
  const src = plane(w, h, 4);
  const maps = [
    Float64Array.from([Math.cos(0.01), -Math.sin(0.01), 2.3, Math.sin(0.01), Math.cos(0.01), -4.1, 0, 0, 1]),
    Float64Array.from([-1, 0, w - 0.7, 0, -1, h - 1.2, 0, 0, 1]),
    Float64Array.from([1, 0, -3.5, 0, 1, 1.75, 0, 0, 1]),
  ];
  const pool = new WarpPool(2, 0); // workers start with DARKROOM_KERNEL unset: the WASM kernel
  const saved = process.env.DARKROOM_KERNEL;
  try {
    for (const H of maps) {
      for (const interp of ['lanczos3', 'bicubic'] as Interp[]) {
        const par = await pool.warp(src, w, h, H, w, h, interp);
        assert.ok(par.buffer instanceof SharedArrayBuffer, 'the pool path ran');
        process.env.DARKROOM_KERNEL = 'ts';
        const ref = warpPlane(src, w, h, H, w, h, interp);
        delete process.env.DARKROOM_KERNEL;
        assert.deepEqual(Buffer.from(par.buffer), Buffer.from(ref.buffer), `${interp}: worker WASM output differs from the TS reference`);
      }
    }
  } finally {
    if (saved === undefined) delete process.env.DARKROOM_KERNEL;
    else process.env.DARKROOM_KERNEL = saved;
    await pool.close();
  }
});
