/**
 * Dark optimization (PixInsight ImageCalibration; docs/algorithms.md#dark-optimization): find k0 minimizing the noise of T - k0 * D, with
 * T = L - MB (bias-subtracted light) and D = MD - MB (bias-subtracted master dark), on a central
 * window. Like PixInsight's "optimization threshold", only dark pixels ABOVE median + 3 sigma (warm
 * and hot pixels, which carry the thermal signal) take part: the others are set to zero in the
 * optimizing dark, which makes the result robust to read noise in the masters. Golden-section search
 * until the bracket is narrower than 0.0005. Saturated light pixels (>= 65000 ADU raw) are excluded.
 */
import { median, madStd } from '../image/stats.js';

export interface DarkOptOptions {
  /** Side of the central square window (default 1024; the whole frame if smaller). */
  window?: number;
  /** Threshold in sigma above the median of D (default 3). */
  threshold?: number;
  /** Bracket (default [0, 4]). */
  low?: number;
  high?: number;
  /** Tolerance on k (default 0.0005). */
  tolerance?: number;
  /** Raw light pixels at or above this value are ignored (default 65000). */
  saturation?: number;
}

export interface DarkOptResult {
  k: number;
  /** Pixels of the window used (above the threshold). */
  pixels: number;
  /** Standard deviation of T - k D over the window at the optimum. */
  noise: number;
  iterations: number;
  /** Set when k came out at (or near) zero: no correlation between dark and light. */
  warning?: string;
}

/**
 * @param L raw light, @param MB master bias, @param MD master dark (all width x height).
 */
export function optimizeDarkScale(
  L: Float32Array,
  MB: Float32Array,
  MD: Float32Array,
  width: number,
  height: number,
  opts: DarkOptOptions = {},
): DarkOptResult {
  const win = opts.window ?? 1024;
  const ww = Math.min(win, width);
  const wh = Math.min(win, height);
  const x0 = Math.floor((width - ww) / 2);
  const y0 = Math.floor((height - wh) / 2);
  const n = ww * wh;
  const T = new Float64Array(n);
  const D = new Float64Array(n);
  const sat = opts.saturation ?? 65000;
  let k = 0;
  for (let y = y0; y < y0 + wh; y++) {
    for (let x = x0; x < x0 + ww; x++) {
      const i = y * width + x;
      const l = L[i]!;
      if (!(l < sat) || l !== l) continue;
      T[k] = l - MB[i]!;
      D[k] = MD[i]! - MB[i]!;
      k++;
    }
  }
  const m = k;
  const Dm = D.subarray(0, m);
  const med = median(Dm);
  const sig = madStd(Dm);
  const thr = med + (opts.threshold ?? 3) * sig;
  let used = 0;
  for (let i = 0; i < m; i++) {
    if (D[i]! > thr) used++;
    else D[i] = 0;
  }
  const f = (kk: number): number => {
    let s = 0;
    let s2 = 0;
    for (let i = 0; i < m; i++) {
      const v = T[i]! - kk * D[i]!;
      s += v;
      s2 += v * v;
    }
    const mu = s / m;
    return Math.sqrt(Math.max(0, s2 / m - mu * mu));
  };
  const tol = opts.tolerance ?? 0.0005;
  let a = opts.low ?? 0;
  let b = opts.high ?? 4;
  const g = (Math.sqrt(5) - 1) / 2;
  let c = b - g * (b - a);
  let d = a + g * (b - a);
  let fc = f(c);
  let fd = f(d);
  let it = 0;
  while (b - a > tol && it < 200) {
    if (fc < fd) {
      b = d;
      d = c;
      fd = fc;
      c = b - g * (b - a);
      fc = f(c);
    } else {
      a = c;
      c = d;
      fc = fd;
      d = a + g * (b - a);
      fd = f(d);
    }
    it++;
  }
  let kOpt = (a + b) / 2;
  let warning: string | undefined;
  if (used === 0) warning = 'no dark pixels above the optimization threshold: dark optimization is meaningless';
  if (kOpt <= (opts.low ?? 0) + tol) {
    kOpt = Math.max(0, kOpt);
    warning = warning ?? `no correlation between the dark and the light (k0 = ${kOpt.toFixed(4)})`;
  }
  return { k: kOpt, pixels: used, noise: f(kOpt), iterations: it, warning };
}
