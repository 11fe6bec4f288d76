/**
 * Software binning: fx x fy blocks of pixels -> one pixel, by sum or average, on every plane.
 * Output size is floor(W / fx) x floor(H / fy): a partial block at the right or bottom edge is dropped.
 * NaN pixels are skipped: average = mean of the valid pixels; sum = mean of the valid pixels * fx * fy
 * (the sum the block would have had, unbiased); NaN only when the whole block is NaN.
 *
 * Binning a CFA mosaic mixes the colours of the pattern: the result is a mono (luminance-like) image
 * and the colour is lost. To keep colour, bin per colour with the super-pixel debayer (2x2 cells) or
 * extract channels first. {@link binImage} returns that warning and drops BAYERPAT.
 */
import { createImage, type Image } from '../image/image.js';
import { DarkroomError } from '../util/errors.js';
import { dropNoiseKeywords } from '../image/noise-keywords.js';

export type BinMode = 'sum' | 'average';

/** Parse "2x2", "3x2", "2" (square) into [fx, fy]. */
export function parseBinFactor(text: string): [number, number] {
  const m = /^\s*(\d+)\s*(?:[xX*]\s*(\d+))?\s*$/.exec(text);
  if (!m) throw new DarkroomError('BAD_ARGUMENT', `binning factor '${text}' is not of the form NxM (e.g. 2x2, 1x2, 3x2)`);
  const fx = Number(m[1]);
  const fy = m[2] !== undefined ? Number(m[2]) : fx;
  if (fx < 1 || fy < 1) throw new DarkroomError('BAD_ARGUMENT', `binning factor '${text}' must be at least 1x1`);
  return [fx, fy];
}

export function binPlane(src: Float32Array, width: number, height: number, fx: number, fy: number, mode: BinMode): { width: number; height: number; data: Float32Array } {
  const w = Math.floor(width / fx);
  const h = Math.floor(height / fy);
  const out = new Float32Array(w * h);
  const acc = new Float64Array(w);
  const cnt = new Int32Array(w);
  const block = fx * fy;
  for (let oy = 0; oy < h; oy++) {
    acc.fill(0);
    cnt.fill(0);
    for (let yy = oy * fy; yy < oy * fy + fy; yy++) {
      const row = yy * width;
      for (let ox = 0; ox < w; ox++) {
        const x0 = row + ox * fx;
        let s = 0;
        let n = 0;
        for (let k = 0; k < fx; k++) {
          const v = src[x0 + k]!;
          if (v === v) {
            s += v;
            n++;
          }
        }
        acc[ox]! += s;
        cnt[ox]! += n;
      }
    }
    const orow = oy * w;
    for (let ox = 0; ox < w; ox++) {
      const n = cnt[ox]!;
      if (n === 0) out[orow + ox] = NaN;
      else if (mode === 'average') out[orow + ox] = acc[ox]! / n;
      else out[orow + ox] = n === block ? acc[ox]! : (acc[ox]! / n) * block;
    }
  }
  return { width: w, height: h, data: out };
}

export interface BinResult {
  image: Image;
  /** Warnings for the user (CFA pattern destroyed...). */
  warnings: string[];
}

/** Bin every plane; updates XBINNING/YBINNING and XPIXSZ/YPIXSZ; drops the CFA description. */
export function binImage(img: Image, fx: number, fy: number, mode: BinMode, file?: string): BinResult {
  if (!Number.isInteger(fx) || !Number.isInteger(fy) || fx < 1 || fy < 1) {
    throw new DarkroomError('BAD_ARGUMENT', `binning factor ${fx}x${fy} must be positive integers`, file);
  }
  if (fx > img.width || fy > img.height) {
    throw new DarkroomError('BAD_ARGUMENT', `binning factor ${fx}x${fy} is larger than the image (${img.width}x${img.height})`, file);
  }
  const warnings: string[] = [];
  const isCfa = img.channels === 1 && (img.cfa !== undefined || img.header.has('BAYERPAT'));
  if (isCfa && !(fx === 1 && fy === 1)) {
    warnings.push(
      `binning ${fx}x${fy} mixes the colours of the CFA pattern${img.header.has('BAYERPAT') ? ` (BAYERPAT ${img.header.getString('BAYERPAT')})` : ''}: ` +
        'the result is mono; to keep colour debayer with --method superpixel (per-colour 2x2 binning) or extract channels first',
    );
  }
  const planes = img.data.map((p) => binPlane(p, img.width, img.height, fx, fy, mode));
  const out = createImage(planes[0]!.width, planes[0]!.height, img.channels, img.header.clone());
  out.data = planes.map((p) => p.data);
  const scale: Array<[string, number]> = [['XBINNING', fx], ['YBINNING', fy], ['XPIXSZ', fx], ['YPIXSZ', fy]];
  for (const [k, f] of scale) {
    const v = out.header.getNumber(k);
    if (v !== undefined) out.header.set(k, v * f);
    else if (k.endsWith('BINNING')) out.header.set(k, f, 'binning factor');
  }
  if (isCfa) for (const k of ['BAYERPAT', 'XBAYROFF', 'YBAYROFF']) out.header.delete(k);
  dropNoiseKeywords(out.header); // the calibrated frame's NOISExx no longer describe these pixels
  return { image: out, warnings };
}
