/**
 * Noise estimation of one image plane (docs/algorithms.md#noise):
 * - MRS (Starck & Murtagh 1998, as in PixInsight): a-trous B3-spline wavelet transform with 4
 *   layers; start from the k-sigma estimate; iterate sigma = stdev of (I - c_J) over the pixels that
 *   have no significant coefficient (|w_j| >= k sigma kappa_j) in any layer, until the relative change
 *   < 1e-4; accept when >= 1% of the pixels remain, else retry with fewer layers (3, 2), finally k-sigma.
 * - k-sigma: iterative 3-sigma clipping of the first wavelet layer, divided by kappa_0.
 * Both are divided by their bias factor for white Gaussian noise (MRS_GAUSSIAN_FACTOR, analytic
 * kSigmaGaussianFactor), so they estimate the same sigma and can be mixed in noise weights.
 * kappa_j is the standard deviation of layer j for unit white Gaussian noise, computed exactly from
 * the filter (kappa_0 = 0.8907...). Non-finite pixels are replaced by the median for the transform
 * and excluded from the statistics. Boundaries are mirrored.
 * The transform and the sums of the iterations run on the WASM-SIMD kernel (src/kernels/noise.ts)
 * when it loads, with results bit-identical to the plain-TS reference here (DARKROOM_KERNEL=ts).
 */
import { median } from './stats.js';
import { A as SLOT_A, noiseKernel, noiseKernelDone, RATIO, SRC, type NoiseTransformWasm, type Sums } from '../kernels/noise.js';

export interface NoiseEstimate {
  /** Estimated standard deviation of the Gaussian noise, in the plane's units (ADU). */
  sigma: number;
  method: 'mrs' | 'k-sigma';
  /** Wavelet layers used by MRS; 1 for k-sigma (first layer only). */
  layers: number;
  /** Fraction of the (finite) pixels the final estimate was taken over. */
  fraction: number;
}

/** B3-spline a-trous filter taps (1, 4, 6, 4, 1) / 16. */
const H0 = 3 / 8;
const H1 = 1 / 4;
const H2 = 1 / 16;

const MRS_LAYERS = 4;
const K = 3;
const MRS_EPS = 1e-4;
const MIN_FRACTION = 0.01;
const MAX_ITER = 100;

/**
 * Standard deviation of each a-trous B3-spline wavelet layer for unit-variance white noise
 * (infinite image): kappa_j = ||phi_j (x) phi_j - phi_{j+1} (x) phi_{j+1}||_2 with phi_0 = delta,
 * phi_{j+1} = phi_j * h dilated by 2^j; separable, so it reduces to 1-D dot products.
 */
export function b3NoiseCoefficients(layers: number): number[] {
  const out: number[] = [];
  let g: number[] = [1];
  for (let j = 0; j < layers; j++) {
    const d = 1 << j;
    const taps = [H2, H1, H0, H1, H2];
    const next = new Array<number>(g.length + 4 * d).fill(0);
    for (let i = 0; i < g.length; i++) for (let t = 0; t < 5; t++) next[i + t * d]! += g[i]! * taps[t]!;
    // Align g (centred) inside next's support for the dot product.
    const off = 2 * d;
    let gg = 0;
    let gn = 0;
    let nn = 0;
    for (let i = 0; i < g.length; i++) {
      gg += g[i]! * g[i]!;
      gn += g[i]! * next[i + off]!;
    }
    for (let i = 0; i < next.length; i++) nn += next[i]! * next[i]!;
    out.push(Math.sqrt(gg * gg - 2 * gn * gn + nn * nn));
    g = next;
  }
  return out;
}

const KAPPA = b3NoiseCoefficients(MRS_LAYERS);

/**
 * Consistency factors of the raw MRS estimate for white Gaussian noise, by number of layers: the
 * raw estimate is the stdev of I - c_J (which lacks the noise kept in c_J) over pixels whose
 * coefficients all lie within 3 sigma (a truncated distribution), so it reads low by a fixed
 * factor. Measured by simulation (3 x 9 Mpx of unit Gaussian noise, `mrsRaw`; statistical error
 * ~1e-4) and re-checked by test/image/noise.test.ts. PixInsight divides by 0.974 for every layer count.
 */
