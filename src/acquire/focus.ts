/**
 * Focus: measure star sizes (HFR, FWHM) of the brightest unsaturated stars of a frame (hot pixels are left
 * out by detectStars), a focus loop of short exposures, and autofocus from a V-curve.
 *
 * V-curve model (hyperbola): m(p) = a sqrt(1 + ((p - c) / b)^2). Then m^2 = A p^2 + B p + C is a parabola
 * with A = a^2/b^2, c = -B / (2A), a^2 = C - B^2/(4A): a weighted linear least-squares fit of m^2 (weights
 * 1/m^4, for a constant relative error of m) gives the hyperbola exactly, with no iteration.
 * Autofocus samples 2n+1 positions `step` apart, always approaching from below (backlash), fits the points
 * measured on enough stars, and re-centres (up to maxPasses) when the minimum lies outside the sampled range
 * or off-centre by more than a step.
 */
import type { Image } from '../image/image.js';
import type { Camera, Clock, Focuser } from '../devices/types.js';
import { detectStars } from '../stars/detect.js';
import { medianOf } from '../stars/detect.js';
import { DarkroomError } from '../util/errors.js';

export interface FocusMeasure {
  hfr: number;
  fwhm: number;
  /** Stars used. */
  stars: number;
}

export interface MeasureOptions {
  /** Use at most this many of the brightest stars (default 20). */
  maxStars?: number;
  /** Pixel values at or above this are saturated (default 0.95 x 65535). */
  saturation?: number;
}

/** Median HFR and FWHM of the brightest unsaturated, fitted stars (NaN when none). */
export function measureFocus(img: Image, opts: MeasureOptions = {}): FocusMeasure {
  const n = opts.maxStars ?? 20;
  const r = detectStars(img.data[0]!, img.width, img.height, { saturation: opts.saturation ?? 0.95 * 65535, maxFit: 3 * n, k: 5 });
  const good = r.stars.filter((s) => !s.saturated && s.fitted && Number.isFinite(s.fwhm) && s.fwhm > 0).sort((a, b) => b.flux - a.flux).slice(0, n);
  if (good.length === 0) return { hfr: NaN, fwhm: NaN, stars: 0 };
  return { hfr: medianOf(good.map((s) => s.hfr)), fwhm: medianOf(good.map((s) => s.fwhm)), stars: good.length };
}

/** Full frame at 1x1 binning: how focus and guide runs use a camera. */
export async function fullFrame(camera: Camera): Promise<void> {
  await camera.setBinning(1, 1);
  await camera.setSubframe(null);
}

/** Take one frame (light) of `seconds`. */
export async function captureFrame(camera: Camera, seconds: number): Promise<Image> {
  await camera.startExposure({ duration: seconds, type: 'light' });
  return camera.download(Math.max(60_000, seconds * 1000 + 60_000));
}

/** A focus loop: `count` short exposures, each measured. */
export async function focusLoop(
  camera: Camera,
  opts: { exposure: number; count: number; onFrame?: (i: number, m: FocusMeasure) => void } & MeasureOptions,
): Promise<FocusMeasure[]> {
  const out: FocusMeasure[] = [];
  for (let i = 0; i < opts.count; i++) {
    const m = measureFocus(await captureFrame(camera, opts.exposure), opts);
    out.push(m);
    opts.onFrame?.(i, m);
  }
  return out;
}

export interface HyperbolaFit {
  /** Best position c. */
  best: number;
  /** Minimum of the metric a. */
  min: number;
  /** Half-width b (steps where m = a sqrt 2). */
  b: number;
  /** RMS relative residual of m. */
  rms: number;
}

/** Fit m(p) = a sqrt(1 + ((p - c)/b)^2) through points (p, m); null when the curve does not open upwards. */
export function fitHyperbola(points: { position: number; value: number }[]): HyperbolaFit | null {
  const pts = points.filter((q) => Number.isFinite(q.value) && q.value > 0);
  if (pts.length < 3) return null;
  const p0 = pts.reduce((s, q) => s + q.position, 0) / pts.length;
  const sc = Math.max(1, Math.max(...pts.map((q) => Math.abs(q.position - p0))));
  // normal equations for y = A u^2 + B u + C, u = (p - p0)/sc, weights 1/y^2
  const M = [
    [0, 0, 0],
    [0, 0, 0],
    [0, 0, 0],
  ];
  const v = [0, 0, 0];
  for (const q of pts) {
    const u = (q.position - p0) / sc;
    const y = q.value * q.value;
    const w = 1 / (y * y);
    const f = [u * u, u, 1];
    for (let i = 0; i < 3; i++) {
      v[i]! += w * f[i]! * y;
      for (let j = 0; j < 3; j++) M[i]![j]! += w * f[i]! * f[j]!;
    }
  }
  const s = solve3(M, v);
  if (!s) return null;
  const [A, B, C] = s as [number, number, number];
  if (!(A > 0)) return null;
  const uc = -B / (2 * A);
  const a2 = C - (B * B) / (4 * A);
  if (!(a2 > 0)) return null;
  const a = Math.sqrt(a2);
  const bU = a / Math.sqrt(A);
  let r2 = 0;
  for (const q of pts) {
    const u = (q.position - p0) / sc;
    const m = Math.sqrt(Math.max(0, A * u * u + B * u + C));
    r2 += ((m - q.value) / q.value) ** 2;
  }
  return { best: p0 + uc * sc, min: a, b: bU * sc, rms: Math.sqrt(r2 / pts.length) };
}

