/**
 * Per-pixel rejection kernels (plain-TS reference). Each works on the `cnt` values of one pixel
 * already normalized for rejection and SORTED ascending in `v[lo..hi)` (frame indices carried in
 * `f`). Almost every algorithm rejects only extremes, so the kept set stays a contiguous slice:
 * the result is the new [lo, hi) in `ws`; slots below lo were rejected low, slots at or above hi
 * rejected high unless `ws.side[slot]` says -1 (linear fit can reject a value in the middle of the
 * sorted list; it moves it behind hi and records its side).
 *
 * Variants followed (docs/algorithms.md#rejection lists the tools' definitions and the differences):
 *  - sigma: Astropy `sigma_clip(cenfunc='median', stdfunc='std', maxiters=None)`: centre = median,
 *    sigma = population std (ddof 0) of the remaining values, reject x < m - kl*s or x > m + kh*s
 *    (strict), iterate until nothing changes; then, as Astropy's compiled axis path does, the final
 *    mask is every original value outside the LAST bounds (a value clipped earlier may return).
 *    No minimum count (Astropy has none).
 *  - mad: the same loop with sigma = 1.482602218505602 * MAD (Astropy `mad_std`).
 *  - winsorized: Siril's estimation of sigma (centre = median held fixed, start sigma = sample std
 *    ddof 1, winsorize to m -/+ 1.5 sigma, sigma <- 1.134 * std(winsorized) until the relative
 *    change is < 0.0005) plus PixInsight's cutoff (before winsorizing, values beyond m -/+
 *    cutoff*sigma are replaced by the median). The bounds are centred, as PixInsight's, on the
 *    winsorized mean (the mean of the winsorized values), not on the median, and the sigma
 *    multipliers are corrected for the sampling error of a sigma estimated from c values: the
 *    bound is the Student t (c - 1 degrees of freedom) quantile with the normal tail probability of
 *    kl / kh (`winsorThreshold`), so a Gaussian value is rejected as often as kl/kh promise.
 *    Reject (wm - x) > kl'*sigma, (x - wm) > kh'*sigma; repeat while something was rejected and more
 *    than 3 values remain. docs/algorithms.md §9 gives the Monte-Carlo efficiencies of both choices.
 *  - averaged-sigma: as docs/algorithms.md#rejection per pixel: s = sqrt(sum (x - m)^2 / m / (n - 1)),
 *    sigma = s * sqrt(m) (median m > 0 required), iterate like sigma clipping while n >= 3.
 *  - percentile: PixInsight / Siril one pass: (m - x)/m > pLow, (x - m)/m > pHigh (m > 0 required).
 *  - minmax: drop the nLow lowest and nHigh highest (only when more than nLow + nHigh values remain).
 *  - linear-fit: Siril's variant: least-squares line through the sorted values against their rank,
 *    sigma = mean |residual|, reject residual < -kl*sigma / > kh*sigma, re-rank and repeat while
 *    something was rejected and at least 5 values remain.
 *  - gesd: Rosner's generalized ESD as in PixInsight: up to floor(fraction*n) outliers; Grubbs
 *    statistic with the sample std (ddof 1); critical values from the Student t quantile
 *    (`studentt.ts`); reject all removed up to the last i with G > lambda_i. With clip-low or
 *    clip-high off, only the enabled side is tested.
 */
import { incompleteBeta, studentTQuantile } from './studentt.js';

export const REJECT_CODES = {
  none: 0,
  minmax: 1,
  percentile: 2,
  sigma: 3,
  winsorized: 4,
  'averaged-sigma': 5,
  'linear-fit': 6,
  gesd: 7,
  mad: 8,
} as const;
export type RejectName = keyof typeof REJECT_CODES;

/** The tuning of the rejection algorithms (shared by the integration options and the kernel parameters). */
export interface RejectTuning {
  sigmaLow: number;
  sigmaHigh: number;
  winsorCutoff: number;
  linearLow: number;
  linearHigh: number;
  percentileLow: number;
  percentileHigh: number;
  minmaxLow: number;
  minmaxHigh: number;
  gesdFraction: number;
  gesdAlpha: number;
  clipLow: boolean;
  clipHigh: boolean;
}

export interface RejectParams extends RejectTuning {
  reject: number;
}

