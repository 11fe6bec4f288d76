/**
 * Picture quality of a stack against the simulator's truth, on the stack's own grid (issue 15's metrics):
 *   nb4      robust sigma (1.4826 MAD) of 4x4 block means of the sky residual, times 4, over the ideal
 *            per-pixel noise of the stack (sqrt(sky t + dark t + RON^2) / gain / sqrt(N), in truth ADU).
 *            Block means of 16 pixels are immune to the smoothing of interpolation, so nb4 measures
 *            real noise: 1 is a perfect stack of N frames with noiseless masters.
 *   large    peak-to-valley (1..99 %) of a degree-4 polynomial fitted to 16x16 block medians of the
 *            residual, in % of the sky; blk: rms of the block medians around that surface, in %.
 *            (largem, blkm: the same from clipped block means, which no resampling kernel changes; diagnostics.)
 *   outliers pixels of star-free sky beyond 8 sigma of the residual, per million.
 *   hfd      median half-flux diameter (px) of the stack's bright unsaturated stars.
 *   phot     robust scatter (1.4826 MAD / median, %) of aperture flux / true flux over isolated stars.
 * The residual is (stack - a truth - b) / a: a is the median aperture flux ratio (so photometric
 * scale is free, as in a stack normalized to any reference), b the median sky offset.
 * Pure functions on planes; `truthOnGrid` maps a truth plane onto a stack by matching their stars.
 */
import { Matrix, solve } from 'ml-matrix';
import { MAD_TO_SIGMA, median } from '../image/stats.js';
import { detectStars, type Star } from '../stars/detect.js';
import { matchStars } from '../register/match.js';
import { warpPlane } from '../register/resample.js';
import type { Mat3 } from '../register/transform.js';
import { Rng } from '../util/random.js';

export interface QualityMetrics {
  nb4: number;
  large: number;
  blk: number;
  outliers: number;
  hfd: number;
  phot: number;
  /** Photometric scale stack / truth and sky offset (stack units). */
  a: number;
  b: number;
  /** Diagnostics: nb4's definition with 8x8 blocks (less sensitive to interpolation) and with single pixels (fully sensitive). */
  nb8: number;
  npix: number;
  /**
   * The noise at zero spatial frequency over the ideal: sqrt of the sum of the residual's autocovariance
   * over lags |dx|, |dy| <= 4 (noiseLowFrequency). A resampling kernel that sums to 1 moves noise between
   * neighbours but keeps this sum, so nlf is the one noise figure that no kernel (bilinear, Lanczos) changes.
   */
  nlf: number;
  /**
   * large and blk from clipped 16x16 block means (largeScaleClipped) instead of medians. A median of correlated
   * pixels is not linear: its noise grows with the pixel noise, which the kernel sets (for the same noise at zero
   * frequency, Lanczos-3's block medians scatter ~8% more than bilinear's, white noise at random shifts), while a mean's
   * noise is the noise at zero frequency, the same for every kernel.
   */
  largem: number;
  blkm: number;
  /** Isolated stars used for phot, pure-sky pixels used for the noise metrics. */
  photStars: number;
  skyPixels: number;
}

export interface QualityInput {
  /** The stack plane and the truth plane on the same grid (truth in ADU of one light, sky included). */
  stack: Float32Array;
  truth: Float32Array;
  width: number;
  height: number;
  /** Truth sky level (ADU of one light). */
  sky: number;
  /** Ideal per-pixel noise of the stack in truth ADU. */
  idealSigma: number;
  /** Pixels to ignore at each border (dither, partial coverage). Default 16. */
  margin?: number;
  /** Pixels where the grid is not covered by the truth (0) are excluded; default all covered. */
  coverage?: Float32Array;
  /** Truth peaks (star signal above sky, ADU) above this are saturated stars, left out of phot and hfd. */
  saturation?: number;
  /** Least aperture SNR (ideal noise) of a phot star, default 500: noise then adds at most 0.2 % to phot. */
  photSnr?: number;
}

/** 1.4826 MAD of the values. */
export function robustSigma(values: ArrayLike<number>): number {
  const m = median(values);
  const d = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) d[i] = Math.abs(values[i]! - m);
  return MAD_TO_SIGMA * median(d);
}

