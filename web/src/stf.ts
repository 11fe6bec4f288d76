/**
 * Auto STF on the client: the server's own definition (src/render/stf.ts, PixInsight's auto-stretch;
 * docs/algorithms.md#stf), imported into the bundle as the MTF is, so that the
 * viewer and the server's previews give the same parameters for the same image. The histogram of
 * the viewer is also here.
 */
import { mtf, midtonesFor } from '../../src/render/mtf.js';
import { autoStfParams, stfRange, type StfRange } from '../../src/render/stf.js';

export { mtf, midtonesFor };

/** Shadows clipping point, midtones balance, highlights point, in units of the range. */
export interface Stf {
  c0: number;
  m: number;
  c1: number;
}

export type Range = StfRange;

/** The normalization range of the planes (min/max of all channels). */
export function range(planes: Float32Array[]): Range {
  return stfRange(planes);
}

/** The auto STF of each plane, over `range(planes)`: the same numbers as the server's autoStf. */
export function autoStf(planes: Float32Array[], linked: boolean, k?: number, target?: number): Stf[] {
  return autoStfParams(planes, { linked, shadowsClip: k, targetBackground: target }).map(({ c0, m, c1 }) => ({ c0, m, c1 }));
}

/** Every ceil(n / max)-th non-NaN value of `a` (a strided subsample for the histogram). */
export function subsample(a: Float32Array, max = 250_000): Float32Array {
  const step = Math.max(1, Math.ceil(a.length / max));
  const out = new Float32Array(Math.ceil(a.length / step));
  let j = 0;
  for (let i = 0; i < a.length; i += step) {
    const v = a[i]!;
    if (v === v) out[j++] = v;
  }
  return out.subarray(0, j);
}

/** Log-count histogram of [low, high] in `bins` bins, from a subsample of every plane. */
export function histogram(planes: Float32Array[], r: Range, bins = 256, dropOutside = false): Float64Array {
  const h = new Float64Array(bins);
  const span = r.high - r.low;
  for (const p of planes) {
    const s = subsample(p, 200_000);
    for (let i = 0; i < s.length; i++) {
      const f = ((s[i]! - r.low) / span) * bins;
      // zoomed in: values beyond the shown range are left out (not piled into the end bins)
      if (dropOutside && !(f >= 0 && f < bins)) continue;
      const b = Math.min(bins - 1, Math.max(0, Math.floor(f)));
      h[b]! += 1;
    }
  }
  for (let i = 0; i < bins; i++) h[i] = Math.log1p(h[i]!);
  return h;
}
