/**
 * The fast forms of the detection's hot loops against their references: the Gaussian PSF evaluator (profile by a
 * recurrence along each sub-sample row) against the generic per-sample evaluator, and the background mesh's
 * sorted-range clipping (radix sort, prefix sums) against the select-and-copy clipping. Correctness only.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeEvaluator, makeGaussEvaluator, fitPsf, type FitWindow } from '../../src/stars/psf.js';
import { clippedLocationScale, clippedLocationScaleSorted, radixSortFloat32 } from '../../src/stars/background.js';
import { Rng } from '../../src/util/random.js';

const rel = (a: number, b: number): number => Math.abs(a - b) / Math.max(1e-300, Math.abs(b));

/** A window with a rotated elliptical Gaussian star, noise, and a few excluded pixels. */
function window(rng: Rng, ww: number, wh: number): FitWindow {
  const data = new Float32Array(ww * wh), weight = new Float32Array(ww * wh).fill(1);
  const cx = ww / 2 + rng.uniform() - 0.5, cy = wh / 2 + rng.uniform() - 0.5;
  for (let y = 0; y < wh; y++) for (let x = 0; x < ww; x++) {
    const dx = x - cx, dy = y - cy;
    data[y * ww + x] = 20 + 1500 * Math.exp(-0.5 * (0.5 * dx * dx + 0.3 * dx * dy + 0.35 * dy * dy)) + 8 * rng.gauss();
  }
  for (let k = 0; k < 5; k++) weight[Math.floor(rng.uniform() * ww * wh)] = 0;
  data[3] = NaN;
  return { data, width: ww, height: wh, x0: 100, y0: 57, weight };
}

test('Gaussian PSF evaluator: chi2 and normal equations equal the generic evaluator (rel 1e-12)', () => {
  const rng = new Rng(3);
  for (let trial = 0; trial < 40; trial++) {
    const ww = 9 + Math.floor(rng.uniform() * 40), wh = 9 + Math.floor(rng.uniform() * 40);
    const win = window(rng, ww, wh);
    for (const ns of [1, 2, 3, 5]) {
      const ref = makeEvaluator(win, false, 7, ns), fast = makeGaussEvaluator(win, ns);
      // shapes from round to strongly elongated and tilted, narrow to wide, centres off the window's middle
      const a = 0.05 + 3 * rng.uniform(), c = 0.05 + 3 * rng.uniform(), b = (rng.uniform() * 1.8 - 0.9) * Math.sqrt(a * c);
      const q = Float64Array.from([rng.gauss() * 10, 100 + 2000 * rng.uniform(), 100 + ww * rng.uniform(), 57 + wh * rng.uniform(), a, b, c]);
      for (const withJ of [true, false]) {
        const c1 = ref.evaluate(q, withJ), c2 = fast.evaluate(q, withJ);
        assert.ok(rel(c2, c1) < 1e-12, `chi2 ${c2} vs ${c1} (ns ${ns})`);
        if (!withJ) continue;
        for (let k = 0; k < 49; k++) {
          const i = Math.floor(k / 7), j = k % 7, scale = Math.sqrt(ref.JTJ[i * 8]! * ref.JTJ[j * 8]!); // |JTJ_ij| <= sqrt(JTJ_ii JTJ_jj)
          assert.ok(Math.abs(fast.JTJ[k]! - ref.JTJ[k]!) <= 1e-11 * scale + 1e-300, `JTJ[${k}] ${fast.JTJ[k]} vs ${ref.JTJ[k]}`);
        }
        for (let k = 0; k < 7; k++) {
          const scale = Math.sqrt(ref.JTJ[k * 8]! * c1) + 1e-300; // |JTr_k| <= sqrt(JTJ_kk chi2) (Cauchy-Schwarz)
          assert.ok(Math.abs(fast.JTr[k]! - ref.JTr[k]!) <= 1e-11 * scale, `JTr[${k}] ${fast.JTr[k]} vs ${ref.JTr[k]}`);
        }
      }
    }
  }
});

