import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { renderStars, randomStarField, type Psf, type SimStar } from '../../src/devices/sim/stars.js';
import { detectStars } from '../../src/stars/detect.js';
import { Rng } from '../../src/util/random.js';
import { fileTempDir, runCli, useTempDir } from '../helpers/env.js';
import { writePlane } from '../helpers/fits.js';

function noisyFrame(w: number, h: number, stars: SimStar[], psf: Psf, seed = 1, sky = 1000, sigma = 10): Float32Array {
  const rng = new Rng(seed);
  const p = new Float32Array(w * h);
  for (let i = 0; i < p.length; i++) p[i] = sky + sigma * rng.gauss();
  renderStars(p, w, h, stars, psf);
  return p;
}

test('renderStars conserves flux and centres the star (all PSF kinds)', () => {
  for (const psf of [{ kind: 'gaussian', fwhm: 2.5 }, { kind: 'gaussian', fwhm: 3, ellipticity: 0.3, angle: 30 }, { kind: 'moffat', fwhm: 3, beta: 2.5 }] as Psf[]) {
    const p = new Float32Array(80 * 80);
    renderStars(p, 80, 80, [{ x: 40.3, y: 39.6, flux: 5000 }], psf);
    let s = 0, sx = 0, sy = 0;
    for (let y = 0; y < 80; y++) for (let x = 0; x < 80; x++) { const v = p[y * 80 + x]!; s += v; sx += v * x; sy += v * y; }
    assert.ok(Math.abs(s - 5000) < 0.05, `${psf.kind} flux ${s}`);
    assert.ok(Math.abs(sx / s - 40.3) < 0.01 && Math.abs(sy / s - 39.6) < 0.01, `${psf.kind} centroid`);
  }
});

test('renderStars: the exact erf path and the sub-sampled path agree for a round Gaussian', () => {
  // exact erf path and sub-sampled path agree for a round Gaussian
  const a = new Float32Array(40 * 40), b = new Float32Array(40 * 40);
  renderStars(a, 40, 40, [{ x: 20.2, y: 19.7, flux: 1e4 }], { kind: 'gaussian', fwhm: 2 });
  renderStars(b, 40, 40, [{ x: 20.2, y: 19.7, flux: 1e4 }], { kind: 'gaussian', fwhm: 2, ellipticity: 1e-9 });
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!));
  assert.ok(d < 0.003 * Math.max(...a), `max diff ${d} of peak ${Math.max(...a)}`); // 7x7 sub-sampling accuracy
});

test('renderStars: a star half off the frame is clipped, not wrapped', () => {
  // a star half off the frame is clipped, not wrapped
  const c = new Float32Array(20 * 20);
  renderStars(c, 20, 20, [{ x: -0.5, y: 10, flux: 1000 }], { kind: 'gaussian', fwhm: 2 });
  let s = 0;
  for (const v of c) s += v;
  assert.ok(Math.abs(s - 500) < 1, `half star ${s}`);
});

test('randomStarField: the same seed gives the same field; stars inside the margin and the flux range', () => {
  assert.deepEqual(randomStarField(7, 100, 100, 5), randomStarField(7, 100, 100, 5));
  for (const st of randomStarField(7, 100, 80, 200, { fluxMin: 10, fluxMax: 20, margin: 5 })) assert.ok(st.x >= 5 && st.x < 95 && st.y >= 5 && st.y < 75 && st.flux >= 10 && st.flux <= 20);
});