/** Scratch space for one pixel stack of up to `n` values. */
export class RejectWorkspace {
  lo = 0;
  hi = 0;
  readonly side: Int8Array;
  readonly w: Float64Array;
  readonly tv: Float64Array;
  readonly tf: Int32Array;
  readonly ts: Int8Array;
  /** GESD critical values: lambda[cnt * (n + 1) + i]. */
  private gesdLambda: Float64Array | null = null;
  /** Winsorized clipping bounds by count (`winsorThresholds`), for the sigmas in `winsorKey`. */
  private winsorKey = '';
  private winsorK: Float64Array | null = null;
  constructor(readonly n: number) {
    this.side = new Int8Array(n);
    this.w = new Float64Array(n);
    this.tv = new Float64Array(n);
    this.tf = new Int32Array(n);
    this.ts = new Int8Array(n);
  }
  /** The winsorized clipping multipliers for counts 0..n: [low(0), high(0), low(1), high(1), ...]. */
  winsor(kl: number, kh: number): Float64Array {
    const key = `${kl}/${kh}`;
    if (!this.winsorK || key !== this.winsorKey) {
      this.winsorK = winsorThresholds(this.n, kl, kh);
      this.winsorKey = key;
    }
    return this.winsorK;
  }
  lambda(cnt: number, i: number, alpha: number): number {
    const n = this.n;
    if (!this.gesdLambda) {
      this.gesdLambda = new Float64Array((n + 1) * (n + 1)).fill(NaN);
    }
    const k = cnt * (n + 1) + i;
    let l = this.gesdLambda[k]!;
    if (l !== l) {
      l = gesdCritical(cnt, i, alpha);
      this.gesdLambda[k] = l;
    }
    return l;
  }
}

/** erfc(x) (Numerical Recipes' Chebyshev fit: relative error < 1.2e-7 everywhere). */
function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
  return x >= 0 ? r : 2 - r;
}

/** The t with P(T > t) = q for Student's t with `df` degrees of freedom (0 < q < 0.5), by bisection on the upper tail. */
export function studentTUpper(q: number, df: number): number {
  const tail = (t: number): number => 0.5 * incompleteBeta(df / (df + t * t), df / 2, 0.5);
  let lo = 0;
  let hi = 1;
  while (tail(hi) > q) {
    lo = hi;
    hi *= 2;
    if (hi > 1e12) return Infinity;
  }
  for (let it = 0; it < 200 && hi - lo > 1e-13 * hi; it++) {
    const mid = 0.5 * (lo + hi);
    if (tail(mid) > q) lo = mid;
    else hi = mid;
  }
  return 0.5 * (lo + hi);
}

/**
 * The winsorized clipping multiplier for `k` sigma with `cnt` values: the Student t quantile
 * (cnt - 1 degrees of freedom) of the normal tail probability of k, P(T > k') = P(Z > k). A sigma
 * estimated from few values scatters (27% at 10 values), and a bound k*sigma drawn with it rejects
 * Gaussian values far more often than P(Z > k); k' restores that rate. Tends to k for many values.
 */
export function winsorThreshold(k: number, cnt: number): number {
  return Math.min(winsorTQuantile(k, cnt), WINSOR_CAP * k);
}

/** The uncapped multiplier: P(T > k') = P(Z > k), T Student's t with cnt - 1 degrees of freedom (k below 3 values). */
export function winsorTQuantile(k: number, cnt: number): number {
  if (!(cnt >= 3)) return k;
  const q = 0.5 * erfc(k / Math.SQRT2);
  if (!(q > 0)) return Infinity;
  return studentTUpper(q, cnt - 1);
}

/**
 * The t multiplier is capped at WINSOR_CAP x k: with very few values (the t quantile of 3 sigma is
 * 6.6 with 5 values) the uncapped bound lets 10-13 sigma cosmic rays and satellite trails through; a
 * stack of 5 frames keeps its outliers out at the price of a higher clean rejection rate there.
 */
export const WINSOR_CAP = 1.5;

/** winsorThreshold for counts 0..n, low and high interleaved: [low(0), high(0), low(1), high(1), ...]. */
export function winsorThresholds(n: number, kl: number, kh: number): Float64Array {
  const out = new Float64Array(2 * (n + 1));
  for (let c = 0; c <= n; c++) {
    out[2 * c] = winsorThreshold(kl, c);
    out[2 * c + 1] = winsorThreshold(kh, c);
  }
  return out;
}

/** lambda_i = t (n - i - 1) / sqrt((n - i - 2 + t^2)(n - i)), t at p = 1 - alpha/(2(n - i)), df n - i - 2. */
export function gesdCritical(n: number, i: number, alpha: number): number {
  const df = n - i - 2;
  if (df < 1) return Infinity;
  const p = 1 - alpha / (2 * (n - i));
  const t = studentTQuantile(p, df);
  return (t * (n - i - 1)) / Math.sqrt((n - i - 2 + t * t) * (n - i));
}

