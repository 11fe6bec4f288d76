import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderStars, randomStarField, type SimStar } from '../../src/devices/sim/stars.js';
import { detectStars } from '../../src/stars/detect.js';
import { matchStars } from '../../src/register/match.js';
import { apply, invert, type Mat3 } from '../../src/register/transform.js';
import { truthRmsOf, type Tf } from '../helpers/transform.js';
import { warpPlane } from '../../src/register/resample.js';
import { createDrizzle, drizzleAdd, drizzleResult } from '../../src/register/drizzle.js';
import { Rng } from '../../src/util/random.js';
import { readFits } from '../../src/fits/index.js';
import { fileTempDir, fitsverify, runCli, runPython, useTempDir } from '../helpers/env.js';
import { writePlane } from '../helpers/fits.js';

const W = 360, H = 280;
/** A sky field (bigger than the frame) seen through `tf` (sky -> frame). */
function frame(seed: number, tf: Tf, count = 300, fwhm = 3): { plane: Float32Array; truth: SimStar[] } {
  const rng = new Rng(seed);
  const plane = new Float32Array(W * H);
  for (let i = 0; i < plane.length; i++) plane[i] = 800 + 8 * rng.gauss();
  const sky = randomStarField(99, 2 * W, 2 * H, count, { fluxMin: 4000, fluxMax: 120000 }).map((s) => ({ ...s, x: s.x - W / 2, y: s.y - H / 2 }));
  const stars = sky.map((s) => { const [x, y] = tf(s.x, s.y); return { x, y, flux: s.flux }; });
  renderStars(plane, W, H, stars, { kind: 'gaussian', fwhm });
  return { plane, truth: stars.filter((s) => s.x > 0 && s.y > 0 && s.x < W - 1 && s.y < H - 1) };
}
/** RMS over a grid of the difference between the found frame -> reference map and the truth (tf^-1). */
const truthRms = (h: Mat3, tf: Tf): number => truthRmsOf(h, tf, W, H);
const rot = (deg: number, k: number, dx: number, dy: number): Tf => (x, y) => {
  const c = Math.cos((deg * Math.PI) / 180), s = Math.sin((deg * Math.PI) / 180);
  const X = x - W / 2, Y = y - H / 2;
  return [k * (c * X - s * Y) + W / 2 + dx, k * (s * X + c * Y) + H / 2 + dy];
};
const ident: Tf = (x, y) => [x, y];

test('matching recovers shifts, rotations (incl. 180), 1.1x scale and mirror within 0.05 px RMS', () => {
  const ref = detectStars(frame(1, ident).plane, W, H).stars;
  const cases: [string, Tf, boolean][] = [
    ['shift', (x, y) => [x + 37.3, y - 21.6], false],
    ['rotation 180 (meridian flip)', rot(180, 1, 4.2, -3.1), false],
    ['rotation 73', rot(73, 1, -10, 6), false],
    ['scale 1.1 + rotation 12', rot(12, 1.1, 3, 2), false],
    ['scale 0.9', rot(-5, 0.9, 0, 0), false],
    ['mirrored', (x, y) => [W - 1 - x + 2.5, y + 1.5], true],
  ];
  for (const [name, tf, mirrored] of cases) {
    const st = detectStars(frame(2, tf).plane, W, H).stars;
    for (const model of ['similarity', 'homography'] as const) {
      const m = matchStars(st, ref, { model });
      assert.ok(m.ok, `${name}: ${m.reason}`);
      assert.equal(m.mirrored, mirrored, `${name} mirrored`);
      const e = truthRms(m.transform, tf);
      assert.ok(e < 0.05, `${name} ${model}: truth rms ${e}`);
      assert.ok(m.rms < 0.15, `${name} ${model}: residual ${m.rms}`);
    }
  }
});

test('matching works with only 15 stars and a large shift; fails cleanly on unrelated fields', () => {
  const W2 = 300;
  const mk = (seed: number, tf: Tf, skySeed: number) => {
    const rng = new Rng(seed);
    const p = new Float32Array(W2 * W2);
    for (let i = 0; i < p.length; i++) p[i] = 500 + 5 * rng.gauss();
    const sky = randomStarField(skySeed, W2, W2, 15, { margin: 40, fluxMin: 20000, fluxMax: 60000 });
    renderStars(p, W2, W2, sky.map((s) => { const [x, y] = tf(s.x, s.y); return { ...s, x, y }; }), { kind: 'gaussian', fwhm: 3 });
    return detectStars(p, W2, W2).stars;
  };
  const tf: Tf = (x, y) => { const c = Math.cos(2), s = Math.sin(2); const X = x - 150, Y = y - 150; return [c * X - s * Y + 150 + 20.7, s * X + c * Y + 150 - 15.2]; };
  const ref = mk(1, (x, y) => [x, y], 5);
  const fr = mk(2, tf, 5);
  const m = matchStars(fr, ref, { model: 'similarity' });
  assert.ok(m.ok, m.reason);
  assert.ok(m.inliers >= 12, `inliers ${m.inliers}`);
  let e = 0;
  for (const p of [[100, 100], [200, 150], [150, 220]]) {
    const [fx, fy] = tf(p[0]!, p[1]!);
    const [u, v] = apply(m.transform, fx, fy);
    e = Math.max(e, Math.hypot(u - p[0]!, v - p[1]!));
  }
  assert.ok(e < 0.05, `max error ${e}`);
  const other = mk(3, (x, y) => [x, y], 77);
  const bad = matchStars(other, ref, { model: 'similarity' });
  assert.equal(bad.ok, false);
  assert.match(bad.reason!, /match|common stars/);
});

