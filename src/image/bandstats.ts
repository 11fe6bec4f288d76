/**
 * Statistics of a pixel set read band by band (bounded memory), with the answers of the in-memory
 * functions of stats.ts, bit for bit:
 *  - sums are accumulated in the same order (bands in file order, pixels in band order);
 *  - medians are exact: radix selection on the order-preserving keys of the float32 values, as
 *    `medianFloat32` does, in two scans (a histogram of the high 16 bits, then one of the low 16
 *    bits inside the bins holding the middle ranks);
 *  - the MAD is the exact median of |x - median| rounded to float32, as the in-memory functions
 *    store the deviations in a Float32Array.
 * A `BandScan` may read a file again on every call; each statistic says how many scans it takes.
 */
import { addBiweightTerms, ikssFrom, ikssScale, IKSS_MAX_ITER, RADIX_MIN as IKSS_RADIX_MIN, type PlaneStats } from './stats.js';

/** Calls `each` with consecutive bands of the pixel set, always in the same order. */
export type BandScan = (each: (band: Float32Array) => void) => void;

/** One plane read by rows (a FITS file, or anything else). */
export interface RowSource {
  width: number;
  height: number;
  /** Rows y0..y1 (exclusive) of plane c into `out` (length >= (y1 - y0) * width). */
  readRows(c: number, y0: number, y1: number, out: Float32Array): void;
}

/** A scan over in-memory arrays (each one band). */
export function arrayScan(...bands: Float32Array[]): BandScan {
  return (each) => {
    for (const b of bands) each(b);
  };
}

/** A scan over planes `channels` of `src`, `rowsPerBand` rows at a time through one reused buffer. */
export function rowScan(src: RowSource, channels: number[], rowsPerBand: number): BandScan {
  const rows = Math.max(1, Math.min(src.height, Math.floor(rowsPerBand)));
  let buf: Float32Array | null = null;
  return (each) => {
    buf ??= new Float32Array(rows * src.width);
    for (const c of channels) {
      for (let y0 = 0; y0 < src.height; y0 += rows) {
        const y1 = Math.min(src.height, y0 + rows);
        const n = (y1 - y0) * src.width;
        src.readRows(c, y0, y1, buf);
        each(n === buf.length ? buf : buf.subarray(0, n));
      }
    }
  };
}

/** Rows per band so that one band of `width` float32 pixels takes at most `bytes`. */
export function rowsForBytes(width: number, bytes: number): number {
  return Math.max(1, Math.floor(bytes / (4 * width)));
}

/**
 * Which values a statistic is taken over: the finite values v with lo <= v <= hi, or with a
 * `center`, |v - center| of those (rounded to float32).
 */
export interface Selection {
  lo: number;
  hi: number;
  center?: number;
}

const ALL: Selection = { lo: -Infinity, hi: Infinity };

const KEY_F32 = new Float32Array(1);
const KEY_U32 = new Uint32Array(KEY_F32.buffer);

function keyToFloat32(key: number): number {
  KEY_U32[0] = key & 0x80000000 ? key & 0x7fffffff : ~key >>> 0;
  return KEY_F32[0]!;
}

/**
 * The float32 bits of the selected values of `band` into `bits` (|v - center| rounded to float32
 * with a center, v's own bits without); returns how many. Kept in int32 arithmetic (bit patterns
 * as signed ints), which V8 keeps in registers.
 */
function selectedBits(band: Float32Array, sel: Selection, bits: Int32Array): number {
  const { lo, hi } = sel;
  const c = sel.center;
  let n = 0;
  if (c === undefined && lo === -Infinity && hi === Infinity) {
    const u = new Int32Array(band.buffer, band.byteOffset, band.length);
    for (let i = 0; i < u.length; i++) {
      const b = u[i]!;
      if ((b & 0x7fffffff) >= 0x7f800000) continue;
      bits[n++] = b;
    }
  } else if (c === undefined) {
    const u = new Int32Array(band.buffer, band.byteOffset, band.length);
    for (let i = 0; i < band.length; i++) {
      const v = band[i]!;
      if (v - v !== 0 || v < lo || v > hi) continue;
      bits[n++] = u[i]!;
    }
  } else {
    const f = new Float32Array(bits.buffer, bits.byteOffset, bits.length);
    for (let i = 0; i < band.length; i++) {
      const v = band[i]!;
      if (v - v !== 0 || v < lo || v > hi) continue;
      f[n++] = Math.abs(v - c);
    }
  }
  return n;
}

