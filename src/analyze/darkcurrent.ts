/**
 * Dark current (docs/algorithms.md#sensor).
 * - Difference method (Buil), n darks of equal exposure t and temperature, n even:
 *     D = D1 - D2 + D3 - D4 + ... - Dn   (float64, alternating signs)
 *     Dc <= ((G sigma(D))^2 / n - RON_e^2) / t      e-/s/pixel
 *   Fixed patterns (bias structure, DSNU, hot pixel *levels*, amp glow pattern) cancel; only the
 *   shot noise of the dark charge and the read noise remain. The black-level clamp of CMOS cameras
 *   subtracts a per-frame offset, which does not change sigma(D): the method still works there.
 *   "Noise" estimate: sigma from sigma-clipped statistics of D (hot pixels rejected): the mean
 *   rate of the non-hot pixels; "mean": plain sigma of D over all pixels (variance is additive:
 *   this is the mean over pixels of the per-pixel dark current, hot pixels included).
 * - Typical pixel: the MEDIAN of the per-pixel rate (amp glow and skewed DSNU put the mean well
 *   above it). Per-pixel level L = mean(darks) - mean(biases) in ADU; typical = median(L) G / t.
 *   A black-level clamp (or bias drift) shifts every level by one unknown constant, so L is tied
 *   to the difference method: over the typical pixels S (L <= median + 5 MADN, no cosmic ray in
 *   D) the mean of L must equal the plain-variance estimate over S. When it does not (beyond 3
 *   standard errors + 25%), or without biases, typical = (median(L) + offset) G / t with that
 *   offset; otherwise the levels are used as they are (far less noisy than the variance).
 * - Naive method mean(dark - bias) * G / t: wrong when the black level is clamped (darks as dark as
 *   bias) or the bias drifts; reported only with a warning when it disagrees.
 */
import { DarkroomError } from '../util/errors.js';
import { madStd, median } from '../image/stats.js';
import { accumulateRegion, clippedStats, extractRegion, meanStd, type ClippedStats, type Region } from './robust.js';
import type { FramePlane } from './gain.js';

export interface DarkFrame extends FramePlane {
  exposure?: number;
  temperature?: number;
}

export interface DarkProgressionStep {
  frames: number;
  /** Typical pixel (median of the per-pixel rate), e-/s. */
  darkCurrent: number;
  /** Difference method, clipped sigma (mean rate of the non-hot pixels), e-/s. */
  darkCurrentNoise: number;
  /** Mean over all pixels, e-/s. */
  darkCurrentMean: number;
}

export interface NaiveDarkCurrent {
  /** mean(dark - bias) * G / t, e-/s. */
  darkCurrent: number;
  /** Mean dark and bias levels over the region, ADU. */
  darkLevel: number;
  biasLevel: number;
  reliable: boolean;
  warning?: string;
}

export interface DarkCurrentResult {
  method: 'difference-2' | 'difference-n';
  frames: number;
  exposure: number;
  temperature: number | null;
  gain: number;
  readNoiseE: number;
  /** Typical pixel: median of the per-pixel rate, e-/s. */
  darkCurrent: number;
  /** Difference method from the clipped sigma of D: mean rate of the non-hot pixels, e-/s. */
  darkCurrentNoise: number;
  /** 'levels': median of (dark - bias) G / t as measured; 'difference': levels shifted to agree with the difference method (clamp, bias drift or no bias). */
  typicalFrom: TypicalDarkCurrent['from'];
  /** Offset added to the per-pixel levels, e-/s (0 for 'levels'). */
  typicalOffset: number;
  /** All pixels (hot pixels included), e-/s. */
  darkCurrentMean: number;
  /** Dark signal in electrons in one exposure (typical pixel). */
  darkSignalE: number;
  /** Estimates with 2, 4, ..., n frames. */
  progression: DarkProgressionStep[];
  /** Independent estimates from each consecutive pair (D1,D2), (D3,D4), ... */
  pairEstimates: number[];
  /** Standard deviation of the pair estimates (null with one pair), e-/s. */
  pairStdev: number | null;
  /** Standard error of the n-frame noise estimate from the spread of the pairs, e-/s. */
  standardError: number | null;
  /** sigma(D) over the region, ADU (clipped, truncation-corrected) and plain. */
  sigmaAdu: number;
  sigmaAllAdu: number;
  pixels: number;
  rejected: number;
  /** Pixels left out of the all-pixel mean as transients (cosmic rays). */
  transients: number;
  /** Dark signal not significant against read noise (estimate is an upper bound at best). */
  belowReadNoise: boolean;
  naive?: NaiveDarkCurrent;
  warnings: string[];
}

