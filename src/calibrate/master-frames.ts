/**
 * The frames of a master flat as calibrated (each flat minus the master flat-dark or bias), read
 * straight from the raw files: the master's rows are subtracted as the rows are read, so the
 * calibrated flats are never written to temp files and read back. When all the calibrated flats
 * fit half the memory budget they are held in shared memory: each raw flat is read once, on a
 * worker thread that calibrates it and computes its first-pass statistics, and the bands copy
 * their rows from memory. Otherwise each raw flat is read twice (statistics on the threads, then
 * its rows for the bands), in bounded memory whatever the count (the engine's row bands, one
 * frame per thread for the statistics). The values are those the former temp files held
 * (float32 of raw - master), so the master is bit for bit the same.
 */
import { existsSync } from 'node:fs';
import { Piscina } from 'piscina';
import { FitsFile, readFitsHeader, type Hdu } from '../fits/index.js';
import type { Image } from '../image/image.js';
import { runEngine } from '../integrate/engine.js';
import { frameStatistics, frameStatisticsWith, statsOfFrame, type FrameStats, type FrameStatsRequest, type Geometry, type OneFrameStats, type OpenFrame } from '../integrate/frames.js';
import { defaultMemoryBytes, defaultWorkers, finishIntegration, prepareFromStats, resolveOptions, type IntegrateOptions, type IntegrateResult } from '../integrate/index.js';
import { DarkroomError } from '../util/errors.js';
import { SMALL_FRAME_WORK, sharedPool, workerModule, type TaskResult } from '../util/frame-pool.js';
import { checkMasterCompatible, type Master } from './light.js';
import { shareMaster, sharedMasterOf, type SharedMaster } from './files.js';

/**
 * A raw frame read minus a master (same size, checked by the caller): every row read is raw - master,
 * in float32. With a cache (all planes, one after the other) that `fill` (or another thread, then
 * `markFilled`) has filled, rows are copied from it instead.
 */
export class CalibratedFrameFile extends FitsFile {
  private filled = false;

  constructor(
    path: string,
    private readonly sub: Image | undefined,
    private readonly cache?: Float32Array,
  ) {
    super(path);
  }

  /** Read every plane of the image (minus the master) into the cache: later reads come from it. */
  fill(): void {
    const h = this.imageHdu();
    const { width, height, channels } = this.geometry(h);
    const n = width * height;
    for (let c = 0; c < channels; c++) this.readRows(c, 0, height, h, this.cache!.subarray(c * n, (c + 1) * n));
    this.filled = true;
  }

  /** Whether the frame has a cache. */
  get cached(): boolean {
    return this.cache !== undefined;
  }

  /** The cache's shared memory, for a thread to fill. */
  cacheBuffer(): SharedArrayBuffer | undefined {
    return this.cache?.buffer as SharedArrayBuffer | undefined;
  }

  /** The cache was filled (by `fill` in another thread, on the same memory). */
  markFilled(): void {
    this.filled = true;
  }

  override readRows(plane: number, y0: number, y1: number, hdu?: Hdu, out?: Float32Array): Float32Array {
    if (this.filled) return this.cachedRows(plane, y0, y1, hdu, out);
    const res = super.readRows(plane, y0, y1, hdu, out);
    const s = this.sub?.data[plane];
    if (s) {
      const w = this.sub!.width;
      subtractRows(res, s.subarray(y0 * w, y1 * w));
    }
    return res;
  }

  private cachedRows(plane: number, y0: number, y1: number, hdu?: Hdu, out?: Float32Array): Float32Array {
    const { width, height, channels } = this.geometry(hdu ?? this.imageHdu());
    if (plane < 0 || plane >= channels || y0 < 0 || y1 > height || y1 < y0) throw new RangeError(`readRows(${plane}, ${y0}, ${y1}) outside ${width}x${height}x${channels}`);
    const base = plane * width * height;
    const src = this.cache!.subarray(base + y0 * width, base + y1 * width);
    const res = out ?? new Float32Array(src.length);
    if (res.length < src.length) throw new RangeError('output buffer too small');
    res.set(src);
    return res;
  }
}

/** a[j] -= b[j] in float32 (as the temp files of calibrated flats held them), for the length of b. */
function subtractRows(a: Float32Array, b: Float32Array): void {
  const n = b.length;
  for (let j = 0; j < n; j++) a[j] = a[j]! - b[j]!;
}

/** The header-only image of an opened frame (what checkMasterCompatible looks at: size, binning, gain, CFA). */
function headerImage(file: FitsFile, hdu: Hdu): Image {
  const g = file.geometry(hdu);
  const bayer = hdu.header.getString('BAYERPAT')?.trim().toUpperCase();
  return { ...g, data: [], header: hdu.header, cfa: g.channels === 1 && bayer ? bayer : undefined };
}

interface CalibratedFrame extends OpenFrame {
  file: CalibratedFrameFile;
}

