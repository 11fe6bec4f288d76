import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createDrizzle, drizzleAddCfa, drizzleResult, type DrizzleAccumulator } from '../../src/register/drizzle.js';
import { warpPlane, warpRows } from '../../src/register/resample.js';
import { invert, type Mat3 } from '../../src/register/transform.js';
import { parseCfa, cfaColor } from '../../src/color/cfa.js';
import { renderStars, randomStarField } from '../../src/devices/sim/stars.js';
import { Rng } from '../../src/util/random.js';
import { readFits } from '../../src/fits/index.js';
import { fitsverify, runCli, subdir, useTempDir } from '../helpers/env.js';
import { writePlane } from '../helpers/fits.js';

type Scene = (c: number, u: number, v: number) => number;
const W = 96, H = 80;
/** A smooth colour scene: three different gradients/waves, all > 100. */
const rgbScene: Scene = (c, u, v) => [
  1000 + 600 * Math.sin(u / 13) * Math.cos(v / 17) + 4 * u,
  800 + 500 * Math.cos((u + v) / 15) + 3 * v,
  600 + 400 * Math.sin((u - 2 * v) / 19),
][c]!;
const redScene: Scene = (c, u, v) => (c === 0 ? 1500 + 500 * Math.sin(u / 11) * Math.sin(v / 9) : 0);

/** Mosaic of `scene` seen with a frame -> reference shift (dx, dy): frame pixel (x, y) shows scene point (x + dx, y + dy). */
function mosaic(scene: Scene, dx: number, dy: number, pattern = 'RGGB'): Float32Array {
  const cfa = parseCfa(pattern)!;
  const p = new Float32Array(W * H);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) p[y * W + x] = scene(cfaColor(cfa, x, y), x + dx, y + dy);
  return p;
}
const shiftH = (dx: number, dy: number): Mat3 => Float64Array.from([1, 0, dx, 0, 1, dy, 0, 0, 1]);
// dithers: every parity of the integer shift (each colour lands on every output pixel), random fractions
const rng = new Rng(7);
const DITHERS = [[0, 0], [1, 0], [0, 1], [1, 1], [2, 1], [1, 2], [3, 3], [2, 0]].map(([a, b]) => [a! + 0.5 * (rng.uniform() - 0.5), b! + 0.5 * (rng.uniform() - 0.5)] as const);

function drizzleSet(scene: Scene, pattern: string, scale: number, pixfrac: number): Float32Array[] {
  const cfa = parseCfa(pattern)!;
  const accs = [0, 1, 2].map(() => createDrizzle(W, H, scale)) as [DrizzleAccumulator, DrizzleAccumulator, DrizzleAccumulator];
  for (const [dx, dy] of DITHERS) drizzleAddCfa(accs, mosaic(scene, dx, dy, pattern), W, H, cfa, shiftH(dx, dy), pixfrac);
  return accs.map(drizzleResult);
}

test('CFA drizzle: a dithered Bayer set reconstructs a known RGB scene within 2%; every pattern', () => {
  for (const pattern of ['RGGB', 'BGGR', 'GRBG', 'GBRG']) {
    const out = drizzleSet(rgbScene, pattern, 1, 1);
    for (let c = 0; c < 3; c++) {
      let worst = 0, nan = 0, n = 0;
      for (let y = 8; y < H - 8; y++) for (let x = 8; x < W - 8; x++) {
        const v = out[c]![y * W + x]!;
        if (!(v === v)) { nan++; continue; }
        worst = Math.max(worst, Math.abs(v / rgbScene(c, x, y) - 1));
        n++;
      }
      assert.equal(nan, 0, `${pattern} plane ${c}: ${nan} uncovered pixels`);
      assert.ok(worst < 0.02, `${pattern} plane ${c}: worst relative error ${worst}`);
      assert.ok(n > 4000);
    }
  }
  // 2x with pixfrac 0.7 still follows the scene (output pixel k at reference (k + 0.5) / 2 - 0.5)
  const out2 = drizzleSet(rgbScene, 'RGGB', 2, 0.7);
  let worst = 0, cover = 0, tot = 0, sumErr = 0;
  for (let c = 0; c < 3; c++) for (let y = 16; y < 2 * H - 16; y++) for (let x = 16; x < 2 * W - 16; x++) {
    const v = out2[c]![y * 2 * W + x]!;
    tot++;
    if (!(v === v)) continue;
    cover++;
    const e = Math.abs(v / rgbScene(c, (x + 0.5) / 2 - 0.5, (y + 0.5) / 2 - 0.5) - 1);
    worst = Math.max(worst, e);
    sumErr += e;
  }
  // 8 drops per colour and output pixel at most: the drop-centre offsets on the scene gradient cost a few %
  assert.ok(cover / tot > 0.97 && worst < 0.06 && sumErr / cover < 0.015, `2x: coverage ${cover / tot}, worst ${worst}, mean ${sumErr / cover}`);
});

