/**
 * Selection helpers on typed arrays: k-th smallest element (Floyd-Rivest quickselect, in place),
 * exact medians and quantiles of a buffer prefix, NaN-free copies, small-n sorting for per-pixel
 * stacks, and read-only radix selection on Float32Array (`medianFloat32`, `quantileFloat32`: two
 * passes, no copy; the fast path for whole planes). All `*InPlace` functions reorder their buffer; nothing here allocates per
 * element. Buffers must not contain NaN (comparisons with NaN break partitioning): use
 * `copyNonNaN` first when the data may hold NaN.
 */

export type NumericArray = Float32Array | Float64Array;

/** Below this many elements a plain insertion sort beats partitioning. */
const SMALL = 16;

/**
 * Rearranges `a[left..right]` (inclusive) so that `a[k]` is the value it would have if that range
 * were sorted ascending, every element before it is <= a[k] and every element after is >= a[k].
 * Returns `a[k]`. Floyd-Rivest selection: expected ~1.5 n comparisons, robust to duplicates.
 */
export function selectInPlace(a: NumericArray, k: number, left = 0, right = a.length - 1): number {
  if (!(k >= left && k <= right)) throw new RangeError(`select: k=${k} outside [${left}, ${right}]`);
  frSelect(a, k, left, right);
  return a[k]!;
}

function frSelect(a: NumericArray, k: number, left: number, right: number): void {
  while (right > left) {
    if (right - left < SMALL) {
      insertionSort(a, left, right);
      return;
    }
    if (right - left > 600) {
      // Recurse on a small sample around k to pick a pivot very close to the k-th value.
      const n = right - left + 1;
      const m = k - left + 1;
      const z = Math.log(n);
      const s = 0.5 * Math.exp((2 * z) / 3);
      const sd = 0.5 * Math.sqrt((z * s * (n - s)) / n) * (m - n / 2 < 0 ? -1 : 1);
      const newLeft = Math.max(left, Math.floor(k - (m * s) / n + sd));
      const newRight = Math.min(right, Math.floor(k + ((n - m) * s) / n + sd));
      frSelect(a, k, newLeft, newRight);
    }
    const t = a[k]!;
    let i = left;
    let j = right;
    swap(a, left, k);
    if (a[right]! > t) swap(a, left, right);
    while (i < j) {
      swap(a, i, j);
      i++;
      j--;
      while (a[i]! < t) i++;
      while (a[j]! > t) j--;
    }
    if (a[left] === t) swap(a, left, j);
    else {
      j++;
      swap(a, j, right);
    }
    if (j <= k) left = j + 1;
    if (k <= j) right = j - 1;
  }
}

function swap(a: NumericArray, i: number, j: number): void {
  const t = a[i]!;
  a[i] = a[j]!;
  a[j] = t;
}

/** Ascending insertion sort of `a[left..right]` (inclusive). For short ranges only. */
export function insertionSort(a: NumericArray, left = 0, right = a.length - 1): void {
  for (let i = left + 1; i <= right; i++) {
    const v = a[i]!;
    let j = i - 1;
    while (j >= left && a[j]! > v) {
      a[j + 1] = a[j]!;
      j--;
    }
    a[j + 1] = v;
  }
}

/** Largest value of `a[left..right]` (inclusive). */
function maxOf(a: NumericArray, left: number, right: number): number {
  let m = a[left]!;
  for (let i = left + 1; i <= right; i++) {
    const v = a[i]!;
    if (v > m) m = v;
  }
  return m;
}

/**
 * Exact median of the first `n` elements of `a` (default all), reordering them. Even n: mean of
 * the two middle values (numpy). NaN for n = 0.
 */
export function medianInPlace(a: NumericArray, n = a.length): number {
  if (n <= 0) return NaN;
  if (n <= SMALL) {
    insertionSort(a, 0, n - 1);
    const h = n >> 1;
    return n & 1 ? a[h]! : (a[h - 1]! + a[h]!) / 2;
  }
  const h = n >> 1;
  const hi = selectInPlace(a, h, 0, n - 1);
  if (n & 1) return hi;
  // After selection a[0..h-1] <= a[h]: the lower middle is their maximum.
  const lo = maxOf(a, 0, h - 1);
  return (lo + hi) / 2;
}

