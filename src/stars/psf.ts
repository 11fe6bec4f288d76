/**
 * 2-D PSF fitting by Levenberg-Marquardt: an elliptical Gaussian B + A exp(-Q/2) or Moffat
 * B + A (1 + Q)^-beta with Q = a dx^2 + 2 b dx dy + c dy^2 (dx = x - x0, dy = y - y0).
 * The model is integrated over each pixel by s x s sub-sampling (default 3), so FWHMs of small,
 * pixel-integrated stars are not inflated by the pixel size.
 */
export type PsfKind = 'gaussian' | 'moffat';

export interface PsfFit {
  ok: boolean;
  x: number;
  y: number;
  background: number;
  amplitude: number;
  /** FWHM along the major / minor axis and their geometric mean. */
  fwhmMajor: number;
  fwhmMinor: number;
  fwhm: number;
  /** Major-axis direction in degrees counter-clockwise from +x, in (-90, 90]. */
  angle: number;
  /** sqrt(1 - (minor/major)^2). */
  eccentricity: number;
  beta: number;
  /** Integral of the fitted profile (background excluded). */
  flux: number;
  iterations: number;
  rmsResidual: number;
}

export interface FitWindow {
  /** Pixel values (background-subtracted or not: B is fitted). */
  data: Float32Array;
  width: number;
  height: number;
  /** Window origin in frame coordinates. */
  x0: number;
  y0: number;
  /** Optional per-pixel weight (0 excludes a pixel: other stars, NaN, saturation). */
  weight?: Float32Array;
}

const GAUSS_FWHM = 2 * Math.sqrt(2 * Math.LN2);

/** Solve the symmetric n x n system A x = b in place by Gaussian elimination with partial pivoting. */
function solve(A: Float64Array, b: Float64Array, n: number, x: Float64Array): boolean {
  for (let k = 0; k < n; k++) {
    let p = k;
    let best = Math.abs(A[k * n + k]!);
    for (let i = k + 1; i < n; i++) {
      const v = Math.abs(A[i * n + k]!);
      if (v > best) { best = v; p = i; }
    }
    if (!(best > 1e-300)) return false;
    if (p !== k) {
      for (let j = 0; j < n; j++) { const t = A[k * n + j]!; A[k * n + j] = A[p * n + j]!; A[p * n + j] = t; }
      const t = b[k]!; b[k] = b[p]!; b[p] = t;
    }
    for (let i = k + 1; i < n; i++) {
      const f = A[i * n + k]! / A[k * n + k]!;
      if (f === 0) continue;
      for (let j = k; j < n; j++) A[i * n + j] = A[i * n + j]! - f * A[k * n + j]!;
      b[i] = b[i]! - f * b[k]!;
    }
  }
  for (let i = n - 1; i >= 0; i--) {
    let s = b[i]!;
    for (let j = i + 1; j < n; j++) s -= A[i * n + j]! * x[j]!;
    x[i] = s / A[i * n + i]!;
  }
  return true;
}

type PsfGuess = { x: number; y: number; fwhm: number; amplitude: number; background?: number };

/** Starting parameters [B, A, x, y, a, b, c, (beta)] for a guessed FWHM and amplitude. */
function initialParams(moffat: boolean, guess: PsfGuess, s0: number): Float64Array {
  const p = new Float64Array(moffat ? 8 : 7);
  let q0: number;
  if (moffat) {
    const alpha = s0 / (2 * Math.sqrt(Math.pow(2, 1 / 2.5) - 1));
    q0 = 1 / (alpha * alpha);
    p[7] = 2.5;
  } else {
    const sig = s0 / GAUSS_FWHM;
    q0 = 1 / (sig * sig);
  }
  p[0] = guess.background ?? 0;
  p[1] = guess.amplitude;
  p[2] = guess.x;
  p[3] = guess.y;
  p[4] = q0;
  p[5] = 0;
  p[6] = q0;
  return p;
}

/** The pixel-integrated model's chi2 over a window and, on request, its normal equations (JTJ, JTr). */
export interface Evaluator { evaluate(q: Float64Array, withJ: boolean): number; JTJ: Float64Array; JTr: Float64Array }

