/**
 * Integration options: the fixed public types, the option catalogue (each option's flag, type,
 * default, range and help, defined once: `darkroom stack`, `darkroom run` and the API are made
 * from it), validation, and the choice of a fallback rejection when there are too few frames for
 * the requested one.
 */
import { DarkroomError } from '../util/errors.js';
import { checkValues, defineCatalogue, nonDefault, pick, type Catalogue, type CatalogueSpecs, type OptionSpec } from '../util/options.js';
import type { Image } from '../image/image.js';
import type { WarningEvent } from '../util/warnings.js';
import type { RejectTuning } from '../kernels/reject.js';

export type Combine = 'average' | 'median' | 'sum' | 'min' | 'max';
export type Reject = 'none' | 'minmax' | 'percentile' | 'sigma' | 'winsorized' | 'averaged-sigma' | 'linear-fit' | 'gesd' | 'mad';
export type Normalize = 'none' | 'additive' | 'multiplicative' | 'additive-scaling' | 'multiplicative-scaling';
export type RejectNormalize = Normalize | 'equalize-fluxes';
export type Weights = 'none' | 'exposure' | 'noise' | { keyword: string };

export interface IntegrateOptions extends RejectTuning {
  combine: Combine;
  reject: Reject;
  rangeLow?: number;
  rangeHigh?: number;
  normalize: Normalize;
  rejectNormalize: RejectNormalize;
  weights: Weights;
  estimator: 'ikss' | 'mad';
  /** The memory budget of the row bands, in bytes (`--memory`, e.g. 2GB). */
  memory?: number;
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
export const ESTIMATORS: readonly IntegrateOptions['estimator'][] = ['ikss', 'mad'];
/** The spellings of --weights (besides keyword:NAME, a FITS keyword of 1-8 characters). */
export const WEIGHTS: readonly string[] = ['none', 'exposure', 'noise', 'keyword:NAME'];

/** 'none' | 'exposure' | 'noise' | 'keyword:NAME' -> the weights (NAME upper-cased); throws a message on anything else. */
export function parseWeights(text: string): Weights {
  if (text === 'none' || text === 'exposure' || text === 'noise') return text;
  const m = /^keyword:([A-Za-z0-9_-]{1,8})$/.exec(text);
  if (m) return { keyword: m[1]!.toUpperCase() };
  throw new Error(`unknown value '${text}' (choose none, exposure, noise or keyword:NAME)`);
}

export function weightsLabel(w: Weights): string {
  return typeof w === 'object' && w !== null ? `keyword:${w.keyword}` : w;
}

const sigma = (help: string, dflt: number, doc: string): Omit<OptionSpec<number>, 'flag'> => ({ type: 'number', min: 0, exclusive: true, default: dflt, help, doc });

/**
 * The integration options (`darkroom stack`, the integrate steps of `darkroom run`, the API's run
 * and plan), one definition each, with one default each for all three: the defaults are PixInsight
 * ImageIntegration's for lights (average, winsorized 4/3, additive normalization with scaling, noise
 * weights). Masters are not made with these defaults: calibrate/masters.ts MASTER_DEFAULTS gives
 * every setting of each kind of master.
 */
const SPECS: CatalogueSpecs<IntegrateOptions> = {
  combine: { flag: '--combine <how>', type: 'enum', values: COMBINES, default: 'average', help: 'combination', doc: 'How the values of a pixel that survive the rejection are combined (sum and min/max ignore the weights).' },
  reject: { flag: '--reject <method>', type: 'enum', values: REJECTS, default: 'winsorized', help: 'pixel rejection', doc: 'The pixel rejection; with too few frames for it, percentile clipping (3 or more frames) or none is used, with a warning.' },
  sigmaLow: { ...sigma('low sigma of sigma/winsorized/averaged-sigma/mad clipping', 4, 'Values below location - sigmaLow x scale are rejected (winsorized: the multiplier with the same normal tail probability for a scale estimated from the pixel\'s values, the Student t quantile; docs/algorithms.md §9).'), flag: '--sigma-low <k>' },
  sigmaHigh: { ...sigma('high sigma of sigma/winsorized/averaged-sigma/mad clipping', 3, 'Values above location + sigmaHigh x scale are rejected (winsorized: corrected as for sigmaLow).'), flag: '--sigma-high <k>' },
  winsorCutoff: { ...sigma('winsorization cutoff', 5, 'Winsorized clipping: values beyond this many sigma are replaced before the scale is estimated.'), flag: '--winsor-cutoff <k>' },
  linearLow: { ...sigma('linear fit: low sigma', 5, 'Linear fit clipping: values more than linearLow x the scatter below the fitted line are rejected.'), flag: '--linear-low <k>' },
  linearHigh: { ...sigma('linear fit: high sigma', 4, 'Linear fit clipping: values more than linearHigh x the scatter above the fitted line are rejected.'), flag: '--linear-high <k>' },
  percentileLow: { ...sigma('percentile clipping: low', 0.2, 'Percentile clipping: values below median x (1 - percentileLow) are rejected.'), flag: '--percentile-low <p>' },
  percentileHigh: { ...sigma('percentile clipping: high', 0.1, 'Percentile clipping: values above median x (1 + percentileHigh) are rejected.'), flag: '--percentile-high <p>' },
  minmaxLow: { flag: '--minmax-low <n>', type: 'integer', min: 0, default: 1, help: 'min/max: number of lowest values dropped', doc: 'Min/max clipping: this many of the lowest values of each pixel are dropped.' },
  minmaxHigh: { flag: '--minmax-high <n>', type: 'integer', min: 0, default: 1, help: 'min/max: number of highest values dropped', doc: 'Min/max clipping: this many of the highest values of each pixel are dropped.' },
  gesdFraction: { flag: '--gesd-fraction <f>', type: 'number', min: 0, max: 1, exclusive: true, default: 0.3, help: 'GESD: outlier fraction', doc: 'Generalized extreme Studentized deviate test: the largest fraction of a pixel\'s values that may be outliers.' },
  gesdAlpha: { flag: '--gesd-alpha <a>', type: 'number', min: 0, max: 1, exclusive: true, default: 0.05, help: 'GESD: significance', doc: 'Generalized extreme Studentized deviate test: the significance level of each test.' },
  clipLow: { flag: '--no-clip-low', type: 'boolean', default: true, help: 'do not reject low values', doc: 'Reject low outliers (dark pixels, cold pixels); on by default.' },
  clipHigh: { flag: '--no-clip-high', type: 'boolean', default: true, help: 'do not reject high values', doc: 'Reject high outliers (satellites, cosmic rays, hot pixels); on by default.' },
  rangeLow: { flag: '--range-low <v>', type: 'number', help: 'reject raw values <= v', defaultText: 'off', doc: 'Range rejection before anything else: raw values at or below this are undefined.' },
  rangeHigh: { flag: '--range-high <v>', type: 'number', help: 'reject raw values >= v', defaultText: 'off', doc: 'Range rejection before anything else: raw values at or above this (saturation) are undefined.' },
  normalize: { flag: '--normalize <how>', type: 'enum', values: NORMALIZES, default: 'additive-scaling', help: 'normalization for the combination', doc: 'How frames are matched to the reference frame (location, scale) before they are combined.' },
  rejectNormalize: { flag: '--reject-normalize <how>', type: 'enum', values: REJECT_NORMALIZES, default: 'none', help: 'normalization for the rejection', doc: 'How frames are matched before the rejection (equalize-fluxes for flats).' },
  weights: { flag: '--weights <how>', type: 'string', values: WEIGHTS, default: 'noise', help: 'frame weights', doc: 'Frame weights: none, exposure (EXPTIME), noise (inverse noise variance) or the value of a FITS keyword.', parse: parseWeights, format: weightsLabel },
  estimator: { flag: '--estimator <e>', type: 'enum', values: ESTIMATORS, default: 'ikss', help: 'location/scale estimator', doc: 'Estimator of each frame\'s location and scale for normalization: IKSS (iterative k-sigma) or median/MAD.' },
  rejectionMaps: { flag: '--rejection-maps', type: 'boolean', default: false, help: 'write OUT_rejlow.fits and OUT_rejhigh.fits (fraction of frames rejected per pixel)', doc: 'Also write the rejection maps beside the output: the fraction of frames rejected low/high at each pixel.' },
  memory: { flag: '--memory <size>', type: 'size', help: 'memory budget for the row bands, e.g. 2GB', defaultText: 'a quarter of free memory, at most 512MB', doc: 'The memory budget of the row bands (bytes, or a size such as 2GB or 512MB on the command line and in the API): bounds the memory whatever the frame size.' },
  workers: { flag: '--workers <n>', type: 'integer', min: 1, help: 'worker threads', defaultText: 'all cores', doc: 'Worker threads of the integration (small stacks use one).' },
};

/** The integration catalogue: every option of `darkroom stack`, in its help order. */
export const INTEGRATE_CATALOGUE: Catalogue = defineCatalogue<IntegrateOptions>(SPECS);

/** Defaults: the catalogue's. */
export const DEFAULT_OPTIONS: IntegrateOptions = Object.fromEntries(
  INTEGRATE_CATALOGUE.filter((d) => d.default !== undefined).map((d) => [d.key, d.default]),
) as unknown as IntegrateOptions;

function bad(msg: string): never {
  throw new DarkroomError('BAD_ARGUMENT', msg);
}

/**
 * Check integration options (each against its definition in the catalogue, then the ranges
 * together); a DarkroomError with one line on the first problem. Called when an integration starts
 * and when a plan is built.
 */
export function validateIntegrationOptions(o: Partial<IntegrateOptions>): void {
  checkValues(INTEGRATE_CATALOGUE, o as Record<string, unknown>);
  if (o.rangeLow !== undefined && o.rangeHigh !== undefined && !(o.rangeLow < o.rangeHigh)) {
    bad(`rangeLow (${o.rangeLow}) must be below rangeHigh (${o.rangeHigh})`);
  }
}

export function resolveOptions(opts: Partial<IntegrateOptions> = {}): IntegrateOptions {
  const o: IntegrateOptions = { ...DEFAULT_OPTIONS };
  for (const [k, v] of Object.entries(opts)) if (v !== undefined) (o as unknown as Record<string, unknown>)[k] = v;
  validateIntegrationOptions(o);
  return o;
}

/** The integration options of a run (its plan, top level): the rest travel in `integration`. */
export interface RunIntegration {
  reject: string;
  normalize: string;
  weights: string;
  /** The other integration options that differ from their defaults. */
  integration?: Partial<IntegrateOptions>;
}

const RUN_TOP: readonly string[] = ['reject', 'normalize', 'weights'];

/**
 * The defaults of a run's top-level three, in a plan's spelling (weights as text): the catalogue's
 * (`darkroom run` and the API's run/plan take every option of the catalogue, with its default).
 */
export const RUN_TOP_DEFAULTS: Pick<RunIntegration, 'reject' | 'normalize' | 'weights'> = {
  reject: DEFAULT_OPTIONS.reject,
  normalize: DEFAULT_OPTIONS.normalize,
  weights: weightsLabel(DEFAULT_OPTIONS.weights),
};

/** Typed integration values (from parseCli or the API schema) as a run's options: the top-level three, the rest when not default. */
export function splitRunIntegration(values: Record<string, unknown>, cat: Catalogue = INTEGRATE_CATALOGUE): Partial<RunIntegration> {
  const out: Partial<RunIntegration> = {};
  if (values.reject !== undefined) out.reject = String(values.reject);
  if (values.normalize !== undefined) out.normalize = String(values.normalize);
  if (values.weights !== undefined) out.weights = weightsLabel(values.weights as Weights);
  const rest = nonDefault(pick(cat, RUN_TOP, true), values) as Partial<IntegrateOptions>;
  if (Object.keys(rest).length) out.integration = rest;
  return out;
}

/** The integration options a run's stacks are made with. */
export function runIntegration(o: RunIntegration): Partial<IntegrateOptions> {
  return { ...o.integration, reject: o.reject as Reject, normalize: o.normalize as Normalize, weights: parseWeightsOption(o.weights) };
}

function parseWeightsOption(w: string): Weights {
  try {
    return parseWeights(w);
  } catch (e) {
    return bad(`weights: ${(e as Error).message}`);
  }
}

/** Check a run's integration options (when its plan is built): a DarkroomError naming the first bad one. */
export function validateRunIntegration(o: RunIntegration): void {
  validateIntegrationOptions(runIntegration(o));
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
