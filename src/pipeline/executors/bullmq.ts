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
 * run twice. A worker killed mid-job stops renewing its lock; another worker's stalled-job check
 * puts the job back and it runs again. Job ids are derived from a run id (kept in
 * OUT/.darkroom/dist/run.json until the run completes, keyed by the plan's content hash), the
 * step id and the step's content hash, so a restarted coordinator finds the jobs already done or
 * in flight instead of adding new ones.
 */
import { createHash, randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { existsSync, readFileSync } from 'node:fs';

import { FlowProducer, Job, Queue, QueueEvents, Worker, type JobsOptions } from 'bullmq';
import type { Plan, PlanStep } from '../plan.js';
import { makeStepEnv, mergeParts, readStampFile, runPlanStep, type Executor, type StepEnv, type StepOutput } from '../execute.js';
import { DarkroomError, isDarkroomError, type ErrorCode } from '../../util/errors.js';
import { FsStorage, type Storage } from './storage.js';
import { integrateAssemble, integratePrep, integrateTile, tileRanges, type PrepResult, type TileResult } from './tiles.js';
import type { RedisTarget } from './redis-url.js';

export type JobOp = 'step' | 'frames' | 'prep' | 'tile' | 'assemble';

export interface JobData {
  /** Absolute path of the plan JSON in the shared storage. */
  plan: string;
  step: string;
  op: JobOp;
  frames?: number[];
  rows?: [number, number];
  /** Storage key of the integration prep (tile, assemble). */
  prep?: string;
  /** Storage folder of the step's scratch files (prep, tiles). */
  dir?: string;
}

export interface JobResult {
  output?: StepOutput;
  prep?: PrepResult;
  tile?: TileResult;
  warnings: string[];
  error?: { code: ErrorCode; message: string; file?: string };
  worker: string;
  seconds: number;
}

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
    const warn = (ws: string[]): void => {
      for (const w of ws) if (!seen.has(w)) (seen.add(w), env.warn(w));
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
      } else if (s.kind === 'integrate') {
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

/** The plan a job refers to (cached per path: a plan file is never rewritten under the same run id). */
const plans = new Map<string, Plan>();
function loadPlan(path: string): Plan {
  let p = plans.get(path);
  if (!p) {
    if (!existsSync(path)) throw new DarkroomError('ENOENT', 'plan not found: is the output folder shared with this worker at the same path?', path);
    p = JSON.parse(readFileSync(path, 'utf8')) as Plan;
    plans.set(path, p);
    if (plans.size > 16) plans.delete(plans.keys().next().value!);
  }
  return p;
}

/** Run one job on a worker. User errors come back as a result (not retried); crashes are retried. */
export async function processJob(job: Job<JobData, JobResult>, storageFor: (plan: Plan) => Storage = (p) => new FsStorage(p.out)): Promise<JobResult> {
  const t0 = Date.now();
  const d = job.data;
  const warnings: string[] = [];
  const worker = `${hostname()}:${process.pid}`;
  // Fault-injection aid for tests and demos: hold every job this long before working on it.
  const hold = Number(process.env.DARKROOM_WORKER_HOLD_MS ?? 0);
  if (hold > 0) await new Promise((r) => setTimeout(r, hold));
  try {
    const plan = loadPlan(d.plan);
    const s = plan.steps.find((x) => x.id === d.step);
    if (!s) throw new Error(`step ${d.step} is not in the plan ${d.plan}`);
    const env = makeStepEnv(plan, (id) => readStampFile(plan.out, id), (w) => warnings.push(w), 1);
    const storage = storageFor(plan);
    const res: JobResult = { warnings, worker, seconds: 0 };
    switch (d.op) {
      case 'step':
        res.output = await runPlanStep(env, s);
        break;
      case 'frames':
        res.output = await runPlanStep(env, s, { frames: d.frames ?? [] });
        break;
      case 'prep':
        res.prep = integratePrep(env, s, storage, d.dir!);
        break;
      case 'tile':
        res.tile = await integrateTile(storage, d.prep!, d.rows![0], d.rows![1], d.dir!);
        break;
      case 'assemble': {
        const values = await job.getChildrenValues<JobResult>();
        const tiles = Object.values(values).map((v) => {
          if (v.error) throw new DarkroomError(v.error.code, v.error.message, v.error.file);
          return v.tile!;
        });
        res.output = integrateAssemble(env, s, storage, d.prep!, tiles);
        break;
      }
    }
    res.seconds = (Date.now() - t0) / 1000;
    return res;
  } catch (e) {
    if (!isDarkroomError(e)) throw e;
    return { warnings, worker, seconds: (Date.now() - t0) / 1000, error: { code: e.code, message: e.message, file: e.file } };
  }
}

export interface WorkerOptions {
  concurrency?: number;
  /** Lock of an active job (ms); a worker that stops renewing it for this long is presumed dead. */
  lockDuration?: number;
  /** How often stalled jobs are looked for (ms). */
  stalledInterval?: number;
  log?: (line: string) => void;
}

export function startWorker(target: RedisTarget, o: WorkerOptions = {}): Worker<JobData, JobResult> {
  const w = new Worker<JobData, JobResult>(target.queue, (job) => processJob(job), {
    connection: target.connection,
    concurrency: o.concurrency ?? 1,
    lockDuration: o.lockDuration ?? 60_000,
    stalledInterval: o.stalledInterval ?? 30_000,
    maxStalledCount: 5,
    name: `${hostname()}:${process.pid}`,
  });
  const log = o.log;
  if (log) {
    w.on('active', (job) => log(`start ${job.id} ${job.data.op} ${job.data.step}${job.data.frames ? ` frames ${job.data.frames.join(',')}` : ''}${job.data.rows ? ` rows ${job.data.rows[0]}-${job.data.rows[1]}` : ''}`));
    w.on('completed', (job, r) => log(`done ${job.id} in ${r.seconds.toFixed(2)} s${r.error ? ` (error: ${r.error.message})` : ''}`));
    w.on('failed', (job, e) => log(`failed ${job?.id ?? '?'}: ${e.message}`));
  }
  w.on('error', (e) => process.stderr.write(`darkroom worker: ${e.message}\n`));
  return w;
}

