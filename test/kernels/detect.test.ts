/**
 * The WASM kernel of star detection's whole-frame passes (detect-simd.wasm) against the plain-TS references
 * (DARKROOM_KERNEL=ts), bit for bit: the background mesh's per-cell clipped location and scale, the mesh
 * interpolation (whole maps and LazyPlanes' rectangles through detectStars bin 2), the background subtraction, the
 * matched-filter convolution (7 taps unrolled, other widths, wider than the frame), the threshold's pixels, and the
 * detections themselves; on odd sizes, NaN/Inf pixels, constant and all-NaN frames, -0 and +0.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backgroundMesh, meshMaps, type BackgroundOptions } from '../../src/stars/background.js';
import { detectionPlanes, detectStars, type DetectOptions } from '../../src/stars/detect.js';
import { detectKernel, DETECT_KEEP_BYTES } from '../../src/kernels/detect.js';
import { randomStarField, renderStars } from '../../src/devices/sim/stars.js';
import { Rng } from '../../src/util/random.js';
import { withTS } from '../helpers/kernel.js';

/** Same value bit for bit (any NaN equals any NaN: the payload is not a result). */
function same(a: number, b: number): boolean {
  return Object.is(a, b) || (a !== a && b !== b);
}

function sameArray(got: ArrayLike<number>, want: ArrayLike<number>, what: string): void {
  assert.equal(got.length, want.length, `${what}: length`);
  for (let i = 0; i < want.length; i++) {
    if (!same(got[i]!, want[i]!)) assert.fail(`${what}: [${i}] ${got[i]} vs ${want[i]} (reference)`);
  }
}

/** A sky frame: noise about 1000 ADU, a gradient, optional stars, NaN/+-Inf pixels, integer ADU. */
function sky(w: number, h: number, seed: number, o: { stars?: number; bad?: number; integer?: boolean } = {}): Float32Array {
  const rng = new Rng(seed);
  const p = new Float32Array(w * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) p[y * w + x] = 1000 + 0.3 * x - 0.2 * y + 12 * rng.gauss();
  if (o.stars) renderStars(p, w, h, randomStarField(seed, w, h, o.stars, { fluxMin: 2000, fluxMax: 200000 }), { kind: 'gaussian', fwhm: 3 });
  if (o.integer) for (let i = 0; i < p.length; i++) p[i] = Math.round(p[i]!);
  for (let i = 0; i < p.length; i++) if (rng.uniform() < (o.bad ?? 0)) p[i] = [NaN, Infinity, -Infinity][i % 3]!;
  return p;
}

/** Frames of every kind the tests cover: [name, plane, width, height]. */
function frames(): [string, Float32Array, number, number][] {
  const out: [string, Float32Array, number, number][] = [];
  out.push(['sky with stars 257x131', sky(257, 131, 1, { stars: 40 }), 257, 131]);
  out.push(['integer sky with stars 300x200', sky(300, 200, 2, { stars: 60, integer: true }), 300, 200]);
  out.push(['NaN/Inf pixels 131x97', sky(131, 97, 3, { stars: 15, bad: 0.01 }), 131, 97]);
  out.push(['constant 70x45', new Float32Array(70 * 45).fill(1000), 70, 45]);
  const zeros = new Float32Array(64 * 33);
  for (let i = 0; i < zeros.length; i++) zeros[i] = i % 2 ? -0 : 0;
  out.push(['-0 and +0 64x33', zeros, 64, 33]);
  out.push(['all NaN 40x24', new Float32Array(40 * 24).fill(NaN), 40, 24]);
  out.push(['one column 1x50', sky(1, 50, 4), 1, 50]);
  out.push(['narrow 5x61', sky(5, 61, 5, { stars: 2 }), 5, 61]);
  out.push(['flat strip 1023x9', sky(1023, 9, 6, { stars: 8 }), 1023, 9]);
  return out;
}

test('the detection kernel (detect-simd.wasm) is built and loaded; DARKROOM_KERNEL=ts selects the TS reference', () => {
  assert.ok(detectKernel(), 'detect-simd.wasm not loaded (node scripts/build-wasm.mjs)');
  assert.equal(withTS(() => detectKernel()), null);
  assert.ok(DETECT_KEEP_BYTES >= 64 << 20);
});

test('background mesh: per-cell clipped location and scale, and the interpolated maps, equal the TS reference bit for bit', () => {
  const optsList: BackgroundOptions[] = [{}, { box: 16 }, { box: 23, sigma: 2.5, iterations: 3 }, { box: 8, iterations: 0 }];
  for (const [name, plane, w, h] of frames()) {
    for (const opts of optsList) {
      const what = `${name} ${JSON.stringify(opts)}`;
      const want = withTS(() => backgroundMesh(plane, w, h, opts));
      const got = backgroundMesh(plane, w, h, opts);
      sameArray(got.background, want.background, `${what} mesh background`);
      sameArray(got.noise, want.noise, `${what} mesh noise`);
      assert.ok(same(got.globalBackground, want.globalBackground) && same(got.globalNoise, want.globalNoise), `${what} globals`);
      for (const scale of [1, 2]) {
        const W = w * scale, H = h * scale;
        const mw = withTS(() => meshMaps(want, W, H, scale)), mk = meshMaps(got, W, H, scale);
        sameArray(mk.background, mw.background, `${what} map background (scale ${scale})`);
        sameArray(mk.noise, mw.noise, `${what} map noise (scale ${scale})`);
      }
    }
  }
});

