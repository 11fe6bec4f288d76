/**
 * Star detection and measurement on one plane (docs/algorithms.md#stars).
 * 1. Background and noise maps (mesh of sigma-clipped boxes, see background.ts).
 * 2. The background-subtracted plane is smoothed with a Gaussian matched filter; pixels above
 *    k x (noise of the filtered image) form 8-connected components; components smaller than minArea are dropped.
 * 3. Deblending: local maxima of the filtered image inside a component are kept as separate sources when the
 *    profile dips significantly between them and a brighter kept peak; the component's pixels go to the nearest peak.
 * 4. One-pixel (hot-pixel-like) sources and saturated sources are flagged; hot pixels are left out of the star list.
 * 5. Each source is measured: centroid, FWHM, eccentricity from a pixel-integrated 2-D Gaussian or Moffat
 *    LM fit; HFR = sum(r v) / sum(v) in a radius of 3 FWHM (the NINA/DSS definition), HFD = 2 HFR.
 * Fast options (registration, see register.ts frameStars): fit only `maxFit` stars, isolated ones first (`fitIsolated`),
 * refine the others' centroids by a Gaussian-windowed centroid (`refine`, as precise as the fits), and detect on a
 * 2x2-binned plane measuring at full resolution (`bin: 2`). The defaults are the complete measurement.
 */
import { axisTables, backgroundMesh, estimateBackground, interpolateMeshRect, medianInPlace, type BackgroundMap, type BackgroundMesh, type BackgroundOptions } from './background.js';
import { fitPsf, type PsfKind } from './psf.js';
import { detectKernel, detectKernelDone, type RectInterpolator } from '../kernels/detect.js';
import { holdUntilTaskChange } from '../util/thread-memory.js';

export interface Star {
  x: number;
  y: number;
  /** Integrated flux above the background (of the fitted profile; aperture sum when the fit failed). */
  flux: number;
  /** Highest background-subtracted pixel. */
  peak: number;
  background: number;
  fwhm: number;
  fwhmMajor: number;
  fwhmMinor: number;
  eccentricity: number;
  /** Major-axis direction, degrees from +x. */
  angle: number;
  beta?: number;
  hfr: number;
  hfd: number;
  /** flux / (noise sqrt(pixels in a radius of 1.5 FWHM)). */
  snr: number;
  area: number;
  saturated: boolean;
  blended: boolean;
  fitted: boolean;
}

export interface DetectOptions extends BackgroundOptions {
  /** Detection threshold in units of the filtered image's noise (default 5). */
  k?: number;
  /** Minimum connected area above the threshold (default 5 px). */
  minArea?: number;
  /** FWHM of the matched filter (default 2 px; 0 = no filter). */
  filterFwhm?: number;
  /** Pixels at or above this raw value are saturated (default Infinity). */
  saturation?: number;
  /** PSF model for the fit (default gaussian). */
  psf?: PsfKind;
  /** Deblend close pairs (default true). */
  deblend?: boolean;
  /** Measure at most this many sources, the brightest (default all). */
  maxStars?: number;
  /** Fit the PSF (default true); false: moment centroids only (fast). */
  fit?: boolean;
  /**
   * Fit at most this many of the brightest unsaturated sources (default 200: enough for FWHM statistics); the
   * others keep moment centroids and moment FWHMs (`fitted: false`).
   */
  maxFit?: number;
  /** Sub-samples per pixel axis in the fitted model (default 3). */
  subsample?: number;
  /** Relative chi2 decrease below which a PSF fit stops (default 1e-9; see psf.ts fitPsf). */
  fitTolerance?: number;
  /**
   * Fit isolated stars first (default false): the `maxFit` fits go to the brightest unsaturated stars that are
   * not blended and have no other source in their measurement window, then to the others.
   */
  fitIsolated?: boolean;
  /**
   * Refine the centroids of the stars left unfitted (default false) by an iterative Gaussian-windowed centroid
   * (SExtractor's XWIN), the window's sigma from the median fitted FWHM.
   */
  refine?: boolean;
  /**
   * Detect on the plane binned `bin` x `bin` (1 or 2, default 1), then measure each source on the full plane
   * (box and filterFwhm are then in binned pixels, minArea divided by 4). Only the measured sources' hot pixels
   * are counted, and the result's per-pixel background maps are filled only around them (the global values are complete).
   */
  bin?: 1 | 2;
}

export interface DetectResult {
  stars: Star[];
  hotPixels: number;
  saturatedCount: number;
  /**
   * The background and noise estimate. After a binned detection its full-resolution maps are planes kept per thread,
   * filled only around the sources and valid until the thread's next detection; the global values are always valid.
   */
  background: BackgroundMap;
}

function gaussKernel(fwhm: number): Float64Array {
  const sigma = fwhm / (2 * Math.sqrt(2 * Math.LN2));
  const r = Math.max(1, Math.ceil(3 * sigma));
  const k = new Float64Array(2 * r + 1);
  let s = 0;
  for (let i = -r; i <= r; i++) s += k[i + r] = Math.exp((-0.5 * i * i) / (sigma * sigma));
  for (let i = 0; i < k.length; i++) k[i] = k[i]! / s;
  return k;
}

