/**
 * Channel extraction from CFA or RGB data, narrowband keep-only selections for colour cameras, RGB
 * and LRGB combination.
 *
 * From a Bayer mosaic every extraction works on the 2x2 cells (output half size, like super-pixel):
 * r = the red sample, g = mean of the two greens, b = the blue sample, ha = the red sample (H-alpha
 * at 656 nm passes only the red filters), oiii = mean of the two greens and the blue (OIII at 501 nm
 * passes green and blue filters). From an RGB image the same selections use the planes at full size
 * (oiii = mean of G and B).
 */
import { type Cfa, cfaName, isBayer } from './cfa.js';
import { createImage, type Image } from '../image/image.js';
import { DarkroomError } from '../util/errors.js';
import { dropNoiseKeywords } from '../image/noise-keywords.js';

export const KEEP_CHOICES = ['r', 'g', 'b', 'ha', 'oiii'] as const;
export type Keep = (typeof KEEP_CHOICES)[number];

/** Weights per colour (R, G, B) of each selection; a colour's weight is spread over its samples. */
const SELECT: Record<Keep, [number, number, number]> = {
  r: [1, 0, 0],
  g: [0, 1, 0],
  b: [0, 0, 1],
  ha: [1, 0, 0],
  oiii: [0, 2, 1], // two green samples + one blue per cell, all weighted equally
};

/** Extract one mono plane from a CFA mosaic (half size, per 2x2 cell). NaN samples are skipped. */
export function extractFromCfa(src: Float32Array, width: number, height: number, cfa: Cfa, keep: Keep): { width: number; height: number; data: Float32Array } {
  if (!isBayer(cfa)) throw new DarkroomError('UNSUPPORTED', `channel extraction needs a 2x2 Bayer pattern (got X-Trans ${cfaName(cfa)}); debayer first`);
  const w = width >> 1;
  const h = height >> 1;
  const out = new Float32Array(w * h);
  const wsel = SELECT[keep];
  // offsets in the cell of the samples used and their weight (equal weights inside a colour)
  const offs: number[] = [];
  for (let k = 0; k < 4; k++) {
    const c = cfa.colors[k]!;
    if (wsel[c] > 0) offs.push((k >> 1) * width + (k & 1));
  }
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const base = 2 * y * width + 2 * x;
      let s = 0;
      let n = 0;
      for (const o of offs) {
        const v = src[base + o]!;
        if (v === v) {
          s += v;
          n++;
        }
      }
      out[y * w + x] = n > 0 ? s / n : NaN;
    }
  }
  return { width: w, height: h, data: out };
}

/** Extract from an RGB image (3 planes), full size. */
export function extractFromRgb(img: Image, keep: Keep): Float32Array {
  if (img.channels !== 3) throw new Error('extractFromRgb needs 3 planes');
  const n = img.width * img.height;
  switch (keep) {
    case 'r':
    case 'ha':
      return img.data[0]!.slice();
    case 'g':
      return img.data[1]!.slice();
    case 'b':
      return img.data[2]!.slice();
    case 'oiii': {
      const g = img.data[1]!;
      const b = img.data[2]!;
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) {
        const a = g[i]!;
        const c = b[i]!;
        out[i] = a !== a ? c : c !== c ? a : 0.5 * (a + c);
      }
      return out;
    }
  }
}

/** Mono image of one selection from a CFA mosaic (cfa given) or an RGB image. */
export function extractChannel(img: Image, keep: Keep, cfa?: Cfa, file?: string): Image {
  let out: Image;
  if (img.channels === 3) {
    out = createImage(img.width, img.height, 1, img.header.clone());
    out.data = [extractFromRgb(img, keep)];
  } else if (img.channels === 1) {
    if (!cfa) throw new DarkroomError('BAD_ARGUMENT', 'mono image without a CFA pattern (no BAYERPAT): give --pattern, or this is not colour data', file);
    const p = extractFromCfa(img.data[0]!, img.width, img.height, cfa, keep);
    if (p.width < 1 || p.height < 1) throw new DarkroomError('BAD_ARGUMENT', `image ${img.width}x${img.height} is too small for 2x2 cells`, file);
    out = createImage(p.width, p.height, 1, img.header.clone());
    out.data = [p.data];
    for (const k of ['XPIXSZ', 'YPIXSZ']) {
      const v = out.header.getNumber(k);
      if (v !== undefined) out.header.set(k, v * 2);
    }
  } else {
    throw new DarkroomError('UNSUPPORTED', `image has ${img.channels} planes; expected a mono CFA mosaic or RGB`, file);
  }
  for (const k of ['BAYERPAT', 'XBAYROFF', 'YBAYROFF', 'CTYPE3']) out.header.delete(k);
  dropNoiseKeywords(out.header); // the NOISExx of the mosaic or the RGB planes do not describe this plane
  const name: Record<Keep, string> = { r: 'Red', g: 'Green', b: 'Blue', ha: 'H-alpha', oiii: 'OIII' };
  out.header.set('CHANNEL', name[keep], 'colour selection kept from a colour camera');
  return out;
}

