/**
 * calibrateFiles, the one calibration driver behind `darkroom calibrate` and the pipeline's calibrate
 * step, and the dark-darker-than-bias rule in one function (decideDarkScaling). Defaults are the
 * pipeline's (fallback to the plain dark with one warning, unused bias left out, a bad light left out);
 * the CLI's strict behaviour is asked for by options.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { readFits, writeFits } from '../../src/fits/index.js';
import { createImage, type Image } from '../../src/image/image.js';
import { Rng } from '../../src/util/random.js';
import { isDarkroomError } from '../../src/util/errors.js';
import type { WarningEvent } from '../../src/util/warnings.js';
import { calibrateLight, decideDarkScaling, detectDefects, defectsFromDark, mergeDefects, repairDefects, type Master } from '../../src/calibrate/index.js';
import { calibrateFiles } from '../../src/calibrate/files.js';
import { useTempDir } from '../helpers/env.js';

const W = 64, H = 48;
function frame(level: number, seed: number, keys: Record<string, number> = {}, w = W, hot: number[] = []): Image {
  const img = createImage(w, H);
  const rng = new Rng(seed);
  const p = img.data[0]!;
  for (let i = 0; i < p.length; i++) p[i] = level + 5 * rng.gauss();
  for (const i of hot) p[i] = level + 5000;
  for (const [k, v] of Object.entries(keys)) img.header.set(k, v);
  return img;
}
function put(dir: string, name: string, img: Image): string {
  const p = join(dir, name);
  writeFits(p, img);
  return p;
}
/** Masters where the dark (mean 490) is darker than the bias (mean 500): a clamped CMOS. */
function clampedNight(dir: string): { bias: string; dark: string; lights: string[] } {
  return {
    bias: put(dir, 'MB.fits', frame(500, 1)),
    dark: put(dir, 'MD.fits', frame(490, 2, { EXPTIME: 120 })),
    lights: [put(dir, 'L0.fits', frame(1500, 3, { EXPTIME: 60 })), put(dir, 'L1.fits', frame(1500, 4, { EXPTIME: 60 })), put(dir, 'small.fits', frame(1500, 5, { EXPTIME: 60 }, 40))],
  };
}

test('decideDarkScaling: the dark-darker-than-bias rule falls back, refuses or forces, with a structured warning', () => {
  const bias: Master = { image: frame(500, 1), path: 'MB.fits' };
  const dark: Master = { image: frame(490, 2), path: 'MD.fits' };
  const bright: Master = { image: frame(600, 2), path: 'MD2.fits' };
  const plain = decideDarkScaling('optimize', bias, dark, 'plain', 'MD.fits');
  assert.equal(plain.mode, 'plain');
  assert.deepEqual([plain.event?.code, plain.event?.file], ['DARK_NOT_SCALED', 'MD.fits']);
  assert.match(plain.event!.message, /^dark not scaled: master dark MD\.fits \(mean 4[89]\d\.\d\d\) is not brighter than master bias MB\.fits/);
  assert.throws(() => decideDarkScaling('exposure', bias, dark, 'refuse', 'L.fits'), (e: unknown) => isDarkroomError(e) && e.file === 'L.fits' && /black-level clamping/.test(e.message));
  const forced = decideDarkScaling('exposure', bias, dark, 'force');
  assert.deepEqual([forced.mode, forced.event?.code], ['exposure', 'DARK_SCALING_FORCED']);
  assert.deepEqual(decideDarkScaling('optimize', bias, bright, 'refuse'), { mode: 'optimize' });
  assert.deepEqual(decideDarkScaling('plain', bias, dark, 'refuse'), { mode: 'plain' });
  assert.deepEqual(decideDarkScaling('optimize', undefined, dark, 'refuse'), { mode: 'optimize' });
});

test('calibrateLight: every warning is a structured event, warnings[i] its line', () => {
  const r = calibrateLight(frame(1500, 3, { EXPTIME: 60, 'CCD-TEMP': 0 }), 'L.fits', { dark: { image: frame(490, 2, { EXPTIME: 120, 'CCD-TEMP': 10 }), path: 'MD.fits' } });
  assert.deepEqual(r.report.events!.map((e) => [e.code, e.file]), [['TEMPERATURE_MISMATCH', 'L.fits'], ['EXPOSURE_MISMATCH', 'L.fits']]);
  assert.deepEqual(r.report.warnings, r.report.events!.map((e) => e.message));
});

