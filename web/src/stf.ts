/**
 * Auto STF on the client, the same formulas as src/render/stretch.ts (PixInsight's auto-stretch),
 * from a strided subsample: normalize by the min/max of all channels, c0 = median + k * MADN
 * (k = -2.8, MADN = 1.4826 MAD), midtones m such that MTF(m, (median - c0) / (1 - c0)) = 0.25.
 */
// The same MTF as the server's previews (one definition).
import { mtf, midtonesFor } from '../../src/render/mtf.js';

export { mtf, midtonesFor };

export interface Stf {
  c0: number;
  m: number;
  c1: number;
}

export interface Range {
  low: number;
  high: number;
}

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

function medianOf(a: Float32Array): number {
  const s = Float32Array.from(a).sort();
  const n = s.length;
  if (n === 0) return NaN;
  return n % 2 ? s[n >> 1]! : (s[n / 2 - 1]! + s[n / 2]!) / 2;
}

export function range(planes: Float32Array[]): Range {
  let low = Infinity;
  let high = -Infinity;
  for (const p of planes)
    for (let i = 0; i < p.length; i++) {
      const v = p[i]!;
      if (v < low) low = v;
      if (v > high) high = v;
    }
  if (!Number.isFinite(low)) return { low: 0, high: 1 };
  if (!(high > low)) return { low, high: low + 1 };
  return { low, high };
}

export function autoStf(planes: Float32Array[], r: Range, linked: boolean, k = -2.8, target = 0.25): Stf[] {
  const span = r.high - r.low;
  const per = planes.map((p) => {
    const s = subsample(p);
    const med = medianOf(s);
    const dev = new Float32Array(s.length);
    for (let i = 0; i < s.length; i++) dev[i] = Math.abs(s[i]! - med);
    return { med: (med - r.low) / span, madn: (1.482602218505602 * medianOf(dev)) / span };
  });
  const make = (med: number, madn: number): Stf => {
    const c0 = Math.min(Math.max(med + k * madn, 0), 1);
    const x = c0 < 1 ? (med - c0) / (1 - c0) : 0.5;
    return { c0, m: midtonesFor(x, target), c1: 1 };
  };
  if (linked || planes.length === 1) {
    const med = per.reduce((a, p) => a + p.med, 0) / per.length;
    const madn = per.reduce((a, p) => a + p.madn, 0) / per.length;
    const s = make(med, madn);
    return planes.map(() => ({ ...s }));
  }
  return per.map((p) => make(p.med, p.madn));
}

/** Log-count histogram of [low, high] in `bins` bins, from a subsample of the first (or mean) plane. */
export function histogram(planes: Float32Array[], r: Range, bins = 256): Float64Array {
  const h = new Float64Array(bins);
  const span = r.high - r.low;
  for (const p of planes) {
    const s = subsample(p, 200_000);
    for (let i = 0; i < s.length; i++) {
      const b = Math.min(bins - 1, Math.max(0, Math.floor(((s[i]! - r.low) / span) * bins)));
      h[b]! += 1;
    }
  }
  for (let i = 0; i < bins; i++) h[i] = Math.log1p(h[i]!);
  return h;
}