/** Median of sorted v[lo..hi) (mean of the two middle values for an even count). */
export function medianSorted(v: Float64Array, lo: number, hi: number): number {
  const c = hi - lo;
  const mid = lo + (c >> 1);
  return c & 1 ? v[mid]! : 0.5 * (v[mid - 1]! + v[mid]!);
}

/** Median of |v - med| for sorted v[lo..hi): merges the two sorted distance sequences around med. */
export function madSorted(v: Float64Array, lo: number, hi: number, med: number): number {
  const c = hi - lo;
  if (c === 0) return NaN;
  // j: first index with v[j] >= med
  let j = lo;
  while (j < hi && v[j]! < med) j++;
  let i = j - 1;
  const k1 = (c - 1) >> 1; // 0-based rank of the lower middle
  const need = c & 1 ? k1 : k1 + 1;
  let a = 0;
  let b = 0;
  for (let r = 0; r <= need; r++) {
    let d: number;
    const dl = i >= lo ? med - v[i]! : Infinity;
    const dr = j < hi ? v[j]! - med : Infinity;
    if (dl <= dr) {
      d = dl;
      i--;
    } else {
      d = dr;
      j++;
    }
    if (r === k1) a = d;
    if (r === need) b = d;
  }
  return c & 1 ? a : 0.5 * (a + b);
}

function meanOf(v: Float64Array, lo: number, hi: number): number {
  let s = 0;
  for (let k = lo; k < hi; k++) s += v[k]!;
  return s / (hi - lo);
}

/** Standard deviation of v[lo..hi) with the given ddof (two-pass, float64). */
export function stdOf(v: Float64Array, lo: number, hi: number, ddof: number): number {
  const c = hi - lo;
  const m = meanOf(v, lo, hi);
  let s = 0;
  for (let k = lo; k < hi; k++) {
    const d = v[k]! - m;
    s += d * d;
  }
  return Math.sqrt(s / (c - ddof));
}

/** First index in sorted v[lo, hi) not below minV (values below are rejected low). */
function skipLow(v: Float64Array, lo: number, hi: number, minV: number): number {
  while (lo < hi && v[lo]! < minV) lo++;
  return lo;
}

/** End of sorted v[lo, hi) after dropping the values above maxV (rejected high). */
function skipHigh(v: Float64Array, lo: number, hi: number, maxV: number): number {
  while (hi > lo && v[hi - 1]! > maxV) hi--;
  return hi;
}

/** Astropy-style iterative sigma clipping (useMad: sigma = mad_std). */
function sigmaClip(v: Float64Array, ws: RejectWorkspace, P: RejectParams, useMad: boolean): void {
  let lo = ws.lo;
  let hi = ws.hi;
  const kl = P.sigmaLow;
  const kh = P.sigmaHigh;
  for (;;) {
    if (hi - lo < 1) break;
    const med = medianSorted(v, lo, hi);
    const sd = useMad ? 1.482602218505602 * madSorted(v, lo, hi, med) : stdOf(v, lo, hi, 0);
    const minV = med - kl * sd;
    const maxV = med + kh * sd;
    const nlo = P.clipLow ? skipLow(v, lo, hi, minV) : lo;
    const nhi = P.clipHigh ? skipHigh(v, nlo, hi, maxV) : hi;
    if (nlo === lo && nhi === hi) {
      // Astropy (the compiled path used with axis=) returns the bounds of this last iteration
      // and masks the ORIGINAL values outside them, so a value clipped in an earlier iteration
      // comes back when the final bounds include it.
      const cnt = ws.hi;
      lo = 0;
      hi = cnt;
      if (P.clipLow) lo = skipLow(v, lo, hi, minV);
      if (P.clipHigh) hi = skipHigh(v, lo, hi, maxV);
      break;
    }
    lo = nlo;
    hi = nhi;
  }
  ws.lo = lo;
  ws.hi = hi;
}

/**
 * Narrow ws's range [lo, hi) of sorted v to [med - sigmaLow * sigma, med + sigmaHigh * sigma] (on the
 * sides clipped); false when nothing was rejected.
 */
