/**
 * Demosaicing of CFA mosaics into 3-plane RGB images (planes R, G, B); docs/algorithms.md#color.
 *
 *  - superpixel: each 2x2 Bayer cell -> one RGB pixel (R, mean of the two G, B); half size, no
 *    interpolation. Bayer only.
 *  - bilinear: every missing colour is the mean of the same-colour samples in the 3x3 window
 *    (falling back to 5x5 when the 3x3 has none). For Bayer this is exactly classical bilinear
 *    demosaicing (G from the 4 axial neighbours, R/B from 2 axial or 4 diagonal ones); it works for
 *    any pattern, including X-Trans.
 *  - vng: Variable Number of Gradients (Chang, Cheng & Pang 1999): 8 directional gradients from
 *    same-colour pairs in the 5x5 window, threshold T = 1.5 min + 0.5 (max - min), the missing colours
 *    are the own sample plus the mean colour difference over the selected directions. Bayer only.
 *  - rcd: Ratio Corrected Demosaicing (L. Sanz Rodriguez, v2.3 as in RawTherapee/librtprocess):
 *    vertical/horizontal discrimination from high-pass colour differences, green from
 *    low-pass-ratio-corrected directional estimates, R/B from diagonal and axial colour differences.
 *    Bayer only.
 *
 * NaN samples never spread: they are first filled from valid same-colour neighbours (bilinear); where
 * none exist within a few passes the output is NaN near that pixel only. VNG and RCD use the bilinear
 * result on a 2- or 4-pixel border.
 */
import { type Cfa, cfaName, isBayer, GREEN } from './cfa.js';
import { createImage, type Image } from '../image/image.js';
import { DarkroomError } from '../util/errors.js';
import { dropNoiseKeywords, readNoiseKeywords, stampStatistics } from '../image/noise-keywords.js';

export const DEBAYER_METHODS = ['superpixel', 'bilinear', 'vng', 'rcd'] as const;
export type DebayerMethod = (typeof DEBAYER_METHODS)[number];

/** Planes R, G, B of a demosaiced mosaic. */
export interface RgbPlanes {
  width: number;
  height: number;
  data: [Float32Array, Float32Array, Float32Array];
}

function colorMap(cfa: Cfa, width: number, height: number): Uint8Array {
  const n = cfa.size;
  const map = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    const rb = (y % n) * n;
    const row = y * width;
    for (let x = 0; x < width; x++) map[row + x] = cfa.colors[rb + (x % n)]!;
  }
  return map;
}

function requireBayer(cfa: Cfa, method: string): void {
  if (!isBayer(cfa)) {
    throw new DarkroomError('UNSUPPORTED', `${method} debayering needs a 2x2 Bayer pattern (got X-Trans ${cfaName(cfa)}); use --method bilinear`);
  }
}

/** Super-pixel: (W/2) x (H/2) RGB; an odd last row/column is dropped. NaN greens fall back to the other green. */
export function debayerSuperpixel(src: Float32Array, width: number, height: number, cfa: Cfa): RgbPlanes {
  requireBayer(cfa, 'super-pixel');
  const w = width >> 1;
  const h = height >> 1;
  const r = new Float32Array(w * h);
  const g = new Float32Array(w * h);
  const b = new Float32Array(w * h);
  // offsets of R, B and the two G inside the cell
  let ri = 0;
  let bi = 0;
  const gi: number[] = [];
  for (let k = 0; k < 4; k++) {
    const off = (k >> 1) * width + (k & 1);
    const c = cfa.colors[k]!;
    if (c === 0) ri = off;
    else if (c === 2) bi = off;
    else gi.push(off);
  }
  const g0 = gi[0]!;
  const g1 = gi[1]!;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const base = 2 * y * width + 2 * x;
      const o = y * w + x;
      r[o] = src[base + ri]!;
      b[o] = src[base + bi]!;
      const a = src[base + g0]!;
      const c = src[base + g1]!;
      g[o] = a !== a ? c : c !== c ? a : 0.5 * (a + c);
    }
  }
  return { width: w, height: h, data: [r, g, b] };
}

