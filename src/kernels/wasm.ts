/**
 * Loader and driver of the WASM-SIMD band kernel (`band-simd.as`, built by
 * `node scripts/build-wasm.mjs` into build/kernels/ and dist/kernels/). Same interface as the
 * plain-TS reference `integrateBand`, and bit-identical results: the kernel processes two pixels
 * per f64x2 vector with every sum in the reference's order. It implements every rejection
 * (none, minmax, percentile, sigma, winsorized, averaged-sigma, linear-fit, gesd, mad) and every
 * combination (average, median, sum, min, max). Pixels with a non-finite (NaN, +-Inf) or a
 * range-rejected value (flagged by the kernel, so the per-pixel choice of the rejection by the
 * number of values and the non-finite counts are the reference's), median results of zero (whose
 * sign depends on the order of equal values) and zero-weight frame sets go through the TS
 * reference.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { integrateBand as integrateBandTS, rejectCode, type BandOutput, type BandParams } from './band.js';
import { gesdCritical, REJECT_CODES, winsorThresholds } from './reject.js';

// Minimal typing of the WebAssembly global (lib ES2022 without DOM does not declare it).
export type WasmModule = object;
export interface WasmApi {
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (mod: WasmModule, imports: object) => { exports: object };
  validate(bytes: Uint8Array): boolean;
}
export const WA = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

interface BandExports {
  memory: { buffer: ArrayBuffer; grow(pages: number): number };
  band(n: number, P: number, reject: number, combine: number, data: number, out: number, rejLo: number, rejHi: number, flags: number, prm: number, counts: number, pairs: number, npairs: number, scratch: number): number;
}

/** Pixels per chunk copied into WASM memory (even). */
const CHUNK = 8192;
const WASM_REJECTS = new Set<number>(Object.values(REJECT_CODES));
const WASM_COMBINES = new Set([0, 1, 2, 3, 4]);
/** Fixed parameters before the per-frame arrays (band-simd.as PRM_FIX). */
const PRM_FIX = 14;
/** Scratch vectors of n f64x2 (band-simd.as: PAIR_VECS of the pair, a mask, two counters). */
const SCRATCH_VECS = 13;

function wasmCandidates(): URL[] {
  // dist/kernels/band-simd.wasm beside the compiled module; build/kernels/ from the source tree
  return [new URL('./band-simd.wasm', import.meta.url), new URL('../../build/kernels/band-simd.wasm', import.meta.url)];
}

/** True when this Node supports WebAssembly SIMD (validated on a tiny module using v128). */
export function simdSupported(): boolean {
  // (module (func (result v128) v128.const i32x4 0 0 0 0))
  const bytes = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 22, 1, 20, 0, 253, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 11]);
  try {
    return WA.validate(bytes);
  } catch {
    return false;
  }
}

/** Whether `DARKROOM_KERNEL=ts` selects the plain-TS references of every kernel. */
export function kernelsForcedTs(): boolean {
  return (process.env.DARKROOM_KERNEL ?? '').trim().toLowerCase() === 'ts';
}

/**
 * The compiled module of the kernel src/kernels/NAME.as (dist/kernels/NAME.wasm beside the compiled module,
 * build/kernels/NAME.wasm from the source tree), or null: no SIMD, not built, or not a valid module.
 */
export function compileKernel(name: string): object | null {
  if (!simdSupported()) return null;
  for (const u of [new URL(`./${name}.wasm`, import.meta.url), new URL(`../../build/kernels/${name}.wasm`, import.meta.url)]) {
    const path = fileURLToPath(u);
    if (!existsSync(path)) continue;
    try {
      return new WA.Module(readFileSync(path));
    } catch {
      return null;
    }
  }
  return null;
}

let loaded: WasmModule | null | undefined;
let loadError = '';

/** The compiled kernel module, or null (with `wasmLoadError()` saying why). */
export function wasmModule(): WasmModule | null {
  if (loaded !== undefined) return loaded;
  loaded = null;
  if (!simdSupported()) {
    loadError = 'WebAssembly SIMD is not supported by this Node';
    return null;
  }
  for (const u of wasmCandidates()) {
    const path = fileURLToPath(u);
    if (!existsSync(path)) continue;
    try {
      loaded = new WA.Module(readFileSync(path));
      return loaded;
    } catch (e) {
      loadError = `${path}: ${(e as Error).message}`;
      return null;
    }
  }
  loadError = 'band-simd.wasm not built (run `node scripts/build-wasm.mjs`)';
  return null;
}

