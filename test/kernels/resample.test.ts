import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RESAMPLE_KEEP_BYTES, resampleKernel, sourceRect, sourceRows } from '../../src/kernels/resample.js';
import { warpPlane, warpRows, type Interp } from '../../src/register/resample.js';
import { invert, type Mat3 } from '../../src/register/transform.js';
import { withTS } from '../helpers/kernel.js';
import { resampleField } from '../helpers/resample-field.js';

/** Sky + noise + stars, hot pixels (they trigger the clamping), a negative patch, a few NaN and Inf pixels. */
const field = (w: number, h: number, seed: number, bad = true): Float32Array => resampleField(w, h, seed, bad);

function rot(deg: number, s: number, tx: number, ty: number, g = 0, k = 0): Mat3 {
  const c = Math.cos((deg * Math.PI) / 180) * s, n = Math.sin((deg * Math.PI) / 180) * s;
  return Float64Array.from([c, -n, tx, n, c, ty, g, k, 1]);
}

/** Pixels whose float32 bits differ (NaN counted equal only with equal bits too), and the NaN count. */
function bitDiff(a: Float32Array, b: Float32Array): { diff: number; nan: number; first: string } {
  assert.equal(a.length, b.length);
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length), ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  let diff = 0, nan = 0, first = '';
  for (let i = 0; i < ua.length; i++) {
    if (a[i] !== a[i]) nan++;
    if (ua[i] !== ub[i]) { if (!diff) first = `pixel ${i}: ${a[i]} vs ${b[i]}`; diff++; }
  }
  return { diff, nan, first };
}

const MAPS = (w: number, h: number): [string, Mat3][] => [
  ['rotation 0.3 deg', rot(0.3, 1, 1.2, -0.7)],
  ['rotation -0.05 deg + dither', rot(-0.05, 1.0002, -3.7, 2.2)],
  ['rotation 90 deg', rot(90, 1, h - 0.6, 0.3)],
  ['rotation -90 deg', rot(-90, 1, 0.4, w - 1.3)],
  ['meridian flip (180 deg)', rot(180, 1, w - 1.4, h - 0.8)],
  ['rotation 37 deg, scale 1.1', rot(37, 1.1, 20, -30)],
  ['scale 0.7 (zoom out)', rot(2, 0.7, 10.3, 5.1)],
  ['affine shear', Float64Array.from([0.98, 0.13, -6.4, -0.11, 1.02, 4.9, 0, 0, 1])],
  ['homography', rot(-3.1, 0.99, 5.2, -3.3, 2.1e-4, -1.4e-4)],
  ['pure shift (separable)', Float64Array.from([1, 0, 2.5, 0, 1, -1.25, 0, 0, 1])],
  ['shift + scale 1.3 (separable)', Float64Array.from([1.3, 0, -2.25, 0, 1.3, 3.5, 0, 0, 1])],
  ['large shift, mostly out of frame (separable)', Float64Array.from([1, 0, 0.6 * w, 0, 1, -0.7 * h, 0, 0, 1])],
  ['wholly out of frame (stepped)', rot(1, 1, 5 * w, 0)],
];

const KERNELS: [Interp, number][] = [['lanczos3', 0.3], ['lanczos3', 0], ['lanczos3', 0.02], ['bicubic', 0.3]];

test('the WASM-SIMD resampling kernel is built and loads (node scripts/build-wasm.mjs); DARKROOM_KERNEL=ts selects the reference', () => {
  assert.ok(resampleKernel(), 'resample-simd.wasm not loaded');
  assert.equal(withTS(() => resampleKernel()), null);
});

test('WASM resampling is bit-identical to the TS reference: rotations (small, 90, 180, arbitrary), scale, shear, homography, shifts, out of frame, NaN/Inf, clamping, odd sizes', () => {
  const w = 131, h = 97;
  const src = field(w, h, 7);
  let checked = 0;
  for (const [name, H] of MAPS(w, h)) {
    for (const [outW, outH] of [[w, h], [w + 4, h - 3], [h, w], [77, 50]] as const) {
      for (const [interp, clamp] of KERNELS) {
        const ts = withTS(() => warpPlane(src, w, h, H, outW, outH, interp, clamp));
        const wa = warpPlane(src, w, h, H, outW, outH, interp, clamp);
        const d = bitDiff(ts, wa);
        assert.equal(d.diff, 0, `${name} ${outW}x${outH} ${interp} clamp ${clamp}: ${d.diff} pixels differ (${d.first})`);
        if (!name.startsWith('wholly') && outW === w) assert.ok(d.nan < ts.length, `${name}: some pixels are in frame`);
        checked++;
      }
    }
  }
  assert.equal(checked, MAPS(w, h).length * 4 * KERNELS.length);
});

