import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { warpPlane, warpRows, WarpPool, type Interp } from '../../src/register/resample.js';
import { invert, type Mat3 } from '../../src/register/transform.js';
import { runCli, subdir, useTempDir } from '../helpers/env.js';
import { writePlane } from '../helpers/fits.js';
import { resampleField } from '../helpers/resample-field.js';

const field = (w: number, h: number, seed: number): Float32Array => resampleField(w, h, seed);

function rot(deg: number, s: number, tx: number, ty: number, g = 0, k = 0): Mat3 {
  const c = Math.cos((deg * Math.PI) / 180) * s, n = Math.sin((deg * Math.PI) / 180) * s;
  return Float64Array.from([c, -n, tx, n, c, ty, g, k, 1]);
}

function compare(ref: Float32Array, fast: Float32Array): { maxRel: number; nanDiff: number; finite: number } {
  let maxRel = 0, nanDiff = 0, finite = 0;
  for (let i = 0; i < ref.length; i++) {
    const a = ref[i]!, b = fast[i]!;
    if ((a === a) !== (b === b)) { nanDiff++; continue; }
    if (a !== a) continue;
    finite++;
    // relative to the value, or to 100 ADU where it is smaller: the float32 paths' error scales with the tap values
    // (sky ~500 ADU), so a result near 0 (the negative patch's edge) has a float32 rounding of the sky's size
    maxRel = Math.max(maxRel, Math.abs(a - b) / Math.max(100, Math.abs(a)));
  }
  return { maxRel, nanDiff, finite };
}

test('resampling: the stepped general path equals the per-pixel reference path (affine and homography; lanczos3 clamped/unclamped, bicubic)', () => {
  const w = 150, h = 110;
  const src = field(w, h, 7);
  const maps: [string, Mat3][] = [
    ['affine rotation 7.3 deg + shear', Float64Array.from([0.98, 0.13, -6.4, -0.11, 1.02, 4.9, 0, 0, 1])],
    ['similarity 181 deg', rot(181, 1.01, w + 2.3, h - 1.7)],
    ['homography (perspective terms)', rot(-3.1, 0.99, 5.2, -3.3, 2.1e-4, -1.4e-4)],
    ['pure shift (separable two-pass path)', Float64Array.from([1, 0, 2.5, 0, 1, -1.25, 0, 0, 1])],
  ];
  for (const [name, Hm] of maps) {
    const inv = invert(Hm);
    for (const [interp, clamp] of [['lanczos3', 0.3], ['lanczos3', 0], ['bicubic', 0.3]] as [Interp, number][]) {
      const ref = new Float32Array(w * h);
      warpRows({ src, w, h, inv, outW: w, outH: h, interp, clamp }, ref, 0, h, true);
      const fast = warpPlane(src, w, h, Hm, w, h, interp, clamp);
      const c = compare(ref, fast);
      assert.equal(c.nanDiff, 0, `${name} ${interp}: NaN pattern differs`);
      assert.ok(c.finite > 0.5 * w * h, `${name}: ${c.finite} finite pixels`);
      assert.ok(c.maxRel < 1e-4, `${name} ${interp} clamp ${clamp}: max relative difference ${c.maxRel}`);
    }
  }
  // the check can fail: a half-pixel offset of the map is seen
  const ref = new Float32Array(w * h);
  warpRows({ src, w, h, inv: invert(maps[0]![1]), outW: w, outH: h, interp: 'lanczos3', clamp: 0.3 }, ref, 0, h, true);
  const off = Float64Array.from(maps[0]![1]);
  off[2] = off[2]! + 0.01;
  assert.ok(compare(ref, warpPlane(src, w, h, off, w, h)).maxRel > 1e-4);
});

test('resampling: output rows can be computed in any bands (row restart is exact)', () => {
  const w = 90, h = 70;
  const src = field(w, h, 11);
  const inv = invert(rot(12, 1.02, 3.3, -2.1, 1e-4, 5e-5));
  const whole = new Float32Array(w * h), banded = new Float32Array(w * h);
  warpRows({ src, w, h, inv, outW: w, outH: h, interp: 'lanczos3', clamp: 0.3 }, whole, 0, h);
  for (const [a, b] of [[0, 13], [13, 14], [14, 50], [50, 70]]) warpRows({ src, w, h, inv, outW: w, outH: h, interp: 'lanczos3', clamp: 0.3 }, banded, a!, b!);
  assert.deepEqual(Buffer.from(banded.buffer), Buffer.from(whole.buffer));
});

test('resampling: 2 worker threads give bit-identical output to the synchronous path', async () => {
  const w = 400, h = 300;
  const src = field(w, h, 21);
  const Hm = rot(2.7, 1.003, -7.4, 5.6, 3e-6, -2e-6);
  const pool1 = new WarpPool(1, 0);
  const pool2 = new WarpPool(2, 0);
  try {
    for (const interp of ['lanczos3', 'bicubic', 'bilinear'] as Interp[]) {
      const a = await pool1.warp(src, w, h, Hm, w, h, interp);
      const b = await pool2.warp(src, w, h, Hm, w, h, interp);
      assert.ok(b.buffer instanceof SharedArrayBuffer, 'the pool path ran');
      assert.ok(!(a.buffer instanceof SharedArrayBuffer), 'the synchronous path ran');
      assert.equal(a.length, b.length);
      let diff = 0, nan = 0;
      for (let i = 0; i < a.length; i++) {
        if (a[i]! !== a[i]!) { nan++; if (b[i]! === b[i]!) diff++; } else if (!Object.is(a[i], b[i])) diff++;
      }
      assert.equal(diff, 0, `${interp}: ${diff} pixels differ`);
      assert.ok(nan > 0 && nan < a.length / 4, `${interp}: ${nan} NaN border pixels`);
    }
    // a source already in shared memory is used in place; a different output size works
    const shared = new Float32Array(new SharedArrayBuffer(w * h * 4));
    shared.set(src);
    const c = await pool2.warp(shared, w, h, Hm, 350, 280);
    assert.deepEqual(Buffer.from(c.buffer), Buffer.from(warpPlane(src, w, h, Hm, 350, 280).buffer));
  } finally {
    await pool1.close();
    await pool2.close();
  }
});

test('register CLI: --workers must be a positive integer', (t) => {
  const dir = useTempDir(t);
  const a = writePlane(join(dir, 'a.fits'), field(64, 48, 3), 64, 48);
  const r = runCli(['register', a, '-o', subdir(dir), '--workers', '0']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--workers must be a positive integer \(got 0\)/);
  assert.equal(r.stderr.trim().split('\n').length, 1);
});
