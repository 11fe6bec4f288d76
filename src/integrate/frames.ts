/**
 * First pass over the frames (docs/algorithms.md#integration): geometry checks, per-frame location/scale (IKSS or median/MAD),
 * noise (MRS), weights, and the normalization coefficients for rejection and combination.
 * Each plane is read whole only when it and the estimator's copies fit the memory budget; else
 * its statistics stream by row bands (bandstats.ts, same answers). Noise is estimated on at most
 * NOISE_MAX_PIXELS (central rows of bigger planes), unless the frame carries the noise of every
 * channel as calibrated (NOISExx, image/noise-keywords.ts): that noise, measured before resampling, is used.
 * The same for the IKSS scale (IKSCALxx) and location (IKLOCxx): a set that carries all three is not read here.
 */
import { FitsFile, type Hdu } from '../fits/index.js';
import { DarkroomError } from '../util/errors.js';
import { MAD_TO_SIGMA } from '../image/stats.js';
import { arrayScan, rowScan, rowsForBytes, streamIkss, streamMedian, type BandScan, type RowSource } from '../image/bandstats.js';
import { noiseMRS, noiseRows } from '../image/noise.js';
import { readLocationKeywords, readNoiseKeywords, readScaleKeywords } from '../image/noise-keywords.js';
import type { IntegrateOptions, Normalize, RejectNormalize } from './options.js';
import { ikssOfPlane } from '../kernels/ikss.js';

export interface OpenFrame {
  path: string;
  file: FitsFile;
  hdu: Hdu;
}

export interface Geometry {
  width: number;
  height: number;
  channels: number;
}

/** Open every frame and check they all have the first frame's size and channel count. */
export function openFrames(paths: string[]): { frames: OpenFrame[]; geometry: Geometry } {
  const frames: OpenFrame[] = [];
  try {
    let g0: Geometry | undefined;
    for (const path of paths) {
      const file = new FitsFile(path);
      frames.push({ path, file, hdu: file.imageHdu() });
      const g = file.geometry(frames[frames.length - 1]!.hdu);
      if (!g0) g0 = g;
      else if (g.width !== g0.width || g.height !== g0.height || g.channels !== g0.channels) {
        throw new DarkroomError(
          'MISMATCH',
          `frame is ${g.width}x${g.height} with ${g.channels} channel(s); the first frame (${paths[0]}) is ${g0.width}x${g0.height} with ${g0.channels} channel(s)`,
          path,
        );
      }
    }
    return { frames, geometry: g0! };
  } catch (e) {
    closeFrames(frames);
    throw e;
  }
}

export function closeFrames(frames: OpenFrame[]): void {
  for (const f of frames) f.file.close();
}

export interface FrameStats {
  /** [channel][frame] */
  location: number[][];
  scale: number[][];
  noise: number[][];
}

/** What the first pass computes per frame: location/scale (for a normalization) and/or the MRS noise. */
export interface FrameStatsRequest {
  estimator: 'ikss' | 'mad';
  location: boolean;
  noise: boolean;
  memoryBytes: number;
  /** Every frame carries NOISExx for every channel: the noise is that (the calibrated frame's), no MRS. */
  noiseKeywords?: boolean;
  /** Every frame carries IKSCALxx for every channel (estimator IKSS): the scale is that (the calibrated frame's). */
  scaleKeywords?: boolean;
  /** Every frame carries IKLOCxx and IKSCALxx for every channel (estimator IKSS): the location is IKLOCxx, no IKSS pass. */
  locationKeywords?: boolean;
}

/** One frame's statistics per channel (NaN where not requested). */
export interface OneFrameStats {
  location: number[];
  scale: number[];
  noise: number[];
}

function rowSource(fr: OpenFrame, g: Geometry): RowSource {
  return { width: g.width, height: g.height, readRows: (cc: number, y0: number, y1: number, out: Float32Array) => void fr.file.readRows(cc, y0, y1, fr.hdu, out) };
}

/** Location/scale of a scan: IKSS (values collected once they fit the budget) or median and 1.4826 * MAD. */
function scanLocationScale(scan: BandScan, estimator: 'ikss' | 'mad', memoryBytes: number): { location: number; scale: number } {
  // IKSS collects the values once they fit: 8 bytes each (values + deviations)
  if (estimator === 'ikss') return streamIkss(scan, Math.floor(memoryBytes / 16));
  const m = streamMedian(scan).median;
  const madv = streamMedian(scan, { lo: -Infinity, hi: Infinity, center: m }).median;
  return { location: m, scale: MAD_TO_SIGMA * madv };
}

