/**
 * Locations from the calibrated frames' IKLOCxx (docs/algorithms.md#integration): calibration writes each channel's
 * IKSS location beside its scale (IKSCALxx); with both in every frame of the set (estimator IKSS), integration takes
 * location and scale from them and reads no plane for IKSS. The calibrated frame's location stands in for the
 * registered frame's: resampling keeps the sky level and the pixels a shifted frame lacks are NaN (ignored), so the
 * normalization is the measured one within the sampling error of the sky's median (here sigma 8 ADU over ~45000
 * pixels: ~0.05 ADU), and not the calibrated frame's pixels' any more: a frame whose IKLOC00 was changed gets that.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { readFits, writeFits } from '../../src/fits/index.js';
import { renderStars, randomStarField } from '../../src/devices/sim/stars.js';
import { Rng } from '../../src/util/random.js';
import { ikss } from '../../src/image/stats.js';
import { calibrateFiles } from '../../src/calibrate/files.js';
import { registerFiles } from '../../src/register/files.js';
import { integrateFiles, normalizationCoefficients } from '../../src/integrate/index.js';
import { useTempDir } from '../helpers/env.js';
import { writePlane } from '../helpers/fits.js';

const W = 256, H = 192;
const SKY = randomStarField(17, W, H, 60, { fluxMin: 6000, fluxMax: 60000 });
const SIGMA = 8;

/** A light: sky `level` + Gaussian noise, the star field shifted by (dx, dy) px. */
function lightFrame(path: string, seed: number, level: number, dx: number, dy: number): string {
  const rng = new Rng(seed);
  const p = new Float32Array(W * H);
  for (let i = 0; i < p.length; i++) p[i] = level + SIGMA * rng.gauss();
  renderStars(p, W, H, SKY.map((s) => ({ ...s, x: s.x + dx, y: s.y + dy })), { kind: 'gaussian', fwhm: 2.8 });
  return writePlane(path, p, W, H, { bitpix: -32 });
}

/** Copies of `paths` in `dir` with each header edited by `edit`. */
function rewrite(paths: string[], dir: string, edit: (h: ReturnType<typeof readFits>['header'], i: number) => void): string[] {
  mkdirSync(dir, { recursive: true });
  return paths.map((p, i) => {
    const img = readFits(p);
    edit(img.header, i);
    const q = join(dir, `F${i}.fits`);
    writeFits(q, img, { bitpix: -32 });
    return q;
  });
}

// sky levels of the six lights and their dithers (px): sub-pixel and several pixels (NaN borders after registration)
const LEVELS = [800, 760, 845, 812, 790, 830];
const SHIFTS: [number, number][] = [[0, 0], [0.5, 0.5], [3.3, -2.7], [-6.4, 4.2], [1.7, 7.5], [-2.2, -5.9]];

