/**
 * Loader and driver of the WASM kernel of IKSS's passes over all values (`ikss-simd.as`, built by
 * `node scripts/build-wasm.mjs` into build/kernels/ and dist/kernels/): the radix sort of `sortFinite`
 * and the biweight sums of `ikssOfFinite` (kernels/ikss.ts), bit-identical to the plain-TS reference
 * there (`DARKROOM_KERNEL=ts` selects the reference, as for the other kernels). One instance per
 * thread: its memory (two float32 arrays of the plane for the window of ikss-window.ts, three for the full sort) is
 * kept while under IKSS_KEEP_BYTES.
 */
import { compileKernel, kernelsForcedTs, WA, type WasmModule } from './wasm.js';

interface IkssExports {
  memory: { buffer: ArrayBuffer; grow(pages: number): number };
  sortKeys(src: number, n: number, a: number, b: number, hist: number): number;
  biweight(vals: number, n: number, lo: number, hi: number, m: number, inv: number, out: number): void;
  compactFinite(src: number, n: number): number;
  window(src: number, n: number, wlo: number, span: number, shift: number, buckets: number, cum: number, dst: number, stats: number): void;
}

/** A window of ikss-window.ts built by the kernel: views into its memory (valid until the next load). */
export interface KernelWindow {
  cum: Uint32Array;
  buf: Float32Array;
  kmin: number;
  kmax: number;
  below: number;
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

/**
 * After an estimate: drop the kernel instance when its memory grew past IKSS_KEEP_BYTES (the module stays compiled).
 * Keeping a large one for the next estimate saves its fresh pages but holds the memory of a plane per thread into the
 * steps that follow (measured: +150-200 MB peak RSS on a 4096x2732 night), so it is not kept.
 */
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
  /** Offset of the kept values. */
  private valsAt = 0;
  /** Offset of the window's values. */
  private dst = 0;
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
    this.valsAt = this.base;
    const a = keep ? this.base + this.stride() : this.base;
    this.sorted = this.ex.sortKeys(this.base, this.n, a, a + this.stride(), this.hist);
    return new Float32Array(this.ex.memory.buffer, this.sorted, this.n);
  }

  /**
   * Copy a plane into the module and keep its finite values, in order: a view of them (valid until the next load), for
   * `window` and `biweight`; null when the memory (two arrays of the plane and the window's buckets) cannot grow.
   */
  loadPlane(plane: Float32Array, buckets: number): Float32Array | null {
    this.kept = true;
    this.valsAt = this.base + Math.ceil(((buckets + 1) * 4) / 16) * 16;
    this.n = plane.length;
    const need = this.valsAt + 2 * this.stride() - this.ex.memory.buffer.byteLength;
    if (need > 0) {
      try {
        this.ex.memory.grow(Math.ceil(need / 65536));
      } catch {
        return null;
      }
    }
    new Float32Array(this.ex.memory.buffer, this.valsAt, this.n).set(plane);
    const nf = this.ex.compactFinite(this.valsAt, this.n);
    const vals = new Float32Array(this.ex.memory.buffer, this.valsAt, nf);
    this.dst = this.valsAt + this.stride();
    this.n = nf;
    return vals;
  }

  /**
   * The window of keys [wlo, wlo + span] of the loaded values in `buckets` buckets of 2^shift keys (ikss-window.ts
   * `buildWindow`, the same arrays): views into the module's memory, valid until the next load.
   */
  window(wlo: number, span: number, shift: number, buckets: number): KernelWindow {
    const cum = this.base;
    this.ex.window(this.valsAt, this.n, wlo, span, shift, buckets, cum, this.dst, this.hist);
    const mem = this.ex.memory.buffer;
    const st = new Uint32Array(mem, this.hist, 3);
    const c = new Uint32Array(mem, cum, buckets + 1);
    return { cum: c, buf: new Float32Array(mem, this.dst, c[buckets]!), kmin: st[0]!, kmax: st[1]!, below: st[2]! };
  }

  /** Biweight sums of the loaded values (kept) within [lo, hi] about m with inv = 1 / (9 MAD), in their order: acc = [num, den]. */
  biweight(lo: number, hi: number, m: number, inv: number, acc: Float64Array): void {
    if (!this.kept) throw new Error('ikss kernel: the values were not kept');
    this.ex.biweight(this.valsAt, this.n, lo, hi, m, inv, this.out);
    const o = new Float64Array(this.ex.memory.buffer, this.out, 2);
    acc[0] = o[0]!;
    acc[1] = o[1]!;
  }
}
