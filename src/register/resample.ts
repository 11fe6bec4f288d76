/**
 * Resampling of a plane through a transform (docs/algorithms.md#resampling). For each output pixel (reference grid) the source position is
 * `inv(H) (x, y)`; positions outside the source ([-0.5, w - 0.5) x [-0.5, h - 0.5)) give NaN, so
 * integration ignores them. Kernels: Lanczos-3 (default) with PixInsight-style clamping against ringing
 * (in each 1-D pass, when the negative-lobe contribution exceeds `clamp` (default 0.3) of the positive one,
 * the negative lobes are dropped; contributions are measured on the values as they are, so a bright pixel next to
 * the sky triggers it and smooth data do not), bicubic (Keys, a = -0.5), bilinear, nearest. Taps beyond the edge replicate it.
 * Lanczos-3 and bicubic run in the WASM-SIMD kernel (src/kernels/resample.ts) when it loads; the TS functions here
 * (warpSeparable, warpRowsStepped, warpRowsStepped32) are the reference it is bit-identical to (`DARKROOM_KERNEL=ts`
 * selects them). The general map of unclamped Lanczos-3 and bicubic is computed in float32 (warpRowsStepped32).
 */
import { Piscina } from 'piscina';
import { invert, type Mat3 } from './transform.js';
import type { WarpTask } from './warp-worker.js';
import { resampleKernel, resampleKernelDone, type SeparableTables } from '../kernels/resample.js';

export type Interp = 'lanczos3' | 'bicubic' | 'bilinear' | 'nearest';

const LUT_RES = 4096;
const LANCZOS = (() => {
  const t = new Float64Array(3 * LUT_RES + 2);
  for (let i = 0; i < t.length; i++) {
    const x = i / LUT_RES;
    if (x === 0) t[i] = 1;
    else if (x >= 3) t[i] = 0;
    else {
      const px = Math.PI * x;
      t[i] = (3 * Math.sin(px) * Math.sin(px / 3)) / (px * px);
    }
  }
  return t;
})();

/**
 * Phase tables of the float32 path (warpRowsStepped32): for each of PHASES phases k of the fraction t = s - floor(s)
 * (t = k / PHASES), the kernel's weights of its taps (Lanczos-3: floor(s) - 2 + i, i < 6; bicubic: floor(s) - 1 + i,
 * i < 4) from the exact formula, normalized to sum 1 in float64 and rounded to float32, zero-padded to 8 (4), then
 * their differences to phase k + 1 (float32). A weight is W + g D with g = 4096 t - k: the linear interpolation
 * of the LUT, done per phase (4 vector loads per axis instead of 6 table look-ups). Lanczos-3 at 0, 16 f32 per
 * phase; bicubic at PHASE_CUBIC_AT, 8 per phase (the layout of src/kernels/resample-simd.as).
 */
const PHASES = 4096;
const PHASE_CUBIC_AT = PHASES * 16;
export const PHASE_TABLES = (() => {
  const t = new Float32Array(PHASES * 16 + PHASES * 8);
  const lanczos = (d: number): number => {
    const x = Math.abs(d);
    if (x === 0) return 1;
    if (x >= 3) return 0;
    const px = Math.PI * x;
    return (3 * Math.sin(px) * Math.sin(px / 3)) / (px * px);
  };
  const fill = (at: number, n: number, k: (d: number) => number): void => {
    const stride = n === 6 ? 16 : 8, half = stride / 2;
    const ws = (p: number): Float32Array => {
      const f = p / PHASES, v = new Float64Array(n);
      let sum = 0;
      for (let i = 0; i < n; i++) { v[i] = k(f + n / 2 - 1 - i); sum += v[i]!; }
      return Float32Array.from(v, (x) => x / sum);
    };
    let cur = ws(0);
    for (let p = 0; p < PHASES; p++) {
      const next = ws(p + 1);
      for (let i = 0; i < n; i++) { t[at + p * stride + i] = cur[i]!; t[at + p * stride + half + i] = next[i]! - cur[i]!; }
      cur = next;
    }
  };
  fill(0, 6, lanczos);
  fill(PHASE_CUBIC_AT, 4, cubic);
  return t;
})();

