import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  BAYER_PATTERNS, cfaColor, cfaFromHeader, cfaName, cropCfa, flipCfa, parseCfa, requireCfa, rotateCfa, XTRANS_DEFAULT, type Cfa,
} from '../../src/color/cfa.js';
import { debayerPlane } from '../../src/color/debayer.js';
import { FitsHeader } from '../../src/fits/index.js';
import { DarkroomError } from '../../src/util/errors.js';
import { mosaic, scene } from './synth.js';

const LETTER = 'RGB';

test('parseCfa: Bayer names, X-Trans, rejects unknown layouts', () => {
  assert.deepEqual([...parseCfa('RGGB')!.colors], [0, 1, 1, 2]);
  assert.deepEqual([...parseCfa('gbrg')!.colors], [1, 2, 0, 1]);
  assert.equal(cfaName(parseCfa('RG/GB')!), 'RGGB');
  const x = parseCfa('XTRANS')!;
  assert.equal(x.size, 6);
  assert.equal(cfaName(x), XTRANS_DEFAULT);
  for (const bad of ['RGBG', 'RRGB', 'CYGM', 'RGGBX', '', 'GGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGGG']) assert.equal(parseCfa(bad), undefined, bad);
  assert.throws(() => requireCfa('RGBG', 'BAYERPAT', 'f.fits'), (e: unknown) => e instanceof DarkroomError && e.code === 'BAD_HEADER' && /BAYERPAT 'RGBG' is not a known CFA pattern/.test(e.message));
});

/** Brute force: the colour of new pixel (x, y) after a geometric operation must equal the old colour at the mapped position. */
function checkOp(cfa: Cfa, W: number, H: number, op: (c: Cfa) => Cfa, map: (x: number, y: number) => [number, number]): void {
  const n = op(cfa);
  for (let y = 0; y < 12; y++) for (let x = 0; x < 12; x++) {
    const [ox, oy] = map(x, y);
    assert.equal(cfaColor(n, x, y), cfaColor(cfa, ox, oy), `(${x},${y})`);
  }
}

test('cropCfa / flipCfa / rotateCfa give the pattern of the transformed image (Bayer and X-Trans, odd and even sizes)', () => {
  for (const name of [...BAYER_PATTERNS, 'XTRANS']) {
    const cfa = parseCfa(name)!;
    for (const [W, H] of [[20, 14], [21, 15], [23, 18]] as const) {
      checkOp(cfa, W, H, (c) => cropCfa(c, 3, 1), (x, y) => [x + 3, y + 1]);
      checkOp(cfa, W, H, (c) => flipCfa(c, 'vertical', W, H), (x, y) => [x, H - 1 - y]);
      checkOp(cfa, W, H, (c) => flipCfa(c, 'horizontal', W, H), (x, y) => [W - 1 - x, y]);
      checkOp(cfa, W, H, (c) => rotateCfa(c, 180, W, H), (x, y) => [W - 1 - x, H - 1 - y]);
      checkOp(cfa, W, H, (c) => rotateCfa(c, 90, W, H), (x, y) => [y, H - 1 - x]);
      checkOp(cfa, W, H, (c) => rotateCfa(c, 270, W, H), (x, y) => [W - 1 - y, x]);
    }
  }
  // well-known cases
  assert.equal(cfaName(flipCfa(parseCfa('RGGB')!, 'vertical', 10, 10)), 'GBRG');
  assert.equal(cfaName(flipCfa(parseCfa('RGGB')!, 'vertical', 10, 11)), 'RGGB');
  assert.equal(cfaName(cropCfa(parseCfa('RGGB')!, 1, 0)), 'GRBG');
  assert.equal(cfaName(cropCfa(parseCfa('RGGB')!, 2, 2)), 'RGGB');
  assert.throws(() => cropCfa(parseCfa('RGGB')!, -1, 0), DarkroomError);
});