/** Sub-sampling of a pixel: `ns` samples per axis at offsets `offs` from its centre, each of weight `inv`. */
function subsamples(subsample: number): { ns: number; offs: Float64Array; inv: number } {
  const ns = Math.max(1, subsample | 0);
  const offs = new Float64Array(ns);
  for (let i = 0; i < ns; i++) offs[i] = (i + 0.5) / ns - 0.5;
  return { ns, offs, inv: 1 / (ns * ns) };
}

/** The generic evaluator (Gaussian or Moffat, per-sample exponentials): the reference of `makeGaussEvaluator`. */
export function makeEvaluator(win: FitWindow, moffat: boolean, np: number, subsample: number): Evaluator {
  const { data, width: ww, height: wh, weight } = win;
  const { ns, offs, inv } = subsamples(subsample);
  const JTJ = new Float64Array(np * np);
  const JTr = new Float64Array(np);
  const g = new Float64Array(np);
  const evaluate = (q: Float64Array, withJ: boolean): number => {
    const B = q[0]!, A = q[1]!, xc = q[2]!, yc = q[3]!, a = q[4]!, b = q[5]!, c = q[6]!;
    const beta = moffat ? q[7]! : 0;
    if (withJ) { JTJ.fill(0); JTr.fill(0); }
    let chi2 = 0;
    for (let j = 0; j < wh; j++) {
      const py = win.y0 + j;
      for (let i = 0; i < ww; i++) {
        const idx = j * ww + i;
        const w = weight ? weight[idx]! : 1;
        if (!(w > 0)) continue;
        const v = data[idx]!;
        if (!(v === v)) continue;
        const px = win.x0 + i;
        let f = 0;
        if (withJ) g.fill(0);
        for (let sy = 0; sy < ns; sy++) {
          const dy = py + offs[sy]! - yc;
          for (let sx = 0; sx < ns; sx++) {
            const dx = px + offs[sx]! - xc;
            const Q = a * dx * dx + 2 * b * dx * dy + c * dy * dy;
            let P: number, dfdQ: number;
            if (moffat) {
              const l = 1 + Q;
              P = Math.pow(l, -beta);
              dfdQ = (-A * beta * P) / l;
              if (withJ) g[7] = g[7]! - A * P * Math.log(l);
            } else {
              P = Math.exp(-0.5 * Q);
              dfdQ = -0.5 * A * P;
            }
            f += A * P;
            if (withJ) {
              g[1] = g[1]! + P;
              g[2] = g[2]! - dfdQ * (2 * a * dx + 2 * b * dy);
              g[3] = g[3]! - dfdQ * (2 * b * dx + 2 * c * dy);
              g[4] = g[4]! + dfdQ * dx * dx;
              g[5] = g[5]! + dfdQ * 2 * dx * dy;
              g[6] = g[6]! + dfdQ * dy * dy;
            }
          }
        }
        const r = v - (B + f * inv);
        chi2 += w * r * r;
        if (withJ) {
          g[0] = ns * ns;
          for (let k = 0; k < np; k++) g[k] = g[k]! * inv;
          for (let k = 0; k < np; k++) {
            const gk = g[k]! * w;
            JTr[k] = JTr[k]! + gk * r;
            for (let l = 0; l <= k; l++) JTJ[k * np + l] = JTJ[k * np + l]! + gk * g[l]!;
          }
        }
      }
    }
    if (withJ) for (let k = 0; k < np; k++) for (let l = k + 1; l < np; l++) JTJ[k * np + l] = JTJ[l * np + k]!;
    return chi2;
  };
  return { evaluate, JTJ, JTr };
}

/**
 * Fills T[0 .. K) with exp(-Q/2) along one sub-sample row (offset dy) at dx_k = d0 + k h: exactly at the sample
 * nearest the row's maximum, then outwards by the Gaussian recurrence P(k+1) = P(k) r(k), r(k+1) = r(k) exp(-a h^2)
 * (three exponentials a row instead of one a sample; relative error ~1e-14). Factors are <= 1 outwards: no overflow.
 */
