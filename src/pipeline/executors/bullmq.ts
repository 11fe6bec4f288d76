/**
 * Distributed execution on BullMQ/Redis. The coordinator (`darkroom run --executor redis://...`)
 * keeps walking the plan's DAG (reuse, failures, report: the same code as the local executor) but
 * sends each step to the queue as jobs: calibrate and debayer steps as per-frame jobs, integrate
 * steps as a prep job, then a flow (an assembly job whose children are the row-tile jobs); other
 * steps as one job. Workers (`darkroom worker --redis URL`) on any number of machines pull jobs.
 * Jobs carry the plan's path, step ids, frame indices and row ranges, never pixels; files live in
 * the shared storage (the output folder, seen by every worker at the same path).
 *
 * Fault tolerance: every output is written atomically and every job is idempotent, so a job can
 * run twice. A worker killed mid-job stops renewing its lock (15 s, renewed every 5 s; jobs run in
 * job threads so that a CPU-bound step cannot starve the renewal); another worker's stalled-job
 * check puts the job back and it runs again. Job ids are derived from a run id (kept in
 * OUT/.darkroom/dist/run.json until the run completes, keyed by the plan's content hash), the
 * step id and the step's content hash, so a restarted coordinator finds the jobs already done or
 * in flight instead of adding new ones.
 */
import { createHash, randomBytes } from 'node:crypto';
import { hostname } from 'node:os';

import { FlowProducer, Job, Queue, QueueEvents, Worker, type JobsOptions } from 'bullmq';
import type { Plan, PlanStep } from '../plan.js';
import { mergeParts, type Executor, type StepEnv, type StepOutput } from '../execute.js';
import { DarkroomError } from '../../util/errors.js';
import { FsStorage, type Storage } from './storage.js';
import { tileRanges } from './tiles.js';
import { runJob, type JobData, type JobResult } from './job-run.js';
import { JobThreads } from './job-threads.js';
import { WORKER_DEFAULTS, type RedisTarget } from './redis-url.js';

export type { JobData, JobOp, JobResult } from './job-run.js';
export { WORKER_DEFAULTS } from './redis-url.js';

export interface RunRecord {
  run: string;
  out: string;
  night: string;
  state: 'running' | 'done' | 'failed';
  steps: number;
  stepsDone: number;
  jobsAdded: number;
  jobsDone: number;
  current: string[];
  started: string;
  updated: string;
}

export const runsKey = (queue: string): string => `darkroom:${queue}:runs`;

const JOB_OPTS: JobsOptions = {
  attempts: 5,
  backoff: { type: 'fixed', delay: 500 },
  removeOnComplete: { age: 7 * 86400 },
  removeOnFail: { age: 7 * 86400 },
};

const safe = (s: string): string => s.replace(/[^A-Za-z0-9._-]+/g, '_');

export interface BullmqExecutorOptions {
  /** Rows per integration tile (default: the image height / 16, at least 16 rows). */
  tileRows?: number;
  /** Frames per calibrate/debayer job (default 1). */
  framesPerJob?: number;
  log?: (line: string) => void;
}

export class BullmqExecutor implements Executor {
  readonly name: string;
  readonly concurrent = true;
  private readonly queue: Queue<JobData, JobResult>;
  private readonly events: QueueEvents;
  private readonly flow: FlowProducer;
  private ready: Promise<void> | null = null;
  private runId = '';
  private planPath = '';
  private record: RunRecord | null = null;
  private readonly current = new Set<string>();

  constructor(
    private readonly target: RedisTarget,
    private readonly opts: BullmqExecutorOptions = {},
  ) {
    this.name = `bullmq ${target.url}`;
    this.queue = new Queue<JobData, JobResult>(target.queue, { connection: target.connection });
    this.events = new QueueEvents(target.queue, { connection: target.connection });
    this.flow = new FlowProducer({ connection: target.connection });
  }

