/**
 * Row-band streaming: for each channel and band of rows, the N frames' rows are read from disk
 * (`FitsFile.readRows`) into one buffer and integrated, either in-process (workers: 1) or by a
 * piscina pool whose threads share the band and output memory (SharedArrayBuffer). Peak memory is
 * bounded by the budget whatever N: the band height is chosen so that the bands in flight fit
 * (with a `sink`, each band's output rows too: the result then goes band by band to the sink and
 * no whole plane is held; without one, the whole output planes come on top of the budget).
 * Every pixel is computed independently, so the result does not depend on the band height or on
 * the number of workers (bit-identical).
 */
import { availableParallelism, freemem } from 'node:os';
import { Piscina } from 'piscina';
import type { BandParams } from '../kernels/band.js';
import { integrateBandAuto as integrateBand } from '../kernels/auto.js';
import { DarkroomError } from '../util/errors.js';
import { sharedPool } from '../util/frame-pool.js';
import type { FrameStatsRunner, Geometry, OpenFrame } from './frames.js';
import type { BandTask, BandTaskResult, StatsTask, StatsTaskResult } from './worker.js';

/**
 * Where finished bands go when the output is streamed (to a file) instead of kept as whole planes:
 * called once per band, in any order with a worker pool, with rows y0..y1 (absolute) of channel c.
 * The arrays are reused after the call returns.
 */
export type BandSink = (c: number, y0: number, y1: number, out: Float32Array, rejLow: Float32Array | null, rejHigh: Float32Array | null) => void;

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
  /** Stream the output band by band to this sink; `planes` (and the maps) are then empty. */
  sink?: BandSink;
  /** A pool from `createPool(workers)` to run the bands on (kept open); else one is made for the run (workers > 1). */
  pool?: Piscina;
}

export interface EngineOutput {
  planes: Float32Array[];
  rejLow: Float32Array[] | null;
  rejHigh: Float32Array[] | null;
  frameLow: Float64Array;
  frameHigh: Float64Array;
  bands: number;
  rowsPerBand: number;
  /** Per frame: how many of its values (all channels) were NaN or infinite. */
  nonFinite?: Float64Array;
  /** Pixels (all channels) with no finite value in any weighted frame (NaN in the result). */
  noValue?: number;
}

/** Default memory budget: a quarter of the free memory, between 64 MB and 512 MB (like Siril's setmem). */
export function defaultMemoryBytes(): number {
  return Math.min(512 << 20, Math.max(64 << 20, Math.floor(freemem() * 0.25)));
}

export function defaultWorkers(): number {
  return Math.max(1, availableParallelism());
}

/**
 * Rows per band for a budget: the bands in flight (workers + 1 being read) must fit, each holding
 * the n frames' rows plus `outputs` planes of output rows (streamed output; 0 when the output
 * planes are kept whole).
 */
export function bandRows(n: number, g: Geometry, workers: number, memoryBytes: number, outputs = 0): number {
  const inFlight = workers > 1 ? workers + 1 : 1;
  const perRow = (n + outputs) * g.width * 4;
  let rows = Math.floor(memoryBytes / (inFlight * perRow));
  if (workers > 1) rows = Math.min(rows, Math.ceil(g.height / (workers * 4)));
  return Math.max(1, Math.min(g.height, rows));
}

function workerUrl(): URL {
  const here = import.meta.url;
  return here.endsWith('.ts') ? new URL('./worker.ts', here) : new URL('./worker.js', here);
}

/**
 * The integration's worker pool (`workers` threads, worker.ts): made once, it runs the first
 * pass's per-frame statistics and then the bands. The caller destroys it.
 */
export function createPool(workers: number): Piscina {
  const n = Math.max(1, workers);
  return new Piscina({ filename: workerUrl().href, minThreads: n, maxThreads: n, idleTimeout: 1000 });
}

/** The integration's pool for `workers` threads: the run's shared pool when it serves worker.ts (kept), else a new one (`owned`: release destroys it). */
export function acquirePool(workers: number): { pool: Piscina; release: () => Promise<void> } {
  const sp = sharedPool();
  if (sp?.serves(workerUrl())) return { pool: sp.piscina(), release: async () => undefined };
  const pool = createPool(workers);
  return { pool, release: () => pool.destroy() };
}