/** Block statistic (mean or median) of the masked pixels of each full bs x bs block; blocks under minFrac masked coverage are NaN. */
export function blockStat(plane: ArrayLike<number>, mask: Uint8Array, width: number, height: number, bs: number, stat: 'mean' | 'median', minFrac = 1): { values: Float64Array; bw: number; bh: number } {
  const bw = Math.floor(width / bs);
  const bh = Math.floor(height / bs);
  const values = new Float64Array(bw * bh).fill(NaN);
  const buf = new Float64Array(bs * bs);
  for (let by = 0; by < bh; by++) {
    for (let bx = 0; bx < bw; bx++) {
      let n = 0;
      for (let y = by * bs; y < (by + 1) * bs; y++) for (let x = bx * bs; x < (bx + 1) * bs; x++) if (mask[y * width + x]) buf[n++] = plane[y * width + x]!;
      if (n < minFrac * bs * bs || n === 0) continue;
      if (stat === 'median') values[by * bw + bx] = median(buf.subarray(0, n));
      else {
        let s = 0;
        for (let i = 0; i < n; i++) s += buf[i]!;
        values[by * bw + bx] = s / n;
      }
    }
  }
  return { values, bw, bh };
}

/** Monomials x^i y^j with i + j <= degree, on coordinates scaled to [-1, 1]. */
function monomials(x: number, y: number, degree: number): number[] {
  const out: number[] = [];
  for (let i = 0; i <= degree; i++) for (let j = 0; j <= degree - i; j++) out.push(x ** i * y ** j);
  return out;
}

/** Least-squares 2-D polynomial of `degree` through (x, y, v) points; returns an evaluator (same coordinates). */
export function fitPoly2D(xs: number[], ys: number[], vs: number[], degree: number, width: number, height: number): (x: number, y: number) => number {
  const sx = 2 / Math.max(1, width);
  const sy = 2 / Math.max(1, height);
  const rows = xs.map((x, k) => monomials(x * sx - 1, ys[k]! * sy - 1, degree));
  const A = new Matrix(rows);
  const At = A.transpose();
  const coef = solve(At.mmul(A), At.mmul(Matrix.columnVector(vs)));
  const c = coef.to1DArray();
  return (x, y) => monomials(x * sx - 1, y * sy - 1, degree).reduce((s, m, k) => s + m * c[k]!, 0);
}

/** The p-th percentile (0..100) of finite values, linear interpolation. */
export function percentile(values: ArrayLike<number>, p: number): number {
  const v = Float64Array.from(values).filter(Number.isFinite).sort();
  if (!v.length) return NaN;
  const r = (p / 100) * (v.length - 1);
  const i = Math.floor(r);
  return i + 1 < v.length ? v[i]! + (r - i) * (v[i + 1]! - v[i]!) : v[i]!;
}

/** Pixels inside the margin and covered, and the pure-sky ones (truth star signal below a tiny level, dilated). */
export function masks(q: QualityInput): { valid: Uint8Array; sky: Uint8Array } {
  const { width: w, height: h } = q;
  const m = q.margin ?? 16;
  const valid = new Uint8Array(w * h);
  const star = new Uint8Array(w * h);
  const level = 0.05 * q.idealSigma;
  for (let y = m; y < h - m; y++) for (let x = m; x < w - m; x++) {
    const i = y * w + x;
    valid[i] = !q.coverage || q.coverage[i]! > 0.999 ? 1 : 0;
  }
  for (let i = 0; i < w * h; i++) if (q.truth[i]! - q.sky > level) star[i] = 1;
  const sky = new Uint8Array(w * h);
  const r = 3;
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    const i = y * w + x;
    if (!valid[i]) continue;
    let clear = 1;
    for (let dy = -r; dy <= r && clear; dy++) for (let dx = -r; dx <= r; dx++) {
      const yy = y + dy, xx = x + dx;
      if (yy >= 0 && yy < h && xx >= 0 && xx < w && star[yy * w + xx]) { clear = 0; break; }
    }
    sky[i] = clear;
  }
  return { valid, sky };
}

interface Aperture { x: number; y: number; truthFlux: number; flux: number }

/** Local maxima of the truth star signal: isolated (no other maximum above 1% of it within 3 r + 2), unsaturated. */
function truthPeaks(q: QualityInput, valid: Uint8Array, r: number): { x: number; y: number; peak: number }[] {
  const { width: w, height: h, truth, sky } = q;
  const peaks: { x: number; y: number; peak: number }[] = [];
  for (let y = 1; y < h - 1; y++) for (let x = 1; x < w - 1; x++) {
    const i = y * w + x;
    const v = truth[i]! - sky;
    if (v <= 2 * q.idealSigma) continue;
    if (v < truth[i - 1]! - sky || v < truth[i + 1]! - sky || v <= truth[i - w]! - sky || v <= truth[i + w]! - sky) continue;
    if (v < truth[i - w - 1]! - sky || v < truth[i - w + 1]! - sky || v < truth[i + w - 1]! - sky || v < truth[i + w + 1]! - sky) continue;
    peaks.push({ x, y, peak: v });
  }
  const R = 3 * r + 2;
  return peaks.filter((p) => {
    if (p.x < R || p.y < R || p.x >= w - R || p.y >= h - R || !valid[p.y * w + p.x]) return false;
    if (q.saturation !== undefined && p.peak > q.saturation) return false;
    return !peaks.some((o) => o !== p && o.peak > 0.01 * p.peak && Math.abs(o.x - p.x) < R && Math.abs(o.y - p.y) < R);
  });
}

