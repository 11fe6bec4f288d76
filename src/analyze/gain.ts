/**
 * Read noise and gain by the photon transfer method (Janesick; docs/algorithms.md#sensor): two bias frames give the read noise
 * sigma(B1 - B2) / sqrt(2); two flats of the same setup give the gain
 *   G = ((mean F1 + mean F2) - (mean B1 + mean B2)) / (var(F1 - F2) - var(B1 - B2))   e-/ADU.
 * Robustness: flat 2 is scaled to flat 1 about the bias level before differencing (a panel whose
 * brightness drifts a little between the flats), and the difference statistics are sigma-clipped
 * (hot pixels, cosmic rays) over a region (the centre by default: no vignetting, no amp glow).
 * With the scale k = S1 / S2 (S = mean - bias), var(F1 - k F2) = S1 (1 + k) / G + RON^2 (1 + k^2),
 * which reduces to the textbook formula for k = 1.
 */
import { DarkroomError } from '../util/errors.js';
import { accumulateRegion, clippedStats, extractRegion, type Region } from './robust.js';

export interface FramePlane {
  data: Float32Array;
  /** File name for messages. */
  path?: string;
}

export interface ReadNoiseResult {
  /** sigma(B1 - B2) / sqrt(2), ADU. */
  readNoiseAdu: number;
  /** With a gain: read noise in electrons. */
  readNoiseE?: number;
  /** Clipped means of the two bias frames over the region, ADU. */
  biasMeans: [number, number];
  /** Variance of the difference image B1 - B2 (clipped, truncation-corrected), ADU^2. */
  diffVariance: number;
  pixels: number;
  rejected: number;
}

/** Sigma clip for the difference images (k sigma). */
const DIFF_CLIP = 3.5;
/** Sigma clip for the frame means (wide: only hot pixels and cosmic rays). */
const MEAN_CLIP = 5;

function checkSize(a: Float32Array, n: number, what: string, path?: string): void {
  if (a.length !== n) throw new DarkroomError('MISMATCH', `${what} has ${a.length} pixels, expected ${n} (frames must have the same size)`, path);
}

/** Clipped mean over the region. */
export function regionMean(plane: Float32Array, width: number, r: Region): number {
  return clippedStats(extractRegion(plane, width, r), MEAN_CLIP).mean;
}

/** Variance of (a - scale * b) over the region (clipped, truncation-corrected). */
export function differenceVariance(a: Float32Array, b: Float32Array, width: number, r: Region, scale = 1, offset = 0): { variance: number; pixels: number; rejected: number } {
  const acc = new Float64Array(r.width * r.height);
  accumulateRegion(acc, a, width, r, 1);
  accumulateRegion(acc, b, width, r, -1, scale, offset);
  const s = clippedStats(acc, DIFF_CLIP);
  return { variance: s.sigma * s.sigma, pixels: s.count, rejected: s.rejected };
}

export function measureReadNoise(b1: FramePlane, b2: FramePlane, width: number, height: number, region: Region, gain?: number): ReadNoiseResult {
  checkSize(b1.data, width * height, 'bias 1', b1.path);
  checkSize(b2.data, width * height, 'bias 2', b2.path);
  const m1 = regionMean(b1.data, width, region);
  const m2 = regionMean(b2.data, width, region);
  const d = differenceVariance(b1.data, b2.data, width, region);
  const ron = Math.sqrt(d.variance / 2);
  return {
    readNoiseAdu: ron,
    readNoiseE: gain !== undefined ? ron * gain : undefined,
    biasMeans: [m1, m2],
    diffVariance: d.variance,
    pixels: d.pixels,
    rejected: d.rejected,
  };
}