/**
 * Bilinear (same-colour mean in the 3x3 window, 5x5 where the 3x3 has none). NaN samples are skipped;
 * a NaN pixel gets its own colour from its same-colour neighbours too. NaN only where nothing valid
 * of that colour lies within 2 pixels.
 */
export function debayerBilinear(src: Float32Array, width: number, height: number, cfa: Cfa): RgbPlanes {
  const map = colorMap(cfa, width, height);
  const out: [Float32Array, Float32Array, Float32Array] = [
    new Float32Array(width * height),
    new Float32Array(width * height),
    new Float32Array(width * height),
  ];
  const s = new Float64Array(3);
  const n = new Int32Array(3);
  /** Sums and counts by colour of the non-NaN values in the (2r+1)^2 window around (x, y), clipped at the borders. */
  const gather = (x: number, y: number, r: number): void => {
    const ya = Math.max(0, y - r);
    const yb = Math.min(height - 1, y + r);
    const xa = Math.max(0, x - r);
    const xb = Math.min(width - 1, x + r);
    s[0] = s[1] = s[2] = 0;
    n[0] = n[1] = n[2] = 0;
    for (let yy = ya; yy <= yb; yy++) {
      const row = yy * width;
      for (let xx = xa; xx <= xb; xx++) {
        const v = src[row + xx]!;
        if (v !== v) continue;
        const c = map[row + xx]!;
        s[c]! += v;
        n[c]!++;
      }
    }
  };
  const pixel = (x: number, y: number): void => {
    gather(x, y, 1);
    const i = y * width + x;
    const own = map[i]!;
    const v0 = src[i]!;
    let need = 0;
    for (let c = 0; c < 3; c++) {
      if (c === own && v0 === v0) out[c][i] = v0;
      else if (n[c]! > 0) out[c][i] = s[c]! / n[c]!;
      else need |= 1 << c;
    }
    if (need !== 0) {
      // 5x5 window for the colours missing from the 3x3 (X-Trans; a NaN Bayer R/B site)
      gather(x, y, 2);
      for (let c = 0; c < 3; c++) if (need & (1 << c)) out[c][i] = n[c]! > 0 ? s[c]! / n[c]! : NaN;
    }
  };
  let fast = isBayer(cfa) && width >= 3 && height >= 3;
  if (fast) for (let i = 0; i < src.length; i++) if (src[i]! !== src[i]!) { fast = false; break; }
  if (!fast) {
    for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) pixel(x, y);
    return { width, height, data: out };
  }
  // Bayer without NaN: closed-form interior, generic code on the 1-pixel border
  for (let x = 0; x < width; x++) {
    pixel(x, 0);
    pixel(x, height - 1);
  }
  for (let y = 1; y < height - 1; y++) {
    pixel(0, y);
    pixel(width - 1, y);
    const row = y * width;
    for (let x = 1; x < width - 1; x++) {
      const i = row + x;
      const own = map[i]!;
      const v = src[i]!;
      const ax = src[i - 1]! + src[i + 1]!;
      const ay = src[i - width]! + src[i + width]!;
      if (own !== GREEN) {
        out[own][i] = v;
        out[1][i] = 0.25 * (ax + ay);
        out[2 - own][i] = 0.25 * (src[i - width - 1]! + src[i - width + 1]! + src[i + width - 1]! + src[i + width + 1]!);
      } else {
        out[1][i] = v;
        out[map[i + 1]!][i] = 0.5 * ax;
        out[map[i + width]!][i] = 0.5 * ay;
      }
    }
  }
  return { width, height, data: out };
}

/**
 * Fill NaN samples of a mosaic from valid same-colour neighbours (repeated bilinear passes). Returns
 * the filled copy and a mask of pixels that could not be filled (large NaN areas), or null mask.
 */