export function wasmLoadError(): string {
  return loadError;
}

/** Compare-exchange pairs of Batcher's odd-even merge sort for n values (pairs beyond n dropped). */
export function sortingNetwork(n: number): Int32Array {
  let p2 = 1;
  while (p2 < n) p2 <<= 1;
  const pairs: number[] = [];
  for (let p = 1; p < p2; p <<= 1) {
    for (let k = p; k >= 1; k >>= 1) {
      for (let j = k % p; j + k < p2; j += 2 * k) {
        for (let i = 0; i < Math.min(k, p2 - j - k); i++) {
          const a = i + j;
          const b = i + j + k;
          if (Math.floor(a / (2 * p)) === Math.floor(b / (2 * p)) && b < n) pairs.push(a, b);
        }
      }
    }
  }
  return Int32Array.from(pairs);
}

class WasmBand {
  readonly ex: BandExports;
  private base: number;
  private n = -1;
  private off = { prm: 0, counts: 0, pairs: 0, npairs: 0, scratch: 0, data: 0, out: 0, rejLo: 0, rejHi: 0, flags: 0 };
  constructor(mod: WasmModule) {
    const inst = new WA.Instance(mod, { env: { abort: () => { throw new Error('band-simd.wasm abort'); } } });
    this.ex = inst.exports as unknown as BandExports;
    this.base = this.ex.memory.buffer.byteLength;
  }
  private layout(n: number): void {
    if (n === this.n) return;
    const net = sortingNetwork(n);
    let o = this.base;
    const take = (bytes: number): number => {
      const at = o;
      o += Math.ceil(bytes / 16) * 16;
      return at;
    };
    const prm = take((PRM_FIX + 6 * n + 2 * (n + 1)) * 8);
    const counts = take(2 * n * 8);
    const pairs = take(net.length * 4);
    const scratch = take(SCRATCH_VECS * n * 16);
    const data = take(n * CHUNK * 4);
    const out = take(CHUNK * 4);
    const rejLo = take(CHUNK * 4);
    const rejHi = take(CHUNK * 4);
    const flags = take(CHUNK);
    const need = o - this.ex.memory.buffer.byteLength;
    if (need > 0) this.ex.memory.grow(Math.ceil(need / 65536));
    new Int32Array(this.ex.memory.buffer, pairs, net.length).set(net);
    this.off = { prm, counts, pairs, npairs: net.length / 2, scratch, data, out, rejLo, rejHi, flags };
    this.n = n;
  }
  /** GESD critical values lambda_i for pixels with all n values (as RejectWorkspace.lambda), cached. */
  private lambdaKey = '';
  private lambda = new Float64Array(0);
  private gesdLambda(n: number, kmax: number, alpha: number): Float64Array {
    const key = `${n}/${kmax}/${alpha}`;
    if (key !== this.lambdaKey) {
      this.lambda = new Float64Array(n).fill(Infinity);
      for (let i = 0; i < Math.min(kmax, n); i++) this.lambda[i] = gesdCritical(n, i, alpha);
      this.lambdaKey = key;
    }
    return this.lambda;
  }
  private setParams(P: BandParams): void {
    const n = P.n;
    const prm = new Float64Array(this.ex.memory.buffer, this.off.prm, PRM_FIX + 6 * n + 2 * (n + 1));
    const kmax = fullReject(P) === REJECT_CODES.gesd ? Math.floor(P.gesdFraction * n) : 0;
    prm.set([
      P.sigmaLow, P.sigmaHigh, P.winsorCutoff, P.clipLow ? 1 : 0, P.clipHigh ? 1 : 0, P.rangeLow, P.rangeHigh,
      P.percentileLow, P.percentileHigh, P.minmaxLow, P.minmaxHigh, P.linearLow, P.linearHigh, kmax,
    ]);
    [P.ra, P.rb, P.ca, P.cb, P.w].forEach((a, k) => prm.set(a, PRM_FIX + k * n));
    if (kmax > 0) prm.set(this.gesdLambda(n, kmax, P.gesdAlpha), PRM_FIX + 5 * n);
    if (fullReject(P) === REJECT_CODES.winsorized) prm.set(this.winsorK(n, P.sigmaLow, P.sigmaHigh), PRM_FIX + 6 * n);
  }
  /** Winsorized clipping multipliers by count (as RejectWorkspace.winsor), cached. */
  private winsorKey = '';
  private winsorTable: Float64Array = new Float64Array(0);
  private winsorK(n: number, kl: number, kh: number): Float64Array {
    const key = `${n}/${kl}/${kh}`;
    if (key !== this.winsorKey) {
      this.winsorTable = winsorThresholds(n, kl, kh);
      this.winsorKey = key;
    }
    return this.winsorTable;
  }
  run(data: Float32Array, npix: number, P: BandParams, o: BandOutput): void {
    const n = P.n;
    this.layout(n);
    this.setParams(P);
    const L = this.off;
    const buf = this.ex.memory.buffer;
    const counts = new Float64Array(buf, L.counts, 2 * n);
    counts.fill(0);
    const mem = new Float32Array(buf);
    const d0 = L.data >> 2;
    const out = new Float32Array(buf, L.out, CHUNK);
    const rejLo = new Float32Array(buf, L.rejLo, CHUNK);
    const rejHi = new Float32Array(buf, L.rejHi, CHUNK);
    const flags = new Uint8Array(buf, L.flags, CHUNK);
    const reject = fullReject(P);
    const fallback: number[] = [];
    for (let p0 = 0; p0 < npix; p0 += CHUNK) {
      const len = Math.min(CHUNK, npix - p0);
      const even = len & ~1;
      if (even > 0) {
        for (let i = 0; i < n; i++) mem.set(data.subarray(i * npix + p0, i * npix + p0 + even), d0 + i * even);
        const nf = this.ex.band(n, even, reject, P.combine, L.data, L.out, L.rejLo, L.rejHi, L.flags, L.prm, L.counts, L.pairs, L.npairs, L.scratch);
        o.out.set(out.subarray(0, even), p0);
        if (o.rejLow) o.rejLow.set(rejLo.subarray(0, even), p0);
        if (o.rejHigh) o.rejHigh.set(rejHi.subarray(0, even), p0);
        if (nf > 0) for (let k = 0; k < even; k++) if (flags[k]) fallback.push(p0 + k);
      }
      if (even < len) fallback.push(p0 + even);
    }
    for (let i = 0; i < n; i++) {
      o.frameLow[i] += counts[i]!;
      o.frameHigh[i] += counts[n + i]!;
    }
    for (const p of fallback) integrateBandTS(data, npix, P, o, p, p + 1);
  }
}

