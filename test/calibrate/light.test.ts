import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFits } from '../../src/fits/index.js';
import { calibrateLight, defectsFromDark, repairDefects, autoPedestal } from '../../src/calibrate/index.js';
import { mean, median, madStd } from '../../src/image/stats.js';
import { fileTempDir, fitsverify, useTempDir } from '../helpers/env.js';
import { writeFits } from '../../src/fits/index.js';
import { join } from 'node:path';
import { night, blockResiduals, truthOf, sensorModel } from './night.js';


const SKY = 5; // e-/s/pixel

describe('CCD: calibrated light equals the truth (sky * t / gain + stars)', () => {
  const dir = fileTempDir();
  const sensor = sensorModel('kaf8300', { width: 256, height: 192, dustCount: 3, vignetting: 0.3 });
  const skyAdu = (SKY * 300) / sensor.gain;
  let n: Awaited<ReturnType<typeof night>>;
  const reports: ReturnType<typeof calibrateLight>['report'][] = [];
  let A: Float32Array;
  let T: Float32Array;
  let accNoFlat: Float64Array;
  let resid: Float64Array;
  before(async () => {
    n = await night(dir, { sensor, seed: 7, bias: 8, darks: 8, flats: 8, lights: 2, lightExposure: 300, ccdTemp: 0, sky: SKY, starCount: 25 });
    const acc = new Float64Array(256 * 192);
    const accTruth = new Float64Array(256 * 192);
    accNoFlat = new Float64Array(256 * 192);
    for (let i = 0; i < 2; i++) {
      const L = readFits(n.ses.lights[i]!);
      const r = calibrateLight(L, n.ses.lights[i]!, { dark: n.dark, flat: n.flat, darkMode: 'plain' });
      reports.push(r.report);
      const nf = calibrateLight(L, n.ses.lights[i]!, { dark: n.dark, darkMode: 'plain' });
      const t = truthOf(n.ses, i);
      const C = r.image.data[0]!;
      for (let j = 0; j < acc.length; j++) {
        acc[j] = acc[j]! + C[j]! / 2;
        accTruth[j] = accTruth[j]! + t[j]! / 2;
        accNoFlat[j] = accNoFlat[j]! + nf.image.data[0]![j]! / 2;
      }
    }
    A = Float32Array.from(acc);
    T = Float32Array.from(accTruth);
    resid = new Float64Array(A.length);
    for (let j = 0; j < A.length; j++) resid[j] = A[j]! - T[j]!;
  });

  test('master headers; the master dark is never bias-subtracted', () => {
    const mb = n.bias.image.header;
    assert.equal(mb.getString('IMAGETYP'), 'Master Bias');
    assert.equal(mb.getNumber('NCOMBINE'), 8);
    assert.equal(n.dark.image.header.getString('IMAGETYP'), 'Master Dark');
    assert.equal(n.dark.image.header.getNumber('EXPTIME'), 300);
    assert.ok(Math.abs(n.dark.image.header.getNumber('CCD-TEMP')!) < 0.2);
    assert.equal(n.flat.image.header.getString('IMAGETYP'), 'Master Flat');
    assert.equal(n.flat.image.header.getString('FILTER'), 'Luminance');
    assert.equal(fitsverify(n.paths.flat).errors, 0);
    assert.ok(n.flat.image.header.history().some((h) => h.includes('minus master bias')));
    // the master dark is never bias-subtracted: its mean is the bias level plus dark current
    assert.ok(mean(n.dark.image.data[0]!) > mean(n.bias.image.data[0]!));
  });

  test('each light: plain mode, no warnings, the flat normalised by its mean, noise as expected', () => {
    assert.equal(reports.length, 2);
    for (const report of reports) {
      assert.equal(report.mode, 'plain');
      assert.equal(report.warnings.length, 0, report.warnings.join('; '));
      assert.ok(Math.abs(report.s0![0]! - mean(n.flat.image.data[0]!)) < 1e-3 * report.s0![0]!);
      // noise: sky shot noise + read noise + dark noise in ADU
      const expect = Math.sqrt(SKY * 300 + sensor.readNoise ** 2) / sensor.gain;
      assert.ok(report.noise > 0.9 * expect && report.noise < 1.3 * expect, `noise ${report.noise} vs ~${expect}`);
    }
  });

  test('the calibrated level equals the truth within noise', () => {
    assert.ok(Math.abs(median(resid)) < 0.003 * skyAdu, `median residual ${median(resid)} ADU (sky ${skyAdu})`);
  });

  test('vignetting and dust residual < 0.5% of the sky; without the flat the vignetting is plainly there', () => {
    // flat field residual on 32x32 blocks (vignetting 30%, dust donuts 3-8%) below 0.5% of the sky
    const blocks = blockResiduals(A, T, 256, 192, 32, skyAdu);
    const worst = Math.max(...blocks.map(Math.abs));
    assert.ok(worst < 0.005, `worst block residual ${(worst * 100).toFixed(3)}% of the sky`);
    // and without the flat the vignetting is plainly there (the test can fail)
    const nfBlocks = blockResiduals(Float32Array.from(accNoFlat), T, 256, 192, 32, skyAdu);
    assert.ok(Math.max(...nfBlocks.map(Math.abs)) > 0.1, 'vignetting visible without flat');
  });

  test('hot pixels: corrected by the dark (their residual is noise-like), and found in the master dark', () => {
    const hot = n.ses.camera.hotPixels.filter((p) => p.factor > 50);
    assert.ok(hot.length > 3);
    const s = madStd(resid);
    const raw = readFits(n.ses.lights[0]!).data[0]!;
    let bad = 0;
    for (const p of hot) {
      const j = p.y * 256 + p.x;
      if (Math.abs(A[j]! - T[j]!) > 6 * s) bad++;
      assert.ok(raw[j]! - mean(n.bias.image.data[0]!) - T[j]! > 10 * s || p.factor < 100, 'hot pixel stands out in the raw light');
    }
    assert.ok(bad <= Math.ceil(0.1 * hot.length), `${bad} of ${hot.length} hot pixels left`);
    const dm = defectsFromDark(n.dark.image.data[0]!, 256, 192);
    const found = hot.filter((p) => dm.mask[p.y * 256 + p.x]).length;
    assert.ok(found >= 0.9 * hot.length, `found ${found} of ${hot.length} hot pixels in the master dark`);
  });
});