export interface DarkSetOptions {
  /** Largest temperature difference accepted between darks, C (default 1). */
  temperatureTolerance?: number;
  /** Relative exposure tolerance (default 1e-3). */
  exposureTolerance?: number;
}

/**
 * Check that darks can go into the difference method: at least 2, an even number, equal exposures
 * and temperatures (when the headers give them). Throws one clear DarkroomError naming the file.
 */
export function checkDarkSet(darks: DarkFrame[], opts: DarkSetOptions = {}): { exposure: number; temperature: number | null } {
  if (darks.length < 2) throw new DarkroomError('TOO_FEW', `the difference method needs 2 darks (or an even number), got ${darks.length}`, darks[0]?.path);
  if (darks.length % 2 !== 0) {
    throw new DarkroomError('BAD_ARGUMENT', `the n-dark difference method needs an even number of darks, got ${darks.length} (drop one or add one)`, darks[darks.length - 1]?.path);
  }
  const t0 = darks[0]!.exposure;
  if (t0 === undefined || !(t0 > 0)) throw new DarkroomError('BAD_HEADER', 'dark has no positive exposure (EXPTIME/EXPOSURE)', darks[0]!.path);
  const etol = opts.exposureTolerance ?? 1e-3;
  const ttol = opts.temperatureTolerance ?? 1;
  const temps: number[] = [];
  for (const d of darks) {
    if (d.exposure === undefined || !(d.exposure > 0)) throw new DarkroomError('BAD_HEADER', 'dark has no positive exposure (EXPTIME/EXPOSURE)', d.path);
    if (Math.abs(d.exposure - t0) > etol * t0) {
      throw new DarkroomError('MISMATCH', `exposure ${d.exposure} s differs from ${t0} s of ${darks[0]!.path ?? 'the first dark'}: the difference method needs darks of the same exposure`, d.path);
    }
    if (d.temperature !== undefined) temps.push(d.temperature);
  }
  let temperature: number | null = null;
  if (temps.length > 0) {
    const withT = darks.filter((d) => d.temperature !== undefined);
    const ref = withT[0]!;
    for (const d of withT) {
      if (Math.abs(d.temperature! - ref.temperature!) > ttol) {
        throw new DarkroomError('MISMATCH', `temperature ${d.temperature} C differs from ${ref.temperature} C of ${ref.path ?? 'the first dark'} by more than ${ttol} C: the difference method needs darks at the same temperature`, d.path);
      }
    }
    temperature = temps.reduce((a, b) => a + b, 0) / temps.length;
  }
  return { exposure: t0, temperature };
}

function updateMinElevation(minElev: Float64Array, plane: Float32Array, width: number, r: Region): void {
  const m = median(extractRegion(plane, width, r));
  let k = 0;
  for (let y = r.y0; y < r.y0 + r.height; y++) {
    const row = y * width;
    for (let x = r.x0; x < r.x0 + r.width; x++, k++) {
      const e = plane[row + x]! - m;
      if (e < minElev[k]!) minElev[k] = e;
    }
  }
}

/**
 * sigma(D) over all pixels for the all-pixel mean dark current: hot pixels kept (their variance
 * is part of the mean), transients (cosmic rays: an outlier of D in a pixel that is not hot in
 * every frame) removed, since they are no dark current.
 */
