/**
 * Loader and driver of the WASM-SIMD resampling kernel (`resample-simd.as`, built by
 * `node scripts/build-wasm.mjs` into build/kernels/ and dist/kernels/). It runs the two fast paths of
 * src/register/resample.ts, the general (stepped) map and the axis-aligned (separable) map, for
 * Lanczos-3 and bicubic: unclamped Lanczos-3 and bicubic general maps in float32 (stepped32, one output
 * pixel per iteration, taps as f32x4 lanes), the rest in float64 (two output pixels per f64x2 vector);
 * results are bit-identical to the plain-TS reference there (`DARKROOM_KERNEL=ts` selects the reference,
 * as for the other kernels). Output rows are processed in chunks: only the source rows (stepped32: the
 * source rectangle) a chunk needs are copied into the module's memory, so it stays small (a few MB; the
 * float64 general map of a 90-degree turn copies every row). One instance per thread, dropped after a
 * warp when its memory grew past RESAMPLE_KEEP_BYTES.
 */
import { compileKernel, kernelsForcedTs, WA, type WasmModule } from './wasm.js';

interface ResampleExports {
  memory: { buffer: ArrayBuffer; grow(pages: number): number };
  stepped(src: number, w: number, h: number, ra: number, rb: number, inv: number, outW: number, oy0: number, oy1: number, out: number, cl: number, lut: number): void;
  stepped32(src: number, sw: number, w: number, h: number, xa: number, xb: number, ra: number, rb: number, inv: number, outW: number, oy0: number, oy1: number, out: number, isL: number, tab: number, scr: number): void;
  sepH(src: number, w: number, nrows: number, colX0: number, colW: number, n: number, outWp: number, tmp: number, doClamp: number, cl: number): void;
  sepV(tmp: number, outW: number, outWp: number, n: number, rows: number, rowY: number, rowW: number, rowOk: number, colOk: number, doClamp: number, cl: number, out: number): void;
}

/** Memory (bytes) an idle kernel may keep between warps (see resampleKernelDone). */
export const RESAMPLE_KEEP_BYTES = 16 << 20;
/** Output pixels per chunk of rows. */
const CHUNK_PIXELS = 1 << 18;

let compiled: WasmModule | null | undefined;
let instance: ResampleWasm | null | undefined;

function compile(): WasmModule | null {
  return compileKernel('resample-simd');
}

/** The kernel, or null (not built, no SIMD, DARKROOM_KERNEL=ts). */
export function resampleKernel(): ResampleWasm | null {
  if (kernelsForcedTs()) return null;
  if (compiled === undefined) compiled = compile();
  if (compiled === null) return null;
  instance ??= new ResampleWasm(compiled);
  return instance;
}

/** After a warp: drop the kernel instance when its memory grew past RESAMPLE_KEEP_BYTES (the module stays compiled). */
export function resampleKernelDone(): void {
  if (instance && instance.bytes() > RESAMPLE_KEEP_BYTES) instance = undefined;
}

/** A source plane and the output grid of one warp. */
export interface ResampleGrid {
  src: Float32Array;
  w: number;
  h: number;
  outW: number;
}

/** Axis-aligned tables (resample.ts columnTables) and, per output row of [oy0, oy1), the first tap, weights and in-frame flag. */
export interface SeparableTables {
  /** Taps per axis (6 Lanczos-3, 4 bicubic). */
  n: number;
  doClamp: boolean;
  clamp: number;
  colX0: Int32Array;
  colW: Float64Array;
  colOk: Uint8Array;
  rowY0: Int32Array;
  rowW: Float64Array;
  rowOk: Uint8Array;
}

const align = (n: number): number => Math.ceil(n / 16) * 16;

export class ResampleWasm {
  private readonly ex: ResampleExports;
  private readonly base: number;
  private lut: Float64Array | null = null;
  /** The float32 path's phase tables (PHASE_TABLE_BYTES at tabAt, kept for the instance's life) and its scratch. */
  private readonly tabAt: number;
  private readonly scrAt: number;
  private tables: Float32Array | null = null;
  constructor(mod: WasmModule) {
    const inst = new WA.Instance(mod, { env: { abort: () => { throw new Error('resample-simd.wasm abort'); } } });
    this.ex = inst.exports as unknown as ResampleExports;
    this.tabAt = align(this.ex.memory.buffer.byteLength);
    this.scrAt = this.tabAt + PHASE_TABLE_BYTES;
    this.base = align(this.scrAt + 256);
    this.layout(this.base, []);
  }

