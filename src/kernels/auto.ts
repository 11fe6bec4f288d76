/**
 * Kernel selection: the WASM-SIMD kernel when WebAssembly SIMD is available and the .wasm is
 * built, else the plain-TS reference. `DARKROOM_KERNEL=ts` forces the reference,
 * `DARKROOM_KERNEL=wasm` requires the WASM kernel (an error when it cannot load).
 */
import { integrateBand as integrateBandTS, type BandOutput, type BandParams } from './band.js';
import { integrateBandWasm, wasmLoadError, wasmModule } from './wasm.js';

export type KernelName = 'wasm-simd' | 'ts';

export function selectedKernel(): KernelName {
  const env = (process.env.DARKROOM_KERNEL ?? '').trim().toLowerCase();
  if (env === 'ts') return 'ts';
  const mod = wasmModule();
  if (env === 'wasm' && !mod) throw new Error(`DARKROOM_KERNEL=wasm but the WASM kernel cannot load: ${wasmLoadError()}`);
  return mod ? 'wasm-simd' : 'ts';
}

/** integrateBand with the selected kernel (same signature and results as the TS reference). */
export function integrateBandAuto(data: Float32Array, npix: number, P: BandParams, o: BandOutput): void {
  if (selectedKernel() === 'wasm-simd') integrateBandWasm(data, npix, P, o);
  else integrateBandTS(data, npix, P, o);
}
