/**
 * Screen stretch of an Image (docs/algorithms.md#stf): the auto STF parameters
 * (render/stf.ts, shared with the browser viewer), their application through the midtones transfer
 * function, and the 8-bit PNG preview the CLI and the pipeline write.
 */
import type { Image } from '../image/image.js';
import { mtf, midtonesFor } from './mtf.js';
import { autoStfParams, type AutoStretchOptions, type Stf } from './stf.js';
import { encodePng } from './png.js';

export type { AutoStretchOptions, Stf };
export { mtf, midtonesFor };

/** The auto STF of each channel of `img` (PixInsight's auto-stretch; linked by default). */
export function autoStf(img: Image, opts: AutoStretchOptions = {}): Stf[] {
  return autoStfParams(img.data, opts);
}

/** Apply STFs and produce interleaved 8-bit samples (grey or RGB). NaN renders black. */
export function renderStretched(img: Image, stfs: Stf[]): Uint8Array {
  const n = img.width * img.height;
  const ch = img.channels >= 3 ? 3 : 1;
  const out = new Uint8Array(n * ch);
  // A lookup table of 65536 steps over [c0, 1] keeps the per-pixel cost to one multiply and one load.
  const LUT = 65536;
  for (let c = 0; c < ch; c++) {
    const s = stfs[c]!;
    const d = img.data[c]!;
    const lut = new Uint8Array(LUT + 1);
    for (let i = 0; i <= LUT; i++) lut[i] = Math.round(255 * mtf(s.m, i / LUT));
    const span = s.high - s.low;
    const scale = span > 0 ? 1 / (span * (s.c1 - s.c0)) : 0;
    const off = s.low + s.c0 * span;
    for (let i = 0; i < n; i++) {
      const v = d[i]!;
      let x = (v - off) * scale;
      if (!(x > 0)) x = 0; // also NaN
      else if (x > 1) x = 1;
      out[i * ch + c] = lut[(x * LUT + 0.5) | 0]!;
    }
  }
  return out;
}

/** An auto-stretched 8-bit PNG preview of `img` (grey, or RGB from the first three channels). */
export function stretchToPng(img: Image, opts: AutoStretchOptions = {}): Buffer {
  const stfs = autoStf(img, opts);
  const px = renderStretched(img, stfs);
  return encodePng(img.width, img.height, img.channels >= 3 ? 3 : 1, px);
}