function gaussRow(T: Float64Array, to: number, K: number, d0: number, h: number, dy: number, a: number, b: number, c: number, C: number): void {
  let ks = Math.round((-(b * dy) / a - d0) / h);
  ks = ks < 0 ? 0 : ks >= K ? K - 1 : ks;
  const dxs = d0 + ks * h;
  const p0 = Math.exp(-0.5 * (a * dxs * dxs + 2 * b * dxs * dy + c * dy * dy));
  T[to + ks] = p0;
  let P = p0, r = Math.exp(-0.5 * (a * (2 * dxs * h + h * h) + 2 * b * dy * h));
  for (let k = ks + 1; k < K; k++) { P *= r; r *= C; T[to + k] = P; }
  P = p0; r = Math.exp(-0.5 * (a * (-2 * dxs * h + h * h) - 2 * b * dy * h));
  for (let k = ks - 1; k >= 0; k--) { P *= r; r *= C; T[to + k] = P; }
}

/**
 * The Gaussian case of `makeEvaluator`, written for speed: sub-sample offsets from the centre precomputed per column
 * and row, the profile by `gaussRow`, and the gradient from the profile's moments over each pixel's samples
 * (sum P, sum P dx, sum P dy, sum P dx^2, sum P dx dy, sum P dy^2; dy is constant along a sub-sample row, so a
 * sample costs two products): dQ/dx0 = -(2a dx + 2b dy) etc. are linear in dx, dy, so each gradient component is a
 * combination of those moments. The same sums as the generic evaluator up to rounding (relative ~1e-15).
 */
export function makeGaussEvaluator(win: FitWindow, subsample: number): Evaluator {
  const { data, width: ww, height: wh, weight } = win;
  const np = 7;
  const { ns, offs, inv } = subsamples(subsample);
  const JTJ = new Float64Array(np * np);
  const JTr = new Float64Array(np);
  const K = ww * ns;
  const DX = new Float64Array(K), DY = new Float64Array(wh * ns), T = new Float64Array(ns * K);
  const evaluate = (q: Float64Array, withJ: boolean): number => {
    const B = q[0]!, A = q[1]!, xc = q[2]!, yc = q[3]!, a = q[4]!, b = q[5]!, c = q[6]!;
    for (let i = 0; i < ww; i++) for (let sx = 0; sx < ns; sx++) DX[i * ns + sx] = win.x0 + i + offs[sx]! - xc;
    for (let j = 0; j < wh; j++) for (let sy = 0; sy < ns; sy++) DY[j * ns + sy] = win.y0 + j + offs[sy]! - yc;
    let J00 = 0, J10 = 0, J11 = 0, J20 = 0, J21 = 0, J22 = 0, J30 = 0, J31 = 0, J32 = 0, J33 = 0, J40 = 0, J41 = 0, J42 = 0, J43 = 0;
    let J44 = 0, J50 = 0, J51 = 0, J52 = 0, J53 = 0, J54 = 0, J55 = 0, J60 = 0, J61 = 0, J62 = 0, J63 = 0, J64 = 0, J65 = 0, J66 = 0;
    let R0 = 0, R1 = 0, R2 = 0, R3 = 0, R4 = 0, R5 = 0, R6 = 0;
    let chi2 = 0;
    const h = 1 / ns, d0 = DX[0]!, C = Math.exp(-a * h * h);
    const G0 = ns * ns * inv, hA = 0.5 * A * inv, Ai = A * inv;
    for (let j = 0; j < wh; j++) {
      for (let sy = 0; sy < ns; sy++) gaussRow(T, sy * K, K, d0, h, DY[j * ns + sy]!, a, b, c, C);
      for (let i = 0; i < ww; i++) {
        const idx = j * ww + i;
        const w = weight ? weight[idx]! : 1;
        if (!(w > 0)) continue;
        const v = data[idx]!;
        if (!(v === v)) continue;
        let s0 = 0, s1 = 0, sY = 0, sXX = 0, sXY = 0, sYY = 0;
        const o = i * ns;
        for (let sy = 0; sy < ns; sy++) {
          const to = sy * K + o;
          let t0 = 0, t1 = 0, t2 = 0;
          if (withJ) {
            for (let sx = 0; sx < ns; sx++) {
              const P = T[to + sx]!, pd = P * DX[o + sx]!;
              t0 += P; t1 += pd; t2 += pd * DX[o + sx]!;
            }
            const dy = DY[j * ns + sy]!;
            s0 += t0; s1 += t1; sY += t0 * dy; sXX += t2; sXY += t1 * dy; sYY += t0 * dy * dy;
          } else {
            for (let sx = 0; sx < ns; sx++) t0 += T[to + sx]!;
            s0 += t0;
          }
        }
        const r = v - (B + A * s0 * inv);
        chi2 += w * r * r;
        if (withJ) {
          // the lower triangle of JTJ and JTr in locals (each sum over the pixels in the same order)
          const G1 = s0 * inv, G2 = 2 * hA * (a * s1 + b * sY), G3 = 2 * hA * (b * s1 + c * sY);
          const G4 = -hA * sXX, G5 = -Ai * sXY, G6 = -hA * sYY;
          const q0 = G0 * w; R0 += q0 * r; J00 += q0 * G0;
          const q1 = G1 * w; R1 += q1 * r; J10 += q1 * G0; J11 += q1 * G1;
          const q2 = G2 * w; R2 += q2 * r; J20 += q2 * G0; J21 += q2 * G1; J22 += q2 * G2;
          const q3 = G3 * w; R3 += q3 * r; J30 += q3 * G0; J31 += q3 * G1; J32 += q3 * G2; J33 += q3 * G3;
          const q4 = G4 * w; R4 += q4 * r; J40 += q4 * G0; J41 += q4 * G1; J42 += q4 * G2; J43 += q4 * G3; J44 += q4 * G4;
          const q5 = G5 * w; R5 += q5 * r; J50 += q5 * G0; J51 += q5 * G1; J52 += q5 * G2; J53 += q5 * G3; J54 += q5 * G4; J55 += q5 * G5;
          const q6 = G6 * w; R6 += q6 * r; J60 += q6 * G0; J61 += q6 * G1; J62 += q6 * G2; J63 += q6 * G3; J64 += q6 * G4; J65 += q6 * G5; J66 += q6 * G6;
        }
      }
    }
    if (withJ) {
      const L = [[J00], [J10, J11], [J20, J21, J22], [J30, J31, J32, J33], [J40, J41, J42, J43, J44], [J50, J51, J52, J53, J54, J55], [J60, J61, J62, J63, J64, J65, J66]];
      for (let k = 0; k < np; k++) for (let l = 0; l <= k; l++) JTJ[k * np + l] = JTJ[l * np + k] = L[k]![l]!;
      JTr.set([R0, R1, R2, R3, R4, R5, R6]);
    }
    return chi2;
  };
  return { evaluate, JTJ, JTr };
}

