/**
 * Exact median and MAD of integer-valued samples by counting (the scan's pixel evidence: raw 8/16-bit
 * frames hold integers). Gives the same numbers as the exact selections of src/image/stats.ts
 * (median: mean of the two middle values for an even count; MAD: median of |x - median| with the
 * deviations rounded to float32 as a Float32Array holds them), in one pass over the values and a walk
 * over a window of counting bins, instead of two selections. Returns null (the caller falls back to
 * a selection) when a value is not an integer, or when a rank needed lies outside the window.
 */

/** Counting bins, reused (always left zeroed). */
let bins = new Int32Array(4096);

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
  if (bins.length < size) bins = new Int32Array(size);
  const h = bins;
  let below = 0;
  let ok = true;
  for (let i = 0; i < n; i++) {
    const v = a[i]!;
    if (!(v === Math.round(v) && v < 16777216 && v > -16777216)) {
      ok = false;
      break;
    }
    const b = (v - base) | 0;
    if (b < 0) below++;
    else if (b < size) h[b]!++;
  }
  const out = ok ? fromBins(h, n, below, base, size) : null;
  h.fill(0, 0, size);
  return out;
}

/** Value of 0-based rank r (counting `below` values under the window first); NaN when outside it. */
function valueOfRank(h: Int32Array, r: number, below: number, size: number): number {
  if (r < below) return NaN;
  let cum = below;
  for (let b = 0; b < size; b++) {
    cum += h[b]!;
    if (r < cum) return b;
  }
  return NaN;
}

function fromBins(h: Int32Array, n: number, below: number, base: number, size: number): MedianMad | null {
  const k = n >> 1;
  const hiBin = valueOfRank(h, k, below, size);
  const loBin = n & 1 ? hiBin : valueOfRank(h, k - 1, below, size);
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
