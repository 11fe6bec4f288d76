/**
 * Noise weights from the calibrated frames' NOISExx (docs/algorithms.md#integration): two groups of frames
 * with known noise (sigma 8 and 12 ADU), registered with sub-pixel shifts of 0 and 0.5 px (Lanczos-3
 * smooths the shifted frames' pixel noise to ~0.8 of its value). With the keywords the weights follow the
 * true noise ratio (12/8)^2; measured on the resampled frames (the keywords removed) they do not. The same for the
 * scales of additive + scaling normalization (IKSCALxx: the calibrated frames' IKSS scale, here the noise, ratio 12/8).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { readFits, writeFits } from '../../src/fits/index.js';
import { renderStars, randomStarField } from '../../src/devices/sim/stars.js';
import { Rng } from '../../src/util/random.js';
import { calibrateFiles } from '../../src/calibrate/files.js';
import { registerFiles } from '../../src/register/files.js';
import { integrateFiles } from '../../src/integrate/index.js';
import { dropNoiseKeywords } from '../../src/image/noise-keywords.js';
import { useTempDir } from '../helpers/env.js';
import { writePlane } from '../helpers/fits.js';

const W = 256, H = 192;
const SKY = randomStarField(11, W, H, 60, { fluxMin: 6000, fluxMax: 60000 });

/** A light: sky 800 + Gaussian noise sigma, the star field shifted by (d, d) px. */
function lightFrame(path: string, seed: number, sigma: number, d: number): string {
  const rng = new Rng(seed);
  const p = new Float32Array(W * H);
  for (let i = 0; i < p.length; i++) p[i] = 800 + sigma * rng.gauss();
  renderStars(p, W, H, SKY.map((s) => ({ ...s, x: s.x + d, y: s.y + d })), { kind: 'gaussian', fwhm: 2.8 });
  return writePlane(path, p, W, H, { bitpix: -32 });
}

const SIGMA_A = 8, SIGMA_B = 12;
const groupMean = (w: number[], idx: number[]): number => idx.reduce((s, i) => s + w[i]!, 0) / idx.length;

test('noise weights: NOISExx of the calibrated frames follow the true noise ratio across sub-pixel shifts; the resampled frames\' noise does not', async (t) => {
  const dir = useTempDir(t);
  // frames 0-3: sigma 8, no shift (0 is the reference); frames 4-7: sigma 12, shifted by 0.5 px in x and y
  const raw = Array.from({ length: 8 }, (_, i) => lightFrame(join(dir, `L${i}.fits`), 100 + i, i < 4 ? SIGMA_A : SIGMA_B, i < 4 ? 0 : 0.5));
  const cal = await calibrateFiles(raw, raw.map((_, i) => join(dir, 'cal', `L${i}_c.fits`)), { pedestal: 0, workers: 1 });
  const calibrated = cal.frames.map((f) => (f.ok ? f.output : assert.fail(f.reason)));
  const reg = await registerFiles(calibrated, calibrated.map((_, i) => join(dir, 'reg', `L${i}_r.fits`)), { reference: calibrated[0], model: 'shift', workers: 1 });
  const registered = reg.frames.map((f) => f.output!);
  assert.equal(registered.length, 8);
  for (let i = 4; i < 8; i++) assert.ok(Math.abs(reg.frames[i]!.dx! + 0.5) < 0.05 && Math.abs(reg.frames[i]!.dy! + 0.5) < 0.05, `frame ${i} dx ${reg.frames[i]!.dx} dy ${reg.frames[i]!.dy}`);

  const A = [0, 1, 2, 3], B = [4, 5, 6, 7];
  const truth = (SIGMA_B / SIGMA_A) ** 2; // 2.25
  const opts = { normalize: 'additive' as const, weights: 'noise' as const, workers: 1 };
  const kept = await integrateFiles(registered, opts);
  // the per-frame noise is the calibrated frame's keyword, not a measurement of the resampled frame
  kept.frames.forEach((f, i) => assert.equal(f.noise, readFits(calibrated[i]!).header.getNumber('NOISE00')));
  const ratioKept = groupMean(kept.frames.map((f) => f.weight), A) / groupMean(kept.frames.map((f) => f.weight), B);
  assert.ok(Math.abs(ratioKept / truth - 1) < 0.02, `weights A/B ${ratioKept.toFixed(4)} vs true ${truth}`);
  // the stack's header does not carry frame 0's noise as its own
  assert.equal(kept.image.header.getNumber('NOISE00'), undefined);
  assert.equal(kept.image.header.getNumber('IKSCAL00'), undefined);
  // additive + scaling (the default): the scales are the calibrated frames' IKSS (IKSCAL00), in the true ratio 12/8
  const scaled = await integrateFiles(registered, { weights: 'noise', workers: 1 });
  scaled.frames.forEach((f, i) => assert.equal(f.scale, readFits(calibrated[i]!).header.getNumber('IKSCAL00')));
  const scaleOf = (r: typeof scaled, idx: number[]): number => groupMean(r.frames.map((f) => f.scale), idx);
  const scaleKept = scaleOf(scaled, B) / scaleOf(scaled, A);
  assert.ok(Math.abs(scaleKept / (SIGMA_B / SIGMA_A) - 1) < 0.02, `scales B/A ${scaleKept.toFixed(4)} vs true ${SIGMA_B / SIGMA_A}`);

  // the former behaviour: the same registered frames without the keywords, the noise measured after resampling
  mkdirSync(join(dir, 'stripped'));
  const stripped = registered.map((p, i) => {
    const img = readFits(p);
    dropNoiseKeywords(img.header);
    const q = join(dir, 'stripped', `L${i}_r.fits`);
    writeFits(q, img, { bitpix: -32 });
    return q;
  });
  const measured = await integrateFiles(stripped, opts);
  const ratioMeasured = groupMean(measured.frames.map((f) => f.weight), A) / groupMean(measured.frames.map((f) => f.weight), B);
  assert.ok(ratioMeasured / truth < 0.8, `measured on the resampled frames: weights A/B ${ratioMeasured.toFixed(4)} (true ${truth}): the shifted frames look less noisy`);
  // a set where one frame lacks the keywords is measured whole (no mix of calibrated and resampled estimates)
  const mixed = await integrateFiles([stripped[0]!, ...registered.slice(1)], opts);
  assert.deepEqual(mixed.frames.map((f) => f.noise), measured.frames.map((f) => f.noise));
  const scaledMeasured = await integrateFiles(stripped, { weights: 'noise', workers: 1 });
  const scaleMeasured = scaleOf(scaledMeasured, B) / scaleOf(scaledMeasured, A);
  assert.ok(scaleMeasured / (SIGMA_B / SIGMA_A) < 0.9, `measured on the resampled frames: scales B/A ${scaleMeasured.toFixed(4)} (true ${SIGMA_B / SIGMA_A})`);
  t.diagnostic(`weights A/B: keywords ${ratioKept.toFixed(4)}, measured ${ratioMeasured.toFixed(4)}, true ${truth}; scales B/A: keywords ${scaleKept.toFixed(4)}, measured ${scaleMeasured.toFixed(4)}, true ${SIGMA_B / SIGMA_A}`);
});