/** Separable convolution with edge replication (clamping only near the edges). */
function convolve(src: Float32Array, width: number, height: number, k: Float64Array): Float32Array {
  const r = (k.length - 1) >> 1;
  const n = k.length;
  const tmp = new Float32Array(width * height);
  const out = new Float32Array(width * height);
  const acc = new Float64Array(width); // the interior's sums, tap by tap over the row (contiguous), in float64 as before
  const xa = Math.min(r, width), xb = Math.max(xa, width - r);
  const [k0, k1, k2, k3, k4, k5, k6] = n === 7 ? Array.from(k) as [number, number, number, number, number, number, number] : [0, 0, 0, 0, 0, 0, 0];
  for (let y = 0; y < height; y++) {
    const o = y * width;
    if (n === 7) {
      // the default filter (FWHM 2 px), unrolled: the same sums in the same order
      const b = o - 3;
      for (let x = xa; x < xb; x++) {
        const q = b + x;
        tmp[o + x] = k0 * src[q]! + k1 * src[q + 1]! + k2 * src[q + 2]! + k3 * src[q + 3]! + k4 * src[q + 4]! + k5 * src[q + 5]! + k6 * src[q + 6]!;
      }
    } else {
      for (let i = 0; i < n; i++) {
        const ki = k[i]!, b = o - r + i;
        if (i === 0) for (let x = xa; x < xb; x++) acc[x] = ki * src[b + x]!;
        else for (let x = xa; x < xb; x++) acc[x] = acc[x]! + ki * src[b + x]!;
      }
      for (let x = xa; x < xb; x++) tmp[o + x] = acc[x]!;
    }
    for (let x = 0; x < width; x++) {
      if (x === xa) x = xb;
      if (x >= width) break;
      let s = 0;
      for (let i = -r; i <= r; i++) {
        let xx = x + i;
        xx = xx < 0 ? 0 : xx >= width ? width - 1 : xx;
        s += k[i + r]! * src[o + xx]!;
      }
      tmp[o + x] = s;
    }
  }
  for (let y = 0; y < height; y++) {
    const o = y * width;
    if (n === 7 && y >= r && y + r < height) {
      // unrolled: each partial sum rounded to float32 as the row-wise form stores it (the same numbers)
      const b0 = (y - 3) * width, b1 = b0 + width, b2 = b1 + width, b3 = b2 + width, b4 = b3 + width, b5 = b4 + width, b6 = b5 + width;
      for (let x = 0; x < width; x++) {
        let v = Math.fround(k0 * tmp[b0 + x]!);
        v = Math.fround(v + k1 * tmp[b1 + x]!);
        v = Math.fround(v + k2 * tmp[b2 + x]!);
        v = Math.fround(v + k3 * tmp[b3 + x]!);
        v = Math.fround(v + k4 * tmp[b4 + x]!);
        v = Math.fround(v + k5 * tmp[b5 + x]!);
        out[o + x] = v + k6 * tmp[b6 + x]!;
      }
      continue;
    }
    if (y >= r && y + r < height) {
      // row-wise accumulation: contiguous memory access
      for (let i = 0; i < n; i++) {
        const ki = k[i]!, b = (y - r + i) * width;
        if (i === 0) for (let x = 0; x < width; x++) out[o + x] = ki * tmp[b + x]!;
        else for (let x = 0; x < width; x++) out[o + x] = out[o + x]! + ki * tmp[b + x]!;
      }
      continue;
    }
    for (let x = 0; x < width; x++) {
      let s = 0;
      for (let i = -r; i <= r; i++) {
        let yy = y + i;
        yy = yy < 0 ? 0 : yy >= height ? height - 1 : yy;
        s += k[i + r]! * tmp[yy * width + x]!;
      }
      out[o + x] = s;
    }
  }
  return out;
}

/** Scratch planes (internal to one detection) of up to this many bytes are kept per thread and reused, zeroed. */
const SCRATCH_KEEP_BYTES = 32 << 20;
const scratch: (Int32Array | Float32Array | undefined)[] = [];

/** A zeroed plane of n values for slot `slot` (one detection uses each slot once): reused when small, else fresh. */
function scratchPlane<T extends Int32Array | Float32Array>(slot: number, n: number, make: new (n: number) => T): T {
  if (n * 4 > SCRATCH_KEEP_BYTES) return new make(n);
  let a = scratch[slot];
  if (!(a instanceof make) || a.length < n) scratch[slot] = a = new make(Math.max(n, a?.length ?? 0));
  const v = a.subarray(0, n) as T;
  v.fill(0);
  return v;
}

/**
 * Planes of up to this many bytes that a detection writes before it reads them (the binned detection's full-resolution
 * planes, filled tile by tile; the binned and decimated planes) are kept per thread, not zeroed, until the thread starts
 * another kind of task (util/thread-memory.ts): a fresh plane per frame costs its pages again (page faults) and waits
 * for the garbage collector.
 */
const KEPT_PLANE_BYTES = 96 << 20;
const kept: (Int32Array | Float32Array | undefined)[] = [];

/** A plane of n values for slot `slot` whose content is undefined (the caller writes every value it reads). */
function keptPlane<T extends Int32Array | Float32Array>(slot: number, n: number, make: new (n: number) => T): T {
  if (n * 4 > KEPT_PLANE_BYTES) return new make(n);
  let a = kept[slot];
  if (!(a instanceof make) || a.length < n) kept[slot] = a = new make(n);
  holdUntilTaskChange('detection planes', () => { kept.length = 0; });
  return a.subarray(0, n) as T;
}

