/**
 * Integration (stacking) of calibrated/registered frames from files, streamed by row bands.
 * `integrateFiles` is the public entry (the calibration masters use it too).
 *
 * Pipeline: open + check geometry -> first pass (location/scale/noise per frame, weights,
 * normalization coefficients) -> bands of rows through the kernel (range rejection, rejection
 * normalization, rejection, combination normalization + weights, combine) -> result noise (MRS)
 * and the per-frame report. Undefined pixels (NaN, +-Infinity, zero-weight frames) are never
 * combined, and each pixel's rejection is chosen by how many values it has; a pixel with no
 * defined value is NaN (and counted in a warning); a frame with no finite pixel is refused.
 * `integrateToFile` streams the result to its file, so memory stays within the budget.
 */
import { basename, dirname, extname, join } from 'node:path';
import { writeFits, type FitsHeader } from '../fits/index.js';
import type { Image } from '../image/image.js';
import { noiseMRS, noiseRows } from '../image/noise.js';
import { dropNoiseKeywords } from '../image/noise-keywords.js';
import { DarkroomError } from '../util/errors.js';
import { warningLine, type WarningEvent } from '../util/warnings.js';
import { VERSION } from '../version.js';
import { COMBINE_CODES, type BandParams } from '../kernels/band.js';
import { REJECT_CODES } from '../kernels/reject.js';
import { selectedKernel } from '../kernels/auto.js';
import { closeFrames, frameStatistics, frameStatisticsWith, frameWeights, normalizationCoefficients, openFrames, type FrameStats, type Geometry, type OpenFrame } from './frames.js';
import { acquirePool, defaultMemoryBytes, defaultWorkers, runEngine, statsOnPool, type BandSink, type EngineOutput } from './engine.js';
import { StreamedFits } from './output.js';
import {
  effectiveReject,
  rejectByCount,
  resolveOptions,
  weightsLabel,
  type FrameReport,
  type IntegrateOptions,
  type IntegrateResult,
  type Reject,
} from './options.js';

export * from './options.js';
export { bandRows, defaultMemoryBytes, defaultWorkers } from './engine.js';
export { normalizationCoefficients, openFrames, closeFrames } from './frames.js';
export { runEngine } from './engine.js';

/** Below this many input pixel values the pool start-up costs more than it saves. */
const SMALL_WORK = 1 << 22;

function chooseWorkers(o: IntegrateOptions, n: number, g: Geometry): number {
  if (o.workers !== undefined) return o.workers;
  return n * g.width * g.height * g.channels < SMALL_WORK ? 1 : defaultWorkers();
}

export async function integrateFiles(paths: string[], opts: Partial<IntegrateOptions> = {}): Promise<IntegrateResult> {
  const o = resolveOptions(opts);
  if (paths.length === 0) throw new DarkroomError('TOO_FEW', 'no frames to integrate');
  const { frames, geometry: g } = openFrames(paths);
  const workers = chooseWorkers(o, frames.length, g);
  const own = workers > 1 ? acquirePool(workers) : undefined;
  const pool = own?.pool;
  try {
    const memoryBytes = o.memory ?? defaultMemoryBytes();
    const { prep, eng } = await prepareAndRun(frames, g, o, memoryBytes, workers, pool, (pr) => runEngine({ frames, geometry: g, params: pr.params, workers, memoryBytes, maps: o.rejectionMaps, pool }));
    return finishIntegration(frames, g, o, prep, eng, workers, memoryBytes);
  } finally {
    await own?.release();
    closeFrames(frames);
  }
}

/** `prepareIntegration` with the per-frame statistics on the worker pool (one task per frame) when there is one. */
async function prepareOn(frames: OpenFrame[], g: Geometry, o: IntegrateOptions, memoryBytes: number, workers: number, pool: ReturnType<typeof acquirePool>['pool'] | undefined): Promise<PreparedIntegration> {
  if (!pool) return prepareIntegration(frames, g, o, memoryBytes);
  const stats = await frameStatisticsWith(frames, g, o, memoryBytes, statsOnPool(pool, frames, g, workers));
  return prepareFromStats(frames, g, o, stats);
}

/** Whether the kernel parameters need the first pass: a normalization (location/scale) or noise weights. */
function paramsNeedStats(o: IntegrateOptions): boolean {
  return o.normalize !== 'none' || o.rejectNormalize !== 'none' || o.weights === 'noise';
}

