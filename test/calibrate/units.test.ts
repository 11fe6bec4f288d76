import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createImage } from '../../src/image/image.js';
import {
  parseOverscanSpec, applyOverscan, shiftPattern, parseDefectList, repairDefects, detectDefects, defectsFromDark,
  defectCount, flatScales, calibrateLight, optimizeDarkScale,
} from '../../src/calibrate/index.js';
import { Rng } from '../../src/util/random.js';

test('overscan: spec parsing, medians subtracted per target region, crop to the image region', () => {
  const s = parseOverscanSpec('image=0:0:8:6,src=8:0:2:6>0:0:8:3,src=8:0:2:6>0:3:8:3');
  assert.deepEqual(s.image, { x: 0, y: 0, w: 8, h: 6 });
  assert.equal(s.pairs.length, 2);
  const img = createImage(10, 6);
  const d = img.data[0]!;
  for (let y = 0; y < 6; y++) for (let x = 0; x < 10; x++) d[y * 10 + x] = x >= 8 ? 100 + y : 1000 + x;
  // the overscan strip rows 0..5 hold 100..105: median 102.5
  const r = applyOverscan(img, s);
  assert.equal(r.image.width, 8);
  assert.equal(r.image.height, 6);
  assert.deepEqual(r.levels, [102.5, 102.5]);
  assert.equal(r.image.data[0]![0], 1000 - 102.5);
  assert.equal(r.image.data[0]![5 * 8 + 7], 1007 - 102.5);
  assert.equal(d[0], 1000, 'input untouched');
  // different sources for the two halves
  const s2 = parseOverscanSpec('image=0:0:8:6, src=8:0:2:3>0:0:8:3, src=8:3:2:3>0:3:8:3');
  const r2 = applyOverscan(img, s2);
  assert.deepEqual(r2.levels, [101, 104]);
  assert.equal(r2.image.data[0]![4 * 8], 1000 - 104);
  // CFA phase follows the crop
  assert.equal(shiftPattern('RGGB', 1, 0), 'GRBG');
  assert.equal(shiftPattern('RGGB', 1, 1), 'BGGR');
  // errors
  assert.throws(() => parseOverscanSpec('src=8:0:2:6>0:0:8:6'), /no image=X:Y:W:H region/);
  assert.throws(() => parseOverscanSpec('image=0:0:8:6'), /needs 1 to 4 src=...>... pairs, got 0/);
  assert.throws(() => parseOverscanSpec('image=0:0:8'), /bad overscan region '0:0:8'/);
  assert.throws(() => parseOverscanSpec('image=0:0:8:6,src=8:0:2:6'), /bad overscan pair/);
  assert.throws(() => parseOverscanSpec('image=0:0:8:6,foo=1'), /bad overscan item 'foo=1'/);
  const five = 'image=0:0:8:6' + ',src=8:0:2:6>0:0:8:6'.repeat(5);
  assert.throws(() => parseOverscanSpec(five), /got 5/);
  assert.throws(() => applyOverscan(img, parseOverscanSpec('image=0:0:8:6,src=9:0:2:6>0:0:8:6'), 'x.fits'), /source region 9:0:2:6 lies outside the 10x6 frame/);
});

