/**
 * Integration options: the fixed public types, defaults, validation, and the choice of a fallback
 * rejection when there are too few frames for the requested one.
 */
import { DarkroomError } from '../util/errors.js';
import type { Image } from '../image/image.js';
import type { WarningEvent } from '../util/warnings.js';

export type Combine = 'average' | 'median' | 'sum' | 'min' | 'max';
export type Reject = 'none' | 'minmax' | 'percentile' | 'sigma' | 'winsorized' | 'averaged-sigma' | 'linear-fit' | 'gesd' | 'mad';
export type Normalize = 'none' | 'additive' | 'multiplicative' | 'additive-scaling' | 'multiplicative-scaling';
export type RejectNormalize = Normalize | 'equalize-fluxes';
export type Weights = 'none' | 'exposure' | 'noise' | { keyword: string };

export interface IntegrateOptions {
  combine: Combine;
  reject: Reject;
  sigmaLow: number;
  sigmaHigh: number;
  winsorCutoff: number;
  linearLow: number;
  linearHigh: number;
  percentileLow: number;
  percentileHigh: number;
  minmaxLow: number;
  minmaxHigh: number;
  gesdFraction: number;
  gesdAlpha: number;
  clipLow: boolean;
  clipHigh: boolean;
  rangeLow?: number;
  rangeHigh?: number;
  normalize: Normalize;
  rejectNormalize: RejectNormalize;
  weights: Weights;
  estimator: 'ikss' | 'mad';
  memoryBytes?: number;
  workers?: number;
  rejectionMaps: boolean;
}

export interface FrameReport {
  path: string;
  location: number;
  scale: number;
  weight: number;
  rejectedLowPct: number;
  rejectedHighPct: number;
  noise: number;
}

export interface IntegrateResult {
  image: Image;
  rejectLow?: Image;
  rejectHigh?: Image;
  frames: FrameReport[];
  noise: number;
  noiseRatio: number;
  warnings: string[];
  /** The same warnings (and the per-file non-finite counts) as structured events. */
  events?: WarningEvent[];
  history: string[];
}

export const COMBINES: readonly Combine[] = ['average', 'median', 'sum', 'min', 'max'];
export const REJECTS: readonly Reject[] = ['none', 'minmax', 'percentile', 'sigma', 'winsorized', 'averaged-sigma', 'linear-fit', 'gesd', 'mad'];
export const NORMALIZES: readonly Normalize[] = ['none', 'additive', 'multiplicative', 'additive-scaling', 'multiplicative-scaling'];
export const REJECT_NORMALIZES: readonly RejectNormalize[] = [...NORMALIZES, 'equalize-fluxes'];

/** Defaults: PixInsight's for the algorithm parameters; average + winsorized 4/3, no normalization. */
export const DEFAULT_OPTIONS: IntegrateOptions = {
  combine: 'average',
  reject: 'winsorized',
  sigmaLow: 4,
  sigmaHigh: 3,
  winsorCutoff: 5,
  linearLow: 5,
  linearHigh: 4,
  percentileLow: 0.2,
  percentileHigh: 0.1,
  minmaxLow: 1,
  minmaxHigh: 1,
  gesdFraction: 0.3,
  gesdAlpha: 0.05,
  clipLow: true,
  clipHigh: true,
  normalize: 'none',
  rejectNormalize: 'none',
  weights: 'none',
  estimator: 'ikss',
  rejectionMaps: false,
};

function bad(msg: string): never {
  throw new DarkroomError('BAD_ARGUMENT', msg);
}