test('WASM resampling: several row chunks per call (wide plane) and arbitrary row bands give the reference bit for bit', () => {
  const w = 3001, h = 190; // 87 output rows per chunk: three chunks
  const src = field(w, h, 13);
  for (const [interp, clamp] of KERNELS) {
    for (const H of [rot(0.8, 1.001, -2.2, 3.1), rot(180, 1, w - 0.3, h - 2.7), Float64Array.from([1, 0, -1.5, 0, 1, 2.25, 0, 0, 1]), rot(0.2, 1, 1, 1, 1e-6, -3e-6)]) {
      const ts = withTS(() => warpPlane(src, w, h, H, w, h, interp, clamp));
      const wa = warpPlane(src, w, h, H, w, h, interp, clamp);
      const d = bitDiff(ts, wa);
      assert.equal(d.diff, 0, `${interp} clamp ${clamp}, whole plane: ${d.diff} pixels differ (${d.first})`);
      const banded = new Float32Array(w * h);
      const job = { src, w, h, inv: invert(H), outW: w, outH: h, interp, clamp };
      for (const [a, b] of [[0, 1], [1, 88], [88, 150], [150, 151], [151, 190]] as const) warpRows(job, banded, a, b);
      assert.equal(bitDiff(ts, banded).diff, 0, `${interp} clamp ${clamp}, banded`);
    }
    // a 90-degree turn: 190 x 3001 output, three chunks of 1379 rows that each read every source row (clamped
    // Lanczos-3: all rows copied once; the float32 path: each chunk's strip of about 1390 columns)
    const H90 = rot(90, 1, h - 0.4, 0.7);
    const ts = withTS(() => warpPlane(src, w, h, H90, h, w, interp, clamp));
    const wa = warpPlane(src, w, h, H90, h, w, interp, clamp);
    const d = bitDiff(ts, wa);
    assert.equal(d.diff, 0, `${interp} clamp ${clamp}, 90 degrees: ${d.diff} pixels differ (${d.first})`);
    assert.ok(d.nan < ts.length / 10);
  }
});

test('the float32 path (unclamped Lanczos-3, bicubic) is within 1e-5 of the local range of the float64 per-pixel path', () => {
  // the float64 reference: warpRows(direct) (LUT weights normalized in float64, float64 sums); the bound is per output
  // pixel, 1e-5 of the range of the source values under its taps (measured: at most 4e-6, about 6 float32 ulps)
  const w = 300, h = 220;
  const src = field(w, h, 9, false);
  const maps: [string, Mat3][] = [
    ['rotation 0.3 deg', rot(0.3, 1, 1.2, -0.7)], ['rotation -0.05 deg + dither', rot(-0.05, 1.0002, -3.7, 2.2)],
    ['rotation 90 deg', rot(90, 1, h - 0.6, 0.3)], ['meridian flip', rot(180, 1, w - 1.4, h - 0.8)],
    ['rotation 37 deg, scale 1.1', rot(37, 1.1, 20, -30)], ['homography', rot(-3.1, 0.99, 5.2, -3.3, 2.1e-4, -1.4e-4)],
  ];
  const worst = (H: Mat3, interp: Interp, f32: Float32Array): { ratio: number; nanDiff: number; finite: number } => {
    const inv = invert(H), r = interp === 'lanczos3' ? 3 : 2;
    const ref = new Float32Array(w * h);
    warpRows({ src, w, h, inv, outW: w, outH: h, interp, clamp: 0 }, ref, 0, h, true);
    let ratio = 0, nanDiff = 0, finite = 0;
    for (let oy = 0; oy < h; oy++) {
      for (let ox = 0; ox < w; ox++) {
        const a = ref[oy * w + ox]!, b = f32[oy * w + ox]!;
        if (Number.isNaN(a) !== Number.isNaN(b)) { nanDiff++; continue; }
        if (Number.isNaN(a)) continue;
        finite++;
        const sx = inv[0]! * ox + inv[1]! * oy + inv[2]!, sy = inv[3]! * ox + inv[4]! * oy + inv[5]!, W = inv[6]! * ox + inv[7]! * oy + inv[8]!;
        const fx = Math.floor(sx / W), fy = Math.floor(sy / W);
        let lo = Infinity, hi = -Infinity;
        for (let j = fy - r + 1; j <= fy + r; j++) {
          for (let i = fx - r + 1; i <= fx + r; i++) {
            const v = src[Math.min(h - 1, Math.max(0, j)) * w + Math.min(w - 1, Math.max(0, i))]!;
            lo = Math.min(lo, v); hi = Math.max(hi, v);
          }
        }
        ratio = Math.max(ratio, Math.abs(a - b) / (hi - lo));
      }
    }
    return { ratio, nanDiff, finite };
  };
  for (const interp of ['lanczos3', 'bicubic'] as Interp[]) {
    for (const [name, H] of maps) {
      const ts = withTS(() => warpPlane(src, w, h, H, w, h, interp, 0));
      const c = worst(H, interp, ts);
      assert.equal(c.nanDiff, 0, `${name} ${interp}: NaN pattern differs`);
      assert.ok(c.finite > 0.4 * w * h, `${name}: ${c.finite} finite pixels`);
      assert.ok(c.ratio <= 1e-5, `${name} ${interp}: |diff| ${c.ratio} of the local range`);
      assert.equal(bitDiff(ts, warpPlane(src, w, h, H, w, h, interp, 0)).diff, 0, `${name} ${interp}: WASM = TS reference`);
    }
    // the bound sees a map off by 1e-4 px
    const off = Float64Array.from(maps[0]![1]);
    off[2] = off[2]! + 1e-4;
    assert.ok(worst(maps[0]![1], interp, warpPlane(src, w, h, off, w, h, interp, 0)).ratio > 1e-5, `${interp}: a 1e-4 px offset is seen`);
  }
});

