/**
 * Background and noise maps: the frame is cut into a mesh of boxes; in each box a sigma-clipped
 * location (SExtractor's mode estimate 2.5 median - 1.5 mean, or the median when the box is crowded)
 * and the clipped standard deviation are measured; the mesh is median-filtered (3x3) against stars and
 * nebulae, then interpolated to every pixel with separable cubic (Catmull-Rom) interpolation between box centres.
 */
import { keepWithin } from '../kernels/select.js';
import { detectKernel, type AxisTables } from '../kernels/detect.js';

export interface BackgroundOptions {
  /** Box size in pixels (default 64). */
  box?: number;
  /** Clipping threshold in sigma (default 3). */
  sigma?: number;
  /** Clipping iterations (default 5). */
  iterations?: number;
}

export interface BackgroundMap {
  /** Background level per pixel. */
  background: Float32Array;
  /** Background noise (standard deviation) per pixel. */
  noise: Float32Array;
  /** Median over the frame of the two maps. */
  globalBackground: number;
  globalNoise: number;
  meshWidth: number;
  meshHeight: number;
}

/** k-th smallest of a[0..n) (reorders a). */
export function quickselect(a: Float32Array | Float64Array, n: number, k: number): number {
  let lo = 0;
  let hi = n - 1;
  while (hi > lo) {
    const mid = (lo + hi) >> 1;
    // median of three pivot
    let x = a[lo]!, y = a[mid]!, z = a[hi]!;
    const pivot = x < y ? (y < z ? y : x < z ? z : x) : x < z ? x : y < z ? z : y;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i]! < pivot) i++;
      while (a[j]! > pivot) j--;
      if (i <= j) {
        const t = a[i]!;
        a[i] = a[j]!;
        a[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return a[k]!;
    x = y = z = 0;
  }
  return a[k]!;
}

/** Median of a[0..n) (reorders a); even n: mean of the two middle values. */
export function medianInPlace(a: Float32Array | Float64Array, n: number): number {
  if (n === 0) return NaN;
  const h = n >> 1;
  const m = quickselect(a, n, h);
  if (n % 2 === 1) return m;
  let lower = -Infinity;
  for (let i = 0; i < h; i++) if (a[i]! > lower) lower = a[i]!;
  return 0.5 * (lower + m);
}

/** Sigma-clipped (median centre, std scale) location and scale of buf[0..n) (reorders buf). */
export function clippedLocationScale(buf: Float32Array, n: number, sigma = 3, iterations = 5): { location: number; scale: number; median: number; count: number } {
  let med = NaN;
  let std = NaN;
  let mean = NaN;
  for (let it = 0; it <= iterations; it++) {
    if (n === 0) break;
    med = medianInPlace(buf, n);
    let s = 0;
    for (let i = 0; i < n; i++) s += buf[i]!;
    mean = s / n;
    let ss = 0;
    for (let i = 0; i < n; i++) {
      const d = buf[i]! - mean;
      ss += d * d;
    }
    std = Math.sqrt(ss / n);
    if (it === iterations) break;
    const m = keepWithin(buf, n, med - sigma * std, med + sigma * std);
    if (m === n) break;
    n = m;
  }
  // SExtractor: mode = 2.5 med - 1.5 mean unless the distribution is too skewed (crowded box)
  const location = std > 0 && Math.abs(mean - med) / std < 0.3 ? 2.5 * med - 1.5 * mean : med;
  return { location, scale: std, median: med, count: n };
}

/**
 * Sorts a[0..n) ascending (finite values and infinities; no NaN) by an LSD radix sort of the order-preserving uint32
 * keys of the float32 bits: three digits of 11, 11 and 10 bits, histograms in one pass, passes whose digit all keys
 * share skipped (the top digit, sign, exponent and first mantissa bit, of a box of sky pixels often is: two passes, and
 * three with stars, where 8-bit digits take four for float data); `tmp` holds at least n keys. O(n), several times
 * faster than TypedArray.prototype.sort on a box of pixels.
 */
export function radixSortFloat32(a: Float32Array, n: number, tmp: Uint32Array): void {
  const u = new Uint32Array(a.buffer, a.byteOffset, n);
  const hist = RADIX_COUNT;
  hist.fill(0);
  for (let i = 0; i < n; i++) {
    const v = u[i]!, k = (v & 0x80000000 ? ~v : v | 0x80000000) >>> 0;
    u[i] = k;
    hist[k & 2047]!++; hist[2048 + ((k >>> 11) & 2047)]!++; hist[4096 + (k >>> 22)]!++;
  }
  let src = u, dst = tmp.subarray(0, n);
  for (let d = 0; d < 3; d++) {
    const shift = 11 * d, h = 2048 * d, nb = d < 2 ? 2048 : 1024, mask = nb - 1;
    if (n === 0 || hist[h + ((src[0]! >>> shift) & mask)] === n) continue; // every key has this digit: already in order
    let sum = 0;
    for (let b = 0; b < nb; b++) { const c = hist[h + b]!; hist[h + b] = sum; sum += c; }
    for (let i = 0; i < n; i++) { const v = src[i]!; dst[hist[h + ((v >>> shift) & mask)]!++] = v; }
    const t = src; src = dst; dst = t;
  }
  for (let i = 0; i < n; i++) { const k = src[i]!; u[i] = (k & 0x80000000 ? k & 0x7fffffff : ~k) >>> 0; }
}
const RADIX_COUNT = new Uint32Array(2048 + 2048 + 1024);