function cubic(x: number): number {
  const a = Math.abs(x);
  if (a < 1) return (1.5 * a - 2.5) * a * a + 1;
  if (a < 2) return ((-0.5 * a + 2.5) * a - 4) * a + 2;
  return 0;
}

/**
 * One 1-D pass over n taps with PixInsight-style clamping (see the file comment). Values are taken as they are
 * (ADU >= 0, as PixInsight's [0, 1] data); negative data are shifted to >= 0 first.
 */
function clampedPass(vals: Float64Array, ws: Float64Array, wo: number, n: number, clamp: number): number {
  let m = 0;
  for (let i = 0; i < n; i++) if (vals[i]! < m) m = vals[i]!;
  let sp = 0, sn = 0, wp = 0;
  for (let i = 0; i < n; i++) {
    const wi = ws[wo + i]!;
    const t = (vals[i]! - m) * wi;
    if (wi < 0) sn -= t;
    else { sp += t; wp += wi; }
  }
  if (sp > 0 && sn / sp > clamp) return m + sp / wp;
  return m + sp - sn;
}

/** Kernel weights for the taps x0 .. x0 + n - 1 around position s, normalized to sum 1, into ws[wo ..]. */
function kernelWeights(s: number, x0: number, n: number, lanczos3: boolean, ws: Float64Array, wo: number): void {
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const d = s - (x0 + i);
    let k: number;
    if (lanczos3) {
      const a = (d < 0 ? -d : d) * LUT_RES;
      const li = a | 0;
      k = li >= 3 * LUT_RES ? 0 : LANCZOS[li]! + (a - li) * (LANCZOS[li + 1]! - LANCZOS[li]!);
    } else k = cubic(d);
    ws[wo + i] = k;
    sum += k;
  }
  const inv = 1 / sum;
  for (let i = 0; i < n; i++) ws[wo + i] = ws[wo + i]! * inv;
}

/**
 * True when the map is axis-aligned to within 1e-3 px over the output frame (corners checked): shift + scale, or a
 * fitted homography of a pure dither whose rotation and perspective terms are negligible.
 */
function nearlySeparable(inv: Mat3, outW: number, outH: number): boolean {
  const [a, b, c, d, e, f, g, k, l] = inv as unknown as number[];
  if (!(a! > 0 && e! > 0 && l! !== 0)) return false;
  for (const [x, y] of [[0, 0], [outW - 1, 0], [0, outH - 1], [outW - 1, outH - 1], [(outW - 1) / 2, (outH - 1) / 2]] as const) {
    const W = g! * x + k! * y + l!;
    const sx = (a! * x + b! * y + c!) / W, sy = (d! * x + e! * y + f!) / W;
    if (Math.abs(sx - (a! * x + c!) / l!) > 1e-3 || Math.abs(sy - (e! * y + f!) / l!) > 1e-3) return false;
  }
  return true;
}

/** One resampling job: a source plane, the output -> source map and the output grid. */
export interface Warp {
  src: Float32Array;
  w: number;
  h: number;
  /** Output -> source map (row-major 3 x 3). */
  inv: Mat3;
  outW: number;
  outH: number;
  interp: Interp;
  /** Lanczos-3 ringing clamp (0 = off). */
  clamp: number;
}

/** Warp `src` (w x h) to an outW x outH plane; `H` maps source (frame) coordinates to output coordinates. */
export function warpPlane(src: Float32Array, w: number, h: number, H: Mat3, outW: number, outH: number, interp: Interp = 'lanczos3', clamp = 0.3): Float32Array {
  const out = new Float32Array(outW * outH);
  warpRows({ src, w, h, inv: invert(H), outW, outH, interp, clamp }, out, 0, outH);
  return out;
}

/** Kernel radius in taps on each side. */
function radiusOf(interp: Interp): number {
  return interp === 'lanczos3' ? 3 : interp === 'bicubic' ? 2 : 1;
}

/**
 * Output rows [oy0, oy1) of a warp into `out` (a full outW x outH plane).
 * The kernel weights are computed once per output column and once per row when the map is axis-aligned
 * (shift + scale, the usual case for dithered frames), else per pixel from a LUT; nothing is allocated per pixel.
 * `direct`: the reference per-pixel path (full matrix product and generic 1-D passes per pixel), kept for tests.
 */
