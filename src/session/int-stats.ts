/**
 * Exact median and MAD of integer-valued samples by counting (the scan's pixel evidence: raw 8/16-bit
 * frames hold integers). Gives the same numbers as the exact selections of src/image/stats.ts
 * (median: mean of the two middle values for an even count; MAD: median of |x - median| with the
 * deviations rounded to float32 as a Float32Array holds them), in one pass over the values and a walk
 * over a window of counting bins, instead of two selections. Returns null (the caller falls back to
 * a selection) when a value is not an integer, or when a rank needed lies outside the window.
 */

/** Counting bins, reused (always left zeroed); `blocks` holds the count of each BLOCK bins, so that rank walks step by blocks. */
const BLOCK_SHIFT = 6;
let bins = new Int32Array(4096);
let blocks = new Int32Array(4096 >> BLOCK_SHIFT);

/** Bins (and their blocks) for a window of `size`. */
function binsFor(size: number): void {
  if (bins.length < size) bins = new Int32Array(size);
  const nb = (size >> BLOCK_SHIFT) + 1;
  if (blocks.length < nb) blocks = new Int32Array(nb);
}

/** Zero the bins first .. last and their blocks. */
function clearBins(first: number, last: number): void {
  if (last < first) return;
  bins.fill(0, first, last + 1);
  blocks.fill(0, first >> BLOCK_SHIFT, (last >> BLOCK_SHIFT) + 1);
}

export interface MedianMad {
  med: number;
  mad: number;
}

/**
 * Median and MAD of a[0..n-1] (no NaN inside) using bins for the integers in [base, base + size);
 * values outside the window are counted, not binned. Null when not every value is an integer
 * (|v| < 2^24) or when the middle ranks or the deviations up to the MAD reach outside the window.
 */
export function medianMadOfIntegers(a: Float32Array, n: number, base: number, size: number): MedianMad | null {
  if (n <= 0 || !(size >= 1) || !Number.isInteger(base) || !Number.isInteger(size)) return null;
  binsFor(size);
  const h = bins;
  const bk = blocks;
  let below = 0;
  let ok = true;
  // the bins used: the walks start at the first, the bins are zeroed again up to the last
  let first = size;
  let last = -1;
  for (let i = 0; i < n; i++) {
    const v = a[i]!;
    const iv = v | 0;
    // an integer of magnitude under 2^24 (NaN, infinities, fractions and large values are not)
    if (iv !== v || iv >= 16777216 || iv <= -16777216) {
      ok = false;
      break;
    }
    const b = iv - base;
    if (b < 0) below++;
    else if (b < size) {
      h[b]!++;
      bk[b >> BLOCK_SHIFT]!++;
      if (b < first) first = b;
      if (b > last) last = b;
    }
  }
  const out = ok ? fromBins(h, n, below, base, size, first) : null;
  clearBins(first, last);
  return out;
}

/**
 * Median and MAD of the first `cap` finite values (NaN skipped) of columns x0 .. x1 - 1 of rows
 * 0 .. h - 1 of d (row length `width`), taken in row order, counted straight from d into bins of
 * the integers in [base, base + size): as medianMadOfIntegers on those values gathered first.
 * `ok` false when a value is not an integer (|v| < 2^24); else `n` is the count of those values
 * and `mm` their median and MAD, null when a rank needed lies outside the window (in both cases
 * the caller gathers and selects) or when n < min.
 */
export function medianMadOfBlock(d: Float32Array, width: number, h: number, x0: number, x1: number, cap: number, base: number, size: number, min: number): { ok: boolean; mm: MedianMad | null; n: number } {
  binsFor(size);
  const bn = bins;
  const bk = blocks;
  let n = 0, below = 0, first = size, last = -1;
  let ok = Number.isInteger(base) && size >= 1;
  for (let y = 0; y < h && n < cap && ok; y++) {
    for (let i = y * width + x0, e = y * width + x1; i < e; i++) {
      const v = d[i]!;
      if (v !== v) continue;
      n++;
      const iv = v | 0;
      if (iv !== v || iv >= 16777216 || iv <= -16777216) {
        ok = false;
        break;
      }
      const b = iv - base;
      if (b < 0) below++;
      else if (b < size) {
        bn[b]!++;
        bk[b >> BLOCK_SHIFT]!++;
        if (b < first) first = b;
        if (b > last) last = b;
      }
      if (n === cap) break;
    }
  }
  const mm = ok && n >= min ? fromBins(bn, n, below, base, size, first) : null;
  clearBins(first, last);
  return { ok, mm, n };
}

/**
 * Bins of the 0-based ranks r0 <= r1 (counting `below` values under the window first, bins under
 * `first` empty); NaN for a rank outside the window.
 */
function binsOfRanks(h: Int32Array, r0: number, r1: number, below: number, size: number, first: number): [number, number] {
  if (r0 < below) return [NaN, NaN];
  const b0 = binOfRank(h, r0, below, size, first);
  return Number.isNaN(b0) ? [NaN, NaN] : [b0, binOfRank(h, r1, below, size, first)];
}

/** Bin of the 0-based rank r: whole blocks of BLOCK bins skipped, then bins. NaN outside the window. */
function binOfRank(h: Int32Array, r: number, below: number, size: number, first: number): number {
  const bk = blocks;
  let cum = below;
  let blk = first >> BLOCK_SHIFT;
  const nblk = (size - 1 >> BLOCK_SHIFT) + 1;
  while (blk < nblk && r >= cum + bk[blk]!) cum += bk[blk++]!;
  if (blk >= nblk) return NaN;
  for (let b = blk << BLOCK_SHIFT; b < size; b++) {
    cum += h[b]!;
    if (r < cum) return b;
  }
  return NaN;
}

function fromBins(h: Int32Array, n: number, below: number, base: number, size: number, first: number): MedianMad | null {
  const k = n >> 1;
  const [loBin, hiBin] = binsOfRanks(h, n & 1 ? k : k - 1, k, below, size, first);
  if (Number.isNaN(hiBin) || Number.isNaN(loBin)) return null;
  const lo = base + loBin;
  const hi = base + hiBin;
  const med = n & 1 ? hi : (lo + hi) / 2;
  // Deviations from med in increasing order: bins c - t and c + t (+ half when med is half-integer).
  const half = med !== Math.floor(med);
  const c = Math.floor(med) - base; // bin of floor(med)
  const need1 = k; // rank of the upper middle deviation
  const need0 = n & 1 ? k : k - 1;
  let cum = 0;
  let d0 = NaN;
  for (let t = 0; ; t++) {
    // Deviation t (integer med) or t + 0.5 (half-integer med): bins c - t and c + t (+1 when half).
    const left = c - t;
    const right = half ? c + 1 + t : c + t;
    if (left < 0 || right >= size) return null; // values outside the window could have this deviation
    let cnt = h[left]!;
    if (right !== left) cnt += h[right]!;
    const dev = half ? t + 0.5 : t;
    if (Number.isNaN(d0) && need0 < cum + cnt) d0 = dev;
    if (need1 < cum + cnt) {
      return { med, mad: n & 1 ? dev : (d0 + dev) / 2 };
    }
    cum += cnt;
  }
}
