import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { assertNotMixedRawAndFits, parseDcrawInfo, parsePgm, readRaw } from '../../src/color/raw.js';
import { cfaName } from '../../src/color/cfa.js';
import { readFits } from '../../src/fits/index.js';
import { DarkroomError } from '../../src/util/errors.js';
import { fileTempDir, fitsverify, runCli } from '../helpers/env.js';
import { writeDng } from './dng.js';

// Text in the layout dcraw 9.28 prints for `dcraw -i -v` (line format checked against the real dcraw on
// the synthetic DNG below; the camera values are illustrative, no real CR2/RAF is in the repository).
const CANON = `
Filename: IMG_0001.CR2
Timestamp: Sat Jan  6 22:10:05 2024
Camera: Canon EOS 6D
ISO speed: 1600
Shutter: 1/250.0 sec
Aperture: f/4.0
Focal length: 200.0 mm
Embedded ICC profile: no
Number of raw images: 1
Thumb size:  5472 x 3648
Full size:   5568 x 3708
Image size:  5496 x 3670
Output size: 5496 x 3670
Raw colors: 3
Filter pattern: RG/GB
Daylight multipliers: 2.048090 0.935888 1.213033
Camera multipliers: 2090.000000 1024.000000 1556.000000 1024.000000
`;
const FUJI = `
Filename: DSCF0001.RAF
Timestamp: Mon Feb  5 21:00:00 2024
Camera: Fujifilm X-T2
ISO speed: 800
Shutter: 120.0 sec
Aperture: f/2.8
Focal length: 23.0 mm
Embedded ICC profile: no
Number of raw images: 1
Full size:   6160 x 4032
Image size:  6032 x 4032
Output size: 6032 x 4032
Raw colors: 3
Filter pattern: GGRGGB/GGBGGR/BRGRBG/GGBGGR/GGRGGB/RBGBRG
`;

test('parseDcrawInfo: Bayer camera metadata (text in dcraw -i -v layout)', () => {
  const i = parseDcrawInfo(CANON);
  assert.equal(i.camera, 'Canon EOS 6D');
  assert.equal(i.iso, 1600);
  assert.ok(Math.abs(i.exposure! - 0.004) < 1e-12);
  assert.equal(i.aperture, 4);
  assert.equal(i.focalLength, 200);
  assert.equal(i.width, 5496);
  assert.equal(i.height, 3670);
  assert.equal(cfaName(i.cfa!), 'RGGB');
  assert.equal(i.timestamp, 'Sat Jan  6 22:10:05 2024');
});

test('parseDcrawInfo: X-Trans 6x6, 4-row Bayer repetition, long exposure; non-RGB CFA refused', () => {
  const f = parseDcrawInfo(FUJI);
  assert.equal(f.cfa!.size, 6);
  assert.equal(cfaName(f.cfa!), 'GGRGGBGGBGGRBRGRBGGGBGGRGGRGGBRBGBRG');
  assert.equal(f.exposure, 120);
  assert.equal(cfaName(parseDcrawInfo('Filter pattern: GB/RG/GB/RG\n').cfa!), 'GBRG');
  assert.equal(parseDcrawInfo('Camera: Sigma SD14\nRaw colors: 3\n').cfa, undefined);
  assert.throws(() => parseDcrawInfo('Filter pattern: CM/YG\n', 'x.crw'), (e: unknown) => e instanceof DarkroomError && e.code === 'UNSUPPORTED' && /'CM\/YG' is not an RGB Bayer/.test(e.message));
});

test('parsePgm: 16-bit big-endian and 8-bit P5; P6 and truncation refused', () => {
  const body = Buffer.alloc(8);
  [1, 256, 65535, 7].forEach((v, k) => body.writeUInt16BE(v, 2 * k));
  const p = parsePgm(Buffer.concat([Buffer.from('P5\n# c\n2 2\n65535\n'), body]));
  assert.deepEqual([...p.data], [1, 256, 65535, 7]);
  assert.deepEqual([...parsePgm(Buffer.from([...Buffer.from('P5 2 1 255\n'), 9, 200])).data], [9, 200]);
  assert.throws(() => parsePgm(Buffer.from('P6 1 1 255\nabc')), /3-colour image/);
  assert.throws(() => parsePgm(Buffer.concat([Buffer.from('P5 4 4 65535\n'), body])), /truncated/);
});