class IntList {
  a = new Int32Array(1024);
  n = 0;
  push(v: number): void {
    if (this.n === this.a.length) {
      const b = new Int32Array(this.a.length * 2);
      b.set(this.a);
      this.a = b;
    }
    this.a[this.n++] = v;
  }
}

/** The planes detection works on: background-subtracted (`sub`) and matched-filtered (`filt`). */
export interface Planes {
  plane: Float32Array;
  sub: Float32Array;
  filt: Float32Array;
  width: number;
  height: number;
  bkg: BackgroundMap;
  /** Noise of the filtered image in units of the raw noise. */
  nf: number;
  /** The pixels with filt > aboveK nf noise, ascending (from the WASM kernel; labelComponents computes them otherwise). */
  above?: Int32Array;
  aboveK?: number;
}

interface Src { pixels: Int32Array<ArrayBufferLike>; peakIdx: number; blended: boolean; id: number }

/** plane - background, NaN as 0. */
function subtractBackground(plane: Float32Array, background: Float32Array, npx: number): Float32Array {
  const sub: Float32Array = new Float32Array(npx);
  for (let i = 0; i < npx; i++) {
    const v = plane[i]! - background[i]!;
    sub[i] = v === v ? v : 0;
  }
  return sub;
}

/**
 * The planes detection works on (background and noise maps, background-subtracted and matched-filtered planes; from
 * the WASM kernel also the pixels above the threshold, `above`); exported for the kernel's tests.
 */
export function detectionPlanes(plane: Float32Array, width: number, height: number, opts: DetectOptions = {}): Readonly<Planes> {
  try {
    const p = preparePlanes(plane, width, height, opts);
    const sub = p.sub.slice(); // the kernel's planes are views of its memory (see DetectWasm.filter)
    return { ...p, sub, filt: p.filt === p.sub ? sub : p.filt.slice() };
  } finally {
    detectKernelDone();
  }
}

function preparePlanes(plane: Float32Array, width: number, height: number, opts: DetectOptions): Planes {
  const npx = width * height;
  const bkg = estimateBackground(plane, width, height, opts);
  const ffwhm = opts.filterFwhm ?? 2;
  const kernel = detectKernel();
  if (kernel && kernel.holds(plane, bkg.background, bkg.noise)) {
    // the WASM kernel: the same planes (and the threshold's pixels) from the plane and maps it holds
    const ker = ffwhm > 0 ? gaussKernel(ffwhm) : null;
    let nf = 1;
    if (ker) { let s2 = 0; for (const v of ker) s2 += v * v; nf = s2; }
    const k = opts.k ?? 5;
    // sub and filt are views of the kernel's memory, valid until its next frame: detection ends before (detectBinned's
    // binned planes are done with when the decimated plane's mesh is measured)
    const { sub, filt, above } = kernel.filter(bkg.background, bkg.noise, width, height, ker, k * nf);
    return { plane, sub, filt, width, height, bkg, nf, above, aboveK: k };
  }
  const sub = subtractBackground(plane, bkg.background, npx);
  let filt: Float32Array = sub;
  let nf = 1;
  if (ffwhm > 0) {
    const ker = gaussKernel(ffwhm);
    filt = convolve(sub, width, height, ker);
    let s2 = 0;
    for (const v of ker) s2 += v * v;
    nf = s2; // sqrt(sum of 2-D kernel squares) = sum of 1-D squares
  }
  return { plane, sub, filt, width, height, bkg, nf };
}

/** 8-connected components of the pixels above the threshold (flood fill); `label` gets the component ids. */
function labelComponents(p: Planes, k: number, label: Int32Array): { pix: IntList; comps: { start: number; end: number }[] } {
  const { filt, width, height, bkg, nf } = p;
  const npx = width * height;
  let above: { a: Int32Array; n: number } = new IntList(); // the pixels above the threshold, in order: floods start at the first unlabelled one
  if (p.above && p.aboveK === k) {
    above = { a: p.above, n: p.above.length };
    for (let a = 0; a < above.n; a++) label[above.a[a]!] = -1;
  } else {
    const list = new IntList();
    for (let i = 0; i < npx; i++) if (filt[i]! > k * nf * bkg.noise[i]!) { label[i] = -1; list.push(i); }
    above = list;
  }
  const pix = new IntList();
  const stack = new IntList();
  const comps: { start: number; end: number }[] = [];
  for (let a = 0; a < above.n; a++) {
    const i0 = above.a[a]!;
    if (label[i0] !== -1) continue;
    const id = comps.length + 1;
    const start = pix.n;
    stack.n = 0;
    stack.push(i0);
    label[i0] = id;
    while (stack.n > 0) {
      const i = stack.a[--stack.n]!;
      pix.push(i);
      const x = i % width;
      const y = (i - x) / width;
      for (let dy = -1; dy <= 1; dy++) {
        const yy = y + dy;
        if (yy < 0 || yy >= height) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const xx = x + dx;
          if (xx < 0 || xx >= width) continue;
          const j = yy * width + xx;
          if (label[j] === -1) {
            label[j] = id;
            stack.push(j);
          }
        }
      }
    }
    comps.push({ start, end: pix.n });
  }
  return { pix, comps };
}