  /** Write the plan to the shared storage and pick the run id (resuming an unfinished run of the same plan). */
  private start(plan: Plan): Promise<void> {
    this.ready ??= (async () => {
      await this.events.waitUntilReady();
      const storage = new FsStorage(plan.out);
      const planHash = createHash('sha1').update(JSON.stringify({ steps: plan.steps, fingerprints: plan.fingerprints, options: plan.options })).digest('hex');
      const runFile = '.darkroom/dist/run.json';
      let run: { run: string; plan: string } | undefined;
      if (storage.exists(runFile) && !plan.options.force) {
        try {
          run = JSON.parse(storage.read(runFile).toString('utf8')) as { run: string; plan: string };
        } catch {
          run = undefined;
        }
      }
      if (!run || run.plan !== planHash) {
        run = { run: randomBytes(6).toString('hex'), plan: planHash };
        storage.write(runFile, [Buffer.from(JSON.stringify(run))]);
        this.opts.log?.(`distributed run ${run.run} on ${this.target.url} (queue ${this.target.queue})`);
      } else this.opts.log?.(`resuming distributed run ${run.run} on ${this.target.url}`);
      this.runId = run.run;
      const key = `.darkroom/dist/plan-${run.run}.json`;
      storage.write(key, [Buffer.from(JSON.stringify(plan))]);
      this.planPath = storage.localPath(key);
      const now = new Date().toISOString();
      this.record = { run: run.run, out: plan.out, night: plan.night, state: 'running', steps: plan.steps.length, stepsDone: 0, jobsAdded: 0, jobsDone: 0, current: [], started: now, updated: now };
      await this.saveRecord();
    })();
    return this.ready;
  }

  private async saveRecord(): Promise<void> {
    if (!this.record) return;
    this.record.updated = new Date().toISOString();
    this.record.current = [...this.current];
    const client = await this.queue.client;
    await client.hset(runsKey(this.target.queue), { [this.record.run]: JSON.stringify(this.record) });
  }

  private async settle(job: Job<JobData, JobResult>): Promise<JobResult> {
    let res: JobResult;
    try {
      res = (await job.waitUntilFinished(this.events)) as JobResult;
    } catch (e) {
      throw new Error(`job ${job.id} (${job.data.op} of ${job.data.step}) failed on the workers: ${(e as Error).message}`);
    }
    if (this.record) {
      this.record.jobsDone++;
      await this.saveRecord();
    }
    if (res.error) throw new DarkroomError(res.error.code, res.error.message, res.error.file);
    return res;
  }

  /** Add a job unless it exists (a restarted coordinator), retry it if it failed, and wait for it. */
  private async job(data: JobData, jobId: string): Promise<JobResult> {
    let job = (await this.queue.getJob(jobId)) as Job<JobData, JobResult> | undefined;
    if (job && (await job.isFailed())) await job.retry();
    if (!job) {
      job = await this.queue.add(data.op, data, { ...JOB_OPTS, jobId });
      if (this.record) this.record.jobsAdded++;
    }
    return this.settle(job);
  }

  async runStep(env: StepEnv, s: PlanStep, hash: string): Promise<StepOutput> {
    await this.start(env.plan);
    this.current.add(s.id);
    await this.saveRecord();
    const base = `${this.runId}-${safe(s.id)}-${hash.slice(0, 12)}`;
    const seen = new Set<string>();
    const warn = (ws: JobResult['warnings']): void => {
      for (const w of ws) if (!seen.has(JSON.stringify(w))) (seen.add(JSON.stringify(w)), env.warn(w));
    };
    const common = { plan: this.planPath, step: s.id };
    try {
      let output: StepOutput;
      if (s.kind === 'calibrate' || s.kind === 'debayer') {
        const n = s.outputs.length;
        const per = this.opts.framesPerJob ?? this.target.framesPerJob ?? 1;
        const parts: number[][] = [];
        for (let i = 0; i < n; i += per) parts.push(Array.from({ length: Math.min(per, n - i) }, (_, k) => i + k));
        const res = await Promise.all(parts.map((frames) => this.job({ ...common, op: 'frames', frames }, `${base}-f${frames[0]}`)));
        for (const r of res) warn(r.warnings);
        output = mergeParts(res.map((r) => r.output!));
      } else if (s.kind === 'integrate' && !s.params.integration?.rejectionMaps) {
        // (a stack with rejection maps is integrated whole by one worker, below: the tiles carry no maps)
        const dir = `.darkroom/dist/${safe(s.id)}-${hash.slice(0, 12)}`;
        const pr = await this.job({ ...common, op: 'prep', dir }, `${base}-prep`);
        warn(pr.warnings);
        const prep = pr.prep!;
        const tileRows = this.opts.tileRows ?? this.target.tileRows ?? Math.max(16, Math.ceil(prep.height / 16));
        const ranges = tileRanges(prep.height, tileRows);
        const parentId = `${base}-assemble`;
        let parent = (await this.queue.getJob(parentId)) as Job<JobData, JobResult> | undefined;
        if (parent && (await parent.isFailed())) await parent.retry();
        if (!parent) {
          const node = await this.flow.add({
            name: 'assemble',
            queueName: this.target.queue,
            data: { ...common, op: 'assemble', prep: prep.key, dir },
            opts: { ...JOB_OPTS, jobId: parentId },
            children: ranges.map(([y0, y1]) => ({
              name: 'tile',
              queueName: this.target.queue,
              data: { ...common, op: 'tile', prep: prep.key, dir, rows: [y0, y1] },
              opts: { ...JOB_OPTS, jobId: `${base}-t${y0}`, failParentOnFailure: true },
            })),
          });
          parent = node.job as Job<JobData, JobResult>;
          if (this.record) this.record.jobsAdded += ranges.length + 1;
        }
        const res = await this.settle(parent);
        if (this.record) this.record.jobsDone += ranges.length;
        warn(res.warnings);
        output = res.output!;
      } else {
        const res = await this.job({ ...common, op: 'step' }, base);
        warn(res.warnings);
        output = res.output!;
      }
      if (this.record) this.record.stepsDone++;
      return output;
    } finally {
      this.current.delete(s.id);
      await this.saveRecord();
    }
  }

