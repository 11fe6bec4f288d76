/**
 * IKSS (image/stats.ts `ikss`, docs/algorithms.md#statistics) of a plane held in memory, with the
 * same answer bit for bit and far fewer passes: the finite values are sorted once (LSD radix sort
 * on the order-preserving keys of their float32 bits), so that each iteration's clipped set is a
 * range of the sorted values, its median two reads and its MAD a walk outward from the median;
 * the biweight sums still run over the values in their original order (the sum order of the
 * reference loop), filtered by the range's bounds instead of being compacted. Once fewer than
 * RADIX_MIN values remain the reference loop (which then selects in place) finishes, as it would.
 * The sort and the biweight sums run in the WASM kernel (ikss-wasm.ts, the same numbers) when it is built.
 */
import { ikssFrom, ikssScale, IKSS_MAX_ITER, RADIX_MIN } from '../image/stats.js';
import { IKSS_WASM_BIWEIGHT_MAX_VALUES, ikssKernel, ikssKernelDone } from './ikss-wasm.js';
import { buildWindow, OutsideWindow, WINDOW_BUCKETS, windowOf, WindowSorted, type SortedValues } from './ikss-window.js';

/** Sets of at least this many values read their order statistics from a window (ikss-window.ts). */
export const WINDOW_MIN = 1 << 16;

/** The values (finite float32) sorted ascending: LSD radix sort of their order-preserving keys (digits of 11, 11 and 10 bits). */
export function sortFinite(a: Float32Array): Float32Array {
  const n = a.length;
  const bits = new Uint32Array(a.buffer, a.byteOffset, n);
  let keys = new Uint32Array(n);
  let tmp = new Uint32Array(n);
  const h0 = new Uint32Array(2048);
  const h1 = new Uint32Array(2048);
  const h2 = new Uint32Array(1024);
  for (let i = 0; i < n; i++) {
    const b = bits[i]!;
    const k = (b ^ ((b >> 31) | 0x80000000)) >>> 0;
    keys[i] = k;
    h0[k & 2047]!++;
    h1[(k >>> 11) & 2047]!++;
    h2[k >>> 22]!++;
  }
  const digits: [Uint32Array, number, number][] = [[h0, 0, 2047], [h1, 11, 2047], [h2, 22, 1023]];
  for (const [h, shift, mask] of digits) {
    if (h[((keys[0] ?? 0) >>> shift) & mask] === n) continue; // every key has this digit: the order stays
    for (let d = 0, cum = 0; d < h.length; d++) {
      const c = h[d]!;
      h[d] = cum;
      cum += c;
    }
    for (let i = 0; i < n; i++) {
      const k = keys[i]!;
      tmp[h[(k >>> shift) & mask]!++] = k;
    }
    const t = keys;
    keys = tmp;
    tmp = t;
  }
  for (let i = 0; i < n; i++) {
    const k = keys[i]!;
    keys[i] = k & 0x80000000 ? k & 0x7fffffff : ~k >>> 0;
  }
  return new Float32Array(keys.buffer, 0, n);
}