let engine: WasmBand | null = null;

/**
 * The rejection of the pixels the kernel computes: those where every frame has a value inside the
 * range (all others are flagged and go through the reference), so n values.
 */
function fullReject(P: BandParams): number {
  return rejectCode(P, P.n);
}

/** Whether the WASM kernel handles these parameters (otherwise the TS reference runs). */
export function wasmHandles(P: BandParams): boolean {
  const reject = fullReject(P);
  if (!WASM_REJECTS.has(reject) || !WASM_COMBINES.has(P.combine)) return false;
  // (the kernel reads the min/max counts as integers)
  if (reject === REJECT_CODES.minmax && !(Number.isInteger(P.minmaxLow) && Number.isInteger(P.minmaxHigh))) return false;
  for (let i = 0; i < P.n; i++) if (P.w[i] === 0) return false;
  return true;
}

/** The WASM-SIMD kernel (throws when it is not available). Falls back to TS for what it does not implement. */
export function integrateBandWasm(data: Float32Array, npix: number, P: BandParams, o: BandOutput): void {
  if (!wasmHandles(P)) return integrateBandTS(data, npix, P, o);
  if (!engine) {
    const mod = wasmModule();
    if (!mod) throw new Error(`WASM kernel unavailable: ${wasmLoadError()}`);
    engine = new WasmBand(mod);
  }
  engine.run(data, npix, P, o);
}
