/**
 * Integration (stacking) of calibrated/registered frames from files, streamed by row bands.
 * `integrateFiles` is the public entry (the calibration masters use it too).
 *
 * Pipeline: open + check geometry -> first pass (location/scale/noise per frame, weights,
 * normalization coefficients) -> bands of rows through the kernel (range rejection, rejection
 * normalization, rejection, combination normalization + weights, combine) -> result noise (MRS)
 * and the per-frame report. Undefined pixels (NaN, zero-weight frames) are never combined; a
 * pixel with no defined value is NaN.
 */
import { basename, dirname, extname, join } from 'node:path';
import { writeFits } from '../fits/index.js';
import type { Image } from '../image/image.js';
import { noiseMRS } from '../image/noise.js';
import { DarkroomError } from '../util/errors.js';
import { VERSION } from '../version.js';
import { COMBINE_CODES, type BandParams } from '../kernels/band.js';
import { REJECT_CODES } from '../kernels/reject.js';
import { selectedKernel } from '../kernels/auto.js';
import { closeFrames, frameStatistics, frameWeights, normalizationCoefficients, openFrames, type FrameStats, type Geometry, type OpenFrame } from './frames.js';
import { defaultMemoryBytes, defaultWorkers, runEngine, type EngineOutput } from './engine.js';
import {
  effectiveReject,
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

export async function integrateFiles(paths: string[], opts: Partial<IntegrateOptions> = {}): Promise<IntegrateResult> {
  const o = resolveOptions(opts);
  if (paths.length === 0) throw new DarkroomError('TOO_FEW', 'no frames to integrate');
  const { frames, geometry: g } = openFrames(paths);
  try {
    const prep = prepareIntegration(frames, g, o);
    let workers = o.workers ?? defaultWorkers();
    if (o.workers === undefined && frames.length * g.width * g.height * g.channels < SMALL_WORK) workers = 1;
    const memoryBytes = o.memoryBytes ?? defaultMemoryBytes();
    const eng = await runEngine({ frames, geometry: g, params: prep.params, workers, memoryBytes, maps: o.rejectionMaps });
    return finishIntegration(frames, g, o, prep, eng, workers, memoryBytes);
  } finally {
    closeFrames(frames);
  }
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

export function prepareIntegration(frames: OpenFrame[], g: Geometry, o: IntegrateOptions): PreparedIntegration {
  const warnings: string[] = [];
  {
    const n = frames.length;
    const stats = frameStatistics(frames, g, o);
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

    const params: BandParams[] = [];
    for (let c = 0; c < C; c++) {
      params.push({
        n,
        combine: COMBINE_CODES[o.combine],
        reject: REJECT_CODES[eff.reject],
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

/** Header, per-frame report, noise and HISTORY of an integration from the engine's planes. */
export function finishIntegration(frames: OpenFrame[], g: Geometry, o: IntegrateOptions, prep: PreparedIntegration, eng: EngineOutput, workers: number, memoryBytes: number): IntegrateResult {
  const { stats, weights, warnings } = prep;
  const eff = { reject: prep.reject };
  const n = frames.length;
  const C = g.channels;
  {
    const header = frames[0]!.hdu.header.clone();
    // The first frame's keywords describe the set (exposure, filter, binning...); its own provenance does not.
    header.cards = header.cards.filter((c) => c.key !== 'HISTORY');
    header.set('NCOMBINE', n, 'number of frames integrated');
    const image: Image = { width: g.width, height: g.height, channels: C, data: eng.planes, header };
    const cfa = header.getString('BAYERPAT')?.trim().toUpperCase();
    if (C === 1 && cfa) image.cfa = cfa;

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
    const noise = noiseMRS(image.data[0]!, g.width, g.height).sigma;
    const noise0 = stats.noise[0]![0]!;
    const noiseRatio = noise / noise0;

    const history = [
      `darkroom ${VERSION} integrate: ${n} frames ${g.width}x${g.height}x${C}`,
      `combine=${o.combine} reject=${eff.reject}${eff.reject !== o.reject ? ` (requested ${o.reject})` : ''} sigma-low=${o.sigmaLow} sigma-high=${o.sigmaHigh} winsor-cutoff=${o.winsorCutoff}`,
      `linear-low=${o.linearLow} linear-high=${o.linearHigh} percentile-low=${o.percentileLow} percentile-high=${o.percentileHigh} minmax-low=${o.minmaxLow} minmax-high=${o.minmaxHigh}`,
      `gesd-fraction=${o.gesdFraction} gesd-alpha=${o.gesdAlpha} clip-low=${o.clipLow} clip-high=${o.clipHigh} range-low=${o.rangeLow ?? 'none'} range-high=${o.rangeHigh ?? 'none'}`,
      `normalize=${o.normalize} reject-normalize=${o.rejectNormalize} weights=${weightsLabel(o.weights)} estimator=${o.estimator}`,
      `bands=${eng.bands} rows-per-band=${eng.rowsPerBand} workers=${workers} memory=${memoryBytes} kernel=${selectedKernel()}`,
      `noise=${fmt(noise)} noise-ratio=${fmt(noiseRatio)} (result / first frame)`,
      ...frameReports.map(
        (f, i) => `frame ${i + 1}: ${f.path} weight=${fmt(f.weight)}${Number.isFinite(f.location) ? ` loc=${fmt(f.location)} scale=${fmt(f.scale)}` : ''} rej-low=${f.rejectedLowPct.toFixed(3)}% rej-high=${f.rejectedHighPct.toFixed(3)}%`,
      ),
      ...warnings.map((w) => `warning: ${w}`),
    ];
    for (const w of warnings) process.stderr.write(`darkroom: warning: ${w}\n`);

    const result: IntegrateResult = { image, frames: frameReports, noise, noiseRatio, warnings, history };
    if (eng.rejLow && eng.rejHigh) {
      const mk = (data: Float32Array[], what: string): Image => {
        const h = header.clone();
        h.set('IMAGETYP', `Rejection map (${what})`, 'fraction of frames rejected per pixel');
        return { width: g.width, height: g.height, channels: C, data, header: h };
      };
      result.rejectLow = mk(eng.rejLow, 'low');
      result.rejectHigh = mk(eng.rejHigh, 'high');
    }
    return result;
  }
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