export const MRS_GAUSSIAN_FACTOR: readonly number[] = [NaN, 0.8561, 0.9557, 0.9744, 0.9787];

/** Abramowitz & Stegun 7.1.26 erf (|error| < 1.5e-7), enough for a consistency factor. */
function erf(x: number): number {
  const s = x < 0 ? -1 : 1;
  const ax = Math.abs(x);
  const t = 1 / (1 + 0.3275911 * ax);
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-ax * ax);
  return s * y;
}

/**
 * Iterated k-sigma clipping of a Gaussian converges to s = r sigma with r = f(k r),
 * f(t) = sqrt(1 - 2 t phi(t) / (2 Phi(t) - 1)) (stdev of a Gaussian truncated at -/+ t sigma).
 * r = 0.98487 for k = 3; noiseKSigma divides by it so that both estimators are consistent.
 */
export function kSigmaGaussianFactor(k: number): number {
  let r = 1;
  for (let i = 0; i < 200; i++) {
    const t = k * r;
    const phi = Math.exp(-0.5 * t * t) / Math.sqrt(2 * Math.PI);
    const next = Math.sqrt(1 - (2 * t * phi) / erf(t / Math.SQRT2));
    if (Math.abs(next - r) < 1e-12) return next;
    r = next;
  }
  return r;
}

const KSIGMA_FACTOR = kSigmaGaussianFactor(K);

/** Mirror an out-of-range index into [0, n). */
function mirror(i: number, n: number): number {
  if (n === 1) return 0;
  const p = 2 * n - 2;
  i %= p;
  if (i < 0) i += p;
  return i < n ? i : p - i;
}

/** Row pass of the B3 filter dilated by `d`: tmp = h_d * src along rows, mirrored boundaries. */
function rowPass(src: Float32Array, tmp: Float32Array, width: number, height: number, d: number): void {
  const d2 = 2 * d;
  const x0 = Math.min(d2, width);
  const x1 = Math.max(x0, width - d2);
  for (let y = 0; y < height; y++) {
    const b = y * width;
    for (let x = 0; x < x0; x++) edgeRow(src, tmp, b, x, width, d);
    for (let i = b + x0, e = b + x1; i < e; i++) {
      tmp[i] = H0 * src[i]! + H1 * (src[i - d]! + src[i + d]!) + H2 * (src[i - d2]! + src[i + d2]!);
    }
    for (let x = x1; x < width; x++) edgeRow(src, tmp, b, x, width, d);
  }
}

/**
 * One a-trous smoothing step with the B3 filter dilated by `d`: dst = (h_d (x) h_d) * src, via `tmp`
 * (row pass then column pass). Mirrored boundaries.
 */
export function b3Smooth(src: Float32Array, dst: Float32Array, tmp: Float32Array, width: number, height: number, d: number): void {
  rowPass(src, tmp, width, height, d);
  // Columns: tmp -> dst, walking whole rows for locality (rows mirrored at the top and bottom).
  for (let y = 0; y < height; y++) {
    const b = y * width;
    const m1 = mirror(y - d, height) * width - b;
    const p1 = mirror(y + d, height) * width - b;
    const m2 = mirror(y - 2 * d, height) * width - b;
    const p2 = mirror(y + 2 * d, height) * width - b;
    for (let i = b, e = b + width; i < e; i++) {
      dst[i] = H0 * tmp[i]! + H1 * (tmp[i + m1]! + tmp[i + p1]!) + H2 * (tmp[i + m2]! + tmp[i + p2]!);
    }
  }
}

/**
 * One layer of the transform, fused: next = c_{j+1} = (h_d (x) h_d) * cur as b3Smooth computes it,
 * and in the same column pass ratio = max(ratio, |cur - next| / kappa_j) (`first`: ratio = that);
 * with `resid` set (the last layer) next receives resid - c_{j+1} instead (resid = the plane I).
 * next may be cur: after the row pass, the column pass reads cur only at the pixel it writes.
 */