export function warpRows(job: Warp, out: Float32Array, oy0: number, oy1: number, direct = false): void {
  const windowed = !direct && (job.interp === 'lanczos3' || job.interp === 'bicubic');
  const separable = windowed && nearlySeparable(job.inv, job.outW, job.outH);
  if (windowed && oy1 > oy0 && job.outW > 0 && job.w > 0 && job.h > 0 && warpRowsWasm(job, out, oy0, oy1, separable)) return;
  if (separable) warpSeparable(job, out, oy0, oy1);
  else if (windowed && clampedLanczos(job)) warpRowsStepped(job, out, oy0, oy1);
  else if (windowed) warpRowsStepped32(job, out, oy0, oy1);
  else warpDirect(job, out, oy0, oy1);
}

/**
 * A windowed warp in the WASM-SIMD kernel (bit-identical to warpSeparable / warpRowsStepped); false when the kernel
 * is not available or its memory cannot grow (RangeError): the TS reference runs then.
 */
function warpRowsWasm(job: Warp, out: Float32Array, oy0: number, oy1: number, separable: boolean): boolean {
  const k = resampleKernel();
  if (!k) return false;
  try {
    if (separable) k.separable(job, separableTables(job, oy0, oy1), out, oy0, oy1);
    else if (clampedLanczos(job)) k.stepped(job, job.inv, job.clamp, LANCZOS, out, oy0, oy1);
    else k.stepped32(job, job.inv, job.interp === 'lanczos3', PHASE_TABLES, out, oy0, oy1);
    return true;
  } catch (e) {
    if (e instanceof RangeError) return false;
    throw e;
  } finally {
    resampleKernelDone();
  }
}

/** Lanczos-3 with the ringing clamp: the general map runs in float64 (warpRowsStepped); otherwise in float32 (warpRowsStepped32). */
function clampedLanczos(job: Warp): boolean {
  return job.interp === 'lanczos3' && job.clamp > 0;
}

/** The tables of the WASM separable path: columnTables, and per output row of [oy0, oy1) its first tap, weights and flag. */
function separableTables(job: Warp, oy0: number, oy1: number): SeparableTables {
  const { h, inv } = job;
  const radius = radiusOf(job.interp), n = 2 * radius;
  const isL = job.interp === 'lanczos3';
  const rows = oy1 - oy0;
  const rowY0 = new Int32Array(rows), rowW = new Float64Array(rows * n), rowOk = new Uint8Array(rows);
  for (let r = 0; r < rows; r++) {
    const ry = (inv[4]! * (oy0 + r) + inv[5]!) / inv[8]!; // as warpSeparable
    rowOk[r] = ry >= -0.5 && ry < h - 0.5 ? 1 : 0;
    rowY0[r] = Math.floor(ry) - radius + 1;
    kernelWeights(ry, rowY0[r]!, n, isL, rowW, r * n);
  }
  return { n, doClamp: isL && job.clamp > 0, clamp: job.clamp, ...columnTables(job, n), rowY0, rowW, rowOk };
}

/** Per-column tap origins, weights and in-frame flags of an axis-aligned map. */
function columnTables(job: Warp, n: number): { colX0: Int32Array; colW: Float64Array; colOk: Uint8Array } {
  const { inv, outW, w } = job;
  const radius = n / 2;
  const isL = job.interp === 'lanczos3';
  const colX0 = new Int32Array(outW), colW = new Float64Array(outW * n), colOk = new Uint8Array(outW);
  for (let ox = 0; ox < outW; ox++) {
    const sx = (inv[0]! * ox + inv[2]!) / inv[8]!; // separable approximation: the cross and perspective terms are < 1e-3 px
    colOk[ox] = sx >= -0.5 && sx < w - 0.5 ? 1 : 0;
    const x0 = Math.floor(sx) - radius + 1;
    colX0[ox] = x0;
    kernelWeights(sx, x0, n, isL, colW, ox * n);
  }
  return { colX0, colW, colOk };
}