  /** Bytes of the module's memory. */
  bytes(): number {
    return this.ex.memory.buffer.byteLength;
  }

  /** Byte offsets of consecutive regions of the given sizes after `from`, the memory grown to hold them. */
  private layout(from: number, sizes: number[]): number[] {
    const offs: number[] = [];
    let o = from;
    for (const s of sizes) { offs.push(o); o = align(o + s); }
    const need = o - this.ex.memory.buffer.byteLength;
    if (need > 0) this.ex.memory.grow(Math.ceil(need / 65536));
    return offs;
  }

  /** Copy source rows ya..yb into memory at `at`. */
  private putRows(g: ResampleGrid, ya: number, yb: number, at: number): void {
    new Float32Array(this.ex.memory.buffer, at, (yb - ya + 1) * g.w).set(g.src.subarray(ya * g.w, (yb + 1) * g.w));
  }

  /**
   * General map, clamped Lanczos-3 (resample.ts warpRowsStepped, float64) for output rows [oy0, oy1) into `out`
   * (outW x outH); `inv`: output -> source; `lut`: the Lanczos-3 table; cl: the clamp threshold.
   */
  stepped(g: ResampleGrid, inv: ArrayLike<number>, cl: number, lut: Float64Array, out: Float32Array, oy0: number, oy1: number): void {
    const { w, h, outW } = g;
    const ch = Math.max(1, Math.floor(CHUNK_PIXELS / outW));
    const ranges: [number, number, number, number][] = [];
    let maxRows = 0;
    for (let c0 = oy0; c0 < oy1; c0 += ch) {
      const c1 = Math.min(oy1, c0 + ch);
      const [ya, yb] = sourceRows(inv, outW, c0, c1, h, 3);
      ranges.push([c0, c1, ya, yb]);
      maxRows = Math.max(maxRows, yb - ya + 1);
    }
    const [lutAt, invAt, srcAt, outAt] = this.layout(this.base, [(lut.length - 1) * 16, 72, maxRows * w * 4, ch * outW * 4]);
    if (this.lut !== lut) {
      // pairs (L[i], L[i + 1] - L[i]) (resample-simd.as lutK)
      const p = new Float64Array(this.ex.memory.buffer, lutAt!, (lut.length - 1) * 2);
      for (let i = 0; i + 1 < lut.length; i++) { p[2 * i] = lut[i]!; p[2 * i + 1] = lut[i + 1]! - lut[i]!; }
      this.lut = lut;
    }
    new Float64Array(this.ex.memory.buffer, invAt!, 9).set(Array.from(inv));
    let held = ''; // the rows in memory: a turn near 90 degrees reads every row for every chunk, copied once
    for (const [c0, c1, ya, yb] of ranges) {
      if (held !== `${ya},${yb}`) this.putRows(g, ya, yb, srcAt!);
      held = `${ya},${yb}`;
      this.ex.stepped(srcAt!, w, h, ya, yb, invAt!, outW, c0, c1, outAt!, cl, lutAt!);
      out.set(new Float32Array(this.ex.memory.buffer, outAt!, (c1 - c0) * outW), c0 * outW);
    }
  }

