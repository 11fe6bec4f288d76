/**
 * The least-squares solvers of the transform fits: Householder QR (`lstsq`) against ml-matrix's SVD solution, the
 * closed-form similarity against the SVD solution of its linear system, and the homography fit against exact and
 * noisy point pairs of a known map. Correctness only.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Matrix, solve } from 'ml-matrix';
import { apply, fitModel, lstsq, type Pair } from '../../src/register/transform.js';
import { Rng } from '../../src/util/random.js';

/** The SVD (pseudo-inverse) solution of min |A x - b|, A row-major m x n. */
function svdSolve(A: Float64Array, b: Float64Array, m: number, n: number): number[] {
  const M = new Matrix(m, n), B = new Matrix(m, 1);
  for (let i = 0; i < m; i++) { for (let j = 0; j < n; j++) M.set(i, j, A[i * n + j]!); B.set(i, 0, b[i]!); }
  return solve(M, B, true).to1DArray();
}

test('lstsq (Householder QR) equals the SVD least-squares solution; rank-deficient systems take the SVD', () => {
  const rng = new Rng(4);
  for (let trial = 0; trial < 50; trial++) {
    const n = 1 + Math.floor(rng.uniform() * 8), m = n + Math.floor(rng.uniform() * 300);
    const A = new Float64Array(m * n), b = new Float64Array(m);
    for (let i = 0; i < m * n; i++) A[i] = rng.gauss() * (1 + 1000 * (i % n === 0 ? 1 : 0)); // badly scaled columns too
    for (let i = 0; i < m; i++) b[i] = rng.gauss() * 50;
    const A0 = A.slice(), b0 = b.slice();
    const x = lstsq(A, b, m, n), ref = svdSolve(A, b, m, n);
    for (let j = 0; j < n; j++) assert.ok(Math.abs(x[j]! - ref[j]!) <= 1e-9 * (Math.abs(ref[j]!) + 1e-3), `trial ${trial} x[${j}] ${x[j]} vs ${ref[j]}`);
    assert.deepEqual(A, A0, 'A is kept');
    assert.deepEqual(b, b0, 'b is kept');
  }
  // two equal columns: no unique solution; the SVD's minimum-norm one
  const m = 20, A = new Float64Array(m * 3), b = new Float64Array(m);
  for (let i = 0; i < m; i++) { A[3 * i] = i; A[3 * i + 1] = i; A[3 * i + 2] = 1; b[i] = 3 * i + 2; }
  const x = lstsq(A, b, m, 3);
  assert.ok(Math.abs(x[0]! - 1.5) < 1e-9 && Math.abs(x[1]! - 1.5) < 1e-9 && Math.abs(x[2]! - 2) < 1e-9, `minimum norm ${Array.from(x)}`);
});

const pairsOf = (rng: Rng, n: number, f: (x: number, y: number) => [number, number], noise: number): Pair[] =>
  Array.from({ length: n }, () => {
    const x = 2000 * rng.uniform(), y = 1500 * rng.uniform();
    const [u, v] = f(x, y);
    return { x, y, u: u + noise * rng.gauss(), v: v + noise * rng.gauss() };
  });

test('similarity fit in closed form equals the SVD solution of its linear system (plain and mirrored)', () => {
  const rng = new Rng(8);
  for (let trial = 0; trial < 40; trial++) {
    const mirror = trial % 2 === 1, m = mirror ? -1 : 1;
    const th = rng.uniform() * 2 * Math.PI, s = 0.9 + 0.2 * rng.uniform();
    const pairs = pairsOf(rng, 3 + Math.floor(rng.uniform() * 200), (x, y) => [s * (Math.cos(th) * x - m * Math.sin(th) * y) + 40, s * (Math.sin(th) * x + m * Math.cos(th) * y) - 25], trial % 4 < 2 ? 0.3 : 0);
    const h = fitModel(pairs, 'similarity', mirror);
    // u = a x - m b y + tx ; v = b x + m a y + ty
    const n = pairs.length, A = new Float64Array(2 * n * 4), B = new Float64Array(2 * n);
    pairs.forEach((p, i) => {
      A.set([p.x, -m * p.y, 1, 0], 8 * i); B[2 * i] = p.u;
      A.set([m * p.y, p.x, 0, 1], 8 * i + 4); B[2 * i + 1] = p.v;
    });
    const [a, b, tx, ty] = svdSolve(A, B, 2 * n, 4) as [number, number, number, number];
    const want = [a, -m * b, tx, b, m * a, ty, 0, 0, 1];
    for (let k = 0; k < 9; k++) assert.ok(Math.abs(h[k]! - want[k]!) <= 1e-9 * (k === 2 || k === 5 ? 100 : 1), `trial ${trial} h[${k}] ${h[k]} vs ${want[k]}`);
  }
});

test('homography fit: exact pairs give the map to 1e-9 px; noisy pairs within the noise', () => {
  const rng = new Rng(12);
  const H = Float64Array.from([1.0002, 0.0051, 13.4, -0.0049, 0.9998, -7.7, 2e-7, -1.5e-7, 1]);
  const f = (x: number, y: number): [number, number] => apply(H, x, y);
  const exact = fitModel(pairsOf(rng, 40, f, 0), 'homography');
  const noisy = fitModel(pairsOf(rng, 400, f, 0.05), 'homography');
  const affine = fitModel(pairsOf(rng, 60, (x, y) => [1.001 * x + 0.002 * y + 5, -0.003 * x + 0.999 * y - 2], 0), 'affine');
  let e = 0, en = 0, ea = 0;
  for (let x = 0; x <= 2000; x += 100) for (let y = 0; y <= 1500; y += 100) {
    const [u, v] = f(x, y);
    const [a, b] = apply(exact, x, y), [c, d] = apply(noisy, x, y), [g, k] = apply(affine, x, y);
    e = Math.max(e, Math.hypot(a - u, b - v)); en = Math.max(en, Math.hypot(c - u, d - v));
    ea = Math.max(ea, Math.hypot(g - (1.001 * x + 0.002 * y + 5), k - (-0.003 * x + 0.999 * y - 2)));
  }
  assert.ok(e < 1e-9, `exact pairs: ${e} px`);
  assert.ok(en < 0.03, `noisy pairs (0.05 px per coordinate, 400 pairs): ${en} px`);
  assert.ok(ea < 1e-9, `affine: ${ea} px`);
});
