/**
 * Subframe metrics, rejection rules and weights.
 * Per frame: stars (count), fwhm, hfr, eccentricity, snr (medians over the unsaturated measured stars, fitted
 * ones when there are any), background and noise (frame medians of the background / noise maps).
 * Rules (`fwhm > 1.5*median_fwhm`) and weight formulas (`1/(fwhm^2 * noise^2)`) are expressions (expr.ts) over
 * these variables and their medians over the whole set (`median_fwhm`, ...). A frame is rejected when any rule is
 * true; weights are normalized to a mean of 1 over the frames given.
 */
import { readFits } from '../fits/index.js';
import type { Image } from '../image/image.js';
import { DarkroomError } from '../util/errors.js';
import { detectStars, medianOf, type DetectOptions, type Star } from './detect.js';
import { evaluate, isTrue, parseExpr, type ParsedExpr } from './expr.js';

export const METRIC_NAMES = ['stars', 'fwhm', 'hfr', 'eccentricity', 'background', 'noise', 'snr'] as const;
export type MetricName = (typeof METRIC_NAMES)[number];

export interface FrameMetrics {
  path: string;
  stars: number;
  fwhm: number;
  hfr: number;
  eccentricity: number;
  background: number;
  noise: number;
  snr: number;
}

/** Every variable an expression may use: the metrics and `median_<metric>`. */
export const EXPR_VARIABLES: readonly string[] = [...METRIC_NAMES, ...METRIC_NAMES.map((n) => `median_${n}`)];

/** Metrics from a star list and the frame's global background and noise. */
export function metricsFromStars(path: string, stars: Star[], background: number, noise: number): FrameMetrics {
  const unsat = stars.filter((s) => !s.saturated);
  const fitted = unsat.filter((s) => s.fitted);
  const shape = fitted.length > 0 ? fitted : unsat;
  return {
    path,
    stars: stars.length,
    fwhm: medianOf(shape.map((s) => s.fwhm)),
    hfr: medianOf(unsat.map((s) => s.hfr)),
    eccentricity: medianOf(shape.map((s) => s.eccentricity)),
    background,
    noise,
    snr: medianOf(unsat.map((s) => s.snr)),
  };
}

/** The plane stars are measured on: mono as is, RGB averaged, a CFA mosaic 2x2-averaged back to full size. */
export function detectionPlane(img: Image): Float32Array {
  const { width: w, height: h } = img;
  if (img.channels === 1 && img.cfa) {
    // average each 2x2 cell (one of each colour for Bayer) and replicate: removes the CFA checkerboard
    const src = img.data[0]!;
    const out = new Float32Array(w * h);
    for (let y = 0; y < h; y += 2) {
      const y1 = Math.min(h - 1, y + 1);
      for (let x = 0; x < w; x += 2) {
        const x1 = Math.min(w - 1, x + 1);
        const m = 0.25 * (src[y * w + x]! + src[y * w + x1]! + src[y1 * w + x]! + src[y1 * w + x1]!);
        out[y * w + x] = m; out[y * w + x1] = m; out[y1 * w + x] = m; out[y1 * w + x1] = m;
      }
    }
    return out;
  }
  if (img.channels === 1) return img.data[0]!;
  const out = new Float32Array(w * h);
  for (const d of img.data) for (let i = 0; i < out.length; i++) out[i] = out[i]! + d[i]! / img.channels;
  return out;
}

export function measureImage(path: string, img: Image, opts: DetectOptions = {}): FrameMetrics {
  const sat = opts.saturation ?? img.header.getNumber('SATURATE') ?? undefined;
  const r = detectStars(detectionPlane(img), img.width, img.height, { maxStars: 2000, ...opts, saturation: sat ?? undefined });
  return metricsFromStars(path, r.stars, r.background.globalBackground, r.background.globalNoise);
}

/** Read and measure each frame (a file error is a DarkroomError naming the file). */
export function measureFrames(paths: string[], opts: DetectOptions = {}): FrameMetrics[] {
  return paths.map((p) => measureImage(p, readFits(p), opts));
}

/** Variables of one frame: its metrics plus the set medians. */
function variables(m: FrameMetrics, medians: Record<string, number>): Record<string, number> {
  const v: Record<string, number> = { ...medians };
  for (const n of METRIC_NAMES) v[n] = m[n];
  return v;
}

export function setMedians(metrics: FrameMetrics[]): Record<string, number> {
  const med: Record<string, number> = {};
  for (const n of METRIC_NAMES) med[`median_${n}`] = medianOf(metrics.map((m) => m[n]));
  return med;
}

export function parseRule(rule: string): ParsedExpr {
  return parseExpr(rule, EXPR_VARIABLES, '--reject-if');
}

export function parseWeightExpr(expr: string): ParsedExpr {
  return parseExpr(expr, EXPR_VARIABLES, '--weight-expr');
}

const fmt = (v: number): string => (Number.isFinite(v) ? String(Number(v.toPrecision(4))) : String(v));

export interface RuleResult {
  kept: FrameMetrics[];
  rejected: { path: string; reason: string; rule: string }[];
}

/**
 * Apply rejection rules: a frame is rejected by the first rule that is true for it; the reason names the rule
 * and the values of the variables it uses. Medians are taken over all the frames given.
 */
export function applyRules(metrics: FrameMetrics[], rules: string[]): RuleResult {
  const parsed = rules.map(parseRule);
  const med = setMedians(metrics);
  const kept: FrameMetrics[] = [];
  const rejected: RuleResult['rejected'] = [];
  for (const m of metrics) {
    const vars = variables(m, med);
    const fired = parsed.find((r) => isTrue(evaluate(r.ast, vars)));
    if (!fired) { kept.push(m); continue; }
    const values = fired.variables.map((n) => `${n} = ${fmt(vars[n]!)}`).join(', ');
    rejected.push({ path: m.path, rule: fired.source, reason: `rejected by rule "${fired.source}"${values ? ` (${values})` : ''}` });
  }
  return { kept, rejected };
}

/**
 * Weights from a formula, normalized to a mean of 1. A frame for which the formula gives no finite number
 * >= 0 (or a set whose weights are all 0) is a BAD_ARGUMENT naming the frame.
 */
export function frameWeights(metrics: FrameMetrics[], expr: string): number[] {
  const p = parseWeightExpr(expr);
  const med = setMedians(metrics);
  const w = metrics.map((m) => {
    const v = evaluate(p.ast, variables(m, med));
    if (!(Number.isFinite(v) && v >= 0)) {
      const values = p.variables.map((n) => `${n} = ${fmt(variables(m, med)[n]!)}`).join(', ');
      throw new DarkroomError('BAD_ARGUMENT', `--weight-expr "${expr}" gives ${fmt(v)} for this frame${values ? ` (${values})` : ''}; a weight must be a finite number >= 0`, m.path);
    }
    return v;
  });
  const mean = w.reduce((a, b) => a + b, 0) / Math.max(1, w.length);
  if (w.length > 0 && !(mean > 0)) throw new DarkroomError('BAD_ARGUMENT', `--weight-expr "${expr}" gives 0 for every frame`);
  return w.map((v) => v / mean);
}