test('WASM resampling, analytic cases: integer shifts and exact 90/180 degree turns reproduce the input pixels', () => {
  const w = 64, h = 48;
  const src = field(w, h, 5, false);
  for (const [interp, clamp] of KERNELS) {
    // shift by (3, -2): out(x, y) = src(x - 3, y + 2) (separable path)
    const sh = warpPlane(src, w, h, Float64Array.from([1, 0, 3, 0, 1, -2, 0, 0, 1]), w, h, interp, clamp);
    // 90 degrees: a source pixel (x, y) lands on (h - 1 - y, x) of an h x w output (stepped path)
    const r90 = warpPlane(src, w, h, Float64Array.from([0, -1, h - 1, 1, 0, 0, 0, 0, 1]), h, w, interp, clamp);
    // meridian flip: (x, y) -> (w - 1 - x, h - 1 - y)
    const r180 = warpPlane(src, w, h, Float64Array.from([-1, 0, w - 1, 0, -1, h - 1, 0, 0, 1]), w, h, interp, clamp);
    let bad = 0;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const v = src[y * w + x]!;
        if (x + 3 < w && y - 2 >= 0 && sh[(y - 2) * w + x + 3] !== v) bad++;
        if (r90[x * h + (h - 1 - y)] !== v) bad++;
        if (r180[(h - 1 - y) * w + (w - 1 - x)] !== v) bad++;
      }
    }
    assert.equal(bad, 0, `${interp} clamp ${clamp}: ${bad} pixels not reproduced`);
    // out of frame: the shifted-in border is NaN
    for (let y = 0; y < h - 2; y++) for (let x = 0; x < 3; x++) assert.ok(Number.isNaN(sh[y * w + x]!));
  }
});

test('sourceRows bounds every row a chunk reads; a map whose W changes sign over the chunk reads every row', () => {
  const inv = invert(rot(12, 1.05, 30.2, -14.7, 1e-4, 5e-5));
  const h = 400, outW = 300;
  const [ya, yb] = sourceRows(inv, outW, 100, 140, h, 3);
  let lo = Infinity, hi = -Infinity;
  for (let oy = 100; oy < 140; oy++) {
    for (let ox = 0; ox < outW; ox++) {
      const W = inv[6]! * ox + inv[7]! * oy + inv[8]!;
      const sy = (inv[3]! * ox + inv[4]! * oy + inv[5]!) / W;
      lo = Math.min(lo, Math.floor(sy) - 2);
      hi = Math.max(hi, Math.floor(sy) + 3);
    }
  }
  assert.ok(ya <= Math.max(0, lo) && yb >= Math.min(h - 1, hi), `[${ya}, ${yb}] covers [${lo}, ${hi}]`);
  assert.ok(yb - ya < hi - lo + 12, 'and not much more');
  assert.deepEqual(sourceRows(Float64Array.from([1, 0, 0, 0, 1, 0, 0.01, 0, -1]), 300, 0, 40, h, 3), [0, h - 1]);
});