/** R, G, B mono images of the same size -> one 3-plane image (header from R). */
export function combineRgb(r: Image, g: Image, b: Image, files: [string?, string?, string?] = []): Image {
  const imgs = [r, g, b];
  imgs.forEach((im, k) => {
    if (im.channels !== 1) throw new DarkroomError('BAD_ARGUMENT', `${'RGB'[k]} input has ${im.channels} planes; expected mono`, files[k]);
  });
  for (let k = 1; k < 3; k++) {
    if (imgs[k]!.width !== r.width || imgs[k]!.height !== r.height) {
      throw new DarkroomError('MISMATCH', `${'RGB'[k]} is ${imgs[k]!.width}x${imgs[k]!.height} but R is ${r.width}x${r.height}`, files[k]);
    }
  }
  const out = createImage(r.width, r.height, 3, r.header.clone());
  out.data = [r.data[0]!.slice(), g.data[0]!.slice(), b.data[0]!.slice()];
  for (const k of ['FILTER', 'BAYERPAT', 'XBAYROFF', 'YBAYROFF', 'CHANNEL']) out.header.delete(k);
  out.header.set('CTYPE3', 'RGB', 'planes are R, G, B');
  return out;
}

/** For each of N output positions along an axis of `size` input pixels: the two input taps and the weight of the second. */
function resampleTaps(N: number, size: number): { i0: Int32Array; i1: Int32Array; t: Float64Array } {
  const i0 = new Int32Array(N);
  const i1 = new Int32Array(N);
  const t = new Float64Array(N);
  const scale = size / N;
  for (let k = 0; k < N; k++) {
    let f = (k + 0.5) * scale - 0.5;
    if (f < 0) f = 0;
    if (f > size - 1) f = size - 1;
    const k0 = Math.floor(f);
    i0[k] = k0;
    i1[k] = Math.min(k0 + 1, size - 1);
    t[k] = f - k0;
  }
  return { i0, i1, t };
}

/**
 * Bilinear resampling of a plane to a new size (pixel centres aligned: output pixel centre (x + 0.5)
 * maps to input (x + 0.5) * w / W - 0.5, clamped at the borders).
 */
export function resizeBilinear(src: Float32Array, width: number, height: number, W: number, H: number): Float32Array {
  const out = new Float32Array(W * H);
  const X = resampleTaps(W, width);
  const Y = resampleTaps(H, height);
  for (let y = 0; y < H; y++) {
    const y0 = Y.i0[y]!;
    const y1 = Y.i1[y]!;
    const ty = Y.t[y]!;
    for (let x = 0; x < W; x++) {
      const x0 = X.i0[x]!;
      const x1 = X.i1[x]!;
      const tx = X.t[x]!;
      const a = src[y0 * width + x0]! * (1 - tx) + src[y0 * width + x1]! * tx;
      const b = src[y1 * width + x0]! * (1 - tx) + src[y1 * width + x1]! * tx;
      out[y * W + x] = a * (1 - ty) + b * ty;
    }
  }
  return out;
}