/**
 * Runs frame statistics on the pool, one task per frame; each task opens and reads its frame
 * itself with an equal share of the budget, so the `workers` tasks in flight stay within
 * `memoryBytes` (the statistics do not depend on the budget, only how they are read).
 */
export function statsOnPool(pool: Piscina, frames: OpenFrame[], g: Geometry, workers: number): FrameStatsRunner {
  const share = Math.max(1, workers);
  return async (i, req) => {
    const fr = frames[i]!;
    const task: StatsTask = { path: fr.path, hdu: fr.hdu.index, geometry: g, req: { ...req, memoryBytes: Math.floor(req.memoryBytes / share) } };
    const res = (await pool.run(task, { name: 'runStatsTask' })) as StatsTaskResult;
    if ('error' in res) throw new DarkroomError(res.error.code, res.error.message, res.error.file);
    return res.stats;
  };
}

function makePlane(npix: number, shared: boolean): Float32Array {
  return shared ? new Float32Array(new SharedArrayBuffer(npix * 4)) : new Float32Array(npix);
}

/** The output arrays of the engine: whole planes, or (streamed) one band's worth per slot. */
interface OutSet {
  out: Float32Array;
  rejLow: Float32Array | null;
  rejHigh: Float32Array | null;
}

function outSet(npix: number, shared: boolean, maps: boolean): OutSet {
  return { out: makePlane(npix, shared), rejLow: maps ? makePlane(npix, shared) : null, rejHigh: maps ? makePlane(npix, shared) : null };
}

/** Shared state of one engine run. */
interface Run {
  inp: EngineInput;
  n: number;
  W: number;
  Y0: number;
  H: number;
  rows: number;
  /** Whole planes per channel (not streamed). */
  whole: OutSet[] | null;
  frameLow: Float64Array;
  frameHigh: Float64Array;
  nonFinite: Float64Array;
  noValue: Float64Array;
  bands: number;
}

function startRun(inp: EngineInput): Run {
  const { frames, geometry: g, maps } = inp;
  const n = frames.length;
  const Y0 = inp.rows ? inp.rows[0] : 0;
  const H = inp.rows ? inp.rows[1] : g.height;
  const workers = Math.max(1, inp.workers);
  const outputs = inp.sink ? (maps ? 3 : 1) : 0;
  const rows = bandRows(n, { ...g, height: H - Y0 }, workers, inp.memoryBytes, outputs);
  const whole = inp.sink ? null : Array.from({ length: g.channels }, () => outSet(g.width * (H - Y0), workers > 1, maps));
  return { inp, n, W: g.width, Y0, H, rows, whole, frameLow: new Float64Array(n), frameHigh: new Float64Array(n), nonFinite: new Float64Array(n), noValue: new Float64Array(1), bands: 0 };
}

function readBand(r: Run, buf: Float32Array, c: number, y0: number, y1: number): number {
  const npix = (y1 - y0) * r.W;
  for (let i = 0; i < r.n; i++) {
    const fr = r.inp.frames[i]!;
    fr.file.readRows(c, y0, y1, fr.hdu, buf.subarray(i * npix, (i + 1) * npix));
  }
  return npix;
}

/** The slice of a band's output: in the whole planes at the band's offset, or the band set itself. */
function bandView(r: Run, set: OutSet | null, c: number, y0: number, npix: number): OutSet {
  const s = set ?? r.whole![c]!;
  const off = set ? 0 : (y0 - r.Y0) * r.W;
  const v = (a: Float32Array | null): Float32Array | null => (a ? a.subarray(off, off + npix) : null);
  return { out: v(s.out)!, rejLow: v(s.rejLow), rejHigh: v(s.rejHigh) };
}

function finishRun(r: Run): EngineOutput {
  const w = r.whole;
  return {
    planes: w ? w.map((s) => s.out) : [],
    rejLow: w && r.inp.maps ? w.map((s) => s.rejLow!) : null,
    rejHigh: w && r.inp.maps ? w.map((s) => s.rejHigh!) : null,
    frameLow: r.frameLow,
    frameHigh: r.frameHigh,
    bands: r.bands,
    rowsPerBand: r.rows,
    nonFinite: r.nonFinite,
    noValue: r.noValue[0]!,
  };
}

