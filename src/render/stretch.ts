/**
 * Screen transfer function (STF), as PixInsight's auto-stretch defines it: per channel, the data
 * are normalized to [0, 1], a shadows clipping point c0 = median + k * MADN (k = -2.8, MADN =
 * 1.4826 * MAD) is set, and the midtones balance m is chosen so that the median lands on the target
 * background (0.25) after the midtones transfer function MTF(m, x) = (m - 1) x / ((2m - 1) x - m).
 * Linked: one STF for all channels (from their mean median and MAD); unlinked: one per channel,
 * which also neutralizes a colour cast of the background.
 */
import type { Image } from '../image/image.js';
import { mad, median, minMax } from '../image/stats.js';
import { mtf, midtonesFor } from './mtf.js';

export interface Stf {
  /** Input range mapped to [0, 1] before the STF (ADU). */
  low: number;
  high: number;
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

export { mtf, midtonesFor };

/** A strided subsample for statistics of very large planes (exact for planes up to `max` pixels). */
function sample(a: Float32Array, max = 4_000_000): Float32Array {
  if (a.length <= max) return a;
  const step = Math.ceil(a.length / max);
  const out = new Float32Array(Math.ceil(a.length / step));
  for (let i = 0, j = 0; i < a.length; i += step) out[j++] = a[i]!;
  return out;
}

export function autoStf(img: Image, opts: AutoStretchOptions = {}): Stf[] {
  const k = opts.shadowsClip ?? -2.8;
  const target = opts.targetBackground ?? 0.25;
  // One normalization range for all channels so that colour balance is kept in linked mode.
  let low = Infinity;
  let high = -Infinity;
  for (const d of img.data) {
    const r = minMax(d);
    if (r.min < low) low = r.min;
    if (r.max > high) high = r.max;
  }
  if (!Number.isFinite(low) || !(high > low)) {
    return img.data.map(() => ({ low: Number.isFinite(low) ? low : 0, high: Number.isFinite(low) ? low + 1 : 1, c0: 0, m: 0.5, c1: 1 }));
  }
  const span = high - low;
  const per = img.data.map((d) => {
    const s = sample(d);
    const med = median(s);
    return { med: (med - low) / span, madn: (1.482602218505602 * mad(s, med)) / span };
  });
  const make = (med: number, madn: number): Stf => {
    const c0 = Math.min(Math.max(med + k * madn, 0), 1);
    const x = c0 < 1 ? (med - c0) / (1 - c0) : 0.5;
    return { low, high, c0, m: midtonesFor(x, target), c1: 1 };
  };
  if (opts.linked !== false || img.channels === 1) {
    const med = per.reduce((a, p) => a + p.med, 0) / per.length;
    const madn = per.reduce((a, p) => a + p.madn, 0) / per.length;
    const stf = make(med, madn);
    return img.data.map(() => stf);
  }
  return per.map((p) => make(p.med, p.madn));
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