  /** The run finished: mark it done, drop the resume marker and the scratch files (tiles). */
  async complete(ok: boolean): Promise<void> {
    if (!this.ready || !this.record) return;
    this.record.state = ok ? 'done' : 'failed';
    await this.saveRecord();
    if (ok) {
      const storage = new FsStorage(this.record.out);
      for (const d of ['.darkroom/dist']) storage.remove(d);
    }
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.flow.close(), this.events.close(), this.queue.close()]);
  }
}

/** Tile results of an assembly job (read from Redis before the job goes to its thread). */
async function childrenOf(job: Job<JobData, JobResult>): Promise<Record<string, JobResult>> {
  return job.data.op === 'assemble' ? job.getChildrenValues<JobResult>() : {};
}

/** Run one job in this thread (a worker runs it in a job thread: see JobWorker). */
export async function processJob(job: Job<JobData, JobResult>, storageFor?: (plan: Plan) => Storage): Promise<JobResult> {
  return runJob(job.data, await childrenOf(job), storageFor);
}

export interface WorkerOptions {
  concurrency?: number;
  /** Lock of an active job (ms); a worker that stops renewing it for this long is presumed dead. */
  lockDuration?: number;
  /** How often the lock of a job in hand is renewed (ms; default a third of lockDuration). */
  lockRenewTime?: number;
  /** How often stalled jobs are looked for (ms). */
  stalledInterval?: number;
  log?: (line: string) => void;
}

/** Why a stop did not wait for the jobs in hand. */
export type ForcedStop = 'redis-unreachable' | 'requested' | 'close-stuck';

export interface StopResult {
  /**
   * Jobs in hand that were dropped. Each runs again on another worker: at once where Redis still took
   * the failure of the attempt, else once its lock expires.
   */
  abandoned: number;
  forced?: ForcedStop;
}

/** How long Redis may be unreachable, and a close with no job in hand may take, before a stop stops waiting (ms). */
const STOP_WAIT = { redisDown: 1000, idleClose: 5000, poll: 250, forceClose: 2000 } as const;

async function within(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([p.catch(() => undefined), new Promise<void>((r) => (timer = setTimeout(r, ms)))]);
  clearTimeout(timer);
}

function describeJob(job: Job<JobData, JobResult>): string {
  const d = job.data;
  return `${job.id} ${d.op} ${d.step}${d.frames ? ` frames ${d.frames.join(',')}` : ''}${d.rows ? ` rows ${d.rows[0]}-${d.rows[1]}` : ''}`;
}

/**
 * A worker process's BullMQ worker. Jobs run in job threads (JobThreads), so the main thread's event
 * loop always renews the locks. stop() waits for the jobs in hand while Redis answers, and stops
 * waiting (dropping them) when Redis is unreachable, when abandon() is called, or when a close with no
 * job in hand hangs; it settles within a few seconds of that.
 */