  /**
   * General map, float32 path (resample.ts warpRowsStepped32: unclamped Lanczos-3 or bicubic) for output rows
   * [oy0, oy1) into `out`; `tables`: resample.ts PHASE_TABLES. Each chunk of rows copies in only the source rectangle
   * it reads (a band of rows near 0 or 180 degrees, a band of columns near 90), so the memory stays small for both.
   */
  stepped32(g: ResampleGrid, inv: ArrayLike<number>, lanczos3: boolean, tables: Float32Array, out: Float32Array, oy0: number, oy1: number): void {
    const { w, h, outW } = g;
    const ch = Math.max(1, Math.floor(CHUNK_PIXELS / outW));
    const ranges: [number, number, number, number, number, number][] = [];
    let maxArea = 0;
    for (let c0 = oy0; c0 < oy1; c0 += ch) {
      const c1 = Math.min(oy1, c0 + ch);
      const [xa, xb, ya, yb] = sourceRect(inv, outW, c0, c1, w, h, lanczos3 ? 3 : 2);
      ranges.push([c0, c1, xa, xb, ya, yb]);
      maxArea = Math.max(maxArea, (xb - xa + 1) * (yb - ya + 1));
    }
    const [invAt, srcAt, outAt] = this.layout(this.base, [72, maxArea * 4, ch * outW * 4]);
    this.lut = null; // stepped's table, overwritten here
    if (this.tables !== tables) {
      new Float32Array(this.ex.memory.buffer, this.tabAt, PHASE_TABLE_BYTES / 4).set(tables);
      this.tables = tables;
    }
    new Float64Array(this.ex.memory.buffer, invAt!, 9).set(Array.from(inv));
    let held = '';
    for (const [c0, c1, xa, xb, ya, yb] of ranges) {
      const key = `${xa},${xb},${ya},${yb}`;
      if (held !== key) this.putRect(g, xa, xb, ya, yb, srcAt!);
      held = key;
      this.ex.stepped32(srcAt!, xb - xa + 1, w, h, xa, xb, ya, yb, invAt!, outW, c0, c1, outAt!, lanczos3 ? 1 : 0, this.tabAt, this.scrAt);
      out.set(new Float32Array(this.ex.memory.buffer, outAt!, (c1 - c0) * outW), c0 * outW);
    }
  }

  /** Copy the source rectangle of columns xa..xb, rows ya..yb into memory at `at` (row stride xb - xa + 1). */
  private putRect(g: ResampleGrid, xa: number, xb: number, ya: number, yb: number, at: number): void {
    if (xa === 0 && xb === g.w - 1) { this.putRows(g, ya, yb, at); return; }
    const sw = xb - xa + 1;
    const dst = new Float32Array(this.ex.memory.buffer, at, (yb - ya + 1) * sw);
    for (let y = ya; y <= yb; y++) dst.set(g.src.subarray(y * g.w + xa, y * g.w + xb + 1), (y - ya) * sw);
  }

  /** Axis-aligned map (resample.ts warpSeparable) for output rows [oy0, oy1); `t` row tables start at oy0. */
  separable(g: ResampleGrid, t: SeparableTables, out: Float32Array, oy0: number, oy1: number): void {
    const { w, h, outW } = g;
    const n = t.n, outWp = outW + (outW & 1);
    const ch = Math.max(1, Math.floor(CHUNK_PIXELS / outW));
    const rows = oy1 - oy0;
    let maxRows = 0;
    const ranges: [number, number, number, number][] = [];
    for (let c0 = 0; c0 < rows; c0 += ch) {
      const c1 = Math.min(rows, c0 + ch);
      let lo = Infinity, hi = -Infinity;
      for (let r = c0; r < c1; r++) { lo = Math.min(lo, t.rowY0[r]!); hi = Math.max(hi, t.rowY0[r]! + n - 1); }
      const ya = Math.min(h - 1, Math.max(0, lo)), yb = Math.min(h - 1, Math.max(0, hi));
      ranges.push([c0, c1, ya, yb]);
      maxRows = Math.max(maxRows, yb - ya + 1);
    }
    const [x0At, cwAt, okAt, ryAt, rwAt, rokAt, tmpAt, srcAt, outAt] = this.layout(this.base, [
      outWp * 4, outWp * n * 8, outWp * 8, ch * n * 4, ch * n * 8, ch * 4, maxRows * outWp * 8, maxRows * w * 4, ch * outW * 4,
    ]);
    this.lut = null;
    const buf = this.ex.memory.buffer;
    const x0 = new Int32Array(buf, x0At!, outWp), cw = new Float64Array(buf, cwAt!, outWp * n), ok = new BigInt64Array(buf, okAt!, outWp);
    for (let ox = 0; ox < outWp; ox++) {
      const c = Math.min(ox, outW - 1); // the padding column repeats the last one (computed, never stored)
      x0[ox] = t.colX0[c]!;
      ok[ox] = t.colOk[c] ? -1n : 0n;
      for (let i = 0; i < n; i++) cw[((ox >> 1) * n + i) * 2 + (ox & 1)] = t.colW[c * n + i]!;
    }
    const ry = new Int32Array(buf, ryAt!, ch * n), rw = new Float64Array(buf, rwAt!, ch * n), rok = new Int32Array(buf, rokAt!, ch);
    const cl = t.doClamp ? t.clamp : 0, dc = t.doClamp ? 1 : 0;
    for (const [c0, c1, ya, yb] of ranges) {
      this.putRows(g, ya, yb, srcAt!);
      this.ex.sepH(srcAt!, w, yb - ya + 1, x0At!, cwAt!, n, outWp, tmpAt!, dc, cl);
      for (let r = c0; r < c1; r++) {
        const k = r - c0;
        rok[k] = t.rowOk[r]!;
        for (let j = 0; j < n; j++) {
          const yy = t.rowY0[r]! + j;
          ry[k * n + j] = (yy < 0 ? 0 : yy >= h ? h - 1 : yy) - ya;
          rw[k * n + j] = t.rowW[r * n + j]!;
        }
      }
      this.ex.sepV(tmpAt!, outW, outWp, n, c1 - c0, ryAt!, rwAt!, rokAt!, okAt!, dc, cl, outAt!);
      out.set(new Float32Array(this.ex.memory.buffer, outAt!, (c1 - c0) * outW), (oy0 + c0) * outW);
    }
  }
}