test('calibrateFiles (pipeline defaults): one fallback warning for the run, unused bias left out, a bad light left out, progress', async (t) => {
  const dir = useTempDir(t);
  const n = clampedNight(dir);
  const outs = n.lights.map((_, i) => join(dir, 'calibrated', `c${i}.fits`));
  const warnings: WarningEvent[] = [];
  const done: number[] = [];
  const r = await calibrateFiles(n.lights, outs, { bias: n.bias, dark: n.dark, darkMode: 'optimize', pedestal: 0, historyHead: (lp) => [`run: calibrated ${lp}`] }, {
    onWarning: (w) => warnings.push(w),
    onProgress: (e) => done.push(e.done),
  });
  assert.equal(r.darkMode, 'plain');
  assert.deepEqual(done, [1, 2, 3]);
  assert.deepEqual(warnings.filter((w) => w.code === 'DARK_NOT_SCALED').map((w) => w.file), [n.dark]);
  assert.deepEqual(r.frames.map((f) => f.ok), [true, true, false]);
  const bad = r.frames[2]!;
  assert.ok(!bad.ok && /does not match: size 64x48x1 vs light 40x48x1/.test(bad.reason));
  assert.deepEqual(warnings.filter((w) => w.code === 'FRAME_FAILED').map((w) => w.file), [n.lights[2]]);
  assert.equal(existsSync(outs[2]!), false);
  const c = readFits(outs[0]!);
  assert.equal(c.header.getString('CALSTAT'), 'D');
  assert.ok(c.header.history().includes(`run: calibrated ${n.lights[0]}`));
  assert.ok(!c.header.history().some((l) => l.startsWith('master bias')), 'the unused bias is not named');
  assert.ok(Math.abs(c.data[0]![100]! - 1010) < 40, `plain dark: ${c.data[0]![100]}`);
  // the same light alone (a part of a step) gives the same pixels
  const part = await calibrateFiles([n.lights[0]!], [join(dir, 'part', 'c0.fits')], { bias: n.bias, dark: n.dark, darkMode: 'optimize', pedestal: 0 });
  assert.deepEqual(readFits(part.frames[0]!.output).data[0], c.data[0]);
});

test('calibrateFiles (CLI options): refuses a clamped dark unless forced, stops at the first bad light, never overwrites an input', async (t) => {
  const dir = useTempDir(t);
  const n = clampedNight(dir);
  const outs = (d: string): string[] => n.lights.map((_, i) => join(dir, d, `c${i}.fits`));
  const cli = { bias: n.bias, dark: n.dark, darkMode: 'optimize' as const, keepUnusedBias: true, frameErrors: 'throw' as const };
  await assert.rejects(calibrateFiles(n.lights, outs('a'), { ...cli, clampedDark: 'refuse' }), (e: unknown) => isDarkroomError(e) && e.file === n.lights[0] && /not brighter than master bias/.test(e.message));
  const warnings: WarningEvent[] = [];
  await assert.rejects(calibrateFiles(n.lights, outs('b'), { ...cli, clampedDark: 'force' }, { onWarning: (w) => warnings.push(w) }), (e: unknown) => isDarkroomError(e) && e.file === n.lights[2]);
  assert.deepEqual(warnings.filter((w) => w.code === 'DARK_SCALING_FORCED').map((w) => w.file), n.lights.slice(0, 2));
  assert.ok(existsSync(outs('b')[1]!));
  assert.equal(readFits(outs('b')[0]!).header.getString('CALSTAT'), 'BD');
  await assert.rejects(calibrateFiles([n.lights[0]!], [n.dark], { dark: n.dark }), (e: unknown) => isDarkroomError(e) && /would overwrite input/.test(e.message));
});

test('calibrateFiles cosmetic: each-plane (the pipeline\'s) and auto (the CLI\'s, with the dark\'s defects) repair as before', async (t) => {
  const dir = useTempDir(t);
  const hot = [10 * W + 10, 20 * W + 30];
  const darkImg = frame(100, 2, {}, W, [30 * W + 40]);
  const dark = put(dir, 'MD.fits', darkImg);
  const light = put(dir, 'L.fits', frame(1500, 3, {}, W, hot));
  const ref = calibrateLight(readFits(light), light, { dark: { image: darkImg, path: dark }, pedestal: 0 }).image;
  const each = ref.data[0]!.slice();
  repairDefects(each, detectDefects(each, W, H, { cfa: false }), { cfa: false });
  const auto = ref.data[0]!.slice();
  repairDefects(auto, mergeDefects(detectDefects(auto, W, H, { cfa: false }), defectsFromDark(darkImg.data[0]!, W, H)), { cfa: false });
  const a = await calibrateFiles([light], [join(dir, 'e', 'L.fits')], { dark, pedestal: 0, cosmetic: 'each-plane' });
  const b = await calibrateFiles([light], [join(dir, 'a', 'L.fits')], { dark, pedestal: 0, cosmetic: 'auto' });
  assert.deepEqual(readFits(join(dir, 'e', 'L.fits')).data[0], each);
  assert.deepEqual(readFits(join(dir, 'a', 'L.fits')).data[0], auto);
  const ra = a.frames[0]!, rb = b.frames[0]!;
  assert.ok(ra.ok && rb.ok);
  assert.ok(ra.report.cosmetic!.repaired >= 2 && rb.report.cosmetic!.fromDark >= 1, JSON.stringify([ra.report.cosmetic, rb.report.cosmetic]));
  assert.ok(readFits(join(dir, 'e', 'L.fits')).header.history().includes('cosmetic correction: hot/cold pixels detected and repaired'));
});
