/**
 * Bad input gives a DarkroomError with a code, naming the file and saying what is wrong:
 * missing file, directory, non-FITS file, empty file, truncated header, truncated data, a
 * tile-compressed (fpack) image, a file with no image, a bad header; and write errors.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FitsFile, readFits, readFitsHeader, writeFits, type WriteBitpix } from '../../src/fits/index.js';
import { createImage } from '../../src/image/image.js';
import { DarkroomError, type ErrorCode } from '../../src/util/errors.js';
import { fileTempDir, ROOT, runPython, useTempDir } from '../helpers/env.js';

const FIX = join(ROOT, 'test/fixtures/fits');

function expectError(fn: () => unknown, code: ErrorCode, file: string, message: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof DarkroomError, `expected a DarkroomError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    assert.equal(e.file, file);
    assert.match(e.message, message);
    assert.equal(e.oneLine(), `${file}: ${e.message}`);
    assert.ok(!e.message.includes('\n'), 'one line');
    return true;
  });
}

describe('read errors name the file and the problem', () => {
  const dir = fileTempDir();
  const good = join(dir, 'good.fits');
  let bytes: Buffer;
  before(() => {
    writeFits(good, createImage(100, 80), { bitpix: 16 });
    bytes = readFileSync(good);
  });

  test('a missing file; a directory', () => {
    const missing = join(dir, 'nope.fits');
    expectError(() => readFits(missing), 'ENOENT', missing, /no such file/);
    expectError(() => readFits(dir), 'NOT_FITS', dir, /directory/);
  });

  test('not FITS: text, a few bytes, an empty file', () => {
    const text = join(dir, 'notes.fits');
    writeFileSync(text, 'this is not FITS\n'.repeat(400));
    expectError(() => readFits(text), 'NOT_FITS', text, /not a FITS file/);
    const short = join(dir, 'short.fits');
    writeFileSync(short, 'hello');
    expectError(() => readFits(short), 'NOT_FITS', short, /not a FITS file/);
    const empty = join(dir, 'empty.fits');
    writeFileSync(empty, '');
    expectError(() => readFits(empty), 'NOT_FITS', empty, /not a FITS file \(empty\)/);
  });

  test('truncated in the data (the header alone still reads) or in the header', () => {
    const cutData = join(dir, 'cut-data.fits');
    writeFileSync(cutData, bytes.subarray(0, 2880 + 5000));
    expectError(() => readFits(cutData), 'TRUNCATED', cutData, /truncated: HDU 0 needs 16000 bytes of data from byte 2880, file has 7880 bytes/);
    // the header alone still reads (classification of a damaged file)
    const f = new FitsFile(cutData);
    assert.equal(f.hdus[0]!.naxes[0], 100);
    f.close();
    const cutHeader = join(dir, 'cut-header.fits');
    writeFileSync(cutHeader, bytes.subarray(0, 1000));
    expectError(() => readFits(cutHeader), 'TRUNCATED', cutHeader, /truncated header in HDU 0/);
    const noEnd = join(dir, 'no-end.fits');
    writeFileSync(noEnd, bytes.subarray(0, 2880).toString('latin1').replace(/END {77}/, ' '.repeat(80)));
    expectError(() => readFits(noEnd), 'TRUNCATED', noEnd, /truncated header/);
  });

  test('a tile-compressed image (fpack): decompress it with funpack first', () => {
    const fz = join(FIX, 'fpack.fits.fz');
    expectError(() => readFits(fz), 'UNSUPPORTED', fz, /tile-compressed image \(fpack\); decompress it with funpack first/);
    expectError(() => readFitsHeader(fz), 'UNSUPPORTED', fz, /funpack/);
  });

  test('no image: only a table, an empty primary alone; a table HDU; an HDU not in the file', () => {
    const tab = join(dir, 'table.fits');
    const onlyPrimary = join(dir, 'primary.fits');
    runPython(
      `import sys, numpy as np
from astropy.io import fits
fits.HDUList([fits.PrimaryHDU(), fits.BinTableHDU.from_columns([fits.Column(name='a', format='E', array=np.arange(3.0))])]).writeto(sys.argv[1])
fits.PrimaryHDU().writeto(sys.argv[2])`,
      [tab, onlyPrimary],
    );
    expectError(() => readFits(tab), 'NO_IMAGE', tab, /no image data in any HDU/);
    expectError(() => readFits(onlyPrimary), 'NO_IMAGE', onlyPrimary, /no image data/);
    expectError(() => readFits(tab, 1), 'UNSUPPORTED', tab, /HDU 1 is not an image \(bintable\)/);
    expectError(() => readFits(tab, 5), 'NO_IMAGE', tab, /no HDU 5 \(file has 2\)/);
  });

  test('bad header values: BITPIX, NAXIS2', () => {
    const badBitpix = join(dir, 'bad-bitpix.fits');
    writeFileSync(badBitpix, bytes.toString('latin1').replace(/BITPIX  = +16/, (m) => m.replace('16', '12')), 'latin1');
    expectError(() => readFits(badBitpix), 'BAD_HEADER', badBitpix, /invalid or missing BITPIX \(12\)/);
    const badNaxis = join(dir, 'bad-naxis.fits');
    writeFileSync(badNaxis, bytes.toString('latin1').replace(/NAXIS2  = +80/, (m) => m.replace(' 80', '-80')), 'latin1');
    expectError(() => readFits(badNaxis), 'BAD_HEADER', badNaxis, /invalid or missing NAXIS2/);
  });

  test('a 1-D image is not an image we can use', () => {
    const oneD = join(dir, 'oned.fits');
    runPython(`import sys, numpy as np\nfrom astropy.io import fits\nfits.PrimaryHDU(np.arange(10, dtype=np.int16)).writeto(sys.argv[1])`, [oneD]);
    expectError(() => readFits(oneD), 'UNSUPPORTED', oneD, /not a 2-D image or a cube/);
  });
});

test('bad.fits (nom-tam): tables, an empty image, then the first 2-D image is read', () => {
  const p = join(FIX, 'bad.fits');
  const f = new FitsFile(p);
  try {
    assert.deepEqual(f.hdus.map((h) => h.type), ['empty', 'bintable', 'empty', 'image', 'bintable', 'image']);
    assert.equal(f.imageHdu().index, 3);
    assert.equal(f.imageHdu().extname, 'comp1');
    const h0 = f.hdus[0]!.header;
    assert.equal(h0.get('DESC'), 'product description a bit large just to see if it can be translated');
    assert.equal(h0.comment('DESC'), '&');
    assert.equal(h0.get('INFO____'), 'product description a bit large just to see if it can be translated&');
    assert.equal(h0.get('KEY.FORMATV'), 'formatVersion');
    assert.equal(h0.cards.find((c) => c.key === '' && c.comment?.includes('composite'))?.comment, ' this composite dataset.');
  } finally {
    f.close();
  }
  const out = JSON.parse(
    runPython(`import sys, json\nfrom astropy.io import fits\nprint(json.dumps(fits.getdata(sys.argv[1], 3).astype(float).ravel().tolist()))`, [p]),
  ) as number[];
  assert.deepEqual(Array.from(readFits(p).data[0]!), out.map(Math.fround));
  assert.deepEqual(readFits(p, 5 - 2).data[0], readFits(p).data[0]);
});

test('write errors: missing folder, a directory in the way, a bad BITPIX; no temp file left', (t) => {
  const dir = useTempDir(t);
  const img = createImage(4, 4);
  const noDir = join(dir, 'missing', 'x.fits');
  expectError(() => writeFits(noDir, img), 'IO', noDir, /the folder does not exist/);
  expectError(() => writeFits(dir, img), 'IO', dir, /cannot write/);
  assert.throws(() => writeFits(join(dir, 'y.fits'), img, { bitpix: 64 as unknown as WriteBitpix }), (e: unknown) => {
    return e instanceof DarkroomError && e.code === 'BAD_ARGUMENT' && /cannot write BITPIX 64/.test(e.message);
  });
  assert.deepEqual(readdirSync(dir), [], 'no temp files left behind');
  // an existing file is replaced whole (temp + rename)
  const p = join(dir, 'z.fits');
  copyFileSync(join(FIX, 'funpack.fits'), p);
  writeFits(p, img);
  assert.equal(readFits(p).width, 4);
  assert.deepEqual(readdirSync(dir), ['z.fits']);
});
