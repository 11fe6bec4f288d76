/** Helpers of the kernel tests: run a band kernel with every output and compare float32 results bit for bit. */
import type { BandOutput, BandParams, integrateBand } from '../../src/kernels/band.js';

/** Run `fn` over the band with all outputs (maps, per-frame counts, non-finite and no-value counts). */
export function runBand(fn: typeof integrateBand, data: Float32Array, npix: number, P: BandParams): BandOutput {
  const o: BandOutput = {
    out: new Float32Array(npix), rejLow: new Float32Array(npix), rejHigh: new Float32Array(npix),
    frameLow: new Float64Array(P.n), frameHigh: new Float64Array(P.n), nonFinite: new Float64Array(P.n), noValue: new Float64Array(1),
  };
  fn(data, npix, P, o);
  return o;
}

/** The bytes of a float32 array (for bit-for-bit comparison: NaN payloads and -0 included). */
export const bits = (a: Float32Array): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
