/** Executors of a plan: local (in this process, the default) or BullMQ on Redis (many machines). */
import { localExecutor, type Executor } from '../scheduler.js';
import { BullmqExecutor, type BullmqExecutorOptions } from './bullmq.js';
import { parseRedisUrl } from './redis-url.js';
import { OptionError } from '../option-error.js';

export { localExecutor, type Executor } from '../scheduler.js';
export { BullmqExecutor, startWorker, processJob, runsKey, type JobData, type JobResult, type RunRecord } from './bullmq.js';
export { FsStorage, type Storage } from './storage.js';
export { parseRedisUrl, type RedisTarget } from './redis-url.js';

/** Check an executor spec before any work (throws the same error executorFromSpec would). */
export function checkExecutorSpec(spec: string | undefined): void {
  if (!spec || spec === 'local') return;
  if (/^rediss?:\/\//.test(spec)) parseRedisUrl(spec);
  else throw new OptionError('BAD_ARGUMENT', 'executor', `must be 'local' or a redis://HOST:PORT URL, got '${spec}'`);
}

/** `local` or `redis://HOST:PORT[?queue=..&tileRows=..]`. */
export function executorFromSpec(spec: string | undefined, opts: BullmqExecutorOptions = {}): Executor | BullmqExecutor {
  if (!spec || spec === 'local') return localExecutor;
  checkExecutorSpec(spec);
  return new BullmqExecutor(parseRedisUrl(spec), opts);
}