test('light calibration writes float with HISTORY; truncation after the pedestal; auto pedestal', async (t) => {
  const d = useTempDir(t);
  const sensor = sensorModel('kaf8300', { width: 128, height: 96 });
  const n = await night(d, { sensor, seed: 2, bias: 5, darks: 5, flats: 5, lights: 1, lightExposure: 30, ccdTemp: -10, sky: 0.2 });
  const L = readFits(n.ses.lights[0]!);
  const r0 = calibrateLight(L, 'L.fits', { dark: n.dark, flat: n.flat, darkMode: 'plain' });
  assert.ok(r0.report.clippedPct > 1, `faint sky clips: ${r0.report.clippedPct}%`);
  assert.ok(r0.report.warnings.some((w) => /clipped at zero.*pedestal/.test(w)));
  const r1 = calibrateLight(L, 'L.fits', { dark: n.dark, flat: n.flat, darkMode: 'plain', pedestal: 'auto' });
  assert.ok(r1.report.pedestal > 0 && r1.report.pedestal % 10 === 0);
  assert.ok(r1.report.clippedPct < 0.1, `${r1.report.clippedPct}%`);
  // 10 ADU less would clip 0.1% or more: the smallest such pedestal
  const r2 = calibrateLight(L, 'L.fits', { dark: n.dark, flat: n.flat, darkMode: 'plain', pedestal: r1.report.pedestal - 10 });
  assert.ok(r2.report.clippedPct >= 0.1, `pedestal - 10 clips ${r2.report.clippedPct}%`);
  // the pedestal shifts every unclipped pixel exactly
  const a = r0.image.data[0]!, b = r1.image.data[0]!;
  for (let i = 0; i < a.length; i++) if (a[i]! > 0) assert.ok(Math.abs(b[i]! - a[i]! - r1.report.pedestal) < 1e-3);
  const out = join(d, 'L_c.fits');
  writeFits(out, r1.image, { history: r1.history });
  const back = readFits(out);
  assert.equal(back.header.getNumber('PEDESTAL'), r1.report.pedestal);
  assert.ok(back.header.history().some((h) => h.includes('master dark')));
  assert.equal(fitsverify(out).errors, 0);
  // the input image is untouched
  assert.deepEqual(L.data[0], readFits(n.ses.lights[0]!).data[0]);
  // autoPedestal on known data: 10,000 values, 9 at -1000 and one at -37 (10 = 0.1%, not under):
  // 37 would leave 9 clipped (0.09%), rounded up to 40
  const v = new Float32Array(10000).fill(5);
  for (let i = 0; i < 9; i++) v[i] = -1000;
  v[100] = -37;
  assert.equal(autoPedestal(v), 40);
  v[100] = 5; // 9 clipped without pedestal = 0.09%: none needed
  assert.equal(autoPedestal(v), 0);
  assert.equal(autoPedestal(new Float32Array(100).fill(3)), 0);
});