/** Location/scale of a plane in memory (not modified): IKSS by the sorted-values loop (kernels/ikss.ts, the same answer in fewer passes). */
function wholeLocationScale(plane: Float32Array, estimator: 'ikss' | 'mad', memoryBytes: number): { location: number; scale: number } {
  return estimator === 'ikss' ? ikssOfPlane(plane) : scanLocationScale(arrayScan(plane), estimator, memoryBytes);
}

/** Whether a plane and the estimator's copies fit the budget (then it is read whole). */
function planeFits(g: Geometry, memoryBytes: number): boolean {
  return 3 * g.width * g.height * 4 <= memoryBytes;
}

/**
 * Location and scale of plane c of a frame over its finite values: IKSS, or (estimator 'mad')
 * median and 1.4826 * MAD. Results do not depend on `memoryBytes`, only the way they are computed:
 * the plane in memory when it and the copies fit, else streamed by row bands.
 */
export function locationScale(fr: OpenFrame, c: number, g: Geometry, estimator: 'ikss' | 'mad', memoryBytes: number): { location: number; scale: number } {
  if (planeFits(g, memoryBytes)) return wholeLocationScale(fr.file.readRows(c, 0, g.height, fr.hdu), estimator, memoryBytes);
  return scanLocationScale(rowScan(rowSource(fr, g), [c], rowsForBytes(g.width, memoryBytes / 4)), estimator, memoryBytes);
}

/**
 * The statistics of one frame, channel by channel (pure given the file: the same numbers in any
 * thread). A plane read whole serves both the location/scale and the noise (its central rows);
 * otherwise the location/scale stream by row bands and the noise rows are read on their own. The
 * plane (or band) and noise buffers are allocated once for all channels.
 */
export function statsOfFrame(fr: OpenFrame, g: Geometry, req: FrameStatsRequest): OneFrameStats {
  const r: OneFrameStats = { location: [], scale: [], noise: [] };
  // the calibrated frame's noise (NOISExx, before resampling) and scale (IKSCALxx) when the whole set has them: no MRS here
  const given = req.noise && req.noiseKeywords ? readNoiseKeywords(fr.hdu.header, g.channels) : undefined;
  const givenScale = req.location && req.scaleKeywords ? readScaleKeywords(fr.hdu.header, g.channels) : undefined;
  // and its location (IKLOCxx) with the scale: then no plane is read for the location/scale
  const givenLoc = givenScale && req.locationKeywords ? readLocationKeywords(fr.hdu.header, g.channels) : undefined;
  const measure = req.noise && !given;
  const measureLoc = req.location && !givenLoc;
  const [ny0, ny1] = noiseRows(g.width, g.height);
  const whole = measureLoc && planeFits(g, req.memoryBytes);
  const plane = whole ? new Float32Array(g.width * g.height) : null;
  const noiseBuf = measure && !whole ? new Float32Array(g.width * (ny1 - ny0)) : null;
  const src = rowSource(fr, g);
  const bandRows = rowsForBytes(g.width, req.memoryBytes / 4);
  for (let c = 0; c < g.channels; c++) {
    let loc = { location: NaN, scale: NaN };
    if (givenLoc) loc = { location: givenLoc[c]!, scale: givenScale![c]! };
    else if (plane) {
      fr.file.readRows(c, 0, g.height, fr.hdu, plane);
      loc = wholeLocationScale(plane, req.estimator, req.memoryBytes);
    } else if (req.location) loc = scanLocationScale(rowScan(src, [c], bandRows), req.estimator, req.memoryBytes);
    r.location.push(loc.location);
    r.scale.push(givenScale && Number.isFinite(loc.location) ? givenScale[c]! : loc.scale);
    let sigma = given ? given[c]! : NaN;
    if (measure) {
      const rows = plane ? plane.subarray(ny0 * g.width, ny1 * g.width) : fr.file.readRows(c, ny0, ny1, fr.hdu, noiseBuf!);
      sigma = noiseMRS(rows, g.width, ny1 - ny0).sigma;
    }
    r.noise.push(sigma);
  }
  return r;
}

/** Which statistics the whole set carries as calibrated (`keywordStats`). */
export interface KeywordStats {
  noiseKeywords: boolean;
  scaleKeywords: boolean;
  locationKeywords: boolean;
}

