/**
 * Piscina worker: resamples output rows [oy0, oy1) of one plane. Source and output planes live in
 * SharedArrayBuffers, so only this small task object is copied between threads; every output row is computed
 * independently (the source position is restarted exactly at each row start), so the result is bit-identical to the
 * single-threaded one whatever the split. Each thread loads its own instance of the WASM-SIMD kernel
 * (src/kernels/resample.ts; the same bits as the TS reference).
 */
import { warpRows, type Interp } from './resample.js';

export interface WarpTask {
  src: SharedArrayBuffer;
  w: number;
  h: number;
  /** Output -> source map (row-major 3 x 3). */
  inv: number[];
  outW: number;
  outH: number;
  interp: Interp;
  clamp: number;
  out: SharedArrayBuffer;
  oy0: number;
  oy1: number;
}

export function runWarpTask(t: WarpTask): number {
  const job = { src: new Float32Array(t.src, 0, t.w * t.h), w: t.w, h: t.h, inv: Float64Array.from(t.inv), outW: t.outW, outH: t.outH, interp: t.interp, clamp: t.clamp };
  warpRows(job, new Float32Array(t.out, 0, t.outW * t.outH), t.oy0, t.oy1);
  return t.oy1 - t.oy0;
}

export default runWarpTask;
