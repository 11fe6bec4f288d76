import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { binImage, binPlane, parseBinFactor } from '../../src/color/bin.js';
import { combineLrgb, combineRgb, extractChannel, luminanceY } from '../../src/color/channels.js';
import { parseCfa } from '../../src/color/cfa.js';
import { createImage } from '../../src/image/image.js';
import { DarkroomError } from '../../src/util/errors.js';
import { runPython, useTempDir } from '../helpers/env.js';

test('binning by sum and average matches numpy reshape for 2x2, 3x3, 1x2, 3x2 (remainder dropped)', (t) => {
  const dir = useTempDir(t);
  const w = 23;
  const h = 17;
  const a = Float32Array.from({ length: w * h }, (_, i) => ((i * 2654435761) % 10007) / 7);
  const f = join(dir, 'a.f32');
  writeFileSync(f, Buffer.from(a.buffer));
  for (const [fx, fy] of [[2, 2], [3, 3], [1, 2], [3, 2], [23, 1]] as const) {
    const ref = JSON.parse(runPython(
      `import numpy as np, sys, json
a = np.fromfile(sys.argv[1], dtype='<f4').astype(np.float64).reshape(${h}, ${w})
fx, fy = ${fx}, ${fy}
H, W = a.shape[0] // fy, a.shape[1] // fx
b = a[:H*fy, :W*fx].reshape(H, fy, W, fx)
print(json.dumps({'sum': b.sum(axis=(1, 3)).ravel().tolist(), 'avg': b.mean(axis=(1, 3)).ravel().tolist(), 'W': W, 'H': H}))`,
      [f],
    ));
    for (const mode of ['sum', 'average'] as const) {
      const out = binPlane(a, w, h, fx, fy, mode);
      assert.equal(out.width, ref.W);
      assert.equal(out.height, ref.H);
      const exp: number[] = mode === 'sum' ? ref.sum : ref.avg;
      exp.forEach((v, i) => assert.ok(Math.abs(out.data[i]! - v) <= 1e-5 * Math.abs(v) + 1e-4, `${fx}x${fy} ${mode} ${i}: ${out.data[i]} vs ${v}`));
    }
  }
});

test('binning skips NaN (average of valid; sum scaled to the full block), all-NaN block is NaN', () => {
  const a = Float32Array.from([1, 2, NaN, NaN, 3, NaN, NaN, NaN]);
  const s = binPlane(a, 4, 2, 2, 2, 'sum');
  assert.ok(Math.abs(s.data[0]! - 8) < 1e-6); // mean 2 of 3 valid * 4
  assert.ok(Number.isNaN(s.data[1]!));
  assert.ok(Math.abs(binPlane(a, 4, 2, 2, 2, 'average').data[0]! - 2) < 1e-6);
});

test('binImage: factor larger than the image is an error; CFA data warns and loses BAYERPAT; headers scaled', () => {
  const img = createImage(10, 8, 1);
  img.header.set('BAYERPAT', 'RGGB');
  img.header.set('XBINNING', 1);
  img.header.set('XPIXSZ', 3.8);
  const { image, warnings } = binImage(img, 2, 2, 'sum');
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /mixes the colours of the CFA pattern/);
  assert.equal(image.header.has('BAYERPAT'), false);
  assert.equal(image.header.getNumber('XBINNING'), 2);
  assert.equal(image.header.getNumber('YBINNING'), 2);
  assert.ok(Math.abs(image.header.getNumber('XPIXSZ')! - 7.6) < 1e-9);
  assert.throws(() => binImage(img, 11, 1, 'sum', 'f.fits'), (e: unknown) => e instanceof DarkroomError && e.code === 'BAD_ARGUMENT' && /larger than the image \(10x8\)/.test(e.message));
  const rgb = binImage(createImage(6, 6, 3), 3, 3, 'average');
  assert.equal(rgb.warnings.length, 0);
  assert.equal(rgb.image.channels, 3);
});

test('parseBinFactor: NxM or N; other forms and factors below 1 refused', () => {
  assert.deepEqual(parseBinFactor('3x2'), [3, 2]);
  assert.deepEqual(parseBinFactor('2'), [2, 2]);
  assert.throws(() => parseBinFactor('2y2'), /not of the form NxM/);
  assert.throws(() => parseBinFactor('0x2'), /at least 1x1/);
});