describe('a synthetic DNG through the real dcraw', () => {
  const dir = fileTempDir();
  const W = 40;
  const H = 30;
  const px = Uint16Array.from({ length: W * H }, (_, i) => 600 + ((i * 37) % 3000));
  const f = join(dir, 'frame.dng');
  before(() => writeDng(f, W, H, px, [2, 1, 1, 0], { exposure: [1, 125] }));

  test('readRaw: pixel-exact with pattern, exposure, ISO', () => {
    const { image, info } = readRaw(f);
    assert.equal(info.camera, 'Darkroom TestCam');
    assert.ok(Math.abs(info.exposure! - 0.008) < 1e-9);
    assert.equal(image.width, W);
    assert.equal(image.height, H);
    assert.equal(image.header.getString('BAYERPAT'), 'BGGR');
    assert.equal(image.header.getString('ROWORDER'), 'TOP-DOWN');
    assert.ok(Math.abs(image.header.getNumber('EXPTIME')! - 0.008) < 1e-9);
    for (let i = 0; i < W * H; i++) assert.equal(image.data[0]![i], px[i]);
  });

  test('CLI convert -> FITS (16-bit, fitsverify clean), pixels and BAYERPAT preserved', () => {
    const out = join(dir, 'out');
    const r = runCli(['convert', f, '-o', out, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const rep = JSON.parse(r.stdout);
    assert.equal(rep.files[0].cfa, 'BGGR');
    const fits = readFits(join(out, 'frame.fits'));
    assert.equal(fits.header.getString('BAYERPAT'), 'BGGR');
    for (let i = 0; i < W * H; i++) assert.equal(fits.data[0]![i], px[i]);
    assert.equal(fitsverify(join(out, 'frame.fits')).errors, 0);
  });
});

describe('raw errors (one line, exit 2)', () => {
  const dir = fileTempDir();
  const txt = join(dir, 'notes.cr2');
  before(() => writeFileSync(txt, 'this is not a raw file\n'));

  test('not a raw file', () => {
    assert.throws(() => readRaw(txt), (e: unknown) => e instanceof DarkroomError && e.file === txt && /not a camera raw file dcraw can decode/.test(e.message));
  });

  test('missing file', () => {
    assert.throws(() => readRaw(join(dir, 'none.nef')), (e: unknown) => e instanceof DarkroomError && e.code === 'ENOENT');
  });

  test('dcraw not installed', () => {
    const old = process.env.DARKROOM_DCRAW;
    process.env.DARKROOM_DCRAW = join(dir, 'no-such-dcraw');
    try {
      assert.throws(() => readRaw(txt), (e: unknown) => e instanceof DarkroomError && /not found \(install the Debian package dcraw\)/.test(e.message));
    } finally {
      if (old === undefined) delete process.env.DARKROOM_DCRAW;
      else process.env.DARKROOM_DCRAW = old;
    }
  });

  test('CLI convert of a file that is not raw', () => {
    const r = runCli(['convert', txt, '-o', join(dir, 'o')]);
    assert.equal(r.code, 2);
    assert.equal(r.stderr, `darkroom: ${txt}: not a camera raw file dcraw can decode\n`);
  });
});

test('assertNotMixedRawAndFits refuses raw + FITS in one group, accepts either kind alone', () => {
  assert.doesNotThrow(() => assertNotMixedRawAndFits(['a.CR2', 'b.cr2']));
  assert.doesNotThrow(() => assertNotMixedRawAndFits(['a.fits', 'b.fit']));
  assert.throws(() => assertNotMixedRawAndFits(['a.CR2', 'b.fits']), (e: unknown) => e instanceof DarkroomError && e.code === 'MISMATCH' && /mixes 1 camera raw file\(s\).*darkroom convert/.test(e.message));
});
