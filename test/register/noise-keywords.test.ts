/**
 * Registration keeps the calibrated frame's NOISExx / NOISEFxx / NOISEAxx, IKSCALxx and IKLOCxx (the noise and scale before resampling, which noise
 * weights prefer to the resampled pixels' noise), resampled or drizzled; a CFA drizzle (mosaic -> R, G, B planes) drops them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFits, writeFits } from '../../src/fits/index.js';
import { createImage } from '../../src/image/image.js';
import { measureNoise, readNoiseKeywords, writeLocationKeywords, writeNoiseKeywords, writeScaleKeywords } from '../../src/image/noise-keywords.js';
import { renderStars, randomStarField } from '../../src/devices/sim/stars.js';
import { Rng } from '../../src/util/random.js';
import { registerFiles } from '../../src/register/files.js';
import { useTempDir } from '../helpers/env.js';

const W = 160, H = 120;
const SKY = randomStarField(3, W, H, 40, { fluxMin: 8000, fluxMax: 80000 });

/** A calibrated light (star field shifted by (dx, dy), noise sigma 7) stamped with its NOISE00 as calibration does. */
function calibrated(path: string, seed: number, dx: number, dy: number, cfa?: string): string {
  const img = createImage(W, H, 1);
  const p = img.data[0]!;
  const rng = new Rng(seed);
  for (let i = 0; i < p.length; i++) p[i] = 900 + 7 * rng.gauss();
  renderStars(p, W, H, SKY.map((s) => ({ ...s, x: s.x + dx, y: s.y + dy })), { kind: 'gaussian', fwhm: 3 });
  if (cfa) img.header.set('BAYERPAT', cfa);
  writeNoiseKeywords(img.header, measureNoise(img));
  writeScaleKeywords(img.header, [7.25]);
  writeLocationKeywords(img.header, [901.5]);
  writeFits(path, img, { bitpix: -32 });
  return path;
}

test('registerFiles keeps NOISExx (resampling, drizzle) and drops them for a CFA drizzle', async (t) => {
  const dir = useTempDir(t);
  const ins = [calibrated(join(dir, 'a.fits'), 1, 0, 0), calibrated(join(dir, 'b.fits'), 2, 2.5, -1.5)];
  const before = ins.map((p) => readFits(p).header);
  assert.ok(before.every((h) => readNoiseKeywords(h, 1) !== undefined));
  for (const [name, o] of [['lanczos', {}], ['bilinear', { interp: 'bilinear' as const }], ['drizzle', { drizzle: 2, pixfrac: 0.8 }]] as const) {
    const r = await registerFiles(ins, ins.map((_, i) => join(dir, name, `r${i}.fits`)), { reference: ins[0], model: 'shift', workers: 1, ...o });
    r.frames.forEach((f, i) => {
      assert.ok(f.ok, `${name} ${i}: ${f.reason}`);
      const h = readFits(f.output!).header;
      for (const k of ['NOISE00', 'NOISEF00', 'IKSCAL00', 'IKLOC00']) assert.equal(h.getNumber(k), before[i]!.getNumber(k), `${name} frame ${i} ${k}`);
      assert.equal(h.getString('NOISEA00'), 'MRS');
      assert.match(h.comment('NOISE00') ?? '', /before resampling/);
    });
  }
  const cfa = [calibrated(join(dir, 'ca.fits'), 3, 0, 0, 'RGGB'), calibrated(join(dir, 'cb.fits'), 4, 2, 2, 'RGGB')];
  const r = await registerFiles(cfa, cfa.map((_, i) => join(dir, 'cfa', `r${i}.fits`)), { reference: cfa[0], model: 'shift', workers: 1, cfaDrizzle: true });
  for (const f of r.frames) {
    assert.ok(f.ok, f.reason);
    const img = readFits(f.output!);
    assert.equal(img.channels, 3);
    assert.equal(img.header.getNumber('NOISE00'), undefined, 'the mosaic\'s noise does not describe the R plane');
    assert.equal(img.header.getNumber('IKSCAL00'), undefined);
    assert.equal(img.header.getNumber('IKLOC00'), undefined);
  }
});