/**
 * The first pass, then the bands (`run`). When the parameters do not need the first pass (only
 * frame 0's noise is measured, for the report: masters, plain stacks) and there is a pool, the
 * noise task runs on it alongside the bands; the same parameters and numbers either way, and a
 * first-pass error still comes first.
 */
async function prepareAndRun(frames: OpenFrame[], g: Geometry, o: IntegrateOptions, memoryBytes: number, workers: number, pool: ReturnType<typeof acquirePool>['pool'] | undefined, run: (prep: PreparedIntegration) => Promise<EngineOutput>): Promise<{ prep: PreparedIntegration; eng: EngineOutput }> {
  if (!pool || paramsNeedStats(o)) {
    const prep = await prepareOn(frames, g, o, memoryBytes, workers, pool);
    return { prep, eng: await run(prep) };
  }
  const statsP = frameStatisticsWith(frames, g, o, memoryBytes, statsOnPool(pool, frames, g, workers));
  const none = (): number[][] => Array.from({ length: g.channels }, () => new Array<number>(frames.length).fill(NaN));
  const prep = prepareFromStats(frames, g, o, { location: none(), scale: none(), noise: none() });
  const [st, eng] = await Promise.allSettled([statsP, run(prep)]);
  if (st.status === 'rejected') throw st.reason;
  if (eng.status === 'rejected') throw eng.reason;
  return { prep: { ...prep, stats: st.value }, eng: eng.value };
}

/** An integration written straight to its files: the result without its pixels. */
export type StreamedIntegration = Omit<IntegrateResult, 'image' | 'rejectLow' | 'rejectHigh'> & { files: string[] };

/**
 * `integrateFiles` + `writeIntegration` in bounded memory: the result (and the rejection maps) go
 * band by band to temp files and are renamed into place at the end, so that only the row bands
 * (and the first pass's bounded statistics) are ever in memory. Same pixels, header and HISTORY.
 * `stamp` may change the header and HISTORY (in place) before they are written.
 */
export async function integrateToFile(paths: string[], out: string, opts: Partial<IntegrateOptions> = {}, stamp?: (header: FitsHeader, history: string[]) => void): Promise<StreamedIntegration> {
  const o = resolveOptions(opts);
  if (paths.length === 0) throw new DarkroomError('TOO_FEW', 'no frames to integrate');
  const { frames, geometry: g } = openFrames(paths);
  const sinks: StreamedFits[] = [];
  const workers = chooseWorkers(o, frames.length, g);
  const own = workers > 1 ? acquirePool(workers) : undefined;
  const pool = own?.pool;
  try {
    const memoryBytes = o.memory ?? defaultMemoryBytes();
    const mapPaths = o.rejectionMaps ? rejectionMapPaths(out) : null;
    for (const p of [out, ...(mapPaths ? [mapPaths.low, mapPaths.high] : [])]) sinks.push(new StreamedFits(p, g.width, g.height, g.channels));
    const [ny0, ny1] = noiseRows(g.width, g.height);
    const crop = new Float32Array(g.width * (ny1 - ny0));
    const sink: BandSink = (c, y0, y1, data, rl, rh) => {
      sinks[0]!.write(c, y0, data);
      if (rl && rh) {
        sinks[1]!.write(c, y0, rl);
        sinks[2]!.write(c, y0, rh);
      }
      if (c === 0) copyRows(data, y0, y1, crop, ny0, ny1, g.width);
    };
    const { prep, eng } = await prepareAndRun(frames, g, o, memoryBytes, workers, pool, (pr) => runEngine({ frames, geometry: g, params: pr.params, workers, memoryBytes, maps: o.rejectionMaps, sink, pool }));
    const noise = noiseMRS(crop, g.width, ny1 - ny0).sigma;
    const sum = summarizeIntegration(frames, g, o, prep, eng, workers, memoryBytes, noise);
    // the maps' headers as integrateFiles makes them (before `stamp`, as writeIntegration after a caller's edits)
    const maps = mapPaths ? [mapHeader(sum.header, 'low'), mapHeader(sum.header, 'high')] : null;
    stamp?.(sum.header, sum.history);
    const cfa = g.channels === 1 ? sum.header.getString('BAYERPAT')?.trim().toUpperCase() || undefined : undefined;
    sinks[0]!.finish(sum.header, sum.history, cfa);
    if (maps) {
      sinks[1]!.finish(maps[0]!, [...sum.history, 'rejection map: fraction of frames rejected low']);
      sinks[2]!.finish(maps[1]!, [...sum.history, 'rejection map: fraction of frames rejected high']);
    }
    return { frames: sum.frames, noise: sum.noise, noiseRatio: sum.noiseRatio, warnings: sum.warnings, events: sum.events, history: sum.history, files: sinks.map((x) => x.path) };
  } finally {
    for (const x of sinks) x.abort();
    await own?.release();
    closeFrames(frames);
  }
}

