/**
 * The cheaper PSF fits of registration's detection keep the measurement: Levenberg-Marquardt reports the steps it
 * took, a looser stopping tolerance (registration's 1e-6) takes fewer steps and moves centres and FWHMs by far less
 * than their noise, and the fast path's star metrics match the simulator's known seeing and the complete measurement.
 * Correctness only: no timing is asserted.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderStars, type Psf, type SimStar } from '../../src/devices/sim/stars.js';
import { fitPsf, type FitWindow } from '../../src/stars/psf.js';
import { frameStars, frameMetrics } from '../../src/register/register.js';
import { createImage, type Image } from '../../src/image/image.js';
import { Rng } from '../../src/util/random.js';

const W = 640, H = 480, SKY = 800;
// elliptical Gaussian seeing: FWHM 3.2 px along the major axis, minor 3.2 * 0.9
const PSF: Psf = { kind: 'gaussian', fwhm: 3.2, ellipticity: 0.1, angle: 30 };
const TRUE_FWHM = Math.sqrt(3.2 * 3.2 * 0.9);
const TRUE_ECC = Math.sqrt(1 - 0.9 * 0.9);

/** Stars on a grid (isolated), fluxes from 5e3 to 3e5, shot and read noise. */
function field(seed: number): { img: Image; stars: SimStar[] } {
  const rng = new Rng(seed);
  const stars: SimStar[] = [];
  for (let y = 30; y < H - 20; y += 36) for (let x = 30; x < W - 20; x += 36) {
    stars.push({ x: x + 6 * rng.uniform(), y: y + 6 * rng.uniform(), flux: 5000 * 60 ** rng.uniform() });
  }
  const img = createImage(W, H);
  const p = img.data[0]!;
  renderStars(p, W, H, stars, PSF);
  for (let i = 0; i < p.length; i++) p[i] = SKY + p[i]! + Math.sqrt(SKY + p[i]!) * rng.gauss() + 5 * rng.gauss();
  return { img, stars };
}

const median = (v: number[]): number => {
  const a = [...v].sort((x, y) => x - y);
  return a.length % 2 ? a[a.length >> 1]! : 0.5 * (a[a.length / 2 - 1]! + a[a.length / 2]!);
};

test('PSF fit: iterations are the steps taken; tolerance 1e-6 takes fewer and moves centres and FWHMs by < 1e-3', () => {
  const { img, stars } = field(5);
  const p = img.data[0]!;
  const half = 9;
  let steps9 = 0, steps6 = 0;
  const fw: number[] = [], ecc: number[] = [], err: number[] = [];
  for (const s of stars) {
    const px = Math.round(s.x), py = Math.round(s.y);
    const x0 = px - half, y0 = py - half, n = 2 * half + 1;
    const data = new Float32Array(n * n);
    for (let j = 0; j < n; j++) for (let i = 0; i < n; i++) data[j * n + i] = p[(y0 + j) * W + x0 + i]! - SKY;
    const win: FitWindow = { data, width: n, height: n, x0, y0 };
    const guess = { x: px, y: py, fwhm: 4, amplitude: data[half * n + half]! };
    const f9 = fitPsf(win, 'gaussian', guess, 3);
    const f6 = fitPsf(win, 'gaussian', guess, 3, 60, 1e-6);
    assert.ok(f9.ok && f6.ok);
    assert.ok(f9.iterations >= 2 && f9.iterations < 60, `iterations ${f9.iterations}`);
    assert.ok(f6.iterations <= f9.iterations);
    steps9 += f9.iterations; steps6 += f6.iterations;
    assert.ok(Math.hypot(f6.x - f9.x, f6.y - f9.y) < 1e-3, `centre moved by ${Math.hypot(f6.x - f9.x, f6.y - f9.y)}`);
    assert.ok(Math.abs(f6.fwhm / f9.fwhm - 1) < 1e-3, `fwhm ${f6.fwhm} vs ${f9.fwhm}`);
    assert.ok(Math.abs(f6.eccentricity - f9.eccentricity) < 2e-3, `eccentricity ${f6.eccentricity} vs ${f9.eccentricity}`);
    err.push(Math.hypot(f6.x - s.x, f6.y - s.y));
    fw.push(f6.fwhm); ecc.push(f6.eccentricity);
  }
  assert.ok(steps6 < 0.9 * steps9, `steps ${steps6} vs ${steps9}`);
  // the centres are the simulator's (pixel (x, y) is centred on x, y), to the noise of the faintest stars
  assert.ok(median(err) < 0.03 && Math.max(...err) < 0.3, `centre errors: median ${median(err)}, max ${Math.max(...err)}`);
  assert.ok(Math.abs(median(fw) / TRUE_FWHM - 1) < 0.01, `median FWHM ${median(fw)} vs ${TRUE_FWHM}`);
  assert.ok(Math.abs(median(ecc) - TRUE_ECC) < 0.02, `median eccentricity ${median(ecc)} vs ${TRUE_ECC}`);
});

test('registration fast path: median FWHM within 1% of the known seeing and of the complete measurement; same stars', () => {
  for (const seed of [7, 8]) {
    const { img } = field(seed);
    const fast = frameStars(img);
    const full = frameStars(img, { maxFit: 200, fitIsolated: false, refine: false, fitTolerance: 1e-9, bin: 1 });
    const mf = frameMetrics('f', fast), mc = frameMetrics('f', full);
    assert.ok(fast.stars.filter((s) => s.fitted).length <= 50);
    assert.ok(Math.abs(mf.fwhm / TRUE_FWHM - 1) < 0.01, `fast FWHM ${mf.fwhm} vs ${TRUE_FWHM}`);
    assert.ok(Math.abs(mf.fwhm / mc.fwhm - 1) < 0.01, `fast FWHM ${mf.fwhm} vs complete ${mc.fwhm}`);
    assert.ok(Math.abs(mf.eccentricity - TRUE_ECC) < 0.02 && Math.abs(mf.eccentricity - mc.eccentricity) < 0.02, `eccentricity ${mf.eccentricity} vs ${mc.eccentricity} (truth ${TRUE_ECC})`);
    assert.equal(mf.stars, mc.stars);
    assert.equal(mf.noise, mc.noise);
  }
});