/** Local maxima of the filtered image among a component's pixels, brightest first. */
function localMaxima(p: Planes, cp: Int32Array): number[] {
  const { filt, width, height } = p;
  const peaks: number[] = [];
  for (const i of cp) {
    const v = filt[i]!;
    const x = i % width;
    const y = (i - x) / width;
    let isMax = true;
    for (let dy = -1; dy <= 1 && isMax; dy++) {
      const yy = y + dy;
      if (yy < 0 || yy >= height) continue;
      for (let dx = -1; dx <= 1; dx++) {
        if (!dx && !dy) continue;
        const xx = x + dx;
        if (xx < 0 || xx >= width) continue;
        const j = yy * width + xx;
        const u = filt[j]!;
        if (u > v || (u === v && j < i)) { isMax = false; break; }
      }
    }
    if (isMax) peaks.push(i);
  }
  peaks.sort((a, b) => filt[b]! - filt[a]!);
  return peaks;
}

/** Keeps a peak when the profile dips significantly between it and the nearest brighter kept peak. */
function significantPeaks(p: Planes, peaks: number[]): number[] {
  const { filt, width, bkg, nf } = p;
  const kept: number[] = [];
  for (const pk of peaks) {
    if (kept.length === 0) { kept.push(pk); continue; }
    const px = pk % width, py = (pk - px) / width;
    const nzf = nf * bkg.noise[pk]!;
    let best = -1, bd = Infinity;
    for (const q of kept) {
      const qx = q % width, qy = (q - qx) / width;
      const d = (qx - px) ** 2 + (qy - py) ** 2;
      if (d < bd) { bd = d; best = q; }
    }
    const qx = best % width, qy = (best - qx) / width;
    const steps = Math.ceil(Math.sqrt(bd) * 2);
    let saddle = Infinity;
    for (let s = 1; s < steps; s++) {
      const t = s / steps;
      const xx = Math.round(px + t * (qx - px)), yy = Math.round(py + t * (qy - py));
      saddle = Math.min(saddle, filt[yy * width + xx]!);
    }
    const vp = filt[pk]!;
    if (vp - saddle > Math.max(5 * nzf, 0.1 * vp) && Math.sqrt(bd) >= 2) kept.push(pk);
  }
  return kept;
}

/** Splits a component's pixels among its peaks (nearest peak wins). */
function splitByPeaks(p: Planes, cp: Int32Array, peaks: number[], id: number): Src[] {
  const { sub, width } = p;
  const groups: number[][] = peaks.map(() => []);
  const pxs = peaks.map((q) => q % width);
  const pys = peaks.map((q, j) => (q - pxs[j]!) / width);
  for (const i of cp) {
    const x = i % width, y = (i - x) / width;
    let b = 0, bd = Infinity;
    for (let j = 0; j < peaks.length; j++) {
      const d = (x - pxs[j]!) ** 2 + (y - pys[j]!) ** 2;
      if (d < bd) { bd = d; b = j; }
    }
    groups[b]!.push(i);
  }
  return peaks.map((peak, j) => {
    const g = Int32Array.from(groups[j]!);
    let pk = peak;
    for (const i of g) if (sub[i]! > sub[pk]!) pk = i;
    return { pixels: g, peakIdx: pk, blended: true, id };
  });
}

/** Sources: components of at least minArea pixels, deblended into children where they hold several peaks. */
function findSources(p: Planes, pix: IntList, comps: { start: number; end: number }[], minArea: number, deblend: boolean): Src[] {
  const sources: Src[] = [];
  for (let c = 0; c < comps.length; c++) {
    const { start, end } = comps[c]!;
    const area = end - start;
    if (area < minArea) continue;
    const cp = pix.a.subarray(start, end);
    const peaks = deblend && area >= 2 * minArea ? significantPeaks(p, localMaxima(p, cp)) : [];
    if (peaks.length <= 1) {
      let pk = cp[0]!;
      for (const i of cp) if (p.sub[i]! > p.sub[pk]!) pk = i;
      sources.push({ pixels: cp, peakIdx: pk, blended: false, id: c + 1 });
    } else sources.push(...splitByPeaks(p, cp, peaks, c + 1));
  }
  return sources;
}

/** A hot-pixel-like source: its (unsaturated) peak pixel holds most of the 3x3 signal. */
function isHotPixel(p: Planes, i: number, sat: number): boolean {
  const { sub, plane, width, height } = p;
  const x = i % width, y = (i - x) / width;
  let sum = 0;
  for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) {
    const xx = x + dx, yy = y + dy;
    if (xx < 0 || yy < 0 || xx >= width || yy >= height) continue;
    sum += Math.max(0, sub[yy * width + xx]!);
  }
  return sub[i]! > 0.7 * sum && !(plane[i]! >= sat);
}

/**
 * Indices of the sources that are not hot pixels (`hotTest` false: all), brightest (summed signal) first.
 */
function rankStarLike(p: Planes, sources: Src[], sat: number, hotTest = true): { good: number[]; hotPixels: number } {
  const { sub } = p;
  const good: number[] = [];
  let hotPixels = 0;
  for (let s = 0; s < sources.length; s++) {
    if (hotTest && isHotPixel(p, sources[s]!.peakIdx, sat)) { hotPixels++; continue; }
    good.push(s);
  }
  good.sort((a, b) => sub[sources[b]!.peakIdx]! - sub[sources[a]!.peakIdx]!);
  const sumOf = (s: Src): number => { let t = 0; for (const i of s.pixels) t += sub[i]!; return t; };
  const sums = new Map<number, number>();
  for (const s of good) sums.set(s, sumOf(sources[s]!));
  good.sort((a, b) => sums.get(b)! - sums.get(a)!);
  return { good, hotPixels };
}

