import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFits, writeFits } from '../../src/fits/index.js';
import { parseCfa } from '../../src/color/cfa.js';
import { createImage, type Image } from '../../src/image/image.js';
import { fileTempDir, fitsverify, runCli, useTempDir } from '../helpers/env.js';
import { mosaic, scene } from './synth.js';

const W = 24;
const H = 16;

function cfaFrame(pattern: string, rowOrder?: string): Image {
  const truth = scene(W, H, (_x, _y, c) => [3000, 1500, 500][c]!);
  const img = createImage(W, H, 1);
  // mosaic in stored order: for BOTTOM-UP the pattern describes the last stored row (even height: flipped)
  const stored = rowOrder === 'BOTTOM-UP' ? { RGGB: 'GBRG', BGGR: 'GRBG', GRBG: 'BGGR', GBRG: 'RGGB' }[pattern]! : pattern;
  img.data = [mosaic(truth, W, H, parseCfa(stored)!)];
  img.header.set('BAYERPAT', pattern);
  if (rowOrder) img.header.set('ROWORDER', rowOrder);
  img.header.set('OBJECT', 'test');
  return img;
}

test('darkroom debayer: every method writes RGB FITS with the right colours, HISTORY, fitsverify clean', (t) => {
  const dir = useTempDir(t);
  writeFits(join(dir, 'a.fits'), cfaFrame('GRBG'));
  writeFits(join(dir, 'b.fits'), cfaFrame('RGGB', 'BOTTOM-UP'));
  for (const method of ['superpixel', 'bilinear', 'vng', 'rcd']) {
    const out = join(dir, method);
    const r = runCli(['debayer', join(dir, 'a.fits'), join(dir, 'b.fits'), '--method', method, '-o', out, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const rep = JSON.parse(r.stdout);
    assert.equal(rep.files.length, 2);
    assert.equal(rep.files[1].cfa, 'GBRG');
    for (const name of ['a_rgb.fits', 'b_rgb.fits']) {
      const img = readFits(join(out, name));
      assert.equal(img.channels, 3);
      const mean = img.data.map((p) => p.reduce((a, b) => a + b, 0) / p.length);
      assert.ok(Math.abs(mean[0]! - 3000) < 1 && Math.abs(mean[1]! - 1500) < 1 && Math.abs(mean[2]! - 500) < 1, `${method} ${name} ${mean}`);
      assert.ok(img.header.history().some((h) => h.includes(`method=${method}`)));
      assert.equal(img.header.has('BAYERPAT'), false);
      assert.equal(fitsverify(join(out, name)).errors, 0);
    }
  }
});

/** Write `img` as `dir/name` and return the path. */
function put(dir: string, name: string, img: Image): string {
  const p = join(dir, name);
  writeFits(p, img);
  return p;
}

test('darkroom debayer refuses an unknown BAYERPAT (one line, exit 2)', (t) => {
  const dir = useTempDir(t);
  const bad = cfaFrame('RGGB');
  bad.header.set('BAYERPAT', 'RGBX');
  const fb = put(dir, 'bad.fits', bad);
  const r = runCli(['debayer', fb, '-o', join(dir, 'o')]);
  assert.equal(r.code, 2);
  assert.equal(r.stderr, `darkroom: ${fb}: BAYERPAT 'RGBX' is not a known CFA pattern (RGGB, BGGR, GRBG, GBRG, XTRANS or a 36-letter X-Trans layout)\n`);
});

test('darkroom debayer refuses a 3-plane image (one line, exit 2)', (t) => {
  const dir = useTempDir(t);
  const frgb = put(dir, 'rgb.fits', createImage(8, 8, 3));
  const r = runCli(['debayer', frgb, '-o', join(dir, 'o')]);
  assert.equal(r.code, 2);
  assert.equal(r.stderr, `darkroom: ${frgb}: image has 3 planes: it is already colour, there is no mosaic to debayer\n`);
});

test('darkroom debayer refuses a frame with no pattern (one line, exit 2)', (t) => {
  const dir = useTempDir(t);
  const fmono = put(dir, 'mono.fits', createImage(8, 8, 1));
  const r = runCli(['debayer', fmono, '-o', join(dir, 'o')]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^darkroom: .*mono\.fits: no BAYERPAT keyword/);
  assert.equal(r.stderr.split('\n').length, 2);
});

test('darkroom debayer --pattern: a bad method is refused (one line, exit 2), a known one runs', (t) => {
  const dir = useTempDir(t);
  const fmono = put(dir, 'mono.fits', createImage(8, 8, 1));
  let r = runCli(['debayer', fmono, '--pattern', 'RGGB', '--method', 'ahd', '-o', join(dir, 'o')]);
  assert.equal(r.code, 2);
  assert.equal(r.stderr, "darkroom: unknown method 'ahd' (choose superpixel, bilinear, vng, rcd)\n");
  r = runCli(['debayer', fmono, '--pattern', 'RGGB', '--method', 'bilinear', '-o', join(dir, 'o')]);
  assert.equal(r.code, 0, r.stderr);
});

/** A 6x4 mono frame with pixel values 0..23 in row order. */
function ramp(dir: string): string {
  const img = createImage(6, 4, 1);
  img.data[0] = Float32Array.from({ length: 24 }, (_, i) => i);
  return put(dir, 'm.fits', img);
}

test('darkroom bin: 2x2 sum', (t) => {
  const dir = useTempDir(t);
  const r = runCli(['bin', ramp(dir), '--factor', '2x2', '--mode', 'sum', '-o', join(dir, 's.fits'), '--json']);
  assert.equal(r.code, 0, r.stderr);
  const s = readFits(join(dir, 's.fits'));
  assert.deepEqual([s.width, s.height], [3, 2]);
  assert.deepEqual([...s.data[0]!], [0 + 1 + 6 + 7, 2 + 3 + 8 + 9, 4 + 5 + 10 + 11, 12 + 13 + 18 + 19, 14 + 15 + 20 + 21, 16 + 17 + 22 + 23]);
  assert.equal(fitsverify(join(dir, 's.fits')).errors, 0);
});

test('darkroom bin: asymmetric 3x2 average', (t) => {
  const dir = useTempDir(t);
  const r = runCli(['bin', ramp(dir), '--factor', '3x2', '-o', join(dir, 'a.fits')]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual([...readFits(join(dir, 'a.fits')).data[0]!], [(0 + 1 + 2 + 6 + 7 + 8) / 6, (3 + 4 + 5 + 9 + 10 + 11) / 6, (12 + 13 + 14 + 18 + 19 + 20) / 6, (15 + 16 + 17 + 21 + 22 + 23) / 6]);
});

test('darkroom bin: a factor larger than the image is refused (one line, exit 2)', (t) => {
  const dir = useTempDir(t);
  const f = ramp(dir);
  const r = runCli(['bin', f, '--factor', '8x2', '-o', join(dir, 'x.fits')]);
  assert.equal(r.code, 2);
  assert.equal(r.stderr, `darkroom: ${f}: binning factor 8x2 is larger than the image (6x4)\n`);
});

test('darkroom bin: a CFA frame is binned with a warning', (t) => {
  const dir = useTempDir(t);
  const fc = put(dir, 'cfa.fits', cfaFrame('RGGB'));
  const r = runCli(['bin', fc, '--factor', '2x2', '-o', join(dir, 'c.fits')]);
  assert.equal(r.code, 0);
  assert.match(r.stderr, /warning: .*mixes the colours of the CFA pattern/);
});

describe('darkroom channels and combine-rgb on one BGGR frame', () => {
  const dir = fileTempDir();
  const f = join(dir, 'cfa.fits');
  const out: Record<string, string> = {};
  before(() => {
    writeFits(f, cfaFrame('BGGR'));
    for (const k of ['r', 'g', 'b', 'ha', 'oiii']) {
      out[k] = join(dir, `${k}.fits`);
      const r = runCli(['channels', f, '--keep', k, '-o', out[k]!]);
      assert.equal(r.code, 0, r.stderr);
    }
  });

  test('channels: r, g, b, ha and oiii from a CFA, at half size', () => {
    const val = (k: string) => readFits(out[k]!).data[0]![5]!;
    assert.equal(val('ha'), 3000);
    assert.equal(val('r'), 3000);
    assert.equal(val('g'), 1500);
    assert.equal(val('b'), 500);
    assert.ok(Math.abs(val('oiii') - (1500 * 2 + 500) / 3) < 1e-3);
    assert.equal(readFits(out.ha!).width, W / 2);
  });

  test('channels: an unknown selection is refused (exit 2)', () => {
    const r = runCli(['channels', f, '--keep', 'sii', '-o', join(dir, 'x.fits')]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown selection 'sii'/);
  });

  test('combine-rgb: R G B back into RGB, fitsverify clean', () => {
    const rgbOut = join(dir, 'rgb.fits');
    const r = runCli(['combine-rgb', out.r!, out.g!, out.b!, '-o', rgbOut]);
    assert.equal(r.code, 0, r.stderr);
    const rgb = readFits(rgbOut);
    assert.deepEqual(rgb.data.map((p) => p[0]), [3000, 1500, 500]);
    assert.equal(fitsverify(rgbOut).errors, 0);
  });

  test('combine-rgb --lum: LRGB with a 2x2-binned RGB, at the size of L, with Y = L', () => {
    // L at full size (W x H), RGB channels are half size
    const L = createImage(W, H, 1);
    L.data[0]!.fill(2000);
    const r = runCli(['combine-rgb', out.r!, out.g!, out.b!, '--lum', put(dir, 'L.fits', L), '-o', join(dir, 'lrgb.fits'), '--json']);
    assert.equal(r.code, 0, r.stderr);
    const lrgb = readFits(join(dir, 'lrgb.fits'));
    assert.deepEqual([lrgb.width, lrgb.height, lrgb.channels], [W, H, 3]);
    const [R, G, B] = lrgb.data.map((p) => p[7]!) as [number, number, number];
    assert.ok(Math.abs(0.2126729 * R + 0.7151522 * G + 0.072175 * B - 2000) < 0.5);
    assert.ok(R > G && G > B);
  });

  test('combine-rgb: planes of different sizes are refused (exit 2)', () => {
    const r = runCli(['combine-rgb', out.r!, f, out.b!, '-o', join(dir, 'bad.fits')]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /cfa\.fits: G is 24x16 but R is 12x8/);
  });
});