test('sourceRect bounds every column and row a chunk reads (near 0 and 90 degrees a narrow band); W changing sign: the whole frame', () => {
  const w = 500, h = 400, outW = 450;
  for (const [H, band] of [[rot(0.7, 1.01, 3.2, -4.1), 'rows'], [rot(90, 1, h - 0.6, 0.3), 'columns'], [rot(12, 1.05, 30.2, -14.7, 1e-4, 5e-5), '']] as const) {
    const inv = invert(H);
    const [xa, xb, ya, yb] = sourceRect(inv, outW, 100, 140, w, h, 3);
    let xlo = Infinity, xhi = -Infinity, ylo = Infinity, yhi = -Infinity;
    for (let oy = 100; oy < 140; oy++) {
      for (let ox = 0; ox < outW; ox++) {
        const W = inv[6]! * ox + inv[7]! * oy + inv[8]!;
        const sx = (inv[0]! * ox + inv[1]! * oy + inv[2]!) / W, sy = (inv[3]! * ox + inv[4]! * oy + inv[5]!) / W;
        if (!(sx >= -0.5 && sx < w - 0.5 && sy >= -0.5 && sy < h - 0.5)) continue;
        xlo = Math.min(xlo, Math.floor(sx) - 2); xhi = Math.max(xhi, Math.floor(sx) + 3);
        ylo = Math.min(ylo, Math.floor(sy) - 2); yhi = Math.max(yhi, Math.floor(sy) + 3);
      }
    }
    assert.ok(xa <= Math.max(0, xlo) && xb >= Math.min(w - 1, xhi), `columns [${xa}, ${xb}] cover [${xlo}, ${xhi}]`);
    assert.ok(ya <= Math.max(0, ylo) && yb >= Math.min(h - 1, yhi), `rows [${ya}, ${yb}] cover [${ylo}, ${yhi}]`);
    if (band === 'rows') assert.ok(yb - ya < 40 + 20 && xb - xa > outW - 20, `rows [${ya}, ${yb}]`);
    if (band === 'columns') assert.ok(xb - xa < 40 + 20 && yb - ya >= Math.min(h, outW) - 20, `columns [${xa}, ${xb}]`);
  }
  assert.deepEqual(sourceRect(Float64Array.from([1, 0, 0, 0, 1, 0, 0.01, 0, -1]), 300, 0, 40, w, h, 3), [0, w - 1, 0, h - 1]);
});

test('the float32 path keeps the kernel instance small and reused after a 90-degree turn of a large plane', () => {
  const W = 2300, H = 2000;
  const big = new Float32Array(W * H).fill(100);
  big[1000 * W + 700] = 5000;
  const k0 = resampleKernel();
  const out = warpPlane(big, W, H, Float64Array.from([0, -1, H - 1, 1, 0, 0, 0, 0, 1]), H, W, 'lanczos3', 0);
  assert.equal(resampleKernel(), k0, 'the same instance');
  assert.ok(k0!.bytes() < RESAMPLE_KEEP_BYTES / 2, `${k0!.bytes()} bytes`);
  // (x, y) -> (H - 1 - y, x): the bright pixel lands on (999, 700), its neighbours keep the flat 100
  assert.equal(out[700 * H + 999], 5000);
  assert.equal(out[700 * H + 1001], 100);
  assert.equal(out[12345], 100);
});

test('the kernel instance is kept after small warps and dropped after one that grew its memory past RESAMPLE_KEEP_BYTES', () => {
  const small = field(120, 80, 3, false);
  warpPlane(small, 120, 80, rot(0.5, 1, 1, 1), 120, 80);
  const k0 = resampleKernel();
  warpPlane(small, 120, 80, rot(0.5, 1, 1, 1), 120, 80);
  assert.equal(resampleKernel(), k0, 'a small kernel is kept');
  // a 90-degree turn reads every source row for each chunk: the whole plane is copied in
  const W = 2300, H = 2000;
  const big = new Float32Array(W * H).fill(100);
  const out = warpPlane(big, W, H, Float64Array.from([0, -1, H - 1, 1, 0, 0, 0, 0, 1]), H, W);
  assert.ok(W * H * 4 > RESAMPLE_KEEP_BYTES);
  assert.equal(out[12345], 100);
  assert.notEqual(resampleKernel(), k0, 'a grown kernel is dropped');
});
