/**
 * The fast registration path of `frameStars` (refined centroids, few PSF fits, binned detection) keeps the accuracy of
 * the complete measurement: sub-0.05 px registration of simulated frames, and the star metrics used for weights
 * (median FWHM, eccentricity) within 2% of the full-fit path. Correctness only: no timing is asserted.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderStars, randomStarField } from '../../src/devices/sim/stars.js';
import { frameStars, frameMetrics, registerToReference, type FrameStars } from '../../src/register/register.js';
import type { Mat3 } from '../../src/register/transform.js';
import { truthRmsOf, type Tf } from '../helpers/transform.js';
import { createImage, type Image } from '../../src/image/image.js';
import { backgroundMesh, interpolateMeshRect, meshMaps } from '../../src/stars/background.js';
import type { DetectOptions } from '../../src/stars/detect.js';
import { Rng } from '../../src/util/random.js';

const W = 640, H = 480;
const rot = (deg: number, dx: number, dy: number): Tf => (x, y) => {
  const c = Math.cos((deg * Math.PI) / 180), s = Math.sin((deg * Math.PI) / 180);
  const X = x - W / 2, Y = y - H / 2;
  return [c * X - s * Y + W / 2 + dx, s * X + c * Y + H / 2 + dy];
};

/** A sky field seen through `tf` (sky -> frame): Moffat seeing, slightly elongated, read and shot noise, 16-bit. */
function frame(seed: number, tf: Tf): Image {
  const rng = new Rng(seed);
  const img = createImage(W, H);
  const p = img.data[0]!;
  const sky = randomStarField(7, 2 * W, 2 * H, 1100, { fluxMin: 3000, fluxMax: 300000 }).map((s) => ({ ...s, x: s.x - W / 2, y: s.y - H / 2 }));
  renderStars(p, W, H, sky.map((s) => { const [x, y] = tf(s.x, s.y); return { x, y, flux: s.flux }; }), { kind: 'moffat', fwhm: 3.4, beta: 3, ellipticity: 0.15, angle: 25 });
  for (let i = 0; i < p.length; i++) {
    const signal = p[i]!;
    p[i] = Math.min(65535, Math.round(800 + signal + Math.sqrt(800 + signal) * rng.gauss() + 6 * rng.gauss()));
  }
  return img;
}

/** RMS over a grid of the difference between the found frame -> reference map and the truth (tf^-1). */
const truthRms = (h: Mat3, tf: Tf): number => truthRmsOf(h, tf, W, H);

const FULL: DetectOptions = { maxFit: 200, fitIsolated: false, refine: false, fitTolerance: 1e-9, bin: 1 };
const cases: [string, Tf][] = [
  ['shift', (x, y) => [x + 17.37, y - 9.61]],
  ['rotation 0.7 deg', rot(0.7, 3.3, -2.2)],
  ['rotation 180 (meridian flip)', rot(180, 4.2, -3.1)],
];
const ref = frame(1, (x, y) => [x, y]);
const frames = cases.map(([, tf], k) => frame(2 + k, tf));

for (const [label, opts] of [['fast path', {}], ['fast path, binned detection', { bin: 2 }]] as [string, DetectOptions][]) {
  test(`${label}: registration of simulated frames within 0.05 px of the truth`, () => {
    const rs = frameStars(ref, opts);
    assert.ok(rs.stars.some((s) => s.fitted) && rs.stars.some((s) => !s.fitted), 'a few stars fitted, the others refined');
    for (let k = 0; k < cases.length; k++) {
      const [name, tf] = cases[k]!;
      for (const model of ['similarity', 'homography'] as const) {
        const r = registerToReference(frameStars(frames[k]!, opts), rs, false, { model });
        assert.ok(r.ok, `${name}: ${r.reason}`);
        const e = truthRms(r.transform, tf);
        assert.ok(e < 0.05, `${name} ${model}: truth rms ${e.toFixed(4)} px`);
      }
    }
  });
}

test('fast path: median FWHM and eccentricity within 2% of the full-fit path; noise and background agree', () => {
  const rel = (a: number, b: number): number => Math.abs(a - b) / Math.abs(b);
  for (const img of [ref, frames[1]!]) {
    const full = frameMetrics('f', frameStars(img, FULL));
    for (const opts of [{}, { bin: 2 }] as DetectOptions[]) {
      const fs: FrameStars = frameStars(img, opts);
      const fast = frameMetrics('f', fs);
      assert.ok(fs.stars.filter((s) => s.fitted).length <= 50);
      assert.ok(rel(fast.fwhm, full.fwhm) < 0.02, `${JSON.stringify(opts)} fwhm ${fast.fwhm} vs ${full.fwhm}`);
      assert.ok(rel(fast.eccentricity, full.eccentricity) < 0.02, `${JSON.stringify(opts)} eccentricity ${fast.eccentricity} vs ${full.eccentricity}`);
      assert.ok(rel(fast.noise, full.noise) < 0.02, `${JSON.stringify(opts)} noise ${fast.noise} vs ${full.noise}`);
      assert.ok(Math.abs(fast.background - full.background) < 0.05 * full.noise, `${JSON.stringify(opts)} background ${fast.background} vs ${full.background}`);
      // binned detection merges pairs closer than ~5 px (deblending at half resolution)
      assert.ok(Math.abs(fast.stars - full.stars) <= (opts.bin === 2 ? 0.05 : 0.02) * full.stars, `${JSON.stringify(opts)} stars ${fast.stars} vs ${full.stars}`);
    }
  }
});

test('interpolateMeshRect fills a rectangle exactly as meshMaps', () => {
  const rng = new Rng(11);
  const w = 203, h = 157;
  const p = new Float32Array(w * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) p[y * w + x] = 100 + 0.2 * x + 0.1 * y + rng.gauss();
  const mesh = backgroundMesh(p, w, h, { box: 16 });
  const full = meshMaps(mesh, 2 * w, 2 * h, 2);
  for (const [x0, y0, x1, y1] of [[0, 0, 2 * w, 2 * h], [37, 11, 90, 64], [2 * w - 13, 2 * h - 7, 2 * w, 2 * h]] as const) {
    for (const which of ['background', 'noise'] as const) {
      const out = new Float32Array(4 * w * h);
      interpolateMeshRect(mesh, which, out, 2 * w, 2, x0, y0, x1, y1);
      for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) assert.equal(out[y * 2 * w + x], full[which][y * 2 * w + x], `${which} at ${x},${y}`);
    }
  }
});

test('binned detection: the stars of a frame do not depend on the frame detected before it (planes kept per thread)', () => {
  const first = frameStars(frames[0]!, { bin: 2 });
  // a different field, then a frame of large values everywhere, leave their content in the kept planes
  frameStars(ref, { bin: 2 });
  const bright = createImage(W, H);
  bright.data[0]!.fill(60000);
  for (let i = 0; i < bright.data[0]!.length; i += 97) bright.data[0]![i] = 65535;
  frameStars(bright, { bin: 2 });
  const again = frameStars(frames[0]!, { bin: 2 });
  assert.ok(first.stars.length > 100, `${first.stars.length} stars`);
  assert.deepEqual(again, first);
});
