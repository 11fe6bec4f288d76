/**
 * Hot per-pixel loops of the integration engine. `integrateBand` is the plain-TS reference;
 * `integrateBandWasm` the WASM-SIMD kernel behind the same signature (bit-identical, every
 * rejection and combination); `integrateBandAuto` picks one (DARKROOM_KERNEL).
 */
export { integrateBand, COMBINE_CODES, type BandParams, type BandOutput, type CombineName } from './band.js';
export {
  REJECT_CODES,
  rejectSorted,
  rejectValues,
  insertSorted,
  medianSorted,
  madSorted,
  stdOf,
  gesdCritical,
  winsorThreshold,
  winsorTQuantile,
  WINSOR_CAP,
  winsorThresholds,
  studentTUpper,
  RejectWorkspace,
  type RejectParams,
  type RejectName,
} from './reject.js';
export { studentTQuantile, studentTCdf, incompleteBeta, lnGamma } from './studentt.js';
export { integrateBandAuto, selectedKernel, type KernelName } from './auto.js';
export { integrateBandWasm, wasmHandles, wasmModule, wasmLoadError, simdSupported, sortingNetwork } from './wasm.js';
