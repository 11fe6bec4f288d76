/**
 * src/image/noise.ts: the B3-spline a-trous smoothing against scipy.ndimage, the layer noise
 * coefficients against simulation, the MRS consistency factors against simulation, and the noise
 * estimates against known sigma on synthetic star fields; the fewer-layers and k-sigma fallbacks.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runPython, useTempDir } from '../helpers/env.js';
import { Rng } from '../../src/util/random.js';
import { stdev } from '../../src/image/stats.js';
import { b3NoiseCoefficients, b3Smooth, kSigmaGaussianFactor, MRS_GAUSSIAN_FACTOR, mrsRaw, noiseKSigma, noiseMRS } from '../../src/image/noise.js';

function gaussianPlane(w: number, h: number, sigma: number, seed: number, offset = 0): Float32Array {
  const rng = new Rng(seed);
  const a = new Float32Array(w * h);
  for (let i = 0; i < a.length; i++) a[i] = offset + sigma * rng.gauss();
  return a;
}

/** Smooth background (gradient + broad glow), Gaussian stars, and Gaussian noise of known sigma. */
function starField(w: number, h: number, sigma: number, seed: number): { image: Float32Array; noise: Float32Array } {
  const rng = new Rng(seed);
  const image = new Float32Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      image[y * w + x] = 1000 + 0.8 * x - 0.5 * y + 300 * Math.exp(-((x - 0.4 * w) ** 2 + (y - 0.6 * h) ** 2) / (2 * 120 * 120));
    }
  }
  for (let s = 0; s < 80; s++) {
    const sx = rng.uniform() * w;
    const sy = rng.uniform() * h;
    const flux = 200 + 20000 * rng.uniform() ** 3;
    const ps = 1.2 + 1.5 * rng.uniform();
    for (let y = Math.max(0, Math.floor(sy - 12)); y < Math.min(h, sy + 12); y++) {
      for (let x = Math.max(0, Math.floor(sx - 12)); x < Math.min(w, sx + 12); x++) {
        image[y * w + x]! += flux * Math.exp(-((x - sx) ** 2 + (y - sy) ** 2) / (2 * ps * ps));
      }
    }
  }
  const noise = new Float32Array(w * h);
  for (let i = 0; i < image.length; i++) {
    noise[i] = sigma * rng.gauss();
    image[i]! += noise[i]!;
  }
  return { image, noise };
}

test('b3Smooth equals scipy.ndimage separable convolution with mirrored edges', (t) => {
  const dir = useTempDir(t);
  const cases: Array<[number, number, number]> = [
    [37, 23, 1],
    [37, 23, 2],
    [37, 23, 4],
    [40, 33, 8],
    [5, 4, 4], // dilated taps reach beyond the image: repeated reflection
    [1, 6, 1],
  ];
  const rng = new Rng(99);
  const results: Float32Array[] = [];
  const spec: string[] = [];
  cases.forEach(([w, h, d], k) => {
    const src = new Float32Array(w * h);
    for (let i = 0; i < src.length; i++) src[i] = 100 * rng.uniform() + (i % 7);
    writeFileSync(join(dir, `in${k}.f32`), new Uint8Array(src.buffer));
    const dst = new Float32Array(w * h);
    b3Smooth(src, dst, new Float32Array(w * h), w, h, d);
    assert.ok(src.every((v, i) => v === src[i]), 'input untouched');
    results.push(dst);
    spec.push(`${w}:${h}:${d}`);
  });
  runPython(
    String.raw`
import sys, numpy as np
from scipy.ndimage import convolve1d
d = sys.argv[1]
for k, s in enumerate(sys.argv[2].split(',')):
  w, h, dil = map(int, s.split(':'))
  x = np.fromfile(f'{d}/in{k}.f32', dtype='<f4').astype(np.float64).reshape(h, w)
  ker = np.zeros(4 * dil + 1)
  ker[[0, dil, 2 * dil, 3 * dil, 4 * dil]] = [1/16, 1/4, 3/8, 1/4, 1/16]
  y = convolve1d(convolve1d(x, ker, axis=1, mode='mirror'), ker, axis=0, mode='mirror')
  y.astype('<f8').tofile(f'{d}/out{k}.f64')
`,
    [dir, spec.join(',')],
  );
  results.forEach((dst, k) => {
    const buf = readFileSync(join(dir, `out${k}.f64`));
    const ref = new Float64Array(buf.buffer, buf.byteOffset, buf.byteLength / 8);
    assert.equal(ref.length, dst.length);
    for (let i = 0; i < dst.length; i++) {
      assert.ok(Math.abs(dst[i]! - ref[i]!) <= 1e-5 * Math.max(1, Math.abs(ref[i]!)), `case ${spec[k]} pixel ${i}: ${dst[i]} vs ${ref[i]}`);
    }
  });
});

test('layer noise coefficients: analytic values agree with simulated white noise (kappa_0 ~ 0.8907)', () => {
  const kappa = b3NoiseCoefficients(4);
  const w = 1024;
  const h = 1024;
  let cur = gaussianPlane(w, h, 1, 5);
  const next = new Float32Array(w * h);
  const tmp = new Float32Array(w * h);
  const layer = new Float32Array(w * h);
  const simulated: number[] = [];
  for (let j = 0; j < 4; j++) {
    b3Smooth(cur, next, tmp, w, h, 1 << j);
    for (let i = 0; i < layer.length; i++) layer[i] = cur[i]! - next[i]!;
    simulated.push(stdev(layer));
    cur = next.slice();
  }
  // The published B3 table (Starck & Murtagh; PixInsight): 0.8907, 0.2007, 0.0856, 0.0413.
  assert.ok(Math.abs(simulated[0]! - 0.8907) < 0.004, `simulated kappa_0 ${simulated[0]}`);
  const tol = [0.005, 0.01, 0.03, 0.06]; // coarser layers have fewer independent samples
  for (let j = 0; j < 4; j++) {
    assert.ok(Math.abs(simulated[j]! / kappa[j]! - 1) < tol[j]!, `layer ${j}: simulated ${simulated[j]} vs analytic ${kappa[j]}`);
  }
});

