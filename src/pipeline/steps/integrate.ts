/**
 * integrate: the frames upstream steps produced, combined with the plan's rejection,
 * normalization and weights into the stack (keywords and HISTORY of what was integrated). The
 * distributed executor integrates by row tiles with the same options and writes with writeStack.
 */
import { basename, relative } from 'node:path';
import { readFitsHeader, type FitsHeader } from '../../fits/index.js';
import { frameMeta } from '../../session/metadata.js';
import { integrateToFile, runIntegration, writeIntegration, type IntegrateOptions, type IntegrateResult } from '../../integrate/index.js';
import { DarkroomError } from '../../util/errors.js';
import { warningLine } from '../../util/warnings.js';
import { VERSION } from '../../version.js';
import type { IntegrateStep } from '../plan.js';
import { withStackWcs } from './solve.js';
import { absPath, ensureDir, liveInputs, rawOf, rejectedUpstream, stepWarning, type Rejection, type StepEnv, type StepOutput } from './env.js';

/** The frames an integrate step combines (those upstream steps produced) and the ones they left out. */
export function integrateInputs(env: StepEnv, s: IntegrateStep): { inputs: string[]; rejected: Rejection[] } {
  const inputs = liveInputs(env, s).map((p) => absPath(env, p));
  const rejected = rejectedUpstream(env, s);
  if (inputs.length === 0) throw new DarkroomError('TOO_FEW', `every frame was rejected (${rejected.map((r) => `${basename(r.path)}: ${r.reason}`).join('; ')})`);
  return { inputs, rejected };
}

/** Integration options of an integrate step. */
export function integrateOptions(s: IntegrateStep, workers?: number): Partial<IntegrateOptions> {
  const p = s.params;
  const chosen = runIntegration({ reject: p.rejection, normalize: p.normalization, weights: p.weights, integration: p.integration });
  return { ...chosen, ...(workers ? { workers } : {}) };
}

/** Total exposure of the frames actually integrated (registration may have left some out). */
function totalExposure(inputs: string[]): number {
  return Number(inputs.reduce((t, p) => t + (frameMeta(readFitsHeader(p).header, p).exposure ?? 0), 0).toFixed(3));
}

/** The registration reference of the stack (the raw light), when it was registered. */
function referenceOf(env: StepEnv, s: IntegrateStep): string | undefined {
  const regStep = s.deps.map((d) => env.steps.get(d)!).find((d) => d.kind === 'register');
  const ref = regStep ? env.result(regStep.id)?.info.reference : undefined;
  return typeof ref === 'string' ? ref : undefined;
}

/** The keywords and HISTORY of a run's stack, set in place; returns the total exposure. */
function stampStack(env: StepEnv, s: IntegrateStep, inputs: string[], h: FitsHeader, history: string[]): number {
  const stack = env.plan.stacks.find((x) => x.step === s.id)!;
  h.set('OBJECT', stack.object);
  h.set('FILTER', stack.filter);
  const exposure = totalExposure(inputs);
  h.set('NCOMBINE', inputs.length, 'frames integrated');
  h.set('EXPTIME', exposure, '[s] total exposure of the integrated frames', { float: true });
  h.set('IMAGETYP', 'Master Light');
  history.unshift(`darkroom ${VERSION} run: ${s.reason}`);
  return exposure;
}

/** Write an integrate step's stack (keywords, HISTORY) and return the step's output. */
export function writeStack(env: StepEnv, s: IntegrateStep, r: IntegrateResult): StepOutput {
  const { inputs, rejected } = integrateInputs(env, s);
  // Registered frames are NaN outside the reference's field by construction: not worth a warning each.
  const registered = s.deps.some((d) => env.steps.get(d)?.kind === 'register');
  const expected = new Set(registered ? (r.events ?? []).filter((e) => e.code === 'NON_FINITE').map(warningLine) : []);
  for (const w of r.warnings) if (!expected.has(w)) stepWarning(env, 'STEP_WARNING', w, s.outputs[0]);
  const exposure = stampStack(env, s, inputs, r.image.header, r.history);
  const dst = absPath(env, s.outputs[0]!);
  ensureDir(dst);
  // the stack, then its rejection maps when the step asks for them (outputs 1 and 2)
  const written = writeIntegration(r, dst).length;
  const zeroW = r.frames.filter((f) => !(f.weight > 0)).map((f) => ({ path: rawOf(env, relative(env.plan.out, f.path)), reason: 'integration: zero weight' }));
  return { produced: s.outputs.slice(0, written), rejected: zeroW, info: { noise: r.noise, frames: inputs.length, exposure, rejectedUpstream: rejected, reference: referenceOf(env, s) } };
}

/**
 * The local executor streams the stack to its files by row bands (integrateToFile: the frames are
 * never all in memory, nor the result), with the keywords and HISTORY writeStack gives it.
 */
export async function runIntegrate(env: StepEnv, s: IntegrateStep): Promise<StepOutput> {
  const { inputs, rejected } = integrateInputs(env, s);
  const dst = absPath(env, s.outputs[0]!);
  ensureDir(dst);
  let exposure = 0;
  const r = await integrateToFile(inputs, dst, integrateOptions(s, env.workers), (h, history) => void (exposure = stampStack(env, s, inputs, h, history)));
  const registered = s.deps.some((d) => env.steps.get(d)?.kind === 'register');
  const expected = new Set(registered ? (r.events ?? []).filter((e) => e.code === 'NON_FINITE').map(warningLine) : []);
  for (const w of r.warnings) if (!expected.has(w)) stepWarning(env, 'STEP_WARNING', w, s.outputs[0]);
  const zeroW = r.frames.filter((f) => !(f.weight > 0)).map((f) => ({ path: rawOf(env, relative(env.plan.out, f.path)), reason: 'integration: zero weight' }));
  const out = { produced: s.outputs.slice(0, r.files.length), rejected: zeroW, info: { noise: r.noise, frames: inputs.length, exposure, rejectedUpstream: rejected, reference: referenceOf(env, s) } };
  // the stack's WCS (steps/solve.ts), written before the step's stamp records the file
  return withStackWcs(env, s, out);
}
