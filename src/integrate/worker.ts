/**
 * Piscina worker: integrates one row band. The band data and the output planes live in
 * SharedArrayBuffers, so nothing but the small parameter object is copied between threads.
 */
import type { BandParams } from '../kernels/band.js';
import { integrateBandAuto as integrateBand } from '../kernels/auto.js';

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

export default runBandTask;
