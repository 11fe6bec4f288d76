/**
 * Mono drizzle (Fruchter & Hook) with a square kernel: each input pixel's drop, shrunk by `pixfrac`,
 * is mapped onto an output grid `scale` times finer; its centre goes through the transform and the drop is
 * taken as an axis-aligned square of side pixfrac * scale * sqrt|det J| (exact for shifts and 90-degree
 * multiples, the usual "turbo" approximation otherwise). Values are spread by exact area overlap;
 * output = sum(w v) / sum(w); pixels no drop touched are NaN.
 */
import { apply, type Mat3 } from './transform.js';

export interface DrizzleAccumulator { data: Float64Array; weight: Float64Array; width: number; height: number; scale: number }

export function createDrizzle(refWidth: number, refHeight: number, scale: number): DrizzleAccumulator {
  const width = Math.round(refWidth * scale), height = Math.round(refHeight * scale);
  return { data: new Float64Array(width * height), weight: new Float64Array(width * height), width, height, scale };
}

/** Add a frame; `H` maps frame pixel coordinates to reference coordinates. */
export function drizzleAdd(acc: DrizzleAccumulator, src: Float32Array, w: number, h: number, H: Mat3, pixfrac = 1, frameWeight = 1): void {
  const { scale, width: OW, height: OH, data, weight } = acc;
  const det = Math.abs(H[0]! * H[4]! - H[1]! * H[3]!);
  const half = 0.5 * pixfrac * scale * Math.sqrt(det);
  const area = 4 * half * half;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const v = src[y * w + x]!;
      if (!(v === v)) continue;
      const [u, t] = apply(H, x, y);
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
  }
}

/** Surface brightness per output pixel (same unit per pixel as the input: flux is NOT divided by scale^2). */
export function drizzleResult(acc: DrizzleAccumulator): Float32Array {
  const out = new Float32Array(acc.data.length);
  for (let i = 0; i < out.length; i++) out[i] = acc.weight[i]! > 0 ? acc.data[i]! / acc.weight[i]! : NaN;
  return out;
}