test('Gaussian PSF fit: a noiseless pixel-integrated star is recovered (FWHM, centre, flux)', () => {
  // the model itself, sub-sampled 3x3: the fit must return its parameters
  const ww = 21, wh = 19, ns = 3, sig = 1.4, cx = 10.3, cy = 8.8, A = 1000, B = 50;
  const data = new Float32Array(ww * wh);
  for (let y = 0; y < wh; y++) for (let x = 0; x < ww; x++) {
    let f = 0;
    for (let sy = 0; sy < ns; sy++) for (let sx = 0; sx < ns; sx++) {
      const dx = x + (sx + 0.5) / ns - 0.5 - cx, dy = y + (sy + 0.5) / ns - 0.5 - cy;
      f += Math.exp(-0.5 * (dx * dx + dy * dy) / (sig * sig));
    }
    data[y * ww + x] = B + (A * f) / (ns * ns);
  }
  const r = fitPsf({ data, width: ww, height: wh, x0: 0, y0: 0 }, 'gaussian', { x: 10, y: 9, fwhm: 3, amplitude: 900, background: 0 });
  assert.ok(r.ok);
  assert.ok(Math.abs(r.fwhm - 2.3548200450309493 * sig) < 1e-4, `fwhm ${r.fwhm}`);
  assert.ok(Math.abs(r.x - cx) < 1e-4 && Math.abs(r.y - cy) < 1e-4, `centre ${r.x}, ${r.y}`);
  assert.ok(rel(r.flux, 2 * Math.PI * A * sig * sig) < 1e-4, `flux ${r.flux}`);
  assert.ok(Math.abs(r.background - B) < 1e-2, `background ${r.background}`);
});

test('radixSortFloat32 sorts as a numeric sort (negatives, -0, infinities, denormals)', () => {
  const rng = new Rng(9);
  for (const n of [0, 1, 2, 7, 100, 4096, 5000]) {
    const a = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const u = rng.uniform();
      a[i] = u < 0.05 ? -0 : u < 0.08 ? Infinity : u < 0.1 ? -Infinity : u < 0.12 ? 1e-42 : u < 0.5 ? -1000 * rng.uniform() : 1e6 * rng.gauss();
    }
    const ref = Array.from(a).sort((x, y) => x - y);
    radixSortFloat32(a, n, new Uint32Array(n));
    for (let i = 0; i < n; i++) assert.ok(a[i] === ref[i], `n ${n}, index ${i}: ${a[i]} vs ${ref[i]}`);
    // only the first n values are sorted
    const b = Float32Array.from([5, 4, 3, 2, 1]);
    radixSortFloat32(b, 3, new Uint32Array(3));
    assert.deepEqual(Array.from(b), [3, 4, 5, 2, 1]);
  }
});

test('clippedLocationScaleSorted equals the select-and-copy clipping on sky boxes with stars and gradients', () => {
  const rng = new Rng(21);
  for (let trial = 0; trial < 60; trial++) {
    const n = 50 + Math.floor(rng.uniform() * 5000);
    const v = new Float32Array(n);
    const sky = 1000 * rng.uniform(), noise = 1 + 50 * rng.uniform(), stars = rng.uniform() * 0.3;
    for (let i = 0; i < n; i++) v[i] = Math.round(sky + noise * rng.gauss() + (rng.uniform() < stars ? 20000 * rng.uniform() ** 3 : 0) + (trial % 3 === 0 ? (0.01 * i) : 0));
    const sigma = [3, 2.5, 4][trial % 3]!, iterations = [5, 1, 10][trial % 3]!;
    const ref = clippedLocationScale(v.slice(), n, sigma, iterations);
    const s = v.slice();
    radixSortFloat32(s, n, new Uint32Array(n));
    const got = clippedLocationScaleSorted(s, n, sigma, iterations);
    assert.equal(got.count, ref.count, `count (trial ${trial})`);
    assert.equal(got.median, ref.median, `median (trial ${trial})`);
    assert.ok(Math.abs(got.scale - ref.scale) <= 1e-9 * ref.scale, `scale ${got.scale} vs ${ref.scale}`);
    assert.ok(Math.abs(got.location - ref.location) <= 1e-9 * Math.max(ref.scale, 1), `location ${got.location} vs ${ref.location}`);
  }
  assert.ok(Number.isNaN(clippedLocationScaleSorted(new Float32Array(0), 0).location));
});