test('dark optimization recovers k0 within 2% with a dark twice as long; exposure scaling gives t_light / t_dark', async (t) => {
  const sensor = sensorModel('kaf8300', { width: 256, height: 192, hotPixelFraction: 0.002 });
  const n = await night(useTempDir(t), { sensor, seed: 4, bias: 8, darks: 8, flats: 5, lights: 2, lightExposure: 300, darkExposure: 600, ccdTemp: 5, sky: SKY });
  for (let i = 0; i < 2; i++) {
    const L = readFits(n.ses.lights[i]!);
    const r = calibrateLight(L, n.ses.lights[i]!, { bias: n.bias, dark: n.dark, flat: n.flat, darkMode: 'optimize' });
    assert.equal(r.report.mode, 'optimize');
    assert.ok(Math.abs(r.report.k0! / 0.5 - 1) < 0.02, `k0 = ${r.report.k0}`);
    assert.equal(r.image.header.getNumber('DARKSCAL'), Number(r.report.k0!.toFixed(6)));
    // automatic selection: bias given and exposures differ -> optimization
    const auto = calibrateLight(L, n.ses.lights[i]!, { bias: n.bias, dark: n.dark, flat: n.flat });
    assert.equal(auto.report.mode, 'optimize');
    const e = calibrateLight(L, n.ses.lights[i]!, { bias: n.bias, dark: n.dark, flat: n.flat, darkMode: 'exposure' });
    assert.equal(e.report.k0, 0.5);
    // plain form with a dark of another exposure: warned
    const p = calibrateLight(L, n.ses.lights[i]!, { dark: n.dark, flat: n.flat });
    assert.equal(p.report.mode, 'plain');
    assert.ok(p.report.warnings.some((w) => /EXPTIME 600 s but the light 300 s/.test(w)));
  }
});

test('CMOS-like data: auto pedestal keeps clipping under 0.1%; dark scaling refused (black-level clamp) unless forced', async (t) => {
  const sensor = sensorModel('cmos', { width: 192, height: 128 });
  const n = await night(useTempDir(t), { sensor, seed: 9, bias: 8, darks: 8, flats: 6, lights: 1, lightExposure: 120, ccdTemp: 0, sky: 0.5 });
  assert.ok(mean(n.dark.image.data[0]!) <= mean(n.bias.image.data[0]!), 'clamped dark not brighter than bias');
  const L = readFits(n.ses.lights[0]!);
  const plain = calibrateLight(L, 'L.fits', { dark: n.dark, flat: n.flat, pedestal: 'auto' });
  assert.equal(plain.report.mode, 'plain');
  assert.ok(plain.report.clippedPct < 0.1, `clipped ${plain.report.clippedPct}%`);
  const truth = truthOf(n.ses, 0);
  const res = new Float64Array(truth.length);
  for (let i = 0; i < res.length; i++) res[i] = plain.image.data[0]![i]! - plain.report.pedestal - truth[i]!;
  const skyAdu = (0.5 * 120) / sensor.gain;
  assert.ok(Math.abs(median(res)) < 0.02 * skyAdu, `CMOS residual ${median(res)} of sky ${skyAdu}`);
  // if the dark were bias-subtracted (MD - MB) and scaled, half the pixels would be wrong: refused
  assert.throws(() => calibrateLight(L, 'L.fits', { bias: n.bias, dark: n.dark, flat: n.flat, darkMode: 'optimize' }), /not brighter than master bias.*black-level clamping.*--force/);
  assert.throws(() => calibrateLight(L, 'L.fits', { bias: n.bias, dark: n.dark, flat: n.flat, darkMode: 'exposure' }), /not brighter than master bias/);
  const forced = calibrateLight(L, 'L.fits', { bias: n.bias, dark: n.dark, flat: n.flat, darkMode: 'exposure', force: true });
  assert.ok(forced.report.warnings.some((w) => /forced dark scaling/.test(w)));
  // automatic mode with bias: falls back to the plain form and says why
  const auto = calibrateLight(L, 'L.fits', { bias: n.bias, dark: n.dark, flat: n.flat });
  assert.equal(auto.report.mode, 'plain');
  void repairDefects;
});