/** Values per chunk of the bit extraction (a fixed 256 KB scratch, whatever the band size). */
const CHUNK = 1 << 16;
const scratchBits = new Int32Array(CHUNK);

/** Scan 1: histogram of the high 16 bits of the order-preserving keys of the selected values; returns their count. */
function histHigh(band: Float32Array, sel: Selection, hist: Uint32Array): number {
  const bits = scratchBits;
  let total = 0;
  for (let off = 0; off < band.length; off += CHUNK) {
    const n = selectedBits(band.subarray(off, Math.min(band.length, off + CHUNK)), sel, bits);
    for (let i = 0; i < n; i++) {
      const b = bits[i]!;
      hist[((b ^ ((b >> 31) | 0x80000000)) >>> 16) & 0xffff]!++;
    }
    total += n;
  }
  return total;
}

/** Scan 2: histograms of the low 16 key bits inside high bins h0 and h1. */
function histLow(band: Float32Array, sel: Selection, h0: number, h1: number, low0: Uint32Array, low1: Uint32Array): void {
  const bits = scratchBits;
  for (let off = 0; off < band.length; off += CHUNK) {
    const n = selectedBits(band.subarray(off, Math.min(band.length, off + CHUNK)), sel, bits);
    for (let i = 0; i < n; i++) {
      const b = bits[i]!;
      const k = b ^ ((b >> 31) | 0x80000000);
      const h = (k >>> 16) & 0xffff;
      if (h === h0) low0[k & 0xffff]!++;
      else if (h === h1) low1[k & 0xffff]!++;
    }
  }
}

/** The high bin holding rank k and the count before it. */
function binOf(hist: Uint32Array, k: number): { h: number; before: number } {
  for (let h = 0, cum = 0; h < 65536; h++) {
    const c = hist[h]!;
    if (k < cum + c) return { h, before: cum };
    cum += c;
  }
  throw new Error('radix select: rank not found');
}

function pick(low: Uint32Array, h: number, r: number): number {
  for (let l = 0, cum = 0; l < 65536; l++) {
    cum += low[l]!;
    if (r < cum) return keyToFloat32(((h << 16) | l) >>> 0);
  }
  throw new Error('radix select: rank not found');
}

export interface RankHooks {
  /** Called with every raw band during the first scan. */
  first?: (band: Float32Array) => void;
  /** Called with every raw band during the second scan (after the count is known). */
  second?: (band: Float32Array) => void;
  /** After the first scan: return true to stop (selectRanks then returns null). */
  stopIf?: (n: number) => boolean;
}

/**
 * Values of ranks k0 <= k1 (0-based) of the selected values: [v0, v1, n] (NaN values when n = 0),
 * in two scans; null when `hooks.stopIf(n)` said so after the first.
 */
export function selectRanks(scan: BandScan, sel: Selection, ranks: (n: number) => [number, number], hooks: RankHooks = {}): [number, number, number] | null {
  const hist = new Uint32Array(65536);
  let n = 0;
  scan((band) => {
    hooks.first?.(band);
    n += histHigh(band, sel, hist);
  });
  if (hooks.stopIf?.(n)) return null;
  if (n === 0) return [NaN, NaN, 0];
  const [k0, k1] = ranks(n);
  const b0 = binOf(hist, k0);
  const b1 = binOf(hist, k1);
  const low0 = new Uint32Array(65536);
  const low1 = b1.h === b0.h ? low0 : new Uint32Array(65536);
  scan((band) => {
    hooks.second?.(band);
    histLow(band, sel, b0.h, b1.h, low0, low1);
  });
  return [pick(low0, b0.h, k0 - b0.before), pick(low1, b1.h, k1 - b1.before), n];
}

const MIDDLE = (n: number): [number, number] => [(n - 1) >> 1, n >> 1];

/** Exact median of the selected values (numpy: mean of the two middle ones for an even count); 2 scans. */
export function streamMedian(scan: BandScan, sel: Selection = ALL): { median: number; n: number } {
  const [lo, hi, n] = selectRanks(scan, sel, MIDDLE)!;
  return { median: lo === hi ? lo : (lo + hi) / 2, n };
}

/**
 * `planeStats` of the concatenated bands (finite values only), in 4 scans: count, sum, min, max
 * and the median's high bins; the sum of squares about the mean and the median; then the MAD.
 */
