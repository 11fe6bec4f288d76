import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fitPoly2D, largeScaleClipped, masks, percentile, qualityMetrics, robustSigma, truthOnGrid } from '../../src/analyze/quality.js';
import { apply } from '../../src/register/transform.js';
import { warpPlane } from '../../src/register/resample.js';
import { Rng } from '../../src/util/random.js';

const W = 512;
const H = 384;
const SKY = 1000;

/**
 * `plane` plus the mean of K frames of white noise (each of sigma * sqrt(K), so the mean has sigma), each
 * resampled with `interp` at a sub-pixel shift on a grid over [0, 1) in x and, in another order, in y (the
 * expectations over a uniform shift); the noise drawn from `rng`.
 */
function resampledNoiseStack(plane: Float32Array, sigma: number, K: number, interp: 'bilinear' | 'lanczos3', rng: Rng): Float32Array {
  const sum = new Float64Array(W * H);
  for (let k = 0; k < K; k++) {
    const fx = (k + 0.5) / K, fy = (((k * 7) % K) + 0.5) / K;
    const n = Float32Array.from({ length: W * H }, () => sigma * Math.sqrt(K) * rng.gauss());
    const w = warpPlane(n, W, H, Float64Array.from([1, 0, fx, 0, 1, fy, 0, 0, 1]) as never, W, H, interp, 0);
    for (let i = 0; i < W * H; i++) sum[i] = sum[i]! + (Number.isFinite(w[i]) ? w[i]! : 0) / K;
  }
  return plane.map((v, i) => v + sum[i]!);
}

/** A truth plane: flat sky plus Gaussian stars (sigma 1.4 px) on a jittered grid, fluxes 2e4..2e6 ADU. */
function truthPlane(w = W, h = H, transform?: (x: number, y: number) => [number, number]): { plane: Float32Array; stars: { x: number; y: number; f: number }[] } {
  const plane = new Float32Array(w * h).fill(SKY);
  const rng = new Rng(7);
  const stars: { x: number; y: number; f: number }[] = [];
  for (let gy = 30; gy < H - 30; gy += 46) for (let gx = 30; gx < W - 30; gx += 46) {
    stars.push({ x: gx + 6 * rng.uniform(), y: gy + 6 * rng.uniform(), f: 2e4 * Math.pow(100, rng.uniform()) });
  }
  const s2 = 2 * 1.4 * 1.4;
  for (const st of stars) {
    const [sx, sy] = transform ? transform(st.x, st.y) : [st.x, st.y];
    for (let y = Math.max(0, Math.floor(sy) - 12); y <= Math.min(h - 1, Math.floor(sy) + 12); y++) {
      for (let x = Math.max(0, Math.floor(sx) - 12); x <= Math.min(w - 1, Math.floor(sx) + 12); x++) {
        plane[y * w + x] = plane[y * w + x]! + (st.f / (Math.PI * s2)) * Math.exp(-((x - sx) ** 2 + (y - sy) ** 2) / s2);
      }
    }
  }
  return { plane, stars };
}

function noisy(truth: Float32Array, sigma: number, seed: number, scale = 1, offset = 0): Float32Array {
  const rng = new Rng(seed);
  return truth.map((v) => scale * (v + sigma * rng.gauss()) + offset);
}

test('robust sigma and percentile on known samples', () => {
  const rng = new Rng(3);
  const g = Float64Array.from({ length: 200000 }, () => 5 * rng.gauss());
  assert.ok(Math.abs(robustSigma(g) - 5) < 0.05, String(robustSigma(g)));
  assert.equal(percentile([0, 10, 20, 30, 40], 25), 10);
  assert.equal(percentile([0, 10], 99), 9.9);
});

test('fitPoly2D reproduces a degree-4 surface exactly', () => {
  const f = (x: number, y: number): number => 3 + 0.01 * x - 0.02 * y + 1e-5 * x * y + 2e-10 * x ** 4 - 1e-9 * y ** 3 * x / 100;
  const xs: number[] = [], ys: number[] = [], vs: number[] = [];
  for (let y = 8; y < H; y += 16) for (let x = 8; x < W; x += 16) { xs.push(x); ys.push(y); vs.push(f(x, y)); }
  const p = fitPoly2D(xs, ys, vs, 4, W, H);
  for (const [x, y] of [[10, 10], [300, 200], [500, 370]] as const) assert.ok(Math.abs(p(x, y) - f(x, y)) < 1e-8, `${x},${y}`);
});

