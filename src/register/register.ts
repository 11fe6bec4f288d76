/**
 * Registration of a set of frames onto a reference: detection, reference choice (`auto` = most stars,
 * then smallest median FWHM), asterism matching, and resampling (or drizzle). Frames with no stars or no match
 * are reported and left out, never resampled misaligned.
 */
import type { Image } from '../image/image.js';
import { detectStars, medianOf, type Star, type DetectOptions } from '../stars/detect.js';
import { detectionPlane, metricsFromStars, type FrameMetrics } from '../stars/metrics.js';
import { matchStars, type MatchResult } from './match.js';
import { describe, identity, type Mat3, type Model } from './transform.js';
import { warpPlane, type Interp, type WarpPool } from './resample.js';
import { createDrizzle, drizzleAdd, drizzleAddCfa, drizzleResult, type DrizzleAccumulator } from './drizzle.js';
import { requireCfa } from '../color/cfa.js';

export interface FrameStars { stars: Star[]; medianFwhm: number; background?: number; noise?: number }

/** Frames of at least this many pixels are detected on a 2x2-binned plane by `frameStars` (then measured at full resolution). */
export const BIN_DETECTION_PIXELS = 8e6;

/**
 * What registration needs of a frame, fast: the 500 brightest sources with refined (windowed) centroids, PSF fits of
 * the 50 brightest isolated unsaturated ones (FWHM, eccentricity for the metrics and weights) stopped at a relative
 * chi2 change of 1e-6, detection on a 2x2-binned plane for large frames. `opts` overrides any of it
 * (`{ maxFit: 200, fitIsolated: false, refine: false, fitTolerance: 1e-9, bin: 1 }` is the complete measurement of
 * `detectStars`). Saturation defaults to the SATURATE header card.
 */
export function frameStars(img: Image, opts: DetectOptions = {}): FrameStars {
  const plane = detectionPlane(img);
  const saturation = opts.saturation ?? img.header?.getNumber('SATURATE') ?? undefined;
  const bin = img.width * img.height >= BIN_DETECTION_PIXELS ? 2 : 1;
  const r = detectStars(plane, img.width, img.height, { maxStars: 500, maxFit: 50, fitIsolated: true, refine: true, fitTolerance: 1e-6, bin, ...opts, saturation });
  const stars = r.stars;
  const shape = stars.filter((s) => s.fitted && !s.saturated);
  return { stars, medianFwhm: medianOf((shape.length > 0 ? shape : stars).map((s) => s.fwhm)), background: r.background.globalBackground, noise: r.background.globalNoise };
}

/** Subframe metrics of a frame from its detection (for weights and rejection rules). */
export function frameMetrics(path: string, fs: FrameStars): FrameMetrics {
  return metricsFromStars(path, fs.stars, fs.background ?? NaN, fs.noise ?? NaN);
}

/** Index of the best reference: most stars, ties (within 10%) broken by the smallest median FWHM. */
export function chooseReference(list: FrameStars[]): number {
  let best = -1;
  for (let i = 0; i < list.length; i++) {
    const f = list[i]!;
    if (f.stars.length < 3) continue;
    if (best < 0) { best = i; continue; }
    const b = list[best]!;
    const n = f.stars.length, nb = b.stars.length;
    if (n > 1.1 * nb || (n >= nb / 1.1 && f.medianFwhm < b.medianFwhm)) best = i;
  }
  return best;
}

/**
 * Lanczos-3 ringing clamp of registration: off. Clamping switches the kernel per pixel where a star sits under a
 * negative lobe, so it does not conserve flux: on a Gaussian star of sigma 2 px it adds 0.4-0.9 % to the aperture flux
 * of stars brighter than ~40x the sky, with 0.6-0.8 % scatter over sub-pixel phases (3.5 % at sigma 1.2 px), and
 * none to faint ones; unclamped Lanczos-3 keeps every flux to 0.1 %. `warpPlane`'s own default (0.3) is unchanged.
 */
export const REGISTER_CLAMP = 0;

export interface RegisterOptions {
  model?: Model; interp?: Interp; drizzle?: number; pixfrac?: number; tolerance?: number;
  /** Lanczos-3 ringing clamp (PixInsight's threshold; 0 = off, the default: REGISTER_CLAMP). */
  clamp?: number;
  /** CFA mosaics (img.cfa set): Bayer drizzle at `drizzle` scale (default 1) into 3 planes (R, G, B). */
  cfaDrizzle?: boolean;
  frameWeight?: number;
}

export interface FrameRegistration {
  ok: boolean;
  reason?: string;
  transform: Mat3;
  match?: MatchResult;
  stars: number;
  shift?: { dx: number; dy: number; rotation: number; scale: number; mirrored: boolean };
}

export function registerToReference(frame: FrameStars, ref: FrameStars, isReference: boolean, opts: RegisterOptions = {}): FrameRegistration {
  if (isReference) return { ok: true, transform: identity(), stars: frame.stars.length, shift: describe(identity()) };
  if (frame.stars.length < 3) return { ok: false, reason: `no stars detected (${frame.stars.length})`, transform: identity(), stars: frame.stars.length };
  const m = matchStars(frame.stars, ref.stars, { model: opts.model ?? 'homography', tolerance: opts.tolerance });
  if (!m.ok) return { ok: false, reason: `cannot be matched to the reference: ${m.reason}`, transform: identity(), stars: frame.stars.length, match: m };
  return { ok: true, transform: m.transform, match: m, stars: frame.stars.length, shift: describe(m.transform) };
}

/** Resample every plane of `img` onto the reference grid (refW x refH) or drizzle it at `opts.drizzle` scale. */
export function applyRegistration(img: Image, H: Mat3, refW: number, refH: number, opts: RegisterOptions = {}): Float32Array[] {
  if (opts.cfaDrizzle && img.channels === 1 && img.cfa) {
    const cfa = requireCfa(String(img.cfa), 'BAYERPAT');
    const scale = opts.drizzle ?? 1;
    const accs: [DrizzleAccumulator, DrizzleAccumulator, DrizzleAccumulator] = [createDrizzle(refW, refH, scale), createDrizzle(refW, refH, scale), createDrizzle(refW, refH, scale)];
    drizzleAddCfa(accs, img.data[0]!, img.width, img.height, cfa, H, opts.pixfrac ?? 1);
    return accs.map(drizzleResult);
  }
  if (opts.drizzle && opts.drizzle > 1) {
    return img.data.map((d) => {
      const acc = createDrizzle(refW, refH, opts.drizzle!);
      drizzleAdd(acc, d, img.width, img.height, H, opts.pixfrac ?? 1);
      return drizzleResult(acc);
    });
  }
  return img.data.map((d) => warpPlane(d, img.width, img.height, H, refW, refH, opts.interp ?? 'lanczos3', opts.clamp ?? REGISTER_CLAMP));
}

/**
 * `applyRegistration` with the resampling of large frames split over a worker pool (bit-identical to the
 * synchronous result); drizzle stays synchronous.
 */
export async function applyRegistrationAsync(img: Image, H: Mat3, refW: number, refH: number, opts: RegisterOptions, pool: WarpPool): Promise<Float32Array[]> {
  if ((opts.cfaDrizzle && img.channels === 1 && img.cfa) || (opts.drizzle && opts.drizzle > 1)) return applyRegistration(img, H, refW, refH, opts);
  const out: Float32Array[] = [];
  for (const d of img.data) out.push(await pool.warp(d, img.width, img.height, H, refW, refH, opts.interp ?? 'lanczos3', opts.clamp ?? REGISTER_CLAMP));
  return out;
}
