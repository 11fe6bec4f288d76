import { test } from 'node:test';
import assert from 'node:assert/strict';
import { A, NOISE_KEEP_BYTES, noiseKernel, noiseKernelDone, RATIO, SRC } from '../../src/kernels/noise.js';
import { kSigmaSumsTS, mrsPlanes, mrsRaw, mrsSumsTS, noiseKSigma, noiseMRS, NOISE_MAX_PIXELS } from '../../src/image/noise.js';
import { Rng } from '../../src/util/random.js';
import { withTS } from '../helpers/kernel.js';

/** Gaussian noise on a gradient, with stars (bright compact peaks) and optionally non-finite pixels. */
function plane(w: number, h: number, seed: number, opts: { stars?: number; bad?: number; sigma?: number } = {}): Float32Array {
  const rng = new Rng(seed);
  const a = new Float32Array(w * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) a[y * w + x] = 1000 + 0.3 * x - 0.2 * y + (opts.sigma ?? 7) * rng.gauss();
  for (let s = 0; s < (opts.stars ?? 0); s++) {
    const cx = rng.uniform() * w;
    const cy = rng.uniform() * h;
    const f = 3000 * rng.uniform();
    for (let y = Math.max(0, Math.floor(cy - 6)); y < Math.min(h, cy + 6); y++) {
      for (let x = Math.max(0, Math.floor(cx - 6)); x < Math.min(w, cx + 6); x++) a[y * w + x]! += f * Math.exp(-((x - cx) ** 2 + (y - cy) ** 2) / 3);
    }
  }
  for (let k = 0; k < (opts.bad ?? 0); k++) a[Math.floor(rng.uniform() * a.length)] = k % 2 ? NaN : Infinity;
  return a;
}

test('the WASM-SIMD noise kernel is built and loads (node scripts/build-wasm.mjs)', () => {
  assert.ok(noiseKernel(1000), 'noise-simd.wasm not loaded');
  assert.equal(withTS(() => noiseKernel(1000)), null, 'DARKROOM_KERNEL=ts selects the TS reference');
});

test('noise estimates on the WASM kernel are bit-identical to the TS reference (odd sizes, edges, masks, every layer count)', () => {
  // Widths/heights below the dilated taps (mirrored repeatedly), odd widths (scalar tails), one row/column.
  const sizes: Array<[number, number]> = [[1, 1], [1, 9], [9, 1], [2, 3], [5, 4], [17, 13], [37, 23], [64, 64], [127, 65], [300, 211]];
  let compared = 0;
  sizes.forEach(([w, h], k) => {
    for (const opts of [{}, { stars: 6 }, { stars: 4, bad: 5 }, { sigma: 0 }]) {
      const a = plane(w, h, 10 + k, opts);
      const copy = a.slice();
      const wasm = noiseMRS(a, w, h);
      const ts = withTS(() => noiseMRS(a, w, h));
      assert.deepEqual(wasm, ts, `noiseMRS ${w}x${h} ${JSON.stringify(opts)}`);
      for (let layers = 1; layers <= 4; layers++) {
        const what = `${layers} layers ${w}x${h} ${JSON.stringify(opts)}`;
        assert.deepEqual(mrsRaw(a, w, h, layers), withTS(() => mrsRaw(a, w, h, layers)), `mrsRaw, ${what}`);
        const pw = mrsPlanes(a, w, h, layers);
        const pt = withTS(() => mrsPlanes(a, w, h, layers));
        assert.ok(Buffer.from(pw.ratio.buffer).equals(Buffer.from(pt.ratio.buffer)), `support ratio, ${what}`);
        assert.ok(Buffer.from(pw.resid.buffer).equals(Buffer.from(pt.resid.buffer)), `residual, ${what}`);
      }
      assert.ok(a.every((v, i) => Object.is(v, copy[i])), 'input untouched');
      compared++;
    }
  });
  assert.equal(compared, 40);
  // The estimates are real ones: 7 ADU of white noise on a 300x211 gradient.
  const e = noiseMRS(plane(300, 211, 1), 300, 211);
  assert.equal(e.method, 'mrs');
  assert.ok(Math.abs(e.sigma / 7 - 1) < 0.02, `sigma ${e.sigma}`);
  assert.ok(Math.abs(noiseKSigma(plane(300, 211, 1), 300, 211) / 7 - 1) < 0.02);
});