/** First index in [lo, hi) of the ascending `a` whose value is >= v (`strict`: > v), or hi. */
function bound(a: Float32Array, lo: number, hi: number, v: number, strict: boolean): number {
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (strict ? a[mid]! <= v : a[mid]! < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * `clippedLocationScale` of values sorted ascending (buf[0..n), kept): each clipping keeps a range of the sorted
 * values, found by binary search, and the range's mean and variance come from prefix sums (of the values less the
 * median, in float64: no cancellation), so an iteration costs O(log n). The same statistics to ~1e-14.
 */
export function clippedLocationScaleSorted(buf: Float32Array, n: number, sigma = 3, iterations = 5, prefix?: Float64Array): { location: number; scale: number; median: number; count: number } {
  const S1 = prefix && prefix.length >= 2 * (n + 1) ? prefix : new Float64Array(2 * (n + 1));
  const c = n > 0 ? buf[n >> 1]! : 0;
  S1[0] = 0; S1[n + 1] = 0;
  for (let i = 0; i < n; i++) { const d = buf[i]! - c; S1[i + 1] = S1[i]! + d; S1[n + 2 + i] = S1[n + 1 + i]! + d * d; }
  let lo = 0, hi = n;
  let med = NaN, std = NaN, mean = NaN;
  for (let it = 0; it <= iterations; it++) {
    const m = hi - lo;
    if (m === 0) break;
    const h = m >> 1;
    med = m % 2 === 1 ? buf[lo + h]! : 0.5 * (buf[lo + h - 1]! + buf[lo + h]!);
    const s1 = (S1[hi]! - S1[lo]!) / m, s2 = (S1[n + 1 + hi]! - S1[n + 1 + lo]!) / m;
    mean = c + s1;
    std = Math.sqrt(Math.max(0, s2 - s1 * s1));
    if (it === iterations) break;
    const a = bound(buf, lo, hi, med - sigma * std, false), b = bound(buf, a, hi, med + sigma * std, true);
    if (b - a === m) break;
    lo = a; hi = b;
  }
  const location = std > 0 && Math.abs(mean - med) / std < 0.3 ? 2.5 * med - 1.5 * mean : med;
  return { location, scale: std, median: med, count: hi - lo };
}

function median9(v: Float64Array, n: number): number {
  const a = v.slice(0, n);
  a.sort();
  return n % 2 ? a[n >> 1]! : 0.5 * (a[n / 2 - 1]! + a[n / 2]!);
}

/** Cubic (Catmull-Rom) interpolation of mesh values (mw x mh, centres at (i + 0.5) * box) to every pixel. */
function interpolateMesh(mesh: Float64Array, mw: number, mh: number, boxW: number, boxH: number, width: number, height: number): Float32Array {
  const out = new Float32Array(width * height);
  // pass 1: along x for each mesh row
  const rows = new Float64Array(mh * width);
  for (let x = 0; x < width; x++) {
    const t = (x + 0.5) / boxW - 0.5;
    const i1 = Math.floor(t);
    const f = t - i1;
    const w = catmull(f);
    for (let j = 0; j < mh; j++) {
      let s = 0;
      for (let k = -1; k <= 2; k++) {
        const ii = Math.min(mw - 1, Math.max(0, i1 + k));
        s += w[k + 1]! * mesh[j * mw + ii]!;
      }
      rows[j * width + x] = s;
    }
  }
  for (let y = 0; y < height; y++) {
    const t = (y + 0.5) / boxH - 0.5;
    const j1 = Math.floor(t);
    const w = catmull(t - j1);
    const r0 = Math.min(mh - 1, Math.max(0, j1 - 1)) * width;
    const r1 = Math.min(mh - 1, Math.max(0, j1)) * width;
    const r2 = Math.min(mh - 1, Math.max(0, j1 + 1)) * width;
    const r3 = Math.min(mh - 1, Math.max(0, j1 + 2)) * width;
    const w0 = w[0]!, w1 = w[1]!, w2 = w[2]!, w3 = w[3]!;
    const o = y * width;
    for (let x = 0; x < width; x++) out[o + x] = w0 * rows[r0 + x]! + w1 * rows[r1 + x]! + w2 * rows[r2 + x]! + w3 * rows[r3 + x]!;
  }
  return out;
}

/**
 * The interpolation tables of one axis of n pixels over m mesh cells of `box` pixels (the indices and weights that
 * interpolateMesh computes per column or row): per pixel, the 4 clamped cell indices and their Catmull-Rom weights.
 */
export function axisTables(m: number, box: number, n: number): AxisTables {
  const idx = new Int32Array(4 * n), w = new Float64Array(4 * n);
  for (let p = 0; p < n; p++) {
    const t = (p + 0.5) / box - 0.5;
    const i1 = Math.floor(t);
    const c = catmull(t - i1);
    for (let k = 0; k < 4; k++) {
      idx[4 * p + k] = Math.min(m - 1, Math.max(0, i1 + k - 1));
      w[4 * p + k] = c[k]!;
    }
  }
  return { idx, w };
}

const CW = new Float64Array(4);
function catmull(f: number): Float64Array {
  const f2 = f * f;
  const f3 = f2 * f;
  CW[0] = -0.5 * f3 + f2 - 0.5 * f;
  CW[1] = 1.5 * f3 - 2.5 * f2 + 1;
  CW[2] = -1.5 * f3 + 2 * f2 + 0.5 * f;
  CW[3] = 0.5 * f3 - 0.5 * f2;
  return CW;
}

/** The filtered mesh of box estimates (before interpolation to pixels) and its frame medians. */
export interface BackgroundMesh {
  background: Float64Array;
  noise: Float64Array;
  meshWidth: number;
  meshHeight: number;
  /** Box size in pixels of the plane measured. */
  boxW: number;
  boxH: number;
  globalBackground: number;
  globalNoise: number;
}

/** Sigma-clipped location and scale of each box, NaN boxes filled, 3x3 median-filtered. */
export function backgroundMesh(plane: Float32Array, width: number, height: number, opts: BackgroundOptions = {}): BackgroundMesh {
  const box = Math.max(8, Math.floor(opts.box ?? 64));
  const mw = Math.max(1, Math.round(width / box));
  const mh = Math.max(1, Math.round(height / box));
  const boxW = width / mw;
  const boxH = height / mh;
  const bg = new Float64Array(mw * mh);
  const ns = new Float64Array(mw * mh);
  const kernel = detectKernel();
  if (kernel) {
    const xs = Int32Array.from({ length: mw + 1 }, (_, i) => Math.round(i * boxW));
    const ys = Int32Array.from({ length: mh + 1 }, (_, j) => Math.round(j * boxH));
    const r = kernel.meshCells(plane, width, height, xs, ys, opts.sigma ?? 3, opts.iterations ?? 5);
    for (let c = 0; c < mw * mh; c++) { bg[c] = r[2 * c]!; ns[c] = r[2 * c + 1]!; }
  } else meshCellsTS(plane, width, mw, mh, boxW, boxH, opts, bg, ns);
  fillNaN(bg);
  fillNaN(ns);
  const bgF = medianFilterMesh(bg, mw, mh);
  const nsF = medianFilterMesh(ns, mw, mh);
  return {
    background: bgF, noise: nsF, meshWidth: mw, meshHeight: mh, boxW, boxH,
    globalBackground: medianInPlace(bgF.slice(), bgF.length),
    globalNoise: medianInPlace(nsF.slice(), nsF.length),
  };
}

/** The reference of the mesh cells' location (bg) and scale (ns): gather the finite values, radix sort, clip. */
function meshCellsTS(plane: Float32Array, width: number, mw: number, mh: number, boxW: number, boxH: number, opts: BackgroundOptions, bg: Float64Array, ns: Float64Array): void {
  const buf = new Float32Array(Math.ceil(boxW + 1) * Math.ceil(boxH + 1));
  const keys = new Uint32Array(buf.length), prefix = new Float64Array(2 * (buf.length + 1));
  for (let j = 0; j < mh; j++) {
    const y0 = Math.round(j * boxH);
    const y1 = Math.round((j + 1) * boxH);
    for (let i = 0; i < mw; i++) {
      const x0 = Math.round(i * boxW);
      const x1 = Math.round((i + 1) * boxW);
      let n = 0;
      for (let y = y0; y < y1; y++) {
        const o = y * width;
        for (let x = x0; x < x1; x++) {
          const v = plane[o + x]!;
          if (v === v) buf[n++] = v;
        }
      }
      radixSortFloat32(buf, n, keys);
      const r = clippedLocationScaleSorted(buf, n, opts.sigma ?? 3, opts.iterations ?? 5, prefix);
      bg[j * mw + i] = r.location;
      ns[j * mw + i] = r.scale;
    }
  }
}

/**
 * Per-pixel maps of a mesh on a width x height grid; `scale` > 1 when the mesh was measured on a plane
 * reduced `scale` times (a box of boxW plane pixels covers scale * boxW pixels here).
 */
export function meshMaps(m: BackgroundMesh, width: number, height: number, scale = 1): BackgroundMap {
  const bw = m.boxW * scale, bh = m.boxH * scale;
  const kernel = detectKernel();
  const xt = kernel ? axisTables(m.meshWidth, bw, width) : null, yt = kernel ? axisTables(m.meshHeight, bh, height) : null;
  const map = (mesh: Float64Array): Float32Array =>
    kernel ? kernel.interpolate(mesh, m.meshWidth, m.meshHeight, xt!, yt!) : interpolateMesh(mesh, m.meshWidth, m.meshHeight, bw, bh, width, height);
  return {
    background: map(m.background),
    noise: map(m.noise),
    globalBackground: m.globalBackground,
    globalNoise: m.globalNoise,
    meshWidth: m.meshWidth,
    meshHeight: m.meshHeight,
  };
}

/**
 * Fills columns x0..x1-1 of rows y0..y1-1 of `out` (a width-wide map) with the mesh's `which` values interpolated
 * exactly as `meshMaps` does (same weights and order of operations), for maps needed only in places.
 */
export function interpolateMeshRect(m: BackgroundMesh, which: 'background' | 'noise', out: Float32Array, width: number, scale: number, x0: number, y0: number, x1: number, y1: number): void {
  const mesh = m[which], mw = m.meshWidth, mh = m.meshHeight;
  const bw = m.boxW * scale, bh = m.boxH * scale;
  const nx = x1 - x0;
  const jOf = (y: number): number => Math.floor((y + 0.5) / bh - 0.5);
  const ja = Math.max(0, jOf(y0) - 1), jb = Math.min(mh - 1, jOf(y1 - 1) + 2);
  // pass 1: along x for the mesh rows the rectangle needs
  const rows = new Float64Array((jb - ja + 1) * nx);
  for (let x = x0; x < x1; x++) {
    const t = (x + 0.5) / bw - 0.5;
    const i1 = Math.floor(t);
    const w = catmull(t - i1);
    for (let j = ja; j <= jb; j++) {
      let s = 0;
      for (let k = -1; k <= 2; k++) s += w[k + 1]! * mesh[j * mw + Math.min(mw - 1, Math.max(0, i1 + k))]!;
      rows[(j - ja) * nx + (x - x0)] = s;
    }
  }
  for (let y = y0; y < y1; y++) {
    const j1 = jOf(y);
    const w = catmull((y + 0.5) / bh - 0.5 - j1);
    const r0 = (Math.min(mh - 1, Math.max(0, j1 - 1)) - ja) * nx, r1 = (Math.min(mh - 1, Math.max(0, j1)) - ja) * nx;
    const r2 = (Math.min(mh - 1, Math.max(0, j1 + 1)) - ja) * nx, r3 = (Math.min(mh - 1, Math.max(0, j1 + 2)) - ja) * nx;
    const w0 = w[0]!, w1 = w[1]!, w2 = w[2]!, w3 = w[3]!;
    const o = y * width + x0;
    for (let i = 0; i < nx; i++) out[o + i] = w0 * rows[r0 + i]! + w1 * rows[r1 + i]! + w2 * rows[r2 + i]! + w3 * rows[r3 + i]!;
  }
}

export function estimateBackground(plane: Float32Array, width: number, height: number, opts: BackgroundOptions = {}): BackgroundMap {
  return meshMaps(backgroundMesh(plane, width, height, opts), width, height);
}

function fillNaN(m: Float64Array): void {
  let s = 0;
  let n = 0;
  for (const v of m) if (v === v) { s += v; n++; }
  const fill = n ? s / n : 0;
  for (let i = 0; i < m.length; i++) if (!(m[i] === m[i])) m[i] = fill;
}

/** The values of the 3x3 neighbourhood of (i, j) inside a w x h grid, row by row, into `out`; returns their count. */
function neighbourhood3x3(m: Float64Array, w: number, h: number, i: number, j: number, out: Float64Array): number {
  let n = 0;
  for (let jj = Math.max(0, j - 1); jj <= Math.min(h - 1, j + 1); jj++) {
    for (let ii = Math.max(0, i - 1); ii <= Math.min(w - 1, i + 1); ii++) out[n++] = m[jj * w + ii]!;
  }
  return n;
}

function medianFilterMesh(m: Float64Array, mw: number, mh: number): Float64Array {
  const out = new Float64Array(m.length);
  const v = new Float64Array(9);
  for (let j = 0; j < mh; j++) {
    for (let i = 0; i < mw; i++) {
      out[j * mw + i] = median9(v, neighbourhood3x3(m, mw, mh, i, j, v));
    }
  }
  return out;
}