test('CFA drizzle: a red-only scene comes out red (G and B exactly 0), and a wrong pattern would not', () => {
  const out = drizzleSet(redScene, 'RGGB', 1, 1);
  let rMin = Infinity, gb = 0;
  for (let y = 8; y < H - 8; y++) for (let x = 8; x < W - 8; x++) {
    const i = y * W + x;
    rMin = Math.min(rMin, out[0]![i]!);
    gb = Math.max(gb, Math.abs(out[1]![i]!), Math.abs(out[2]![i]!));
    assert.ok(Math.abs(out[0]![i]! / redScene(0, x, y) - 1) < 0.02);
  }
  assert.ok(rMin > 900 && gb === 0, `R min ${rMin}, max |G|,|B| ${gb}`);
  // the same mosaics read as BGGR put the red signal into blue
  const cfa = parseCfa('BGGR')!;
  const accs = [0, 1, 2].map(() => createDrizzle(W, H, 1)) as [DrizzleAccumulator, DrizzleAccumulator, DrizzleAccumulator];
  for (const [dx, dy] of DITHERS) drizzleAddCfa(accs, mosaic(redScene, dx, dy, 'RGGB'), W, H, cfa, shiftH(dx, dy));
  const b = drizzleResult(accs[2]);
  assert.ok(b[40 * W + 40]! > 900);
});

test('resampling: the separable two-pass path equals the direct per-pixel path (shift + scale, lanczos3 and bicubic)', () => {
  const w = 120, h = 90;
  const rng2 = new Rng(3);
  const src = new Float32Array(w * h);
  for (let i = 0; i < src.length; i++) src[i] = 500 + 20 * rng2.gauss();
  renderStars(src, w, h, randomStarField(5, w, h, 30, { fluxMin: 2000, fluxMax: 80000 }), { kind: 'gaussian', fwhm: 2.5 });
  for (const Hm of [shiftH(3.37, -2.81), Float64Array.from([1.07, 0, -4.2, 0, 0.95, 6.6, 0, 0, 1])]) {
    for (const interp of ['lanczos3', 'bicubic'] as const) {
      const fast = warpPlane(src, w, h, Hm, w, h, interp);
      const direct = new Float32Array(w * h);
      warpRows({ src, w, h, inv: invert(Hm), outW: w, outH: h, interp, clamp: 0.3 }, direct, 0, h, true);
      let maxd = 0, nanDiff = 0;
      for (let i = 0; i < fast.length; i++) {
        if ((fast[i]! === fast[i]!) !== (direct[i]! === direct[i]!)) nanDiff++;
        else if (fast[i]! === fast[i]!) maxd = Math.max(maxd, Math.abs(fast[i]! - direct[i]!));
      }
      assert.equal(nanDiff, 0);
      assert.ok(maxd < 1e-3, `${interp}: max difference ${maxd}`);
    }
  }
});

test('CLI register --cfa-drizzle: Bayer mosaics with stars give an RGB image with the colour of the scene', (t) => {
  const dir = useTempDir(t);
  const colour = [1, 0.6, 0.3];
  const files = DITHERS.slice(0, 6).map(([dx, dy], k) => {
    // stars (grey) on a coloured background; frame pixel (x, y) = reference (x + dx, y + dy)
    const planes = [0, 1, 2].map(() => new Float32Array(W * 2 * H * 2));
    const WW = W * 2, HH = H * 2;
    const stars = randomStarField(11, WW, HH, 60, { fluxMin: 20000, fluxMax: 200000 }).map((s) => ({ ...s, x: s.x - dx, y: s.y - dy }));
    const cfa = parseCfa('RGGB')!;
    const r = new Rng(100 + k);
    const mos = new Float32Array(WW * HH);
    for (let c = 0; c < 3; c++) renderStars(planes[c]!, WW, HH, stars, { kind: 'gaussian', fwhm: 3.5 });
    for (let y = 0; y < HH; y++) for (let x = 0; x < WW; x++) { const c = cfaColor(cfa, x, y); mos[y * WW + x] = 1000 * colour[c]! + planes[c]![y * WW + x]! + 3 * r.gauss(); }
    return writePlane(join(dir, `c${k}.fits`), mos, WW, HH, { cfa: 'RGGB' });
  });
  const out = subdir(dir);
  const r = runCli(['register', ...files, '-o', out, '--model', 'shift', '--cfa-drizzle', '--reference', files[0]!, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  const f3 = j.frames[3];
  assert.ok(Math.abs(f3.dx - (DITHERS[3]![0] - DITHERS[0]![0])) < 0.1 && Math.abs(f3.dy - (DITHERS[3]![1] - DITHERS[0]![1])) < 0.1, `dx ${f3.dx} dy ${f3.dy}`);
  const img = readFits(join(out, 'c3_r.fits'));
  assert.equal(img.channels, 3);
  assert.equal(img.header.get('BAYERPAT'), undefined);
  assert.equal(img.header.getString('REGINTP'), 'cfa-drizzle');
  assert.equal(fitsverify(join(out, 'c3_r.fits')).errors, 0);
  // background colour: medians of each plane
  const med = img.data.map((d) => { const a = Float64Array.from(d.filter((v) => v === v)).sort(); return a[a.length >> 1]!; });
  med.forEach((m, c) => assert.ok(Math.abs(m / (1000 * colour[c]!) - 1) < 0.02, `plane ${c} median ${m}`));
});