test('FWHM of rendered Gaussian and Moffat stars within 3% of the truth; positions within 0.1 px', () => {
  const W = 300, H = 240;
  for (const psf of [{ kind: 'gaussian', fwhm: 2.2 }, { kind: 'gaussian', fwhm: 4 }, { kind: 'moffat', fwhm: 3, beta: 3 }, { kind: 'moffat', fwhm: 4.5, beta: 2.5 }] as Psf[]) {
    // a grid of isolated stars
    const truth: SimStar[] = [];
    const rng = new Rng(11);
    for (let y = 30; y < H - 20; y += 40) for (let x = 30; x < W - 20; x += 40) truth.push({ x: x + rng.uniform() - 0.5, y: y + rng.uniform() - 0.5, flux: 20000 + 40000 * rng.uniform() });
    const plane = noisyFrame(W, H, truth, psf, 3);
    const r = detectStars(plane, W, H, { psf: psf.kind });
    assert.equal(r.stars.length, truth.length, `${psf.kind} count`);
    const fw: number[] = [];
    for (const t of truth) {
      const s = r.stars.reduce((a, b) => (Math.hypot(a.x - t.x, a.y - t.y) < Math.hypot(b.x - t.x, b.y - t.y) ? a : b));
      assert.ok(Math.hypot(s.x - t.x, s.y - t.y) < 0.1, `${psf.kind} position error ${Math.hypot(s.x - t.x, s.y - t.y)}`);
      fw.push(s.fwhm);
    }
    fw.sort((a, b) => a - b);
    const med = fw[fw.length >> 1]!;
    assert.ok(Math.abs(med / psf.fwhm - 1) < 0.03, `${psf.kind} ${psf.fwhm}: median FWHM ${med}`);
    assert.ok(Math.abs(r.background.globalBackground - 1000) < (psf.kind === "moffat" ? 2 : 0.5), `${psf.kind} background ${r.background.globalBackground}`);
    assert.ok(Math.abs(r.background.globalNoise - 10) < (psf.kind === 'moffat' ? 1.5 : 0.5), `${psf.kind} noise ${r.background.globalNoise}`); // Moffat wings of a dense grid add to the sky variance
  }
});

test('ellipticity and angle measured; hot pixels flagged; close pair deblended', () => {
  const W = 200, H = 160;
  const plane = noisyFrame(W, H, [{ x: 50.2, y: 50.7, flux: 40000 }, { x: 120, y: 80, flux: 30000 }, { x: 126.5, y: 80.5, flux: 25000 }], { kind: 'gaussian', fwhm: 3, ellipticity: 0.3, angle: 30 }, 5);
  plane[30 * W + 170] = 9000; // hot pixel
  plane[140 * W + 20] = 7000;
  const r = detectStars(plane, W, H, { saturation: 60000 });
  assert.equal(r.hotPixels, 2);
  assert.equal(r.stars.length, 3, JSON.stringify(r.stars.map((s) => [s.x, s.y])));
  const s = r.stars.find((q) => Math.abs(q.x - 50.2) < 1)!;
  assert.ok(Math.abs(s.fwhmMajor - 3) < 0.09 && Math.abs(s.fwhmMinor - 2.1) < 0.09, `axes ${s.fwhmMajor} ${s.fwhmMinor}`);
  assert.ok(Math.abs(s.angle - 30) < 3, `angle ${s.angle}`);
  assert.ok(Math.abs(s.eccentricity - Math.sqrt(1 - 0.49)) < 0.05, `ecc ${s.eccentricity}`);
  assert.ok(r.stars.filter((q) => q.blended).length === 2);
  // HFR of a Gaussian: HFD ~ 1.2-1.5 FWHM (mean-radius definition)
  assert.ok(s.hfd > 0.8 * s.fwhm && s.hfd < 1.8 * s.fwhm, `hfd ${s.hfd}`);
});

test('a clipped bright star is flagged saturated', () => {
  const W = 200, H = 160;
  // saturated: clip a bright star
  const p2 = noisyFrame(W, H, [{ x: 80, y: 80, flux: 2e6 }], { kind: 'gaussian', fwhm: 3 }, 6);
  for (let i = 0; i < p2.length; i++) p2[i] = Math.min(p2[i]!, 50000);
  const r2 = detectStars(p2, W, H, { saturation: 50000 });
  assert.equal(r2.saturatedCount, 1);
  assert.ok(r2.stars[0]!.saturated);
});