/** Parameters inside the physical domain: positive-definite shape, positive amplitude, centre near the guess. */
function makeValidator(win: FitWindow, moffat: boolean, guess: PsfGuess, s0: number): (q: Float64Array) => boolean {
  const { width: ww, height: wh } = win;
  return (q) => {
    const a = q[4]!, b = q[5]!, c = q[6]!;
    if (!(a > 0 && c > 0 && a * c - b * b > 0)) return false;
    if (!(q[1]! > 0)) return false;
    if (Math.abs(q[2]! - guess.x) > 3 + s0 || Math.abs(q[3]! - guess.y) > 3 + s0) return false;
    if (moffat && !(q[7]! > 1.01 && q[7]! < 30)) return false;
    // FWHM between 0.3 px and the window size
    if (Math.min(a, c) < 1 / (ww * ww + wh * wh)) return false;
    return true;
  };
}

/**
 * Levenberg-Marquardt on `p` (updated in place). A trial step is evaluated with its normal equations (nearly every
 * step is taken: one evaluation a step instead of two); a refused step restores those of `p`. The evaluator is
 * deterministic, so the iterates are the ones of evaluating the trial's chi2 alone and then, once taken, its normal equations.
 */
function levenbergMarquardt(p: Float64Array, ev: Evaluator, valid: (q: Float64Array) => boolean, maxIter: number, tolerance: number): { chi2: number; it: number; ok: boolean } {
  const np = p.length;
  const { JTJ, JTr } = ev;
  const M = new Float64Array(np * np);
  const rhs = new Float64Array(np);
  const delta = new Float64Array(np);
  const trial = new Float64Array(np);
  const JTJp = new Float64Array(np * np), JTrp = new Float64Array(np);
  let lambda = 1e-3;
  let chi2 = ev.evaluate(p, true);
  let it = 0;
  const ok = Number.isFinite(chi2);
  for (; ok && it < maxIter; it++) {
    let improved = false, converged = false;
    for (let tries = 0; tries < 12; tries++) {
      for (let k = 0; k < np * np; k++) M[k] = JTJ[k]!;
      for (let k = 0; k < np; k++) {
        M[k * np + k] = JTJ[k * np + k]! * (1 + lambda) + 1e-12;
        rhs[k] = JTr[k]!;
      }
      if (!solve(M, rhs, np, delta)) { lambda *= 10; continue; }
      for (let k = 0; k < np; k++) trial[k] = p[k]! + delta[k]!;
      if (!valid(trial)) { lambda *= 10; continue; }
      JTJp.set(JTJ); JTrp.set(JTr);
      const c2 = ev.evaluate(trial, true);
      if (c2 <= chi2) {
        const rel = (chi2 - c2) / Math.max(chi2, 1e-30);
        p.set(trial);
        chi2 = c2;
        lambda = Math.max(lambda / 10, 1e-9);
        improved = true;
        converged = rel < tolerance;
        break;
      }
      JTJ.set(JTJp); JTr.set(JTrp);
      lambda *= 10;
    }
    if (!improved) break;
    if (converged) { it++; break; }
  }
  return { chi2, it, ok };
}

