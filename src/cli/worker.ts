/**
 * `darkroom worker --redis URL [--concurrency N]`: pull jobs of distributed runs from Redis
 * (BullMQ) and run them. Any number of workers on any number of machines; each must see the run's
 * output folder (and the raw frames) at the same paths as the coordinator.
 *
 * SIGINT/SIGTERM: stop taking jobs and exit after the jobs in hand. If Redis is unreachable (or
 * becomes so while waiting) the jobs in hand cannot report back anyway: they are dropped and the
 * worker exits within a few seconds (exit code 1). A second signal drops them at once. A dropped
 * job runs again on another worker (at once, or once its lock expires where Redis is gone).
 */
import type { Command } from 'commander';
import { DarkroomError } from '../util/errors.js';
import { WORKER_DEFAULTS } from '../pipeline/executors/redis-url.js';

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

const WHY: Record<string, string> = {
  'redis-unreachable': 'Redis is unreachable',
  requested: 'asked twice',
  'close-stuck': 'the queue did not close',
};

export function registerWorker(program: Command): void {
  program
    .command('worker')
    .description('run jobs of distributed runs (darkroom run --executor redis://...) from a Redis queue')
    .requiredOption('--redis <url>', 'Redis URL, e.g. redis://HOST:6379 (?queue=NAME for a queue other than darkroom)')
    .option('--concurrency <n>', 'jobs at once in this process', '1')
    .option('--lock-duration <ms>', 'job lock, renewed every third of it while the job runs: a worker silent this long is presumed dead and its job runs elsewhere', String(WORKER_DEFAULTS.lockDuration))
    .option('--stalled-interval <ms>', 'how often to look for jobs of dead workers', String(WORKER_DEFAULTS.stalledInterval))
    .option('--quiet', 'no log line per job')
    .action(async (o: WorkerCliOpts) => {
      const concurrency = positive('concurrency', o.concurrency);
      const lockDuration = positive('lock-duration', o.lockDuration);
      const stalledInterval = positive('stalled-interval', o.stalledInterval);
      const { parseRedisUrl, startWorker } = await import('../pipeline/executors/index.js');
      const target = parseRedisUrl(o.redis);
      const say = (line: string): void => void process.stderr.write(`worker ${process.pid}: ${line}\n`);
      const w = startWorker(target, { concurrency, lockDuration, stalledInterval, log: o.quiet ? undefined : say });
      await w.waitUntilReady();
      say(`ready on ${target.connection.host}:${target.connection.port} queue ${target.queue} (concurrency ${concurrency})`);
      const res = await new Promise<Awaited<ReturnType<typeof w.stop>>>((resolve) => {
        let signalled = false;
        const onSignal = (): void => {
          if (signalled) return void w.abandon().then(resolve);
          signalled = true;
          say(w.active > 0 ? `stopping after ${w.active} job(s) in hand (signal again to drop them)` : 'stopping');
          void w.stop().then(resolve);
        };
        process.on('SIGINT', onSignal);
        process.on('SIGTERM', onSignal);
      });
      if (res.forced) {
        say(`stopped: ${WHY[res.forced]}; ${res.abandoned ? `abandoned ${res.abandoned} job(s) in hand (they run again on another worker)` : 'no job in hand'}`);
        process.exitCode = 1;
      } else say('stopped');
      // Whatever a dropped connection or job leaves pending must not keep the process alive.
      setTimeout(() => process.exit(), 1000).unref();
    });
}