export interface GainResult {
  /** e-/ADU. */
  gain: number;
  readNoiseAdu: number;
  readNoiseE: number;
  /** Mean bias level (both frames), ADU. */
  biasLevel: number;
  /** Flat signals above bias, ADU. */
  signal: [number, number];
  /** Scale applied to flat 2 (S1 / S2): the panel drift between the flats. */
  scale: number;
  /** Variance of F1 - k F2 and of B1 - B2, ADU^2. */
  flatDiffVariance: number;
  biasDiffVariance: number;
  /** Shot-noise variance of one flat at signal S1, ADU^2 (= S1 / G). */
  shotVariance: number;
  pixels: number;
  rejected: number;
}

/** Gain from the bias statistics and one flat pair (shared by the pair method and the PTC). */
export function gainFromFlatPair(f1: FramePlane, f2: FramePlane, width: number, region: Region, biasLevel: number, biasDiffVariance: number, allowSaturated = false): Omit<GainResult, 'readNoiseAdu' | 'readNoiseE' | 'biasLevel' | 'biasDiffVariance'> {
  const s1 = regionMean(f1.data, width, region) - biasLevel;
  const s2 = regionMean(f2.data, width, region) - biasLevel;
  if (!(s1 > 0 && s2 > 0)) {
    throw new DarkroomError('BAD_ARGUMENT', `flat signal above bias is not positive (${s1.toFixed(1)}, ${s2.toFixed(1)} ADU): are these flats and biases of the same camera settings?`, f1.path);
  }
  const k = s1 / s2;
  if (Math.abs(k - 1) > 0.2) {
    throw new DarkroomError('MISMATCH', `the two flats differ by ${(Math.abs(k - 1) * 100).toFixed(0)}% in level (photon transfer needs flats of the same exposure and illumination)`, f2.path);
  }
  const d = differenceVariance(f1.data, f2.data, width, region, k, biasLevel);
  const shotTotal = d.variance - (biasDiffVariance * (1 + k * k)) / 2;
  if (!(shotTotal > 0) && allowSaturated) {
    return { gain: Infinity, signal: [s1, s2], scale: k, flatDiffVariance: d.variance, shotVariance: 0, pixels: d.pixels, rejected: d.rejected };
  }
  if (!(shotTotal > 0)) {
    throw new DarkroomError('BAD_ARGUMENT', 'the flat difference is not noisier than the bias difference: no photon noise measurable (flats too faint?)', f1.path);
  }
  const gain = (s1 * (1 + k)) / shotTotal;
  return { gain, signal: [s1, s2], scale: k, flatDiffVariance: d.variance, shotVariance: shotTotal / (1 + k), pixels: d.pixels, rejected: d.rejected };
}

export function measureGain(f1: FramePlane, f2: FramePlane, b1: FramePlane, b2: FramePlane, width: number, height: number, region: Region): GainResult {
  for (const [f, what] of [[f1, 'flat 1'], [f2, 'flat 2']] as const) checkSize(f.data, width * height, what, f.path);
  const rn = measureReadNoise(b1, b2, width, height, region);
  const biasLevel = (rn.biasMeans[0] + rn.biasMeans[1]) / 2;
  const g = gainFromFlatPair(f1, f2, width, region, biasLevel, rn.diffVariance);
  return { ...g, readNoiseAdu: rn.readNoiseAdu, readNoiseE: rn.readNoiseAdu * g.gain, biasLevel, biasDiffVariance: rn.diffVariance };
}

export interface PtcPoint {
  exposure?: number;
  /** Mean signal above bias, ADU. */
  signal: number;
  /** Shot-noise variance of one frame, ADU^2. */
  shotVariance: number;
  /** Total noise of one frame (shot + read), ADU. */
  noise: number;
  /** Gain from this pair alone, e-/ADU. */
  gain: number;
  /** Inside the linear (shot-noise limited, unsaturated) range. */
  linear: boolean;
}