/** Shape (FWHM along the axes, angle, eccentricity) and flux of fitted parameters. */
function describeFit(p: Float64Array, moffat: boolean, win: FitWindow, lm: { chi2: number; it: number; ok: boolean }): PsfFit {
  const { data, weight } = win;
  const a = p[4]!, b = p[5]!, c = p[6]!;
  const tr = a + c;
  const det = a * c - b * b;
  const disc = Math.sqrt(Math.max(0, (tr * tr) / 4 - det));
  const l1 = tr / 2 + disc; // larger eigenvalue -> minor axis
  const l2 = tr / 2 - disc;
  const beta = moffat ? p[7]! : Infinity;
  const scale = moffat ? 2 * Math.sqrt(Math.pow(2, 1 / beta) - 1) : GAUSS_FWHM;
  const fwhmMajor = scale / Math.sqrt(l2);
  const fwhmMinor = scale / Math.sqrt(l1);
  // major-axis direction: eigenvector for l2
  let angle = (0.5 * Math.atan2(2 * b, a - c) * 180) / Math.PI + 90;
  if (angle > 90) angle -= 180;
  const ratio = fwhmMinor / fwhmMajor;
  const flux = moffat ? (p[1]! * Math.PI) / ((beta - 1) * Math.sqrt(det)) : (p[1]! * 2 * Math.PI) / Math.sqrt(det);
  let n = 0;
  for (let k = 0; k < data.length; k++) if ((weight ? weight[k]! > 0 : true) && data[k] === data[k]) n++;
  return {
    ok: lm.ok && Number.isFinite(fwhmMajor) && fwhmMajor > 0,
    x: p[2]!,
    y: p[3]!,
    background: p[0]!,
    amplitude: p[1]!,
    fwhmMajor,
    fwhmMinor,
    fwhm: Math.sqrt(fwhmMajor * fwhmMinor),
    angle,
    eccentricity: Math.sqrt(Math.max(0, 1 - ratio * ratio)),
    beta,
    flux,
    iterations: lm.it,
    rmsResidual: Math.sqrt(lm.chi2 / Math.max(1, n)),
  };
}

/**
 * Fit a PSF to a window. `guess`: centre in frame coordinates, FWHM estimate and amplitude. The iterations stop when a
 * step lowers chi2 by less than `tolerance` (relative, default 1e-9); 1e-6 saves about two of nine iterations and moves
 * centres by ~1e-4 px and FWHMs by ~1e-4 (relative), far below their noise.
 */
export function fitPsf(win: FitWindow, kind: PsfKind, guess: PsfGuess, subsample = 3, maxIter = 60, tolerance = 1e-9): PsfFit {
  const moffat = kind === 'moffat';
  const s0 = Math.max(0.3, guess.fwhm);
  const p = initialParams(moffat, guess, s0);
  const valid = makeValidator(win, moffat, guess, s0);
  const ev = moffat ? makeEvaluator(win, moffat, p.length, subsample) : makeGaussEvaluator(win, subsample);
  const lm = levenbergMarquardt(p, ev, valid, maxIter, tolerance);
  return describeFit(p, moffat, win, { ...lm, ok: lm.ok && valid(p) });
}