test('same transform as astroalign within 0.1 px', (t) => {
  const tf = rot(27, 1.02, 11.5, -7.25);
  const a = frame(3, ident);
  const b = frame(4, tf);
  const dir = useTempDir(t);
  writeFileSync(join(dir, 'a.bin'), Buffer.from(a.plane.buffer));
  writeFileSync(join(dir, 'b.bin'), Buffer.from(b.plane.buffer));
  const out = runPython(`
import sys, json, numpy as np, astroalign as aa
W, H = ${W}, ${H}
a = np.fromfile(sys.argv[1], dtype='<f4').reshape(H, W)
b = np.fromfile(sys.argv[2], dtype='<f4').reshape(H, W)
T, (s, t) = aa.find_transform(b, a)
print(json.dumps({'m': T.params.tolist(), 'n': len(s)}))
`, [join(dir, 'a.bin'), join(dir, 'b.bin')]);
  const ref = JSON.parse(out) as { m: number[][]; n: number };
  const Ha = Float64Array.from(ref.m.flat());
  const ours = matchStars(detectStars(b.plane, W, H).stars, detectStars(a.plane, W, H).stars, { model: 'similarity' });
  assert.ok(ours.ok);
  let worst = 0;
  for (let x = 30; x < W; x += 60) for (let y = 30; y < H; y += 60) {
    const [u1, v1] = apply(ours.transform, x, y);
    const [u2, v2] = apply(Ha, x, y);
    worst = Math.max(worst, Math.hypot(u1 - u2, v1 - v2));
  }
  assert.ok(worst < 0.1, `max difference to astroalign ${worst} px (astroalign used ${ref.n} stars)`);
  assert.ok(truthRms(ours.transform, tf) < 0.05);
});

test('warpPlane: Lanczos-3 sub-pixel shift and back within 1%, flux conserved within 0.5%; NaN outside; kernels ordered', () => {
  const w = 128, h = 96;
  const img = new Float32Array(w * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) img[y * w + x] = 1000 + 300 * Math.sin(0.35 * x + 0.2 * y) + 200 * Math.cos(0.27 * y - 0.1 * x);
  const S = Float64Array.from([1, 0, 0.37, 0, 1, -0.61, 0, 0, 1]);
  for (const interp of ['lanczos3', 'bicubic', 'bilinear'] as const) {
    const fwd = warpPlane(img, w, h, S, w, h, interp);
    const back = warpPlane(fwd, w, h, invert(S), w, h, interp);
    let worst = 0, s0 = 0, s1 = 0;
    for (let y = 8; y < h - 8; y++) for (let x = 8; x < w - 8; x++) {
      const i = y * w + x;
      worst = Math.max(worst, Math.abs(back[i]! - img[i]!) / img[i]!);
      s0 += img[i]!; s1 += fwd[i]!;
    }
    if (interp === 'lanczos3') {
      assert.ok(worst < 0.01, `lanczos round trip ${worst}`);
      assert.ok(Math.abs(s1 / s0 - 1) < 0.005, `flux ${s1 / s0}`);
      // analytic: the forward-shifted image samples the function at x - 0.37, y + 0.61
      let e = 0;
      for (let y = 8; y < h - 8; y++) for (let x = 8; x < w - 8; x++) {
        const X = x - 0.37, Y = y + 0.61;
        e = Math.max(e, Math.abs(fwd[y * w + x]! - (1000 + 300 * Math.sin(0.35 * X + 0.2 * Y) + 200 * Math.cos(0.27 * Y - 0.1 * X))));
      }
      assert.ok(e < 5, `lanczos vs analytic ${e} ADU`);
    }
    if (interp === 'bilinear') assert.ok(worst > 0.01, 'bilinear smooths more than Lanczos (the test can tell kernels apart)');
    assert.ok(Number.isNaN(fwd[(h - 1) * w]!), 'pixel whose source (y = h - 1 + 0.61) is outside the frame is NaN');
    assert.ok(!Number.isNaN(fwd[0]!), 'source (-0.37, 0.61) is still inside pixel 0');
  }
});