/** Bytes of the float32 path's phase tables (resample.ts PHASE_TABLES): 4096 phases of 16 f32 (Lanczos-3), then of 8 (bicubic). */
export const PHASE_TABLE_BYTES = 4096 * 64 + 4096 * 32;

/**
 * Source rectangle [xa, xb] x [ya, yb] that output rows [c0, c1) read through `inv` with `radius` taps each side
 * (as sourceRows, per axis; the whole frame when W changes sign over the chunk or a corner is not finite).
 */
export function sourceRect(inv: ArrayLike<number>, outW: number, c0: number, c1: number, w: number, h: number, radius: number): [number, number, number, number] {
  let xlo = Infinity, xhi = -Infinity, ylo = Infinity, yhi = -Infinity, pos = 0, neg = 0;
  for (const [x, y] of [[0, c0], [outW - 1, c0], [0, c1 - 1], [outW - 1, c1 - 1]] as const) {
    const W = inv[6]! * x + inv[7]! * y + inv[8]!;
    if (W > 0) pos++;
    else if (W < 0) neg++;
    const sx = (inv[0]! * x + inv[1]! * y + inv[2]!) / W, sy = (inv[3]! * x + inv[4]! * y + inv[5]!) / W;
    xlo = Math.min(xlo, sx); xhi = Math.max(xhi, sx);
    ylo = Math.min(ylo, sy); yhi = Math.max(yhi, sy);
  }
  if ((pos !== 4 && neg !== 4) || ![xlo, xhi, ylo, yhi].every(Number.isFinite)) return [0, w - 1, 0, h - 1];
  const clip = (v: number, n: number): number => Math.min(n - 1, Math.max(0, v));
  const m = radius + 2;
  return [clip(Math.floor(xlo) - m, w), clip(Math.floor(xhi) + m, w), clip(Math.floor(ylo) - m, h), clip(Math.floor(yhi) + m, h)];
}

/**
 * Source rows [ya, yb] that output rows [c0, c1) read through `inv` with `radius` taps each side: the
 * source y at the chunk's corners (a projective map is monotone along each output axis where its W
 * keeps one sign), 2 rows of margin; every row when W changes sign or a corner is not finite.
 */
export function sourceRows(inv: ArrayLike<number>, outW: number, c0: number, c1: number, h: number, radius: number): [number, number] {
  let lo = Infinity, hi = -Infinity, pos = 0, neg = 0;
  for (const [x, y] of [[0, c0], [outW - 1, c0], [0, c1 - 1], [outW - 1, c1 - 1]] as const) {
    const W = inv[6]! * x + inv[7]! * y + inv[8]!;
    if (W > 0) pos++;
    else if (W < 0) neg++;
    const sy = (inv[3]! * x + inv[4]! * y + inv[5]!) / W;
    lo = Math.min(lo, sy);
    hi = Math.max(hi, sy);
  }
  if ((pos !== 4 && neg !== 4) || !Number.isFinite(lo) || !Number.isFinite(hi)) return [0, h - 1];
  const ya = Math.floor(lo) - radius - 2, yb = Math.floor(hi) + radius + 2;
  return [Math.min(h - 1, Math.max(0, ya)), Math.min(h - 1, Math.max(0, yb))];
}