test('integration takes location and scale from IKLOCxx / IKSCALxx: the measured normalization within the sky median\'s error, no IKSS of the registered planes', async (t) => {
  const dir = useTempDir(t);
  const raw = LEVELS.map((lv, i) => lightFrame(join(dir, `L${i}.fits`), 40 + i, lv, SHIFTS[i]![0], SHIFTS[i]![1]));
  const cal = await calibrateFiles(raw, raw.map((_, i) => join(dir, 'cal', `L${i}_c.fits`)), { pedestal: 0, workers: 1 });
  const calibrated = cal.frames.map((f) => (f.ok ? f.output : assert.fail(f.reason)));
  // calibration writes the IKSS location of the written plane beside its scale
  for (const p of calibrated) {
    const img = readFits(p);
    const want = ikss(img.data[0]!);
    assert.equal(img.header.getNumber('IKLOC00'), want.location);
    assert.equal(img.header.getNumber('IKSCAL00'), want.scale);
  }
  const reg = await registerFiles(calibrated, calibrated.map((_, i) => join(dir, 'reg', `L${i}_r.fits`)), { reference: calibrated[0], model: 'shift', workers: 1 });
  const registered = reg.frames.map((f) => f.output!);
  assert.equal(registered.length, LEVELS.length);
  // registration keeps IKLOC00; the shifted frames have NaN borders
  registered.forEach((p, i) => assert.equal(readFits(p).header.getNumber('IKLOC00'), readFits(calibrated[i]!).header.getNumber('IKLOC00')));
  assert.ok(readFits(registered[3]!).data[0]!.some((v) => Number.isNaN(v)), 'a frame shifted by 6 px has undefined pixels');

  const opts = { normalize: 'additive-scaling' as const, weights: 'noise' as const, workers: 1 };
  const kept = await integrateFiles(registered, opts);
  kept.frames.forEach((f, i) => {
    const h = readFits(calibrated[i]!).header;
    assert.equal(f.location, h.getNumber('IKLOC00'), `frame ${i}: location is IKLOC00`);
    assert.equal(f.scale, h.getNumber('IKSCAL00'), `frame ${i}: scale is IKSCAL00`);
  });
  assert.equal(kept.image.header.getNumber('IKLOC00'), undefined, 'the stack does not carry frame 0\'s location as its own');

  // the former way: the same registered frames without IKLOCxx, the location measured (IKSS) on the resampled planes
  const noLoc = rewrite(registered, join(dir, 'noloc'), (h) => h.delete('IKLOC00'));
  const measured = await integrateFiles(noLoc, opts);
  measured.frames.forEach((f, i) => {
    assert.equal(f.location, ikss(readFits(registered[i]!).data[0]!).location, `frame ${i}: measured on the registered plane`);
    assert.equal(f.scale, kept.frames[i]!.scale, 'the scale is still IKSCAL00');
  });
  // the same additive term b = loc0 - k loc_i within the error of a sky median: 1.2533 sigma / sqrt(N) per
  // frame, N >= 40000 finite pixels, two frames' errors and a margin of 3: 0.05 * sqrt(2) * 3 = 0.21 ADU
  const tol = 3 * Math.SQRT2 * ((1.2533 * SIGMA) / Math.sqrt(40000));
  let worst = 0;
  for (let i = 0; i < LEVELS.length; i++) {
    const a = kept.frames, b = measured.frames;
    const ck = normalizationCoefficients('additive-scaling', a[i]!.location, a[i]!.scale, a[0]!.location, a[0]!.scale);
    const cm = normalizationCoefficients('additive-scaling', b[i]!.location, b[i]!.scale, b[0]!.location, b[0]!.scale);
    assert.equal(ck.a, cm.a);
    worst = Math.max(worst, Math.abs(ck.b - cm.b));
    assert.ok(Math.abs(ck.b - cm.b) < tol, `frame ${i}: offset ${ck.b} (keywords) vs ${cm.b} (measured), tolerance ${tol.toFixed(3)}`);
    // the locations' differences are the simulated sky's (the stars' contribution aside, ~1 ADU)
    const dl = a[0]!.location - a[i]!.location;
    assert.ok(Math.abs(dl - (LEVELS[0]! - LEVELS[i]!)) < 1, `frame ${i}: location difference ${dl} vs sky difference ${LEVELS[0]! - LEVELS[i]!}`);
  }
  // the stacks agree to well under the noise of the result (sigma 8 / sqrt(6) = 3.3 ADU)
  const pa = kept.image.data[0]!, pb = measured.image.data[0]!;
  let maxd = 0;
  for (let k = 0; k < pa.length; k++) if (Number.isFinite(pa[k]!) && Number.isFinite(pb[k]!)) maxd = Math.max(maxd, Math.abs(pa[k]! - pb[k]!));
  assert.ok(maxd < tol, `stacks differ by up to ${maxd} ADU`);
  t.diagnostic(`offsets keywords vs measured: max |db| ${worst.toFixed(4)} ADU (tolerance ${tol.toFixed(3)}); stacks max |d| ${maxd.toFixed(4)} ADU`);

  // no IKSS of the registered plane: a frame whose IKLOC00 says 50 ADU more gets exactly that location (and the offset follows)
  const edited = rewrite(registered, join(dir, 'edited'), (h, i) => {
    if (i === 2) h.set('IKLOC00', h.getNumber('IKLOC00')! + 50, 'edited', { float: true });
  });
  const fake = await integrateFiles(edited, opts);
  assert.equal(fake.frames[2]!.location, kept.frames[2]!.location + 50);
  // on the worker pool too (the per-frame statistics as tasks)
  const pooled = await integrateFiles(edited, { ...opts, workers: 2 });
  assert.deepEqual(pooled.frames.map((f) => f.location), fake.frames.map((f) => f.location));

  // a set where one frame lacks IKLOC00 is measured whole (no mix of calibrated and resampled locations)
  const mixed = await integrateFiles([noLoc[0]!, ...registered.slice(1)], opts);
  assert.deepEqual(mixed.frames.map((f) => f.location), measured.frames.map((f) => f.location));
  // the median/MAD estimator never uses the IKSS keywords
  const mad = await integrateFiles(registered, { ...opts, estimator: 'mad' });
  assert.notEqual(mad.frames[1]!.location, kept.frames[1]!.location);
});
