/**
 * Loader and driver of the WASM-SIMD kernel of the MRS noise transform (`noise-simd.as`, built by
 * `node scripts/build-wasm.mjs` into build/kernels/ and dist/kernels/). `NoiseTransformWasm` runs
 * the layers of src/image/noise.ts's a-trous transform on planes kept in the module's memory;
 * results are bit-identical to the plain-TS reference there (`DARKROOM_KERNEL=ts` selects the
 * reference, as for the band kernel). One instance per thread, reused while its memory (four
 * float32 planes of the plane estimated) stays under NOISE_KEEP_BYTES.
 */
import { compileKernel, kernelsForcedTs, WA, type WasmModule } from './wasm.js';

interface NoiseExports {
  memory: { buffer: ArrayBuffer; grow(pages: number): number };
  layer(cur: number, next: number, tmp: number, ratio: number, resid: number, width: number, height: number, d: number, inv: number, first: number): void;
  ksigmaSums(src: number, c1: number, n: number, thr: number, out: number): void;
  mrsSums(ratio: number, resid: number, n: number, thr: number, out: number): void;
  nonFinite(src: number, n: number): number;
}

/** Count, sum and sum of squares of the values an iteration keeps. */
export interface Sums {
  n: number;
  sum: number;
  ss: number;
}

/** Planes above this many pixels use the TS reference (the module's memory would pass 1 GB). */
export const NOISE_WASM_MAX_PIXELS = 48 << 20;

let compiled: WasmModule | null | undefined;
let instance: NoiseTransformWasm | null | undefined;

function compile(): WasmModule | null {
  return compileKernel('noise-simd');
}

function load(): NoiseTransformWasm | null {
  if (compiled === undefined) compiled = compile();
  return compiled === null ? null : new NoiseTransformWasm(compiled);
}

/** After an estimate: drop the kernel instance when its memory grew past NOISE_KEEP_BYTES. */
export function noiseKernelDone(): void {
  if (instance && instance.bytes() > NOISE_KEEP_BYTES) instance = undefined;
}

/**
 * Memory (bytes) an idle kernel may keep between estimates: the four planes of image/noise.ts's NOISE_MAX_PIXELS
 * (2 Mpx, 32 MB; the most a frame's noise keywords are measured on) and the module's own pages, so that a thread
 * measuring frame after frame reuses them instead of growing fresh memory for each (page faults). A kernel that grew
 * beyond it (a larger plane estimated whole) is dropped by noiseKernelDone() (the module stays compiled), so that a
 * thread holds at most this much between frames.
 */
export const NOISE_KEEP_BYTES = 33 << 20;

/** The kernel for a plane of n pixels, or null (not built, no SIMD, DARKROOM_KERNEL=ts, too large). */
export function noiseKernel(n: number): NoiseTransformWasm | null {
  if (kernelsForcedTs()) return null;
  if (instance === undefined) instance = load();
  return instance !== null && n <= NOISE_WASM_MAX_PIXELS ? instance : null;
}

/** Plane slots in the module's memory. */
export const SRC = 0;
export const TMP = 1;
export const RATIO = 2;
export const A = 3;

export class NoiseTransformWasm {
  private readonly ex: NoiseExports;
  /** Three f64 for the sums, then the planes. */
  private readonly out: number;
  private readonly base: number;
  private n = 0;
  constructor(mod: WasmModule) {
    const inst = new WA.Instance(mod, { env: { abort: () => { throw new Error('noise-simd.wasm abort'); } } });
    this.ex = inst.exports as unknown as NoiseExports;
    this.out = Math.ceil(this.ex.memory.buffer.byteLength / 16) * 16;
    this.base = this.out + 32;
  }

  /** Make room for four planes of n pixels and copy `src` into slot SRC; false when the memory cannot grow. */
  setup(src: Float32Array): boolean {
    const n = src.length;
    const stride = Math.ceil((n * 4) / 16) * 16;
    const need = this.base + 4 * stride - this.ex.memory.buffer.byteLength;
    if (need > 0) {
      try {
        this.ex.memory.grow(Math.ceil(need / 65536));
      } catch {
        return false;
      }
    }
    this.n = n;
    this.plane(SRC).set(src);
    return true;
  }

  /** Bytes of the module's memory. */
  bytes(): number {
    return this.ex.memory.buffer.byteLength;
  }

  private offset(slot: number): number {
    return this.base + slot * Math.ceil((this.n * 4) / 16) * 16;
  }

  /** A view of slot `slot` (valid until the next setup()). */
  plane(slot: number): Float32Array {
    return new Float32Array(this.ex.memory.buffer, this.offset(slot), this.n);
  }

  /**
   * One layer: slot `next` = smoothed slot `cur` (next may be cur: the column pass reads cur only at
   * the pixel it writes), RATIO updated; `resid`: write SRC - c into `next` instead.
   */
  layer(cur: number, next: number, width: number, height: number, d: number, inv: number, first: boolean, resid: boolean): void {
    this.ex.layer(this.offset(cur), this.offset(next), this.offset(TMP), this.offset(RATIO), resid ? this.offset(SRC) : 0, width, height, d, inv, first ? 1 : 0);
  }

  /** Non-finite values (NaN, +-Infinity) in slot SRC. */
  nonFinite(): number {
    return this.ex.nonFinite(this.offset(SRC), this.n);
  }

  /** Sums over v = SRC - slot c1 with |v| < thr, in index order (noise.ts kSigmaClip). */
  ksigmaSums(c1: number, thr: number): Sums {
    this.ex.ksigmaSums(this.offset(SRC), this.offset(c1), this.n, thr, this.out);
    return this.sums();
  }

  /** Sums over slot `resid` where RATIO < thr, in index order (noise.ts mrsIterate). */
  mrsSums(resid: number, thr: number): Sums {
    this.ex.mrsSums(this.offset(RATIO), this.offset(resid), this.n, thr, this.out);
    return this.sums();
  }

  private sums(): Sums {
    const o = new Float64Array(this.ex.memory.buffer, this.out, 3);
    return { n: o[0]!, sum: o[1]!, ss: o[2]! };
  }
}