/** Copy the rows of a band (rows y0..y1) that fall in [r0, r1) into `dst` (rows r0..r1). */
function copyRows(band: Float32Array, y0: number, y1: number, dst: Float32Array, r0: number, r1: number, w: number): void {
  const a = Math.max(y0, r0);
  const b = Math.min(y1, r1);
  if (a < b) dst.set(band.subarray((a - y0) * w, (b - y0) * w), (a - r0) * w);
}

function mapHeader(header: FitsHeader, what: 'low' | 'high'): FitsHeader {
  const h = header.clone();
  h.set('IMAGETYP', `Rejection map (${what})`, 'fraction of frames rejected per pixel');
  return h;
}

/**
 * What the first pass decides for the whole frame set (statistics, weights, per-channel kernel
 * parameters). Computed once, it lets row tiles be integrated separately (even on other machines)
 * with results bit-identical to the whole: every pixel depends only on these and its own column.
 */
export interface PreparedIntegration {
  stats: FrameStats;
  weights: number[];
  params: BandParams[];
  reject: Reject;
  warnings: string[];
}

export function prepareIntegration(frames: OpenFrame[], g: Geometry, o: IntegrateOptions, memoryBytes = o.memory ?? defaultMemoryBytes()): PreparedIntegration {
  return prepareFromStats(frames, g, o, frameStatistics(frames, g, o, memoryBytes));
}

/** The rest of the first pass once the per-frame statistics are known (weights, coefficients, kernel parameters). */
export function prepareFromStats(frames: OpenFrame[], g: Geometry, o: IntegrateOptions, stats: FrameStats): PreparedIntegration {
  const warnings: string[] = [];
  {
    const n = frames.length;
    const C = g.channels;
    const rejA: number[][] = [];
    const rejB: number[][] = [];
    const combA: number[][] = [];
    const combB: number[][] = [];
    for (let c = 0; c < C; c++) {
      const ra: number[] = [];
      const rb: number[] = [];
      const ca: number[] = [];
      const cb: number[] = [];
      const loc = stats.location[c]!;
      const sc = stats.scale[c]!;
      for (let i = 0; i < n; i++) {
        try {
          const r = normalizationCoefficients(o.rejectNormalize, loc[i]!, sc[i]!, loc[0]!, sc[0]!);
          const k = normalizationCoefficients(o.normalize, loc[i]!, sc[i]!, loc[0]!, sc[0]!);
          ra.push(r.a);
          rb.push(r.b);
          ca.push(k.a);
          cb.push(k.b);
        } catch (e) {
          if (e instanceof DarkroomError && !e.file) throw new DarkroomError(e.code, e.message, frames[i]!.path);
          throw e;
        }
      }
      rejA.push(ra);
      rejB.push(rb);
      combA.push(ca);
      combB.push(cb);
    }
    const weights = frameWeights(frames, o, stats, combA);
    const used = weights.filter((w) => w > 0).length;
    const eff = effectiveReject(o, used);
    if (eff.warning) warnings.push(eff.warning);
    if (n === 1) warnings.push('only one frame: the result is a copy of it');

    // per pixel, the rejection follows the number of values the pixel has (NaN or range-rejected
    // values left out), as a stack of that many frames would; with all of them, eff.reject
    const rejectFor = Int32Array.from(rejectByCount(o, n), (r) => REJECT_CODES[r]);
    const params: BandParams[] = [];
    for (let c = 0; c < C; c++) {
      params.push({
        n,
        combine: COMBINE_CODES[o.combine],
        reject: REJECT_CODES[eff.reject],
        rejectFor,
        sigmaLow: o.sigmaLow,
        sigmaHigh: o.sigmaHigh,
        winsorCutoff: o.winsorCutoff,
        linearLow: o.linearLow,
        linearHigh: o.linearHigh,
        percentileLow: o.percentileLow,
        percentileHigh: o.percentileHigh,
        minmaxLow: o.minmaxLow,
        minmaxHigh: o.minmaxHigh,
        gesdFraction: o.gesdFraction,
        gesdAlpha: o.gesdAlpha,
        clipLow: o.clipLow,
        clipHigh: o.clipHigh,
        rangeLow: o.rangeLow ?? -Infinity,
        rangeHigh: o.rangeHigh ?? Infinity,
        ra: Float64Array.from(rejA[c]!),
        rb: Float64Array.from(rejB[c]!),
        ca: Float64Array.from(combA[c]!),
        cb: Float64Array.from(combB[c]!),
        w: Float64Array.from(weights),
      });
    }
    return { stats, weights, params, reject: eff.reject, warnings };
  }
}