/** First index i in [a, b) with s[i] >= x (b when none). */
function lowerBound(s: Float32Array, a: number, b: number, x: number): number {
  let lo = a;
  let hi = b;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (s[mid]! >= x) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** First index i in [a, b) with s[i] > x (b when none). */
function upperBound(s: Float32Array, a: number, b: number, x: number): number {
  let lo = a;
  let hi = b;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (s[mid]! > x) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** All the values sorted in an array. */
function arraySorted(s: Float32Array): SortedValues {
  return { at: (i) => s[i]!, lowerBound: (a, b, x) => lowerBound(s, a, b, x), upperBound: (a, b, x) => upperBound(s, a, b, x) };
}

/** s.at(i), which must be a value read exactly (not a window's -/+Infinity for a value outside it). */
function exact(s: SortedValues, i: number): number {
  const v = s.at(i);
  if (!Number.isFinite(v)) throw new OutsideWindow();
  return v;
}

/** The median of s[a..b) (sorted): numpy's mean of the two middle values for an even count. */
function medianOfRange(s: SortedValues, a: number, n: number): number {
  const lo = exact(s, a + ((n - 1) >> 1));
  const hi = exact(s, a + (n >> 1));
  return lo === hi ? lo : (lo + hi) / 2;
}

/**
 * The median of |s[i] - m| rounded to float32 over the sorted range s[a..b): the deviations grow
 * outward from m on both sides (left: |s[p-1-x] - m|, right: |s[p+y] - m|, p the first index with
 * s >= m), two ascending lists whose ranks (n-1)/2 and n/2 are found by bisection; rounding keeps
 * the order, so the rounded order statistics are the rounded exact ones. A window's reads outside it
 * (Infinity deviations) keep both lists ascending; the answer stands when the four reads that certify
 * the split (the last taken and the first left of each list) are exact.
 */
function madOfRange(s: SortedValues, a: number, b: number, m: number): number {
  const n = b - a;
  const p = s.lowerBound(a, b, m);
  const na = p - a;
  const nb = b - p;
  const A = (x: number): number => Math.abs(s.at(p - 1 - x) - m);
  const B = (y: number): number => Math.abs(s.at(p + y) - m);
  // the k-th smallest (0-based) of the union: i values from the left list, k + 1 - i from the right
  const kth = (k: number): number => {
    let lo = Math.max(0, k + 1 - nb);
    let hi = Math.min(k + 1, na);
    while (lo < hi) {
      const i = (lo + hi) >>> 1;
      // too few from the left when the right list's last taken value exceeds the next left one
      if (B(k - i) > A(i)) lo = i + 1;
      else hi = i;
    }
    const i = lo;
    const j = k + 1 - i;
    const x = i > 0 ? A(i - 1) : -Infinity;
    const y = j > 0 ? B(j - 1) : -Infinity;
    if ((i < na && A(i) === Infinity) || (j < nb && B(j) === Infinity) || x === Infinity || y === Infinity) throw new OutsideWindow();
    return x > y ? x : y;
  };
  const v0 = Math.fround(kth((n - 1) >> 1));
  const v1 = Math.fround(kth(n >> 1));
  return v0 === v1 ? v0 : (v0 + v1) / 2;
}

/**
 * Biweight sums (image/stats.ts addBiweightTerms, in the same order and arithmetic) about m with
 * 1 / (9 MAD) = inv over the values of `vals` within [lo, hi], in their order: [num, den].
 */
function biweightSums(vals: Float32Array, lo: number, hi: number, m: number, inv: number, acc: Float64Array): void {
  let num = 0;
  let den = 0;
  for (let i = 0; i < vals.length; i++) {
    const v = vals[i]!;
    if (!(v >= lo && v <= hi)) continue;
    const d = v - m;
    const u = d * inv;
    const u2 = u * u;
    if (u2 < 1) {
      const t = 1 - u2;
      const t2 = t * t;
      num += d * d * t2 * t2;
      den += t * (1 - 5 * u2);
    }
  }
  acc[0] = num;
  acc[1] = den;
}

/** The values of `vals` within [lo, hi], in order, and their count. */
function compact(vals: Float32Array, lo: number, hi: number, n: number): Float32Array {
  const out = new Float32Array(n);
  let k = 0;
  for (let i = 0; i < vals.length; i++) {
    const v = vals[i]!;
    if (v >= lo && v <= hi) out[k++] = v;
  }
  return out;
}

/** Biweight sums over the values within [lo, hi] about m with inv = 1 / (9 MAD), in their order, into acc. */
type BiweightPass = (lo: number, hi: number, m: number, inv: number, acc: Float64Array) => void;

/**
 * `ikss` of the finite values of `vals` (all finite, in the plane's order; not modified): the
 * same location and scale as image/stats.ts `ikssFrom(copy, n, NaN, 0)`, bit for bit. The sorted
 * order comes from the window about the median (ikss-window.ts) when every read stays in it, else
 * from sorting all values (the WASM kernel's sort, or sortFinite).
 */
export function ikssOfFinite(vals: Float32Array): { location: number; scale: number } {
  return ikssOfPlane(vals, vals);
}

/**
 * `ikssOfFinite(finiteValues(plane))` (the plane is not modified): the WASM kernel keeps the finite values of its copy
 * of the plane, so no other copy is made.
 */
export function ikssOfPlane(plane: Float32Array, finite?: Float32Array): { location: number; scale: number } {
  const k = plane.length >= WINDOW_MIN ? ikssKernel(plane.length) : null;
  const kv = k ? k.loadPlane(plane, WINDOW_BUCKETS) : null;
  let windowTried = false;
  if (k && kv) {
    try {
      const win = kv.length >= WINDOW_MIN ? windowOf(kv) : null;
      windowTried = true;
      if (win) return ikssOfSorted(kv, new WindowSorted(kv, win, k.window(win.wlo, win.span, win.shift, WINDOW_BUCKETS)), (lo, hi, m, inv, acc) => k.biweight(lo, hi, m, inv, acc));
    } catch (e) {
      if (!(e instanceof OutsideWindow)) throw e;
    } finally {
      ikssKernelDone();
    }
  }
  // the kernel's copy is overwritten by its sort: the values from the plane
  const vals = finite ?? finiteValues(plane);
  if (vals.length < RADIX_MIN) return ikssFrom(vals.slice(), vals.length, NaN, 0);
  const tsSums: BiweightPass = (lo, hi, m, inv, acc) => biweightSums(vals, lo, hi, m, inv, acc);
  const win = !windowTried && vals.length >= WINDOW_MIN ? windowOf(vals) : null;
  if (win) {
    try {
      return ikssOfSorted(vals, new WindowSorted(vals, win, buildWindow(vals, win.wlo, win.span, win.shift, WINDOW_BUCKETS)), tsSums);
    } catch (e) {
      if (!(e instanceof OutsideWindow)) throw e;
    }
  }
  return ikssOfAllSorted(vals, tsSums);
}

/** `ikssOfFinite` of finite values through a given window (the TS window): throws OutsideWindow where a read leaves it. */
export function ikssOfWindow(vals: Float32Array, win: { wlo: number; span: number; shift: number }): { location: number; scale: number } {
  const arr = buildWindow(vals, win.wlo, win.span, win.shift, WINDOW_BUCKETS);
  return ikssOfSorted(vals, new WindowSorted(vals, win, arr), (lo, hi, m, inv, acc) => biweightSums(vals, lo, hi, m, inv, acc));
}

/** `ikssOfFinite` with all values sorted (the WASM kernel's sort when it is built, else sortFinite). */
function ikssOfAllSorted(vals: Float32Array, tsSums: BiweightPass): { location: number; scale: number } {
  const n0 = vals.length;
  const k = ikssKernel(n0);
  // the kernel's biweight sums need a copy of the values in its memory: not for the largest sets
  const inKernel = n0 <= IKSS_WASM_BIWEIGHT_MAX_VALUES;
  const sorted = k ? k.load(vals, inKernel) : null;
  try {
    if (k && sorted) return ikssOfSorted(vals, arraySorted(sorted), inKernel ? (lo, hi, m, inv, acc) => k.biweight(lo, hi, m, inv, acc) : tsSums);
    return ikssOfSorted(vals, arraySorted(sortFinite(vals)), tsSums);
  } finally {
    if (k) ikssKernelDone();
  }
}

/** The IKSS loop of `ikssOfFinite` given the values sorted (`s`) and their biweight pass. */
function ikssOfSorted(vals: Float32Array, s: SortedValues, biweight: BiweightPass): { location: number; scale: number } {
  const n0 = vals.length;
  let a = 0;
  let b = n0;
  let s0 = NaN;
  const acc = new Float64Array(2);
  for (let it = 0; it < IKSS_MAX_ITER; it++) {
    const n = b - a;
    if (n < RADIX_MIN) return ikssFrom(compact(vals, exact(s, a), exact(s, b - 1), n), n, s0, it);
    const m = medianOfRange(s, a, n);
    const madv = madOfRange(s, a, b, m);
    if (madv === 0) return { location: m, scale: 0 };
    // the biweight sums over the current set in the original order (its values are those within [s[a], s[b-1]])
    biweight(exact(s, a), exact(s, b - 1), m, 1 / (9 * madv), acc);
    const sc = ikssScale(m, n, acc[0]!, acc[1]!, s0);
    if (typeof sc !== 'number') return sc;
    s0 = sc;
    const lo = m - 4 * sc;
    const hi = m + 4 * sc;
    const a1 = s.lowerBound(a, b, lo);
    b = s.upperBound(a1, b, hi);
    a = a1;
    if (b === a) return { location: m, scale: 0.991 * sc };
  }
  throw new Error('ikss: no convergence');
}

/** The finite values of a plane, in order: the plane itself when all are finite, else a copy. */
export function finiteValues(plane: Float32Array): Float32Array {
  // a float32 is finite unless its exponent bits are all set (Infinity, NaN)
  const bits = new Uint32Array(plane.buffer, plane.byteOffset, plane.length);
  let bad = 0;
  for (let i = 0; i < bits.length; i++) bad += (bits[i]! & 0x7f800000) === 0x7f800000 ? 1 : 0;
  if (bad === 0) return plane;
  const out = new Float32Array(plane.length - bad);
  let k = 0;
  for (let i = 0; i < bits.length; i++) if ((bits[i]! & 0x7f800000) !== 0x7f800000) out[k++] = plane[i]!;
  return out;
}
