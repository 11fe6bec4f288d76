/**
 * The auto screen transfer function (STF) parameters, as PixInsight's auto-stretch defines them
 * (docs/algorithms.md#stf): per channel, the data are normalized to [0, 1] by the
 * min/max of all channels, a shadows clipping point c0 = median + k * MADN (k = -2.8, MADN =
 * 1.4826 * MAD) is set, and the midtones balance m is chosen so that the median lands on the target
 * background (0.25) after the midtones transfer function. Linked: one STF for all channels (from
 * their mean median and MADN); unlinked: one per channel, which also neutralizes a colour cast.
 *
 * ONE definition for the server's previews (render/stretch.ts) and the browser viewer
 * (web/src/stf.ts): plain Float32Array planes in, no Node imports (the web bundle uses it).
 */
import { MAD_TO_SIGMA, mad, median } from '../image/stats.js';
import { midtonesFor } from './mtf.js';

/** Input range mapped to [0, 1] before the STF (ADU). */
export interface StfRange {
  low: number;
  high: number;
}

export interface Stf extends StfRange {
  /** Shadows clipping point, midtones balance, highlights point, in normalized units. */
  c0: number;
  m: number;
  c1: number;
}

export interface AutoStretchOptions {
  shadowsClip?: number;
  targetBackground?: number;
  linked?: boolean;
}

/** PixInsight's auto-stretch defaults: shadows clipping -2.8 MADN, target background 0.25. */
export const STF_SHADOWS_CLIP = -2.8;
export const STF_TARGET_BACKGROUND = 0.25;
/** Statistics are exact for planes up to this many pixels, from a strided subsample above. */
export const STF_SAMPLE_MAX = 4_000_000;

/** The strided subsample the statistics use: every ceil(n / max)-th pixel (the plane itself when n <= max). */
export function stfSample(a: Float32Array, max = STF_SAMPLE_MAX): Float32Array {
  if (a.length <= max) return a;
  const step = Math.ceil(a.length / max);
  const out = new Float32Array(Math.ceil(a.length / step));
  for (let i = 0, j = 0; i < a.length; i += step) out[j++] = a[i]!;
  return out;
}

/** Smallest and largest non-NaN value over all planes (+-Infinity when there is none). */
function extremes(planes: readonly Float32Array[]): StfRange {
  let low = Infinity;
  let high = -Infinity;
  for (const p of planes)
    for (let i = 0; i < p.length; i++) {
      const v = p[i]!;
      if (v < low) low = v;
      if (v > high) high = v;
    }
  return { low, high };
}

/** The normalization range of the planes: their min/max ([0, 1] when all NaN, [v, v + 1] when flat). */
export function stfRange(planes: readonly Float32Array[]): StfRange {
  const { low, high } = extremes(planes);
  if (!Number.isFinite(low)) return { low: 0, high: 1 };
  if (!(high > low)) return { low, high: low + 1 };
  return { low, high };
}

/** The auto STF of each plane (the same object for every plane when linked, the default). */
export function autoStfParams(planes: readonly Float32Array[], opts: AutoStretchOptions = {}): Stf[] {
  const k = opts.shadowsClip ?? STF_SHADOWS_CLIP;
  const target = opts.targetBackground ?? STF_TARGET_BACKGROUND;
  const { low, high } = extremes(planes);
  if (!Number.isFinite(low) || !(high > low)) {
    const r = stfRange(planes);
    return planes.map(() => ({ ...r, c0: 0, m: 0.5, c1: 1 }));
  }
  const span = high - low;
  const per = planes.map((d) => {
    const s = stfSample(d);
    const med = median(s);
    return { med: (med - low) / span, madn: (MAD_TO_SIGMA * mad(s, med)) / span };
  });
  const make = (med: number, madn: number): Stf => {
    const c0 = Math.min(Math.max(med + k * madn, 0), 1);
    const x = c0 < 1 ? (med - c0) / (1 - c0) : 0.5;
    return { low, high, c0, m: midtonesFor(x, target), c1: 1 };
  };
  if (opts.linked !== false || planes.length === 1) {
    const med = per.reduce((a, p) => a + p.med, 0) / per.length;
    const madn = per.reduce((a, p) => a + p.madn, 0) / per.length;
    const stf = make(med, madn);
    return planes.map(() => stf);
  }
  return per.map((p) => make(p.med, p.madn));
}
