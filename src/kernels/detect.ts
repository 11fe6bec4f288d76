/**
 * Loader and driver of the WASM-SIMD kernel of star detection's whole-frame passes (`detect-simd.as`, built by
 * `node scripts/build-wasm.mjs` into build/kernels/ and dist/kernels/): the background mesh's per-cell sigma-clipped
 * location and scale, the mesh interpolation to pixels, the background subtraction, the matched-filter convolution
 * and the detection threshold. Bit-identical to the plain-TS references in stars/background.ts and stars/detect.ts
 * (`DARKROOM_KERNEL=ts` selects them). One instance per thread; its memory is reused from frame to frame (a bump
 * layout reset by each `meshCells`) and the instance is dropped when it grew past DETECT_KEEP_BYTES.
 */
import { compileKernel, kernelsForcedTs, WA, type WasmModule } from './wasm.js';

interface DetectExports {
  memory: { buffer: ArrayBuffer; grow(pages: number): number };
  cellStats(plane: number, width: number, x0: number, x1: number, y0: number, y1: number, sigma: number, iterations: number, a: number, b: number, p1: number, p2: number, hist: number, out: number): void;
  interpRows(mesh: number, mw: number, j0: number, j1: number, ix: number, wx: number, nx: number, rows: number): void;
  interpCols(rows: number, rowStride: number, ry: number, wy: number, ny: number, nx: number, out: number, outStride: number): void;
  interpColsRow(rows: number, rowStride: number, ry: number, wy: number, y: number, nx: number, out: number, outStride: number): void;
  subtract(plane: number, bkg: number, sub: number, n: number): void;
  convolveRow(src: number, width: number, o: number, k: number, n: number, tmp: number): void;
  convolveCol(tmp: number, width: number, height: number, y: number, k: number, n: number, out: number): void;
  above(filt: number, noise: number, i0: number, i1: number, kn: number, idx: number, c: number): number;
}

/** Memory (bytes) an idle kernel may keep between frames; a larger one is dropped by detectKernelDone(). */
export const DETECT_KEEP_BYTES = 160 << 20;

let compiled: WasmModule | null | undefined;
let instance: DetectWasm | undefined;

/** The kernel, or null (not built, no SIMD, DARKROOM_KERNEL=ts). */
export function detectKernel(): DetectWasm | null {
  if (kernelsForcedTs()) return null;
  if (compiled === undefined) compiled = compileKernel('detect-simd');
  if (compiled === null) return null;
  instance ??= new DetectWasm(compiled);
  return instance;
}

/** After a detection: drop the kernel instance when its memory grew past DETECT_KEEP_BYTES (the module stays compiled). */
export function detectKernelDone(): void {
  if (instance && instance.bytes() > DETECT_KEEP_BYTES) instance = undefined;
}

/**
 * Values per call of the chunked passes (subtract, threshold). The passes are driven a row, a cell or a chunk per
 * call (detect-simd.as): V8 optimizes a wasm function only between calls.
 */
const CHUNK = 16384;

/** Interpolation tables of one axis: per output coordinate, 4 clamped mesh indices and 4 Catmull-Rom weights. */
export interface AxisTables { idx: Int32Array; w: Float64Array }

const align = (n: number): number => Math.ceil(n / 16) * 16;

export class DetectWasm {
  private readonly ex: DetectExports;
  private readonly base: number;
  private top = 0;
  /** The plane (and its size) whose copy is at `planeAt`, and the maps computed from it. */
  private plane: Float32Array | null = null;
  private npx = 0;
  private planeAt = 0;
  private readonly maps = new Map<Float32Array, number>();
  /** Interpolations since the last reset (a caller outside the detection flow would otherwise grow the layout). */
  private interps = 0;
  /** Layout generation: a reset invalidates the offsets held by RectInterpolators. */
  gen = 0;
  constructor(mod: WasmModule) {
    const inst = new WA.Instance(mod, { env: { abort: () => { throw new Error('detect-simd.wasm abort'); } } });
    this.ex = inst.exports as unknown as DetectExports;
    this.base = align(this.ex.memory.buffer.byteLength);
    this.top = this.base;
  }

  /** Bytes of the module's memory. */
  bytes(): number {
    return this.ex.memory.buffer.byteLength;
  }

  private reset(): void {
    this.top = this.base;
    this.maps.clear();
    this.plane = null;
    this.interps = 0;
    this.gen++;
  }