function clipAround(v: Float64Array, ws: RejectWorkspace, P: RejectParams, med: number, sigma: number, kl = P.sigmaLow, kh = P.sigmaHigh): boolean {
  const lo = ws.lo;
  const hi = ws.hi;
  const minV = med - kl * sigma;
  const maxV = med + kh * sigma;
  const nlo = P.clipLow ? skipLow(v, lo, hi, minV) : lo;
  const nhi = P.clipHigh ? skipHigh(v, nlo, hi, maxV) : hi;
  if (nlo === lo && nhi === hi) return false;
  ws.lo = nlo;
  ws.hi = nhi;
  return true;
}

function winsorized(v: Float64Array, ws: RejectWorkspace, P: RejectParams): void {
  const w = ws.w;
  const cut = P.winsorCutoff;
  const K = ws.winsor(P.sigmaLow, P.sigmaHigh);
  while (ws.hi - ws.lo > 3) {
    const lo = ws.lo;
    const hi = ws.hi;
    const med = medianSorted(v, lo, hi);
    let sigma = stdOf(v, lo, hi, 1);
    if (!(sigma > 0)) break;
    const c0 = med - cut * sigma;
    const c1 = med + cut * sigma;
    for (let k = lo; k < hi; k++) {
      const x = v[k]!;
      w[k] = x < c0 || x > c1 ? med : x;
    }
    for (let it = 0; it < 100; it++) {
      const m0 = med - 1.5 * sigma;
      const m1 = med + 1.5 * sigma;
      for (let k = lo; k < hi; k++) {
        const x = w[k]!;
        w[k] = x < m0 ? m0 : x > m1 ? m1 : x;
      }
      const s0 = sigma;
      sigma = 1.134 * stdOf(w, lo, hi, 1);
      if (!(Math.abs(sigma - s0) > s0 * 0.0005)) break;
    }
    const wm = meanOf(w, lo, hi);
    const c = hi - lo;
    if (!clipAround(v, ws, P, wm, sigma, K[2 * c]!, K[2 * c + 1]!)) break;
  }
}

function averagedSigma(v: Float64Array, ws: RejectWorkspace, P: RejectParams): void {
  while (ws.hi - ws.lo >= 3) {
    const lo = ws.lo;
    const hi = ws.hi;
    const med = medianSorted(v, lo, hi);
    if (!(med > 0)) break;
    let s2 = 0;
    for (let k = lo; k < hi; k++) {
      const d = v[k]! - med;
      s2 += (d * d) / med;
    }
    const sigma = Math.sqrt(s2 / (hi - lo - 1)) * Math.sqrt(med);
    if (!clipAround(v, ws, P, med, sigma)) break;
  }
}

function percentile(v: Float64Array, ws: RejectWorkspace, P: RejectParams): void {
  let lo = ws.lo;
  let hi = ws.hi;
  if (hi - lo < 2) return;
  const med = medianSorted(v, lo, hi);
  if (!(med > 0)) return;
  if (P.clipLow) while (lo < hi && (med - v[lo]!) / med > P.percentileLow) lo++;
  if (P.clipHigh) while (hi > lo && (v[hi - 1]! - med) / med > P.percentileHigh) hi--;
  ws.lo = lo;
  ws.hi = hi;
}

function minmax(ws: RejectWorkspace, P: RejectParams): void {
  const nl = P.clipLow ? P.minmaxLow : 0;
  const nh = P.clipHigh ? P.minmaxHigh : 0;
  if (ws.hi - ws.lo <= nl + nh) return;
  ws.lo += nl;
  ws.hi -= nh;
}

function gesd(v: Float64Array, ws: RejectWorkspace, P: RejectParams): void {
  const lo0 = ws.lo;
  const hi0 = ws.hi;
  const cnt = hi0 - lo0;
  const kmax = Math.floor(P.gesdFraction * cnt);
  let tl = lo0;
  let th = hi0;
  let bestLo = lo0;
  let bestHi = hi0;
  for (let i = 0; i < kmax; i++) {
    const m = th - tl;
    if (m < 3) break;
    const mean = meanOf(v, tl, th);
    const sd = stdOf(v, tl, th, 1);
    if (!(sd > 0)) break;
    const dl = P.clipLow ? mean - v[tl]! : -1;
    const dh = P.clipHigh ? v[th - 1]! - mean : -1;
    if (dl < 0 && dh < 0) break;
    let G: number;
    if (dh >= dl) {
      G = dh / sd;
      th--;
    } else {
      G = dl / sd;
      tl++;
    }
    if (G > ws.lambda(cnt, i, P.gesdAlpha)) {
      bestLo = tl;
      bestHi = th;
    }
  }
  ws.lo = bestLo;
  ws.hi = bestHi;
}

