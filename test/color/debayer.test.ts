import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BAYER_PATTERNS, parseCfa, type Cfa } from '../../src/color/cfa.js';
import { debayerImage, debayerPlane, debayerSuperpixel, fillMosaicNaN } from '../../src/color/debayer.js';
import { createImage } from '../../src/image/image.js';
import { DarkroomError } from '../../src/util/errors.js';
import { errors, mosaic, scene } from './synth.js';

const W = 96;
const H = 80;
// smooth: slowly varying colour image (periods of 60-90 px), 1000-2800 ADU
const smooth = scene(W, H, (x, y, c) => 1000 + 400 * c + 300 * Math.sin(x / 14 + c) * Math.cos(y / 12 - c) + 2 * x);
// edges: a grey-ish scene with a slanted step edge and a disc (sharp transitions)
const edges = scene(W, H, (x, y, c) => {
  const inside = x - 0.37 * y > 30 || (x - 62) ** 2 + (y - 48) ** 2 < 200;
  return (inside ? 3000 : 500) * [1, 0.8, 0.6][c]!;
});

test('bilinear reconstructs a smooth image within 1% (every Bayer pattern; 3% on the one-sided 1-pixel border)', () => {
  for (const p of BAYER_PATTERNS) {
    const cfa = parseCfa(p)!;
    const out = debayerPlane(mosaic(smooth, W, H, cfa), W, H, cfa, 'bilinear');
    const e = errors(out.data, smooth, W, H, 1);
    assert.ok(e.maxRel < 0.01, `${p}: max relative error ${e.maxRel}`);
    const all = errors(out.data, smooth, W, H, 0);
    assert.ok(all.maxRel < 0.03, `${p}: max relative error with border ${all.maxRel}`);
    // known samples are kept exactly
    const m = mosaic(smooth, W, H, cfa);
    for (let i = 0; i < W * H; i += 7) {
      const c = cfa.colors[(Math.floor(i / W) % 2) * 2 + ((i % W) % 2)]!;
      assert.equal(out.data[c][i], m[i]);
    }
  }
});

test('bilinear equals the classical formulas on an interior pixel (G: 4 axial, R at B: 4 diagonal, R at G: 2)', () => {
  const cfa = parseCfa('RGGB')!;
  const m = new Float32Array(W * H);
  for (let i = 0; i < m.length; i++) m[i] = (i * 7919) % 1000;
  const out = debayerPlane(m, W, H, cfa, 'bilinear');
  const at = (x: number, y: number) => m[y * W + x]!;
  const x = 10;
  const y = 10; // R site (even, even)
  assert.ok(Math.abs(out.data[1][y * W + x]! - (at(x - 1, y) + at(x + 1, y) + at(x, y - 1) + at(x, y + 1)) / 4) < 1e-3);
  assert.ok(Math.abs(out.data[2][y * W + x]! - (at(x - 1, y - 1) + at(x + 1, y - 1) + at(x - 1, y + 1) + at(x + 1, y + 1)) / 4) < 1e-3);
  // G site (11, 10) on a red row: R from left/right, B from up/down
  assert.ok(Math.abs(out.data[0][y * W + 11]! - (at(10, y) + at(12, y)) / 2) < 1e-3);
  assert.ok(Math.abs(out.data[2][y * W + 11]! - (at(11, y - 1) + at(11, y + 1)) / 2) < 1e-3);
});

test('VNG and RCD beat bilinear on edges, and stay close to it on smooth data', () => {
  for (const p of ['RGGB', 'GBRG', 'BGGR', 'GRBG']) {
    const cfa = parseCfa(p)!;
    const m = mosaic(edges, W, H, cfa);
    const bil = errors(debayerPlane(m, W, H, cfa, 'bilinear').data, edges, W, H, 4).rms;
    const vng = errors(debayerPlane(m, W, H, cfa, 'vng').data, edges, W, H, 4).rms;
    const rcd = errors(debayerPlane(m, W, H, cfa, 'rcd').data, edges, W, H, 4).rms;
    assert.ok(vng < 0.6 * bil, `${p}: VNG rms ${vng} vs bilinear ${bil}`);
    assert.ok(rcd < 0.6 * bil, `${p}: RCD rms ${rcd} vs bilinear ${bil}`);
    const ms = mosaic(smooth, W, H, cfa);
    for (const method of ['vng', 'rcd'] as const) {
      const e = errors(debayerPlane(ms, W, H, cfa, method).data, smooth, W, H, 0);
      assert.ok(e.maxRel < 0.05, `${p} ${method} smooth max rel ${e.maxRel}`);
    }
  }
});

test('a grey (R = G = B) scene is reproduced exactly by every method (no false colour on flat data)', () => {
  const cfa = parseCfa('GRBG')!;
  const grey = scene(W, H, () => 1234.5);
  for (const method of ['superpixel', 'bilinear', 'vng', 'rcd'] as const) {
    const out = debayerPlane(mosaic(grey, W, H, cfa), W, H, cfa, method);
    for (let c = 0; c < 3; c++) for (const v of out.data[c]) assert.ok(Math.abs(v - 1234.5) < 1e-2, `${method} ${c} ${v}`);
  }
});