  /** Before an interpolation: a fresh layout after more than a frame's share of them. */
  private interp(): void {
    if (++this.interps > 4) this.reset();
  }

  /** Reserve `bytes` (16-aligned) after the last reservation, growing the memory; its offset. */
  private alloc(bytes: number): number {
    const at = this.top;
    this.top = align(at + bytes);
    const need = this.top - this.ex.memory.buffer.byteLength;
    if (need > 0) this.ex.memory.grow(Math.ceil(need / 65536));
    return at;
  }

  private f32(at: number, n: number): Float32Array { return new Float32Array(this.ex.memory.buffer, at, n); }
  private f64(at: number, n: number): Float64Array { return new Float64Array(this.ex.memory.buffer, at, n); }
  private i32(at: number, n: number): Int32Array { return new Int32Array(this.ex.memory.buffer, at, n); }

  /**
   * Copy the plane in (the memory's layout restarts) and measure each mesh cell (columns xs[i]..xs[i+1]-1, rows
   * ys[j]..ys[j+1]-1): background.ts clippedLocationScaleSorted of its finite values; [location, scale] per cell.
   */
  meshCells(plane: Float32Array, width: number, height: number, xs: Int32Array, ys: Int32Array, sigma: number, iterations: number): Float64Array {
    const mw = xs.length - 1, mh = ys.length - 1, npx = width * height;
    let cell = 0;
    for (let i = 0; i < mw; i++) for (let j = 0; j < mh; j++) cell = Math.max(cell, (xs[i + 1]! - xs[i]!) * (ys[j + 1]! - ys[j]!));
    this.reset();
    const pAt = this.alloc(npx * 4);
    const aAt = this.alloc(cell * 4), bAt = this.alloc(cell * 4), p1 = this.alloc((cell + 1) * 8), p2 = this.alloc((cell + 1) * 8);
    const hist = this.alloc(3 * 2048 * 4), out = this.alloc(mw * mh * 16);
    this.f32(pAt, npx).set(plane.subarray(0, npx));
    for (let j = 0; j < mh; j++) {
      for (let i = 0; i < mw; i++) this.ex.cellStats(pAt, width, xs[i]!, xs[i + 1]!, ys[j]!, ys[j + 1]!, sigma, iterations, aAt, bAt, p1, p2, hist, out + (j * mw + i) * 16);
    }
    this.plane = plane; this.npx = npx; this.planeAt = pAt;
    return this.f64(out, 2 * mw * mh).slice();
  }

  /** Mesh rows j0..j1 interpolated along x (pass 1) into memory: their offset (nx f64 per row). */
  private rows(mesh: Float64Array, mw: number, j0: number, j1: number, x: AxisTables): number {
    const nx = x.w.length / 4;
    const mAt = this.alloc(mesh.length * 8), ixAt = this.alloc(x.idx.length * 4), wxAt = this.alloc(x.w.length * 8);
    const rAt = this.alloc((j1 - j0 + 1) * nx * 8);
    this.f64(mAt, mesh.length).set(mesh);
    this.i32(ixAt, x.idx.length).set(x.idx);
    this.f64(wxAt, x.w.length).set(x.w);
    this.ex.interpRows(mAt, mw, j0, j1, ixAt, wxAt, nx, rAt);
    return rAt;
  }

  private yTables(y: AxisTables): [number, number] {
    const ryAt = this.alloc(y.idx.length * 4), wyAt = this.alloc(y.w.length * 8);
    this.i32(ryAt, y.idx.length).set(y.idx);
    this.f64(wyAt, y.w.length).set(y.w);
    return [ryAt, wyAt];
  }

  /** The mesh (mw columns) interpolated to every pixel (background.ts interpolateMesh); kept here for `filter`. */
  interpolate(mesh: Float64Array, mw: number, mh: number, x: AxisTables, y: AxisTables): Float32Array {
    const width = x.w.length / 4, height = y.w.length / 4;
    this.interp();
    const rAt = this.rows(mesh, mw, 0, mh - 1, x);
    const [ryAt, wyAt] = this.yTables(y);
    const oAt = this.alloc(width * height * 4);
    for (let yy = 0; yy < height; yy++) this.ex.interpColsRow(rAt, width, ryAt, wyAt, yy, width, oAt, width);
    const out = this.f32(oAt, width * height).slice();
    this.maps.set(out, oAt);
    return out;
  }

  /** Whether the plane and the two maps (from `interpolate`) of the last `meshCells` are here. */
  holds(plane: Float32Array, background: Float32Array, noise: Float32Array): boolean {
    return this.plane === plane && this.maps.has(background) && this.maps.has(noise) && background.length === this.npx;
  }

