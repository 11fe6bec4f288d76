/**
 * The step registry: each kind of step and the function that runs it (one file per kind). A step
 * is a function of the plan and the stamps of its dependencies, so any process that sees OUT can
 * run it (the local executor here, a distributed worker elsewhere).
 */
import type { PlanStep, StepKind, StepOfKind } from '../plan.js';
import type { StepEnv, StepOutput, StepPart } from './env.js';
import { runReuseMaster } from './reuse-master.js';
import { runMaster } from './master.js';
import { runCalibrate } from './calibrate.js';
import { runDebayer } from './debayer.js';
import { runRegister } from './register.js';
import { runIntegrate } from './integrate.js';
import { runPreview } from './preview.js';
import { runReport } from './report.js';

export type StepRunner<K extends StepKind> = (env: StepEnv, s: StepOfKind<K>, part?: StepPart) => Promise<StepOutput>;

export const STEP_RUNNERS: { readonly [K in StepKind]: StepRunner<K> } = {
  'reuse-master': runReuseMaster,
  master: runMaster,
  calibrate: runCalibrate,
  debayer: runDebayer,
  register: runRegister,
  integrate: runIntegrate,
  preview: runPreview,
  report: runReport,
};

/** Steps whose outputs are intermediates (calibrated, debayered, registered frames). */
export const INTERMEDIATE_KINDS: ReadonlySet<StepKind> = new Set<StepKind>(['calibrate', 'debayer', 'register']);
export const isIntermediate = (s: PlanStep): boolean => INTERMEDIATE_KINDS.has(s.kind);

/**
 * Run one step (or a part of it: some frames of a calibrate/debayer step) from the plan and the
 * stamps of its dependencies. Outputs are written atomically, so running it twice is harmless.
 */
export function runPlanStep(env: StepEnv, s: PlanStep, part?: StepPart): Promise<StepOutput> {
  // The registry pairs each kind with its runner; TypeScript cannot correlate the union by itself.
  const run = STEP_RUNNERS[s.kind] as (env: StepEnv, s: PlanStep, part?: StepPart) => Promise<StepOutput>;
  return run(env, s, part);
}

export { integrateInputs, integrateOptions, writeStack } from './integrate.js';
export { makeStepEnv, mergeParts, tmpDirOf, type Rejection, type StepEnv, type StepOutput, type StepPart } from './env.js';
