import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseExpr, evaluate } from '../../src/stars/expr.js';
import { applyRules, frameWeights, measureFrames, EXPR_VARIABLES, type FrameMetrics } from '../../src/stars/metrics.js';
import { renderStars, randomStarField } from '../../src/devices/sim/stars.js';
import { Rng } from '../../src/util/random.js';
import { readFits } from '../../src/fits/index.js';
import { DarkroomError } from '../../src/util/errors.js';
import { fileTempDir, fitsverify, runCli, useTempDir } from '../helpers/env.js';
import { writePlanes } from '../helpers/fits.js';

const ev = (s: string, vars: Record<string, number> = {}): number => evaluate(parseExpr(s, Object.keys(vars)).ast, vars);

test('expressions: precedence, associativity, functions, comparisons and booleans', () => {
  assert.equal(ev('2 + 3 * 4 ^ 2'), 50);
  assert.equal(ev('-2^2'), -4);
  assert.equal(ev('2^3^2'), 512);
  assert.equal(ev('2**3'), 8);
  assert.equal(ev('(1 + 2) * 3 - 4 / 8'), 8.5);
  assert.equal(ev('10 - 4 - 3'), 3);
  assert.equal(ev('1.5e2 + .5'), 150.5);
  assert.equal(ev('min(3, 1, 2) + max(4, 7) + sqrt(16) + abs(-2) + log(exp(1.5))'), 1 + 7 + 4 + 2 + 1.5);
  assert.equal(ev('x / (y^2 * z^2)', { x: 1, y: 2, z: 0.5 }), 1);
  assert.equal(ev('fwhm > 1.5*median_fwhm', { fwhm: 4, median_fwhm: 2.5 }), 1);
  assert.equal(ev('fwhm > 1.5*median_fwhm', { fwhm: 3.7, median_fwhm: 2.5 }), 0);
  assert.equal(ev('a < 1 or b >= 2 and c == 3', { a: 5, b: 2, c: 3 }), 1);
  assert.equal(ev('a < 1 or b >= 2 and c == 3', { a: 5, b: 2, c: 4 }), 0);
  assert.equal(ev('(a < 1 or b >= 2) and not c != 3', { a: 0, b: 0, c: 3 }), 1);
  assert.equal(ev('a <= 1 && !(b = 2) || c', { a: 1, b: 2, c: 0 }), 0);
  assert.equal(ev('a AND b', { a: 1, b: 1 }), 1);
  // NaN comparisons are false, so a frame with no stars is not "bad" by accident of NaN
  assert.equal(ev('x > 1', { x: NaN }), 0);
});

test('expressions: one-line errors with position; unknown variables and functions; nothing is executed', () => {
  const msg = (s: string): string => {
    try { parseExpr(s, EXPR_VARIABLES, '--reject-if'); } catch (e) { assert.ok(e instanceof DarkroomError); assert.equal(e.code, 'BAD_ARGUMENT'); return e.message; }
    assert.fail(`no error for ${s}`);
  };
  assert.equal(msg('fwhm > 1.5*medain_fwhm'), `--reject-if "fwhm > 1.5*medain_fwhm": unknown variable 'medain_fwhm' (known: ${EXPR_VARIABLES.join(', ')}) at position 12`);
  assert.equal(msg('fwhm > (2 * noise'), `--reject-if "fwhm > (2 * noise": expected ')' but found end of expression at position 18`);
  assert.equal(msg('fwhm >'), `--reject-if "fwhm >": unexpected end of expression at position 7`);
  assert.equal(msg('fwhm > 2 3'), `--reject-if "fwhm > 2 3": unexpected '3' at position 10`);
  assert.equal(msg('fwhm # 2'), `--reject-if "fwhm # 2": unexpected character '#' at position 6`);
  assert.equal(msg('process.exit(1)'), `--reject-if "process.exit(1)": unexpected character '.' at position 8`);
  assert.equal(msg('foo(fwhm)'), `--reject-if "foo(fwhm)": unknown function 'foo' (known: min, max, sqrt, log, log10, exp, abs) at position 1`);
  assert.equal(msg('sqrt(fwhm, 2)'), `--reject-if "sqrt(fwhm, 2)": sqrt() takes 1 argument, got 2 at position 1`);
  assert.equal(msg('1 < fwhm < 3'), `--reject-if "1 < fwhm < 3": comparisons cannot be chained (use 'and') at position 10`);
  assert.equal(msg('   '), `--reject-if "   ": empty expression at position 1`);
  assert.equal(msg('2fwhm'), `--reject-if "2fwhm": unexpected 'f' after a number at position 2`);
  assert.match(msg('constructor'), /unknown variable 'constructor'/);
});