function layerPass(
  cur: Float32Array,
  next: Float32Array,
  tmp: Float32Array,
  ratio: Float32Array,
  width: number,
  height: number,
  d: number,
  inv: number,
  first: boolean,
  resid: Float32Array | null,
): void {
  rowPass(cur, tmp, width, height, d);
  const f32 = Math.fround;
  for (let y = 0; y < height; y++) {
    const b = y * width;
    const m1 = mirror(y - d, height) * width - b;
    const p1 = mirror(y + d, height) * width - b;
    const m2 = mirror(y - 2 * d, height) * width - b;
    const p2 = mirror(y + 2 * d, height) * width - b;
    const e = b + width;
    if (resid !== null) {
      for (let i = b; i < e; i++) {
        const c = f32(H0 * tmp[i]! + H1 * (tmp[i + m1]! + tmp[i + p1]!) + H2 * (tmp[i + m2]! + tmp[i + p2]!));
        const r = Math.abs(cur[i]! - c) * inv;
        if (first || r > ratio[i]!) ratio[i] = r;
        next[i] = resid[i]! - c;
      }
    } else if (first) {
      for (let i = b; i < e; i++) {
        const c = f32(H0 * tmp[i]! + H1 * (tmp[i + m1]! + tmp[i + p1]!) + H2 * (tmp[i + m2]! + tmp[i + p2]!));
        ratio[i] = Math.abs(cur[i]! - c) * inv;
        next[i] = c;
      }
    } else {
      for (let i = b; i < e; i++) {
        const c = f32(H0 * tmp[i]! + H1 * (tmp[i + m1]! + tmp[i + p1]!) + H2 * (tmp[i + m2]! + tmp[i + p2]!));
        const r = Math.abs(cur[i]! - c) * inv;
        if (r > ratio[i]!) ratio[i] = r;
        next[i] = c;
      }
    }
  }
}

function edgeRow(src: Float32Array, dst: Float32Array, b: number, x: number, width: number, d: number): void {
  dst[b + x] =
    H0 * src[b + x]! +
    H1 * (src[b + mirror(x - d, width)]! + src[b + mirror(x + d, width)]!) +
    H2 * (src[b + mirror(x - 2 * d, width)]! + src[b + mirror(x + 2 * d, width)]!);
}

function checkPlane(plane: Float32Array, width: number, height: number): void {
  if (!(Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0) || plane.length !== width * height) {
    throw new RangeError(`noise: plane of ${plane.length} values is not ${width}x${height}`);
  }
}

/** The plane with non-finite pixels replaced by the median, plus a validity mask (null: all finite). */
function sanitize(plane: Float32Array): { src: Float32Array; valid: Uint8Array | null; count: number } {
  let bad = 0;
  for (let i = 0; i < plane.length; i++) if (plane[i]! - plane[i]! !== 0) bad++;
  if (bad === 0) return { src: plane, valid: null, count: plane.length };
  const valid = new Uint8Array(plane.length);
  const src = new Float32Array(plane.length);
  const finite = new Float32Array(plane.length - bad);
  let k = 0;
  for (let i = 0; i < plane.length; i++) {
    const v = plane[i]!;
    if (v - v === 0) {
      valid[i] = 1;
      finite[k++] = v;
    }
  }
  const med = k > 0 ? median(finite) : 0;
  for (let i = 0; i < plane.length; i++) src[i] = valid[i] ? plane[i]! : med;
  return { src, valid, count: k };
}

/**
 * sanitize for noiseMRS: a plane with no non-finite pixel goes straight into the WASM kernel, which counts them
 * there (`ready`: the kernel holds the plane in slot SRC, for every transform of this estimate); else as sanitize.
 */
function sanitizeForKernel(plane: Float32Array): { src: Float32Array; valid: Uint8Array | null; count: number; ready: boolean } {
  const kernel = noiseKernel(plane.length);
  if (kernel !== null && kernel.setup(plane) && kernel.nonFinite() === 0) return { src: plane, valid: null, count: plane.length, ready: true };
  return { ...sanitize(plane), ready: false };
}

