/**
 * Statistics of pixel sets, matching numpy/astropy definitions (see docs/algorithms.md#statistics). Every function
 * ignores NaN, never modifies its input, and accumulates in float64. Medians are exact
 * (Floyd-Rivest quickselect on a copy). Empty input (or all NaN) gives NaN.
 */
import { bufferLike, copyFinite, copyNonNaN, keepWithin, medianFloat32, medianInPlace, type NumericArray } from '../kernels/select.js';

/** Gaussian consistency factor of the MAD: 1 / Phi^-1(3/4) (astropy mad_std). */
export const MAD_TO_SIGMA = 1.482602218505602;

/**
 * Below this length a copy + quickselect beats the two radix passes over 2 x 65536 bins (at and
 * above it, medians never reorder their input).
 */
export const RADIX_MIN = 4096;

/**
 * Median of buf[0..n-1] (no NaN inside): float32 buffers by radix selection (read-only), others by
 * quickselect (reorders buf[0..n-1], which callers here allow).
 */
function medianBuf(buf: NumericArray, n: number): number {
  return buf instanceof Float32Array && n >= RADIX_MIN ? medianFloat32(buf.subarray(0, n)) : medianInPlace(buf, n);
}

/** Exact median; even count: mean of the two middle values (numpy). */
export function median(a: ArrayLike<number>): number {
  if (a instanceof Float32Array && a.length >= RADIX_MIN) return medianFloat32(a);
  const { buf, n } = copyNonNaN(a);
  return medianInPlace(buf, n);
}

/** Arithmetic mean (float64 accumulation). */
export function mean(a: ArrayLike<number>): number {
  const len = a.length;
  let s = 0;
  let n = 0;
  for (let i = 0; i < len; i++) {
    const v = a[i]!;
    if (v === v) {
      s += v;
      n++;
    }
  }
  return n > 0 ? s / n : NaN;
}

