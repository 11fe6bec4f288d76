/**
 * Helpers shared by the sensor analyses: regions of interest, signed sums of frames in float64 and
 * sigma-clipped statistics whose standard deviation is corrected for the clipping (a Gaussian
 * truncated at +-B has a smaller sigma; we undo that so that clipped noise estimates are unbiased).
 */
import { median, madStd } from '../image/stats.js';
import { DarkroomError } from '../util/errors.js';

export interface Region {
  x0: number;
  y0: number;
  width: number;
  height: number;
}

/** The central `fraction` of the frame in each axis (0.5: the central quarter of the area). */
export function centralRegion(width: number, height: number, fraction = 0.5): Region {
  const w = Math.max(1, Math.round(width * fraction));
  const h = Math.max(1, Math.round(height * fraction));
  return { x0: Math.floor((width - w) / 2), y0: Math.floor((height - h) / 2), width: w, height: h };
}

export function fullRegion(width: number, height: number): Region {
  return { x0: 0, y0: 0, width, height };
}

/**
 * Parse a region option: `full`, `center` (central half in each axis), `center:F` (central
 * fraction F), or `X0,Y0,W,H` in pixels.
 */
export function parseRegion(spec: string | undefined, width: number, height: number, dflt: 'full' | 'center' = 'center'): Region {
  const s = (spec ?? dflt).trim().toLowerCase();
  if (s === 'full') return fullRegion(width, height);
  if (s === 'center' || s === 'centre') return centralRegion(width, height);
  const mc = /^cent(?:er|re):([0-9.]+)$/.exec(s);
  if (mc) {
    const f = Number(mc[1]);
    if (!(f > 0 && f <= 1)) throw new DarkroomError('BAD_ARGUMENT', `--region center:F needs 0 < F <= 1, got '${spec}'`);
    return centralRegion(width, height, f);
  }
  const parts = s.split(',').map((p) => Number(p));
  if (parts.length === 4 && parts.every((p) => Number.isInteger(p) && p >= 0)) {
    const [x0, y0, w, h] = parts as [number, number, number, number];
    if (w < 2 || h < 2 || x0 + w > width || y0 + h > height) {
      throw new DarkroomError('BAD_ARGUMENT', `--region ${spec} does not fit in the ${width}x${height} frame`);
    }
    return { x0, y0, width: w, height: h };
  }
  throw new DarkroomError('BAD_ARGUMENT', `--region must be 'full', 'center', 'center:F' or 'X0,Y0,W,H', got '${spec}'`);
}

/** The pixels of `r` as float64 (row-major). */
export function extractRegion(plane: ArrayLike<number>, width: number, r: Region): Float64Array {
  const out = new Float64Array(r.width * r.height);
  let k = 0;
  for (let y = r.y0; y < r.y0 + r.height; y++) {
    const row = y * width;
    for (let x = r.x0; x < r.x0 + r.width; x++) out[k++] = plane[row + x]!;
  }
  return out;
}

/**
 * Accumulate `acc += sign * scale * (plane - offset)` over region `r` in float64 (acc has the
 * region's size). Alternating signs keep the sum of many darks near zero (no overflow, no
 * cancellation loss).
 */
export function accumulateRegion(acc: Float64Array, plane: ArrayLike<number>, width: number, r: Region, sign: number, scale = 1, offset = 0): void {
  let k = 0;
  const f = sign * scale;
  for (let y = r.y0; y < r.y0 + r.height; y++) {
    const row = y * width;
    for (let x = r.x0; x < r.x0 + r.width; x++) acc[k++]! += f * (plane[row + x]! - offset);
  }
}

/** Plain mean and standard deviation (ddof 1) in float64, NaN skipped. */
export function meanStd(a: ArrayLike<number>): { mean: number; stdev: number; count: number } {
  let n = 0;
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    const v = a[i]!;
    if (v === v) {
      s += v;
      n++;
    }
  }
  if (n === 0) return { mean: NaN, stdev: NaN, count: 0 };
  const m = s / n;
  let ss = 0;
  for (let i = 0; i < a.length; i++) {
    const v = a[i]!;
    if (v === v) ss += (v - m) * (v - m);
  }
  return { mean: m, stdev: n > 1 ? Math.sqrt(ss / (n - 1)) : 0, count: n };
}