function linearFit(v: Float64Array, f: Int32Array, ws: RejectWorkspace, P: RejectParams): void {
  const lo = ws.lo;
  let hi = ws.hi;
  const { tv, tf, ts, side } = ws;
  while (hi - lo >= 5) {
    const c = hi - lo;
    // least squares y = a + b*j, j = 0..c-1
    const jm = (c - 1) / 2;
    let ym = 0;
    for (let k = lo; k < hi; k++) ym += v[k]!;
    ym /= c;
    let sxy = 0;
    let sxx = 0;
    for (let k = lo; k < hi; k++) {
      const dj = k - lo - jm;
      sxy += dj * (v[k]! - ym);
      sxx += dj * dj;
    }
    const b = sxy / sxx;
    const a = ym - b * jm;
    let sigma = 0;
    for (let k = lo; k < hi; k++) sigma += Math.abs(v[k]! - (a + b * (k - lo)));
    sigma /= c;
    let wpos = lo;
    let nrej = 0;
    for (let k = lo; k < hi; k++) {
      const r = v[k]! - (a + b * (k - lo));
      let s = 0;
      if (P.clipLow && -r > P.linearLow * sigma) s = -1;
      else if (P.clipHigh && r > P.linearHigh * sigma) s = 1;
      if (s === 0) {
        v[wpos] = v[k]!;
        f[wpos] = f[k]!;
        wpos++;
      } else {
        tv[nrej] = v[k]!;
        tf[nrej] = f[k]!;
        ts[nrej] = s;
        nrej++;
      }
    }
    if (nrej === 0) break;
    for (let r = 0; r < nrej; r++) {
      v[wpos + r] = tv[r]!;
      f[wpos + r] = tf[r]!;
      side[wpos + r] = ts[r]!;
    }
    hi = wpos;
  }
  ws.hi = hi;
}

/**
 * Run the rejection `code` (default `P.reject`) on sorted v[0..cnt) (frames in f). Sets ws.lo/ws.hi and ws.side
 * (side[slot] for slots >= hi: +1 high, -1 low).
 */
/** The rejection algorithms by code (REJECT_CODES). */
const REJECTORS: readonly ((v: Float64Array, f: Int32Array, ws: RejectWorkspace, P: RejectParams) => void)[] = [
  () => {},
  (_v, _f, ws, P) => minmax(ws, P),
  (v, _f, ws, P) => percentile(v, ws, P),
  (v, _f, ws, P) => sigmaClip(v, ws, P, false),
  (v, _f, ws, P) => winsorized(v, ws, P),
  (v, _f, ws, P) => averagedSigma(v, ws, P),
  (v, f, ws, P) => linearFit(v, f, ws, P),
  (v, _f, ws, P) => gesd(v, ws, P),
  (v, _f, ws, P) => sigmaClip(v, ws, P, true),
];

export function rejectSorted(v: Float64Array, f: Int32Array, cnt: number, P: RejectParams, ws: RejectWorkspace, code = P.reject): void {
  ws.lo = 0;
  ws.hi = cnt;
  const side = ws.side;
  for (let k = 0; k < cnt; k++) side[k] = 1;
  const reject = REJECTORS[code];
  if (!reject) throw new Error(`unknown rejection code ${code}`);
  reject(v, f, ws, P);
}

/** Insertion of (x, fr) into sorted v[0..cnt) / f; returns cnt + 1. */
export function insertSorted(v: Float64Array, f: Int32Array, cnt: number, x: number, fr: number): number {
  let k = cnt;
  while (k > 0 && v[k - 1]! > x) {
    v[k] = v[k - 1]!;
    f[k] = f[k - 1]!;
    k--;
  }
  v[k] = x;
  f[k] = fr;
  return cnt + 1;
}

/**
 * Convenience for tests and small callers: reject among plain values; returns per input value
 * 0 kept, -1 rejected low, +1 rejected high (NaN inputs are reported as 0 and ignored).
 */
export function rejectValues(values: ArrayLike<number>, P: RejectParams): Int8Array {
  const n = values.length;
  const v = new Float64Array(n);
  const f = new Int32Array(n);
  const ws = new RejectWorkspace(n);
  let cnt = 0;
  for (let i = 0; i < n; i++) {
    const x = values[i]!;
    if (x === x) cnt = insertSorted(v, f, cnt, x, i);
  }
  rejectSorted(v, f, cnt, P, ws);
  const out = new Int8Array(n);
  for (let k = 0; k < ws.lo; k++) out[f[k]!] = -1;
  for (let k = ws.hi; k < cnt; k++) out[f[k]!] = ws.side[k]!;
  return out;
}