/**
 * Axis-aligned map, two passes: each needed source row is filtered horizontally once per output column (into tmp),
 * then each output pixel is one vertical pass over tmp; the same numbers as the direct form, ~n times fewer row passes.
 */
function warpSeparable(job: Warp, out: Float32Array, oy0: number, oy1: number): void {
  const { src, w, h, inv, outW, clamp } = job;
  const radius = radiusOf(job.interp), n = 2 * radius;
  const isL = job.interp === 'lanczos3';
  const doClamp = isL && clamp > 0;
  const i4 = inv[4]!, i5 = inv[5]!, i8 = inv[8]!;
  const { colX0, colW, colOk } = columnTables(job, n);
  const wy = new Float64Array(n), col = new Float64Array(n), rowVals = new Float64Array(n);
  const CH = 128;
  const rowIdx = new Int32Array(n);
  for (let b0 = oy0; b0 < oy1; b0 += CH) {
    const b1 = Math.min(oy1, b0 + CH);
    const ylo = Math.floor((i4 * b0 + i5) / i8) - radius + 1, yhi = Math.floor((i4 * (b1 - 1) + i5) / i8) + radius;
    const ya = Math.min(Math.max(0, Math.min(ylo, yhi)), h - 1), yb = Math.max(0, Math.min(h - 1, Math.max(ylo, yhi)));
    const tmp = new Float64Array((yb - ya + 1) * outW);
    for (let yy = ya; yy <= yb; yy++) {
      const row = yy * w, to = (yy - ya) * outW;
      for (let ox = 0; ox < outW; ox++) {
        const x0 = colX0[ox]!, wxo = ox * n;
        let s = 0;
        if (doClamp) {
          if (x0 >= 0 && x0 + n <= w) for (let i = 0; i < n; i++) rowVals[i] = src[row + x0 + i]!;
          else for (let i = 0; i < n; i++) { const xx = x0 + i; rowVals[i] = src[row + (xx < 0 ? 0 : xx >= w ? w - 1 : xx)]!; }
          s = clampedPass(rowVals, colW, wxo, n, clamp);
        } else if (x0 >= 0 && x0 + n <= w) {
          for (let i = 0; i < n; i++) s += src[row + x0 + i]! * colW[wxo + i]!;
        } else {
          for (let i = 0; i < n; i++) { const xx = x0 + i; s += src[row + (xx < 0 ? 0 : xx >= w ? w - 1 : xx)]! * colW[wxo + i]!; }
        }
        tmp[to + ox] = s;
      }
    }
    for (let oy = b0; oy < b1; oy++) {
      const ry = (i4 * oy + i5) / i8;
      const rowOk = ry >= -0.5 && ry < h - 0.5;
      const y0 = Math.floor(ry) - radius + 1;
      kernelWeights(ry, y0, n, isL, wy, 0);
      for (let j = 0; j < n; j++) { let yy = y0 + j; yy = yy < 0 ? 0 : yy >= h ? h - 1 : yy; rowIdx[j] = (yy - ya) * outW; }
      for (let ox = 0; ox < outW; ox++) {
        const o = oy * outW + ox;
        if (!rowOk || colOk[ox] === 0) { out[o] = NaN; continue; }
        if (doClamp) {
          for (let j = 0; j < n; j++) col[j] = tmp[rowIdx[j]! + ox]!;
          out[o] = clampedPass(col, wy, 0, n, clamp);
        } else {
          let s = 0;
          for (let j = 0; j < n; j++) s += tmp[rowIdx[j]! + ox]! * wy[j]!;
          out[o] = s;
        }
      }
    }
  }
}

/** Bilinear interpolation at (sx, sy), edges replicated. */
function bilinearAt(src: Float32Array, w: number, h: number, sx: number, sy: number): number {
  const x0 = Math.floor(sx), y0 = Math.floor(sy);
  const fx = sx - x0, fy = sy - y0;
  const xa = Math.max(0, x0), xb = Math.min(w - 1, x0 + 1), ya = Math.max(0, y0), yb = Math.min(h - 1, y0 + 1);
  return (1 - fy) * ((1 - fx) * src[ya * w + xa]! + fx * src[ya * w + xb]!) + fy * ((1 - fx) * src[yb * w + xa]! + fx * src[yb * w + xb]!);
}