function allPixelSigma(acc: Float64Array, minElev: Float64Array, clipped: ClippedStats, n: number): { stdev: number; transients: number } {
  const bound = 5 * clipped.sigma;
  const hot = (5 * clipped.sigma) / Math.sqrt(n);
  let cnt = 0;
  let sum = 0;
  let transients = 0;
  const keep = (k: number): boolean => Math.abs(acc[k]! - clipped.mean) <= bound || minElev[k]! > hot;
  for (let k = 0; k < acc.length; k++) {
    if (keep(k)) {
      sum += acc[k]!;
      cnt++;
    } else transients++;
  }
  const m = sum / cnt;
  let ss = 0;
  for (let k = 0; k < acc.length; k++) if (keep(k)) ss += (acc[k]! - m) ** 2;
  return { stdev: Math.sqrt(ss / (cnt - 1)), transients };
}

function estimate(sigmaAdu: number, n: number, gain: number, ronE: number, t: number): number {
  const ge = gain * sigmaAdu;
  return (ge * ge / n - ronE * ronE) / t;
}

export interface TypicalDarkCurrent {
  /** Median of the per-pixel rate, e-/s. */
  darkCurrent: number;
  from: 'levels' | 'difference';
  /** Offset added to the levels, e-/s (0 for 'levels'). */
  offset: number;
  /** Pixels of the typical set S that tie the levels to the difference method. */
  pixels: number;
}

export interface TypicalInput {
  /** Per-pixel level over the region, ADU: mean of the darks minus the mean of the biases (or 0). */
  levels: Float64Array;
  /** D = D1 - D2 + ... over the region. */
  diff: Float64Array;
  clipped: ClippedStats;
  frames: number;
  gain: number;
  readNoiseE: number;
  exposure: number;
  /** Biases were subtracted from the levels. */
  biased: boolean;
}

/**
 * Typical pixel = median of the per-pixel rate (module comment). The set S excludes hot pixels by
 * their level and cosmic rays by D; selecting by the level does not bias the variance of D, which
 * is a contrast orthogonal to the mean of the darks. Undefined when S has fewer than 2 pixels.
 */
export function typicalDarkCurrent(p: TypicalInput): TypicalDarkCurrent | undefined {
  const { levels: L, diff: D, clipped, frames: n, gain: G, exposure: t } = p;
  const medL = median(L);
  const hi = medL + 5 * madStd(L);
  const dBound = 5 * clipped.sigma;
  let cnt = 0;
  let sd = 0;
  let sl = 0;
  for (let k = 0; k < L.length; k++) {
    if (L[k]! > hi || Math.abs(D[k]! - clipped.mean) > dBound) continue;
    cnt++;
    sd += D[k]!;
    sl += L[k]!;
  }
  if (cnt < 2) return undefined;
  const md = sd / cnt;
  let ss = 0;
  for (let k = 0; k < L.length; k++) if (L[k]! <= hi && Math.abs(D[k]! - clipped.mean) <= dBound) ss += (D[k]! - md) ** 2;
  const varD = ss / (cnt - 1);
  const fromNoise = estimate(Math.sqrt(varD), n, G, p.readNoiseE, t);
  const offset = fromNoise - (sl / cnt) * (G / t);
  // Standard error of the variance estimate over S (sqrt(2 / (N - 1)) relative), e-/s.
  const se = ((G * G * varD) / n / t) * Math.sqrt(2 / (cnt - 1));
  const levelsAgree = p.biased && Math.abs(offset) <= 3 * se + 0.25 * Math.abs(fromNoise);
  const base = medL * (G / t);
  return levelsAgree ? { darkCurrent: base, from: 'levels', offset: 0, pixels: cnt } : { darkCurrent: base + offset, from: 'difference', offset, pixels: cnt };
}

/** Per-pixel mean of the biases over the region, ADU (zeros without biases). */
function biasLevels(biases: FramePlane[] | undefined, width: number, r: Region, npx: number): Float64Array {
  const out = new Float64Array(r.width * r.height);
  if (!biases) return out;
  for (const b of biases) {
    if (b.data.length !== npx) throw new DarkroomError('MISMATCH', `bias has ${b.data.length} pixels, expected ${npx} (frames must have the same size)`, b.path);
    accumulateRegion(out, b.data, width, r, 1 / biases.length);
  }
  return out;
}

