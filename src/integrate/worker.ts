/**
 * Piscina worker: integrates one row band (default export). The band data and the output planes
 * live in SharedArrayBuffers, so nothing but the small parameter object is copied between threads.
 * `runStatsTask` (named task 'runStatsTask'): one frame's first-pass statistics, the frame opened
 * and read in this thread (within the task's share of the memory budget).
 */
import { FitsFile } from '../fits/index.js';
import type { BandParams } from '../kernels/band.js';
import { integrateBandAuto as integrateBand } from '../kernels/auto.js';
import { DarkroomError, type ErrorCode } from '../util/errors.js';
import { statsOfFrame, type FrameStatsRequest, type Geometry, type OneFrameStats } from './frames.js';

export interface BandTask {
  data: SharedArrayBuffer;
  npix: number;
  params: BandParams;
  out: SharedArrayBuffer;
  rejLow: SharedArrayBuffer | null;
  rejHigh: SharedArrayBuffer | null;
  /** Pixel offset of the band in the output planes. */
  offset: number;
}

export interface BandTaskResult {
  frameLow: Float64Array;
  frameHigh: Float64Array;
  nonFinite: Float64Array;
  noValue: number;
}

export function runBandTask(t: BandTask): BandTaskResult {
  const n = t.params.n;
  const data = new Float32Array(t.data, 0, n * t.npix);
  const frameLow = new Float64Array(n);
  const frameHigh = new Float64Array(n);
  const nonFinite = new Float64Array(n);
  const noValue = new Float64Array(1);
  integrateBand(data, t.npix, t.params, {
    out: new Float32Array(t.out, t.offset * 4, t.npix),
    rejLow: t.rejLow ? new Float32Array(t.rejLow, t.offset * 4, t.npix) : null,
    rejHigh: t.rejHigh ? new Float32Array(t.rejHigh, t.offset * 4, t.npix) : null,
    frameLow,
    frameHigh,
    nonFinite,
    noValue,
  });
  return { frameLow, frameHigh, nonFinite, noValue: noValue[0]! };
}

export interface StatsTask {
  path: string;
  /** Index of the frame's image HDU. */
  hdu: number;
  geometry: Geometry;
  req: FrameStatsRequest;
}

/** The statistics, or a DarkroomError's fields (a class does not survive the thread boundary). */
export type StatsTaskResult = { stats: OneFrameStats } | { error: { code: ErrorCode; message: string; file?: string } };

export function runStatsTask(t: StatsTask): StatsTaskResult {
  let file: FitsFile | null = null;
  try {
    file = new FitsFile(t.path);
    return { stats: statsOfFrame({ path: t.path, file, hdu: file.imageHdu(t.hdu) }, t.geometry, t.req) };
  } catch (e) {
    if (e instanceof DarkroomError) return { error: { code: e.code, message: e.message, file: e.file } };
    throw e;
  } finally {
    file?.close();
  }
}

export default runBandTask;