test('Lanczos-3 clamping: a hot pixel does not ring below the background; without clamping it does', () => {
  // clamping: a hot pixel on a flat background does not ring below the background
  const p = new Float32Array(32 * 32).fill(100);
  p[16 * 32 + 16] = 10000;
  const sh = warpPlane(p, 32, 32, Float64Array.from([1, 0, 0.5, 0, 1, 0.5, 0, 0, 1]), 32, 32, 'lanczos3');
  let mn = Infinity;
  for (const v of sh) if (v === v) mn = Math.min(mn, v);
  assert.ok(mn >= 99.9, `ringing min ${mn}`);
  const un = warpPlane(p, 32, 32, Float64Array.from([1, 0, 0.5, 0, 1, 0.5, 0, 0, 1]), 32, 32, 'lanczos3', 0);
  let mn2 = Infinity;
  for (const v of un) if (v === v) mn2 = Math.min(mn2, v);
  assert.ok(mn2 < 50, `without clamping Lanczos rings (${mn2})`);
});

test('drizzle 2x: a flat frame stays flat, star flux and position preserved', () => {
  const w = 64, h = 64;
  const p = new Float32Array(w * h).fill(10);
  renderStars(p, w, h, [{ x: 30.3, y: 31.6, flux: 10000 }], { kind: 'gaussian', fwhm: 2.5 });
  const acc = createDrizzle(w, h, 2);
  for (const [dx, dy] of [[0, 0], [0.5, 0.25], [0.25, 0.5], [0.75, 0.75]]) {
    const q = new Float32Array(w * h).fill(10);
    renderStars(q, w, h, [{ x: 30.3 - dx!, y: 31.6 - dy!, flux: 10000 }], { kind: 'gaussian', fwhm: 2.5 });
    drizzleAdd(acc, q, w, h, Float64Array.from([1, 0, dx!, 0, 1, dy!, 0, 0, 1]), 0.8);
  }
  const out = drizzleResult(acc);
  let s = 0, sx = 0, sy = 0;
  for (let y = 40; y < 90; y++) for (let x = 40; x < 90; x++) { const v = out[y * 128 + x]! - 10; s += v; sx += v * x; sy += v * y; }
  assert.ok(Math.abs(s / 4 - 10000) < 50, `flux ${s / 4}`);
  assert.ok(Math.abs((sx / s + 0.5) / 2 - 0.5 - 30.3) < 0.05 && Math.abs((sy / s + 0.5) / 2 - 0.5 - 31.6) < 0.05, `centroid ${sx / s} ${sy / s}`);
  assert.ok(Math.abs(out[5 * 128 + 5]! - 10) < 1e-3);
});

describe('CLI register', () => {
  const dir = fileTempDir();
  const out = join(dir, 'out');
  const frames = [0, 1, 2].map((i) => join(dir, `f${i}.fits`));
  let r: ReturnType<typeof runCli>;
  let j: { reference: string; frames: { path: string; dx: number; dy: number; rotation: number; transform: number[] }[] };
  before(() => {
    const tfs: Tf[] = [ident, (x, y) => [x + 5.25, y - 3.5], rot(180, 1, 1, 2)];
    tfs.forEach((tf, i) => writePlane(frames[i]!, frame(10 + i, tf, 200).plane, W, H));
    const empty = new Float32Array(W * H);
    const rng = new Rng(5);
    for (let i = 0; i < W * H; i++) empty[i] = 800 + 8 * rng.gauss();
    writePlane(join(dir, 'empty.fits'), empty, W, H);
    mkdirSync(out);
    r = runCli(['register', ...frames, join(dir, 'empty.fits'), '-o', out, '--json', '--model', 'similarity']);
    j = JSON.parse(r.stdout);
  });

  test('a frame without stars is left out with one line, exit 2; the others are written as NAME_r.fits', () => {
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /empty\.fits: no stars detected .*left out/);
    assert.equal(r.stderr.trim().split('\n').length, 1);
    assert.deepEqual(readdirSync(out).sort(), ['f0_r.fits', 'f1_r.fits', 'f2_r.fits']);
  });

  test('auto reference: shift and rotation of the others measured', () => {
    const f1 = j.frames.find((f) => f.path.endsWith('f1.fits'))!;
    // f1 = reference shifted by (5.25, -3.5) if the reference is f0
    if (j.reference.endsWith('f0.fits')) {
      assert.ok(Math.abs(f1.dx + 5.25) < 0.05 && Math.abs(f1.dy - 3.5) < 0.05, `dx ${f1.dx} dy ${f1.dy}`);
      const f2 = j.frames.find((f) => f.path.endsWith('f2.fits'))!;
      assert.ok(Math.abs(Math.abs(f2.rotation) - 180) < 0.01, `rotation ${f2.rotation}`);
    }
  });

  test('transform keywords and HISTORY in the output; fitsverify clean', () => {
    const f1 = j.frames.find((f) => f.path.endsWith('f1.fits'))!;
    const img = readFits(join(out, 'f1_r.fits'));
    assert.equal(img.header.getString('REGMODEL'), 'similarity');
    assert.ok(Math.abs(img.header.getNumber('REGH13')! - f1.transform[2]!) < 1e-6);
    assert.ok(img.header.history().some((l: string) => l.includes('darkroom register')));
    assert.equal(fitsverify(join(out, 'f1_r.fits')).errors, 0);
  });

  test('an unknown --model is refused, exit 2', () => {
    const bad = runCli(['register', frames[0]!, '-o', out, '--model', 'warp']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--model must be one of/);
  });
});