/** Aperture fluxes (radius r, background the median of an annulus 2r..3r) of the stack and of the truth at the truth's isolated stars. */
function apertures(q: QualityInput, valid: Uint8Array, r: number): Aperture[] {
  const { width: w, truth, stack, sky } = q;
  const out: Aperture[] = [];
  const ring: number[] = [];
  for (const p of truthPeaks(q, valid, r)) {
    let fs = 0, ft = 0, n = 0;
    ring.length = 0;
    for (let dy = -3 * r; dy <= 3 * r; dy++) for (let dx = -3 * r; dx <= 3 * r; dx++) {
      const d2 = dx * dx + dy * dy;
      const i = (p.y + dy) * w + p.x + dx;
      if (d2 <= r * r) { fs += stack[i]!; ft += truth[i]! - sky; n++; }
      else if (d2 >= 4 * r * r && d2 <= 9 * r * r) ring.push(stack[i]!);
    }
    const bg = median(ring);
    // the noise of the aperture sum must be far below its flux: phot then measures the processing
    if (ft < (q.photSnr ?? 500) * q.idealSigma * Math.sqrt(n)) continue;
    out.push({ x: p.x, y: p.y, truthFlux: ft, flux: fs - n * bg });
  }
  return out;
}

/** The six metrics of a stack against its truth on the same grid. */
export function qualityMetrics(q: QualityInput): QualityMetrics {
  const { width: w, height: h } = q;
  const { valid, sky } = masks(q);
  const ap = apertures(q, valid, 6);
  const ratios = ap.map((s) => s.flux / s.truthFlux);
  const a = ratios.length ? median(ratios) : NaN;
  const phot = ratios.length ? (100 * robustSigma(ratios)) / a : NaN;
  const diffs: number[] = [];
  for (let i = 0; i < w * h; i++) if (sky[i]) diffs.push(q.stack[i]! - a * q.truth[i]!);
  const b = median(diffs);
  const res = new Float32Array(w * h);
  for (let i = 0; i < w * h; i++) res[i] = (q.stack[i]! - a * q.truth[i]! - b) / a;
  const clipped = largeScaleClipped(res, sky, w, h, q.sky, 5 * robustSigma(res.filter((_, i) => sky[i] === 1)));
  const { large, blk, surface } = largeScale(res, sky, w, h, q.sky);
  for (let i = 0; i < w * h; i++) res[i] = res[i]! - surface(i % w, Math.floor(i / w));
  const b4 = blockStat(res, sky, w, h, 4, 'mean', 1).values.filter(Number.isFinite);
  const nb4 = (robustSigma(b4) * 4) / q.idealSigma;
  let skyPixels = 0;
  const skyRes: number[] = [];
  for (let i = 0; i < w * h; i++) if (sky[i]) { skyPixels++; skyRes.push(res[i]!); }
  const sig = robustSigma(skyRes);
  const b8 = blockStat(res, sky, w, h, 8, 'mean', 1).values.filter(Number.isFinite);
  const nb8 = (robustSigma(b8) * 8) / q.idealSigma;
  let out = 0;
  for (const v of skyRes) if (Math.abs(v) > 8 * sig) out++;
  const nlf = noiseLowFrequency(res, sky, w, h, 4, 5 * sig) / q.idealSigma;
  return { nb4, large, blk, outliers: (1e6 * out) / Math.max(1, skyPixels), hfd: stackHfd(q), phot, a, b, nb8, npix: sig / q.idealSigma, nlf, largem: clipped.large, blkm: clipped.blk, photStars: ap.length, skyPixels };
}

/**
 * sqrt(sum over lags |dx|, |dy| <= R of the autocovariance of `res`) over the masked pixels, values beyond
 * `clip` left out: the noise per pixel a stack would have at zero spatial frequency. White noise of sigma s
 * resampled by any kernel k gives s |sum k| = s, whatever k smooths (bilinear over a random sub-pixel shift
 * lowers the pixel noise to 0.667 s and 4x4 block noise to (1 - 1/12) s, but not this).
 */
