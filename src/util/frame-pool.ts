/**
 * One task per frame on worker threads (piscina): the file-level drivers (calibrateFiles,
 * registerFiles) read, process and write whole frames in parallel, each thread holding one frame,
 * so memory is bounded by the thread count whatever the frame count. Tasks are plain functions of
 * cloneable arguments, deterministic, so a frame's result is the same on any thread (or on this
 * one: `workers <= 1` runs the same function here, in order). A DarkroomError thrown in a task
 * comes back as a DarkroomError (a class does not survive the thread boundary by itself).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import { readFitsHeader } from '../fits/index.js';
import { DarkroomError, type ErrorCode } from './errors.js';
import { startingTask } from './thread-memory.js';

/** Below this many pixels in all the frames together, starting threads costs more than they save. */
export const SMALL_FRAME_WORK = 1 << 22;

/**
 * Threads for one task per frame over `paths`: `requested` when given (at most one per frame), else
 * the CPU count, or 1 for small work (the first frame's size times the frame count under
 * SMALL_FRAME_WORK, or a first frame whose header cannot be read: its error comes with its task).
 */
export function frameThreads(requested: number | undefined, paths: readonly string[]): number {
  if (requested !== undefined) return Math.max(1, Math.min(Math.floor(requested), paths.length));
  if (paths.length < 2) return 1;
  try {
    const h = readFitsHeader(paths[0]!);
    if (h.width * h.height * h.channels * paths.length < SMALL_FRAME_WORK) return 1;
  } catch {
    return 1;
  }
  return Math.min(availableParallelism(), paths.length);
}

/** What a task sends back: its value, or a DarkroomError's fields. */
export type TaskResult<R> = { value: R } | { error: { code: ErrorCode; message: string; file?: string } };

/** Wrap a task for the worker side: DarkroomErrors become data; a task of another kind releases what the thread held (thread-memory.ts). */
export function asTask<T, R>(fn: (t: T) => R): (t: T) => TaskResult<R> {
  return (t) => {
    startingTask(fn);
    try {
      return { value: fn(t) };
    } catch (e) {
      if (e instanceof DarkroomError) return { error: { code: e.code, message: e.message, file: e.file } };
      throw e;
    }
  };
}

/** The worker module beside `metaUrl` (`name` without extension): .ts when running from source, .js when built. */
export function workerModule(metaUrl: string, name: string): URL {
  return new URL(`./${name}${metaUrl.endsWith('.ts') ? '.ts' : '.js'}`, metaUrl);
}

/**
 * A pool of threads shared by every driver of a run (the pipeline's masters, calibration,
 * registration and integration): its worker module re-exports the named tasks of each driver's
 * worker module (`serves`), so the threads start and load the code once per run, not once per
 * step. Started at the first task; `withSharedPool` destroys it at the end.
 */
export interface SharedPool {
  readonly workers: number;
  /** Whether the shared module exports the tasks of this worker module. */
  serves(module: URL): boolean;
  piscina(): Piscina;
}

const sharedStore = new AsyncLocalStorage<SharedPool>();

/** The shared pool of the run this code runs in (withSharedPool), if any. */
export function sharedPool(): SharedPool | undefined {
  return sharedStore.getStore();
}

/** Run `fn` with a shared pool of `workers` threads running `module`, which exports the tasks of the `served` modules. */
export async function withSharedPool<T>(module: URL, served: readonly URL[], workers: number, fn: () => Promise<T>): Promise<T> {
  const n = Math.max(1, Math.floor(workers));
  const hrefs = new Set(served.map((u) => u.href));
  let pool: Piscina | null = null;
  const sp: SharedPool = {
    workers: n,
    serves: (m) => hrefs.has(m.href),
    piscina: () => (pool ??= new Piscina({ filename: module.href, minThreads: n, maxThreads: n, idleTimeout: 60_000 })),
  };
  try {
    return await sharedStore.run(sp, fn);
  } finally {
    const p = pool as Piscina | null;
    if (p) await p.destroy();
  }
}

export class FramePool {
  private pool: Piscina | null = null;
  private readonly shared: SharedPool | undefined;
  readonly workers: number;
  /**
   * `workers` threads running the named exports of `module` (none are started until the first
   * task); inside a run with a shared pool that serves `module`, its threads instead.
   */
  constructor(private readonly module: URL, workers: number) {
    this.workers = Math.max(1, Math.floor(workers));
    const sp = sharedPool();
    this.shared = sp?.serves(module) ? sp : undefined;
  }

  /** Run the named export of the worker module (wrapped with `asTask`) on a thread. */
  async run<T, R>(name: string, task: T): Promise<R> {
    this.pool ??= this.shared ? this.shared.piscina() : new Piscina({ filename: this.module.href, minThreads: this.workers, maxThreads: this.workers, idleTimeout: 1000 });
    const r = (await this.pool.run(task, { name })) as TaskResult<R>;
    if ('error' in r) throw new DarkroomError(r.error.code, r.error.message, r.error.file);
    return r.value;
  }

  /** Stop the threads (a shared pool's stay for the rest of the run). */
  async close(): Promise<void> {
    const p = this.pool;
    this.pool = null;
    if (p && !this.shared) await p.destroy();
  }
}

/**
 * `fn(i)` for i = 0 .. n - 1, at most `limit` at a time, each result handed to `done(i, r)` in index
 * order (progress and reports keep the input order whatever finishes first). A rejection stops new
 * starts; once the started ones have settled, the results before it are handed on and the rejection
 * of the lowest index is rethrown, as a loop in order would (later frames already started may have
 * finished their work).
 */
export async function inOrder<R>(n: number, limit: number, fn: (i: number) => Promise<R>, done: (i: number, r: R) => void): Promise<void> {
  const results = new Map<number, R>();
  let next = 0, emitted = 0;
  const fail: { first: { i: number; e: unknown } | null } = { first: null };
  const flush = (): void => {
    while (results.has(emitted)) {
      const r = results.get(emitted)!;
      results.delete(emitted);
      done(emitted++, r);
    }
  };
  const lane = async (): Promise<void> => {
    while (next < n && !fail.first) {
      const i = next++;
      try {
        results.set(i, await fn(i));
        flush();
      } catch (e) {
        const f = fail.first as { i: number; e: unknown } | null; // set by another lane meanwhile
        if (!f || i < f.i) fail.first = { i, e };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, n)) }, lane));
  if (fail.first) throw fail.first.e;
}
