/**
 * The sorted order of a plane's finite values for IKSS (kernels/ikss.ts) without sorting them all: the values whose
 * order statistics IKSS reads lie in a window about the median (its median, MAD, and clipping bounds of m -/+ 4 s),
 * so only the window's values are kept, grouped by buckets of their order-preserving float32 keys (a counting sort:
 * one counting and one scatter pass over the values), and a bucket is sorted when a read first lands in it. Reads
 * below or above the window give -Infinity / +Infinity (the order stays monotone; the smallest and the largest
 * value are known exactly); `OutsideWindow` is thrown where an answer would depend on a value outside the window,
 * and the caller then sorts all values (never a different answer, only a slower one). The window comes from the
 * quartiles of a deterministic subsample; it only decides the speed. Its buffers are kept per thread, bounded.
 */
import { sortFinite } from './ikss.js';

/** Thrown when a read needs the exact value of a value outside the window (the caller sorts all values). */
export class OutsideWindow extends Error {
  constructor() {
    super('ikss: a read outside the window');
  }
}

/** Bucket count of the window (the counting sort's histogram). */
export const WINDOW_BUCKETS = 1 << 14;
/** Every SUBSAMPLE-th value estimates the window. */
const SUBSAMPLE = 61;
/** Half-width of the window in half-interquartile ranges (about 0.67 sigma each: -/+ 6.7 sigma; the first clip is at -/+ 4 s). */
const WINDOW_HALF_IQR = 10;
/** Window buffers (values) kept between estimates up to this many values; a larger set gets a fresh one. */
export const IKSS_WINDOW_KEEP_VALUES = 16 << 20;

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** The order-preserving key of a float32 (as sortFinite's). */
export function keyOf(v: number): number {
  f32[0] = v;
  const b = u32[0]!;
  return (b ^ ((b >> 31) | 0x80000000)) >>> 0;
}

/** The float32 of a key. */
export function valueOfKey(k: number): number {
  u32[0] = k & 0x80000000 ? k & 0x7fffffff : ~k >>> 0;
  return f32[0]!;
}

const KEY_NEG_ZERO = keyOf(-0);

/**
 * The key t such that the values v with key(v) < t are exactly those with v < x (strict, `strict`) or v <= x: the
 * key of the smallest float32 >= x (> x), both zeros counted together (they compare equal).
 */
function thresholdKey(x: number, strict: boolean): number {
  let f = Math.fround(x);
  if (strict ? f <= x : f < x) f = f === 0 ? valueOfKey(keyOf(0) + 1) : valueOfKey(keyOf(f) + 1);
  return f === 0 ? KEY_NEG_ZERO : keyOf(f);
}

let keptBuf: Float32Array | null = null;
let keptCum: Uint32Array | null = null;
let keptSorted: Uint8Array | null = null;

function buffer(n: number): Float32Array {
  if (n > IKSS_WINDOW_KEEP_VALUES) return new Float32Array(n);
  if (!keptBuf || keptBuf.length < n) keptBuf = new Float32Array(n);
  return keptBuf;
}

/** Drop the kept window buffers (end of a phase; the next estimate allocates them again). */
export function releaseIkssWindow(): void {
  keptBuf = null;
}

/** The sorted values of a set (finite), read by index; the interface of ikss.ts's loop. */
export interface SortedValues {
  at(i: number): number;
  /** First index i in [a, b) with s[i] >= x (b when none). */
  lowerBound(a: number, b: number, x: number): number;
  /** First index i in [a, b) with s[i] > x (b when none). */
  upperBound(a: number, b: number, x: number): number;
}

/** The arrays of a window (buildWindow, or the WASM kernel's `loadWindow`). */
export interface WindowArrays {
  /** Start of each bucket in buf, the window's count last (BUCKETS + 1). */
  cum: Uint32Array;
  /** The window's values grouped by bucket, in their order within a bucket. */
  buf: Float32Array;
  kmin: number;
  kmax: number;
  /** Values with a key below the window. */
  below: number;
}

/**
 * The TS reference of the kernel's `window`: over the values, the keys' minimum and maximum, the count below wlo,
 * and the values with key k in [wlo, wlo + span] counted by bucket (k - wlo) >>> shift and scattered by bucket.
 */
export function buildWindow(vals: Float32Array, wlo: number, span: number, shift: number, buckets: number): WindowArrays {
  const n = vals.length;
  const bits = new Uint32Array(vals.buffer, vals.byteOffset, n);
  if (!keptCum || keptCum.length !== buckets + 1) keptCum = new Uint32Array(buckets + 1);
  const cum = keptCum.fill(0);
  let below = 0;
  let kmin = 0xffffffff;
  let kmax = 0;
  for (let i = 0; i < n; i++) {
    const b = bits[i]!;
    const k = (b ^ ((b >> 31) | 0x80000000)) >>> 0;
    if (k < kmin) kmin = k;
    if (k > kmax) kmax = k;
    const d = k - wlo;
    if (d < 0) below++;
    else if (d <= span) cum[(d >>> shift) + 1]!++;
  }
  for (let c = 1; c <= buckets; c++) cum[c]! += cum[c - 1]!;
  const buf = buffer(cum[buckets]!);
  // scatter: cum[c] runs through bucket c's slots, then holds the start of bucket c + 1
  for (let i = 0; i < n; i++) {
    const b = bits[i]!;
    const d = ((b ^ ((b >> 31) | 0x80000000)) >>> 0) - wlo;
    if (d >= 0 && d <= span) buf[cum[d >>> shift]!++] = vals[i]!;
  }
  for (let c = buckets; c > 0; c--) cum[c] = cum[c - 1]!;
  cum[0] = 0;
  return { cum, buf: buf.subarray(0, cum[buckets]), kmin, kmax, below };
}

/** The window of a set: its keys [wlo, wlo + span] and the bucket shift, from a subsample's quartiles; null when none fits. */
export function windowOf(vals: Float32Array): { wlo: number; span: number; shift: number } | null {
  const n = vals.length;
  const sub = new Float32Array(Math.floor((n - 1) / SUBSAMPLE) + 1);
  for (let i = 0, j = 0; i < n; i += SUBSAMPLE) sub[j++] = vals[i]!;
  const s = sortFinite(sub);
  const q = (p: number): number => s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
  const med = q(0.5);
  const h = Math.max((q(0.75) - q(0.25)) / 2, Math.abs(med) * 2 ** -20);
  if (!(h > 0) || !Number.isFinite(h)) return null;
  const lo = Math.fround(med - WINDOW_HALF_IQR * h);
  const hi = Math.fround(med + WINDOW_HALF_IQR * h);
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return null;
  const wlo = keyOf(lo);
  const span = keyOf(hi) - wlo;
  let shift = 0;
  while (span >>> shift >= WINDOW_BUCKETS) shift++;
  return { wlo, span, shift };
}

let keptCount: Uint32Array | null = null;
let keptTmp: Float32Array | null = null;

/**
 * Sort a bucket's values (their keys in [base, base + 2^shift)) ascending: an LSD radix sort of the keys' offsets
 * from base in digits of 8 bits (the order of sortFinite's), or a numeric sort for a few values.
 */
function sortBucketValues(v: Float32Array, base: number, shift: number): void {
  const m = v.length;
  if (m < 64) {
    v.sort();
    return;
  }
  if (!keptCount) keptCount = new Uint32Array(257);
  if (!keptTmp || keptTmp.length < m) keptTmp = new Float32Array(Math.max(m, 1 << 14));
  const count = keptCount;
  let from = v;
  let to = keptTmp.subarray(0, m);
  for (let d = 0; d < shift; d += 8) {
    const fb = new Uint32Array(from.buffer, from.byteOffset, m);
    count.fill(0);
    for (let i = 0; i < m; i++) {
      const b = fb[i]!;
      count[((((b ^ ((b >> 31) | 0x80000000)) >>> 0) - base) >>> d & 255) + 1]!++;
    }
    if (count[(((((fb[0]! ^ ((fb[0]! >> 31) | 0x80000000)) >>> 0) - base) >>> d) & 255) + 1] === m) continue; // one digit: the order stays
    for (let c = 1; c <= 256; c++) count[c]! += count[c - 1]!;
    for (let i = 0; i < m; i++) {
      const b = fb[i]!;
      to[count[(((b ^ ((b >> 31) | 0x80000000)) >>> 0) - base) >>> d & 255]!++] = from[i]!;
    }
    const t = from;
    from = to;
    to = t;
  }
  if (from !== v) v.set(from);
}

/** The sorted values of a set read from its window (see the module's comment). */
export class WindowSorted implements SortedValues {
  private readonly n: number;
  private readonly min: number;
  private readonly max: number;
  private readonly inside: number;
  private readonly sorted: Uint8Array;

  constructor(vals: Float32Array, private readonly w: { wlo: number; span: number; shift: number }, private readonly arr: WindowArrays) {
    this.n = vals.length;
    this.min = valueOfKey(arr.kmin);
    this.max = valueOfKey(arr.kmax);
    this.inside = arr.buf.length;
    if (!keptSorted) keptSorted = new Uint8Array(WINDOW_BUCKETS);
    this.sorted = keptSorted.fill(0);
  }

  /** Bucket of window position j (0 <= j < inside): the last c with cum[c] <= j, sorted on first use. */
  private bucketAt(j: number): number {
    let lo = 0;
    let hi = WINDOW_BUCKETS;
    while (hi - lo > 1) {
      const mid = (lo + hi) >>> 1;
      if (this.arr.cum[mid]! <= j) lo = mid;
      else hi = mid;
    }
    this.sortBucket(lo);
    return lo;
  }

  private sortBucket(c: number): void {
    if (this.sorted[c]) return;
    this.sorted[c] = 1;
    const a = this.arr.cum[c]!;
    const b = this.arr.cum[c + 1]!;
    if (b - a > 1) sortBucketValues(this.arr.buf.subarray(a, b), this.w.wlo + ((c << this.w.shift) >>> 0), this.w.shift);
  }

  at(i: number): number {
    if (i === 0) return this.min;
    if (i === this.n - 1) return this.max;
    const j = i - this.arr.below;
    if (j < 0) return -Infinity;
    if (j >= this.inside) return Infinity;
    this.bucketAt(j);
    return this.arr.buf[j]!;
  }

  /** The number of values with key < t (a threshold key). */
  private countBelowKey(t: number): number {
    if (t <= this.arr.kmin) return 0;
    if (t > this.arr.kmax) return this.n;
    if (t < this.w.wlo || t > this.w.wlo + this.w.span + 1) throw new OutsideWindow();
    if (t === this.w.wlo + this.w.span + 1) return this.arr.below + this.inside;
    const c = (t - this.w.wlo) >>> this.w.shift;
    this.sortBucket(c);
    // within bucket c: the first value with key >= t
    let lo = this.arr.cum[c]!;
    let hi = this.arr.cum[c + 1]!;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (keyOf(this.arr.buf[mid]!) >= t) hi = mid;
      else lo = mid + 1;
    }
    return this.arr.below + lo;
  }

  lowerBound(a: number, b: number, x: number): number {
    return Math.min(b, Math.max(a, this.countBelowKey(thresholdKey(x, false))));
  }

  upperBound(a: number, b: number, x: number): number {
    return Math.min(b, Math.max(a, this.countBelowKey(thresholdKey(x, true))));
  }
}