test('a perfect stack of white noise: nb4 1, no large-scale residual, blk the noise of 16x16 medians, no outliers, a = 1', () => {
  const { plane } = truthPlane();
  const sigma = 10;
  const m = qualityMetrics({ stack: noisy(plane, sigma, 1), truth: plane, width: W, height: H, sky: SKY, idealSigma: sigma, photSnr: 50 });
  assert.ok(Math.abs(m.nb4 - 1) < 0.04, `nb4 ${m.nb4}`);
  // block medians of 256 white-noise pixels: sigma 1.2533 * 10 / 16 = 0.78 ADU = 0.078 % of the sky; blocks with
  // stars keep 128..256 sky pixels (up to 0.11 %)
  assert.ok(m.blk > 0.07 && m.blk < 0.1, `blk ${m.blk}`);
  assert.ok(m.large < 0.08, `large ${m.large}`); // a degree-4 fit through 600 noisy block medians
  assert.equal(m.outliers, 0);
  assert.ok(Math.abs(m.a - 1) < 0.003, `a ${m.a}`);
  assert.ok(m.photStars >= 20, `phot stars ${m.photStars}`);
  // aperture noise at SNR >= 50: scatter below 2 %
  assert.ok(m.phot < 2, `phot ${m.phot}`);
  assert.ok(Math.abs(m.hfd - 2 * 1.1774 * 1.4) < 0.6, `hfd ${m.hfd}`); // HFD of a Gaussian = 2 sqrt(2 ln 2) sigma
});

test('scale, offset, a gradient and hot pixels are measured as such', () => {
  const { plane } = truthPlane();
  const sigma = 10;
  const stack = noisy(plane, sigma, 2, 2.5, 300);
  // a linear gradient of 1 % of the sky across the width (in truth units, so 2.5x in the stack)
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) stack[y * W + x] = stack[y * W + x]! + 2.5 * 0.01 * SKY * (x / (W - 1) - 0.5);
  // 12 hot pixels of 50 sigma in clear sky
  const hot = [[40, 50], [100, 200], [220, 90], [300, 300], [400, 60], [470, 330], [60, 330], [150, 120], [250, 250], [350, 150], [440, 220], [200, 350]];
  const m0 = qualityMetrics({ stack, truth: plane, width: W, height: H, sky: SKY, idealSigma: sigma });
  let placed = 0;
  for (const [x, y] of hot) {
    // only where the pixel is pure sky (the mask is the truth's)
    if (Math.abs(plane[y! * W + x!]! - SKY) < 1e-3) { stack[y! * W + x!] = stack[y! * W + x!]! + 2.5 * 50 * sigma; placed++; }
  }
  const m = qualityMetrics({ stack, truth: plane, width: W, height: H, sky: SKY, idealSigma: sigma });
  assert.ok(Math.abs(m.a - 2.5) < 0.01, `a ${m.a}`);
  assert.ok(Math.abs(m.nb4 - 1) < 0.05, `nb4 ${m.nb4}`);
  // the surface over the centres of the blocks inside the 16 px margin (x = 24 .. 488): 1 % x 464 / 511
  const want = (100 * 0.01 * (488 - 24)) / (W - 1);
  assert.ok(Math.abs(m.large - want) < 0.05, `large ${m.large} want ${want}`);
  assert.ok(placed >= 8);
  assert.ok(Math.abs(m.outliers - m0.outliers - (1e6 * placed) / m.skyPixels) < 1e-6, `outliers ${m.outliers} ${m0.outliers} ${placed}`);
});

test('truthOnGrid finds a dither and a meridian flip and maps the truth onto the stack', () => {
  const { plane: truth } = truthPlane();
  const flip = (x: number, y: number): [number, number] => [W - 1 - x + 3.3, H - 1 - y - 2.6];
  const stackTruth = truthPlane(W, H, flip).plane;
  const stack = noisy(stackTruth, 5, 9);
  const g = truthOnGrid(truth, W, H, stack, W, H, SKY);
  const [u, v] = apply(g.transform, 100, 80);
  const [eu, ev] = flip(100, 80);
  assert.ok(Math.hypot(u - eu, v - ev) < 0.05, `${u},${v} vs ${eu},${ev}`);
  // the mapped truth equals the truth rendered on the stack's grid, away from the borders
  let worst = 0;
  for (let y = 20; y < H - 20; y++) for (let x = 20; x < W - 20; x++) if (g.coverage[y * W + x]! > 0.999) worst = Math.max(worst, Math.abs(g.truth[y * W + x]! - stackTruth[y * W + x]!) / (stackTruth[y * W + x]! - SKY + 100));
  assert.ok(worst < 0.5, `worst relative difference ${worst}`);
  const m = qualityMetrics({ stack, truth: g.truth, coverage: g.coverage, width: W, height: H, sky: SKY, idealSigma: 5, photSnr: 50 });
  assert.ok(Math.abs(m.nb4 - 1) < 0.06, `nb4 ${m.nb4}`);
  assert.ok(m.phot < 1.5, `phot ${m.phot}`);
});