function solve3(M: number[][], v: number[]): number[] | null {
  const a = M.map((r, i) => [...r, v[i]!]);
  for (let c = 0; c < 3; c++) {
    let p = c;
    for (let r = c + 1; r < 3; r++) if (Math.abs(a[r]![c]!) > Math.abs(a[p]![c]!)) p = r;
    if (Math.abs(a[p]![c]!) < 1e-300) return null;
    [a[c], a[p]] = [a[p]!, a[c]!];
    for (let r = 0; r < 3; r++) {
      if (r === c) continue;
      const f = a[r]![c]! / a[c]![c]!;
      for (let k = c; k < 4; k++) a[r]![k]! -= f * a[c]![k]!;
    }
  }
  return [a[0]![3]! / a[0]![0]!, a[1]![3]! / a[1]![1]!, a[2]![3]! / a[2]![2]!];
}

export interface AutofocusOptions extends MeasureOptions {
  exposure: number;
  /** Step between samples, focuser steps. */
  step: number;
  /** Samples on each side of the centre (default 4). */
  points?: number;
  /** Backlash overshoot when approaching from below (default 2 steps of the sweep). */
  backlash?: number;
  metric?: 'fwhm' | 'hfr';
  maxPasses?: number;
  onPoint?: (p: { position: number; value: number; stars: number }) => void;
  clock?: Clock;
}

export interface AutofocusResult {
  best: number;
  fit: HyperbolaFit;
  points: { position: number; value: number; stars: number }[];
  passes: number;
  /** The metric measured at the final position. */
  final: FocusMeasure;
}

/**
 * The points measured on enough stars: at least 3 and half the most any point had. Far from focus the
 * big faint stars drown in the noise, and what is left (noise, hot pixels) passes for small stars.
 */
export function onEnoughStars<T extends { stars: number }>(pts: T[]): T[] {
  const most = Math.max(0, ...pts.map((q) => q.stars));
  return pts.filter((q) => q.stars >= Math.max(3, most / 2));
}

type FocusPoint = AutofocusResult['points'][number];

/** Measure each position in turn, after moving below the first by the backlash (always approach from below). */
async function sweep(camera: Camera, focuser: Focuser, positions: number[], start: number, o: AutofocusOptions): Promise<FocusPoint[]> {
  const pts: FocusPoint[] = [];
  await focuser.move(start);
  for (const p of positions) {
    await focuser.move(p);
    const m = measureFocus(await captureFrame(camera, o.exposure), o);
    const pt = { position: p, value: m[o.metric ?? 'fwhm'], stars: m.stars };
    pts.push(pt);
    o.onPoint?.(pt);
  }
  return pts;
}

/** Where the next sweep centres after a fit over `positions`; null when its minimum lies within a step of the centre. */
function recentre(fit: HyperbolaFit, positions: number[], centre: number, o: AutofocusOptions, clampP: (p: number) => number): number | null {
  const n = (positions.length - 1) / 2;
  const lo = positions[0]!;
  const hi = positions[positions.length - 1]!;
  if (fit.best < lo || fit.best > hi) {
    const next = clampP(fit.best < lo ? lo - n * o.step : hi + n * o.step);
    // do not jump further than the fit suggests
    return clampP(fit.best < lo ? Math.max(next, fit.best) : Math.min(next, fit.best));
  }
  return Math.abs(fit.best - centre) > o.step ? clampP(fit.best) : null;
}

export async function autofocus(camera: Camera, focuser: Focuser, o: AutofocusOptions): Promise<AutofocusResult> {
  const n = o.points ?? 4;
  const max = await focuser.maxStep();
  const backlash = o.backlash ?? 2 * o.step;
  const clampP = (p: number) => Math.max(0, Math.min(max, Math.round(p)));
  let centre = await focuser.position();
  const all: FocusPoint[] = [];
  let fit: HyperbolaFit | null = null;
  let passes = 0;
  let why = '';
  for (; passes < (o.maxPasses ?? 3); ) {
    passes++;
    const positions = Array.from({ length: 2 * n + 1 }, (_, k) => clampP(centre + (k - n) * o.step));
    const pts = await sweep(camera, focuser, positions, clampP(positions[0]! - backlash), o);
    all.push(...pts);
    const good = onEnoughStars(pts);
    fit = fitHyperbola(good);
    if (!fit) {
      why = `no V-curve around ${centre} (measured ${good.length} of ${pts.length} positions on enough stars)`;
      // too few usable points: walk towards the smallest stars seen, where the rest of the V must be
      const least = good.reduce<FocusPoint | undefined>((a, q) => (!a || q.value < a.value ? q : a), undefined);
      if (!least || least.position === centre) break;
      centre = least.position;
      continue;
    }
    const next = recentre(fit, positions, centre, o, clampP);
    if (next === null) break;
    centre = next;
  }
  if (!fit) throw new DarkroomError('TOO_FEW', `autofocus: ${why}; start closer to focus or use a larger step`);
  // final fit over every point near the last centre
  const near = all.filter((q) => Math.abs(q.position - centre) <= (n + 0.5) * o.step);
  fit = fitHyperbola(onEnoughStars(near)) ?? fit;
  const best = clampP(fit.best);
  await focuser.move(clampP(best - backlash));
  await focuser.move(best);
  const final = measureFocus(await captureFrame(camera, o.exposure), o);
  return { best, fit, points: all, passes, final };
}

/** Autofocus as the sequencer's triggers run it: a V-curve at bin 2 (the automation puts the binning back). */
export function autofocusHook(camera: Camera, focuser: Focuser): () => Promise<unknown> {
  return async () => {
    await camera.setBinning(2, 2);
    return autofocus(camera, focuser, { exposure: 3, step: 40, points: 4 });
  };
}