/** Smallest and largest value; NaN for both when there is none. */
export function minMax(a: ArrayLike<number>): { min: number; max: number } {
  const len = a.length;
  let min = Infinity;
  let max = -Infinity;
  // NaN compares false both ways, so it never moves min or max; min > max only when no value is non-NaN
  for (let i = 0; i < len; i++) {
    const v = a[i]!;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return min <= max ? { min, max } : { min: NaN, max: NaN };
}

/** Standard deviation sqrt(sum (x - mean)^2 / (n - ddof)), default ddof 0 (numpy); NaN when n <= ddof. */
export function stdev(a: ArrayLike<number>, ddof = 0): number {
  const m = mean(a);
  if (m !== m) return NaN;
  const len = a.length;
  let ss = 0;
  let n = 0;
  for (let i = 0; i < len; i++) {
    const v = a[i]!;
    if (v === v) {
      const d = v - m;
      ss += d * d;
      n++;
    }
  }
  return n - ddof > 0 ? Math.sqrt(ss / (n - ddof)) : NaN;
}

/** Replaces buf[0..n-1] by |buf[i] - c|. */
function absDeviationInPlace(buf: NumericArray, n: number, c: number): void {
  for (let i = 0; i < n; i++) buf[i] = Math.abs(buf[i]! - c);
}

/** Raw (unscaled) median absolute deviation median |x - center|, center defaulting to the median. */
export function mad(a: ArrayLike<number>, center?: number): number {
  const { buf, n } = copyNonNaN(a);
  if (n === 0) return NaN;
  const c = center ?? medianBuf(buf, n);
  absDeviationInPlace(buf, n, c);
  return medianBuf(buf, n);
}

/** 1.482602218505602 * MAD: a robust Gaussian sigma (astropy mad_std). */
export function madStd(a: ArrayLike<number>): number {
  return MAD_TO_SIGMA * mad(a);
}

/** Median and raw MAD (about that median) of the non-NaN values, from one copy. */
function medianAndMad(a: ArrayLike<number>): { med: number; mad: number; n: number } {
  const { buf, n } = copyNonNaN(a);
  if (n === 0) return { med: NaN, mad: NaN, n };
  const med = medianBuf(buf, n);
  absDeviationInPlace(buf, n, med);
  return { med, mad: medianBuf(buf, n), n };
}

/**
 * Biweight location (astropy `biweight_location`, tuning constant c = 6): M + sum d w / sum w with
 * d = x - M, u = d / (c MAD), w = (1 - u^2)^2 for |u| < 1. M defaults to the median; the MAD is
 * always taken about the median (as astropy does). MAD = 0 gives M.
 */
export function biweightLocation(a: ArrayLike<number>, c = 6, M?: number): number {
  const mm = medianAndMad(a);
  if (mm.n === 0) return NaN;
  const center = M ?? mm.med;
  if (mm.mad === 0) return center;
  const inv = 1 / (c * mm.mad);
  const len = a.length;
  let num = 0;
  let den = 0;
  for (let i = 0; i < len; i++) {
    const v = a[i]!;
    if (v !== v) continue;
    const d = v - center;
    const u = d * inv;
    const u2 = u * u;
    if (u2 < 1) {
      const w = (1 - u2) * (1 - u2);
      num += d * w;
      den += w;
    }
  }
  return den > 0 ? center + num / den : center;
}

/**
 * Add the biweight midvariance terms of one deviation d = v - center (u = d * inv) to acc[0] (the
 * numerator, sum d^2 (1 - u^2)^4) and acc[1] (the denominator, sum (1 - u^2)(1 - 5 u^2)), for |u| < 1.
 */
export function addBiweightTerms(acc: Float64Array, d: number, inv: number): void {
  const u = d * inv;
  const u2 = u * u;
  if (u2 < 1) {
    const t = 1 - u2;
    const t2 = t * t;
    acc[0] += d * d * t2 * t2;
    acc[1] += t * (1 - 5 * u2);
  }
}

/**
 * Sum terms of the biweight midvariance about `center` with scale `c * madv` over buf[0..n-1]
 * (or over the non-NaN values of an ArrayLike): returns n * num / den^2.
 */
function bwmvSums(a: ArrayLike<number>, len: number, center: number, c: number, madv: number): { num: number; den: number; n: number } {
  const inv = 1 / (c * madv);
  const acc = new Float64Array(2);
  let n = 0;
  for (let i = 0; i < len; i++) {
    const v = a[i]!;
    if (v !== v) continue;
    n++;
    addBiweightTerms(acc, v - center, inv);
  }
  return { num: acc[0]!, den: acc[1]!, n };
}

/**
 * Biweight midvariance (astropy `biweight_midvariance`, c = 9, modify_sample_size = false):
 * n * sum d^2 (1 - u^2)^4 / |sum (1 - u^2)(1 - 5 u^2)|^2 over |u| < 1, u = d / (c MAD), d = x - M,
 * n = all non-NaN values. M defaults to the median; the MAD is taken about the median. MAD = 0 gives 0.
 */
export function biweightMidvariance(a: ArrayLike<number>, c = 9, M?: number): number {
  const mm = medianAndMad(a);
  if (mm.n === 0) return NaN;
  if (mm.mad === 0) return 0;
  const center = M ?? mm.med;
  const { num, den, n } = bwmvSums(a, a.length, center, c, mm.mad);
  return den !== 0 ? (n * num) / (den * den) : NaN;
}

/**
 * Iterative k-sigma estimator of location and scale (PixInsight IKSS, docs/algorithms.md#statistics): repeat
 * { m = median, s = sqrt(BWMV about m, c = 9), keep values within m -/+ 4 s } until the relative
 * change of s < 1e-6; location m, scale 0.991 s. Non-finite values are ignored.
 */
export function ikss(a: ArrayLike<number>): { location: number; scale: number } {
  const { buf, n } = copyFinite(a);
  return ikssFrom(buf, n, NaN, 0);
}

/**
 * The IKSS loop from iteration `it0` on the values buf[0..n-1] (finite, in their original order)
 * left by the earlier iterations, whose last scale was `s0` (NaN before the first): lets a
 * streaming caller (bandstats.ts) run the first iterations over a file and finish here with
 * identical results.
 */
/**
 * One IKSS scale update from the biweight sums about m: the result when the iteration ends here
 * (zero scale, or converged within 1e-6), else the new scale.
 */
export function ikssScale(m: number, n: number, num: number, den: number, s0: number): { location: number; scale: number } | number {
  const s = den !== 0 ? Math.sqrt((n * num) / (den * den)) : 0;
  if (!(s > 0)) return { location: m, scale: 0 };
  if (Math.abs(s - s0) / s < 1e-6) return { location: m, scale: 0.991 * s };
  return s;
}

export function ikssFrom(buf: NumericArray, n0: number, s0In: number, it0: number): { location: number; scale: number } {
  let n = n0;
  if (n === 0) return { location: NaN, scale: NaN };
  const tmp: NumericArray = buf instanceof Float32Array ? new Float32Array(n) : new Float64Array(n);
  let s0 = s0In;
  for (let it = it0; it < IKSS_MAX_ITER; it++) {
    const m = medianBuf(buf, n);
    for (let i = 0; i < n; i++) tmp[i] = Math.abs(buf[i]! - m);
    const madv = medianBuf(tmp, n);
    if (madv === 0) return { location: m, scale: 0 };
    const { num, den } = bwmvSums(buf, n, m, 9, madv);
    const s = ikssScale(m, n, num, den, s0);
    if (typeof s !== 'number') return s;
    s0 = s;
    const lo = m - 4 * s;
    const hi = m + 4 * s;
    let k = 0;
    for (let i = 0; i < n; i++) {
      const v = buf[i]!;
      if (v >= lo && v <= hi) buf[k++] = v;
    }
    n = k;
    if (n === 0) return { location: m, scale: 0.991 * s };
  }
  throw new Error('ikss: no convergence');
}

/** Iteration limit of IKSS (it always converges far sooner). */
export const IKSS_MAX_ITER = 1000;

/** Population standard deviation (ddof 0) of buf[0..n-1] and its mean. */
function meanStd(buf: NumericArray, n: number): { mean: number; std: number } {
  let s = 0;
  for (let i = 0; i < n; i++) s += buf[i]!;
  const m = s / n;
  let ss = 0;
  for (let i = 0; i < n; i++) {
    const d = buf[i]! - m;
    ss += d * d;
  }
  return { mean: m, std: Math.sqrt(ss / n) };
}

/**
 * astropy `sigma_clipped_stats` with its defaults (cenfunc median, stdfunc std with ddof 0,
 * sigma 3, maxiters 5): iteratively keep m - sigma*s <= x <= m + sigma*s until nothing changes or
 * maxiters passes; then mean, median and std (ddof 0) of what remains. Non-finite values are
 * ignored (astropy clips them). `maxiters` may be Infinity (astropy's None).
 */
export function sigmaClippedStats(a: ArrayLike<number>, sigma = 3, maxiters = 5): { mean: number; median: number; stdev: number } {
  const { buf, n: n0 } = copyFinite(a);
  let n = n0;
  if (n === 0) return { mean: NaN, median: NaN, stdev: NaN };
  for (let it = 0; it < maxiters; it++) {
    const m = medianBuf(buf, n);
    const { std } = meanStd(buf, n);
    const k = keepWithin(buf, n, m - std * sigma, m + std * sigma);
    const changed = n - k;
    n = k;
    if (changed === 0 || n === 0) break;
  }
  if (n === 0) return { mean: NaN, median: NaN, stdev: NaN };
  const ms = meanStd(buf, n);
  return { mean: ms.mean, median: medianBuf(buf, n), stdev: ms.std };
}

export interface PlaneStats {
  mean: number;
  median: number;
  /** Population standard deviation (ddof 0). */
  stdev: number;
  /** Raw MAD about the median (multiply by MAD_TO_SIGMA for a Gaussian sigma). */
  mad: number;
  min: number;
  max: number;
  /** Number of finite pixels the statistics were taken over. */
  count: number;
}

/**
 * The usual summary of a plane in one copy and a few passes, over finite pixels only (NaN and
 * +-Infinity are skipped). All fields NaN (count 0) when no pixel is finite.
 */
export function planeStats(a: ArrayLike<number>): PlaneStats {
  const len = a.length;
  const buf = bufferLike(a);
  let n = 0;
  let sum = 0;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < len; i++) {
    const v = a[i]!;
    if (v - v !== 0) continue;
    buf[n++] = v;
    sum += v;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (n === 0) return { mean: NaN, median: NaN, stdev: NaN, mad: NaN, min: NaN, max: NaN, count: 0 };
  const m = sum / n;
  let ss = 0;
  for (let i = 0; i < n; i++) {
    const d = buf[i]! - m;
    ss += d * d;
  }
  const med = medianBuf(buf, n);
  absDeviationInPlace(buf, n, med);
  const madv = medianBuf(buf, n);
  return { mean: m, median: med, stdev: Math.sqrt(ss / n), mad: madv, min, max, count: n };
}