/**
 * Which statistics the whole set carries as calibrated (image/noise-keywords.ts): NOISExx, and IKSCALxx (then also
 * IKLOCxx) with the IKSS estimator, in every frame for every channel. Only a whole set uses them, so that no frame's
 * estimate is of resampled pixels while the others' are not; IKLOCxx only with IKSCALxx (both from one IKSS).
 */
export function keywordStats(frames: OpenFrame[], g: Geometry, o: IntegrateOptions): KeywordStats {
  const all = (read: typeof readNoiseKeywords): boolean => frames.length > 0 && frames.every((f) => read(f.hdu.header, g.channels) !== undefined);
  const scaleKeywords = o.estimator === 'ikss' && all(readScaleKeywords);
  return { noiseKeywords: all(readNoiseKeywords), scaleKeywords, locationKeywords: scaleKeywords && all(readLocationKeywords) };
}

/** What frame i needs: location/scale when a normalization uses them, noise for noise weights (all frames) or frame 0. */
export function statsRequest(o: IntegrateOptions, i: number, memoryBytes: number, keys?: KeywordStats): FrameStatsRequest | null {
  const location = o.normalize !== 'none' || o.rejectNormalize !== 'none';
  const noise = o.weights === 'noise' || i === 0;
  return location || noise ? { estimator: o.estimator, location, noise, memoryBytes, ...keys } : null;
}

/** Computes frame i's statistics (in this thread, or on a worker). */
export type FrameStatsRunner = (i: number, req: FrameStatsRequest) => Promise<OneFrameStats>;

/**
 * Location/scale per frame and channel (when a normalization needs them) and MRS noise (for all
 * frames with noise weights, otherwise only for frame 0, which the result's noise is compared to),
 * the noise on the rows `noiseRows` gives (all of a plane up to NOISE_MAX_PIXELS).
 * Estimator 'mad': location = median, scale = 1.4826 * MAD (Gaussian sigma). Non-finite pixels
 * (NaN, +-Infinity) are ignored.
 */
export function frameStatistics(frames: OpenFrame[], g: Geometry, o: IntegrateOptions, memoryBytes: number): FrameStats {
  const per: PromiseSettledResult<OneFrameStats | null>[] = [];
  const keys = keywordStats(frames, g, o);
  for (let i = 0; i < frames.length; i++) {
    const req = statsRequest(o, i, memoryBytes, keys);
    const value = req ? statsOfFrame(frames[i]!, g, req) : null;
    // stop at the first frame that cannot be normalized
    if (value && req!.location) checkLocation(frames[i]!.path, value);
    per.push({ status: 'fulfilled', value });
  }
  return assembleStats(frames, g, o, per);
}

/**
 * `frameStatistics` with each frame's statistics computed by `run` (one task per frame, e.g. on
 * the engine's worker pool): the same numbers, and the same error for the first bad frame.
 */
export async function frameStatisticsWith(frames: OpenFrame[], g: Geometry, o: IntegrateOptions, memoryBytes: number, run: FrameStatsRunner): Promise<FrameStats> {
  const keys = keywordStats(frames, g, o);
  const settled = await Promise.allSettled(
    frames.map((_, i) => {
      const req = statsRequest(o, i, memoryBytes, keys);
      return req ? run(i, req) : Promise.resolve(null);
    }),
  );
  return assembleStats(frames, g, o, settled);
}

/**
 * [channel][frame] arrays from the per-frame results, checked in frame order as the serial pass
 * meets them: a failed frame's error, or a frame without finite pixels in a normalized channel.
 */
function assembleStats(frames: OpenFrame[], g: Geometry, o: IntegrateOptions, per: PromiseSettledResult<OneFrameStats | null>[]): FrameStats {
  const n = frames.length;
  const needLoc = o.normalize !== 'none' || o.rejectNormalize !== 'none';
  const mk = (): number[][] => Array.from({ length: g.channels }, () => new Array<number>(n).fill(NaN));
  const out: FrameStats = { location: mk(), scale: mk(), noise: mk() };
  per.forEach((p, i) => {
    if (p.status === 'rejected') throw p.reason;
    const s = p.value;
    if (!s) return;
    if (needLoc) checkLocation(frames[i]!.path, s);
    for (let c = 0; c < g.channels; c++) {
      out.location[c]![i] = s.location[c]!;
      out.scale[c]![i] = s.scale[c]!;
      out.noise[c]![i] = s.noise[c]!;
    }
  });
  return out;
}