test('the kernel is reused across plane sizes (memory grown, never stale) and let go once past NOISE_KEEP_BYTES', () => {
  // a frame's noise rows (at most NOISE_MAX_PIXELS) keep the kernel from frame to frame; a larger plane lets it go
  const [W, H] = [1600, 1400];
  const big = plane(W, H, 3, { stars: 40 });
  const frame = plane(1536, 1024, 5, { stars: 20 });
  const small = plane(100, 80, 4, { stars: 3 });
  assert.ok(W * H * 16 > NOISE_KEEP_BYTES && NOISE_MAX_PIXELS * 16 < NOISE_KEEP_BYTES && 1536 * 1024 < NOISE_MAX_PIXELS);
  const k0 = noiseKernel(1);
  noiseMRS(small, 100, 80);
  assert.equal(noiseKernel(1), k0, 'a small kernel is kept');
  const f0 = noiseMRS(frame, 1536, 1024);
  assert.equal(noiseKernel(1), k0, 'the kernel that measured a 1536x1024 frame is kept for the next one');
  assert.deepEqual(noiseMRS(frame, 1536, 1024), f0);
  noiseMRS(big, W, H);
  const k1 = noiseKernel(1);
  assert.notEqual(k1, k0, 'a kernel grown past NOISE_KEEP_BYTES is dropped');
  assert.ok(k1!.bytes() < NOISE_KEEP_BYTES);
  const first = [noiseMRS(small, 100, 80), noiseMRS(big, W, H), noiseMRS(small, 100, 80), noiseMRS(big, W, H)];
  assert.deepEqual(first[0], first[2]);
  assert.deepEqual(first[1], first[3]);
  assert.deepEqual(first[1], withTS(() => noiseMRS(big, W, H)));
  assert.deepEqual(f0, withTS(() => noiseMRS(frame, 1536, 1024)));
  assert.ok(Math.abs(first[1]!.sigma / 7 - 1) < 0.01, `sigma ${first[1]!.sigma}`);
});

test('the kernel\'s sums and non-finite count are the TS reference\'s bit for bit, on values whose sum depends on the order', () => {
  const rng = new Rng(77);
  const k = noiseKernel(1)!;
  let sensitive = 0;
  for (const n of [1, 2, 3, 7, 64, 1001, 40001]) {
    // magnitudes from 1e-3 to 1e6: rounding of the running sums depends on the order of the additions
    const mag = (): number => 10 ** (rng.uniform() * 9 - 3) * (rng.uniform() < 0.5 ? -1 : 1);
    const src = Float32Array.from({ length: n }, () => mag());
    const c1 = Float32Array.from({ length: n }, (_, i) => (i % 5 === 0 ? -0 : src[i]! * 0.5 + mag() * 1e-3));
    const ratio = Float32Array.from({ length: n }, (_, i) => (i % 7 === 3 ? NaN : rng.uniform() * 6));
    const resid = Float32Array.from({ length: n }, (_, i) => (i % 11 === 0 ? -0 : mag()));
    assert.ok(k.setup(src));
    k.plane(A).set(c1);
    for (const thr of [Infinity, 1e5, 30, 3, 0]) {
      assert.deepEqual(k.ksigmaSums(A, thr), kSigmaSumsTS(src, c1, null)(thr), `ksigmaSums n ${n} thr ${thr}`);
    }
    k.plane(RATIO).set(ratio);
    k.plane(A).set(resid);
    for (const thr of [Infinity, 4, 1, 0]) {
      const ref = mrsSumsTS(ratio, resid, null)(thr);
      assert.deepEqual(k.mrsSums(A, thr), ref, `mrsSums n ${n} thr ${thr}`);
      // the data are order-sensitive: even and odd indices summed apart give another sum
      let even = 0;
      let odd = 0;
      for (let i = 0; i < n; i++) if (!(ratio[i]! >= thr)) i % 2 ? (odd += resid[i]!) : (even += resid[i]!);
      if (even + odd !== ref.sum) sensitive++;
    }
    // non-finite pixels anywhere, the tail included
    const bad = src.slice();
    const at = [0, n - 1, n >> 1, 3].filter((i) => i < n);
    at.forEach((i, j) => (bad[i] = [NaN, Infinity, -Infinity, NaN][j]!));
    assert.ok(k.setup(bad));
    assert.equal(k.nonFinite(), new Set(at).size, `nonFinite n ${n}`);
    assert.equal(k.plane(SRC).length, n);
  }
  assert.ok(sensitive >= 3, `order-sensitive cases ${sensitive}`);
  noiseKernelDone();
});