test('every BAYERPAT x XBAYROFF x YBAYROFF x ROWORDER x height parity maps colours right (red scene comes out red)', () => {
  const W = 16;
  let cases = 0;
  for (const pat of BAYER_PATTERNS) {
    for (const xoff of [0, 1]) for (const yoff of [0, 1]) for (const order of ['TOP-DOWN', 'BOTTOM-UP', undefined]) for (const H of [12, 13]) {
      // The camera's view, top-down: pixel (x, yt) carries BAYERPAT[(yt + yoff) % 2][(x + xoff) % 2].
      const topDown = (x: number, yt: number) => 'RGB'.indexOf(pat[((yt + yoff) % 2) * 2 + ((x + xoff) % 2)]!);
      // Stored rows: TOP-DOWN (or absent) = as seen; BOTTOM-UP = last row of the picture first.
      const storedColor = (x: number, y: number) => topDown(x, order === 'BOTTOM-UP' ? H - 1 - y : y);
      const h = new FitsHeader();
      h.set('BAYERPAT', pat);
      if (xoff || yoff) {
        h.set('XBAYROFF', xoff);
        h.set('YBAYROFF', yoff);
      }
      if (order) h.set('ROWORDER', order);
      const found = cfaFromHeader(h, H)!;
      for (const colour of [0, 1, 2]) {
        const level = 1000 + 500 * colour;
        const m = new Float32Array(W * H);
        for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) m[y * W + x] = storedColor(x, y) === colour ? level : 0;
        for (const method of ['superpixel', 'bilinear', 'vng', 'rcd'] as const) {
          const out = debayerPlane(m, W, H, found.cfa, method);
          const mean = [0, 1, 2].map((c) => out.data[c].reduce((a, b) => a + b, 0) / out.data[c].length);
          for (let c = 0; c < 3; c++) {
            if (c === colour) assert.ok(Math.abs(mean[c]! - level) < 1e-3 * level, `${pat} ${xoff}${yoff} ${order} H=${H} ${method}: ${LETTER[colour]} scene, plane ${LETTER[c]} mean ${mean[c]}`);
            else assert.ok(Math.abs(mean[c]!) < 1e-3 * level, `${pat} ${xoff}${yoff} ${order} H=${H} ${method}: ${LETTER[colour]} scene leaks into ${LETTER[c]} (${mean[c]})`);
          }
        }
      }
      cases++;
    }
  }
  assert.equal(cases, 4 * 4 * 3 * 2);
});

test('cfaFromHeader: user pattern overrides, absent BAYERPAT is undefined, bad keywords are one-line errors', () => {
  const h = new FitsHeader();
  assert.equal(cfaFromHeader(h, 10), undefined);
  assert.equal(cfaName(cfaFromHeader(h, 10, 'BGGR')!.cfa), 'BGGR');
  h.set('BAYERPAT', 'RGGB');
  h.set('ROWORDER', 'BOTTOM-UP');
  assert.equal(cfaName(cfaFromHeader(h, 10)!.cfa), 'GBRG');
  assert.equal(cfaName(cfaFromHeader(h, 10, 'GRBG')!.cfa), 'GRBG');
  h.set('ROWORDER', 'SIDEWAYS');
  assert.throws(() => cfaFromHeader(h, 10, undefined, 'x.fits'), /ROWORDER 'SIDEWAYS'/);
  const h2 = new FitsHeader();
  h2.set('BAYERPAT', 'RBGG');
  assert.throws(() => cfaFromHeader(h2, 10, 'auto', 'x.fits'), (e: unknown) => e instanceof DarkroomError && e.file === 'x.fits' && e.code === 'BAD_HEADER');
  assert.throws(() => cfaFromHeader(new FitsHeader(), 10, 'RGBX'), /pattern 'RGBX' is not a known CFA pattern/);
});

test('X-Trans: recognised from a 36-letter BAYERPAT and debayered bilinearly; colours map right', () => {
  const h = new FitsHeader();
  h.set('BAYERPAT', XTRANS_DEFAULT);
  const cfa = cfaFromHeader(h, 24)!.cfa;
  assert.equal(cfa.size, 6);
  const W = 30;
  const H = 24;
  const truth = scene(W, H, (x, y, c) => 2000 + 400 * c + 30 * Math.sin(x / 14 + c) + 25 * Math.cos(y / 12));
  const out = debayerPlane(mosaic(truth, W, H, cfa), W, H, cfa, 'bilinear');
  for (let c = 0; c < 3; c++) for (let i = 0; i < W * H; i++) {
    assert.ok(Math.abs(out.data[c][i]! - truth[c][i]!) < 0.01 * truth[c][i]!, `plane ${c} pixel ${i}`);
  }
  assert.throws(() => debayerPlane(new Float32Array(W * H), W, H, cfa, 'rcd'), /needs a 2x2 Bayer pattern/);
});
