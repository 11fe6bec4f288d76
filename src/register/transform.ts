/**
 * Plane transforms as 3x3 homogeneous matrices (row-major, h[8] normally 1) mapping frame
 * coordinates to reference coordinates: [X, Y, W] = H [x, y, 1], X' = X / W.
 * Models: shift (2 parameters), similarity (4, optionally mirrored), affine (6), homography (8).
 * Least-squares fits on point pairs; the homography is solved linearly on normalized coordinates
 * (h33 = 1) and refined by Gauss-Newton on the geometric error.
 */
import { Matrix, solve as mlSolve } from 'ml-matrix';

export type Model = 'shift' | 'similarity' | 'affine' | 'homography';
export type Mat3 = Float64Array;

export function identity(): Mat3 {
  return Float64Array.from([1, 0, 0, 0, 1, 0, 0, 0, 1]);
}

export function apply(h: Mat3, x: number, y: number): [number, number] {
  const w = h[6]! * x + h[7]! * y + h[8]!;
  return [(h[0]! * x + h[1]! * y + h[2]!) / w, (h[3]! * x + h[4]! * y + h[5]!) / w];
}

export function multiply(a: Mat3, b: Mat3): Mat3 {
  const o = new Float64Array(9);
  for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) {
    let s = 0;
    for (let k = 0; k < 3; k++) s += a[i * 3 + k]! * b[k * 3 + j]!;
    o[i * 3 + j] = s;
  }
  return o;
}

export function invert(h: Mat3): Mat3 {
  const [a, b, c, d, e, f, g, k, l] = h as unknown as number[];
  const A = e! * l! - f! * k!, B = -(d! * l! - f! * g!), C = d! * k! - e! * g!;
  const det = a! * A + b! * B + c! * C;
  const o = Float64Array.from([
    A, -(b! * l! - c! * k!), b! * f! - c! * e!,
    B, a! * l! - c! * g!, -(a! * f! - c! * d!),
    C, -(a! * k! - b! * g!), a! * e! - b! * d!,
  ]);
  for (let i = 0; i < 9; i++) o[i] = o[i]! / det;
  const s = o[8]!;
  if (Math.abs(s) > 1e-12) for (let i = 0; i < 9; i++) o[i] = o[i]! / s;
  return o;
}

/** Linear part determinant < 0: the frame is mirrored relative to the reference. */
export function isMirrored(h: Mat3): boolean {
  return h[0]! * h[4]! - h[1]! * h[3]! < 0;
}

/** Rotation (degrees) and scale of the linear part (mean of the two singular values' geometric mean). */
export function describe(h: Mat3): { dx: number; dy: number; rotation: number; scale: number; mirrored: boolean } {
  const mirrored = isMirrored(h);
  const a = h[0]!, b = h[1]!, c = h[3]!, d = h[4]!;
  const scale = Math.sqrt(Math.abs(a * d - b * c));
  const rotation = mirrored ? (Math.atan2(c, a) * 180) / Math.PI : (Math.atan2(c - b, a + d) * 180) / Math.PI;
  return { dx: h[2]!, dy: h[5]!, rotation, scale, mirrored };
}

export interface Pair { x: number; y: number; u: number; v: number }