/** Every (channel, y0, y1) band of the run, in order. */
function* bandsOf(r: Run): Generator<[number, number, number]> {
  for (let c = 0; c < r.inp.geometry.channels; c++) {
    for (let y0 = r.Y0; y0 < r.H; y0 += r.rows) yield [c, y0, Math.min(r.H, y0 + r.rows)];
  }
}

function runInProcess(r: Run): void {
  const buf = new Float32Array(r.n * r.rows * r.W);
  const set = r.inp.sink ? outSet(r.rows * r.W, false, r.inp.maps) : null;
  for (const [c, y0, y1] of bandsOf(r)) {
    const npix = readBand(r, buf, c, y0, y1);
    const view = bandView(r, set, c, y0, npix);
    integrateBand(buf, npix, r.inp.params[c]!, { ...view, frameLow: r.frameLow, frameHigh: r.frameHigh, nonFinite: r.nonFinite, noValue: r.noValue });
    r.inp.sink?.(c, y0, y1, view.out, view.rejLow, view.rejHigh);
    r.bands++;
  }
}

export async function runEngine(inp: EngineInput): Promise<EngineOutput> {
  const r = startRun(inp);
  if (Math.max(1, inp.workers) === 1) runInProcess(r);
  else await runPool(r);
  return finishRun(r);
}

/** A buffer slot of the pool: the band's input and (streamed) its output. */
interface Slot {
  data: SharedArrayBuffer;
  set: OutSet | null;
}

function addInto(acc: Float64Array, x: Float64Array): void {
  for (let i = 0; i < acc.length; i++) acc[i] += x[i]!;
}

async function runPool(r: Run): Promise<void> {
  const workers = Math.max(1, r.inp.workers);
  const own = r.inp.pool ? null : acquirePool(workers);
  const pool = r.inp.pool ?? own!.pool;
  try {
    const free: Slot[] = [];
    for (let k = 0; k < workers + 1; k++) {
      free.push({ data: new SharedArrayBuffer(r.n * r.rows * r.W * 4), set: r.inp.sink ? outSet(r.rows * r.W, true, r.inp.maps) : null });
    }
    const pending = new Set<Promise<void>>();
    let failure: unknown = null;
    const sab = (a: Float32Array | null): SharedArrayBuffer | null => (a ? (a.buffer as SharedArrayBuffer) : null);
    for (const [c, y0, y1] of bandsOf(r)) {
      while (free.length === 0) {
        await Promise.race(pending);
        if (failure) throw failure;
      }
      const slot = free.pop()!;
      const npix = readBand(r, new Float32Array(slot.data), c, y0, y1);
      const target = slot.set ?? r.whole![c]!;
      const offset = slot.set ? 0 : (y0 - r.Y0) * r.W;
      const task: BandTask = { data: slot.data, npix, params: r.inp.params[c]!, out: sab(target.out)!, rejLow: sab(target.rejLow), rejHigh: sab(target.rejHigh), offset };
      const p: Promise<void> = (pool.run(task, { name: 'runBandTask' }) as Promise<BandTaskResult>).then(
        (res) => {
          addInto(r.frameLow, res.frameLow);
          addInto(r.frameHigh, res.frameHigh);
          addInto(r.nonFinite, res.nonFinite);
          r.noValue[0] += res.noValue;
          if (slot.set) {
            const v = bandView(r, slot.set, c, y0, npix);
            r.inp.sink!(c, y0, y1, v.out, v.rejLow, v.rejHigh);
          }
          free.push(slot);
          pending.delete(p);
        },
        (e: unknown) => {
          failure ??= e;
          free.push(slot);
          pending.delete(p);
        },
      );
      pending.add(p);
      r.bands++;
      // let finished tasks hand their buffers back before the next synchronous read
      await new Promise<void>((res) => setImmediate(res));
    }
    await Promise.all(pending);
    if (failure) throw failure;
  } finally {
    await own?.release();
  }
}
