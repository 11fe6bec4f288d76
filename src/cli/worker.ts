/**
 * `darkroom worker --redis URL [--concurrency N]`: pull jobs of distributed runs from Redis
 * (BullMQ) and run them. Any number of workers on any number of machines; each must see the run's
 * output folder (and the raw frames) at the same paths as the coordinator. Stops on SIGINT/SIGTERM
 * after the jobs in hand.
 */
import type { Command } from 'commander';
import { DarkroomError } from '../util/errors.js';

interface WorkerCliOpts {
  redis: string;
  concurrency: string;
  lockDuration: string;
  stalledInterval: string;
  quiet?: boolean;
}

function positive(name: string, v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new DarkroomError('BAD_ARGUMENT', `--${name} must be a positive integer, got '${v}'`);
  return n;
}

export function registerWorker(program: Command): void {
  program
    .command('worker')
    .description('run jobs of distributed runs (darkroom run --executor redis://...) from a Redis queue')
    .requiredOption('--redis <url>', 'Redis URL, e.g. redis://HOST:6379 (?queue=NAME for a queue other than darkroom)')
    .option('--concurrency <n>', 'jobs at once in this process', '1')
    .option('--lock-duration <ms>', 'job lock: a worker silent this long is presumed dead and its job runs elsewhere', '60000')
    .option('--stalled-interval <ms>', 'how often to look for jobs of dead workers', '30000')
    .option('--quiet', 'no log line per job')
    .action(async (o: WorkerCliOpts) => {
      const concurrency = positive('concurrency', o.concurrency);
      const lockDuration = positive('lock-duration', o.lockDuration);
      const stalledInterval = positive('stalled-interval', o.stalledInterval);
      const { parseRedisUrl, startWorker } = await import('../pipeline/executors/index.js');
      const target = parseRedisUrl(o.redis);
      const log = o.quiet ? undefined : (line: string): void => void process.stderr.write(`worker ${process.pid}: ${line}\n`);
      const w = startWorker(target, { concurrency, lockDuration, stalledInterval, log });
      await w.waitUntilReady();
      process.stderr.write(`worker ${process.pid}: ready on ${target.connection.host}:${target.connection.port} queue ${target.queue} (concurrency ${concurrency})\n`);
      await new Promise<void>((res) => {
        const stop = (): void => {
          process.stderr.write(`worker ${process.pid}: stopping\n`);
          void w.close().then(res, res);
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    });
}