/**
 * Iterative k-sigma clipping about zero of the first wavelet layer w_0 = src - c1 (computed on the
 * fly): s = stdev of the values with |w| < k s, starting from the stdev of all, until the relative
 * change < 1e-4. Returns s and how many values it used.
 */
function kSigmaClip(sums: (thr: number) => Sums): { s: number; n: number } {
  let thr = Infinity;
  let s = NaN;
  let used = 0;
  for (let it = 0; it < MAX_ITER; it++) {
    const { n, sum, ss } = sums(thr);
    if (n === 0) break;
    const m = sum / n;
    const sn = Math.sqrt(Math.max(0, ss / n - m * m));
    used = n;
    const prev = s;
    s = sn;
    if (!(sn > 0)) break;
    if (Math.abs(sn - prev) / sn < MRS_EPS) break;
    thr = K * sn;
  }
  return { s, n: used };
}

/** kSigmaClip's sums in TS: over v = src - c1 with |v| < thr (valid pixels only), in index order (the kernel's reference; exported for tests). */
export function kSigmaSumsTS(src: Float32Array, c1: Float32Array, valid: Uint8Array | null): (thr: number) => Sums {
  return (thr) => {
    let n = 0;
    let sum = 0;
    let ss = 0;
    for (let i = 0; i < src.length; i++) {
      if (valid !== null && valid[i] === 0) continue;
      const v = src[i]! - c1[i]!;
      if (Math.abs(v) < thr) {
        n++;
        sum += v;
        ss += v * v;
      }
    }
    return { n, sum, ss };
  };
}

/** mrsIterate's sums in TS: over resid where ratio < thr (valid pixels only), in index order (the kernel's reference; exported for tests). */
export function mrsSumsTS(ratio: Float32Array, resid: Float32Array, valid: Uint8Array | null): (thr: number) => Sums {
  return (thr) => {
    let n = 0;
    let sum = 0;
    let ss = 0;
    for (let i = 0; i < resid.length; i++) {
      if (ratio[i]! >= thr) continue;
      if (valid !== null && valid[i] === 0) continue;
      const v = resid[i]!;
      n++;
      sum += v;
      ss += v * v;
    }
    return { n, sum, ss };
  };
}

/** k-sigma noise estimate from layer 0, given the sums over its values. */
function kSigmaFrom(sums: (thr: number) => Sums, count: number): { sigma: number; fraction: number } {
  const { s, n } = kSigmaClip(sums);
  return { sigma: s / (KAPPA[0]! * KSIGMA_FACTOR), fraction: count > 0 ? n / count : 0 };
}

function kSigmaEstimate(src: Float32Array, valid: Uint8Array | null, count: number, width: number, height: number): { sigma: number; fraction: number } {
  const c1 = new Float32Array(src.length);
  b3Smooth(src, c1, new Float32Array(src.length), width, height, 1);
  return kSigmaFrom(kSigmaSumsTS(src, c1, valid), count);
}

/** The transform for the MRS iteration: `sums(thr)` sums the residuals of the pixels with ratio < thr. */
interface Transform {
  ratio: Float32Array;
  resid: Float32Array;
  sums: (thr: number) => Sums;
}

/**
 * Transform with `layers` layers; returns ratio[i] = max_j |w_j(i)| / kappa_j (a pixel is in the
 * support at noise level sigma when ratio >= k sigma) and resid = I - c_layers (= sum of the layers).
 * `ready`: the WASM kernel already holds src in slot SRC (sanitizeForKernel).
 */