/** erf, Abramowitz & Stegun 7.1.26 refined by one Newton-free series switch (|error| < 2e-7). */
export function erf(x: number): number {
  const s = x < 0 ? -1 : 1;
  const ax = Math.abs(x);
  if (ax < 0.5) {
    // Maclaurin series: accurate near 0 where 7.1.26 is weakest.
    let term = ax;
    let sum = ax;
    const x2 = ax * ax;
    for (let n = 1; n < 30; n++) {
      term *= -x2 / n;
      sum += term / (2 * n + 1);
    }
    return (s * 2 * sum) / Math.sqrt(Math.PI);
  }
  const t = 1 / (1 + 0.3275911 * ax);
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-ax * ax);
  return s * y;
}

/**
 * Ratio sigma_truncated / sigma of a zero-mean Gaussian truncated symmetrically at +-a sigma:
 * sqrt(1 - 2 a phi(a) / (2 Phi(a) - 1)).
 */
export function truncatedSigmaFactor(a: number): number {
  if (!(a > 0)) return 0;
  if (a > 12) return 1;
  const phi = Math.exp(-0.5 * a * a) / Math.sqrt(2 * Math.PI);
  const mass = erf(a / Math.SQRT2);
  return Math.sqrt(Math.max(0, 1 - (2 * a * phi) / mass));
}

export interface ClippedStats {
  /** Mean of the kept values. */
  mean: number;
  /** Standard deviation of the kept values, corrected for the truncation (Gaussian). */
  sigma: number;
  /** Standard deviation of the kept values as they are (ddof 1). */
  sigmaClipped: number;
  /** Values kept and rejected. */
  count: number;
  rejected: number;
}

/**
 * Iterative k-sigma clipping about the mean (first pass about the median with the MAD sigma):
 * keep |x - c| <= k s, recompute c and s from what is kept, until the kept set no longer changes.
 * The kept standard deviation is then corrected for the truncation at +-k s of a Gaussian, so
 * the result estimates the sigma of the uncontaminated population (hot pixels and cosmic rays
 * rejected) without the few-percent low bias of plain clipped sigmas.
 */
export function clippedStats(a: Float64Array, k = 3.5, maxIter = 30): ClippedStats {
  const n = a.length;
  let c = median(a);
  let s = madStd(a);
  if (!(s > 0)) {
    const ms = meanStd(a);
    s = ms.stdev;
    if (!(s > 0)) return { mean: ms.mean, sigma: 0, sigmaClipped: 0, count: ms.count, rejected: n - ms.count };
  }
  let kept = -1;
  let bound = k * s;
  let mean = c;
  let sd = s;
  for (let it = 0; it < maxIter; it++) {
    bound = k * s;
    let cnt = 0;
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const v = a[i]!;
      if (Math.abs(v - c) <= bound) {
        sum += v;
        cnt++;
      }
    }
    if (cnt < 2) break;
    mean = sum / cnt;
    let ss = 0;
    for (let i = 0; i < n; i++) {
      const v = a[i]!;
      if (Math.abs(v - c) <= bound) ss += (v - mean) * (v - mean);
    }
    sd = Math.sqrt(ss / (cnt - 1));
    const done = cnt === kept;
    kept = cnt;
    c = mean;
    s = sd;
    if (done) break;
  }
  // Undo the truncation: the kept values lie within +-bound of the centre; solve
  // sd = sigma * f(bound / sigma) for sigma by fixed-point iteration (f increases to 1).
  let sigma = sd;
  for (let it = 0; it < 100; it++) {
    const f = truncatedSigmaFactor(bound / sigma);
    if (!(f > 0)) break;
    const next = sd / f;
    if (Math.abs(next - sigma) <= 1e-12 * sigma) {
      sigma = next;
      break;
    }
    sigma = next;
  }
  return { mean, sigma, sigmaClipped: sd, count: kept, rejected: n - kept };
}