test('super-pixel: half size, R/B samples and mean of the two greens, odd edge dropped', () => {
  const w = 5;
  const h = 3;
  const m = Float32Array.from({ length: w * h }, (_, i) => i + 1);
  const out = debayerSuperpixel(m, w, h, parseCfa('BGGR')!);
  assert.equal(out.width, 2);
  assert.equal(out.height, 1);
  // cell (0,0): B=m[0]=1, G=(m[1]+m[5])/2=(2+6)/2, R=m[6]=7
  assert.deepEqual([out.data[0][0], out.data[1][0], out.data[2][0]], [7, 4, 1]);
  assert.deepEqual([out.data[0][1], out.data[1][1], out.data[2][1]], [9, 6, 3]);
});

/** The smooth scene through RGGB with isolated NaNs (two inside, two corners) and a 12x12 NaN hole at (50, 50). */
function nanMosaic(cfa: Cfa): Float32Array {
  const m = mosaic(smooth, W, H, cfa);
  m[20 * W + 20] = NaN;
  m[21 * W + 33] = NaN;
  m[0] = NaN; // corner
  m[(H - 1) * W + W - 1] = NaN;
  for (let y = 50; y < 62; y++) for (let x = 50; x < 62; x++) m[y * W + x] = NaN; // 12x12 hole
  return m;
}

test('NaN pixels do not spread: isolated NaNs are filled, a NaN block stays local, no garbage values', () => {
  const cfa = parseCfa('RGGB')!;
  const m = nanMosaic(cfa);
  const lo = smooth.map((p) => p.reduce((a, b) => Math.min(a, b), Infinity));
  const hi = smooth.map((p) => p.reduce((a, b) => Math.max(a, b), -Infinity));
  for (const method of ['bilinear', 'vng', 'rcd'] as const) {
    const out = debayerPlane(m, W, H, cfa, method);
    let nan = 0;
    for (let c = 0; c < 3; c++) {
      for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) {
        const v = out.data[c][y * W + x]!;
        const nearHole = x >= 40 && x < 72 && y >= 40 && y < 72;
        if (v !== v) {
          nan++;
          assert.ok(nearHole, `${method}: NaN at (${x},${y}) far from the hole`);
        } else {
          const t = smooth[c][y * W + x]!;
          const inHole = x >= 48 && x < 64 && y >= 48 && y < 64;
          // outside the hole: as accurate as without NaNs; inside: a plausible value of the scene, never garbage
          if (!inHole) assert.ok(Math.abs(v - t) < 0.05 * t, `${method}: (${x},${y}) plane ${c} ${v} vs ${t}`);
          else assert.ok(v > 0.8 * lo[c]! && v < 1.2 * hi[c]!, `${method}: (${x},${y}) plane ${c} ${v} outside the scene range`);
        }
      }
    }
    assert.ok(nan < 3 * 32 * 32, `${method}: ${nan} NaN`);
  }
});

test('fillMosaicNaN fills a 12x12 NaN hole; an all-NaN mosaic debayers to NaN', () => {
  const cfa = parseCfa('RGGB')!;
  const { bad } = fillMosaicNaN(nanMosaic(cfa), W, H, cfa);
  assert.equal(bad, null); // 6 passes fill a 12x12 hole
  const allNan = new Float32Array(64).fill(NaN);
  const out = debayerPlane(allNan, 8, 8, cfa, 'vng');
  assert.ok(out.data.every((p) => p.every((v) => v !== v)));
});

test('debayerImage: 3 planes, header keeps user cards and drops BAYERPAT; refuses RGB input', () => {
  const img = createImage(8, 6, 1);
  img.header.set('BAYERPAT', 'RGGB');
  img.header.set('XPIXSZ', 3.76);
  img.header.set('OBJECT', 'M42');
  const out = debayerImage(img, parseCfa('RGGB')!, 'superpixel');
  assert.equal(out.channels, 3);
  assert.equal(out.width, 4);
  assert.equal(out.header.has('BAYERPAT'), false);
  assert.equal(out.header.getString('OBJECT'), 'M42');
  assert.ok(Math.abs(out.header.getNumber('XPIXSZ')! - 7.52) < 1e-9);
  assert.throws(() => debayerImage(createImage(8, 6, 3), parseCfa('RGGB')!, 'rcd', 'c.fits'), (e: unknown) => e instanceof DarkroomError && e.code === 'BAD_ARGUMENT' && /already colour/.test(e.message));
});

test('bilinear fast Bayer path (no NaN) equals the generic NaN-aware path away from a NaN', () => {
  const cfa = parseCfa('GBRG')!;
  const m = mosaic(smooth, W, H, cfa);
  const fast = debayerPlane(m, W, H, cfa, 'bilinear');
  const m2 = m.slice();
  m2[0] = NaN; // forces the generic path
  const gen = debayerPlane(m2, W, H, cfa, 'bilinear');
  for (let c = 0; c < 3; c++) for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) {
    if (x < 3 && y < 3) continue;
    const i = y * W + x;
    assert.ok(Math.abs(fast.data[c][i]! - gen.data[c][i]!) < 1e-3, `(${x},${y}) ${c}`);
  }
});
