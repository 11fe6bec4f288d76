/**
 * The integration kernel for one row band (plain-TS reference): for every pixel, gather the N
 * frame values (skipping non-finite values, NaN and +-Infinity alike, and zero-weight frames),
 * apply range rejection on the raw values, normalize for rejection (r = ra_i * x + rb_i), sort,
 * reject with the algorithm chosen for the number of values this pixel has (`rejectFor`), then
 * combine the kept raw values normalized for combination (c = ca_i * x + cb_i) with weights. No
 * allocation per pixel.
 *
 * Band layout: `data[i * npix + p]` = frame i, pixel p of the band (frame-major), as read by
 * `FitsFile.readRows` into consecutive slices of one (Shared)ArrayBuffer.
 */
import { insertSorted, rejectSorted, RejectWorkspace, type RejectParams } from './reject.js';

export const COMBINE_CODES = { average: 0, median: 1, sum: 2, min: 3, max: 4 } as const;
export type CombineName = keyof typeof COMBINE_CODES;

export interface BandParams extends RejectParams {
  n: number;
  combine: number;
  /** Range rejection on raw values: x <= rangeLow or x >= rangeHigh (use -/+Infinity for none). */
  rangeLow: number;
  rangeHigh: number;
  /** Rejection normalization r = ra[i] * x + rb[i]. */
  ra: Float64Array;
  rb: Float64Array;
  /** Combination normalization c = ca[i] * x + cb[i]. */
  ca: Float64Array;
  cb: Float64Array;
  /** Frame weights (0 excludes a frame). */
  w: Float64Array;
  /**
   * Rejection code by the number of values a pixel has after range rejection (length n + 1): the
   * requested algorithm where there are enough values, its fallback where there are too few.
   * Absent: `reject` for every count.
   */
  rejectFor?: Int32Array;
}

export interface BandOutput {
  out: Float32Array;
  /** Fraction of the N frames rejected low / high per pixel (optional). */
  rejLow?: Float32Array | null;
  rejHigh?: Float32Array | null;
  /** Per-frame counts of pixels rejected low / high (accumulated, length n). */
  frameLow: Float64Array;
  frameHigh: Float64Array;
  /** Per-frame counts of non-finite values (NaN, +-Infinity) met (accumulated, length n; optional). */
  nonFinite?: Float64Array | null;
  /** [0]: pixels with no finite value in any weighted frame (accumulated; optional). */
  noValue?: Float64Array | null;
}

/** The rejection code for a pixel with `cnt` values. */
export function rejectCode(P: BandParams, cnt: number): number {
  return P.rejectFor ? P.rejectFor[cnt]! : P.reject;
}

/** Per-pixel scratch of the reference kernel, reused between calls with the same n. */
class Scratch {
  readonly v: Float64Array;
  readonly f: Int32Array;
  readonly kept: Uint8Array;
  readonly cs: Float64Array;
  readonly ws: RejectWorkspace;
  constructor(readonly n: number, readonly alpha: number) {
    this.v = new Float64Array(n);
    this.f = new Int32Array(n);
    this.kept = new Uint8Array(n);
    this.cs = new Float64Array(n);
    this.ws = new RejectWorkspace(n);
  }
}
let scratch: Scratch | null = null;

/**
 * Integrate pixels [p0, p1) of the band (default: all of it). `npix` is the band's pixel count
 * (the stride between frames in `data`); the outputs are indexed like the band.
 */
