/**
 * The frame history's cheap metrics: a 2048 px frame is measured on a 2x2-binned plane, a 3072 px one on
 * 3x3; the HFR comes back in the frame's pixels and agrees with the full-resolution measurement (and the
 * analytic FWHM / 2 of the rendered Gaussian stars), the star count with the stars rendered, the
 * background with the sky level.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createImage } from '../../../src/image/image.js';
import { renderStars } from '../../../src/devices/sim/stars.js';
import { Rng } from '../../../src/util/random.js';
import { measureImage } from '../../../src/stars/metrics.js';
import { blockMean, FrameHistory, quickMetrics, thumbnail } from '../../../src/server/runners/history.js';

function frame(w: number, h: number, fwhm: number) {
  const img = createImage(w, h, 1);
  const rng = new Rng(5);
  const stars = [];
  // a grid of 48 well separated stars, peak far above the noise
  for (let j = 0; j < 6; j++) for (let i = 0; i < 8; i++) stars.push({ x: 60 + (i * w) / 8.5 + 20 * rng.uniform(), y: 60 + (j * h) / 6.5 + 20 * rng.uniform(), flux: 2e5 * (1 + rng.uniform()) });
  const d = img.data[0]!;
  renderStars(d, w, h, stars, { kind: 'gaussian', fwhm });
  for (let k = 0; k < d.length; k++) d[k] = d[k]! + 500 + 5 * rng.gauss();
  img.header.set('EXPTIME', 30);
  img.header.set('CCD-TEMP', -10.5);
  return { img, stars };
}

test('quickMetrics: 2048 and 3072 px frames are measured 2x2 and 3x3-binned; HFR in frame pixels within 3% of the full-resolution measurement, every star, background 500', () => {
  for (const [w, h, fwhm, bin] of [[2048, 1536, 4, 2], [2048, 1536, 8, 2], [3072, 2048, 6, 3]] as const) {
    const { img, stars } = frame(w, h, fwhm);
    const m = quickMetrics(img);
    const full = measureImage('', img);
    assert.equal(m.bin, bin);
    assert.equal(m.stars, stars.length);
    assert.equal(full.stars, stars.length);
    assert.ok(Math.abs(m.hfr! - full.hfr) / full.hfr < 0.03, `FWHM ${fwhm}, bin ${bin}: HFR ${m.hfr} vs ${full.hfr} at full resolution`);
    // the detector's own HFR of a Gaussian runs a few % above the analytic FWHM / 2
    assert.ok(Math.abs(m.hfr! - fwhm / 2) / (fwhm / 2) < 0.12, `FWHM ${fwhm}: HFR ${m.hfr} vs ${fwhm / 2}`);
    assert.ok(Math.abs(m.background - 500) < 2, `background ${m.background}`);
  }
});

test('blockMean: means of f x f blocks, partial edge blocks over what they hold, NaN left out', () => {
  const p = Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, NaN, 12]);
  const b = blockMean(p, 4, 3, 2);
  assert.deepEqual([b.width, b.height], [2, 2]);
  assert.deepEqual(Array.from(b.plane), [(1 + 2 + 5 + 6) / 4, (3 + 4 + 7 + 8) / 4, (9 + 10) / 2, 12]);
});

test('FrameHistory: an image event becomes a record (exposure, temperature from the header, guide RMS) and a 96 px thumbnail', async () => {
  const { img } = frame(2048, 1536, 8);
  const events: any[] = [];
  const h = new FrameHistory({ image: () => img, temperature: () => 3, guideRms: () => 0.7, emit: (e) => events.push(e) });
  h.onEvent({ type: 'image', id: 7, source: 'sequence' });
  h.onEvent({ type: 'exposure', id: 8 });
  await h.settled();
  const [r] = h.list();
  assert.deepEqual([r!.id, r!.source, r!.exposure, r!.temperature, r!.guideRms, h.list().length], [7, 'sequence', 30, -10.5, 0.7, 1]);
  assert.deepEqual(events.map((e) => [e.type, e.frame.id]), [['frame', 7]]);
  const png = h.thumb(7)!;
  assert.deepEqual([png.readUInt32BE(16), png.readUInt32BE(20)], [Math.ceil(2048 / 22), Math.ceil(1536 / 22)]);
  assert.deepEqual(thumbnail(img), png);
});