function levelsOf(darkSum: Float64Array, n: number, bias: Float64Array): Float64Array {
  const out = new Float64Array(darkSum.length);
  for (let k = 0; k < out.length; k++) out[k] = darkSum[k]! / n - bias[k]!;
  return out;
}

export interface DarkCurrentOptions extends DarkSetOptions {
  gain: number;
  readNoiseE: number;
  region: Region;
  width: number;
  height: number;
  /** Bias frames for the naive method (optional). */
  biases?: FramePlane[];
}

/**
 * Naive mean(dark - bias) G / t (plain means, hot pixels included, as it is usually done), judged
 * against the difference method's all-pixel mean `ref`: reliable within 25% plus `statErr`.
 */
function naiveDarkCurrent(darks: DarkFrame[], biases: FramePlane[], width: number, r: Region, G: number, t: number, ref: number, statErr: number): NaiveDarkCurrent {
  let dl = 0;
  for (const d of darks) dl += meanStd(extractRegion(d.data, width, r)).mean;
  dl /= darks.length;
  let bl = 0;
  for (const b of biases) bl += meanStd(extractRegion(b.data, width, r)).mean;
  bl /= biases.length;
  const dcNaive = ((dl - bl) * G) / t;
  const tol = 0.25 * Math.abs(ref) + 3 * statErr;
  const reliable = dcNaive > 0 && Math.abs(dcNaive - ref) <= tol;
  const naive: NaiveDarkCurrent = { darkCurrent: dcNaive, darkLevel: dl, biasLevel: bl, reliable };
  if (!reliable) {
    naive.warning =
      dl <= bl || dcNaive < 0.25 * ref
        ? `naive mean(dark - bias)/t = ${dcNaive.toPrecision(3)} e-/s is unreliable: the darks are about as dark as or darker than the bias (black-level clamp / dark current suppression); use the difference method`
        : `naive mean(dark - bias)/t = ${dcNaive.toPrecision(3)} e-/s disagrees with the difference method (${ref.toPrecision(3)} e-/s): bias drift, black-level clamp or light leak; do not use it`;
  }
  return naive;
}

interface DarkPass {
  progression: DarkProgressionStep[];
  pairEstimates: number[];
  clipped: ClippedStats;
  allSigma: number;
  transients: number;
  typical: TypicalDarkCurrent | undefined;
}

/** One pass over the darks: D, the per-pixel levels and the estimates after each pair. */
function darkPass(darks: DarkFrame[], bias: Float64Array, biased: boolean, opts: DarkCurrentOptions, t: number): DarkPass {
  const { gain: G, readNoiseE: ron, region: r, width } = opts;
  const size = r.width * r.height;
  const acc = new Float64Array(size);
  const darkSum = new Float64Array(size);
  // Lowest level of each pixel over the frames so far (relative to each frame's median): high
  // for hot pixels (fixed), normal for pixels hit by a cosmic ray in one frame (transient).
  const minElev = new Float64Array(size).fill(Infinity);
  const pairAcc = new Float64Array(size);
  const progression: DarkProgressionStep[] = [];
  const pairEstimates: number[] = [];
  let last: Omit<DarkPass, 'progression' | 'pairEstimates'> | undefined;
  for (let i = 0; i < darks.length; i++) {
    const sign = i % 2 === 0 ? 1 : -1;
    accumulateRegion(acc, darks[i]!.data, width, r, sign);
    accumulateRegion(darkSum, darks[i]!.data, width, r, 1);
    updateMinElevation(minElev, darks[i]!.data, width, r);
    if (sign === 1) pairAcc.fill(0);
    accumulateRegion(pairAcc, darks[i]!.data, width, r, sign);
    if (sign === 1) continue;
    const n = i + 1;
    const clipped = clippedStats(acc);
    const all = allPixelSigma(acc, minElev, clipped, n);
    const noise = estimate(clipped.sigma, n, G, ron, t);
    const typical = typicalDarkCurrent({ levels: levelsOf(darkSum, n, bias), diff: acc, clipped, frames: n, gain: G, readNoiseE: ron, exposure: t, biased });
    last = { clipped, allSigma: all.stdev, transients: all.transients, typical };
    progression.push({ frames: n, darkCurrent: typical?.darkCurrent ?? noise, darkCurrentNoise: noise, darkCurrentMean: estimate(all.stdev, n, G, ron, t) });
    pairEstimates.push(estimate(clippedStats(pairAcc).sigma, 2, G, ron, t));
  }
  if (!last) throw new Error('unreachable: no dark pair');
  return { ...last, progression, pairEstimates };
}

