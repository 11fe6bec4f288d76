/**
 * Row-band streaming: for each channel and band of rows, the N frames' rows are read from disk
 * (`FitsFile.readRows`) into one buffer and integrated, either in-process (workers: 1) or by a
 * piscina pool whose threads share the band and output memory (SharedArrayBuffer). Peak memory is
 * bounded by the budget whatever N: the band height is chosen so that the bands in flight fit.
 * Every pixel is computed independently, so the result does not depend on the band height or on
 * the number of workers (bit-identical).
 */
import { availableParallelism, freemem } from 'node:os';
import { Piscina } from 'piscina';
import type { BandParams } from '../kernels/band.js';
import { integrateBandAuto as integrateBand } from '../kernels/auto.js';
import type { Geometry, OpenFrame } from './frames.js';
import type { BandTask, BandTaskResult } from './worker.js';

export interface EngineInput {
  frames: OpenFrame[];
  geometry: Geometry;
  /** One parameter set per channel. */
  params: BandParams[];
  workers: number;
  memoryBytes: number;
  maps: boolean;
  /** Only rows y0..y1 (exclusive) of every frame (a tile); the output planes then hold just those rows. */
  rows?: [number, number];
}

export interface EngineOutput {
  planes: Float32Array[];
  rejLow: Float32Array[] | null;
  rejHigh: Float32Array[] | null;
  frameLow: Float64Array;
  frameHigh: Float64Array;
  bands: number;
  rowsPerBand: number;
}

/** Default memory budget: a quarter of the free memory, between 64 MB and 512 MB (like Siril's setmem). */
export function defaultMemoryBytes(): number {
  return Math.min(512 << 20, Math.max(64 << 20, Math.floor(freemem() * 0.25)));
}

export function defaultWorkers(): number {
  return Math.max(1, availableParallelism());
}

/** Rows per band for a budget: the bands in flight (workers + 1 being read) must fit. */
export function bandRows(n: number, g: Geometry, workers: number, memoryBytes: number): number {
  const inFlight = workers > 1 ? workers + 1 : 1;
  const perRow = n * g.width * 4;
  let rows = Math.floor(memoryBytes / (inFlight * perRow));
  if (workers > 1) rows = Math.min(rows, Math.ceil(g.height / (workers * 4)));
  return Math.max(1, Math.min(g.height, rows));
}

function workerUrl(): URL {
  const here = import.meta.url;
  return here.endsWith('.ts') ? new URL('./worker.ts', here) : new URL('./worker.js', here);
}

function makePlane(npix: number, shared: boolean): Float32Array {
  return shared ? new Float32Array(new SharedArrayBuffer(npix * 4)) : new Float32Array(npix);
}

export async function runEngine(inp: EngineInput): Promise<EngineOutput> {
  const { frames, geometry: g, params, maps } = inp;
  const n = frames.length;
  const W = g.width;
  const Y0 = inp.rows ? inp.rows[0] : 0;
  const H = inp.rows ? inp.rows[1] : g.height;
  const npixAll = W * (H - Y0);
  const workers = Math.max(1, inp.workers);
  const shared = workers > 1;
  const rows = bandRows(n, { ...g, height: H - Y0 }, workers, inp.memoryBytes);
  const planes: Float32Array[] = [];
  const rejLow: Float32Array[] | null = maps ? [] : null;
  const rejHigh: Float32Array[] | null = maps ? [] : null;
  for (let c = 0; c < g.channels; c++) {
    planes.push(makePlane(npixAll, shared));
    if (maps) {
      rejLow!.push(makePlane(npixAll, shared));
      rejHigh!.push(makePlane(npixAll, shared));
    }
  }
  const frameLow = new Float64Array(n);
  const frameHigh = new Float64Array(n);
  let bands = 0;

  const readBand = (buf: Float32Array, c: number, y0: number, y1: number): number => {
    const npix = (y1 - y0) * W;
    for (let i = 0; i < n; i++) {
      const fr = frames[i]!;
      fr.file.readRows(c, y0, y1, fr.hdu, buf.subarray(i * npix, (i + 1) * npix));
    }
    return npix;
  };

  if (!shared) {
    const buf = new Float32Array(n * rows * W);
    for (let c = 0; c < g.channels; c++) {
      for (let y0 = Y0; y0 < H; y0 += rows) {
        const y1 = Math.min(H, y0 + rows);
        const npix = readBand(buf, c, y0, y1);
        const off = (y0 - Y0) * W;
        integrateBand(buf, npix, params[c]!, {
          out: planes[c]!.subarray(off, off + npix),
          rejLow: rejLow ? rejLow[c]!.subarray(off, off + npix) : null,
          rejHigh: rejHigh ? rejHigh[c]!.subarray(off, off + npix) : null,
          frameLow,
          frameHigh,
        });
        bands++;
      }
    }
    return { planes, rejLow, rejHigh, frameLow, frameHigh, bands, rowsPerBand: rows };
  }

  const pool = new Piscina<BandTask, BandTaskResult>({
    filename: workerUrl().href,
    minThreads: workers,
    maxThreads: workers,
    idleTimeout: 1000,
  });
  try {
    const free: SharedArrayBuffer[] = [];
    for (let k = 0; k < workers + 1; k++) free.push(new SharedArrayBuffer(n * rows * W * 4));
    const inFlight: Promise<void>[] = [];
    const pending = new Set<Promise<void>>();
    let failure: unknown = null;
    for (let c = 0; c < g.channels; c++) {
      for (let y0 = Y0; y0 < H; y0 += rows) {
        while (free.length === 0) {
          await Promise.race(pending);
          if (failure) throw failure;
        }
        const sab = free.pop()!;
        const y1 = Math.min(H, y0 + rows);
        const npix = readBand(new Float32Array(sab), c, y0, y1);
        const task: BandTask = {
          data: sab,
          npix,
          params: params[c]!,
          out: planes[c]!.buffer as SharedArrayBuffer,
          rejLow: rejLow ? (rejLow[c]!.buffer as SharedArrayBuffer) : null,
          rejHigh: rejHigh ? (rejHigh[c]!.buffer as SharedArrayBuffer) : null,
          offset: (y0 - Y0) * W,
        };
        const p: Promise<void> = pool.run(task).then(
          (r) => {
            for (let i = 0; i < n; i++) {
              frameLow[i] += r.frameLow[i]!;
              frameHigh[i] += r.frameHigh[i]!;
            }
            free.push(sab);
            pending.delete(p);
          },
          (e: unknown) => {
            failure ??= e;
            free.push(sab);
            pending.delete(p);
          },
        );
        pending.add(p);
        inFlight.push(p);
        bands++;
        // let finished tasks hand their buffers back before the next synchronous read
        await new Promise<void>((res) => setImmediate(res));
      }
    }
    await Promise.all(inFlight);
    if (failure) throw failure;
  } finally {
    await pool.destroy();
  }
  return { planes, rejLow, rejHigh, frameLow, frameHigh, bands, rowsPerBand: rows };
}