  /**
   * The detection planes of the held plane and maps (see `holds`): sub = plane - background (NaN as 0), filt = sub
   * convolved with the taps `ker` (sub itself when null), and the pixels with filt > kn noise, ascending. `sub` and
   * `filt` are views of the kernel's memory (no fresh arrays to fault in per frame): valid until the next `meshCells`.
   */
  filter(background: Float32Array, noise: Float32Array, width: number, height: number, ker: Float64Array | null, kn: number): { sub: Float32Array; filt: Float32Array; above: Int32Array } {
    const npx = this.npx, bAt = this.maps.get(background)!, nAt = this.maps.get(noise)!;
    const sAt = this.alloc(npx * 4);
    for (let i = 0; i < npx; i += CHUNK) this.ex.subtract(this.planeAt + 4 * i, bAt + 4 * i, sAt + 4 * i, Math.min(CHUNK, npx - i));
    let fAt = sAt;
    if (ker) {
      fAt = this.alloc(npx * 4);
      const kAt = this.alloc(ker.length * 8);
      this.f64(kAt, ker.length).set(ker);
      const tmp = this.planeAt; // the plane's copy is the row pass's buffer
      for (let y = 0; y < height; y++) this.ex.convolveRow(sAt, width, y * width, kAt, ker.length, tmp);
      for (let y = 0; y < height; y++) this.ex.convolveCol(tmp, width, height, y, kAt, ker.length, fAt);
    }
    this.plane = null; // overwritten
    let count = 0;
    for (let i = 0; i < npx; i += CHUNK) count = this.ex.above(fAt, nAt, i, Math.min(npx, i + CHUNK), kn, this.planeAt, count);
    const sub = this.f32(sAt, npx);
    return { sub, filt: ker ? this.f32(fAt, npx) : sub, above: this.i32(this.planeAt, count).slice() };
  }

  /**
   * Rectangle interpolation of two meshes (same grid) for LazyPlanes: `prepareRects` computes both meshes' rows over
   * the full width once; `rect` then fills columns x0..x1-1 of rows y0..y1-1 of the two width-wide maps.
   */
  prepareRects(a: Float64Array, b: Float64Array, mw: number, mh: number, x: AxisTables, y: AxisTables): RectInterpolator {
    const width = x.w.length / 4;
    this.interp();
    const ra = this.rows(a, mw, 0, mh - 1, x), rb = this.rows(b, mw, 0, mh - 1, x);
    const [ryAt, wyAt] = this.yTables(y);
    const tile = this.alloc(2 * 64 * 64 * 4);
    return new RectInterpolator(this, this.ex, ra, rb, ryAt, wyAt, width, tile);
  }
}

/** See DetectWasm.prepareRects; tiles of at most 64 x 64 pixels. */
export class RectInterpolator {
  private readonly gen: number;
  constructor(private readonly owner: DetectWasm, private readonly ex: DetectExports, private readonly ra: number, private readonly rb: number, private readonly ryAt: number, private readonly wyAt: number, private readonly width: number, private readonly tile: number) {
    this.gen = owner.gen;
  }

  /** False (nothing filled) when the kernel's layout was reset since (the caller then interpolates in TS). */
  rect(outA: Float32Array, outB: Float32Array, x0: number, y0: number, x1: number, y1: number): boolean {
    if (this.owner.gen !== this.gen) return false;
    const nx = x1 - x0, ny = y1 - y0, w = this.width, t2 = this.tile + nx * ny * 4;
    if (nx > 64 || ny > 64) throw new Error('detect kernel: tile over 64 x 64');
    this.ex.interpCols(this.ra + x0 * 8, w, this.ryAt + y0 * 16, this.wyAt + y0 * 32, ny, nx, this.tile, nx);
    this.ex.interpCols(this.rb + x0 * 8, w, this.ryAt + y0 * 16, this.wyAt + y0 * 32, ny, nx, t2, nx);
    const ta = new Float32Array(this.ex.memory.buffer, this.tile, nx * ny), tb = new Float32Array(this.ex.memory.buffer, t2, nx * ny);
    for (let y = 0, q = 0; y < ny; y++) {
      const o = (y0 + y) * w + x0;
      for (let i = 0; i < nx; i++, q++) { outA[o + i] = ta[q]!; outB[o + i] = tb[q]!; }
    }
    return true;
  }
}