/** Scratch buffers of the generic windowed kernel. */
interface Taps { wx: Float64Array; wy: Float64Array; col: Float64Array; rowVals: Float64Array }

/** The generic windowed kernel (Lanczos-3 or bicubic) at (sx, sy): n horizontal 1-D passes, then a vertical one. */
function windowedAt(job: Warp, sx: number, sy: number, t: Taps): number {
  const { src, w, h, clamp } = job;
  const radius = radiusOf(job.interp), n = 2 * radius;
  const isL = job.interp === 'lanczos3';
  const doClamp = isL && clamp > 0;
  const x0 = Math.floor(sx) - radius + 1;
  const y0 = Math.floor(sy) - radius + 1;
  kernelWeights(sx, x0, n, isL, t.wx, 0);
  kernelWeights(sy, y0, n, isL, t.wy, 0);
  const interiorX = x0 >= 0 && x0 + n <= w;
  for (let j = 0; j < n; j++) {
    let yy = y0 + j;
    yy = yy < 0 ? 0 : yy >= h ? h - 1 : yy;
    const row = yy * w;
    let s = 0;
    if (doClamp) {
      if (interiorX) for (let i = 0; i < n; i++) t.rowVals[i] = src[row + x0 + i]!;
      else for (let i = 0; i < n; i++) { const xx = x0 + i; t.rowVals[i] = src[row + (xx < 0 ? 0 : xx >= w ? w - 1 : xx)]!; }
      s = clampedPass(t.rowVals, t.wx, 0, n, clamp);
    } else if (interiorX) {
      for (let i = 0; i < n; i++) s += src[row + x0 + i]! * t.wx[i]!;
    } else {
      for (let i = 0; i < n; i++) { const xx = x0 + i; s += src[row + (xx < 0 ? 0 : xx >= w ? w - 1 : xx)]! * t.wx[i]!; }
    }
    t.col[j] = s;
  }
  if (doClamp) return clampedPass(t.col, t.wy, 0, n, clamp);
  let s = 0;
  for (let j = 0; j < n; j++) s += t.col[j]! * t.wy[j]!;
  return s;
}

/** The reference path: a full matrix product per pixel, then the kernel (nearest, bilinear or windowed). */
function warpDirect(job: Warp, out: Float32Array, oy0: number, oy1: number): void {
  const { src, w, h, inv, outW, interp } = job;
  const n = 2 * radiusOf(interp);
  const t: Taps = { wx: new Float64Array(n), wy: new Float64Array(n), col: new Float64Array(n), rowVals: new Float64Array(n) };
  const i0 = inv[0]!, i1 = inv[1]!, i2 = inv[2]!, i3 = inv[3]!, i4 = inv[4]!, i5 = inv[5]!, i6 = inv[6]!, i7 = inv[7]!, i8 = inv[8]!;
  for (let oy = oy0; oy < oy1; oy++) {
    for (let ox = 0; ox < outW; ox++) {
      const o = oy * outW + ox;
      const iw = 1 / (i6 * ox + i7 * oy + i8);
      const sx = (i0 * ox + i1 * oy + i2) * iw;
      const sy = (i3 * ox + i4 * oy + i5) * iw;
      if (!(sx >= -0.5 && sx < w - 0.5 && sy >= -0.5 && sy < h - 0.5)) out[o] = NaN;
      else if (interp === 'nearest') out[o] = src[Math.round(sy) * w + Math.round(sx)]!;
      else if (interp === 'bilinear') out[o] = bilinearAt(src, w, h, sx, sy);
      else out[o] = windowedAt(job, sx, sy, t);
    }
  }
}

/**
 * General (affine or projective) map, clamped Lanczos-3 (float64; unclamped Lanczos-3 and bicubic: warpRowsStepped32),
 * output rows [oy0, oy1): the homogeneous source position
 * (X, Y, W) = inv (ox, oy, 1) is stepped along each output row (X += inv[0], Y += inv[3], W += inv[6]; restarted
 * exactly at each row start), so a pixel costs three additions and one division (none for affine maps) instead of a
 * matrix product. Lanczos-3 is unrolled (6 x 6 taps read straight from the source, weights in registers from the same
 * LUT, the clamped 1-D passes inlined with the arithmetic of `clampedPass`); nothing is allocated per pixel.
 */
