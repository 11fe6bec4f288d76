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
    // u = a x - b y + tx, v = b x + a y + ty   (mirror: u = a x + b y + tx, v = b x - a y + ty)
    const A = new Matrix(2 * n, 4);
    const B = new Matrix(2 * n, 1);
    const m = mirror ? -1 : 1;
    pairs.forEach((p, i) => {
      A.set(2 * i, 0, p.x); A.set(2 * i, 1, -m * p.y); A.set(2 * i, 2, 1); A.set(2 * i, 3, 0); B.set(2 * i, 0, p.u);
      A.set(2 * i + 1, 0, m * p.y); A.set(2 * i + 1, 1, p.x); A.set(2 * i + 1, 2, 0); A.set(2 * i + 1, 3, 1); B.set(2 * i + 1, 0, p.v);
    });
    // written as: u = a x - m b y + tx ; v = b x + m a y + ty
    const s = lsq(A, B);
    const a = s[0]!, b = s[1]!;
    return Float64Array.from([a, -m * b, s[2]!, b, m * a, s[3]!, 0, 0, 1]);
  }
  if (model === 'affine') {
    const A = new Matrix(n, 3);
    const U = new Matrix(n, 1);
    const V = new Matrix(n, 1);
    pairs.forEach((p, i) => { A.set(i, 0, p.x); A.set(i, 1, p.y); A.set(i, 2, 1); U.set(i, 0, p.u); V.set(i, 0, p.v); });
    const su = lsq(A, U), sv = lsq(A, V);
    return Float64Array.from([su[0]!, su[1]!, su[2]!, sv[0]!, sv[1]!, sv[2]!, 0, 0, 1]);
  }
  return fitHomography(pairs);
}

function lsq(A: Matrix, B: Matrix): number[] {
  return mlSolve(A, B, true).to1DArray();
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
  const A = new Matrix(2 * n, 8);
  const B = new Matrix(2 * n, 1);
  pairs.forEach((p, i) => {
    const [x, y] = Nx.f(p.x, p.y);
    const [u, v] = Nu.f(p.u, p.v);
    A.setRow(2 * i, [x, y, 1, 0, 0, 0, -u * x, -u * y]);
    B.set(2 * i, 0, u);
    A.setRow(2 * i + 1, [0, 0, 0, x, y, 1, -v * x, -v * y]);
    B.set(2 * i + 1, 0, v);
  });
  const s = lsq(A, B);
  const Hn = Float64Array.from([...s, 1]);
  let H = multiply(multiply(invert(Nu.T), Hn), Nx.T);
  H = normalize(H);
  // Gauss-Newton refinement on the geometric (reprojection) error
  for (let it = 0; it < 5; it++) {
    const J = new Matrix(2 * n, 8);
    const r = new Matrix(2 * n, 1);
    pairs.forEach((p, i) => {
      const X = H[0]! * p.x + H[1]! * p.y + H[2]!;
      const Y = H[3]! * p.x + H[4]! * p.y + H[5]!;
      const W = H[6]! * p.x + H[7]! * p.y + 1;
      const u = X / W, v = Y / W;
      r.set(2 * i, 0, p.u - u);
      r.set(2 * i + 1, 0, p.v - v);
      J.setRow(2 * i, [p.x / W, p.y / W, 1 / W, 0, 0, 0, (-u * p.x) / W, (-u * p.y) / W]);
      J.setRow(2 * i + 1, [0, 0, 0, p.x / W, p.y / W, 1 / W, (-v * p.x) / W, (-v * p.y) / W]);
    });
    // scale columns for conditioning
    const d = lsqScaled(J, r);
    for (let k = 0; k < 8; k++) H[k] = H[k]! + d[k]!;
    if (d.every((v, k) => Math.abs(v) <= 1e-12 * (Math.abs(H[k]!) + 1e-12))) break;
  }
  return H;
}

function lsqScaled(J: Matrix, r: Matrix): number[] {
  const cols = J.columns;
  const sc: number[] = [];
  for (let j = 0; j < cols; j++) {
    let s = 0;
    for (let i = 0; i < J.rows; i++) s += J.get(i, j) ** 2;
    s = Math.sqrt(s) || 1;
    sc.push(s);
    for (let i = 0; i < J.rows; i++) J.set(i, j, J.get(i, j) / s);
  }
  const x = lsq(J, r);
  return x.map((v, j) => v / sc[j]!);
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