test('channels from a CFA: r, g (mean of both greens), b, ha (red only), oiii (greens + blue); from RGB too', () => {
  // GRBG cell: G1 R / B G2 with known values per cell
  const w = 4;
  const h = 2;
  const m = Float32Array.from([10, 100, 11, 101, 1000, 20, 1001, 21]);
  const img = createImage(w, h, 1);
  img.data = [m];
  const cfa = parseCfa('GRBG')!;
  const get = (k: 'r' | 'g' | 'b' | 'ha' | 'oiii') => [...extractChannel(img, k, cfa).data[0]!];
  assert.deepEqual(get('r'), [100, 101]);
  assert.deepEqual(get('ha'), [100, 101]);
  assert.deepEqual(get('g'), [15, 16]);
  assert.deepEqual(get('b'), [1000, 1001]);
  assert.deepEqual(get('oiii'), [(10 + 20 + 1000) / 3, (11 + 21 + 1001) / 3].map((v) => Math.fround(v)));
  const out = extractChannel(img, 'ha', cfa);
  assert.equal(out.width, 2);
  assert.equal(out.header.getString('CHANNEL'), 'H-alpha');
  const rgb = createImage(2, 1, 3);
  rgb.data = [Float32Array.from([1, 2]), Float32Array.from([3, 4]), Float32Array.from([5, 6])];
  assert.deepEqual([...extractChannel(rgb, 'oiii').data[0]!], [4, 5]);
  assert.deepEqual([...extractChannel(rgb, 'b').data[0]!], [5, 6]);
  assert.throws(() => extractChannel(img, 'r', undefined, 'm.fits'), /without a CFA pattern/);
  assert.throws(() => extractChannel(img, 'r', parseCfa('XTRANS')!), /needs a 2x2 Bayer pattern/);
});

test('combineRgb stacks planes; size mismatch is an error', () => {
  const mk = (v: number, w = 3, h = 2) => {
    const i = createImage(w, h, 1);
    i.data[0]!.fill(v);
    return i;
  };
  const out = combineRgb(mk(1), mk(2), mk(3));
  assert.equal(out.channels, 3);
  assert.deepEqual(out.data.map((p) => p[0]), [1, 2, 3]);
  assert.throws(() => combineRgb(mk(1), mk(2, 4, 2), mk(3), ['r', 'g', 'b']), (e: unknown) => e instanceof DarkroomError && e.file === 'g' && e.code === 'MISMATCH');
});

test('LRGB: L = Y(RGB) gives back RGB', () => {
  const W = 8;
  const H = 6;
  const rgb = createImage(W, H, 3);
  for (let i = 0; i < W * H; i++) {
    rgb.data[0]![i] = 200 + 30 * i;
    rgb.data[1]![i] = 500 + 10 * (i % 5);
    rgb.data[2]![i] = 900 - 7 * i;
  }
  const L = createImage(W, H, 1);
  for (let i = 0; i < W * H; i++) L.data[0]![i] = luminanceY(rgb.data[0]![i]!, rgb.data[1]![i]!, rgb.data[2]![i]!);
  const same = combineLrgb(L, rgb);
  for (let c = 0; c < 3; c++) for (let i = 0; i < W * H; i++) assert.ok(Math.abs(same.data[c]![i]! - rgb.data[c]![i]!) < 1e-2, `identity ${c} ${i}`);
});

test('LRGB: grey stays grey with Y = L; a 2x2-binned RGB is upsampled', () => {
  // grey RGB at 100, L at 400: output grey 400 (L* replaced, a* = b* = 0)
  const grey = createImage(4, 4, 3);
  grey.data.forEach((p) => p.fill(100));
  const L2 = createImage(8, 8, 1);
  L2.data[0]!.fill(400);
  const up = combineLrgb(L2, grey);
  assert.equal(up.width, 8);
  for (let c = 0; c < 3; c++) for (const v of up.data[c]!) assert.ok(Math.abs(v - 400) < 1e-2, `grey ${c} ${v}`);
});

test('LRGB: colour ratios kept (a brighter L raises Y to L, hue order unchanged)', () => {
  const col = createImage(1, 1, 3);
  col.data = [Float32Array.from([300]), Float32Array.from([200]), Float32Array.from([100])];
  const L3 = createImage(1, 1, 1);
  L3.data[0]![0] = 400;
  const o = combineLrgb(L3, col);
  assert.ok(Math.abs(luminanceY(o.data[0]![0]!, o.data[1]![0]!, o.data[2]![0]!) - 400) < 0.5);
  assert.ok(o.data[0]![0]! > o.data[1]![0]! && o.data[1]![0]! > o.data[2]![0]!);
});

test('LRGB: an RGB larger than the luminance is refused', () => {
  assert.throws(() => combineLrgb(createImage(2, 2, 1), createImage(4, 4, 3)), /larger than the luminance/);
});
