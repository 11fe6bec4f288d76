/**
 * A calibrated light carries the noise of each channel as PixInsight's NOISExx / NOISEFxx / NOISEAxx keywords:
 * the MRS noise (noiseMRS) of the pixels as written, on the rows integration measures (noiseRows), after a
 * cosmetic correction when there is one; the report's noise is channel 0's. IKSCALxx: the IKSS scale of the
 * written plane (what additive + scaling normalization would measure on it).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFits, writeFits } from '../../src/fits/index.js';
import { createImage, type Image } from '../../src/image/image.js';
import { noiseMRS, noiseRows } from '../../src/image/noise.js';
import { ikss } from '../../src/image/stats.js';
import { Rng } from '../../src/util/random.js';
import { calibrateFiles } from '../../src/calibrate/files.js';
import { calibrateLight } from '../../src/calibrate/index.js';
import { debayerImage } from '../../src/color/debayer.js';
import { parseCfa } from '../../src/color/cfa.js';
import { useTempDir } from '../helpers/env.js';

/** The same estimate integration makes of plane c of a file's image. */
function mrsOf(img: Image, c: number): number {
  const [y0, y1] = noiseRows(img.width, img.height);
  return noiseMRS(img.data[c]!.subarray(y0 * img.width, y1 * img.width), img.width, y1 - y0).sigma;
}

/** A light of `channels` planes: level + sigma_c Gaussian noise, a few hot pixels. */
function light(w: number, h: number, sigmas: number[], seed: number): Image {
  const img = createImage(w, h, sigmas.length);
  const rng = new Rng(seed);
  sigmas.forEach((s, c) => {
    const p = img.data[c]!;
    for (let i = 0; i < p.length; i++) p[i] = 1500 + s * rng.gauss();
    for (let k = 0; k < 40; k++) p[(k * 7919 + 13) % p.length] = 30000;
  });
  img.header.set('EXPTIME', 60);
  return img;
}

test('calibrateFiles writes NOISExx per channel equal to noiseMRS of the written pixels (the rows integration uses)', async (t) => {
  const dir = useTempDir(t);
  // 640 x 480 = 307200 pixels: more than the former report band (2^18), all of them measured as integration does
  const sigmas = [6, 9, 14];
  const lp = join(dir, 'L.fits');
  writeFits(lp, light(640, 480, sigmas, 5));
  const bias = createImage(640, 480, 3);
  for (const p of bias.data) p.fill(500);
  const r = await calibrateFiles([lp], [join(dir, 'out', 'L_c.fits')], { bias: { image: bias, path: 'MB.fits' }, pedestal: 0, workers: 1 });
  const f = r.frames[0]!;
  assert.ok(f.ok);
  const out = readFits(f.output);
  assert.deepEqual(noiseRows(640, 480), [0, 480]);
  for (let c = 0; c < 3; c++) {
    const key = `NOISE${String(c).padStart(2, '0')}`;
    const v = out.header.getNumber(key)!;
    assert.equal(v, mrsOf(out, c), `${key} is the MRS noise of the written plane`);
    // and the simulated noise (MRS is consistent for Gaussian noise)
    assert.ok(Math.abs(v / sigmas[c]! - 1) < 0.01, `${key} ${v} vs ${sigmas[c]}`);
    assert.equal(out.header.getString(`NOISEA${String(c).padStart(2, '0')}`), 'MRS');
    const frac = out.header.getNumber(`NOISEF${String(c).padStart(2, '0')}`)!;
    assert.ok(frac > 0.5 && frac <= 1, `NOISEF ${frac}`);
    // IKSCALxx: the IKSS scale of the written plane (all finite pixels), as integration's IKSS computes it
    const sc = out.header.getNumber(`IKSCAL${String(c).padStart(2, '0')}`)!;
    assert.equal(sc, ikss(out.data[c]!).scale);
    assert.ok(Math.abs(sc / sigmas[c]! - 1) < 0.03, `IKSCAL ${sc} vs ${sigmas[c]}`);
    // IKLOCxx: its IKSS location, the same way (bias 500 subtracted from 1500)
    const loc = out.header.getNumber(`IKLOC${String(c).padStart(2, '0')}`)!;
    assert.equal(loc, ikss(out.data[c]!).location);
    assert.ok(Math.abs(loc - 1000) < 0.2, `IKLOC ${loc} vs 1000`);
  }
  assert.equal(out.header.getNumber('NOISE03'), undefined);
  assert.equal(f.report.noise, out.header.getNumber('NOISE00'));
});

test('with a cosmetic correction NOISE00 is measured on the repaired pixels; stale NOISExx of the input are replaced', async (t) => {
  const dir = useTempDir(t);
  const img = light(300, 200, [8], 9);
  img.header.set('NOISE00', 123.0, 'stale', { float: true });
  img.header.set('NOISE01', 45.0, 'stale', { float: true });
  const lp = join(dir, 'L.fits');
  writeFits(lp, img);
  const r = await calibrateFiles([lp], [join(dir, 'out', 'L_c.fits')], { pedestal: 0, cosmetic: 'each-plane', workers: 1 });
  const f = r.frames[0]!;
  assert.ok(f.ok && f.report.cosmetic!.repaired > 0);
  const out = readFits(f.output);
  assert.equal(out.header.getNumber('NOISE00'), mrsOf(out, 0));
  assert.equal(out.header.getNumber('NOISE01'), undefined);
  assert.equal(out.header.getNumber('IKSCAL00'), ikss(out.data[0]!).scale);
  assert.equal(out.header.getNumber('IKLOC00'), ikss(out.data[0]!).location);
  assert.equal(f.report.noise, out.header.getNumber('NOISE00'));
  // in memory too (calibrateLight alone stamps the image it returns)
  const mem = calibrateLight(img, lp, { pedestal: 0 });
  assert.equal(mem.image.header.getNumber('NOISE00'), mrsOf(mem.image, 0));
  assert.equal(mem.report.noise, mem.image.header.getNumber('NOISE00'));
});

test('debayering a calibrated mosaic measures NOISExx / IKSCALxx again on its R, G, B planes; a raw mosaic gets none', () => {
  const mosaic = light(200, 160, [10], 21);
  mosaic.cfa = 'RGGB';
  mosaic.header.set('BAYERPAT', 'RGGB');
  const cal = calibrateLight(mosaic, 'L.fits', { pedestal: 0 });
  assert.ok(cal.image.header.getNumber('NOISE00')! > 0);
  const rgb = debayerImage(cal.image, parseCfa('RGGB')!, 'bilinear');
  for (let c = 0; c < 3; c++) {
    const k = String(c).padStart(2, '0');
    assert.equal(rgb.header.getNumber(`NOISE${k}`), mrsOf(rgb, c), `NOISE${k}`);
    assert.equal(rgb.header.getNumber(`IKSCAL${k}`), ikss(rgb.data[c]!).scale, `IKSCAL${k}`);
    assert.equal(rgb.header.getNumber(`IKLOC${k}`), ikss(rgb.data[c]!).location, `IKLOC${k}`);
  }
  const raw = debayerImage(mosaic, parseCfa('RGGB')!, 'bilinear');
  assert.equal(raw.header.getNumber('NOISE00'), undefined);
  assert.equal(raw.header.getNumber('IKSCAL00'), undefined);
  assert.equal(raw.header.getNumber('IKLOC00'), undefined);
});
