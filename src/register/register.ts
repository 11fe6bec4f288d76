/**
 * Registration of a set of frames onto a reference: detection, reference choice (`auto` = most stars,
 * then smallest median FWHM), asterism matching, and resampling (or drizzle). Frames with no stars or no match
 * are reported and left out, never resampled misaligned.
 */
import type { Image } from '../image/image.js';
import { detectStars, medianOf, type Star, type DetectOptions } from '../stars/detect.js';
import { matchStars, type MatchResult } from './match.js';
import { describe, identity, type Mat3, type Model } from './transform.js';
import { warpPlane, type Interp } from './resample.js';
import { createDrizzle, drizzleAdd, drizzleResult } from './drizzle.js';

export interface FrameStars { stars: Star[]; medianFwhm: number }

export function frameStars(img: Image, opts: DetectOptions = {}): FrameStars {
  const plane = img.channels === 1 ? img.data[0]! : luminance(img);
  const r = detectStars(plane, img.width, img.height, { maxStars: 500, ...opts });
  const stars = r.stars.filter((s) => !s.saturated || true);
  return { stars, medianFwhm: medianOf(stars.map((s) => s.fwhm)) };
}

function luminance(img: Image): Float32Array {
  const out = new Float32Array(img.width * img.height);
  for (const d of img.data) for (let i = 0; i < out.length; i++) out[i] = out[i]! + d[i]! / img.channels;
  return out;
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

export interface RegisterOptions { model?: Model; interp?: Interp; drizzle?: number; pixfrac?: number; tolerance?: number }

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
  if (opts.drizzle && opts.drizzle > 1) {
    return img.data.map((d) => {
      const acc = createDrizzle(refW, refH, opts.drizzle!);
      drizzleAdd(acc, d, img.width, img.height, H, opts.pixfrac ?? 1);
      return drizzleResult(acc);
    });
  }
  return img.data.map((d) => warpPlane(d, img.width, img.height, H, refW, refH, opts.interp ?? 'lanczos3'));
}