export function fillMosaicNaN(src: Float32Array, width: number, height: number, cfa: Cfa, passes = 6): { filled: Float32Array; bad: Uint8Array | null } {
  let nan = 0;
  for (let i = 0; i < src.length; i++) if (src[i]! !== src[i]!) nan++;
  if (nan === 0) return { filled: src, bad: null };
  const map = colorMap(cfa, width, height);
  let cur = src.slice();
  for (let p = 0; p < passes && nan > 0; p++) {
    const bil = debayerBilinear(cur, width, height, cfa);
    nan = 0;
    for (let i = 0; i < cur.length; i++) {
      if (cur[i]! !== cur[i]!) {
        const v = bil.data[map[i]!]![i]!;
        if (v === v) cur[i] = v;
        else nan++;
      }
    }
    cur = cur.slice();
  }
  if (nan === 0) return { filled: cur, bad: null };
  const bad = new Uint8Array(width * height);
  for (let i = 0; i < cur.length; i++) {
    if (cur[i]! !== cur[i]!) {
      bad[i] = 1;
      cur[i] = 0;
    }
  }
  return { filled: cur, bad };
}

/** Set all planes to NaN within `radius` of any bad pixel. */
function poisonAround(out: RgbPlanes, bad: Uint8Array, radius: number): void {
  const { width, height } = out;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (!bad[y * width + x]) continue;
      for (let yy = Math.max(0, y - radius); yy <= Math.min(height - 1, y + radius); yy++) {
        for (let xx = Math.max(0, x - radius); xx <= Math.min(width - 1, x + radius); xx++) {
          const j = yy * width + xx;
          out.data[0][j] = out.data[1][j] = out.data[2][j] = NaN;
        }
      }
    }
  }
}

// 8 directions: N, S, W, E, NW, NE, SW, SE as (dy, dx)
const DIRS: ReadonlyArray<readonly [number, number]> = [
  [-1, 0], [1, 0], [0, -1], [0, 1], [-1, -1], [-1, 1], [1, -1], [1, 1],
];

/** VNG (see module comment) on a NaN-free Bayer mosaic. */
export function debayerVNG(src: Float32Array, width: number, height: number, cfa: Cfa): RgbPlanes {
  requireBayer(cfa, 'VNG');
  const { filled: P, bad } = fillMosaicNaN(src, width, height, cfa);
  const out = debayerBilinear(P, width, height, cfa);
  const map = colorMap(cfa, width, height);
  const W = width;
  // Precompute, per direction: gradient pairs (a, b, weight) and region cell lists (primary, secondary)
  interface Dir { pairs: Int32Array; weights: Float32Array; prim: Int32Array; sec: Int32Array }
  const dirs: Dir[] = DIRS.map(([dy, dx]) => {
    const off = (y: number, x: number) => y * W + x;
    const pairs: number[] = [];
    const weights: number[] = [];
    const add = (ay: number, ax: number, by: number, bx: number, w: number) => {
      pairs.push(off(ay, ax), off(by, bx));
      weights.push(w);
    };
    // centre pairs: p-d .. p+d and p .. p+2d
    add(-dy, -dx, dy, dx, 1);
    add(0, 0, 2 * dy, 2 * dx, 1);
    let prim: number[];
    let sec: number[];
    if (dy === 0 || dx === 0) {
      const ey = dx;
      const ex = dy; // perpendicular
      for (const s of [1, -1]) {
        add(s * ey - dy, s * ex - dx, s * ey + dy, s * ex + dx, 0.5);
        add(s * ey, s * ex, s * ey + 2 * dy, s * ex + 2 * dx, 0.5);
      }
      prim = [off(0, 0), off(dy, dx), off(2 * dy, 2 * dx), off(dy + ey, dx + ex), off(dy - ey, dx - ex)];
      sec = [off(ey, ex), off(-ey, -ex), off(2 * dy + ey, 2 * dx + ex), off(2 * dy - ey, 2 * dx - ex)];
    } else {
      // side pairs start at p - a and p - b, a = (dy, 0), b = (0, dx)
      add(-dy, 0, -dy + 2 * dy, 2 * dx, 1);
      add(0, -dx, 2 * dy, -dx + 2 * dx, 1);
      prim = [off(0, 0), off(dy, dx), off(2 * dy, 2 * dx), off(dy, 0), off(0, dx), off(2 * dy, dx), off(dy, 2 * dx)];
      sec = [];
    }
    return { pairs: Int32Array.from(pairs), weights: Float32Array.from(weights), prim: Int32Array.from(prim), sec: Int32Array.from(sec) };
  });
  const grad = new Float64Array(8);
  const est = new Float64Array(3);
  const sum = new Float64Array(3);
  const cnt = new Int32Array(3);
  for (let y = 2; y < height - 2; y++) {
    for (let x = 2; x < width - 2; x++) {
      const i = y * W + x;
      let gmin = Infinity;
      let gmax = -Infinity;
      for (let d = 0; d < 8; d++) {
        const D = dirs[d]!;
        let g = 0;
        for (let k = 0; k < D.weights.length; k++) g += D.weights[k]! * Math.abs(P[i + D.pairs[2 * k]!]! - P[i + D.pairs[2 * k + 1]!]!);
        grad[d] = g;
        if (g < gmin) gmin = g;
        if (g > gmax) gmax = g;
      }
      const T = 1.5 * gmin + 0.5 * (gmax - gmin);
      let nsel = 0;
      sum[0] = sum[1] = sum[2] = 0;
      for (let d = 0; d < 8; d++) {
        if (grad[d]! > T) continue;
        const D = dirs[d]!;
        cnt[0] = cnt[1] = cnt[2] = 0;
        est[0] = est[1] = est[2] = 0;
        for (let k = 0; k < D.prim.length; k++) {
          const j = i + D.prim[k]!;
          const c = map[j]!;
          est[c]! += P[j]!;
          cnt[c]!++;
        }
        const missing = (cnt[0] === 0 ? 1 : 0) | (cnt[1] === 0 ? 2 : 0) | (cnt[2] === 0 ? 4 : 0);
        if (missing !== 0) {
          for (let k = 0; k < D.sec.length; k++) {
            const j = i + D.sec[k]!;
            const c = map[j]!;
            if (missing & (1 << c)) {
              est[c]! += P[j]!;
              cnt[c]!++;
            }
          }
        }
        for (let c = 0; c < 3; c++) sum[c]! += cnt[c]! > 0 ? est[c]! / cnt[c]! : 0;
        nsel++;
      }
      const own = map[i]!;
      const v = P[i]!;
      for (let c = 0; c < 3; c++) out.data[c]![i] = c === own ? v : v + (sum[c]! - sum[own]!) / nsel;
    }
  }
  if (bad) poisonAround(out, bad, 2);
  return out;
}