function checkLocation(path: string, s: OneFrameStats): void {
  s.location.forEach((loc, c) => {
    if (!(Number.isFinite(loc) && Number.isFinite(s.scale[c]!))) throw new DarkroomError('BAD_ARGUMENT', `cannot normalize: the frame has no finite pixels in channel ${c}`, path);
  });
}

/**
 * Affine coefficients x' = a*x + b of a normalization, against the reference frame 0 (loc0, s0):
 *  - additive: x - loc_i + loc0
 *  - multiplicative (and 'equalize-fluxes', PixInsight's flat option for rejection): x * loc0/loc_i
 *  - additive-scaling (Siril): k (x - loc_i) + loc0, k = s0/s_i
 *  - multiplicative-scaling: x * loc0/loc_i, then the dispersion about loc0 scaled to s0. Any
 *    affine map that equalizes both location and scale is the same map, so with exact estimates
 *    this equals additive-scaling; it is kept as its own name for the tools' vocabulary.
 */
export function normalizationCoefficients(mode: Normalize | RejectNormalize, loc: number, s: number, loc0: number, s0: number): { a: number; b: number } {
  switch (mode) {
    case 'none':
      return { a: 1, b: 0 };
    case 'additive':
      return { a: 1, b: loc0 - loc };
    case 'multiplicative':
    case 'equalize-fluxes':
      if (!(loc !== 0)) throw new DarkroomError('BAD_ARGUMENT', 'multiplicative normalization needs a non-zero location');
      return { a: loc0 / loc, b: 0 };
    case 'additive-scaling': {
      const k = s > 0 ? s0 / s : 1;
      return { a: k, b: loc0 - k * loc };
    }
    case 'multiplicative-scaling': {
      if (!(loc !== 0)) throw new DarkroomError('BAD_ARGUMENT', 'multiplicative normalization needs a non-zero location');
      const m = loc0 / loc;
      const k = s > 0 ? s0 / (s * Math.abs(m)) : 1;
      // x -> (x*m - loc0)*k + loc0
      return { a: m * k, b: loc0 - loc0 * k };
    }
  }
}

/** Raw weights per frame (before normalization to mean 1), from headers or noise. */
export function frameWeights(frames: OpenFrame[], o: IntegrateOptions, stats: FrameStats, combA: number[][]): number[] {
  const n = frames.length;
  const w = new Array<number>(n).fill(1);
  const ws = o.weights;
  if (ws === 'none') return w;
  for (let i = 0; i < n; i++) {
    const fr = frames[i]!;
    if (ws === 'exposure') {
      const h = fr.hdu.header;
      const t = h.getNumber('EXPTIME') ?? h.getNumber('EXPOSURE');
      if (t === undefined) throw new DarkroomError('BAD_HEADER', 'no EXPTIME or EXPOSURE keyword (needed for exposure weights)', fr.path);
      if (!(t >= 0) || !Number.isFinite(t)) throw new DarkroomError('BAD_HEADER', `invalid exposure time ${t} (needed for exposure weights)`, fr.path);
      w[i] = t;
    } else if (ws === 'noise') {
      // w_i ∝ 1 / (s_i^2 sigma_i^2), s_i the combination scale factor; averaged over channels
      let acc = 0;
      for (let c = 0; c < stats.noise.length; c++) {
        const a = combA[c]![i]!;
        const sg = stats.noise[c]![i]!;
        acc += a * a * sg * sg;
      }
      acc /= stats.noise.length;
      if (!(acc > 0) || !Number.isFinite(acc)) throw new DarkroomError('BAD_ARGUMENT', 'cannot weight by noise: the noise estimate of the frame is zero or undefined', fr.path);
      w[i] = 1 / acc;
    } else {
      const v = fr.hdu.header.getNumber(ws.keyword);
      if (v === undefined) throw new DarkroomError('BAD_HEADER', `no numeric ${ws.keyword.toUpperCase()} keyword (needed for keyword weights)`, fr.path);
      if (!(v >= 0) || !Number.isFinite(v)) throw new DarkroomError('BAD_HEADER', `weight keyword ${ws.keyword.toUpperCase()} is ${v}: weights must be >= 0`, fr.path);
      w[i] = v;
    }
  }
  const mean = w.reduce((s, x) => s + x, 0) / n;
  if (!(mean > 0)) throw new DarkroomError('BAD_ARGUMENT', `all frame weights are zero (weights ${typeof ws === 'object' ? ws.keyword : ws})`);
  return w.map((x) => x / mean);
}