/** What an integration reports besides its pixels (header, per-frame report, noise, warnings, HISTORY). */
export interface IntegrationSummary {
  header: FitsHeader;
  frames: FrameReport[];
  noise: number;
  noiseRatio: number;
  warnings: string[];
  events: WarningEvent[];
  history: string[];
}

/**
 * Frames without a single finite value are refused; frames with some, and pixels left without
 * any value, are reported (structured events; their text joins `warnings`).
 */
function nonFiniteEvents(frames: OpenFrame[], g: Geometry, eng: EngineOutput): WarningEvent[] {
  const events: WarningEvent[] = [];
  const total = g.width * g.height * g.channels;
  const nf = eng.nonFinite;
  if (nf) {
    frames.forEach((fr, i) => {
      const k = nf[i]!;
      if (k >= total) throw new DarkroomError('BAD_ARGUMENT', 'the frame has no finite pixels (all NaN or infinite): nothing to integrate from it', fr.path);
      if (k > 0) {
        events.push({ code: 'NON_FINITE', file: fr.path, count: k, message: `${k} pixel values are NaN or infinite: left out of the integration at those pixels` });
      }
    });
  }
  const nv = eng.noValue ?? 0;
  if (nv > 0) events.push({ code: 'NO_VALUE', count: nv, message: `${nv} pixels have no finite value in any frame: NaN in the result` });
  return events;
}

/** Header, per-frame report, warnings and HISTORY of an integration, given the result's noise. */
export function summarizeIntegration(frames: OpenFrame[], g: Geometry, o: IntegrateOptions, prep: PreparedIntegration, eng: EngineOutput, workers: number, memoryBytes: number, noise: number): IntegrationSummary {
  const { stats, weights } = prep;
  const reject = prep.reject;
  const n = frames.length;
  const C = g.channels;
  const events = nonFiniteEvents(frames, g, eng);
  const warnings = [...prep.warnings, ...events.map(warningLine)];
  const header = frames[0]!.hdu.header.clone();
  // The first frame's keywords describe the set (exposure, filter, binning...); its own provenance does not.
  header.cards = header.cards.filter((c) => c.key !== 'HISTORY');
  dropNoiseKeywords(header); // frame 0's noise and scale as calibrated, not the result's
  header.set('NCOMBINE', n, 'number of frames integrated');
  const total = g.width * g.height * C;
  const frameReports: FrameReport[] = frames.map((fr, i) => ({
    path: fr.path,
    location: meanOver(stats.location, i),
    scale: meanOver(stats.scale, i),
    weight: weights[i]!,
    rejectedLowPct: (100 * eng.frameLow[i]!) / total,
    rejectedHighPct: (100 * eng.frameHigh[i]!) / total,
    noise: meanOver(stats.noise, i),
  }));
  const noiseRatio = noise / stats.noise[0]![0]!;
  const [ny0, ny1] = noiseRows(g.width, g.height);
  const history = [
    `darkroom ${VERSION} integrate: ${n} frames ${g.width}x${g.height}x${C}`,
    `combine=${o.combine} reject=${reject}${reject !== o.reject ? ` (requested ${o.reject})` : ''} sigma-low=${o.sigmaLow} sigma-high=${o.sigmaHigh} winsor-cutoff=${o.winsorCutoff}`,
    `linear-low=${o.linearLow} linear-high=${o.linearHigh} percentile-low=${o.percentileLow} percentile-high=${o.percentileHigh} minmax-low=${o.minmaxLow} minmax-high=${o.minmaxHigh}`,
    `gesd-fraction=${o.gesdFraction} gesd-alpha=${o.gesdAlpha} clip-low=${o.clipLow} clip-high=${o.clipHigh} range-low=${o.rangeLow ?? 'none'} range-high=${o.rangeHigh ?? 'none'}`,
    `normalize=${o.normalize} reject-normalize=${o.rejectNormalize} weights=${weightsLabel(o.weights)} estimator=${o.estimator}`,
    `bands=${eng.bands} rows-per-band=${eng.rowsPerBand} workers=${workers} memory=${memoryBytes} kernel=${selectedKernel()}`,
    `noise=${fmt(noise)} noise-ratio=${fmt(noiseRatio)} (result / first frame)${ny1 - ny0 < g.height ? ` over rows ${ny0}-${ny1 - 1}` : ''}`,
    ...frameReports.map(
      (f, i) => `frame ${i + 1}: ${f.path} weight=${fmt(f.weight)}${Number.isFinite(f.location) ? ` loc=${fmt(f.location)} scale=${fmt(f.scale)}` : ''} rej-low=${f.rejectedLowPct.toFixed(3)}% rej-high=${f.rejectedHighPct.toFixed(3)}%`,
    ),
    ...warnings.map((w) => `warning: ${w}`),
  ];
  return { header, frames: frameReports, noise, noiseRatio, warnings, events, history };
}