const M = (path: string, o: Partial<FrameMetrics>): FrameMetrics => ({ path, stars: 100, fwhm: 3, hfr: 1.6, eccentricity: 0.2, background: 1000, noise: 10, snr: 50, ...o });

test('applyRules: median over the set, first firing rule named with its values, and/or', () => {
  const ms = [M('a', { fwhm: 2.8 }), M('b', { fwhm: 3.0 }), M('c', { fwhm: 3.2 }), M('d', { fwhm: 5.0 }), M('e', { fwhm: 3.1, stars: 20 })];
  const r = applyRules(ms, ['fwhm > 1.5*median_fwhm', 'stars < 0.5 * median_stars and eccentricity < 0.5']);
  assert.deepEqual(r.kept.map((m) => m.path), ['a', 'b', 'c']);
  assert.deepEqual(r.rejected, [
    { path: 'd', rule: 'fwhm > 1.5*median_fwhm', reason: 'rejected by rule "fwhm > 1.5*median_fwhm" (fwhm = 5, median_fwhm = 3.1)' },
    { path: 'e', rule: 'stars < 0.5 * median_stars and eccentricity < 0.5', reason: 'rejected by rule "stars < 0.5 * median_stars and eccentricity < 0.5" (stars = 20, median_stars = 100, eccentricity = 0.2)' },
  ]);
  assert.equal(applyRules(ms, []).kept.length, 5);
  assert.equal(applyRules(ms, ['fwhm > 10 or background < 0']).rejected.length, 0);
});

test('frameWeights: normalized to mean 1; NaN or negative weights refused naming the frame', () => {
  // weights 1/(fwhm^2 noise^2): raw 1/36, 1/9, 1/144 -> mean 1
  const w = frameWeights([M('a', { fwhm: 3, noise: 2 }), M('b', { fwhm: 3, noise: 1 }), M('c', { fwhm: 6, noise: 2 })], '1/(fwhm^2 * noise^2)');
  const raw = [1 / 36, 1 / 9, 1 / 144], mean = (raw[0]! + raw[1]! + raw[2]!) / 3;
  w.forEach((v, i) => assert.ok(Math.abs(v - raw[i]! / mean) < 1e-12, `${v}`));
  const w2 = frameWeights([M('a', { stars: 100, snr: 20, fwhm: 2 }), M('b', { stars: 50, snr: 20, fwhm: 4 })], 'stars * snr / fwhm');
  assert.ok(Math.abs(w2[0]! / w2[1]! - 4) < 1e-12 && Math.abs(w2[0]! + w2[1]! - 2) < 1e-12);
  assert.throws(() => frameWeights([M('x.fits', { fwhm: NaN }), M('y', {})], '1/fwhm'), (e: unknown) => e instanceof DarkroomError && (e as DarkroomError).oneLine() === 'x.fits: --weight-expr "1/fwhm" gives NaN for this frame (fwhm = NaN); a weight must be a finite number >= 0');
  assert.throws(() => frameWeights([M('a', {})], 'fwhm - 10'), /gives -7 for this frame/);
});

const W = 256, H = 200;
function starFrame(seed: number, o: { fwhm?: number; noise?: number; dx?: number; dy?: number; bkg?: number; count?: number } = {}): Float32Array {
  const rng = new Rng(seed);
  const p = new Float32Array(W * H);
  const bkg = o.bkg ?? 800, noise = o.noise ?? 8;
  for (let i = 0; i < p.length; i++) p[i] = bkg + noise * rng.gauss();
  const stars = randomStarField(42, W, H, o.count ?? 120, { fluxMin: 5000, fluxMax: 100000 }).map((s) => ({ ...s, x: s.x + (o.dx ?? 0), y: s.y + (o.dy ?? 0) }));
  renderStars(p, W, H, stars, { kind: 'gaussian', fwhm: o.fwhm ?? 3 });
  return p;
}