export function noiseLowFrequency(res: ArrayLike<number>, mask: Uint8Array, w: number, h: number, R: number, clip: number): number {
  const ok = new Uint8Array(w * h);
  let s = 0, n = 0;
  for (let i = 0; i < w * h; i++) if (mask[i] && Math.abs(res[i]!) <= clip) { ok[i] = 1; s += res[i]!; n++; }
  const mean = n ? s / n : 0;
  const r = new Float64Array(w * h);
  for (let i = 0; i < w * h; i++) r[i] = ok[i] ? res[i]! - mean : 0;
  let total = 0;
  for (let dy = -R; dy <= R; dy++) for (let dx = -R; dx <= R; dx++) {
    let c = 0, m = 0;
    for (let y = Math.max(0, -dy); y < Math.min(h, h - dy); y++) {
      const row = y * w, row2 = (y + dy) * w;
      for (let x = Math.max(0, -dx); x < Math.min(w, w - dx); x++) {
        const i = row + x, j = row2 + x + dx;
        if (ok[i] && ok[j]) { c += r[i]! * r[j]!; m++; }
      }
    }
    if (m) total += c / m;
  }
  return Math.sqrt(Math.max(0, total));
}

/** large and blk from 16x16 block medians of the residual and a degree-4 surface through them. */
export function largeScale(res: Float32Array, sky: Uint8Array, w: number, h: number, skyLevel: number): { large: number; blk: number; surface: (x: number, y: number) => number } {
  return surfaceOfBlocks(blockStat(res, sky, w, h, 16, 'median', 0.5), 16, w, h, skyLevel);
}

/**
 * largeScale from clipped 16x16 block means: in each block the masked pixels within `clip` of the block's median
 * (blocks under half covered are left out). Linear in the noise, so no resampling kernel changes it (see largem).
 */
export function largeScaleClipped(res: Float32Array, sky: Uint8Array, w: number, h: number, skyLevel: number, clip: number): { large: number; blk: number; surface: (x: number, y: number) => number } {
  const bs = 16;
  const med = blockStat(res, sky, w, h, bs, 'median', 0.5);
  const keep = new Uint8Array(w * h);
  for (let y = 0; y < med.bh * bs; y++) for (let x = 0; x < med.bw * bs; x++) {
    const i = y * w + x;
    const c = med.values[Math.floor(y / bs) * med.bw + Math.floor(x / bs)]!;
    keep[i] = sky[i] && Number.isFinite(c) && Math.abs(res[i]! - c) <= clip ? 1 : 0;
  }
  const mean = blockStat(res, keep, w, h, bs, 'mean', 0);
  for (let k = 0; k < mean.values.length; k++) if (!Number.isFinite(med.values[k]!)) mean.values[k] = NaN;
  return surfaceOfBlocks(mean, bs, w, h, skyLevel);
}

/** The degree-4 surface through block values (NaN: left out), its peak-to-valley (1..99 %) and the rms around it, in % of the sky. */
function surfaceOfBlocks(blocks: { values: Float64Array; bw: number; bh: number }, bs: number, w: number, h: number, skyLevel: number): { large: number; blk: number; surface: (x: number, y: number) => number } {
  const { values, bw, bh } = blocks;
  const xs: number[] = [], ys: number[] = [], vs: number[] = [];
  for (let by = 0; by < bh; by++) for (let bx = 0; bx < bw; bx++) {
    const v = values[by * bw + bx]!;
    if (Number.isFinite(v)) { xs.push((bx + 0.5) * bs); ys.push((by + 0.5) * bs); vs.push(v); }
  }
  if (vs.length < 30) return { large: NaN, blk: NaN, surface: () => 0 };
  const surface = fitPoly2D(xs, ys, vs, 4, w, h);
  const fit = xs.map((x, k) => surface(x, ys[k]!));
  const large = (100 * (percentile(fit, 99) - percentile(fit, 1))) / skyLevel;
  let s2 = 0;
  for (let k = 0; k < vs.length; k++) s2 += (vs[k]! - fit[k]!) ** 2;
  const blk = (100 * Math.sqrt(s2 / vs.length)) / skyLevel;
  return { large, blk, surface };
}

/** Median HFD of the stack's bright, unsaturated, unblended stars (SNR > 30). */
function stackHfd(q: QualityInput): number {
  const m = q.margin ?? 16;
  const stars = detectStars(q.stack, q.width, q.height, { maxStars: 400, maxFit: 0, fit: false }).stars;
  const good = stars.filter((s: Star) => s.snr > 30 && !s.saturated && !s.blended && s.x > m && s.y > m && s.x < q.width - m && s.y < q.height - m && Number.isFinite(s.hfd));
  return good.length ? median(good.map((s) => s.hfd)) : NaN;
}