/** RCD's working set: the mosaic and the three planes normalized to [0, 1], and the CFA colour of each pixel. */
interface Rcd {
  cf: Float32Array;
  rgb: readonly [Float32Array, Float32Array, Float32Array];
  map: Uint8Array;
  width: number;
  height: number;
}

const RCD_EPS = 1e-5;
const RCD_EPSSQ = 1e-10;
const sq = (v: number): number => v * v;
const clamp01 = (v: number): number => (v < 0 ? 0 : v > 1 ? 1 : v);

/** Of a pixel's discrimination value and the mean of its four diagonal neighbours, the one further from 0.5. */
function refinedDiscrimination(D: Float32Array, i: number, W: number): number {
  const central = D[i]!;
  const neigh = 0.25 * (D[i - W - 1]! + D[i - W + 1]! + D[i + W - 1]! + D[i + W + 1]!);
  return Math.abs(0.5 - central) < Math.abs(0.5 - neigh) ? neigh : central;
}

/**
 * Directional discrimination: the squared high-pass along each of two directions (pixel steps a and b) summed over
 * three pixels along it, as v / (v + h) (0.5 where undefined).
 */
function rcdDiscrimination(r: Rcd, a: number, b: number): Float32Array {
  const { cf, width, height } = r;
  const N = width * height;
  const bufA = new Float32Array(N);
  const bufB = new Float32Array(N);
  for (let y = 3; y < height - 3; y++) {
    for (let x = 3; x < width - 3; x++) {
      const i = y * width + x;
      bufA[i] = sq(cf[i - 3 * a]! - cf[i - a]! - cf[i + a]! + cf[i + 3 * a]! - 3 * (cf[i - 2 * a]! + cf[i + 2 * a]!) + 6 * cf[i]!);
      bufB[i] = sq(cf[i - 3 * b]! - cf[i - b]! - cf[i + b]! + cf[i + 3 * b]! - 3 * (cf[i - 2 * b]! + cf[i + 2 * b]!) + 6 * cf[i]!);
    }
  }
  const D = new Float32Array(N).fill(0.5);
  for (let y = 4; y < height - 4; y++) {
    for (let x = 4; x < width - 4; x++) {
      const i = y * width + x;
      const v = Math.max(RCD_EPSSQ, bufA[i - a]! + bufA[i]! + bufA[i + a]!);
      const h = Math.max(RCD_EPSSQ, bufB[i - b]! + bufB[i]! + bufB[i + b]!);
      D[i] = v / (v + h);
    }
  }
  return D;
}