export function darkCurrentDifference(darks: DarkFrame[], opts: DarkCurrentOptions): DarkCurrentResult {
  const { exposure: t, temperature } = checkDarkSet(darks, opts);
  const { gain: G, readNoiseE: ron, region: r, width } = opts;
  if (!(G > 0)) throw new DarkroomError('BAD_ARGUMENT', `--gain must be positive (e-/ADU), got ${G}`);
  if (!(ron >= 0)) throw new DarkroomError('BAD_ARGUMENT', `--read-noise must be >= 0 (e-), got ${ron}`);
  const npx = opts.width * opts.height;
  for (const d of darks) if (d.data.length !== npx) throw new DarkroomError('MISMATCH', `dark has ${d.data.length} pixels, expected ${npx} (frames must have the same size)`, d.path);
  const biases = opts.biases && opts.biases.length > 0 ? opts.biases : undefined;
  const pass = darkPass(darks, biasLevels(biases, width, r, npx), biases !== undefined, opts, t);
  const { progression, pairEstimates, clipped } = pass;
  const n = darks.length;
  const final = progression[progression.length - 1]!;
  const pairStdev = pairEstimates.length > 1 ? meanStd(pairEstimates).stdev : null;
  const warnings: string[] = [];
  // Significance: the dark signal's variance against the read noise variance, given the
  // statistical error of a variance from N pixels (sqrt(2/N) relative).
  const totalVarE = (G * clipped.sigma) ** 2 / n;
  const relErr = Math.sqrt(2 / Math.max(1, clipped.count));
  const belowReadNoise = final.darkCurrentNoise * t < 3 * relErr * totalVarE;
  if (belowReadNoise) warnings.push('the dark signal is not significant against the read noise: use longer darks (the value is an upper limit)');
  if (final.darkCurrentNoise < 0) warnings.push('negative estimate: the read noise given is larger than the noise of the darks (wrong --read-noise or --gain?)');
  // The naive method measures the all-pixel mean: compared with the difference method's.
  const naive = biases ? naiveDarkCurrent(darks, biases, width, r, G, t, final.darkCurrentMean, pairStdev ?? (relErr * totalVarE) / t) : undefined;
  if (naive?.warning) warnings.push(naive.warning);
  const standardError = pairStdev === null ? null : pairStdev / Math.sqrt(pairEstimates.length);
  return {
    method: n === 2 ? 'difference-2' : 'difference-n',
    frames: n,
    exposure: t,
    temperature,
    gain: G,
    readNoiseE: ron,
    darkCurrent: final.darkCurrent,
    darkCurrentNoise: final.darkCurrentNoise,
    typicalFrom: pass.typical?.from ?? 'difference',
    typicalOffset: pass.typical?.offset ?? 0,
    darkCurrentMean: final.darkCurrentMean,
    darkSignalE: final.darkCurrent * t,
    progression,
    pairEstimates,
    pairStdev,
    standardError,
    sigmaAdu: clipped.sigma,
    sigmaAllAdu: pass.allSigma,
    pixels: clipped.count,
    rejected: clipped.rejected,
    transients: pass.transients,
    belowReadNoise,
    naive,
    warnings,
  };
}
