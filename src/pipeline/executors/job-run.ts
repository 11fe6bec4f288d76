/**
 * One job of a distributed run, as a worker runs it: the job's data (plan path, step id, frames or
 * rows) in, a JSON result out. No BullMQ and no Redis here: a worker runs this in a job thread
 * (job-thread.ts) so that its main thread stays free to renew the job's lock, and whatever Redis
 * has to say (an assembly job's tile results) is read before and passed in.
 */
import { hostname } from 'node:os';
import { existsSync, readFileSync } from 'node:fs';

import type { IntegrateStep, Plan, PlanStep } from '../plan.js';
import { readStampFile } from '../stamps.js';
import { makeStepEnv, runPlanStep, type StepOutput } from '../steps/index.js';
import type { WarningEvent } from '../../util/warnings.js';
import { DarkroomError, isDarkroomError, type ErrorCode } from '../../util/errors.js';
import { FsStorage, type Storage } from './storage.js';
import { integrateAssemble, integratePrep, integrateTile, type PrepResult, type TileResult } from './tiles.js';
import { withStackWcs } from '../steps/solve.js';

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
  warnings: WarningEvent[];
  error?: { code: ErrorCode; message: string; file?: string };
  worker: string;
  seconds: number;
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

/** Prep and assembly jobs belong to integrate steps. */
function integrateStep(s: PlanStep): IntegrateStep {
  if (s.kind !== 'integrate') throw new Error(`step ${s.id} is not an integrate step`);
  return s;
}

/**
 * Fault-injection aids for tests and demos: hold every job DARKROOM_WORKER_HOLD_MS before working on
 * it (asynchronously), then keep the thread busy DARKROOM_WORKER_BUSY_MS (synchronously, as a
 * CPU-bound step does).
 */
async function injectedDelay(): Promise<void> {
  const hold = Number(process.env.DARKROOM_WORKER_HOLD_MS ?? 0);
  if (hold > 0) await new Promise((r) => setTimeout(r, hold));
  const busy = Number(process.env.DARKROOM_WORKER_BUSY_MS ?? 0);
  for (const end = Date.now() + busy; Date.now() < end; );
}

/**
 * Run one job. `children` are an assembly job's tile results (from Redis). User errors come back as
 * a result (not retried); crashes throw (the queue retries the job).
 */
export async function runJob(d: JobData, children: Record<string, JobResult> = {}, storageFor: (plan: Plan) => Storage = (p) => new FsStorage(p.out)): Promise<JobResult> {
  const t0 = Date.now();
  const warnings: WarningEvent[] = [];
  const worker = `${hostname()}:${process.pid}`;
  await injectedDelay();
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
        res.prep = integratePrep(env, integrateStep(s), storage, d.dir!);
        break;
      case 'tile':
        res.tile = await integrateTile(storage, d.prep!, d.rows![0], d.rows![1], d.dir!);
        break;
      case 'assemble': {
        const tiles = Object.values(children).map((v) => {
          if (v.error) throw new DarkroomError(v.error.code, v.error.message, v.error.file);
          return v.tile!;
        });
        res.output = await withStackWcs(env, integrateStep(s), integrateAssemble(env, integrateStep(s), storage, d.prep!, tiles));
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
