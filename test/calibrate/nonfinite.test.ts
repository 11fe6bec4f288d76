import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readdirSync } from 'node:fs';
import { writeFits, readFits, FitsHeader } from '../../src/fits/index.js';
import { createImage, type Image } from '../../src/image/image.js';
import { calibrateLight, autoPedestal } from '../../src/calibrate/index.js';
import { isDarkroomError } from '../../src/util/errors.js';
import { runCli, fileTempDir } from '../helpers/env.js';

const tmp = fileTempDir();

function img(level: number, patch: (p: number) => number | undefined = () => undefined): Image {
  const h = new FitsHeader();
  h.set('EXPTIME', 60);
  const im = createImage(32, 16, 1, h);
  const d = im.data[0]!;
  for (let p = 0; p < d.length; p++) d[p] = patch(p) ?? level + (p % 7);
  return im;
}

const dark = { image: img(100), path: 'dark.fits' };

test('a light without a finite pixel is refused, naming it', () => {
  for (const fill of [NaN, Infinity]) {
    assert.throws(() => calibrateLight(img(0, () => fill), 'nan.fits', { dark }), (e: unknown) => isDarkroomError(e) && e.file === 'nan.fits' && /no finite pixels/.test(e.message));
  }
});

test('a master without a finite pixel is refused, naming the master', () => {
  const bad = { image: img(0, () => NaN), path: 'baddark.fits' };
  assert.throws(() => calibrateLight(img(1000), 'l.fits', { dark: bad }), (e: unknown) => isDarkroomError(e) && e.file === 'baddark.fits' && /master dark has no finite pixels/.test(e.message));
});

test('some non-finite pixels: NaN at those pixels (never clipped to 0) and a structured warning with the count', () => {
  const light = img(1000, (p) => (p === 3 ? NaN : p === 4 ? Infinity : p === 5 ? -Infinity : undefined));
  const d2 = { image: img(100, (p) => (p === 10 ? NaN : undefined)), path: 'dark2.fits' };
  const r = calibrateLight(light, 'l.fits', { dark: d2, pedestal: 'auto' });
  const out = r.image.data[0]!;
  for (const p of [3, 4, 5, 10]) assert.ok(Number.isNaN(out[p]!), `pixel ${p}: ${out[p]}`);
  assert.equal(out[6], 900);
  assert.equal(r.report.pedestal, 0);
  assert.deepEqual(r.report.events?.map((e) => [e.code, e.file, e.count]), [['NON_FINITE', 'l.fits', 3], ['NON_FINITE', 'dark2.fits', 1]]);
  assert.ok(r.report.warnings.includes('3 pixels of the light are NaN or infinite: NaN in the calibrated light at those pixels'));
  assert.equal(autoPedestal(Float32Array.from([-Infinity, -5, 1, 2, NaN])), 10);
});

test('darkroom calibrate: an all-NaN light exits 2 with one line naming it and writes nothing', () => {
  const dir = join(tmp, 'cli');
  const lp = join(tmp, 'allnan.fits');
  const dp = join(tmp, 'dark.fits');
  writeFits(lp, img(0, () => NaN));
  writeFits(dp, dark.image);
  const r = runCli(['calibrate', lp, '--dark', dp, '-o', dir]);
  assert.equal(r.code, 2, r.stderr);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0]!, /allnan\.fits: the light has no finite pixels/);
  assert.deepEqual(readdirSync(dir).filter((f) => f.endsWith('.fits')), []);
  const ok = join(tmp, 'partial.fits');
  writeFits(ok, img(1000, (p) => (p < 4 ? NaN : undefined)));
  const r2 = runCli(['calibrate', ok, '--dark', dp, '-o', dir]);
  assert.equal(r2.code, 0, r2.stderr);
  assert.match(r2.stderr, /warning: .*partial\.fits: 4 pixels of the light are NaN or infinite/);
  assert.ok(Number.isNaN(readFits(join(dir, 'partial_c.fits')).data[0]![0]!));
});