/**
 * Quantile q in [0, 1] of the first `n` elements with linear interpolation between order statistics
 * (numpy's default "linear" method), reordering them. NaN for n = 0.
 */
export function quantileInPlace(a: NumericArray, q: number, n = a.length): number {
  if (n <= 0) return NaN;
  if (!(q >= 0 && q <= 1)) throw new RangeError(`quantile: q=${q} outside [0, 1]`);
  const pos = q * (n - 1);
  const i = Math.floor(pos);
  const f = pos - i;
  const v = selectInPlace(a, i, 0, n - 1);
  if (f === 0 || i + 1 >= n) return v;
  // The next order statistic is the minimum of the upper part.
  let next = a[i + 1]!;
  for (let j = i + 2; j < n; j++) {
    const x = a[j]!;
    if (x < next) next = x;
  }
  return v + (next - v) * f;
}

/**
 * Copies the non-NaN values of `a` into a fresh buffer (Float32Array when `a` is a Float32Array,
 * which is lossless, else Float64Array). Returns the buffer and how many values it holds (the
 * buffer may be longer than `n`).
 */
/** A fresh buffer of a's length: Float32Array for a Float32Array (lossless), else Float64Array. */
export function bufferLike(a: ArrayLike<number>): NumericArray {
  return a instanceof Float32Array ? new Float32Array(a.length) : new Float64Array(a.length);
}

/** Keep the values of buf[0..n) within [lo, hi], in order, at the front of buf; returns how many. */
export function keepWithin(buf: NumericArray, n: number, lo: number, hi: number): number {
  let k = 0;
  for (let i = 0; i < n; i++) {
    const v = buf[i]!;
    if (v >= lo && v <= hi) buf[k++] = v;
  }
  return k;
}

export function copyNonNaN(a: ArrayLike<number>): { buf: NumericArray; n: number } {
  return copyKept(a, false);
}

/** Copies the finite values (no NaN, no +-Infinity) of `a` into a fresh buffer, like `copyNonNaN`. */
export function copyFinite(a: ArrayLike<number>): { buf: NumericArray; n: number } {
  return copyKept(a, true);
}

/** The non-NaN (finiteOnly: finite) values of `a`, in order, in a fresh buffer of a's length. */
function copyKept(a: ArrayLike<number>, finiteOnly: boolean): { buf: NumericArray; n: number } {
  const len = a.length;
  const buf = bufferLike(a);
  let n = 0;
  for (let i = 0; i < len; i++) {
    const v = a[i]!;
    if (finiteOnly ? v - v === 0 : v === v) buf[n++] = v;
  }
  return { buf, n };
}

/**
 * Median of a short stack (e.g. one pixel across n frames): sorts `a[0..n-1]` in place by insertion
 * sort and returns the median (mean of the two middle values for even n). Use for n up to a few
 * dozen; `medianInPlace` for anything longer.
 */
export function medianSmall(a: NumericArray, n = a.length): number {
  if (n <= 0) return NaN;
  insertionSort(a, 0, n - 1);
  const h = n >> 1;
  return n & 1 ? a[h]! : (a[h - 1]! + a[h]!) / 2;
}

/**
 * Partial sort: afterwards `a[0..k-1]` holds the k smallest of the first `n` values in ascending
 * order (the rest in unspecified order).
 */
export function partialSortInPlace(a: NumericArray, k: number, n = a.length): void {
  if (k <= 0 || n <= 0) return;
  if (k >= n) {
    a.subarray(0, n).sort();
    return;
  }
  selectInPlace(a, k - 1, 0, n - 1);
  a.subarray(0, k).sort();
}

// ---------------------------------------------------------------------------------------------
// Radix selection on float32 bit patterns: order statistics of a Float32Array in two read-only
// passes (a 65536-bin histogram of the high 16 bits of the order-preserving key, then one of the
// low 16 bits inside the bins that hold the wanted ranks). No copy, no reordering, exact.

const KEY_F32 = new Float32Array(1);
const KEY_U32 = new Uint32Array(KEY_F32.buffer);