export function streamPlaneStats(scan: BandScan): PlaneStats {
  let n = 0;
  let sum = 0;
  let min = Infinity;
  let max = -Infinity;
  let ss = 0;
  let m = NaN;
  // (locals in the loops: captured variables updated per pixel would be slow)
  const first = (band: Float32Array): void => {
    let k = n;
    let s = sum;
    let lo = min;
    let hi = max;
    for (let i = 0; i < band.length; i++) {
      const v = band[i]!;
      if (v - v !== 0) continue;
      k++;
      s += v;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    n = k;
    sum = s;
    min = lo;
    max = hi;
  };
  const second = (band: Float32Array): void => {
    const mean = m;
    let acc = ss;
    for (let i = 0; i < band.length; i++) {
      const v = band[i]!;
      if (v - v !== 0) continue;
      const d = v - mean;
      acc += d * d;
    }
    ss = acc;
  };
  const stopIf = (k: number): boolean => {
    m = sum / n;
    return k === 0;
  };
  const r = selectRanks(scan, ALL, MIDDLE, { first, second, stopIf });
  if (r === null) return { mean: NaN, median: NaN, stdev: NaN, mad: NaN, min: NaN, max: NaN, count: 0 };
  const [a, b] = r;
  const med = a === b ? a : (a + b) / 2;
  const mad = streamMedian(scan, { ...ALL, center: med }).median;
  return { mean: m, median: med, stdev: Math.sqrt(ss / n), mad, min, max, count: n };
}

/** Biweight midvariance sums about `center` (scale c * madv) over the selected values, in scan order (1 scan). */
function bwmvScan(scan: BandScan, sel: Selection, center: number, c: number, madv: number): { num: number; den: number } {
  const inv = 1 / (c * madv);
  const { lo, hi } = sel;
  const acc = new Float64Array(2);
  scan((band) => {
    for (let i = 0; i < band.length; i++) {
      const v = band[i]!;
      if (v - v !== 0 || !(v >= lo && v <= hi)) continue;
      addBiweightTerms(acc, v - center, inv);
    }
  });
  return { num: acc[0]!, den: acc[1]! };
}

/** The selected values, in scan order, into a Float32Array of n (1 scan). */
function collect(scan: BandScan, sel: Selection, n: number): Float32Array {
  const buf = new Float32Array(n);
  let k = 0;
  scan((band) => {
    for (let i = 0; i < band.length; i++) {
      const v = band[i]!;
      if (v - v === 0 && v >= sel.lo && v <= sel.hi) buf[k++] = v;
    }
  });
  return buf;
}

/**
 * `ikss` of the finite values of the scan. While more than `memoryValues` values remain, each
 * iteration streams (5 scans: median, MAD, biweight sums); once they fit, they are collected (in
 * order) and the in-memory loop finishes, so the answer is `ikss`'s whatever `memoryValues`.
 */
export function streamIkss(scan: BandScan, memoryValues: number): { location: number; scale: number } {
  // above RADIX_MIN values the in-memory loop selects without reordering, so streaming keeps its order
  const fit = Math.max(IKSS_RADIX_MIN, memoryValues);
  const sel: Selection = { lo: -Infinity, hi: Infinity };
  let s0 = NaN;
  let mPrev = NaN;
  for (let it = 0; it < IKSS_MAX_ITER; it++) {
    let n = 0;
    const r = selectRanks(scan, sel, MIDDLE, { stopIf: (k) => ((n = k), k === 0 || k <= fit) });
    if (n === 0) return it === 0 ? { location: NaN, scale: NaN } : { location: mPrev, scale: 0.991 * s0 };
    if (r === null) return ikssFrom(collect(scan, sel, n), n, s0, it);
    const m = r[0] === r[1] ? r[0] : (r[0] + r[1]) / 2;
    const madv = streamMedian(scan, { ...sel, center: m }).median;
    if (madv === 0) return { location: m, scale: 0 };
    const { num, den } = bwmvScan(scan, sel, m, 9, madv);
    const s = ikssScale(m, n, num, den, s0);
    if (typeof s !== 'number') return s;
    s0 = s;
    mPrev = m;
    sel.lo = Math.max(sel.lo, m - 4 * s);
    sel.hi = Math.min(sel.hi, m + 4 * s);
  }
  throw new Error('ikss: no convergence');
}