export class JobWorker {
  readonly worker: Worker<JobData, JobResult>;
  private readonly threads: JobThreads;
  private client: { status: string } | null = null;
  private stopping: Promise<StopResult> | null = null;
  private dropped = false;
  private closeStarted = false;
  private requestForce: () => void = () => undefined;
  private readonly forceRequested = new Promise<ForcedStop>((r) => (this.requestForce = () => r('requested')));

  constructor(target: RedisTarget, o: WorkerOptions = {}) {
    const lockDuration = o.lockDuration ?? WORKER_DEFAULTS.lockDuration;
    this.threads = new JobThreads(o.concurrency ?? 1);
    this.worker = new Worker<JobData, JobResult>(target.queue, async (job) => this.threads.run(job.data, await childrenOf(job)), {
      connection: target.connection,
      concurrency: o.concurrency ?? 1,
      lockDuration,
      lockRenewTime: o.lockRenewTime ?? Math.max(1, Math.floor(lockDuration / 3)),
      stalledInterval: o.stalledInterval ?? WORKER_DEFAULTS.stalledInterval,
      maxStalledCount: 5,
      name: `${hostname()}:${process.pid}`,
    });
    const log = o.log;
    if (log) {
      this.worker.on('active', (job) => log(`start ${describeJob(job)}`));
      this.worker.on('completed', (job, r) => log(`done ${job.id} in ${r.seconds.toFixed(2)} s${r.error ? ` (error: ${r.error.message})` : ''}`));
      this.worker.on('failed', (job, e) => this.dropped || log(`failed ${job?.id ?? '?'}: ${e.message}`));
    }
    this.worker.on('error', (e) => this.dropped || process.stderr.write(`darkroom worker: ${e.message}\n`));
  }

  /** Connected to Redis; the job threads start loading the step code meanwhile. */
  async waitUntilReady(): Promise<void> {
    await this.worker.waitUntilReady();
    this.client = await this.worker.client;
    this.threads.warm();
  }

  /** Jobs in hand. */
  get active(): number {
    return this.threads.active;
  }

  private redisReady(): boolean {
    return this.client?.status === 'ready';
  }

  /** Stop taking jobs and close, after the jobs in hand when Redis answers (see the class). Idempotent. */
  stop(): Promise<StopResult> {
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  /** Stop now: drop the jobs in hand (see StopResult). */
  abandon(): Promise<StopResult> {
    this.requestForce();
    return this.stop();
  }

  private async shutdown(): Promise<StopResult> {
    if (!this.redisReady()) return this.drop('redis-unreachable');
    const watch = this.watch();
    this.closeStarted = true;
    const closed = this.worker.close().then(
      () => 'closed' as const,
      () => 'closed' as const,
    );
    const first = await Promise.race([closed, watch.reason, this.forceRequested]);
    watch.cancel();
    if (first === 'closed') {
      await this.threads.close();
      return { abandoned: 0 };
    }
    return this.drop(first);
  }

  /** Resolves when a graceful close should stop waiting: Redis unreachable, or no job in hand and still closing. */
  private watch(): { reason: Promise<ForcedStop>; cancel: () => void } {
    const t0 = Date.now();
    let downSince: number | undefined;
    let timer: NodeJS.Timeout | undefined;
    const reason = new Promise<ForcedStop>((resolve) => {
      timer = setInterval(() => {
        const now = Date.now();
        downSince = this.redisReady() ? undefined : (downSince ?? now);
        if (downSince !== undefined && now - downSince >= STOP_WAIT.redisDown) resolve('redis-unreachable');
        else if (this.threads.active === 0 && now - t0 >= STOP_WAIT.idleClose) resolve('close-stuck');
      }, STOP_WAIT.poll);
    });
    return { reason, cancel: () => clearInterval(timer) };
  }

  /**
   * Drop the jobs in hand (their threads stopped: each attempt fails) and the connections, without
   * waiting on Redis for more than a moment.
   */
  private async drop(forced: ForcedStop): Promise<StopResult> {
    this.dropped = true;
    const abandoned = await this.threads.close();
    // A graceful close already under way is the one close(true) returns: no use waiting long for it.
    await within(this.worker.close(true), this.closeStarted ? STOP_WAIT.poll : STOP_WAIT.forceClose);
    return { abandoned, forced };
  }
}

export function startWorker(target: RedisTarget, o: WorkerOptions = {}): JobWorker {
  return new JobWorker(target, o);
}