/** Least-squares fit of (x, y) -> (u, v). For similarity, `mirror` fits the reflected form. */
export function fitModel(pairs: Pair[], model: Model, mirror = false): Mat3 {
  const n = pairs.length;
  if (model === 'shift') {
    let sx = 0, sy = 0;
    for (const p of pairs) { sx += p.u - p.x; sy += p.v - p.y; }
    return Float64Array.from([1, 0, sx / n, 0, 1, sy / n, 0, 0, 1]);
  }
  if (model === 'similarity') {
    // u = a x - m b y + tx, v = b x + m a y + ty (m = -1: the mirrored form), in closed form on centred coordinates
    const m = mirror ? -1 : 1;
    let mx = 0, my = 0, mu = 0, mv = 0;
    for (const p of pairs) { mx += p.x; my += p.y; mu += p.u; mv += p.v; }
    mx /= n; my /= n; mu /= n; mv /= n;
    let S = 0, P = 0, Q = 0;
    for (const p of pairs) {
      const x = p.x - mx, y = p.y - my, u = p.u - mu, v = p.v - mv;
      S += x * x + y * y; P += x * u + m * y * v; Q += x * v - m * y * u;
    }
    if (S > 0) {
      const a = P / S, b = Q / S;
      return Float64Array.from([a, -m * b, mu - a * mx + m * b * my, b, m * a, mv - b * mx - m * a * my, 0, 0, 1]);
    }
    const A = new Matrix(2 * n, 4);
    const B = new Matrix(2 * n, 1);
    pairs.forEach((p, i) => {
      A.set(2 * i, 0, p.x); A.set(2 * i, 1, -m * p.y); A.set(2 * i, 2, 1); A.set(2 * i, 3, 0); B.set(2 * i, 0, p.u);
      A.set(2 * i + 1, 0, m * p.y); A.set(2 * i + 1, 1, p.x); A.set(2 * i + 1, 2, 0); A.set(2 * i + 1, 3, 1); B.set(2 * i + 1, 0, p.v);
    });
    const s = lsq(A, B);
    const a = s[0]!, b = s[1]!;
    return Float64Array.from([a, -m * b, s[2]!, b, m * a, s[3]!, 0, 0, 1]);
  }
  if (model === 'affine') {
    const A = new Float64Array(n * 3), U = new Float64Array(n), V = new Float64Array(n);
    pairs.forEach((p, i) => { A[3 * i] = p.x; A[3 * i + 1] = p.y; A[3 * i + 2] = 1; U[i] = p.u; V[i] = p.v; });
    const su = lstsq(A, U, n, 3), sv = lstsq(A, V, n, 3);
    return Float64Array.from([su[0]!, su[1]!, su[2]!, sv[0]!, sv[1]!, sv[2]!, 0, 0, 1]);
  }
  return fitHomography(pairs);
}

function lsq(A: Matrix, B: Matrix): number[] {
  return mlSolve(A, B, true).to1DArray();
}

/**
 * Least squares min |A x - b| of a full-rank m x n system (A row-major, m >= n) by Householder QR (as stable as the
 * SVD, without its cost); a (nearly) rank-deficient A falls back to the SVD's minimum-norm solution. A and b are kept.
 */
export function lstsq(A0: Float64Array, b0: Float64Array, m: number, n: number): Float64Array {
  const A = A0.slice(), b = b0.slice();
  const diag = new Float64Array(n);
  let maxR = 0;
  for (let k = 0; k < n && m > n - 1; k++) {
    let nrm = 0;
    for (let i = k; i < m; i++) nrm += A[i * n + k]! * A[i * n + k]!;
    nrm = Math.sqrt(nrm);
    const akk = A[k * n + k]!;
    const alpha = akk > 0 ? -nrm : nrm;
    diag[k] = alpha;
    maxR = Math.max(maxR, nrm);
    const v0 = akk - alpha; // Householder vector v = (v0, A[k+1.., k]); H = I - 2 v v^T / |v|^2
    const vv = v0 * v0 + (nrm * nrm - akk * akk);
    if (!(vv > 0)) continue;
    A[k * n + k] = v0;
    for (let j = k + 1; j < n; j++) {
      let d = 0;
      for (let i = k; i < m; i++) d += A[i * n + k]! * A[i * n + j]!;
      const f = (2 * d) / vv;
      for (let i = k; i < m; i++) A[i * n + j] = A[i * n + j]! - f * A[i * n + k]!;
    }
    let d = 0;
    for (let i = k; i < m; i++) d += A[i * n + k]! * b[i]!;
    const f = (2 * d) / vv;
    for (let i = k; i < m; i++) b[i] = b[i]! - f * A[i * n + k]!;
  }
  let full = m >= n && maxR > 0;
  for (let k = 0; k < n && full; k++) if (!(Math.abs(diag[k]!) > 1e-10 * maxR)) full = false;
  if (!full) {
    const M = new Matrix(m, n), B = new Matrix(m, 1);
    for (let i = 0; i < m; i++) { for (let j = 0; j < n; j++) M.set(i, j, A0[i * n + j]!); B.set(i, 0, b0[i]!); }
    return Float64Array.from(lsq(M, B));
  }
  const x = new Float64Array(n);
  for (let k = n - 1; k >= 0; k--) {
    let s = b[k]!;
    for (let j = k + 1; j < n; j++) s -= A[k * n + j]! * x[j]!;
    x[k] = s / diag[k]!;
  }
  return x;
}

function normalizer(xs: number[], ys: number[]): { T: Mat3; f: (x: number, y: number) => [number, number] } {
  const n = xs.length;
  let mx = 0, my = 0;
  for (let i = 0; i < n; i++) { mx += xs[i]!; my += ys[i]!; }
  mx /= n; my /= n;
  let d = 0;
  for (let i = 0; i < n; i++) d += Math.hypot(xs[i]! - mx, ys[i]! - my);
  const s = d > 0 ? (Math.SQRT2 * n) / d : 1;
  return { T: Float64Array.from([s, 0, -s * mx, 0, s, -s * my, 0, 0, 1]), f: (x, y) => [s * (x - mx), s * (y - my)] };
}