function warpRowsStepped(job: Warp, out: Float32Array, oy0: number, oy1: number): void {
  const { src, w, h, inv, outW, clamp } = job;
  const i0 = inv[0]!, i1 = inv[1]!, i2 = inv[2]!, i3 = inv[3]!, i4 = inv[4]!, i5 = inv[5]!, i6 = inv[6]!, i7 = inv[7]!, i8 = inv[8]!;
  const affine = i6 === 0 && i7 === 0;
  const invW = 1 / i8;
  const xmax = w - 0.5, ymax = h - 0.5;
  const cl = clamp;
  const wx = new Float64Array(6), wy = new Float64Array(6), col = new Float64Array(6);
  const L3 = 3 * LUT_RES;
  for (let oy = oy0; oy < oy1; oy++) {
    let X = i1 * oy + i2, Y = i4 * oy + i5, Wd = i7 * oy + i8;
    const ob = oy * outW;
    for (let ox = 0; ox < outW; ox++, X += i0, Y += i3, Wd += i6) {
      let sx: number, sy: number;
      if (affine) { sx = X * invW; sy = Y * invW; } else { const iw = 1 / Wd; sx = X * iw; sy = Y * iw; }
      if (!(sx >= -0.5 && sx < xmax && sy >= -0.5 && sy < ymax)) { out[ob + ox] = NaN; continue; }
      const fx = Math.floor(sx), fy = Math.floor(sy);
      const x0 = fx - 2, y0 = fy - 2;
      // weights, normalized to sum 1 (kernelWeights' arithmetic, written out: no calls with number arguments here,
      // which V8 would box when it stops inlining)
      let sa = 0, sb = 0;
      for (let i = 0; i < 6; i++) {
        let d = sx - (x0 + i);
        let a = (d < 0 ? -d : d) * LUT_RES;
        let li = a | 0;
        let k = li >= L3 ? 0 : LANCZOS[li]! + (a - li) * (LANCZOS[li + 1]! - LANCZOS[li]!);
        wx[i] = k; sa += k;
        d = sy - (y0 + i);
        a = (d < 0 ? -d : d) * LUT_RES;
        li = a | 0;
        k = li >= L3 ? 0 : LANCZOS[li]! + (a - li) * (LANCZOS[li + 1]! - LANCZOS[li]!);
        wy[i] = k; sb += k;
      }
      sa = 1 / sa; sb = 1 / sb;
      const a0 = wx[0]! * sa, a1 = wx[1]! * sa, a2 = wx[2]! * sa, a3 = wx[3]! * sa, a4 = wx[4]! * sa, a5 = wx[5]! * sa;
      const interior = x0 >= 0 && x0 + 6 <= w;
      const e = w - 1;
      const x_0 = x0 < 0 ? 0 : x0 > e ? e : x0, x_1 = x0 + 1 < 0 ? 0 : x0 + 1 > e ? e : x0 + 1, x_2 = x0 + 2 < 0 ? 0 : x0 + 2 > e ? e : x0 + 2;
      const x_3 = x0 + 3 < 0 ? 0 : x0 + 3 > e ? e : x0 + 3, x_4 = x0 + 4 < 0 ? 0 : x0 + 4 > e ? e : x0 + 4, x_5 = x0 + 5 < 0 ? 0 : x0 + 5 > e ? e : x0 + 5;
      // six horizontal clamped passes (clampedPass' arithmetic and order), then the vertical one
      for (let j = 0; j < 7; j++) {
        let v0: number, v1: number, v2: number, v3: number, v4: number, v5: number;
        let w0: number, w1: number, w2: number, w3: number, w4: number, w5: number;
        if (j < 6) {
          const yy = y0 + j;
          const r = (yy < 0 ? 0 : yy >= h ? h - 1 : yy) * w;
          if (interior) {
            const b = r + x0;
            v0 = src[b]!; v1 = src[b + 1]!; v2 = src[b + 2]!; v3 = src[b + 3]!; v4 = src[b + 4]!; v5 = src[b + 5]!;
          } else {
            v0 = src[r + x_0]!; v1 = src[r + x_1]!; v2 = src[r + x_2]!; v3 = src[r + x_3]!; v4 = src[r + x_4]!; v5 = src[r + x_5]!;
          }
          w0 = a0; w1 = a1; w2 = a2; w3 = a3; w4 = a4; w5 = a5;
        } else {
          v0 = col[0]!; v1 = col[1]!; v2 = col[2]!; v3 = col[3]!; v4 = col[4]!; v5 = col[5]!;
          w0 = wy[0]! * sb; w1 = wy[1]! * sb; w2 = wy[2]! * sb; w3 = wy[3]! * sb; w4 = wy[4]! * sb; w5 = wy[5]! * sb;
        }
        let m = 0;
        if (v0 < m) m = v0;
        if (v1 < m) m = v1;
        if (v2 < m) m = v2;
        if (v3 < m) m = v3;
        if (v4 < m) m = v4;
        if (v5 < m) m = v5;
        let sp = 0, sn = 0, wp = 0, t: number;
        t = (v0 - m) * w0; if (w0 < 0) sn -= t; else { sp += t; wp += w0; }
        t = (v1 - m) * w1; if (w1 < 0) sn -= t; else { sp += t; wp += w1; }
        t = (v2 - m) * w2; if (w2 < 0) sn -= t; else { sp += t; wp += w2; }
        t = (v3 - m) * w3; if (w3 < 0) sn -= t; else { sp += t; wp += w3; }
        t = (v4 - m) * w4; if (w4 < 0) sn -= t; else { sp += t; wp += w4; }
        t = (v5 - m) * w5; if (w5 < 0) sn -= t; else { sp += t; wp += w5; }
        const res = sp > 0 && sn / sp > cl ? m + sp / wp : m + sp - sn;
        if (j < 6) col[j] = res;
        else out[ob + ox] = res;
      }
    }
  }
}

