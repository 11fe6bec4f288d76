/**
 * Execution of a plan: prepares OUT, runs the steps through the scheduler (scheduler.ts) with an
 * executor (local by default), writes report.json and report.html (report.ts) and removes the
 * intermediates. The steps themselves live in steps/<kind>.ts, their stamps and the reuse
 * decision in stamps.ts. Inputs are never modified; every output is written to a temp name and
 * renamed.
 *
 * Safety of OUT: a run is refused when OUT is the night, inside it, or when the night lies in a
 * folder of OUT (src/pipeline/safety.ts). Darkroom records the files and folders it creates in
 * OUT/.darkroom/manifest.json (src/pipeline/manifest.ts) and deletes only those, file by file (the
 * intermediates at the end of a run; a folder only when empty and its own). Temp files live in
 * OUT/.darkroom/tmp, emptied at the start of each run.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Plan } from './plan.js';
import { checkRunPaths, OUTPUT_DIRS, topDirs } from './safety.js';
import { claimDirs, loadManifest, removeRecorded, saveManifest, type Manifest } from './manifest.js';
import { DarkroomError } from '../util/errors.js';
import type { WarningEvent } from '../util/warnings.js';
import { runEventLine, type RunEvent } from './events.js';
import { buildRunReport, writeReportFiles, type RunReport } from './report.js';
import { localExecutor, newRunState, Scheduler, type Executor, type RunState } from './scheduler.js';
import { stampPath } from './stamps.js';
import { isIntermediate } from './steps/index.js';
import { makeStepEnv, tmpDirOf } from './steps/env.js';
import { withRunPool } from './run-pool.js';

export type { RunReport } from './report.js';
export { localExecutor, type Executor } from './scheduler.js';
export { readStampFile, stampName, type Stamp } from './stamps.js';
export { integrateInputs, integrateOptions, makeStepEnv, mergeParts, runPlanStep, tmpDirOf, writeStack, type StepEnv, type StepOutput, type StepPart } from './steps/index.js';
export { runEventLine, stepEventLine, warningOf, type RunEvent, type StepEvent, type WarningRunEvent } from './events.js';

export interface ExecuteOptions {
  /**
   * Structured progress: step started, done, reused, failed; and each warning raised while the run
   * goes ('warning', with its step), as it is raised (the plan's own warnings are not repeated: they
   * are the plan's, known before the run).
   */
  onEvent?: (e: RunEvent) => void;
  /** Plain lines made from the events (runEventLine), then the report's path: for logs and pipes. */
  log?: (line: string) => void;
  /** Integration workers (default: the integrate module's choice). */
  workers?: number;
  /** Where the steps run (default: here, in order). */
  executor?: Executor;
}

/**
 * Before a run: refuse unsafe folders (OUT == night, OUT inside the night, the night inside a folder
 * the plan writes), empty Darkroom's temp folder (leftovers of a killed run), and record in the
 * manifest the folders of OUT the plan will create (those that do not exist yet).
 */
export function prepareOut(plan: Plan): Manifest {
  const out = plan.out;
  const outputs = plan.steps.flatMap((s) => s.outputs);
  checkRunPaths(plan.night, out, { library: plan.options.library, dirs: [...new Set([...OUTPUT_DIRS, ...topDirs(outputs)])] });
  mkdirSync(join(out, '.darkroom', 'steps'), { recursive: true });
  rmSync(tmpDirOf(out), { recursive: true, force: true });
  mkdirSync(tmpDirOf(out), { recursive: true });
  const m = loadManifest(out);
  claimDirs(out, m, outputs);
  saveManifest(out, m);
  return m;
}

/** End of a run without keepIntermediates: Darkroom's intermediate files go, one by one, from the manifest; their stamps too. */
function removeIntermediates(plan: Plan, m: Manifest, warn: (w: WarningEvent) => void): void {
  removeRecorded(plan.out, m, (_rel, e) => !!e.intermediate, (message) => warn({ code: 'OUTPUT_KEPT', message }));
  for (const s of plan.steps) if (isIntermediate(s)) rmSync(stampPath(plan.out, s.id), { force: true });
}

/** The error of a run that made no stack: the first step that failed by itself. */
function noStackError(plan: Plan, rs: RunState): DarkroomError {
  const first = [...rs.failed.entries()].filter(([, f]) => !f.dependency).map(([id, f]) => `${id}: ${f.message}`)[0] ?? 'every step failed';
  return new DarkroomError('TOO_FEW', `no stack could be made (see ${join(plan.out, 'report.json')}): ${first}`, plan.night);
}

/** The final outputs (masters, stacks, previews): intermediates run only when something downstream must be recomputed. */
const FINAL_KINDS: ReadonlySet<string> = new Set(['master', 'reuse-master', 'integrate', 'preview']);

export async function executePlan(plan: Plan, opts: ExecuteOptions = {}): Promise<RunReport> {
  const t0 = Date.now();
  const manifest = prepareOut(plan);
  const rs = newRunState(plan.warningEvents ?? plan.warnings.map((message) => ({ code: 'STEP_WARNING' as const, message })));
  const onEvent = (e: RunEvent): void => {
    opts.onEvent?.(e);
    opts.log?.(runEventLine(e));
  };
  // a warning goes to the report and out at once (the scheduler gives each step a warn that names it)
  const warn = (w: WarningEvent, step?: string): void => {
    rs.warnings.push(w);
    onEvent({ ...w, type: 'warning', ...(step ? { step } : {}) });
  };
  const env = makeStepEnv(plan, (id) => rs.results.get(id), warn, opts.workers);
  const scheduler = new Scheduler({ env, executor: opts.executor ?? localExecutor, manifest, rs, onEvent });
  // one thread pool for the run's steps (here, in order): threads start and load the code once
  const steps = plan.steps.filter((s) => FINAL_KINDS.has(s.kind));
  if (opts.executor && opts.executor !== localExecutor) await scheduler.runAll(steps);
  else await withRunPool(opts.workers, () => scheduler.runAll(steps));

  for (const st of plan.stacks) if (!rs.results.has(st.step)) warn({ code: 'STACK_NOT_PRODUCED', message: `${st.path} not produced: ${rs.failed.get(st.step)?.message ?? 'not run'}` });
  if (!plan.options.keepIntermediates) removeIntermediates(plan, manifest, warn);
  const report = buildRunReport(plan, rs);
  report.timing_s.total = Number(((Date.now() - t0) / 1000).toFixed(3));
  writeReportFiles(plan.out, manifest, report, plan);
  saveManifest(plan.out, manifest);
  opts.log?.(`report: ${join(plan.out, 'report.json')} (${report.timing_s.total.toFixed(1)} s)`);
  if (plan.stacks.length > 0 && report.stacks.length === 0) throw noStackError(plan, rs);
  return report;
}