function supportAndResidual(
  src: Float32Array,
  valid: Uint8Array | null,
  width: number,
  height: number,
  layers: number,
  atLayer0?: (c1: Float32Array, sums: (thr: number) => Sums) => void,
  ready = false,
): Transform {
  const N = src.length;
  const kernel = noiseKernel(N);
  if (kernel !== null && (ready || kernel.setup(src))) return supportAndResidualWasm(kernel, src, valid, width, height, layers, atLayer0);
  const ratio = new Float32Array(N);
  const tmp = new Float32Array(N);
  // c_1 .. c_layers all in one plane, in place (layerPass reads cur only at the pixel it writes),
  // then the residual: the last layer writes I - c_layers straight away, unless c_1 must be seen first.
  const c = new Float32Array(N);
  for (let j = 0; j < layers; j++) {
    const last = j === layers - 1 && !(j === 0 && atLayer0);
    layerPass(j === 0 ? src : c, c, tmp, ratio, width, height, 1 << j, 1 / KAPPA[j]!, j === 0, last ? src : null);
    if (j === 0 && atLayer0) atLayer0(c, kSigmaSumsTS(src, c, valid));
  }
  if (layers === 1 && atLayer0) for (let i = 0; i < N; i++) c[i] = src[i]! - c[i]!;
  return { ratio, resid: c, sums: mrsSumsTS(ratio, c, valid) };
}

/**
 * supportAndResidual on the WASM-SIMD kernel set up with src (bit-identical): the planes live in the kernel's memory
 * and the returned arrays are views of it, valid until the kernel's next use. The sums run in the
 * kernel too when every pixel is valid (no mask there), else in TS over the views.
 */
function supportAndResidualWasm(
  k: NoiseTransformWasm,
  src: Float32Array,
  valid: Uint8Array | null,
  width: number,
  height: number,
  layers: number,
  atLayer0?: (c1: Float32Array, sums: (thr: number) => Sums) => void,
): Transform {
  // src is in slot SRC (k.setup). c_1 .. c_layers all in slot A, in place (then the residual, written by the last layer).
  for (let j = 0; j < layers; j++) {
    const last = j === layers - 1 && !(j === 0 && atLayer0);
    k.layer(j === 0 ? SRC : SLOT_A, SLOT_A, width, height, 1 << j, 1 / KAPPA[j]!, j === 0, last);
    if (j === 0 && atLayer0) atLayer0(k.plane(SLOT_A), valid === null ? (thr) => k.ksigmaSums(SLOT_A, thr) : kSigmaSumsTS(src, k.plane(SLOT_A), valid));
  }
  const resid = k.plane(SLOT_A);
  if (layers === 1 && atLayer0) for (let i = 0; i < resid.length; i++) resid[i] = src[i]! - resid[i]!;
  const ratio = k.plane(RATIO);
  return { ratio, resid, sums: valid === null ? (thr) => k.mrsSums(SLOT_A, thr) : mrsSumsTS(ratio, resid, valid) };
}

/**
 * MRS iteration on a computed transform. Returns the estimate and the number of pixels it used,
 * or null when no pixel is left.
 */
function mrsIterate(sums: (thr: number) => Sums, sigma0: number): { sigma: number; n: number } | null {
  let sigma = sigma0;
  let n = 0;
  for (let it = 0; it < MAX_ITER; it++) {
    const { n: cnt, sum, ss } = sums(K * sigma);
    if (cnt < 2) return null;
    const m = sum / cnt;
    const s = Math.sqrt(Math.max(0, (ss - cnt * m * m) / (cnt - 1)));
    n = cnt;
    if (!(s > 0)) return { sigma: 0, n };
    const change = Math.abs(s - sigma) / s;
    sigma = s;
    if (change < MRS_EPS) break;
  }
  return { sigma, n };
}

/**
 * Uncorrected MRS estimate with a fixed number of layers (no fallback): the stdev of I - c_layers
 * over the pixels outside the multiresolution support, iterated from `sigma0` (default: the
 * k-sigma estimate). Null when no pixel is left. Exposed for tests and diagnostics.
 */
export function mrsRaw(plane: Float32Array, width: number, height: number, layers: number, sigma0?: number): { sigma: number; n: number } | null {
  checkPlane(plane, width, height);
  if (!(Number.isInteger(layers) && layers >= 1 && layers <= MRS_LAYERS)) throw new RangeError(`noise: layers ${layers} outside [1, ${MRS_LAYERS}]`);
  const { src, valid, count } = sanitize(plane);
  if (count === 0) return null;
  const s0 = sigma0 ?? kSigmaEstimate(src, valid, count, width, height).sigma;
  try {
    return mrsIterate(supportAndResidual(src, valid, width, height, layers).sums, s0);
  } finally {
    noiseKernelDone();
  }
}