/** Header, per-frame report, noise and HISTORY of an integration from the engine's planes. */
export function finishIntegration(frames: OpenFrame[], g: Geometry, o: IntegrateOptions, prep: PreparedIntegration, eng: EngineOutput, workers: number, memoryBytes: number): IntegrateResult {
  const C = g.channels;
  const [ny0, ny1] = noiseRows(g.width, g.height);
  const noise = noiseMRS(eng.planes[0]!.subarray(ny0 * g.width, ny1 * g.width), g.width, ny1 - ny0).sigma;
  const sum = summarizeIntegration(frames, g, o, prep, eng, workers, memoryBytes, noise);
  const { header } = sum;
  const image: Image = { width: g.width, height: g.height, channels: C, data: eng.planes, header };
  const cfa = header.getString('BAYERPAT')?.trim().toUpperCase();
  if (C === 1 && cfa) image.cfa = cfa;
  const result: IntegrateResult = { image, frames: sum.frames, noise, noiseRatio: sum.noiseRatio, warnings: sum.warnings, events: sum.events, history: sum.history };
  if (eng.rejLow && eng.rejHigh) {
    const mk = (data: Float32Array[], what: 'low' | 'high'): Image => ({ width: g.width, height: g.height, channels: C, data, header: mapHeader(header, what) });
    result.rejectLow = mk(eng.rejLow, 'low');
    result.rejectHigh = mk(eng.rejHigh, 'high');
  }
  return result;
}

function meanOver(a: number[][], i: number): number {
  let s = 0;
  for (const row of a) s += row[i]!;
  return s / a.length;
}

function fmt(x: number): string {
  return Number.isFinite(x) ? Number(x.toPrecision(7)).toString() : String(x);
}

/** Paths of the rejection maps beside OUT: OUT_rejlow.fits / OUT_rejhigh.fits. */
export function rejectionMapPaths(out: string): { low: string; high: string } {
  const ext = extname(out);
  const stem = basename(out, ext);
  const e = ext || '.fits';
  return { low: join(dirname(out), `${stem}_rejlow${e}`), high: join(dirname(out), `${stem}_rejhigh${e}`) };
}

/** Write the result (float32) and, when present, the rejection maps, all with HISTORY. */
export function writeIntegration(result: IntegrateResult, out: string): string[] {
  writeFits(out, result.image, { bitpix: -32, history: result.history });
  const written = [out];
  if (result.rejectLow && result.rejectHigh) {
    const p = rejectionMapPaths(out);
    writeFits(p.low, result.rejectLow, { bitpix: -32, history: [...result.history, 'rejection map: fraction of frames rejected low'] });
    writeFits(p.high, result.rejectHigh, { bitpix: -32, history: [...result.history, 'rejection map: fraction of frames rejected high'] });
    written.push(p.low, p.high);
  }
  return written;
}
