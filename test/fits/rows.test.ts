/**
 * Row bands: FitsFile.readRows(plane, y0, y1) equals the slice of the whole image for every BITPIX
 * and plane, and reads only the band's bytes from the file (counted by FitsFile.bytesRead).
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { FitsFile, readFits, writeFits, type WriteBitpix } from '../../src/fits/index.js';
import { createImage } from '../../src/image/image.js';
import { Rng } from '../../src/util/random.js';
import { fileTempDir, useTempDir } from '../helpers/env.js';

/** Run `fn` on the open file at `path`, closed afterwards. */
function withFile(path: string, fn: (f: FitsFile) => void): void {
  const f = new FitsFile(path);
  try {
    fn(f);
  } finally {
    f.close();
  }
}

describe('row bands, every BITPIX', () => {
  const dir = fileTempDir();
  const W = 53;
  const H = 41;
  const BITPIX = [8, 16, 32, -32, -64] as WriteBitpix[];
  const path = (bitpix: WriteBitpix): string => join(dir, `rows${bitpix}.fits`);
  before(() => {
    const rng = new Rng(5);
    const img = createImage(W, H, 3);
    for (let c = 0; c < 3; c++) for (let i = 0; i < W * H; i++) img.data[c]![i] = rng.int(60000) + c;
    for (const bitpix of BITPIX) writeFits(path(bitpix), img, { bitpix });
  });

  test('bands equal slices of the whole image and read only their bytes', () => {
    for (const bitpix of BITPIX) {
      const whole = readFits(path(bitpix));
      withFile(path(bitpix), (f) => {
        const hdu = f.imageHdu();
        const bpp = Math.abs(bitpix) / 8;
        for (const [plane, y0, y1] of [[0, 0, 1], [1, 7, 19], [2, 40, 41], [2, 0, 41], [1, 13, 13]] as const) {
          const before = f.bytesRead;
          const band = f.readRows(plane, y0, y1, hdu);
          assert.equal(f.bytesRead - before, (y1 - y0) * W * bpp, `BITPIX ${bitpix}: bytes read for rows ${y0}..${y1}`);
          assert.deepEqual(band, whole.data[plane]!.subarray(y0 * W, y1 * W), `BITPIX ${bitpix} plane ${plane} rows ${y0}..${y1}`);
        }
      });
    }
  });

  test('into a caller\'s buffer larger than needed: nothing written past the band', () => {
    for (const bitpix of BITPIX) {
      const whole = readFits(path(bitpix));
      withFile(path(bitpix), (f) => {
        const out = new Float32Array(W * 10 + 7).fill(-1);
        f.readRows(2, 30, 40, f.imageHdu(), out);
        assert.deepEqual(out.subarray(0, W * 10), whole.data[2]!.subarray(30 * W, 40 * W));
        assert.equal(out[W * 10], -1, 'nothing written past the band');
      });
    }
  });

  test('a plane or rows outside the image are a RangeError', () => {
    for (const bitpix of BITPIX) {
      withFile(path(bitpix), (f) => {
        const hdu = f.imageHdu();
        assert.throws(() => f.readRows(3, 0, 1, hdu), RangeError);
        assert.throws(() => f.readRows(0, 5, 42, hdu), RangeError);
      });
    }
  });
});

test('a band larger than the internal chunk (~1 MB)', (t) => {
  const dir = useTempDir(t);
  // 1200x500 uint16 = 1.2 MB per plane.
  const big = createImage(1200, 500);
  for (let i = 0; i < big.data[0]!.length; i++) big.data[0]![i] = (i * 7919) % 65536;
  const p = join(dir, 'big.fits');
  writeFits(p, big, { bitpix: 16 });
  withFile(p, (f) => assert.deepEqual(f.readRows(0, 3, 497), big.data[0]!.subarray(3 * 1200, 497 * 1200)));
});