/**
 * The transform mrsRaw iterates on, as copies: ratio = max_j |w_j| / kappa_j and resid = I - c_layers
 * (non-finite pixels replaced by the median). Exposed for tests and diagnostics.
 */
export function mrsPlanes(plane: Float32Array, width: number, height: number, layers: number): { ratio: Float32Array; resid: Float32Array } {
  checkPlane(plane, width, height);
  if (!(Number.isInteger(layers) && layers >= 1 && layers <= MRS_LAYERS)) throw new RangeError(`noise: layers ${layers} outside [1, ${MRS_LAYERS}]`);
  const { src, valid } = sanitize(plane);
  try {
    const t = supportAndResidual(src, valid, width, height, layers);
    return { ratio: t.ratio.slice(), resid: t.resid.slice() };
  } finally {
    noiseKernelDone();
  }
}

/**
 * Noise standard deviation by the multiresolution support (MRS), falling back to fewer layers and
 * finally to k-sigma as described in docs/algorithms.md#noise.
 */
export function noiseMRS(plane: Float32Array, width: number, height: number): NoiseEstimate {
  checkPlane(plane, width, height);
  const { src, valid, count, ready } = sanitizeForKernel(plane);
  if (count === 0) return { sigma: NaN, method: 'k-sigma', layers: 1, fraction: 0 };
  try {
    return mrsWithFallback(src, valid, count, width, height, ready);
  } finally {
    noiseKernelDone();
  }
}

/** noiseMRS on a sanitized plane: MRS with 4, 3, 2 layers, else k-sigma. */
function mrsWithFallback(src: Float32Array, valid: Uint8Array | null, count: number, width: number, height: number, ready: boolean): NoiseEstimate {
  // The k-sigma estimate (start value and last resort) comes from the first layer of the first transform.
  let ks = { sigma: NaN, fraction: 0 };
  for (let layers = MRS_LAYERS; layers >= 2; layers--) {
    const t = supportAndResidual(src, valid, width, height, layers, layers === MRS_LAYERS ? (_c1, sums) => (ks = kSigmaFrom(sums, count)) : undefined, ready);
    if (!(ks.sigma > 0)) break;
    const r = mrsIterate(t.sums, ks.sigma);
    if (r !== null && r.sigma > 0 && r.n >= MIN_FRACTION * count) {
      return { sigma: r.sigma / MRS_GAUSSIAN_FACTOR[layers]!, method: 'mrs', layers, fraction: r.n / count };
    }
  }
  return { sigma: ks.sigma, method: 'k-sigma', layers: 1, fraction: ks.fraction };
}

/** Noise standard deviation by iterative 3-sigma clipping of the first B3 wavelet layer / kappa_0. */
export function noiseKSigma(plane: Float32Array, width: number, height: number): number {
  checkPlane(plane, width, height);
  const { src, valid, count } = sanitize(plane);
  if (count === 0) return NaN;
  return kSigmaEstimate(src, valid, count, width, height).sigma;
}

/**
 * Largest plane the noise is estimated on whole (2 Mpx). The estimate needs about four planes of
 * float32 scratch, so a bigger plane is estimated on its central rows (NOISE_MAX_PIXELS pixels at
 * most): memory stays bounded (~35 MB) and, the limit being fixed, the estimate does not depend on
 * any memory budget. Two million pixels pin the noise down to ~0.1%.
 */
export const NOISE_MAX_PIXELS = 1 << 21;

/** The rows [y0, y1) a plane's noise is estimated on: all of them, or a central band of them. */
export function noiseRows(width: number, height: number, maxPixels = NOISE_MAX_PIXELS): [number, number] {
  const rows = Math.max(1, Math.min(height, Math.floor(maxPixels / width)));
  const y0 = (height - rows) >> 1;
  return [y0, y0 + rows];
}