export interface PtcResult {
  points: PtcPoint[];
  /** Gain fitted over the linear range (variance = signal / G, through the origin), e-/ADU. */
  gain: number;
  readNoiseAdu: number;
  readNoiseE: number;
  /** Signal range (ADU above bias) where the variance follows signal / G within 10%. */
  linearRange: { min: number; max: number };
  /** Signal at the photon-transfer knee (maximum variance), ADU and electrons. */
  fullWellAdu: number;
  fullWellE: number;
  /** False when the variance still grows at the brightest pair: full well is then a lower bound. */
  fullWellReached: boolean;
  /** Largest deviation of signal/exposure from its median over the linear range, percent (null without exposures). */
  responseNonlinearityPct: number | null;
}

/**
 * Photon transfer curve from flat pairs at several exposures (and one bias pair). The linear range
 * is the contiguous run of pairs from the faintest up whose gain is within 10% of the median gain of
 * the pairs below the knee; the full well is taken at the variance maximum (the knee).
 */
export function photonTransferCurve(pairs: { f1: FramePlane; f2: FramePlane; exposure?: number }[], b1: FramePlane, b2: FramePlane, width: number, height: number, region: Region): PtcResult {
  if (pairs.length < 2) throw new DarkroomError('TOO_FEW', `a photon transfer curve needs flat pairs at 2 or more levels, got ${pairs.length}`);
  const rn = measureReadNoise(b1, b2, width, height, region);
  const biasLevel = (rn.biasMeans[0] + rn.biasMeans[1]) / 2;
  const pts: PtcPoint[] = [];
  for (const p of pairs) {
    checkSize(p.f1.data, width * height, 'flat', p.f1.path);
    checkSize(p.f2.data, width * height, 'flat', p.f2.path);
    const g = gainFromFlatPair(p.f1, p.f2, width, region, biasLevel, rn.diffVariance, true);
    const s = (g.signal[0] + g.signal[1] * g.scale) / 2;
    pts.push({ exposure: p.exposure, signal: s, shotVariance: g.shotVariance, noise: Math.sqrt(g.shotVariance + rn.readNoiseAdu ** 2), gain: g.gain, linear: false });
  }
  pts.sort((a, b) => a.signal - b.signal);
  let knee = 0;
  for (let i = 1; i < pts.length; i++) if (pts[i]!.shotVariance > pts[knee]!.shotVariance) knee = i;
  const below = pts.slice(0, knee + 1).map((p) => p.gain).sort((a, b) => a - b);
  const gMed = below.length % 2 ? below[(below.length - 1) / 2]! : (below[below.length / 2 - 1]! + below[below.length / 2]!) / 2;
  let last = -1;
  for (let i = 0; i <= knee; i++) {
    if (Math.abs(pts[i]!.gain / gMed - 1) <= 0.1) {
      pts[i]!.linear = true;
      last = i;
    } else if (last >= 0) break;
  }
  const lin = pts.filter((p) => p.linear);
  // Least squares through the origin: variance = signal / G.
  let sxy = 0;
  let sxx = 0;
  for (const p of lin) {
    sxx += p.signal * p.signal;
    sxy += p.signal * p.shotVariance;
  }
  const gain = lin.length > 0 ? sxx / sxy : gMed;
  let nonlin: number | null = null;
  const withT = lin.filter((p) => p.exposure !== undefined && p.exposure > 0);
  if (withT.length >= 2) {
    const rates = withT.map((p) => p.signal / p.exposure!).sort((a, b) => a - b);
    const m = rates.length % 2 ? rates[(rates.length - 1) / 2]! : (rates[rates.length / 2 - 1]! + rates[rates.length / 2]!) / 2;
    nonlin = Math.max(...rates.map((r) => Math.abs(r / m - 1))) * 100;
  }
  const fw = pts[knee]!.signal;
  return {
    points: pts,
    gain,
    readNoiseAdu: rn.readNoiseAdu,
    readNoiseE: rn.readNoiseAdu * gain,
    linearRange: lin.length ? { min: lin[0]!.signal, max: lin[lin.length - 1]!.signal } : { min: NaN, max: NaN },
    fullWellAdu: fw,
    fullWellE: fw * gain,
    fullWellReached: knee < pts.length - 1,
    responseNonlinearityPct: nonlin,
  };
}