test('detected positions agree with source-extractor within 0.1 px', (t) => {
  const W = 256, H = 256;
  const truth = randomStarField(21, W, H, 40, { margin: 12, fluxMin: 8000, fluxMax: 80000 });
  const plane = noisyFrame(W, H, truth, { kind: 'gaussian', fwhm: 3 }, 8);
  const dir = useTempDir(t);
  const f = writePlane(join(dir, 'f.fits'), plane, W, H);
  writeFileSync(join(dir, 'p.param'), 'XWIN_IMAGE\nYWIN_IMAGE\nFLUX_AUTO\n');
  writeFileSync(join(dir, 'default.conv'), 'CONV NORM\n1 2 1\n2 4 2\n1 2 1\n');
  const r = spawnSync('source-extractor', [f, '-c', '/dev/null', '-PARAMETERS_NAME', join(dir, 'p.param'), '-FILTER_NAME', join(dir, 'default.conv'), '-CATALOG_NAME', join(dir, 'c.txt'), '-CATALOG_TYPE', 'ASCII', '-DETECT_THRESH', '5', '-VERBOSE_TYPE', 'QUIET'], { encoding: 'utf8', cwd: dir });
  assert.equal(r.status, 0, r.stderr);
  const sex = readFileSync(join(dir, 'c.txt'), 'utf8').trim().split('\n').filter((l) => !l.startsWith('#')).map((l) => l.trim().split(/\s+/).map(Number)).map((v) => ({ x: v[0]! - 1, y: v[1]! - 1 }));
  const ours = detectStars(plane, W, H).stars;
  let n = 0;
  for (const star of truth) {
    const o = ours.find((s) => Math.hypot(s.x - star.x, s.y - star.y) < 1);
    const s = sex.find((q) => Math.hypot(q.x - star.x, q.y - star.y) < 1);
    if (!o || !s) continue;
    n++;
    assert.ok(Math.hypot(o.x - s.x, o.y - s.y) < 0.1, `ours vs sextractor ${o.x},${o.y} ${s.x},${s.y}`);
    assert.ok(Math.hypot(o.x - star.x, o.y - star.y) < 0.1, 'ours vs truth');
  }
  assert.ok(n >= 30, `compared ${n} stars`);
});

describe('CLI stars', () => {
  const dir = fileTempDir();
  const a = join(dir, 'a.fits');
  before(() => writePlane(a, noisyFrame(200, 150, randomStarField(4, 200, 150, 20, { margin: 10, fluxMin: 10000, fluxMax: 50000 }), { kind: 'gaussian', fwhm: 3 }), 200, 150));

  test('JSON report: star count and median FWHM', () => {
    const r = runCli(['stars', a, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout);
    assert.ok(j.stars >= 18 && j.stars <= 20, `stars ${j.stars}`);
    assert.ok(Math.abs(j.medianFwhm - 3) < 0.1);
  });

  test('a frame with no stars reports 0', () => {
    const e = writePlane(join(dir, 'e.fits'), noisyFrame(100, 100, [], { kind: 'gaussian', fwhm: 3 }), 100, 100);
    const r2 = runCli(['stars', e, '--json']);
    assert.equal(r2.code, 0);
    assert.equal(JSON.parse(r2.stdout).stars, 0);
  });

  test('a file that is not FITS: one line naming it, exit 2', () => {
    writeFileSync(join(dir, 'bad.fits'), 'not a fits file at all');
    const r3 = runCli(['stars', join(dir, 'bad.fits')]);
    assert.equal(r3.code, 2);
    assert.match(r3.stderr, /^darkroom: .*bad\.fits: /);
  });

  test('an unknown --psf is refused, exit 2', () => {
    const r4 = runCli(['stars', a, '--psf', 'lorentz']);
    assert.equal(r4.code, 2);
    assert.match(r4.stderr, /--psf must be gaussian or moffat/);
  });
});