/** First and second moments of a source's positive pixels; null when it has no positive signal. */
function moments(p: Planes, src: Src, sat: number): { m0: number; cx: number; cy: number; fwhm: number; saturated: boolean } | null {
  const { sub, plane, width } = p;
  let m0 = 0, mx = 0, my = 0, saturated = false;
  for (const i of src.pixels) {
    const v = sub[i]!;
    if (plane[i]! >= sat) saturated = true;
    if (v <= 0) continue;
    const x = i % width, y = (i - x) / width;
    m0 += v; mx += v * x; my += v * y;
  }
  if (!(m0 > 0)) return null;
  const cx = mx / m0, cy = my / m0;
  let mxx = 0, myy = 0;
  for (const i of src.pixels) {
    const v = sub[i]!;
    if (v <= 0) continue;
    const x = i % width, y = (i - x) / width;
    mxx += v * (x - cx) ** 2; myy += v * (y - cy) ** 2;
  }
  const sig = Math.sqrt(Math.max(0.25, (mxx + myy) / (2 * m0)));
  return { m0, cx, cy, fwhm: Math.max(1.5, 2.3548 * sig), saturated };
}

/** A window around a source: background-subtracted pixels, and weights that leave out other sources, saturated and NaN pixels. */
interface Window { data: Float32Array; weight: Float32Array; x0: number; y0: number; x1: number; y1: number; ww: number; wh: number; half: number }

function sourceWindow(p: Planes, src: Src, sIdx: number, fwhmEst: number, label: Int32Array, sat: number): Window {
  const { plane, width, height, bkg } = p;
  const half = Math.min(30, Math.max(5, Math.round(2 * fwhmEst) + 2));
  const px = src.peakIdx % width, py = (src.peakIdx - px) / width;
  const x0 = Math.max(0, px - half), x1 = Math.min(width - 1, px + half);
  const y0 = Math.max(0, py - half), y1 = Math.min(height - 1, py + half);
  const ww = x1 - x0 + 1, wh = y1 - y0 + 1;
  const data = new Float32Array(ww * wh);
  const weight = new Float32Array(ww * wh);
  for (let y = y0; y <= y1; y++) for (let x = x0; x <= x1; x++) {
    const i = y * width + x;
    const o = (y - y0) * ww + (x - x0);
    data[o] = plane[i]! - bkg.background[i]!;
    const l = label[i]!;
    weight[o] = (l > 0 && l !== sIdx + 1) || plane[i]! >= sat || !(plane[i] === plane[i]) ? 0 : 1;
  }
  return { data, weight, x0, y0, x1, y1, ww, wh, half };
}

/** HFR = sum(r v) / sum(v) within a radius of 3 FWHM, background-subtracted (the NINA/DSS definition). */
function halfFluxRadius(star: Star, w: Window, bOff: number, fwhm = star.fwhm): number {
  const rAp = Math.min(w.half, 3 * fwhm);
  let sr = 0, sv = 0;
  const rAp2 = rAp * rAp;
  for (let y = w.y0; y <= w.y1; y++) for (let x = w.x0; x <= w.x1; x++) {
    const ddx = x - star.x, ddy = y - star.y, r2 = ddx * ddx + ddy * ddy;
    if (r2 > rAp2) continue; // sqrt only inside the aperture (Math.hypot is several times slower)
    const r = Math.sqrt(r2);
    const v = w.data[(y - w.y0) * w.ww + (x - w.x0)]! - bOff;
    if (!(v === v)) continue;
    sr += r * v; sv += v;
  }
  return sv > 0 ? sr / sv : NaN;
}

interface MeasureContext { label: Int32Array; sat: number; psfKind: PsfKind; subsample: number; tolerance: number }

/**
 * Iterative Gaussian-windowed centroid (SExtractor's XWIN_IMAGE): x <- x + 2 sum(w v (xi - x)) / sum(w v), with
 * w = exp(-r^2 / (2 sigma^2)) over r < 4 sigma; null when it does not converge near the start.
 */
export function windowedCentroid(w: { data: Float32Array; weight: Float32Array; x0: number; y0: number; ww: number; wh: number }, x: number, y: number, sigma: number): { x: number; y: number } | null {
  const inv2s2 = 1 / (2 * sigma * sigma), rMax2 = 16 * sigma * sigma;
  let cx = x, cy = y;
  for (let it = 0; it < 16; it++) {
    let sw = 0, sx = 0, sy = 0;
    const ya = Math.max(0, Math.floor(cy - 4 * sigma) - w.y0), yb = Math.min(w.wh - 1, Math.ceil(cy + 4 * sigma) - w.y0);
    const xa = Math.max(0, Math.floor(cx - 4 * sigma) - w.x0), xb = Math.min(w.ww - 1, Math.ceil(cx + 4 * sigma) - w.x0);
    for (let j = ya; j <= yb; j++) {
      const dy = j + w.y0 - cy;
      for (let i = xa; i <= xb; i++) {
        const o = j * w.ww + i;
        const v = w.data[o]!;
        if (!(w.weight[o]! > 0) || !(v === v)) continue;
        const dx = i + w.x0 - cx, r2 = dx * dx + dy * dy;
        if (r2 >= rMax2) continue;
        const wv = Math.exp(-r2 * inv2s2) * v;
        sw += wv; sx += wv * dx; sy += wv * dy;
      }
    }
    if (!(sw > 0)) return null;
    const ddx = (2 * sx) / sw, ddy = (2 * sy) / sw;
    cx += ddx; cy += ddy;
    if (!(Math.abs(cx - x) < 2 && Math.abs(cy - y) < 2)) return null;
    if (ddx * ddx + ddy * ddy < 1e-8) break;
  }
  return { x: cx, y: cy };
}

