/**
 * Mono drizzle (Fruchter & Hook) with a square kernel: each input pixel's drop, shrunk by `pixfrac`,
 * is mapped onto an output grid `scale` times finer; its centre goes through the transform and the drop is
 * taken as an axis-aligned square of side pixfrac * scale * sqrt|det J| (exact for shifts and 90-degree
 * multiples, the usual "turbo" approximation otherwise). Values are spread by exact area overlap;
 * output = sum(w v) / sum(w); pixels no drop touched are NaN.
 */
import { type Mat3 } from './transform.js';
import { cfaColor, type Cfa } from '../color/cfa.js';

export interface DrizzleAccumulator { data: Float64Array; weight: Float64Array; width: number; height: number; scale: number }

export function createDrizzle(refWidth: number, refHeight: number, scale: number): DrizzleAccumulator {
  const width = Math.round(refWidth * scale), height = Math.round(refHeight * scale);
  return { data: new Float64Array(width * height), weight: new Float64Array(width * height), width, height, scale };
}

/** Add a frame; `H` maps frame pixel coordinates to reference coordinates. */
export function drizzleAdd(acc: DrizzleAccumulator, src: Float32Array, w: number, h: number, H: Mat3, pixfrac = 1, frameWeight = 1): void {
  const half = dropHalf(acc, H, pixfrac);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) dropPixel(acc, src[y * w + x]!, x, y, H, half, frameWeight);
}

/**
 * Bayer/CFA drizzle: a calibrated mosaic (not debayered) added to three accumulators (R, G, B); each CFA pixel
 * drops only into its own colour's plane, so colour comes from the dithers instead of interpolation.
 */
export function drizzleAddCfa(accs: [DrizzleAccumulator, DrizzleAccumulator, DrizzleAccumulator], src: Float32Array, w: number, h: number, cfa: Cfa, H: Mat3, pixfrac = 1, frameWeight = 1): void {
  const half = dropHalf(accs[0], H, pixfrac);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) dropPixel(accs[cfaColor(cfa, x, y)]!, src[y * w + x]!, x, y, H, half, frameWeight);
}

function dropHalf(acc: DrizzleAccumulator, H: Mat3, pixfrac: number): number {
  const det = Math.abs(H[0]! * H[4]! - H[1]! * H[3]!);
  return 0.5 * pixfrac * acc.scale * Math.sqrt(det);
}

function dropPixel(acc: DrizzleAccumulator, v: number, x: number, y: number, H: Mat3, half: number, frameWeight: number): void {
  if (!(v === v)) return;
  const { scale, width: OW, height: OH, data, weight } = acc;
  const area = 4 * half * half;
  const wq = H[6]! * x + H[7]! * y + H[8]!;
  const u = (H[0]! * x + H[1]! * y + H[2]!) / wq, t = (H[3]! * x + H[4]! * y + H[5]!) / wq;
  // output pixel k covers [k - 0.5, k + 0.5] in output coordinates; reference pixel centre c -> (c + 0.5) * scale - 0.5
  const cx = (u + 0.5) * scale - 0.5, cy = (t + 0.5) * scale - 0.5;
  const xa = cx - half, xb = cx + half, ya = cy - half, yb = cy + half;
  const i0 = Math.max(0, Math.round(xa)), i1 = Math.min(OW - 1, Math.round(xb));
  const j0 = Math.max(0, Math.round(ya)), j1 = Math.min(OH - 1, Math.round(yb));
  for (let j = j0; j <= j1; j++) {
    const oy = Math.min(yb, j + 0.5) - Math.max(ya, j - 0.5);
    if (oy <= 0) continue;
    for (let i = i0; i <= i1; i++) {
      const ox = Math.min(xb, i + 0.5) - Math.max(xa, i - 0.5);
      if (ox <= 0) continue;
      const wgt = ((ox * oy) / area) * frameWeight;
      data[j * OW + i] = data[j * OW + i]! + wgt * v;
      weight[j * OW + i] = weight[j * OW + i]! + wgt;
    }
  }
}

/** Surface brightness per output pixel (same unit per pixel as the input: flux is NOT divided by scale^2). */
export function drizzleResult(acc: DrizzleAccumulator): Float32Array {
  const out = new Float32Array(acc.data.length);
  for (let i = 0; i < out.length; i++) out[i] = acc.weight[i]! > 0 ? acc.data[i]! / acc.weight[i]! : NaN;
  return out;
}
