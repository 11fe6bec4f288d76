import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createCamera, simulateFrame, sensorModel, darkCurrentAt, simulateSession } from '../../src/devices/sim/index.js';
import { readFits } from '../../src/fits/index.js';
import { median, mean, stdev } from '../../src/image/stats.js';
import { fitsverify, tempDir } from '../helpers/env.js';

const SMALL = { width: 256, height: 192 };

function diff(a: Float32Array, b: Float32Array): Float64Array {
  const d = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) d[i] = a[i]! - b[i]!;
  return d;
}
function add(a: Float32Array, b: Float32Array): number {
  return mean(a) + mean(b);
}

test('bias: read noise and level match the sensor (sigma(B1-B2)/sqrt 2)', () => {
  for (const id of ['kaf8300', 'kaf1603', 'cmos']) {
    const s = sensorModel(id, SMALL);
    const cam = createCamera(s, 11);
    const b1 = simulateFrame(cam, { kind: 'bias', exposure: 0, ccdTemp: -10, seed: 1 }).image.data[0]!;
    const b2 = simulateFrame(cam, { kind: 'bias', exposure: 0, ccdTemp: -10, seed: 2 }).image.data[0]!;
    const rn = stdev(diff(b1, b2)) / Math.SQRT2;
    const expected = Math.sqrt((s.readNoise / s.gain) ** 2 + 1 / 12); // + quantization
    assert.ok(Math.abs(rn / expected - 1) < 0.03, `${id}: read noise ${rn} ADU, expected ${expected}`);
    assert.ok(Math.abs(mean(b1) - s.biasLevel) < 1, `${id}: bias level ${mean(b1)} vs ${s.biasLevel}`);
    // column structure: the camera's bias pattern has column offsets of about biasColumnRms, and the
    // column means of a bias frame follow them (plus read noise / sqrt(height))
    const colMeans = (a: Float32Array): Float64Array => {
      const m = new Float64Array(s.width);
      for (let x = 0; x < s.width; x++) {
        let acc = 0;
        for (let y = 0; y < s.height; y++) acc += a[y * s.width + x]!;
        m[x] = acc / s.height;
      }
      return m;
    };
    const cf = colMeans(b1);
    const ci = colMeans(cam.bias);
    assert.ok(Math.abs(stdev(ci) / s.biasColumnRms - 1) < 0.25, `${id}: column structure ${stdev(ci)} vs ${s.biasColumnRms}`);
    const resid = stdev(diff(Float32Array.from(cf), Float32Array.from(ci)));
    const expectResid = Math.sqrt(expected ** 2 / s.height);
    assert.ok(Math.abs(resid / expectResid - 1) < 0.2, `${id}: column means follow the pattern: residual ${resid} vs ${expectResid}`);
  }
});

test('flats: photon-transfer gain matches the configured gain (Janesick)', () => {
  for (const id of ['kaf8300', 'kaf1603']) {
    const s = sensorModel(id, SMALL);
    const cam = createCamera(s, 5);
    const f = (seed: number) => simulateFrame(cam, { kind: 'flat', exposure: 1, ccdTemp: -10, seed }).image.data[0]!;
    const b = (seed: number) => simulateFrame(cam, { kind: 'bias', exposure: 0, ccdTemp: -10, seed }).image.data[0]!;
    const F1 = f(1), F2 = f(2), B1 = b(3), B2 = b(4);
    const g = (add(F1, F2) - add(B1, B2)) / (stdev(diff(F1, F2)) ** 2 - stdev(diff(B1, B2)) ** 2);
    assert.ok(Math.abs(g / s.gain - 1) < 0.04, `${id}: measured gain ${g}, configured ${s.gain}`);
    const level = mean(F1) - mean(B1);
    assert.ok(level > 20000 && level < 40000, `${id}: flat level ${level} ADU`);
  }
});

test('saturation: full well (gain 1 e-/ADU) and the 16-bit ADC limit', () => {
  const s = sensorModel('kaf8300', { ...SMALL, gain: 1, vignetting: 0, dustCount: 0, coldPixelFraction: 0 });
  const cam = createCamera(s, 3);
  const f = simulateFrame(cam, { kind: 'flat', exposure: 1, ccdTemp: -10, seed: 1, flatLevel: 60000 }).image.data[0]!;
  const m = median(f);
  // saturated at bias + 25500 e- / 1 e-/ADU, read noise on top
  assert.ok(Math.abs(m - (s.biasLevel + s.fullWell)) < 3, `saturated median ${m}`);
  const s2 = sensorModel('kaf1603', SMALL); // 100k e- / 1.5 = 66,667 ADU > 65535: ADC limit
  const f2 = simulateFrame(createCamera(s2, 3), { kind: 'flat', exposure: 1, ccdTemp: -10, seed: 1, flatLevel: 90000 }).image.data[0]!;
  assert.equal(median(f2), 65535);
  let allInt = true;
  for (let i = 0; i < f2.length; i++) if (!Number.isInteger(f2[i]!) || f2[i]! < 0 || f2[i]! > 65535) allInt = false;
  assert.ok(allInt, '16-bit quantization');
});

