/**
 * The scheduler of a run: steps in dependency order (each once), fresh ones reused, the others
 * sent to an Executor, stamped and recorded in the manifest; a failed step (a user error) fails the
 * steps built on it, not the run. Progress goes out as structured events (events.ts).
 *
 * Steps run through an `Executor` (src/pipeline/executors/): the local one runs them here, in
 * order; the BullMQ one sends them (split into per-frame and per-tile jobs) to workers on other
 * machines.
 */
import { isDarkroomError } from '../util/errors.js';
import type { WarningEvent } from '../util/warnings.js';
import type { StepEvent, StepEventType } from './events.js';
import { claimFiles, recordFiles, saveManifest, type Manifest } from './manifest.js';
import type { PlanStep } from './plan.js';
import { makeFresh, makeHashOf, upstreamIds, writeStamp, type Stamp } from './stamps.js';
import { isIntermediate, runPlanStep } from './steps/index.js';
import type { StepEnv, StepOutput } from './steps/env.js';

/** Runs one step whose dependencies are done (stamped in OUT/.darkroom/steps). */
export interface Executor {
  readonly name: string;
  /** Independent branches of the DAG may run at the same time. */
  readonly concurrent: boolean;
  /** Run step `s` (content hash `hash`); user errors are thrown as DarkroomError. */
  runStep(env: StepEnv, s: PlanStep, hash: string): Promise<StepOutput>;
  close(): Promise<void>;
}

export const localExecutor: Executor = {
  name: 'local',
  concurrent: false,
  runStep: (env, s) => runPlanStep(env, s),
  close: async () => undefined,
};

/** Why a step did not produce anything. */
export interface Failure {
  /** The step's own error, or `not run: DEP failed: ...`. */
  message: string;
  /** The error of the step that failed by itself (this one or one upstream). */
  root: string;
  /** Set when the step did not run because this dependency failed. */
  dependency?: string;
}

export interface StepStatus {
  id: string;
  status: 'done' | 'reused' | 'failed';
  seconds: number;
}

/** What a run accumulates: stamps of finished steps, failures, warnings, timing per kind, statuses in order. */
export interface RunState {
  results: Map<string, Stamp>;
  failed: Map<string, Failure>;
  warnings: WarningEvent[];
  timing: Record<string, number>;
  statuses: StepStatus[];
}

export function newRunState(warnings: WarningEvent[]): RunState {
  return { results: new Map(), failed: new Map(), warnings: [...warnings], timing: {}, statuses: [] };
}

export interface SchedulerParts {
  env: StepEnv;
  executor: Executor;
  manifest: Manifest;
  rs: RunState;
  onEvent: (e: StepEvent) => void;
}

export class Scheduler {
  private readonly running = new Map<string, Promise<Stamp | undefined>>();
  private readonly hashOf: (s: PlanStep) => string;
  private readonly fresh: (s: PlanStep) => Stamp | undefined;
  private readonly upstream: (id: string) => string[];
  private readonly total: number;
  private finished = 0;

  constructor(private readonly c: SchedulerParts) {
    const { plan, producer } = c.env;
    this.hashOf = makeHashOf(plan, producer);
    this.fresh = makeFresh(c.env, c.rs.results, this.hashOf, plan.options.force);
    this.upstream = upstreamIds(c.env);
    this.total = plan.steps.filter((s) => s.kind !== 'report').length;
  }

  /** Run a step (after its dependencies); undefined when it or a dependency failed with a user error. */
  run(s: PlanStep): Promise<Stamp | undefined> {
    let r = this.running.get(s.id);
    if (!r) {
      r = this.runOnce(s);
      this.running.set(s.id, r);
    }
    return r;
  }

  /** Pull these steps (and whatever they need): side by side when the executor runs remotely. */
  async runAll(steps: PlanStep[]): Promise<void> {
    if (this.c.executor.concurrent) await Promise.all(steps.map((s) => this.run(s)));
    else for (const s of steps) await this.run(s);
  }

  private emit(type: StepEventType, s: PlanStep, extra: Partial<StepEvent> = {}): void {
    const index = type === 'step-start' ? this.finished + 1 : ++this.finished;
    this.c.onEvent({ type, id: s.id, kind: s.kind, index, total: this.total, ...extra });
  }

  private async runOnce(s: PlanStep): Promise<Stamp | undefined> {
    const { results, failed, statuses } = this.c.rs;
    const done = results.get(s.id);
    if (done) return done;
    if (failed.has(s.id)) return undefined;
    const f = this.fresh(s);
    if (f) {
      results.set(s.id, f);
      statuses.push({ id: s.id, status: 'reused', seconds: 0 });
      this.emit('step-reused', s);
      return f;
    }
    const depFailure = await this.runDeps(s);
    if (depFailure) return this.fail(s, depFailure, 0);
    return this.execute(s);
  }

  /** Run the dependencies of a step; the failure to record when one of them failed. */
  private async runDeps(s: PlanStep): Promise<Failure | undefined> {
    const { env, executor, rs } = this.c;
    // Dependencies: one after the other here; side by side when the executor runs remotely.
    if (executor.concurrent) await Promise.all(s.deps.map((d) => this.run(env.steps.get(d)!)));
    for (const d of s.deps) {
      if (await this.run(env.steps.get(d)!)) continue;
      const root = rs.failed.get(d)!.root;
      return { message: `not run: ${d} failed: ${root}`, root, dependency: d };
    }
    return undefined;
  }

  private async execute(s: PlanStep): Promise<Stamp | undefined> {
    const { env, executor, manifest, rs } = this.c;
    const out = env.plan.out;
    const t = Date.now();
    this.emit('step-start', s, { inputs: s.inputs.length });
    // Claim the outputs that do not exist yet: Darkroom's, whatever happens to this step.
    claimFiles(out, manifest, s.id, s.outputs, isIntermediate(s));
    saveManifest(out, manifest);
    let st: StepOutput;
    try {
      // the step's warnings name it (and go out as they are raised, through the run's warn)
      st = await executor.runStep({ ...env, warn: (w) => env.warn(w, s.id) }, s, this.hashOf(s));
    } catch (e) {
      recordFiles(out, manifest, s.outputs, {});
      saveManifest(out, manifest);
      if (!isDarkroomError(e)) throw e;
      env.warn({ code: 'STEP_FAILED', message: `${s.id} failed: ${e.oneLine()}` }, s.id);
      return this.fail(s, { message: e.oneLine(), root: e.oneLine() }, (Date.now() - t) / 1000);
    }
    const seconds = (Date.now() - t) / 1000;
    const stamp = writeStamp(env, manifest, s, st, { hash: this.hashOf(s), upstream: this.upstream(s.id), results: rs.results, seconds });
    rs.results.set(s.id, stamp);
    rs.statuses.push({ id: s.id, status: 'done', seconds });
    rs.timing[s.kind] = (rs.timing[s.kind] ?? 0) + seconds;
    this.emit('step-done', s, { seconds });
    return stamp;
  }

  private fail(s: PlanStep, failure: Failure, seconds: number): undefined {
    this.c.rs.failed.set(s.id, failure);
    this.c.rs.statuses.push({ id: s.id, status: 'failed', seconds });
    this.emit('step-failed', s, { seconds, message: failure.message, ...(failure.dependency ? { dependency: failure.dependency } : {}) });
    return undefined;
  }
}