/**
 * Map a truth plane (tw x th, noiseless) onto a stack's grid (sw x sh): stars detected in both (the truth
 * with a faint noise so the detector has a noise scale), matched with a similarity transform (handles
 * dithers and a meridian flip), the truth resampled bicubically. Returns the mapped truth, its coverage
 * (1 where the truth frame covers the grid) and the truth -> stack transform.
 */
export function truthOnGrid(truth: Float32Array, tw: number, th: number, stack: Float32Array, sw: number, sh: number, sky: number): { truth: Float32Array; coverage: Float32Array; transform: Mat3; inliers: number } {
  const rng = new Rng(12345);
  const noisy = new Float32Array(truth.length);
  const s = Math.max(1e-3, 1e-3 * sky);
  for (let i = 0; i < truth.length; i++) noisy[i] = truth[i]! + s * rng.gauss();
  const opts = { maxStars: 300, fit: false, deblend: false };
  const ts = detectStars(noisy, tw, th, opts).stars;
  const ss = detectStars(stack, sw, sh, opts).stars;
  const m = matchStars(ts, ss, { model: 'similarity', tolerance: 2 });
  if (!m.ok) throw new Error(`truthOnGrid: the truth does not match the stack: ${m.reason}`);
  const mapped = warpPlane(truth, tw, th, m.transform, sw, sh, 'bicubic', 0);
  const coverage = warpPlane(new Float32Array(tw * th).fill(1), tw, th, m.transform, sw, sh, 'bilinear', 0);
  return { truth: mapped, coverage, transform: m.transform, inliers: m.inliers };
}

/** What the ideal noise and the truth of a night need to know about it. */
export interface NightNoise {
  /** Per light: sky e- per pixel (before the flat, colour response 1), dark + glow e- per pixel, read noise e-, gain e-/ADU. */
  skyE: number;
  darkE: number;
  readNoise: number;
  gain: number;
  /** Lights in the stack. */
  frames: number;
  /** One-shot colour: colour index (0 R, 1 G, 2 B) of each truth pixel and the colour response. */
  colorIndex?: Uint8Array;
  colorResponse?: [number, number, number];
  margin?: number;
  /** Saturated truth peak (ADU above sky). */
  saturation?: number;
  photSnr?: number;
}

/**
 * The metrics of every plane of a stack (1 mono, 3 RGB) against the truth signal of one light (mono
 * or CFA mosaic), and their mean. For RGB the truth of channel c is R_c times the colourless signal,
 * and the ideal noise of an interpolated channel holding a fraction f_c of the mosaic's pixels is
 * sigma_c / sqrt(f_c) (its 4x4 block means average 16 f_c real samples).
 */
export function stackQuality(planes: Float32Array[], sw: number, sh: number, truth: Float32Array, tw: number, th: number, n: NightNoise): { channels: QualityMetrics[]; mean: QualityMetrics } {
  const resp = n.colorResponse ?? [1, 1, 1];
  const colourless = new Float32Array(truth.length);
  for (let i = 0; i < truth.length; i++) colourless[i] = n.colorIndex ? truth[i]! / resp[n.colorIndex[i]!]! : truth[i]!;
  const skyAdu = n.skyE / n.gain;
  const detect = new Float32Array(sw * sh);
  for (const p of planes) for (let i = 0; i < detect.length; i++) detect[i] = detect[i]! + p[i]! / planes.length;
  const g = truthOnGrid(colourless, tw, th, detect, sw, sh, skyAdu);
  const channels = planes.map((p, c) => {
    const r = planes.length === 3 ? resp[c]! : 1;
    const f = planes.length === 3 ? (c === 1 ? 0.5 : 0.25) : 1;
    const sigmaE = Math.sqrt(r * n.skyE + n.darkE + n.readNoise ** 2) / Math.sqrt(n.frames * f);
    const t = planes.length === 3 ? g.truth.map((v) => v * r) : g.truth;
    return qualityMetrics({ stack: p, truth: t, width: sw, height: sh, sky: r * skyAdu, idealSigma: sigmaE / n.gain, margin: n.margin, coverage: g.coverage, saturation: n.saturation, photSnr: n.photSnr });
  });
  const keys = Object.keys(channels[0]!) as (keyof QualityMetrics)[];
  const mean = Object.fromEntries(keys.map((k) => [k, channels.reduce((s, m) => s + m[k], 0) / channels.length])) as unknown as QualityMetrics;
  return { channels, mean };
}