test('dark current doubles every 6.3 C (two temperatures 6.3 C apart: 2x within 5%)', () => {
  const s = sensorModel('kaf8300', { ...SMALL, cosmicRate: 0 });
  const cam = createCamera(s, 21);
  const level = (T: number): number => {
    const acc = new Float64Array(s.width * s.height);
    for (let k = 0; k < 4; k++) {
      const d = simulateFrame(cam, { kind: 'dark', exposure: 600, ccdTemp: T, seed: 100 + k + T * 10 }).image.data[0]!;
      const b = simulateFrame(cam, { kind: 'bias', exposure: 0, ccdTemp: T, seed: 200 + k + T * 10 }).image.data[0]!;
      for (let i = 0; i < acc.length; i++) acc[i] = acc[i]! + (d[i]! - b[i]!) / 4;
    }
    return median(acc);
  };
  const lo = level(5);
  const hi = level(11.3);
  assert.ok(Math.abs(hi / lo / 2 - 1) < 0.05, `dark ${lo} -> ${hi} ADU, ratio ${hi / lo}`);
  // and the absolute level is Dc(T) * t / gain (median of a DSNU map ~ 1)
  const expect = (darkCurrentAt(s, 11.3) * 600) / s.gain;
  assert.ok(Math.abs(hi / expect - 1) < 0.05, `dark level ${hi} vs ${expect}`);
});

test('hot pixels, amp glow and cosmic rays show in darks; CMOS clamp keeps darks as dark as bias', () => {
  const s = sensorModel('cmos', { ...SMALL, cosmicRate: 0 });
  const cam = createCamera(s, 8);
  assert.ok(cam.hotPixels.length > 5);
  const d = simulateFrame(cam, { kind: 'dark', exposure: 300, ccdTemp: 10, seed: 1 });
  const b = simulateFrame(cam, { kind: 'bias', exposure: 0, ccdTemp: 10, seed: 2 });
  const D = d.image.data[0]!, B = b.image.data[0]!;
  assert.ok(mean(D) <= mean(B) + 0.5, `clamped dark mean ${mean(D)} vs bias ${mean(B)}`);
  const hp = cam.hotPixels[0]!;
  const i = hp.y * s.width + hp.x;
  assert.ok(D[i]! - B[i]! > 10, 'hot pixel stands out');
  // amp glow: corner (w-1, 0) brighter than the opposite corner
  const corner = (x0: number, y0: number): number => {
    const v: number[] = [];
    for (let y = y0; y < y0 + 8; y++) for (let x = x0; x < x0 + 8; x++) v.push(D[y * s.width + x]! - B[y * s.width + x]!);
    return median(v);
  };
  assert.ok(corner(s.width - 8, 0) - corner(0, s.height - 8) > 20, 'amp glow in the corner');
  assert.equal(d.truth.cosmicHits.length, 0);
  const cr = simulateFrame(createCamera({ ...s, cosmicRate: 20 }, 8), { kind: 'dark', exposure: 300, ccdTemp: 10, seed: 1 });
  assert.ok(cr.truth.cosmicHits.length > 0, 'cosmic rays in darks');
  const ch = cr.truth.cosmicHits[0]!;
  assert.ok(cr.image.data[0]![ch.y * s.width + ch.x]! - B[ch.y * s.width + ch.x]! > 300, 'cosmic ray deposit');
  // CCD: no clamp, dark above bias
  const s2 = sensorModel('kaf8300', SMALL);
  const cam2 = createCamera(s2, 8);
  const d2 = simulateFrame(cam2, { kind: 'dark', exposure: 300, ccdTemp: 15, seed: 1 }).image.data[0]!;
  const b2 = simulateFrame(cam2, { kind: 'bias', exposure: 0, ccdTemp: 15, seed: 2 }).image.data[0]!;
  assert.ok(mean(d2) - mean(b2) > 5, 'CCD dark above bias');
});