// Linear sRGB (D65) <-> CIE XYZ, and CIE L*a*b* with the D65 white.
const M = [0.4124564, 0.3575761, 0.1804375, 0.2126729, 0.7151522, 0.072175, 0.0193339, 0.119192, 0.9503041];
const WHITE = [0.95047, 1.0, 1.08883];
function invert3(m: number[]): number[] {
  const [a, b, c, d, e, f, g, h, i] = m as [number, number, number, number, number, number, number, number, number];
  const A = e * i - f * h;
  const B = -(d * i - f * g);
  const C = d * h - e * g;
  const det = a * A + b * B + c * C;
  return [A / det, -(b * i - c * h) / det, (b * f - c * e) / det, B / det, (a * i - c * g) / det, -(a * f - c * d) / det, C / det, -(a * h - b * g) / det, (a * e - b * d) / det];
}
const MI = invert3(M);
const D = 6 / 29;
const fLab = (t: number) => (t > D * D * D ? Math.cbrt(t) : t / (3 * D * D) + 4 / 29);
const fInv = (t: number) => (t > D ? t * t * t : 3 * D * D * (t - 4 / 29));

/** Y (relative luminance) of linear RGB with sRGB primaries: the quantity L* is computed from. */
export function luminanceY(r: number, g: number, b: number): number {
  return M[3]! * r + M[4]! * g + M[5]! * b;
}

/**
 * LRGB: the luminance image replaces the lightness of the RGB image in CIE L*a*b* (linear sRGB
 * primaries, D65). Both are divided by one common scale (the largest value of L and RGB) so they must
 * already be on the same photometric scale; L* comes from the L image taken as relative luminance Y,
 * a* and b* from the RGB image. An RGB image smaller than L (e.g. binned 2x2) is first upsampled
 * bilinearly to L's size. Values are linear; the result is converted back to linear RGB in the input
 * units. Pixels with NaN in any input are NaN.
 */
export function combineLrgb(lum: Image, rgb: Image, files: { lum?: string; rgb?: string } = {}): Image {
  if (lum.channels !== 1) throw new DarkroomError('BAD_ARGUMENT', `luminance has ${lum.channels} planes; expected mono`, files.lum);
  if (rgb.channels !== 3) throw new DarkroomError('BAD_ARGUMENT', `RGB image has ${rgb.channels} planes; expected 3`, files.rgb);
  const W = lum.width;
  const H = lum.height;
  let planes = rgb.data;
  if (rgb.width !== W || rgb.height !== H) {
    if (rgb.width > W || rgb.height > H) {
      throw new DarkroomError('MISMATCH', `RGB (${rgb.width}x${rgb.height}) is larger than the luminance (${W}x${H})`, files.rgb);
    }
    planes = planes.map((p) => resizeBilinear(p, rgb.width, rgb.height, W, H));
  }
  const L = lum.data[0]!;
  const n = W * H;
  let scale = 0;
  for (let i = 0; i < n; i++) {
    const v = Math.max(L[i]!, planes[0]![i]!, planes[1]![i]!, planes[2]![i]!);
    if (v > scale) scale = v;
  }
  if (!(scale > 0)) scale = 1;
  const out = createImage(W, H, 3, rgb.header.clone());
  const [R, G, B] = planes as [Float32Array, Float32Array, Float32Array];
  const [oR, oG, oB] = out.data as [Float32Array, Float32Array, Float32Array];
  for (let i = 0; i < n; i++) {
    const r = R[i]! / scale;
    const g = G[i]! / scale;
    const b = B[i]! / scale;
    const X = M[0]! * r + M[1]! * g + M[2]! * b;
    const Y = M[3]! * r + M[4]! * g + M[5]! * b;
    const Z = M[6]! * r + M[7]! * g + M[8]! * b;
    const fy = fLab(Y / WHITE[1]!);
    const a = 500 * (fLab(X / WHITE[0]!) - fy);
    const bb = 200 * (fy - fLab(Z / WHITE[2]!));
    // new lightness from the luminance image
    const fy2 = fLab(L[i]! / scale);
    const X2 = WHITE[0]! * fInv(fy2 + a / 500);
    const Y2 = WHITE[1]! * fInv(fy2);
    const Z2 = WHITE[2]! * fInv(fy2 - bb / 200);
    oR[i] = (MI[0]! * X2 + MI[1]! * Y2 + MI[2]! * Z2) * scale;
    oG[i] = (MI[3]! * X2 + MI[4]! * Y2 + MI[5]! * Z2) * scale;
    oB[i] = (MI[6]! * X2 + MI[7]! * Y2 + MI[8]! * Z2) * scale;
  }
  out.header.set('CTYPE3', 'RGB', 'planes are R, G, B');
  return out;
}
