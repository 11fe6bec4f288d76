/**
 * The job threads of a worker process (a piscina pool, one thread per job in hand, kept from job to
 * job so each keeps its cache of plans). Jobs run off the main thread so that a step that keeps the
 * CPU busy for minutes (star detection and matching of big frames, a synchronous prep) cannot starve
 * the BullMQ lock renewal that runs on the main thread's event loop: with a 15 s lock, an event loop
 * blocked for longer would let the lock expire and the job would run twice.
 */
import { Piscina } from 'piscina';
import type { JobData, JobResult } from './job-run.js';
import type { JobRequest } from './job-thread.js';

function threadUrl(): URL {
  const here = import.meta.url;
  return here.endsWith('.ts') ? new URL('./job-thread.ts', here) : new URL('./job-thread.js', here);
}

export class JobThreads {
  private pool: Piscina<JobRequest, JobResult> | null = null;
  private inHand = 0;
  private closed = false;

  constructor(private readonly threads: number) {}

  /** Jobs in hand. */
  get active(): number {
    return this.inHand;
  }

  /** Start the threads ahead of the first jobs (loading the step code takes a moment). */
  warm(): void {
    if (!this.closed) this.pool ??= new Piscina<JobRequest, JobResult>({ filename: threadUrl().href, minThreads: this.threads, maxThreads: this.threads, idleTimeout: Infinity });
  }

  /** Run a job in a thread; rejects if the job crashed or its thread died (the queue retries it). */
  async run(data: JobData, children?: Record<string, JobResult>): Promise<JobResult> {
    if (this.closed) throw new Error('the worker is stopping');
    this.warm();
    this.inHand++;
    try {
      return await this.pool!.run({ data, children });
    } finally {
      this.inHand--;
    }
  }

  /** Stop every thread, the busy ones too (their jobs are dropped); returns how many jobs were in hand. */
  async close(): Promise<number> {
    this.closed = true;
    const dropped = this.inHand;
    await this.pool?.destroy();
    this.pool = null;
    return dropped;
  }
}