/** Step 2: low-pass filter at R/B sites. */
function rcdLowPass(r: Rcd): Float32Array {
  const { cf, map, width: W, height } = r;
  const lpf = new Float32Array(W * height);
  for (let y = 1; y < height - 1; y++) {
    for (let x = 1; x < W - 1; x++) {
      const i = y * W + x;
      if (map[i] === GREEN) continue;
      lpf[i] = cf[i]! + 0.5 * (cf[i - W]! + cf[i + W]! + cf[i - 1]! + cf[i + 1]!) + 0.25 * (cf[i - W - 1]! + cf[i - W + 1]! + cf[i + W - 1]! + cf[i + W + 1]!);
    }
  }
  return lpf;
}

/** Step 3: green at R/B sites, from the low-pass-corrected neighbours, weighted by the V/H discrimination. */
function rcdGreen(r: Rcd, VH: Float32Array, lpf: Float32Array): void {
  const { cf, map, width: W, height } = r;
  const eps = RCD_EPS, w1 = W, w2 = 2 * W, w3 = 3 * W, w4 = 4 * W;
  for (let y = 4; y < height - 4; y++) {
    for (let x = 4; x < W - 4; x++) {
      const i = y * W + x;
      if (map[i] === GREEN) continue;
      const disc = refinedDiscrimination(VH, i, W);
      const nG = eps + Math.abs(cf[i - w1]! - cf[i + w1]!) + Math.abs(cf[i]! - cf[i - w2]!) + Math.abs(cf[i - w1]! - cf[i - w3]!) + Math.abs(cf[i - w2]! - cf[i - w4]!);
      const sG = eps + Math.abs(cf[i - w1]! - cf[i + w1]!) + Math.abs(cf[i]! - cf[i + w2]!) + Math.abs(cf[i + w1]! - cf[i + w3]!) + Math.abs(cf[i + w2]! - cf[i + w4]!);
      const wG = eps + Math.abs(cf[i - 1]! - cf[i + 1]!) + Math.abs(cf[i]! - cf[i - 2]!) + Math.abs(cf[i - 1]! - cf[i - 3]!) + Math.abs(cf[i - 2]! - cf[i - 4]!);
      const eG = eps + Math.abs(cf[i - 1]! - cf[i + 1]!) + Math.abs(cf[i]! - cf[i + 2]!) + Math.abs(cf[i + 1]! - cf[i + 3]!) + Math.abs(cf[i + 2]! - cf[i + 4]!);
      const L = lpf[i]!;
      const nE = cf[i - w1]! * (1 + (L - lpf[i - w2]!) / (eps + L + lpf[i - w2]!));
      const sE = cf[i + w1]! * (1 + (L - lpf[i + w2]!) / (eps + L + lpf[i + w2]!));
      const wE = cf[i - 1]! * (1 + (L - lpf[i - 2]!) / (eps + L + lpf[i - 2]!));
      const eE = cf[i + 1]! * (1 + (L - lpf[i + 2]!) / (eps + L + lpf[i + 2]!));
      const vEst = (sG * nE + nG * sE) / (nG + sG);
      const hEst = (wG * eE + eG * wE) / (eG + wG);
      r.rgb[1][i] = clamp01(disc * hEst + (1 - disc) * vEst);
    }
  }
}

