import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { inflateSync } from 'node:zlib';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { mtf, midtonesFor, autoStf, renderStretched } from '../../src/render/stretch.js';
import { encodePng } from '../../src/render/png.js';
import { createImage } from '../../src/image/image.js';
import { writeFits } from '../../src/fits/writer.js';
import { Rng } from '../../src/util/random.js';
import { fileTempDir, runCli } from '../helpers/env.js';

/** Minimal PNG decoder for the encoder's own output (filters 0-2), to check pixels. */
function decodePng(buf: Buffer): { width: number; height: number; channels: number; px: Uint8Array } {
  assert.deepEqual([...buf.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  let off = 8;
  let width = 0;
  let height = 0;
  let channels = 0;
  const idat: Buffer[] = [];
  while (off < buf.length) {
    const len = buf.readUInt32BE(off);
    const type = buf.toString('latin1', off + 4, off + 8);
    const data = buf.subarray(off + 8, off + 8 + len);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      assert.equal(data[8], 8);
      channels = data[9] === 2 ? 3 : 1;
    } else if (type === 'IDAT') idat.push(data);
    off += 12 + len;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  const px = new Uint8Array(stride * height);
  for (let y = 0; y < height; y++) {
    const f = raw[y * (stride + 1)]!;
    for (let i = 0; i < stride; i++) {
      const v = raw[y * (stride + 1) + 1 + i]!;
      const left = i >= channels ? px[y * stride + i - channels]! : 0;
      const up = y > 0 ? px[(y - 1) * stride + i]! : 0;
      px[y * stride + i] = (v + (f === 1 ? left : f === 2 ? up : 0)) & 0xff;
    }
  }
  return { width, height, channels, px };
}

test('MTF: fixed points, the midtones balance maps x to y, monotonic', () => {
  for (const m of [0.05, 0.25, 0.5, 0.8]) {
    assert.equal(mtf(m, 0), 0);
    assert.equal(mtf(m, 1), 1);
    assert.ok(Math.abs(mtf(m, m) - 0.5) < 1e-12);
  }
  for (const [x, y] of [[0.01, 0.25], [0.3, 0.25], [0.002, 0.5]] as const) {
    assert.ok(Math.abs(mtf(midtonesFor(x, y), x) - y) < 1e-12);
  }
  let prev = -1;
  for (let x = 0; x <= 1; x += 0.01) {
    const v = mtf(0.1, x);
    assert.ok(v > prev);
    prev = v;
  }
});

test('auto STF puts the background median at the target and clips shadows at median - 2.8 MADN', () => {
  const img = createImage(200, 150);
  const rng = new Rng(3);
  const d = img.data[0]!;
  for (let i = 0; i < d.length; i++) d[i] = 1000 + 20 * rng.gauss();
  d[5] = 60000; // a star's peak sets the range
  const [stf] = autoStf(img);
  const px = renderStretched(img, [stf!]);
  const sorted = Array.from(px).sort((a, b) => a - b);
  const med = sorted[sorted.length >> 1]!;
  assert.ok(Math.abs(med - 0.25 * 255) <= 2, `stretched median ${med}`);
  const black = px.filter((v) => v === 0).length / px.length;
  // Gaussian: fraction below median - 2.8 sigma is 0.26%
  assert.ok(black > 0.001 && black < 0.006, `black fraction ${black}`);
  assert.equal(px[5], 255);
});

test('unlinked stretch neutralizes a colour cast of the background; linked keeps it', () => {
  const img = createImage(64, 64, 3);
  const rng = new Rng(5);
  const levels = [800, 1600, 1200];
  for (let c = 0; c < 3; c++) for (let i = 0; i < 64 * 64; i++) img.data[c]![i] = levels[c]! + 15 * rng.gauss();
  img.data[0]![0] = 40000;
  const medOf = (px: Uint8Array, c: number): number => {
    const v: number[] = [];
    for (let i = c; i < px.length; i += 3) v.push(px[i]!);
    v.sort((a, b) => a - b);
    return v[v.length >> 1]!;
  };
  const un = renderStretched(img, autoStf(img, { linked: false }));
  const ln = renderStretched(img, autoStf(img, { linked: true }));
  const u = [0, 1, 2].map((c) => medOf(un, c));
  const l = [0, 1, 2].map((c) => medOf(ln, c));
  assert.ok(Math.max(...u) - Math.min(...u) <= 2, `unlinked medians ${u}`);
  assert.ok(l[1]! - l[0]! > 20, `linked medians ${l}`);
});

describe('darkroom stretch', () => {
  const dir = fileTempDir();
  const fits = join(dir, 'a.fits');
  const img = createImage(40, 30);
  before(() => {
    const rng = new Rng(9);
    for (let i = 0; i < img.data[0]!.length; i++) img.data[0]![i] = 500 + 10 * rng.gauss() + (i % 40) * 3;
    writeFits(fits, img);
  });

  test('writes a PNG whose pixels decode to the stretched image', () => {
    const out = join(dir, 'a.png');
    const r = runCli(['stretch', fits, out]);
    assert.equal(r.code, 0, r.stderr);
    const png = decodePng(readFileSync(out));
    assert.equal(png.width, 40);
    assert.equal(png.height, 30);
    assert.deepEqual(png.px, renderStretched(img, autoStf(img)));
  });

  test('refuses an output that is not .png (exit 2)', () => {
    const bad = runCli(['stretch', fits, join(dir, 'a.jpg')]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /a\.jpg: output must be a \.png file/);
  });
});

test('PNG encoder: RGB round trip', () => {
  const px = new Uint8Array(7 * 5 * 3);
  for (let i = 0; i < px.length; i++) px[i] = (i * 37) & 0xff;
  const d = decodePng(encodePng(7, 5, 3, px));
  assert.equal(d.channels, 3);
  assert.deepEqual(d.px, px);
});