test('measureFrames: FWHM, background and noise of synthetic frames with known values', (t) => {
  const dir = useTempDir(t);
  const cases = [{ fwhm: 2.5, noise: 5, bkg: 500, count: 60 }, { fwhm: 4, noise: 12, bkg: 1500, count: 60 }];
  const paths = writePlanes(dir, cases.map((c, i) => starFrame(i + 1, c)), W, H, (i) => `m${i}.fits`);
  const ms = measureFrames(paths);
  ms.forEach((m, i) => {
    const c = cases[i]!;
    assert.equal(m.path, paths[i]);
    assert.ok(m.stars > 40, `stars ${m.stars}`);
    assert.ok(Math.abs(m.fwhm / c.fwhm - 1) < 0.04, `fwhm ${m.fwhm} vs ${c.fwhm}`);
    assert.ok(Math.abs(m.background - c.bkg) < 0.5 * c.noise, `background ${m.background}`);
    assert.ok(Math.abs(m.noise / c.noise - 1) < 0.08, `noise ${m.noise} vs ${c.noise}`);
    // HFR here is the flux-weighted mean radius sum(r v)/sum(v): sigma sqrt(pi/2) = 0.5323 FWHM for a Gaussian
    // (background errors over the 3-FWHM aperture bias it up: 16% at noise 12, FWHM 4; see the report)
    assert.ok(Math.abs(m.hfr / (0.5323 * c.fwhm) - 1) < 0.2, `hfr ${m.hfr}`);
    assert.ok(m.eccentricity < 0.3 && m.snr > 10);
  });
  assert.ok(ms[1]!.hfr > 1.4 * ms[0]!.hfr);
});

test('measureFrames: a missing file is ENOENT', (t) => {
  const dir = useTempDir(t);
  assert.throws(() => measureFrames([join(dir, 'missing.fits')]), (e: unknown) => e instanceof DarkroomError && (e as DarkroomError).code === 'ENOENT');
});

describe('CLI register --reject-if / --weight-expr', () => {
  const dir = fileTempDir();
  const out = join(dir, 'out');
  // w3 is blurred (FWHM 6), w2 twice as noisy
  const spec = [{ dx: 0, dy: 0, noise: 6 }, { dx: 3.5, dy: -2.25, noise: 6 }, { dx: -4, dy: 1.5, noise: 12 }, { dx: 1, dy: 1, noise: 6, fwhm: 6 }];
  let files: string[] = [];
  let r: ReturnType<typeof runCli>;
  before(() => {
    files = writePlanes(dir, spec.map((s, i) => starFrame(20 + i, s)), W, H, (i) => `w${i}.fits`);
    mkdirSync(out);
    r = runCli(['register', ...files, '-o', out, '--model', 'shift', '--json', '--reject-if', 'fwhm > 1.5*median_fwhm', '--reject-if', 'stars < 5', '--weight-expr', '1/(fwhm^2 * noise^2)']);
  });

  test('the blurred frame is left out, named with its rule', () => {
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr.trim(), /^darkroom: .*w3\.fits: rejected by rule "fwhm > 1\.5\*median_fwhm" \(fwhm = 6\.\d+, median_fwhm = [34]\.\d+\); left out$/);
    const j = JSON.parse(r.stdout);
    const w3 = j.frames.find((f: { path: string }) => f.path.endsWith('w3.fits'));
    assert.equal(w3.rejected, true);
    assert.deepEqual(readdirSync(out).sort(), ['w0_r.fits', 'w1_r.fits', 'w2_r.fits']);
  });

  test('WEIGHT keywords: mean 1, the noisier frame lower; the expression in HISTORY; fitsverify clean', () => {
    const ws = [0, 1, 2].map((i) => readFits(join(out, `w${i}_r.fits`)).header.getNumber('WEIGHT')!);
    assert.ok(Math.abs(ws[0]! + ws[1]! + ws[2]! - 3) < 1e-5, `weights ${ws}`);
    // noise 12 vs 6 at equal FWHM: weight 4x lower
    assert.ok(Math.abs(ws[0]! / ws[2]! - 4) < 0.6 && Math.abs(ws[0]! / ws[1]! - 1) < 0.15, `weights ${ws}`);
    const h = readFits(join(out, 'w2_r.fits')).header;
    assert.ok(h.history().some((l: string) => l.includes('--weight-expr "1/(fwhm^2 * noise^2)"')));
    assert.equal(fitsverify(join(out, 'w2_r.fits')).errors, 0);
  });

  test('an unknown variable in --reject-if: one line with its position, exit 2', () => {
    const bad = runCli(['register', ...files, '-o', out, '--reject-if', 'fwhm > 1.5*median_fhwm']);
    assert.equal(bad.code, 2);
    assert.equal(bad.stderr.trim().split('\n').length, 1);
    assert.match(bad.stderr, /^darkroom: --reject-if "fwhm > 1\.5\*median_fhwm": unknown variable 'median_fhwm' .* at position 12/);
  });

  test('an unclosed --weight-expr: exit 2 with the position', () => {
    const bad2 = runCli(['register', ...files, '-o', out, '--weight-expr', '1/(fwhm^2']);
    assert.equal(bad2.code, 2);
    assert.match(bad2.stderr, /--weight-expr "1\/\(fwhm\^2": expected '\)' but found end of expression at position 10/);
  });
});