function fitHomography(pairs: Pair[]): Mat3 {
  const n = pairs.length;
  const Nx = normalizer(pairs.map((p) => p.x), pairs.map((p) => p.y));
  const Nu = normalizer(pairs.map((p) => p.u), pairs.map((p) => p.v));
  const A = new Float64Array(2 * n * 8), B = new Float64Array(2 * n);
  pairs.forEach((p, i) => {
    const [x, y] = Nx.f(p.x, p.y);
    const [u, v] = Nu.f(p.u, p.v);
    const o = 16 * i; // row 2i: [x, y, 1, 0, 0, 0, -u x, -u y]; row 2i + 1: [0, 0, 0, x, y, 1, -v x, -v y] (zeros as allocated)
    A[o] = x; A[o + 1] = y; A[o + 2] = 1; A[o + 6] = -u * x; A[o + 7] = -u * y;
    A[o + 11] = x; A[o + 12] = y; A[o + 13] = 1; A[o + 14] = -v * x; A[o + 15] = -v * y;
    B[2 * i] = u;
    B[2 * i + 1] = v;
  });
  const s = lstsq(A, B, 2 * n, 8);
  const Hn = Float64Array.from([...s, 1]);
  let H = multiply(multiply(invert(Nu.T), Hn), Nx.T);
  H = normalize(H);
  // Gauss-Newton refinement on the geometric (reprojection) error
  const J = new Float64Array(2 * n * 8), r = new Float64Array(2 * n);
  for (let it = 0; it < 5; it++) {
    pairs.forEach((p, i) => {
      const X = H[0]! * p.x + H[1]! * p.y + H[2]!;
      const Y = H[3]! * p.x + H[4]! * p.y + H[5]!;
      const W = H[6]! * p.x + H[7]! * p.y + 1;
      const u = X / W, v = Y / W;
      r[2 * i] = p.u - u;
      r[2 * i + 1] = p.v - v;
      const o = 16 * i; // [x/W, y/W, 1/W, 0, 0, 0, -u x/W, -u y/W] and [0, 0, 0, x/W, y/W, 1/W, -v x/W, -v y/W]
      J[o] = p.x / W; J[o + 1] = p.y / W; J[o + 2] = 1 / W; J[o + 3] = 0; J[o + 4] = 0; J[o + 5] = 0; J[o + 6] = (-u * p.x) / W; J[o + 7] = (-u * p.y) / W;
      J[o + 8] = 0; J[o + 9] = 0; J[o + 10] = 0; J[o + 11] = p.x / W; J[o + 12] = p.y / W; J[o + 13] = 1 / W; J[o + 14] = (-v * p.x) / W; J[o + 15] = (-v * p.y) / W;
    });
    // scale columns for conditioning
    const d = lsqScaled(J, r, 2 * n, 8);
    for (let k = 0; k < 8; k++) H[k] = H[k]! + d[k]!;
    if (d.every((v, k) => Math.abs(v) <= 1e-12 * (Math.abs(H[k]!) + 1e-12))) break;
  }
  return H;
}

/** `lstsq` on unit-norm columns (J is scaled in place). */
function lsqScaled(J: Float64Array, r: Float64Array, m: number, n: number): Float64Array {
  const sc = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    let s = 0;
    for (let i = 0; i < m; i++) s += J[i * n + j]! ** 2;
    s = Math.sqrt(s) || 1;
    sc[j] = s;
    for (let i = 0; i < m; i++) J[i * n + j] = J[i * n + j]! / s;
  }
  const x = lstsq(J, r, m, n);
  for (let j = 0; j < n; j++) x[j] = x[j]! / sc[j]!;
  return x;
}

function normalize(h: Mat3): Mat3 {
  const s = h[8]!;
  const o = new Float64Array(9);
  for (let i = 0; i < 9; i++) o[i] = h[i]! / s;
  return o;
}

/** Residuals |H(x, y) - (u, v)| of each pair. */
export function residuals(h: Mat3, pairs: Pair[]): Float64Array {
  const out = new Float64Array(pairs.length);
  pairs.forEach((p, i) => {
    const [u, v] = apply(h, p.x, p.y);
    out[i] = Math.hypot(u - p.u, v - p.v);
  });
  return out;
}

export function rms(r: Float64Array): number {
  let s = 0;
  for (const v of r) s += v * v;
  return Math.sqrt(s / Math.max(1, r.length));
}