export function integrateBand(data: Float32Array, npix: number, P: BandParams, o: BandOutput, p0 = 0, p1 = npix): void {
  const n = P.n;
  // (the workspace caches GESD critical values, which depend on alpha)
  if (!scratch || scratch.n !== n || scratch.alpha !== P.gesdAlpha) scratch = new Scratch(n, P.gesdAlpha);
  const { v, f, kept, cs, ws } = scratch;
  const { ra, rb, w, rangeLow, rangeHigh } = P;
  const { out, frameLow, frameHigh } = o;
  const rejLow = o.rejLow ?? null;
  const rejHigh = o.rejHigh ?? null;
  const invN = 1 / n;
  const side = ws.side;
  const nonFinite = o.nonFinite ?? null;
  const noValue = o.noValue ?? null;
  for (let p = p0; p < p1; p++) {
    let cnt = 0;
    let rl = 0;
    let rh = 0;
    let finite = 0;
    for (let i = 0; i < n; i++) {
      const x = data[i * npix + p]!;
      if (x - x !== 0) {
        if (nonFinite) nonFinite[i]!++;
        continue;
      }
      if (w[i] === 0) continue;
      finite++;
      if (x <= rangeLow) {
        rl++;
        frameLow[i]!++;
        continue;
      }
      if (x >= rangeHigh) {
        rh++;
        frameHigh[i]!++;
        continue;
      }
      cnt = insertSorted(v, f, cnt, ra[i]! * x + rb[i]!, i);
    }
    if (finite === 0 && noValue) noValue[0]!++;
    const code = cnt > 0 ? rejectCode(P, cnt) : 0;
    if (code !== 0) {
      rejectSorted(v, f, cnt, P, ws, code);
    } else {
      ws.lo = 0;
      ws.hi = cnt;
    }
    const lo = ws.lo;
    const hi = ws.hi;
    for (let k = 0; k < lo; k++) {
      rl++;
      frameLow[f[k]!]!++;
    }
    for (let k = hi; k < cnt; k++) {
      if (side[k] === -1) {
        rl++;
        frameLow[f[k]!]!++;
      } else {
        rh++;
        frameHigh[f[k]!]!++;
      }
    }
    if (rejLow) rejLow[p] = rl * invN;
    if (rejHigh) rejHigh[p] = rh * invN;
    const m = hi - lo;
    if (m <= 0) {
      out[p] = NaN;
      continue;
    }
    // combine in frame order (so sums match a reference that adds frame 0, 1, 2...)
    for (let k = lo; k < hi; k++) kept[f[k]!] = 1;
    const res = combineKept(data, npix, p, P, kept, cs);
    for (let k = lo; k < hi; k++) kept[f[k]!] = 0;
    out[p] = res;
  }
}

/** Combine the kept values of pixel `p` (flags in `kept`, frame order), normalized c = ca_i * x + cb_i. */
function combineKept(data: Float32Array, npix: number, p: number, P: BandParams, kept: Uint8Array, cs: Float64Array): number {
  const { n, ca, cb, w } = P;
  switch (P.combine) {
    case 0: {
      let s = 0;
      let sw = 0;
      for (let i = 0; i < n; i++) {
        if (!kept[i]) continue;
        const wi = w[i]!;
        s += wi * (ca[i]! * data[i * npix + p]! + cb[i]!);
        sw += wi;
      }
      return s / sw;
    }
    case 2: {
      let s = 0;
      for (let i = 0; i < n; i++) if (kept[i]) s += ca[i]! * data[i * npix + p]! + cb[i]!;
      return s;
    }
    case 3: {
      let mn = Infinity;
      for (let i = 0; i < n; i++) {
        if (!kept[i]) continue;
        const c = ca[i]! * data[i * npix + p]! + cb[i]!;
        if (c < mn) mn = c;
      }
      return mn;
    }
    case 4: {
      let mx = -Infinity;
      for (let i = 0; i < n; i++) {
        if (!kept[i]) continue;
        const c = ca[i]! * data[i * npix + p]! + cb[i]!;
        if (c > mx) mx = c;
      }
      return mx;
    }
    case 1: {
      let c = 0;
      for (let i = 0; i < n; i++) {
        if (!kept[i]) continue;
        const x = ca[i]! * data[i * npix + p]! + cb[i]!;
        let k = c;
        while (k > 0 && cs[k - 1]! > x) {
          cs[k] = cs[k - 1]!;
          k--;
        }
        cs[k] = x;
        c++;
      }
      const mid = c >> 1;
      return c & 1 ? cs[mid]! : 0.5 * (cs[mid - 1]! + cs[mid]!);
    }
    default:
      throw new Error(`unknown combine code ${P.combine}`);
  }
}
