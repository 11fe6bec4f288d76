/**
 * Resampling of a plane through a transform. For each output pixel (reference grid) the source position is
 * `inv(H) (x, y)`; positions outside the source ([-0.5, w - 0.5) x [-0.5, h - 0.5)) give NaN, so
 * integration ignores them. Kernels: Lanczos-3 (default) with PixInsight-style clamping against ringing
 * (in each 1-D pass, when the negative-lobe contribution exceeds `clamp` (default 0.3) of the positive one,
 * the negative lobes are dropped; contributions are measured on the values as they are, so a bright pixel next to
 * the sky triggers it and smooth data do not), bicubic (Keys, a = -0.5), bilinear, nearest. Taps beyond the edge replicate it.
 */
import { invert, type Mat3 } from './transform.js';

export type Interp = 'lanczos3' | 'bicubic' | 'bilinear' | 'nearest';

const LUT_RES = 4096;
const LANCZOS = (() => {
  const t = new Float64Array(3 * LUT_RES + 2);
  for (let i = 0; i < t.length; i++) {
    const x = i / LUT_RES;
    if (x === 0) t[i] = 1;
    else if (x >= 3) t[i] = 0;
    else {
      const px = Math.PI * x;
      t[i] = (3 * Math.sin(px) * Math.sin(px / 3)) / (px * px);
    }
  }
  return t;
})();

function lanczos(x: number): number {
  const a = Math.abs(x) * LUT_RES;
  const i = a | 0;
  if (i >= 3 * LUT_RES) return 0;
  const f = a - i;
  return LANCZOS[i]! + f * (LANCZOS[i + 1]! - LANCZOS[i]!);
}

function cubic(x: number): number {
  const a = Math.abs(x);
  if (a < 1) return (1.5 * a - 2.5) * a * a + 1;
  if (a < 2) return ((-0.5 * a + 2.5) * a - 4) * a + 2;
  return 0;
}

/** Warp `src` (w x h) to an outW x outH plane; `H` maps source (frame) coordinates to output coordinates. */
export function warpPlane(src: Float32Array, w: number, h: number, H: Mat3, outW: number, outH: number, interp: Interp = 'lanczos3', clamp = 0.3): Float32Array {
  const inv = invert(H);
  const out = new Float32Array(outW * outH);
  const radius = interp === 'lanczos3' ? 3 : interp === 'bicubic' ? 2 : 1;
  const n = 2 * radius;
  const wx = new Float64Array(n);
  const wy = new Float64Array(n);
  const col = new Float64Array(n);
  const kern = interp === 'lanczos3' ? lanczos : cubic;
  const doClamp = interp === 'lanczos3' && clamp > 0;
  const pass = (vals: Float64Array, ws: Float64Array): number => {
    let s = 0;
    if (!doClamp) {
      for (let i = 0; i < n; i++) s += vals[i]! * ws[i]!;
      return s;
    }
    // values are taken as they are (ADU >= 0, as PixInsight's [0, 1] data); negative data are shifted to >= 0
    let m = 0;
    for (let i = 0; i < n; i++) if (vals[i]! < m) m = vals[i]!;
    let sp = 0, sn = 0, wp = 0;
    for (let i = 0; i < n; i++) {
      const t = (vals[i]! - m) * ws[i]!;
      if (ws[i]! < 0) sn -= t;
      else { sp += t; wp += ws[i]!; }
    }
    if (sp > 0 && sn / sp > clamp) return m + sp / wp;
    return m + sp - sn;
  };
  for (let oy = 0; oy < outH; oy++) {
    for (let ox = 0; ox < outW; ox++) {
      const iw = 1 / (inv[6]! * ox + inv[7]! * oy + inv[8]!);
      const sx = (inv[0]! * ox + inv[1]! * oy + inv[2]!) * iw;
      const sy = (inv[3]! * ox + inv[4]! * oy + inv[5]!) * iw;
      const o = oy * outW + ox;
      if (!(sx >= -0.5 && sx < w - 0.5 && sy >= -0.5 && sy < h - 0.5)) { out[o] = NaN; continue; }
      if (interp === 'nearest') { out[o] = src[Math.round(sy) * w + Math.round(sx)]!; continue; }
      if (interp === 'bilinear') {
        const x0 = Math.floor(sx), y0 = Math.floor(sy);
        const fx = sx - x0, fy = sy - y0;
        const xa = Math.max(0, x0), xb = Math.min(w - 1, x0 + 1), ya = Math.max(0, y0), yb = Math.min(h - 1, y0 + 1);
        out[o] = (1 - fy) * ((1 - fx) * src[ya * w + xa]! + fx * src[ya * w + xb]!) + fy * ((1 - fx) * src[yb * w + xa]! + fx * src[yb * w + xb]!);
        continue;
      }
      const x0 = Math.floor(sx) - radius + 1;
      const y0 = Math.floor(sy) - radius + 1;
      let swx = 0, swy = 0;
      for (let i = 0; i < n; i++) { wx[i] = kern(sx - (x0 + i)); swx += wx[i]!; wy[i] = kern(sy - (y0 + i)); swy += wy[i]!; }
      for (let i = 0; i < n; i++) { wx[i] = wx[i]! / swx; wy[i] = wy[i]! / swy; }
      let nan = false;
      for (let j = 0; j < n; j++) {
        const yy = Math.min(h - 1, Math.max(0, y0 + j));
        const row = yy * w;
        const vals = col; // reuse as the row buffer, then store the result back into `col[j]` via tmp
        let s: number;
        // gather the row taps
        const rowVals = ROWBUF.length >= n ? ROWBUF : (ROWBUF = new Float64Array(n));
        for (let i = 0; i < n; i++) {
          const xx = Math.min(w - 1, Math.max(0, x0 + i));
          rowVals[i] = src[row + xx]!;
        }
        s = pass(rowVals, wx);
        if (!(s === s)) nan = true;
        vals[j] = s;
      }
      out[o] = nan ? NaN : pass(col, wy);
    }
  }
  return out;
}
let ROWBUF = new Float64Array(6);