/** Open every flat as calibrated, in order: the first that does not match the master (or the first frame) is the error. */
function openCalibrated(paths: string[], sub: Master | undefined, subRole: string, caches: Float32Array[] | null): { frames: CalibratedFrame[]; geometry: Geometry } {
  const frames: CalibratedFrame[] = [];
  try {
    let g0: Geometry | undefined;
    for (const [i, path] of paths.entries()) {
      const file = new CalibratedFrameFile(path, sub?.image, caches?.[i]);
      const hdu = file.imageHdu();
      frames.push({ path, file, hdu });
      const g = file.geometry(hdu);
      if (sub) checkMasterCompatible(headerImage(file, hdu), path, sub, subRole);
      if (!g0) g0 = g;
      else if (g.width !== g0.width || g.height !== g0.height || g.channels !== g0.channels) {
        throw new DarkroomError('MISMATCH', `frame is ${g.width}x${g.height} with ${g.channels} channel(s); the first frame (${paths[0]}) is ${g0.width}x${g0.height} with ${g0.channels} channel(s)`, path);
      }
    }
    return { frames, geometry: g0! };
  } catch (e) {
    for (const f of frames) f.file.close();
    throw e;
  }
}

/** One flat's first-pass statistics on a worker thread: the flat read minus the shared master. */
export interface CalibratedStatsJob {
  path: string;
  hdu: number;
  sub?: SharedMaster;
  /** The frame's cache (all planes): filled with the calibrated frame before its statistics. */
  cache?: SharedArrayBuffer;
  geometry: Geometry;
  req: FrameStatsRequest;
}

export function calibratedStatsJob(j: CalibratedStatsJob): OneFrameStats {
  const file = new CalibratedFrameFile(j.path, sharedMasterOf(j.sub)?.image, j.cache && new Float32Array(j.cache));
  try {
    if (j.cache) file.fill();
    return statsOfFrame({ path: j.path, file, hdu: file.imageHdu(j.hdu) }, j.geometry, j.req);
  } finally {
    file.close();
  }
}

/** The integration's threads: the run's shared pool when it serves the masters' worker module (which serves the bands too), else a pool of its own. */
function masterPool(workers: number): { pool: Piscina; release: () => Promise<void> } {
  const mod = workerModule(import.meta.url, 'masters-worker');
  const sp = sharedPool();
  // the run's module (pipeline/run-worker.ts) and masters-worker.ts both export the engine's band task
  if (sp?.serves(mod)) return { pool: sp.piscina(), release: async () => undefined };
  const n = Math.max(1, Math.floor(workers));
  const pool = new Piscina({ filename: mod.href, minThreads: n, maxThreads: n, idleTimeout: 1000 });
  return { pool, release: () => pool.destroy() };
}

/**
 * The calibrated frames held in memory when they take at most half of the budget (each frame then
 * read from its file once: calibrated for the first pass, its rows copied for the bands), in
 * shared memory for the threads; null (every read from the raw file, minus the master) otherwise.
 */
function frameCaches(paths: string[], memoryBytes: number): Float32Array[] | null {
  const h = readFitsHeader(paths[0]!);
  const bytes = h.width * h.height * h.channels * 4;
  if (paths.length * bytes > memoryBytes / 2) return null;
  return paths.map(() => new Float32Array(new SharedArrayBuffer(bytes)));
}

/**
 * Integrate flats as calibrated (minus `sub`), as integrateFiles integrates files: the first pass
 * (one task per frame on the threads, the flat read minus the master there), then the bands.
 * Frames held in memory (frameCaches) count against the budget; the bands get the rest.
 */
export async function integrateCalibrated(paths: string[], sub: Master | undefined, subRole: string, opts: Partial<IntegrateOptions>): Promise<IntegrateResult> {
  const o = resolveOptions(opts);
  const budget = o.memory ?? defaultMemoryBytes();
  const caches = frameCaches(paths, budget);
  const { frames, geometry: g } = openCalibrated(paths, sub, subRole, caches);
  const workers = o.workers ?? (frames.length * g.width * g.height * g.channels < SMALL_FRAME_WORK ? 1 : defaultWorkers());
  const own = workers > 1 ? masterPool(workers) : undefined;
  const pool = own?.pool;
  try {
    const memoryBytes = budget - (caches ? caches.length * caches[0]!.byteLength : 0);
    const stats = await firstPass(frames, g, o, memoryBytes, workers, pool, sub);
    const prep = prepareFromStats(frames, g, o, stats);
    const eng = await runEngine({ frames, geometry: g, params: prep.params, workers, memoryBytes, maps: false, pool });
    return finishIntegration(frames, g, o, prep, eng, workers, memoryBytes);
  } finally {
    await own?.release();
    for (const f of frames) f.file.close();
  }
}

/**
 * The first pass: in this thread without a pool (or for a master with no file to share), the
 * caches filled first in frame order; else one task per frame on the pool, which fills the frame's cache.
 */
async function firstPass(frames: CalibratedFrame[], g: Geometry, o: IntegrateOptions, memoryBytes: number, workers: number, pool: Piscina | undefined, sub: Master | undefined): Promise<FrameStats> {
  if (!pool || (sub && !existsSync(sub.path))) {
    for (const f of frames) if (f.file.cached) f.file.fill();
    return frameStatistics(frames, g, o, memoryBytes);
  }
  const shared = shareMaster(sub);
  const share = Math.max(1, workers);
  return frameStatisticsWith(frames, g, o, memoryBytes, async (i, req) => {
    const fr = frames[i]!;
    const job: CalibratedStatsJob = { path: fr.path, hdu: fr.hdu.index, sub: shared, cache: fr.file.cacheBuffer(), geometry: g, req: { ...req, memoryBytes: Math.floor(req.memoryBytes / share) } };
    const r = (await pool.run(job, { name: 'calibratedStatsTask' })) as TaskResult<OneFrameStats>;
    if ('error' in r) throw new DarkroomError(r.error.code, r.error.message, r.error.file);
    if (job.cache) fr.file.markFilled();
    return r.value;
  });
}
