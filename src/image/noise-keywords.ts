/**
 * The noise of a calibrated frame, per channel, as PixInsight's keywords (docs/algorithms.md#integration):
 * NOISExx the Gaussian noise sigma in ADU, NOISEFxx the fraction of the pixels it was taken over,
 * NOISEAxx the algorithm ('MRS', or 'K-SIGMA' when MRS fell back), xx the channel (00, 01, ...).
 * Calibration writes them; registration and drizzle keep them (the noise of the frame before any
 * resampling: interpolation smooths a frame's pixel noise by an amount that depends on its sub-pixel
 * shift); integration uses them for noise weights when every channel has one, instead of measuring
 * the resampled frame. The estimate is `noiseMRS` on the rows `noiseRows` gives, as integration measures.
 * IKSCALxx and IKLOCxx (Darkroom keywords) are the frame's IKSS scale and location the same way, for the normalizations.
 */
import type { FitsHeader } from '../fits/header.js';
import type { Image } from './image.js';
import { noiseMRS, noiseRows, type NoiseEstimate } from './noise.js';
import { ikssOfPlane } from '../kernels/ikss.js';

const two = (c: number): string => String(c).padStart(2, '0');

/** Delete the valued keywords whose names match `re`. */
function deleteMatching(h: FitsHeader, re: RegExp): void {
  for (const k of new Set(h.cards.filter((c) => c.value !== undefined && re.test(c.key)).map((c) => c.key))) h.delete(k);
}

/** PREFIX00.. for `channels` channels, or undefined unless every one of them is a finite number (> 0 unless `anySign`). */
function readPerChannel(h: FitsHeader, prefix: string, channels: number, anySign = false): number[] | undefined {
  const out: number[] = [];
  for (let c = 0; c < channels; c++) {
    const v = h.getNumber(`${prefix}${two(c)}`);
    if (v === undefined || !(Number.isFinite(v) && (anySign || v > 0))) return undefined;
    out.push(v);
  }
  return out;
}
const ALGORITHM: Record<NoiseEstimate['method'], string> = { mrs: 'MRS', 'k-sigma': 'K-SIGMA' };

/** The noise estimate of every channel of an image (each on the rows `noiseRows` gives: the estimate integration makes). */
export function measureNoise(img: Image): NoiseEstimate[] {
  const [y0, y1] = noiseRows(img.width, img.height);
  return img.data.map((p) => noiseMRS(p.subarray(y0 * img.width, y1 * img.width), img.width, y1 - y0));
}

/** Remove every NOISExx / NOISEFxx / NOISEAxx, IKSCALxx and IKLOCxx keyword (pixels changed, or the channels no longer those measured). */
export function dropNoiseKeywords(h: FitsHeader): void {
  deleteMatching(h, /^(NOISE[FA]?|IKSCAL|IKLOC)\d\d$/);
}

/** Write one estimate per channel (replacing any older ones); a channel without a finite estimate gets none. */
export function writeNoiseKeywords(h: FitsHeader, est: NoiseEstimate[]): void {
  deleteMatching(h, /^NOISE[FA]?\d\d$/);
  est.forEach((e, c) => {
    if (!(Number.isFinite(e.sigma) && e.sigma > 0)) return;
    h.set(`NOISE${two(c)}`, e.sigma, `[ADU] noise of channel ${c} before resampling`, { float: true });
    h.set(`NOISEF${two(c)}`, Number(e.fraction.toFixed(6)), `fraction of noise pixels, channel ${c}`, { float: true });
    h.set(`NOISEA${two(c)}`, ALGORITHM[e.method], `noise estimator, channel ${c}`);
  });
}

/** NOISE00.. for `channels` channels, or undefined unless every one of them is a finite number > 0. */
export function readNoiseKeywords(h: FitsHeader, channels: number): number[] | undefined {
  return readPerChannel(h, 'NOISE', channels);
}

/**
 * IKSCALxx: the IKSS scale of channel xx of the calibrated frame (before resampling), a Darkroom keyword. Additive +
 * scaling normalization takes its scale from it when every frame has one for every channel (estimator IKSS): the
 * resampled frame's dispersion, mostly sky noise, is smoothed by its sub-pixel shift as its noise is.
 */
export function writeScaleKeywords(h: FitsHeader, scales: number[]): void {
  deleteMatching(h, /^IKSCAL\d\d$/);
  scales.forEach((s, c) => {
    if (Number.isFinite(s) && s > 0) h.set(`IKSCAL${two(c)}`, s, `[ADU] IKSS scale of channel ${c} before resampling`, { float: true });
  });
}

/** IKSCAL00.. for `channels` channels, or undefined unless every one of them is a finite number > 0. */
export function readScaleKeywords(h: FitsHeader, channels: number): number[] | undefined {
  return readPerChannel(h, 'IKSCAL', channels);
}

/**
 * IKLOCxx: the IKSS location of channel xx of the calibrated frame (before resampling), a Darkroom keyword written
 * beside IKSCALxx (same rules). Integration takes its locations from them when every frame has both for every
 * channel (estimator IKSS): resampling keeps the sky level (an interpolation kernel that sums to 1, drizzle's
 * weighted mean), and the pixels a registered frame lacks are NaN, which IKSS ignores (docs/algorithms.md#integration).
 */
export function writeLocationKeywords(h: FitsHeader, locations: number[]): void {
  deleteMatching(h, /^IKLOC\d\d$/);
  locations.forEach((m, c) => {
    if (Number.isFinite(m)) h.set(`IKLOC${two(c)}`, m, `[ADU] IKSS location of channel ${c} before resampling`, { float: true });
  });
}

/** IKLOC00.. for `channels` channels, or undefined unless every one of them is a finite number (of any sign). */
export function readLocationKeywords(h: FitsHeader, channels: number): number[] | undefined {
  return readPerChannel(h, 'IKLOC', channels, true);
}

/**
 * Measure every channel's noise (`measureNoise`) and IKSS location and scale (all finite pixels, as integration's
 * IKSS) and write them as NOISExx / NOISEFxx / NOISEAxx, IKLOCxx and IKSCALxx: the statistics of a frame before any
 * resampling (calibration; debayering of a frame that carried them). Returns the noise estimates.
 */
export function stampStatistics(img: Image): NoiseEstimate[] {
  const est = measureNoise(img);
  writeNoiseKeywords(img.header, est);
  const ik = img.data.map((p) => ikssOfPlane(p));
  writeScaleKeywords(img.header, ik.map((r) => r.scale));
  writeLocationKeywords(img.header, ik.map((r) => r.location));
  return est;
}
