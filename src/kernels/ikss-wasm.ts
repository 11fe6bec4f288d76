/**
 * Loader and driver of the WASM kernel of IKSS's passes over all values (`ikss-simd.as`, built by
 * `node scripts/build-wasm.mjs` into build/kernels/ and dist/kernels/): the radix sort of `sortFinite`
 * and the biweight sums of `ikssOfFinite` (kernels/ikss.ts), bit-identical to the plain-TS reference
 * there (`DARKROOM_KERNEL=ts` selects the reference, as for the other kernels). One instance per
 * thread, kept while its memory (three float32 arrays of the values) stays under IKSS_KEEP_BYTES.
 */
import { compileKernel, kernelsForcedTs, WA, type WasmModule } from './wasm.js';

interface IkssExports {
  memory: { buffer: ArrayBuffer; grow(pages: number): number };
  sortKeys(src: number, n: number, a: number, b: number, hist: number): number;
  biweight(vals: number, n: number, lo: number, hi: number, m: number, inv: number, out: number): void;
}

/** Sets above this many values use the TS reference (the module's memory would pass 1 GB). */
export const IKSS_WASM_MAX_VALUES = 96 << 20;

/**
 * Sets above this many values are only sorted here (two arrays of them, as the TS sort allocates) and their biweight
 * sums run in TS over the caller's array; up to it the values are also copied here for the kernel's biweight sums
 * (three arrays: one more than the TS path holds, at most 192 MB).
 */
export const IKSS_WASM_BIWEIGHT_MAX_VALUES = 16 << 20;

/** Memory (bytes) an idle kernel may keep between calls; a larger one is dropped by ikssKernelDone(). */
export const IKSS_KEEP_BYTES = 8 << 20;

let compiled: WasmModule | null | undefined;
let instance: IkssWasm | null | undefined;

function compile(): WasmModule | null {
  return compileKernel('ikss-simd');
}

/** The kernel for a set of n values, or null (not built, no SIMD, DARKROOM_KERNEL=ts, too many values). */
export function ikssKernel(n: number): IkssWasm | null {
  if (kernelsForcedTs()) return null;
  if (compiled === undefined) compiled = compile();
  if (compiled === null || n > IKSS_WASM_MAX_VALUES) return null;
  if (!instance) instance = new IkssWasm(compiled);
  return instance;
}

/** After an estimate: drop the kernel instance when its memory grew past IKSS_KEEP_BYTES (the module stays compiled). */
export function ikssKernelDone(): void {
  if (instance && instance.bytes() > IKSS_KEEP_BYTES) instance = undefined;
}

export class IkssWasm {
  private readonly ex: IkssExports;
  /** Two f64 for the sums, the histograms, then the arrays. */
  private readonly out: number;
  private readonly hist: number;
  private readonly base: number;
  private n = 0;
  private sorted = 0;
  private kept = false;
  constructor(mod: WasmModule) {
    const inst = new WA.Instance(mod, { env: { abort: () => { throw new Error('ikss-simd.wasm abort'); } } });
    this.ex = inst.exports as unknown as IkssExports;
    this.out = Math.ceil(this.ex.memory.buffer.byteLength / 16) * 16;
    this.hist = this.out + 16;
    this.base = this.hist + 3 * 2048 * 4;
  }

  /** Bytes of the module's memory. */
  bytes(): number {
    return this.ex.memory.buffer.byteLength;
  }

  private stride(): number {
    return Math.ceil((this.n * 4) / 16) * 16;
  }

  /**
   * Copy the values (finite) into the module and sort them: a view of the sorted values (valid until the next
   * load), or null when the memory cannot grow. `keep`: the values stay too, for `biweight` (else they are
   * sorted in place of their copy).
   */
  load(vals: Float32Array, keep = true): Float32Array | null {
    this.n = vals.length;
    this.kept = keep;
    const need = this.base + (keep ? 3 : 2) * this.stride() - this.ex.memory.buffer.byteLength;
    if (need > 0) {
      try {
        this.ex.memory.grow(Math.ceil(need / 65536));
      } catch {
        return null;
      }
    }
    new Float32Array(this.ex.memory.buffer, this.base, this.n).set(vals);
    const a = keep ? this.base + this.stride() : this.base;
    this.sorted = this.ex.sortKeys(this.base, this.n, a, a + this.stride(), this.hist);
    return new Float32Array(this.ex.memory.buffer, this.sorted, this.n);
  }

  /** Biweight sums of the loaded values (kept) within [lo, hi] about m with inv = 1 / (9 MAD), in their order: acc = [num, den]. */
  biweight(lo: number, hi: number, m: number, inv: number, acc: Float64Array): void {
    if (!this.kept) throw new Error('ikss kernel: the values were not kept');
    this.ex.biweight(this.base, this.n, lo, hi, m, inv, this.out);
    const o = new Float64Array(this.ex.memory.buffer, this.out, 2);
    acc[0] = o[0]!;
    acc[1] = o[1]!;
  }
}
