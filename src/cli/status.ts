/**
 * `darkroom status --redis URL [--json]`: progress of distributed runs: the runs the coordinators
 * record (steps done, steps in progress), job counts of the queue, and the connected workers.
 */
import type { Command } from 'commander';

export interface StatusReport {
  queue: string;
  counts: Record<string, number>;
  workers: Array<{ name: string; addr: string; age_s: number }>;
  active: Array<{ id: string; op: string; step: string; worker?: string }>;
  runs: Array<Record<string, unknown>>;
}

export function registerStatus(program: Command): void {
  program
    .command('status')
    .description('progress of distributed runs: runs, queued/active/done jobs, workers')
    .requiredOption('--redis <url>', 'Redis URL, e.g. redis://HOST:6379')
    .option('--json', 'print the status as JSON')
    .action(async (o: { redis: string; json?: boolean }) => {
      const { parseRedisUrl, runsKey } = await import('../pipeline/executors/index.js');
      const { Queue } = await import('bullmq');
      const { DarkroomError } = await import('../util/errors.js');
      const target = parseRedisUrl(o.redis);
      // Fail fast when Redis is not there (no reconnect loop).
      const connection = { ...target.connection, maxRetriesPerRequest: 1, retryStrategy: (): null => null } as typeof target.connection;
      const queue = new Queue(target.queue, { connection });
      queue.on('error', () => undefined);
      try {
        let report: StatusReport;
        try {
          const client = await queue.client;
          const [counts, workers, active, runs] = await Promise.all([
            queue.getJobCounts('waiting', 'active', 'completed', 'failed', 'delayed', 'waiting-children', 'prioritized'),
            queue.getWorkers(),
            queue.getActive(),
            client.hgetall(runsKey(target.queue)),
          ]);
          report = {
            queue: target.queue,
            counts,
            workers: workers.map((w) => ({ name: w.name ?? '', addr: w.addr ?? '', age_s: Number(w.age ?? 0) })),
            active: active.map((j) => ({ id: String(j.id), op: String(j.data?.op ?? j.name), step: String(j.data?.step ?? '') })),
            runs: Object.values(runs)
              .map((v) => JSON.parse(v) as Record<string, unknown>)
              .sort((a, b) => String(b.updated).localeCompare(String(a.updated))),
          };
        } catch (e) {
          throw new DarkroomError('IO', `cannot read the queue at ${target.connection.host}:${target.connection.port}: ${(e as Error).message}`);
        }
        if (o.json) {
          process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
          return;
        }
        const c = report.counts;
        process.stdout.write(`queue ${report.queue}: ${c.waiting ?? 0} waiting, ${c.active ?? 0} active, ${c['waiting-children'] ?? 0} waiting for children, ${c.completed ?? 0} completed, ${c.failed ?? 0} failed\n`);
        process.stdout.write(`${report.workers.length} worker(s)${report.workers.length ? `: ${report.workers.map((w) => w.addr || w.name).join(', ')}` : ''}\n`);
        for (const a of report.active) process.stdout.write(`  active ${a.op} ${a.step} (${a.id})\n`);
        for (const r of report.runs.slice(0, 10)) {
          process.stdout.write(`run ${String(r.run)} ${String(r.state)}: ${String(r.stepsDone)} step(s) done, ${String(r.jobsDone)}/${String(r.jobsAdded)} job(s); ${String(r.out)}${(r.current as string[]).length ? `; now ${(r.current as string[]).join(', ')}` : ''}\n`);
        }
      } finally {
        await queue.close().catch(() => undefined);
      }
    });
}