test('MRS consistency factors and k-sigma factor reproduce on pure Gaussian noise', () => {
  const w = 1024;
  const h = 1024;
  const sigma = 7;
  const a = gaussianPlane(w, h, sigma, 11, 300);
  const truth = stdev(a);
  for (const layers of [2, 3, 4]) {
    const r = mrsRaw(a, w, h, layers)!;
    const ratio = r.sigma / truth;
    assert.ok(Math.abs(ratio / MRS_GAUSSIAN_FACTOR[layers]! - 1) < 0.004, `layers ${layers}: raw/true ${ratio} vs factor ${MRS_GAUSSIAN_FACTOR[layers]}`);
  }
  const f = kSigmaGaussianFactor(3);
  assert.ok(Math.abs(f - 0.98487) < 2e-4, `k-sigma factor ${f}`);
  assert.ok(Math.abs(noiseKSigma(a, w, h) / truth - 1) < 0.005, `noiseKSigma ${noiseKSigma(a, w, h)} vs ${truth}`);
  const e = noiseMRS(a, w, h);
  assert.equal(e.method, 'mrs');
  assert.equal(e.layers, 4);
  assert.ok(Math.abs(e.sigma / truth - 1) < 0.005, `noiseMRS ${e.sigma} vs ${truth}`);
  assert.ok(e.fraction > 0.95 && e.fraction <= 1, `fraction ${e.fraction}`);
});

test('MRS noise of a star field with gradients is within 3% of the true sigma and beats stdev', () => {
  const w = 512;
  const h = 512;
  for (const [seed, sigma] of [
    [1, 15],
    [2, 4],
    [3, 40],
  ] as const) {
    const { image, noise } = starField(w, h, sigma, seed);
    const truth = stdev(noise);
    const e = noiseMRS(image, w, h);
    assert.equal(e.method, 'mrs');
    assert.equal(e.layers, 4);
    const err = Math.abs(e.sigma / truth - 1);
    assert.ok(err < 0.03, `seed ${seed}: MRS ${e.sigma} vs true ${truth}`);
    const plain = Math.abs(stdev(image) / truth - 1);
    assert.ok(err < plain, `MRS error ${err} must beat plain stdev error ${plain}`);
    assert.ok(e.fraction > 0.1 && e.fraction < 1, `fraction ${e.fraction}`);
    const ks = noiseKSigma(image, w, h);
    assert.ok(Math.abs(ks / truth - 1) < 0.05, `k-sigma ${ks} vs ${truth}`);
  }
});

test('MRS ignores NaN pixels', () => {
  const w = 256;
  const h = 256;
  const { image, noise } = starField(w, h, 10, 21);
  const rng = new Rng(3);
  for (let i = 0; i < image.length; i++) if (rng.uniform() < 0.02) image[i] = NaN;
  for (let y = 100; y < 120; y++) for (let x = 30; x < 90; x++) image[y * w + x] = NaN;
  const e = noiseMRS(image, w, h);
  assert.equal(e.method, 'mrs');
  assert.ok(Math.abs(e.sigma / stdev(noise) - 1) < 0.03, `MRS with NaNs ${e.sigma}`);
  assert.ok(Number.isNaN(noiseMRS(new Float32Array(16).fill(NaN), 4, 4).sigma));
  assert.ok(Number.isNaN(noiseKSigma(new Float32Array(16).fill(NaN), 4, 4)));
});

test('fallbacks: fewer layers, then k-sigma, when too few pixels are free of structure', () => {
  const w = 512;
  const h = 512;
  // A strong large-scale curvature (mirror-symmetric at the edges) is significant at the coarse
  // layers almost everywhere; the stronger it is, the fewer layers leave >= 1% of the pixels.
  const curved = (amp: number): Float32Array => {
    const a = gaussianPlane(w, h, 1, 8);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) a[y * w + x]! += amp * Math.cos((Math.PI * x) / (w - 1));
    return a;
  };
  const mid = noiseMRS(curved(1e5), w, h);
  assert.equal(mid.method, 'mrs');
  assert.ok(mid.layers < 4, `expected fewer layers, got ${mid.layers}`);
  assert.ok(Math.abs(mid.sigma - 1) < 0.03, `fewer-layer MRS ${mid.sigma}`);
  assert.equal(mrsRaw(curved(1e5), w, h, 4), null, '4 layers leave no pixel');

  const hard = curved(1e6);
  for (const layers of [2, 3, 4]) {
    const r = mrsRaw(hard, w, h, layers);
    assert.ok(r === null || r.n < 0.01 * w * h, `layers ${layers} must fail the 1% rule`);
  }
  const e = noiseMRS(hard, w, h);
  assert.equal(e.method, 'k-sigma');
  assert.equal(e.layers, 1);
  assert.equal(e.sigma, noiseKSigma(hard, w, h));

  const flat = noiseMRS(new Float32Array(64 * 64).fill(1234), 64, 64);
  assert.deepEqual([flat.method, flat.sigma], ['k-sigma', 0]);
});

test('bad geometry is rejected', () => {
  assert.throws(() => noiseMRS(new Float32Array(10), 3, 3), /not 3x3/);
  assert.throws(() => noiseKSigma(new Float32Array(9), 0, 9), /not 0x9/);
  assert.throws(() => mrsRaw(new Float32Array(9), 3, 3, 5), /layers 5/);
});