type Moments = NonNullable<ReturnType<typeof moments>>;

/**
 * Measures one source from its moments: (when asked) a PSF fit, else (refineSigma > 0) a windowed centroid;
 * then HFR and SNR.
 */
function measureSource(p: Planes, src: Src, sIdx: number, m: Moments, fit: boolean, ctx: MeasureContext, refineSigma = 0): Star {
  const bkg0 = p.bkg.background[src.peakIdx]!;
  const peak = p.sub[src.peakIdx]!;
  const w = sourceWindow(p, src, sIdx, m.fwhm, ctx.label, ctx.sat);
  let star: Star = {
    x: m.cx, y: m.cy, flux: m.m0, peak, background: bkg0,
    fwhm: m.fwhm, fwhmMajor: m.fwhm, fwhmMinor: m.fwhm, eccentricity: 0, angle: 0,
    hfr: NaN, hfd: NaN, snr: NaN, area: src.pixels.length, saturated: m.saturated, blended: src.blended, fitted: false,
  };
  if (fit) {
    const f = fitPsf({ data: w.data, width: w.ww, height: w.wh, x0: w.x0, y0: w.y0, weight: w.weight }, ctx.psfKind, { x: m.cx, y: m.cy, fwhm: m.fwhm, amplitude: Math.max(peak, 1e-6), background: 0 }, ctx.subsample, 60, ctx.tolerance);
    if (f.ok && f.fwhm < 4 * m.fwhm + 4) {
      star = { ...star, x: f.x, y: f.y, flux: f.flux, fwhm: f.fwhm, fwhmMajor: f.fwhmMajor, fwhmMinor: f.fwhmMinor, eccentricity: f.eccentricity, angle: f.angle, fitted: true, background: star.background + f.background };
      if (ctx.psfKind === 'moffat') star.beta = f.beta;
    }
  }
  const refine = !star.fitted && refineSigma > 0;
  if (refine) {
    const c = windowedCentroid(w, m.cx, m.cy, refineSigma);
    if (c) { star.x = c.x; star.y = c.y; }
  }
  star.hfr = halfFluxRadius(star, w, star.background - bkg0, refine ? 2.3548 * refineSigma : star.fwhm);
  star.hfd = 2 * star.hfr;
  const rs = 1.5 * star.fwhm;
  star.snr = star.flux / (p.bkg.noise[src.peakIdx]! * Math.sqrt(Math.max(1, Math.PI * rs * rs)));
  return star;
}

/** No other source's pixel in the source's measurement window (and not a deblended child). */
function isIsolated(p: Planes, src: Src, sIdx: number, m: Moments, label: Int32Array): boolean {
  if (src.blended) return false;
  const { width, height } = p;
  const half = Math.min(30, Math.max(5, Math.round(2 * m.fwhm) + 2));
  const px = src.peakIdx % width, py = (src.peakIdx - px) / width;
  for (let y = Math.max(0, py - half); y <= Math.min(height - 1, py + half); y++) {
    for (let x = Math.max(0, px - half); x <= Math.min(width - 1, px + half); x++) {
      const l = label[y * width + x]!;
      if (l > 0 && l !== sIdx + 1) return false;
    }
  }
  return true;
}

/** Which of the candidates get a PSF fit: the first `maxFit` unsaturated ones (isolated ones first on request). */
function chooseFits(p: Planes, cands: { src: Src; sIdx: number; m: Moments }[], label: Int32Array, opts: DetectOptions): boolean[] {
  const fit = cands.map(() => false);
  if (!(opts.fit ?? true)) return fit;
  let left = opts.maxFit ?? 200;
  const passes = opts.fitIsolated ? [true, false] : [false];
  for (const isolatedOnly of passes) {
    for (let n = 0; n < cands.length && left > 0; n++) {
      const c = cands[n]!;
      if (fit[n] || c.m.saturated) continue;
      if (isolatedOnly && !isIsolated(p, c.src, c.sIdx, c.m, label)) continue;
      fit[n] = true;
      left--;
    }
  }
  return fit;
}

/**
 * Measures the candidates (in order, brightest first) up to `maxStars` stars: moments, PSF fits of the chosen
 * ones, then (refine) windowed centroids of the others.
 */