test('cosmetic: defect list parsing, repair by the 8-neighbour median (mono) and same-colour neighbours (CFA)', () => {
  const m = parseDefectList('# defects\n3,4\ncol 7\nrow 1\n 5 2 \n', 10, 8, 'defects.txt');
  assert.equal(m.mask[4 * 10 + 3], 1);
  assert.equal(m.mask[2 * 10 + 5], 1);
  for (let y = 0; y < 8; y++) assert.equal(m.mask[y * 10 + 7], 1);
  for (let x = 0; x < 10; x++) assert.equal(m.mask[10 + x], 1);
  assert.equal(defectCount(m), 1 + 1 + 8 + 10 - 1);
  assert.throws(() => parseDefectList('3,4\nfoo\n', 10, 8, 'd.txt'), (e: Error & { file?: string }) => /line 2: cannot parse \('foo'/.test(e.message) && e.file === 'd.txt');
  assert.throws(() => parseDefectList('col 12', 10, 8, 'd.txt'), /line 1: column 12 outside the 10x8 frame/);
  assert.throws(() => parseDefectList('10,2', 10, 8, 'd.txt'), /pixel 10,2 outside/);
  // mono repair: a plane that is x + 10 y (linear) is restored exactly by the 8-neighbour median
  const w = 10, h = 8;
  const p = new Float32Array(w * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) p[y * w + x] = x + 10 * y;
  const orig = p.slice();
  p[4 * w + 3] = 5000;
  for (let y = 0; y < h; y++) p[y * w + 7] = -100; // dead column
  const n = repairDefects(p, parseDefectList('3,4\ncol 7', w, h, 'd'));
  assert.equal(n, 9);
  assert.equal(p[4 * w + 3], orig[4 * w + 3]);
  for (let y = 1; y < h - 1; y++) assert.equal(p[y * w + 7], orig[y * w + 7], `column pixel y=${y}`);
  // CFA: R pixels at 100, G at 50, B at 10 (RGGB); a hot R pixel is repaired from R neighbours only
  const c = new Float32Array(w * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) c[y * w + x] = (y & 1) === 0 ? ((x & 1) === 0 ? 100 : 50) : (x & 1) === 0 ? 50 : 10;
  c[4 * w + 4] = 9999;
  c[3 * w + 5] = 9999; // a hot B pixel
  repairDefects(c, parseDefectList('4,4\n5,3', w, h, 'd'), { cfa: true });
  assert.equal(c[4 * w + 4], 100);
  assert.equal(c[3 * w + 5], 10);
});

test('cosmetic: hot/cold pixels from a master dark and auto-detection that spares stars', () => {
  const w = 64, h = 64;
  const rng = new Rng(3);
  const dark = new Float32Array(w * h);
  for (let i = 0; i < dark.length; i++) dark[i] = 100 + 3 * rng.gauss();
  dark[10 * w + 10] = 500;
  dark[20 * w + 30] = 20;
  const dm = defectsFromDark(dark, w, h);
  assert.equal(dm.hot, 1);
  assert.equal(dm.cold, 1);
  assert.equal(dm.mask[10 * w + 10], 1);
  // light: noise + a Gaussian star (FWHM 3.5, peak 400) + a hot pixel of 400
  const L = new Float32Array(w * h);
  for (let i = 0; i < L.length; i++) L[i] = 1000 + 10 * rng.gauss();
  const s = 3.5 / 2.3548;
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) L[y * w + x] = L[y * w + x]! + 400 * Math.exp(-((x - 40) ** 2 + (y - 40) ** 2) / (2 * s * s));
  L[15 * w + 50] = L[15 * w + 50]! + 400;
  L[50 * w + 12] = L[50 * w + 12]! - 300; // cold
  const det = detectDefects(L, w, h);
  assert.equal(det.mask[15 * w + 50], 1, 'hot pixel found');
  assert.equal(det.mask[50 * w + 12], 1, 'cold pixel found');
  assert.equal(det.mask[40 * w + 40], 0, 'star peak spared');
  assert.ok(defectCount(det) <= 4, `few false detections: ${defectCount(det)}`);
});

test('CFA: one s0 per colour; separate scaling keeps colour balance', () => {
  const w = 8, h = 8;
  const flat = createImage(w, h);
  flat.cfa = 'RGGB';
  const f = flat.data[0]!;
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) f[y * w + x] = (y & 1) === 0 ? ((x & 1) === 0 ? 2000 : 4000) : (x & 1) === 0 ? 4000 : 1000;
  assert.deepEqual(flatScales(flat, 'RGGB'), [2000, 4000, 1000]);
  assert.deepEqual(flatScales(flat, undefined), [2750]);
  const light = createImage(w, h);
  light.cfa = 'RGGB';
  light.data[0]!.set(f.map((v) => v / 2)); // light through the same colour response
  const sep = calibrateLight(light, 'L.fits', { flat: { image: flat, path: 'MF.fits' } });
  // separate scaling: each colour divided by its own normalized flat -> the light's colour levels kept
  assert.equal(sep.image.data[0]![0], 1000);
  assert.equal(sep.image.data[0]![1], 2000);
  const one = calibrateLight(light, 'L.fits', { flat: { image: flat, path: 'MF.fits' }, separateCfaFlatScaling: false });
  assert.equal(one.image.data[0]![0], 1375);
  assert.equal(one.image.data[0]![1], 1375);
});

test('dark optimization on synthetic data: k0 = regression of T on the hot dark pixels', () => {
  const w = 128, h = 128;
  const rng = new Rng(5);
  const MB = new Float32Array(w * h).fill(500);
  const MD = new Float32Array(w * h);
  const L = new Float32Array(w * h);
  for (let i = 0; i < w * h; i++) {
    const dc = rng.uniform() < 0.01 ? 200 + 2000 * rng.uniform() : 10 * (1 + 0.1 * rng.gauss());
    MD[i] = 500 + dc + 2 * rng.gauss();
    L[i] = 500 + 300 + 0.37 * dc + 15 * rng.gauss();
  }
  const r = optimizeDarkScale(L, MB, MD, w, h);
  assert.ok(Math.abs(r.k - 0.37) < 0.005, `k = ${r.k}`);
  assert.ok(r.pixels > 100 && r.pixels < 400, `pixels above threshold ${r.pixels}`);
  // uncorrelated light: k -> 0 with a warning
  const U = new Float32Array(w * h);
  for (let i = 0; i < w * h; i++) U[i] = 800 + 15 * rng.gauss();
  const u = optimizeDarkScale(U, MB, MD, w, h);
  assert.ok(u.k < 0.01 && /no correlation/.test(u.warning ?? ''), `k = ${u.k} ${u.warning}`);
});
