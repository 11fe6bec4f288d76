/**
 * The noise of a calibrated frame, per channel, as PixInsight's keywords (docs/algorithms.md#integration):
 * NOISExx the Gaussian noise sigma in ADU, NOISEFxx the fraction of the pixels it was taken over,
 * NOISEAxx the algorithm ('MRS', or 'K-SIGMA' when MRS fell back), xx the channel (00, 01, ...).
 * Calibration writes them; registration and drizzle keep them (the noise of the frame before any
 * resampling: interpolation smooths a frame's pixel noise by an amount that depends on its sub-pixel
 * shift); integration uses them for noise weights when every channel has one, instead of measuring
 * the resampled frame. The estimate is `noiseMRS` on the rows `noiseRows` gives, as integration measures.
 * IKSCALxx (a Darkroom keyword) is the frame's IKSS scale the same way, for the scaling normalizations.
 */
import type { FitsHeader } from '../fits/header.js';
import type { Image } from './image.js';
import { noiseMRS, noiseRows, type NoiseEstimate } from './noise.js';
import { finiteValues, ikssOfFinite } from '../kernels/ikss.js';

const two = (c: number): string => String(c).padStart(2, '0');

/** Delete the valued keywords whose names match `re`. */
function deleteMatching(h: FitsHeader, re: RegExp): void {
  for (const k of new Set(h.cards.filter((c) => c.value !== undefined && re.test(c.key)).map((c) => c.key))) h.delete(k);
}

/** PREFIX00.. for `channels` channels, or undefined unless every one of them is a finite number > 0. */
function readPerChannel(h: FitsHeader, prefix: string, channels: number): number[] | undefined {
  const out: number[] = [];
  for (let c = 0; c < channels; c++) {
    const v = h.getNumber(`${prefix}${two(c)}`);
    if (v === undefined || !(Number.isFinite(v) && v > 0)) return undefined;
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

/** Remove every NOISExx / NOISEFxx / NOISEAxx and IKSCALxx keyword (pixels changed, or the channels no longer those measured). */
export function dropNoiseKeywords(h: FitsHeader): void {
  deleteMatching(h, /^(NOISE[FA]?|IKSCAL)\d\d$/);
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
 * Measure every channel's noise (`measureNoise`) and IKSS scale (all finite pixels, as integration's IKSS) and write
 * them as NOISExx / NOISEFxx / NOISEAxx and IKSCALxx: the statistics of a frame before any resampling (calibration;
 * debayering of a frame that carried them). Returns the noise estimates.
 */
export function stampStatistics(img: Image): NoiseEstimate[] {
  const est = measureNoise(img);
  writeNoiseKeywords(img.header, est);
  writeScaleKeywords(img.header, img.data.map((p) => ikssOfFinite(finiteValues(p)).scale));
  return est;
}