function measureAll(p: Planes, order: { src: Src; sIdx: number }[], label: Int32Array, opts: DetectOptions): { stars: Star[]; saturatedCount: number } {
  const sat = opts.saturation ?? Infinity;
  const ctx: MeasureContext = { label, sat, psfKind: opts.psf ?? 'gaussian', subsample: opts.subsample ?? 3, tolerance: opts.fitTolerance ?? 1e-9 };
  const limit = Math.min(order.length, opts.maxStars ?? Infinity);
  const cands: { src: Src; sIdx: number; m: Moments }[] = [];
  let saturatedCount = 0;
  for (let n = 0; n < limit; n++) {
    const { src, sIdx } = order[n]!;
    const m = moments(p, src, sat);
    if (!m) continue;
    if (m.saturated) saturatedCount++;
    cands.push({ src, sIdx, m });
  }
  const fit = chooseFits(p, cands, label, opts);
  const stars: (Star | undefined)[] = cands.map((c, n) => (fit[n] ? measureSource(p, c.src, c.sIdx, c.m, true, ctx) : undefined));
  const fitted = stars.filter((s): s is Star => !!s && s.fitted && !s.saturated);
  const sigma = opts.refine ? medianOf((fitted.length > 0 ? fitted : cands.map((c) => c.m)).map((s) => s.fwhm)) / 2.3548 : 0;
  for (let n = 0; n < cands.length; n++) {
    const c = cands[n]!;
    stars[n] ??= measureSource(p, c.src, c.sIdx, c.m, false, ctx, sigma > 0 ? sigma : 0);
  }
  return { stars: stars as Star[], saturatedCount };
}

export function detectStars(plane: Float32Array, width: number, height: number, opts: DetectOptions = {}): DetectResult {
  try {
    return opts.bin === 2 && width >= 32 && height >= 32 ? detectBinned(plane, width, height, opts) : detectFull(plane, width, height, opts);
  } finally {
    detectKernelDone();
  }
}

function detectFull(plane: Float32Array, width: number, height: number, opts: DetectOptions): DetectResult {
  const p = preparePlanes(plane, width, height, opts);
  const sat = opts.saturation ?? Infinity;
  const label = scratchPlane(0, width * height, Int32Array);
  const { pix, comps } = labelComponents(p, opts.k ?? 5, label);
  const sources = findSources(p, pix, comps, Math.max(1, opts.minArea ?? 5), opts.deblend ?? true);
  // relabel children so that measurement windows can exclude other sources' pixels
  for (let s = 0; s < sources.length; s++) for (const i of sources[s]!.pixels) label[i] = s + 1;
  const { good, hotPixels } = rankStarLike(p, sources, sat);
  const order = good.slice(0, Math.min(good.length, opts.maxStars ?? Infinity)).map((sIdx) => ({ src: sources[sIdx]!, sIdx }));
  const { stars, saturatedCount } = measureAll(p, order, label, opts);
  return { stars, hotPixels, saturatedCount, background: p.bkg };
}

/** The 2x2 mean (of the finite values) of a plane, and its decimation (the pixels at even x and y), both ceil(w/2) x ceil(h/2). */
function binAndDecimate(plane: Float32Array, width: number, height: number): { binned: Float32Array; decimated: Float32Array; bw: number; bh: number } {
  const bw = (width + 1) >> 1, bh = (height + 1) >> 1;
  const binned = keptPlane(0, bw * bh, Float32Array), decimated = keptPlane(1, bw * bh, Float32Array);
  for (let j = 0; j < bh; j++) {
    const r0 = 2 * j * width, r1 = Math.min(height - 1, 2 * j + 1) * width;
    for (let i = 0; i < bw; i++) {
      const x0 = 2 * i, x1 = Math.min(width - 1, x0 + 1);
      const a = plane[r0 + x0]!, b = plane[r0 + x1]!, c = plane[r1 + x0]!, d = plane[r1 + x1]!;
      let m = 0.25 * (a + b + c + d);
      if (!(m === m)) {
        let t = 0, n = 0;
        for (const v of [a, b, c, d]) if (v === v) { t += v; n++; }
        m = n > 0 ? t / n : NaN;
      }
      binned[j * bw + i] = m;
      decimated[j * bw + i] = a;
    }
  }
  return { binned, decimated, bw, bh };
}

/** A source found on the binned plane as full-resolution pixels (each binned pixel's 2x2), peak at the brightest. */
function expandSource(p: Planes, s: Src, bw: number): Src {
  const { sub, width, height } = p;
  const px = new IntList();
  let pk = -1;
  for (const b of s.pixels) {
    const bx = b % bw, by = (b - bx) / bw;
    for (let dy = 0; dy < 2; dy++) for (let dx = 0; dx < 2; dx++) {
      const x = 2 * bx + dx, y = 2 * by + dy;
      if (x >= width || y >= height) continue;
      const i = y * width + x;
      px.push(i);
      if (pk < 0 || sub[i]! > sub[pk]!) pk = i;
    }
  }
  return { pixels: px.a.slice(0, px.n), peakIdx: pk, blended: s.blended, id: s.id };
}

const TILE = 32;

/**
 * The full-resolution planes of a binned detection (background and noise from the decimated plane's mesh, the
 * residual, the binned labels expanded), filled tile by tile where sources are measured.
 */