export function resolveOptions(opts: Partial<IntegrateOptions> = {}): IntegrateOptions {
  const o: IntegrateOptions = { ...DEFAULT_OPTIONS };
  for (const [k, v] of Object.entries(opts)) if (v !== undefined) (o as unknown as Record<string, unknown>)[k] = v;
  if (!COMBINES.includes(o.combine)) bad(`unknown combination '${String(o.combine)}' (choose ${COMBINES.join(', ')})`);
  if (!REJECTS.includes(o.reject)) bad(`unknown rejection '${String(o.reject)}' (choose ${REJECTS.join(', ')})`);
  if (!NORMALIZES.includes(o.normalize)) bad(`unknown normalization '${String(o.normalize)}' (choose ${NORMALIZES.join(', ')})`);
  if (!REJECT_NORMALIZES.includes(o.rejectNormalize)) {
    bad(`unknown rejection normalization '${String(o.rejectNormalize)}' (choose ${REJECT_NORMALIZES.join(', ')})`);
  }
  if (o.estimator !== 'ikss' && o.estimator !== 'mad') bad(`unknown estimator '${String(o.estimator)}' (choose ikss or mad)`);
  const w = o.weights;
  if (!(w === 'none' || w === 'exposure' || w === 'noise' || (typeof w === 'object' && w !== null && typeof w.keyword === 'string' && w.keyword.length > 0))) {
    bad(`unknown weights '${JSON.stringify(w)}' (choose none, exposure, noise or keyword:NAME)`);
  }
  const positive: (keyof IntegrateOptions)[] = ['sigmaLow', 'sigmaHigh', 'winsorCutoff', 'linearLow', 'linearHigh', 'percentileLow', 'percentileHigh'];
  for (const k of positive) {
    const v = o[k] as number;
    if (typeof v !== 'number' || !(v > 0) || !Number.isFinite(v)) bad(`${k} must be a positive number (got ${String(v)})`);
  }
  for (const k of ['minmaxLow', 'minmaxHigh'] as const) {
    if (!Number.isInteger(o[k]) || o[k] < 0) bad(`${k} must be a whole number >= 0 (got ${String(o[k])})`);
  }
  if (!(o.gesdFraction > 0 && o.gesdFraction < 1)) bad(`gesdFraction must be between 0 and 1 (got ${String(o.gesdFraction)})`);
  if (!(o.gesdAlpha > 0 && o.gesdAlpha < 1)) bad(`gesdAlpha must be between 0 and 1 (got ${String(o.gesdAlpha)})`);
  if (o.rangeLow !== undefined && !Number.isFinite(o.rangeLow)) bad(`rangeLow must be a number (got ${String(o.rangeLow)})`);
  if (o.rangeHigh !== undefined && !Number.isFinite(o.rangeHigh)) bad(`rangeHigh must be a number (got ${String(o.rangeHigh)})`);
  if (o.rangeLow !== undefined && o.rangeHigh !== undefined && !(o.rangeLow < o.rangeHigh)) {
    bad(`rangeLow (${o.rangeLow}) must be below rangeHigh (${o.rangeHigh})`);
  }
  if (o.memoryBytes !== undefined && !(o.memoryBytes > 0)) bad(`memory budget must be positive (got ${String(o.memoryBytes)})`);
  if (o.workers !== undefined && !(Number.isInteger(o.workers) && o.workers >= 1)) bad(`workers must be a whole number >= 1 (got ${String(o.workers)})`);
  return o;
}

/** Fewest frames each rejection needs to be meaningful. */
export function minFrames(o: IntegrateOptions): number {
  switch (o.reject) {
    case 'none':
      return 1;
    case 'minmax':
      return (o.clipLow ? o.minmaxLow : 0) + (o.clipHigh ? o.minmaxHigh : 0) + 1;
    case 'percentile':
      return 3;
    case 'sigma':
    case 'mad':
    case 'averaged-sigma':
    case 'gesd':
      return 3;
    case 'winsorized':
      return 4;
    case 'linear-fit':
      return 5;
  }
}

/**
 * The rejection actually used for `n` frames: the requested one, or (with a warning) percentile
 * clipping when there are at least 3 frames, else none.
 */
export function effectiveReject(o: IntegrateOptions, n: number): { reject: Reject; warning?: string } {
  const need = minFrames(o);
  if (n >= need) return { reject: o.reject };
  const fallback: Reject = n >= 3 && o.reject !== 'percentile' ? 'percentile' : 'none';
  const name = fallback === 'none' ? 'no rejection' : 'percentile clipping';
  return {
    reject: fallback,
    warning: `${o.reject} rejection needs at least ${need} frames (got ${n}): using ${name} instead`,
  };
}

/**
 * The rejection used at a pixel by the number of values it has (index 0..n): the per-pixel form
 * of `effectiveReject`, so that a pixel where some frames have no finite value falls back as a
 * stack of that many frames would.
 */
export function rejectByCount(o: IntegrateOptions, n: number): Reject[] {
  const out: Reject[] = [];
  for (let k = 0; k <= n; k++) out.push(effectiveReject(o, k).reject);
  return out;
}

export function weightsLabel(w: Weights): string {
  return typeof w === 'object' ? `keyword:${w.keyword}` : w;
}