/** float32 value of an order-preserving key (inverse of key = bits ^ (sign ? ~0 : 0x80000000)). */
function keyToFloat32(key: number): number {
  KEY_U32[0] = key & 0x80000000 ? key & 0x7fffffff : ~key >>> 0;
  return KEY_F32[0]!;
}

function bitsView(a: Float32Array): Uint32Array {
  return new Uint32Array(a.buffer, a.byteOffset, a.length);
}

/**
 * Values of ranks k0 <= k1 (0-based, among the kept values) of a Float32Array without modifying
 * it. `finiteOnly`: skip +-Infinity as well as NaN (NaN is always skipped). `ranks` maps the
 * number n of kept values to [k0, k1]; returns [v0, v1, n] (NaN values when n = 0).
 */
function orderStatsFloat32(a: Float32Array, finiteOnly: boolean, ranks: (n: number) => [number, number]): [number, number, number] {
  const u = bitsView(a);
  const len = u.length;
  const hist = new Uint32Array(65536);
  // Skip NaN: |bits| > 0x7f800000; with finiteOnly also the infinities: |bits| >= 0x7f800000.
  const limit = finiteOnly ? 0x7f800000 : 0x7f800001;
  let n = 0;
  for (let i = 0; i < len; i++) {
    const b = u[i]!;
    if ((b & 0x7fffffff) >= limit) continue;
    hist[((b ^ ((b >> 31) | 0x80000000)) >>> 16) & 0xffff]!++;
    n++;
  }
  if (n === 0) return [NaN, NaN, 0];
  const [k0, k1] = ranks(n);
  let h0 = -1;
  let h1 = -1;
  let before0 = 0;
  let before1 = 0;
  for (let h = 0, cum = 0; h < 65536; h++) {
    const c = hist[h]!;
    if (h0 < 0 && k0 < cum + c) {
      h0 = h;
      before0 = cum;
    }
    if (k1 < cum + c) {
      h1 = h;
      before1 = cum;
      break;
    }
    cum += c;
  }
  const low0 = new Uint32Array(65536);
  const low1 = h1 === h0 ? low0 : new Uint32Array(65536);
  for (let i = 0; i < len; i++) {
    const b = u[i]!;
    if ((b & 0x7fffffff) >= limit) continue;
    const key = (b ^ ((b >> 31) | 0x80000000)) >>> 0;
    const h = key >>> 16;
    if (h === h0) low0[key & 0xffff]!++;
    else if (h === h1) low1[key & 0xffff]!++;
  }
  const pick = (low: Uint32Array, h: number, r: number): number => {
    for (let l = 0, cum = 0; l < 65536; l++) {
      cum += low[l]!;
      if (r < cum) return keyToFloat32(((h << 16) | l) >>> 0);
    }
    throw new Error('radix select: rank not found');
  };
  return [pick(low0, h0, k0 - before0), pick(low1, h1, k1 - before1), n];
}

/**
 * Exact median of a Float32Array (NaN skipped; with `finiteOnly` also +-Infinity), without copying
 * or modifying it: even count gives the mean of the two middle values (numpy). NaN when empty.
 */
export function medianFloat32(a: Float32Array, finiteOnly = false): number {
  const [lo, hi] = orderStatsFloat32(a, finiteOnly, (n) => [(n - 1) >> 1, n >> 1]);
  return lo === hi ? lo : (lo + hi) / 2;
}

/**
 * Quantile q in [0, 1] of a Float32Array with numpy's linear interpolation (NaN skipped; with
 * `finiteOnly` also +-Infinity), without copying or modifying it. NaN when empty.
 */
export function quantileFloat32(a: Float32Array, q: number, finiteOnly = false): number {
  if (!(q >= 0 && q <= 1)) throw new RangeError(`quantile: q=${q} outside [0, 1]`);
  let f = 0;
  const [lo, hi] = orderStatsFloat32(a, finiteOnly, (n) => {
    const pos = q * (n - 1);
    const i = Math.floor(pos);
    f = pos - i;
    return [i, Math.min(i + 1, n - 1)];
  });
  return f === 0 ? lo : lo + (hi - lo) * f;
}
