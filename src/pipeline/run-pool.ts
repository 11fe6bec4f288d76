/**
 * One thread pool for a whole local run (util/frame-pool.ts withSharedPool): the drivers whose
 * worker modules run-worker.ts re-exports take their threads from it instead of starting their
 * own for each step, so threads start, load the code and warm up once per run.
 */
import { availableParallelism } from 'node:os';
import { withSharedPool, workerModule } from '../util/frame-pool.js';

const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
const SERVED = ['../calibrate/files-worker', '../calibrate/masters-worker', '../integrate/worker', '../register/frame-worker'].map((m) => new URL(`${m}${ext}`, import.meta.url));

/** Run `fn` (the steps of a run) with the run's shared pool of `workers` threads (default: the CPU count). */
export function withRunPool<T>(workers: number | undefined, fn: () => Promise<T>): Promise<T> {
  return withSharedPool(workerModule(import.meta.url, 'run-worker'), SERVED, workers ?? availableParallelism(), fn);
}