/**
 * General map, unclamped Lanczos-3 or bicubic, output rows [oy0, oy1), in float32 arithmetic: the reference of the
 * WASM kernel's float32 path (resample-simd.as stepped32), bit for bit. Positions are stepped as in warpRowsStepped
 * (float64); the weights come from PHASE_TABLES; per tap column i, c_i = sum_j b_j v_ji over the tap rows in order,
 * then p_i = c_i a_i and the result ((p0 + p2) + p4) + ((p1 + p3) + p5) (bicubic (p0 + p2) + (p1 + p3)); every
 * product and sum is rounded to float32 (Math.fround, or a store into a Float32Array), as the kernel's f32x4 lanes do.
 * Within 1e-5 of the local range of the float64 path (test/kernels/resample.test.ts).
 */
function warpRowsStepped32(job: Warp, out: Float32Array, oy0: number, oy1: number): void {
  const { src, w, h, inv, outW } = job;
  const isL = job.interp === 'lanczos3';
  const n = isL ? 6 : 4, stride = isL ? 16 : 8, half = stride / 2, at = isL ? 0 : PHASE_CUBIC_AT, r = isL ? 2 : 1;
  const T = PHASE_TABLES, f = Math.fround;
  const i0 = inv[0]!, i1 = inv[1]!, i2 = inv[2]!, i3 = inv[3]!, i4 = inv[4]!, i5 = inv[5]!, i6 = inv[6]!, i7 = inv[7]!, i8 = inv[8]!;
  const affine = i6 === 0 && i7 === 0;
  const invW = 1 / i8;
  const xmax = w - 0.5, ymax = h - 0.5;
  const wx = new Float32Array(n), wy = new Float32Array(n), c = new Float32Array(n), p = new Float32Array(n);
  const cols = new Int32Array(n);
  for (let oy = oy0; oy < oy1; oy++) {
    let X = i1 * oy + i2, Y = i4 * oy + i5, Wd = i7 * oy + i8;
    const ob = oy * outW;
    for (let ox = 0; ox < outW; ox++, X += i0, Y += i3, Wd += i6) {
      let sx: number, sy: number;
      if (affine) { sx = X * invW; sy = Y * invW; } else { const iw = 1 / Wd; sx = X * iw; sy = Y * iw; }
      if (!(sx >= -0.5 && sx < xmax && sy >= -0.5 && sy < ymax)) { out[ob + ox] = NaN; continue; }
      const fx = Math.floor(sx), fy = Math.floor(sy);
      const ax = (sx - fx) * PHASES, ay = (sy - fy) * PHASES;
      const kx = Math.min(ax | 0, PHASES - 1), ky = Math.min(ay | 0, PHASES - 1); // s - floor(s) is 1 for s = -1e-17
      const gx = f(ax - kx), gy = f(ay - ky);
      const bx = at + kx * stride, by = at + ky * stride;
      for (let i = 0; i < n; i++) {
        wx[i] = T[bx + i]! + f(gx * T[bx + half + i]!);
        wy[i] = T[by + i]! + f(gy * T[by + half + i]!);
        const xx = fx - r + i;
        cols[i] = xx < 0 ? 0 : xx >= w ? w - 1 : xx;
      }
      for (let j = 0; j < n; j++) {
        const yy = fy - r + j;
        const row = (yy < 0 ? 0 : yy >= h ? h - 1 : yy) * w;
        const b = wy[j]!;
        for (let i = 0; i < n; i++) {
          const t = f(b * src[row + cols[i]!]!);
          c[i] = j === 0 ? t : c[i]! + t;
        }
      }
      for (let i = 0; i < n; i++) p[i] = c[i]! * wx[i]!;
      out[ob + ox] = isL ? f(f(p[0]! + p[2]!) + p[4]!) + f(f(p[1]! + p[3]!) + p[5]!) : f(p[0]! + p[2]!) + f(p[1]! + p[3]!);
    }
  }
}