class LazyPlanes {
  readonly p: Planes;
  readonly label: Int32Array;
  private readonly done: Uint8Array;
  private readonly tx: number;
  /** The WASM kernel's interpolation of both maps (null: the TS reference). */
  private rects: RectInterpolator | null = null;
  constructor(plane: Float32Array, width: number, height: number, private readonly mesh: BackgroundMesh, private readonly labelB: Int32Array, private readonly bw: number) {
    const npx = width * height;
    const sub = keptPlane(2, npx, Float32Array);
    const bkg: BackgroundMap = {
      background: keptPlane(3, npx, Float32Array), noise: keptPlane(4, npx, Float32Array), globalBackground: mesh.globalBackground,
      globalNoise: mesh.globalNoise, meshWidth: mesh.meshWidth, meshHeight: mesh.meshHeight,
    };
    this.p = { plane, sub, filt: sub, width, height, bkg, nf: 1 };
    this.label = keptPlane(5, npx, Int32Array);
    this.tx = Math.ceil(width / TILE);
    this.done = new Uint8Array(this.tx * Math.ceil(height / TILE));
    const kernel = detectKernel();
    if (kernel) {
      const xt = axisTables(mesh.meshWidth, mesh.boxW * 2, width), yt = axisTables(mesh.meshHeight, mesh.boxH * 2, height);
      this.rects = kernel.prepareRects(mesh.background, mesh.noise, mesh.meshWidth, mesh.meshHeight, xt, yt);
    }
  }

  /** Makes the pixels of the rectangle (inclusive, clipped to the frame) available. */
  ensure(xa: number, ya: number, xb: number, yb: number): void {
    const { width, height } = this.p;
    const ta = Math.max(0, Math.floor(xa / TILE)), tb = Math.floor(Math.min(width - 1, xb) / TILE);
    const ua = Math.max(0, Math.floor(ya / TILE)), ub = Math.floor(Math.min(height - 1, yb) / TILE);
    for (let u = ua; u <= ub; u++) for (let t = ta; t <= tb; t++) {
      if (this.done[u * this.tx + t]) continue;
      this.done[u * this.tx + t] = 1;
      this.fill(t * TILE, u * TILE, Math.min(width, (t + 1) * TILE), Math.min(height, (u + 1) * TILE));
    }
  }

  private fill(x0: number, y0: number, x1: number, y1: number): void {
    const { plane, sub, width, bkg } = this.p;
    if (!this.rects?.rect(bkg.background, bkg.noise, x0, y0, x1, y1)) {
      interpolateMeshRect(this.mesh, 'background', bkg.background, width, 2, x0, y0, x1, y1);
      interpolateMeshRect(this.mesh, 'noise', bkg.noise, width, 2, x0, y0, x1, y1);
    }
    for (let y = y0; y < y1; y++) {
      const ob = (y >> 1) * this.bw;
      for (let x = x0; x < x1; x++) {
        const i = y * width + x;
        const v = plane[i]! - bkg.background[i]!;
        sub[i] = v === v ? v : 0;
        this.label[i] = this.labelB[ob + (x >> 1)]!;
      }
    }
  }
}

/**
 * Detection on the 2x2-binned plane, measurement on the full plane: background and noise for the measurement
 * come from the decimated plane (full-resolution pixel statistics), hot pixels are recognized at full resolution.
 */
function detectBinned(plane: Float32Array, width: number, height: number, opts: DetectOptions): DetectResult {
  const { binned, decimated, bw, bh } = binAndDecimate(plane, width, height);
  const box = Math.max(8, Math.floor((opts.box ?? 64) / 2));
  const pB = preparePlanes(binned, bw, bh, { ...opts, box });
  const labelB = scratchPlane(1, bw * bh, Int32Array);
  const { pix, comps } = labelComponents(pB, opts.k ?? 5, labelB);
  const srcB = findSources(pB, pix, comps, Math.max(1, Math.ceil((opts.minArea ?? 5) / 4)), opts.deblend ?? true);
  for (let s = 0; s < srcB.length; s++) for (const i of srcB[s]!.pixels) labelB[i] = s + 1;
  const { good } = rankStarLike(pB, srcB, Infinity, false);
  const lazy = new LazyPlanes(plane, width, height, backgroundMesh(decimated, bw, bh, { ...opts, box }), labelB, bw);
  const sat = opts.saturation ?? Infinity;
  const limit = opts.maxStars ?? Infinity;
  const order: { src: Src; sIdx: number }[] = [];
  let hotPixels = 0;
  for (const sIdx of good) {
    if (order.length >= limit) break;
    const s = srcB[sIdx]!;
    let xa = Infinity, xb = -Infinity, ya = Infinity, yb = -Infinity;
    for (const b of s.pixels) {
      const bx = b % bw, by = (b - bx) / bw;
      xa = Math.min(xa, bx); xb = Math.max(xb, bx); ya = Math.min(ya, by); yb = Math.max(yb, by);
    }
    lazy.ensure(2 * xa - 32, 2 * ya - 32, 2 * xb + 33, 2 * yb + 33); // the measurement window's half is at most 30
    const src = expandSource(lazy.p, s, bw);
    if (isHotPixel(lazy.p, src.peakIdx, sat)) { hotPixels++; continue; }
    order.push({ src, sIdx });
  }
  const { stars, saturatedCount } = measureAll(lazy.p, order, lazy.label, opts);
  return { stars, hotPixels, saturatedCount, background: lazy.p.bkg };
}

/** Median of finite values of a numeric list (helper for frame metrics). */
export function medianOf(values: number[]): number {
  const a = Float64Array.from(values.filter((v) => Number.isFinite(v)));
  return medianInPlace(a, a.length);
}