/** Step 4.2: R at B sites and B at R sites, along the diagonals weighted by the P/Q discrimination. */
function rcdRedBlueAtRB(r: Rcd, PQ: Float32Array): void {
  const { map, rgb, width: W, height } = r;
  const eps = RCD_EPS, w1 = W, w2 = 2 * W, w3 = 3 * W;
  const G = rgb[1];
  for (let y = 4; y < height - 4; y++) {
    for (let x = 4; x < W - 4; x++) {
      const i = y * W + x;
      const own = map[i]!;
      if (own === GREEN) continue;
      const C = rgb[2 - own]!;
      const disc = refinedDiscrimination(PQ, i, W);
      const nwG = eps + Math.abs(C[i - w1 - 1]! - C[i + w1 + 1]!) + Math.abs(C[i - w1 - 1]! - C[i - w3 - 3]!) + Math.abs(G[i]! - G[i - w2 - 2]!);
      const neG = eps + Math.abs(C[i - w1 + 1]! - C[i + w1 - 1]!) + Math.abs(C[i - w1 + 1]! - C[i - w3 + 3]!) + Math.abs(G[i]! - G[i - w2 + 2]!);
      const swG = eps + Math.abs(C[i + w1 - 1]! - C[i - w1 + 1]!) + Math.abs(C[i + w1 - 1]! - C[i + w3 - 3]!) + Math.abs(G[i]! - G[i + w2 - 2]!);
      const seG = eps + Math.abs(C[i + w1 + 1]! - C[i - w1 - 1]!) + Math.abs(C[i + w1 + 1]! - C[i + w3 + 3]!) + Math.abs(G[i]! - G[i + w2 + 2]!);
      const nwE = C[i - w1 - 1]! - G[i - w1 - 1]!;
      const neE = C[i - w1 + 1]! - G[i - w1 + 1]!;
      const swE = C[i + w1 - 1]! - G[i + w1 - 1]!;
      const seE = C[i + w1 + 1]! - G[i + w1 + 1]!;
      const pEst = (nwG * seE + seG * nwE) / (nwG + seG);
      const qEst = (neG * swE + swG * neE) / (neG + swG);
      C[i] = clamp01(G[i]! + (1 - disc) * pEst + disc * qEst);
    }
  }
}

/** Step 4.3: R and B at G sites, weighted by the V/H discrimination. */
function rcdRedBlueAtG(r: Rcd, VH: Float32Array): void {
  const { map, rgb, width: W, height } = r;
  const eps = RCD_EPS, w1 = W, w2 = 2 * W, w3 = 3 * W;
  const G = rgb[1];
  for (let y = 4; y < height - 4; y++) {
    for (let x = 4; x < W - 4; x++) {
      const i = y * W + x;
      if (map[i] !== GREEN) continue;
      const disc = refinedDiscrimination(VH, i, W);
      for (const c of [0, 2]) {
        const C = rgb[c]!;
        const nG = eps + Math.abs(G[i]! - G[i - w2]!) + Math.abs(C[i - w1]! - C[i + w1]!) + Math.abs(C[i - w1]! - C[i - w3]!);
        const sG = eps + Math.abs(G[i]! - G[i + w2]!) + Math.abs(C[i + w1]! - C[i - w1]!) + Math.abs(C[i + w1]! - C[i + w3]!);
        const wG = eps + Math.abs(G[i]! - G[i - 2]!) + Math.abs(C[i - 1]! - C[i + 1]!) + Math.abs(C[i - 1]! - C[i - 3]!);
        const eG = eps + Math.abs(G[i]! - G[i + 2]!) + Math.abs(C[i + 1]! - C[i - 1]!) + Math.abs(C[i + 1]! - C[i + 3]!);
        const nE = C[i - w1]! - G[i - w1]!;
        const sE = C[i + w1]! - G[i + w1]!;
        const wE = C[i - 1]! - G[i - 1]!;
        const eE = C[i + 1]! - G[i + 1]!;
        const vEst = (nG * sE + sG * nE) / (nG + sG);
        const hEst = (eG * wE + wG * eE) / (eG + wG);
        C[i] = clamp01(G[i]! + (1 - disc) * vEst + disc * hEst);
      }
    }
  }
}

/** Offset and scale that bring the data to [0, 1] (RCD's ratios and clamps assume non-negative data on that scale). */
function unitRange(data: Float32Array): { off: number; scale: number } {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const off = Math.min(0, lo);
  return { off, scale: hi - off > 0 ? hi - off : 1 };
}