/** Frames above this many output pixels go to the worker pool (when one is given with more than one thread). */
export const PARALLEL_MIN_PIXELS = 2_000_000;

function warpWorkerUrl(): URL {
  const here = import.meta.url;
  return here.endsWith('.ts') ? new URL('./warp-worker.ts', here) : new URL('./warp-worker.js', here);
}

/**
 * A pool of resampling threads (piscina). Create one per batch of frames and `close()` it at the end; `warp` falls
 * back to the synchronous path for small frames (fewer than `minPixels` output pixels) or one thread.
 */
export class WarpPool {
  readonly workers: number;
  readonly minPixels: number;
  private pool: Piscina<WarpTask, number> | null = null;
  constructor(workers: number, minPixels = PARALLEL_MIN_PIXELS) {
    this.workers = Math.max(1, Math.floor(workers));
    this.minPixels = minPixels;
  }

  async warp(src: Float32Array, w: number, h: number, H: Mat3, outW: number, outH: number, interp: Interp = 'lanczos3', clamp = 0.3): Promise<Float32Array> {
    if (this.workers <= 1 || outW * outH < this.minPixels) return warpPlane(src, w, h, H, outW, outH, interp, clamp);
    this.pool ??= new Piscina<WarpTask, number>({ filename: warpWorkerUrl().href, minThreads: this.workers, maxThreads: this.workers, idleTimeout: 1000 });
    let sab: SharedArrayBuffer;
    if (src.buffer instanceof SharedArrayBuffer && src.byteOffset === 0) sab = src.buffer;
    else { sab = new SharedArrayBuffer(w * h * 4); new Float32Array(sab).set(src.subarray(0, w * h)); }
    const outSab = new SharedArrayBuffer(outW * outH * 4);
    const inv = Array.from(invert(H));
    // bands of rows, several per thread so that uneven bands (NaN borders are cheap) balance out
    const bands = Math.min(outH, this.workers * 4);
    const jobs: Promise<number>[] = [];
    for (let k = 0; k < bands; k++) {
      const oy0 = Math.floor((k * outH) / bands), oy1 = Math.floor(((k + 1) * outH) / bands);
      if (oy1 > oy0) jobs.push(this.pool.run({ src: sab, w, h, inv, outW, outH, interp, clamp, out: outSab, oy0, oy1 }));
    }
    await Promise.all(jobs);
    return new Float32Array(outSab);
  }

  async close(): Promise<void> {
    const p = this.pool;
    this.pool = null;
    if (p) await p.destroy();
  }
}