test('resampled white noise: bilinear lowers npix to 2/3 and nb4 to 1 - 1/12 (known answers), nlf stays 1 for every kernel', () => {
  const { plane } = truthPlane();
  const sigma = 10;
  const K = 16;
  const rng = new Rng(21);
  const res: Record<string, ReturnType<typeof qualityMetrics>> = {};
  for (const interp of ['bilinear', 'lanczos3'] as const) {
    const stack = resampledNoiseStack(plane, sigma, K, interp, rng);
    res[interp] = qualityMetrics({ stack, truth: plane, width: W, height: H, sky: SKY, idealSigma: sigma, margin: 8, photSnr: 50 });
  }
  const bl = res.bilinear!, lz = res.lanczos3!;
  // bilinear at shift f: per axis the weights (1 - f, f), variance (1 - f)^2 + f^2, mean 2/3 over f; a block of B
  // pixels sums B - 1 + (1 - f)^2 + f^2 over B^2, mean (B - 1/3) / B per axis: the sigma of 4x4 means is 11/12
  assert.ok(Math.abs(bl.npix - 2 / 3) < 0.02, `bilinear npix ${bl.npix}`);
  assert.ok(Math.abs(bl.nb4 - 11 / 12) < 0.03, `bilinear nb4 ${bl.nb4}`);
  assert.ok(Math.abs(bl.nb8 - 23 / 24) < 0.04, `bilinear nb8 ${bl.nb8}`);
  // the noise at zero frequency is the noise before resampling, whatever the kernel
  assert.ok(Math.abs(bl.nlf - 1) < 0.03, `bilinear nlf ${bl.nlf}`);
  assert.ok(Math.abs(lz.nlf - 1) < 0.03, `lanczos3 nlf ${lz.nlf}`);
  assert.ok(lz.npix > 0.85 && lz.npix < 0.97, `lanczos3 npix ${lz.npix}`);
  assert.ok(lz.nb4 > bl.nb4 + 0.04, `lanczos3 nb4 ${lz.nb4} above bilinear's ${bl.nb4}`);
});

test('block medians of resampled noise depend on the kernel, clipped block means do not: blk vs blkm (known answers)', () => {
  const { plane } = truthPlane();
  const sigma = 10;
  const K = 16;
  const res: Record<string, ReturnType<typeof qualityMetrics>> = {};
  let expected = NaN;
  for (const interp of ['bilinear', 'lanczos3'] as const) {
    const rng = new Rng(33); // the same noise for both kernels
    const stack = resampledNoiseStack(plane, sigma, K, interp, rng);
    const q = { stack, truth: plane, width: W, height: H, sky: SKY, idealSigma: sigma, margin: 8, photSnr: 50 };
    res[interp] = qualityMetrics(q);
    if (interp === 'bilinear') {
      // a mean of n pixels of noise sigma (at zero frequency) scatters sigma / sqrt(n); the degree-4 fit takes 15 of the blocks' degrees of freedom
      const { sky } = masks(q);
      let s = 0, nb = 0;
      for (let by = 0; by < Math.floor(H / 16); by++) for (let bx = 0; bx < Math.floor(W / 16); bx++) {
        let n = 0;
        for (let y = by * 16; y < by * 16 + 16; y++) for (let x = bx * 16; x < bx * 16 + 16; x++) n += sky[y * W + x]!;
        if (n >= 128) { s += 1 / n; nb++; }
      }
      expected = (100 * sigma * Math.sqrt((s / nb) * (1 - 15 / nb))) / SKY;
      const direct = largeScaleClipped(Float32Array.from(stack, (v, i) => v - plane[i]!), sky, W, H, SKY, 50);
      assert.ok(Math.abs(direct.blk - res[interp]!.blkm) < 0.002, `largeScaleClipped ${direct.blk} vs blkm ${res[interp]!.blkm}`);
    }
  }
  const bl = res.bilinear!, lz = res.lanczos3!;
  // a kernel still correlates pixels across the border of a block and of the star mask: bilinear's block means read
  // ~3% low (1 - 1/48 per axis for a full 16-px block), Lanczos-3's ~1%, far less than the medians' 8%
  for (const [k, m] of Object.entries(res)) assert.ok(m.blkm / expected > 0.94 && m.blkm / expected < 1.03, `${k} blkm ${m.blkm} vs ${expected}`);
  assert.ok(lz.blkm / bl.blkm > 1 && lz.blkm / bl.blkm < 1.04, `blkm lanczos3 ${lz.blkm} vs bilinear ${bl.blkm}`);
  // the median of correlated Gaussian pixels has variance ~ (s0^2 + (pi/2 - 1) s^2) / n (s0: the noise at zero
  // frequency, s: the pixel noise): pixel variance 0.444 (bilinear) and 0.80 (Lanczos-3) give a ratio of 1.078
  assert.ok(lz.blk / bl.blk > 1.05 && lz.blk / bl.blk < 1.11, `blk lanczos3 ${lz.blk} vs bilinear ${bl.blk}`);
  // the large-scale surfaces of the two kernels: the same within the fit's noise
  assert.ok(Math.abs(lz.largem - bl.largem) < 0.25 * bl.largem + 0.005, `largem ${lz.largem} vs ${bl.largem}`);
});