/** RCD v2.3 (see module comment) on a Bayer mosaic. */
export function debayerRCD(src: Float32Array, width: number, height: number, cfa: Cfa): RgbPlanes {
  requireBayer(cfa, 'RCD');
  const { filled, bad } = fillMosaicNaN(src, width, height, cfa);
  const out = debayerBilinear(filled, width, height, cfa);
  if (width < 10 || height < 10) {
    if (bad) poisonAround(out, bad, 4);
    return out;
  }
  const N = width * height;
  const { off, scale } = unitRange(filled);
  const cf = new Float32Array(N);
  for (let i = 0; i < N; i++) cf[i] = (filled[i]! - off) / scale;
  const rgb = [new Float32Array(N), new Float32Array(N), new Float32Array(N)] as const;
  for (let c = 0; c < 3; c++) for (let i = 0; i < N; i++) rgb[c][i] = (out.data[c][i]! - off) / scale;
  const r: Rcd = { cf, rgb, map: colorMap(cfa, width, height), width, height };
  const VH = rcdDiscrimination(r, width, 1); // Step 1: vertical/horizontal
  rcdGreen(r, VH, rcdLowPass(r)); // Steps 2 and 3
  rcdRedBlueAtRB(r, rcdDiscrimination(r, width + 1, width - 1)); // Step 4.1 (P/Q diagonals) and 4.2
  rcdRedBlueAtG(r, VH); // Step 4.3
  for (let c = 0; c < 3; c++) {
    const o = out.data[c]!;
    const p = rgb[c]!;
    for (let y = 4; y < height - 4; y++) {
      for (let x = 4; x < width - 4; x++) {
        const i = y * width + x;
        o[i] = p[i]! * scale + off;
      }
    }
  }
  if (bad) poisonAround(out, bad, 4);
  return out;
}

/** Demosaic a mosaic plane with the given method. */
export function debayerPlane(src: Float32Array, width: number, height: number, cfa: Cfa, method: DebayerMethod): RgbPlanes {
  switch (method) {
    case 'superpixel':
      return debayerSuperpixel(src, width, height, cfa);
    case 'bilinear':
      return debayerBilinear(src, width, height, cfa);
    case 'vng':
      return debayerVNG(src, width, height, cfa);
    case 'rcd':
      return debayerRCD(src, width, height, cfa);
  }
}

/**
 * Demosaic a one-plane CFA image into an RGB Image. The header is copied; BAYERPAT and the Bayer
 * offsets are removed (the output is no longer a mosaic); super-pixel halves the size and doubles
 * XPIXSZ/YPIXSZ.
 */
export function debayerImage(img: Image, cfa: Cfa, method: DebayerMethod, file?: string): Image {
  if (img.channels !== 1) {
    throw new DarkroomError('BAD_ARGUMENT', `image has ${img.channels} planes: it is already colour, there is no mosaic to debayer`, file);
  }
  const minSize = method === 'superpixel' ? 2 : 1;
  if (img.width < minSize || img.height < minSize) throw new DarkroomError('BAD_ARGUMENT', `image ${img.width}x${img.height} is too small to debayer`, file);
  const rgb = debayerPlane(img.data[0]!, img.width, img.height, cfa, method);
  const out = createImage(rgb.width, rgb.height, 3, img.header.clone());
  out.data = [rgb.data[0], rgb.data[1], rgb.data[2]];
  for (const k of ['BAYERPAT', 'XBAYROFF', 'YBAYROFF', 'CFAPAT', 'COLORTYP']) out.header.delete(k);
  // the mosaic's NOISE00 / IKSCAL00 do not describe the R, G, B planes: a calibrated (not yet resampled) mosaic's are measured again on them
  if (readNoiseKeywords(img.header, 1)) stampStatistics(out);
  else dropNoiseKeywords(out.header);
  if (method === 'superpixel') {
    for (const k of ['XPIXSZ', 'YPIXSZ', 'XBINNING', 'YBINNING']) {
      const v = out.header.getNumber(k);
      if (v !== undefined) out.header.set(k, v * 2);
    }
  }
  out.header.set('CTYPE3', 'RGB', 'planes are R, G, B');
  return out;
}