test('lights: truth is sky * exposure / gain plus stars; the frame follows bias + dark + flat * signal', () => {
  const s = sensorModel('kaf8300', { ...SMALL, cosmicRate: 0 });
  const cam = createCamera(s, 4);
  const stars = [{ x: 100, y: 80, flux: 100 }];
  const fr = simulateFrame(cam, { kind: 'light', exposure: 120, ccdTemp: -10, seed: 9, sky: 3, stars, psf: { kind: 'gaussian', fwhm: 3 } });
  const sig = fr.truth.signal;
  const skyAdu = (3 * 120) / s.gain;
  assert.ok(Math.abs(sig[0]! - skyAdu) < 1e-3);
  let total = 0;
  for (let i = 0; i < sig.length; i++) total += sig[i]! - skyAdu;
  assert.ok(Math.abs(total - (100 * 120) / s.gain) / ((100 * 120) / s.gain) < 0.01, `star flux ${total}`);
  // expected raw = bias + (flat * signal * gain + dark) / gain: average over a block agrees
  const L = fr.image.data[0]!;
  let r = 0, e = 0;
  for (let y = 10; y < 60; y++) for (let x = 10; x < 60; x++) {
    const i = y * s.width + x;
    r += L[i]!;
    e += cam.bias[i]! + cam.flat[i]! * sig[i]! + (fr.truth.darkCurrent[i]! * 120) / s.gain;
  }
  assert.ok(Math.abs(r - e) / 2500 < 2, `block mean ${r / 2500} vs ${e / 2500}`);
  // deterministic from the seed
  const again = simulateFrame(cam, { kind: 'light', exposure: 120, ccdTemp: -10, seed: 9, sky: 3, stars, psf: { kind: 'gaussian', fwhm: 3 } });
  assert.deepEqual(again.image.data[0], L);
  const other = simulateFrame(cam, { kind: 'light', exposure: 120, ccdTemp: -10, seed: 10, sky: 3, stars, psf: { kind: 'gaussian', fwhm: 3 } });
  assert.notDeepEqual(other.image.data[0], L);
});

test('binning sums charge: 2x2 binned flat has 4x the signal of one pixel, half the size', () => {
  const s = sensorModel('kaf1603', { ...SMALL, vignetting: 0, dustCount: 0 });
  const cam = createCamera(s, 2);
  const b1 = simulateFrame(cam, { kind: 'light', exposure: 10, ccdTemp: -10, seed: 1, sky: 100 });
  const b2 = simulateFrame(cam, { kind: 'light', exposure: 10, ccdTemp: -10, seed: 1, sky: 100, binning: 2 });
  assert.equal(b2.image.width, 128);
  assert.equal(b2.image.height, 96);
  assert.equal(b2.image.header.getNumber('XBINNING'), 2);
  const r = (median(b2.image.data[0]!) - s.biasLevel) / (median(b1.image.data[0]!) - s.biasLevel);
  assert.ok(Math.abs(r - 4) < 0.1, `binned ratio ${r}`);
});

test('simulateSession writes a night with realistic headers and a truth folder', () => {
  const t = tempDir();
  try {
    const ses = simulateSession(t.dir, { sensor: 'cmos', width: 96, height: 64, lights: 2, darks: 2, bias: 2, flats: 2, flatDarks: 1, seed: 3, lightExposure: 60 });
    assert.equal(ses.lights.length, 2);
    assert.equal(ses.flatDarks.length, 1);
    const L = readFits(ses.lights[0]!);
    const h = L.header;
    assert.equal(h.getString('IMAGETYP'), 'Light Frame');
    assert.equal(h.getNumber('EXPTIME'), 60);
    for (const k of ['CCD-TEMP', 'SET-TEMP', 'XBINNING', 'YBINNING', 'XPIXSZ', 'YPIXSZ', 'EGAIN', 'GAIN', 'OFFSET']) assert.ok(h.getNumber(k) !== undefined, k);
    for (const k of ['FILTER', 'INSTRUME', 'DATE-OBS', 'OBJECT']) assert.ok(h.getString(k), k);
    assert.ok(h.getNumber('RA') !== undefined && h.getNumber('DEC') !== undefined);
    assert.equal(readFits(ses.bias[0]!).header.getString('IMAGETYP'), 'Bias Frame');
    assert.equal(readFits(ses.darks[0]!).header.getString('IMAGETYP'), 'Dark Frame');
    assert.equal(readFits(ses.flats[0]!).header.getString('IMAGETYP'), 'Flat Field');
    assert.equal(fitsverify(ses.lights[0]!).errors, 0);
    assert.ok(existsSync(ses.truthFlat) && existsSync(ses.truthDark) && existsSync(ses.truthSignals[0]!));
    const tf = readFits(ses.truthFlat).data[0]!;
    assert.ok(Math.abs(mean(tf) - 1) < 1e-4);
    const hot = readFileSync(ses.truthHotPixels, 'utf8').trim().split('\n').slice(1);
    assert.equal(hot.length, ses.camera.hotPixels.length);
    // DATE-OBS increases through the night
    const d0 = Date.parse(readFits(ses.bias[0]!).header.getString('DATE-OBS')! + 'Z');
    const d1 = Date.parse(h.getString('DATE-OBS')! + 'Z');
    assert.ok(d1 > d0);
  } finally {
    t.cleanup();
  }
});