test('detection planes: background-subtracted and filtered planes (7 taps, 9 and 15 taps, none) and the threshold pixels equal the TS reference', () => {
  for (const [name, plane, w, h] of frames()) {
    for (const filterFwhm of [2, 2.6, 5, 0]) {
      for (const k of [5, 2]) {
        const what = `${name} filterFwhm ${filterFwhm} k ${k}`;
        const opts: DetectOptions = { filterFwhm, k, box: 16 };
        const want = withTS(() => detectionPlanes(plane, w, h, opts));
        const got = detectionPlanes(plane, w, h, opts);
        assert.equal(want.above, undefined);
        sameArray(got.bkg.background, want.bkg.background, `${what} background`);
        sameArray(got.bkg.noise, want.bkg.noise, `${what} noise`);
        sameArray(got.sub, want.sub, `${what} sub`);
        sameArray(got.filt, want.filt, `${what} filt`);
        assert.ok(same(got.nf, want.nf));
        // the reference threshold (detect.ts labelComponents) on the reference planes
        const above: number[] = [];
        for (let i = 0; i < w * h; i++) if (want.filt[i]! > k * want.nf * want.bkg.noise[i]!) above.push(i);
        assert.ok(got.above, `${what}: the kernel's threshold pixels`);
        sameArray(got.above, above, `${what} above`);
        if (filterFwhm === 0) assert.equal(got.filt, got.sub);
      }
    }
  }
});

test('the filtered plane is the separable Gaussian convolution with edge replication (direct sum, to float32 rounding)', () => {
  // an analytic check of both paths: a single bright pixel on zero background gives the kernel itself
  const w = 41, h = 37, plane = new Float32Array(w * h);
  plane[18 * w + 20] = 1000;
  for (const mode of ['ts', 'wasm']) {
    const p = mode === 'ts' ? withTS(() => detectionPlanes(plane, w, h, { box: 64, filterFwhm: 2 })) : detectionPlanes(plane, w, h, { box: 64, filterFwhm: 2 });
    const sigma = 2 / (2 * Math.sqrt(2 * Math.LN2));
    const g = Array.from({ length: 7 }, (_, i) => Math.exp(-0.5 * ((i - 3) / sigma) ** 2));
    const s = g.reduce((a, b) => a + b, 0);
    const bg = p.bkg.background[18 * w + 20]!;
    for (let dy = -3; dy <= 3; dy++) for (let dx = -3; dx <= 3; dx++) {
      const want = ((1000 - bg) * g[dx + 3]! * g[dy + 3]!) / (s * s);
      const got = p.filt[(18 + dy) * w + 20 + dx]!;
      assert.ok(Math.abs(got - want) <= 1e-5 * Math.abs(want) + 1e-4, `${mode} (${dx}, ${dy}): ${got} vs ${want}`);
    }
  }
});

test('detectStars: the same stars, counts and background maps with the kernel as with the TS reference (full and 2x2-binned detection)', () => {
  const cases: [string, Float32Array, number, number][] = [
    ['sky with stars 511x333', sky(511, 333, 7, { stars: 120 }), 511, 333],
    ['NaN/Inf pixels 257x131', sky(257, 131, 8, { stars: 40, bad: 0.002 }), 257, 131],
    ['integer 300x200', sky(300, 200, 9, { stars: 60, integer: true }), 300, 200],
  ];
  const optsList: DetectOptions[] = [
    {},
    { filterFwhm: 3.1, box: 24, maxFit: 20 },
    { bin: 2, maxStars: 100, maxFit: 20, fitIsolated: true, refine: true, fitTolerance: 1e-6 },
    { bin: 2, filterFwhm: 0, box: 40 },
  ];
  for (const [name, plane, w, h] of cases) {
    for (const opts of optsList) {
      const what = `${name} ${JSON.stringify(opts)}`;
      const want = withTS(() => detectStars(plane, w, h, opts));
      const got = detectStars(plane, w, h, opts);
      assert.ok(want.stars.length > 5, `${what}: ${want.stars.length} stars`);
      assert.deepEqual(got.stars, want.stars, `${what}: stars`);
      assert.equal(got.hotPixels, want.hotPixels);
      assert.equal(got.saturatedCount, want.saturatedCount);
      sameArray(got.background.background, want.background.background, `${what} background map`);
      sameArray(got.background.noise, want.background.noise, `${what} noise map`);
    }
  }
});
