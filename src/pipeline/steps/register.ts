/**
 * register: registerFiles (register/files.ts, the driver the CLI uses): stars of every frame first
 * (one frame in memory at a time), the reference (the plan's raw light, else the frame with the most
 * stars), then each frame resampled onto it, with its REG* keywords and HISTORY. A frame that does
 * not register is left out (rejected).
 */
import { registerFiles } from '../../register/files.js';
import { DarkroomError } from '../../util/errors.js';
import { VERSION } from '../../version.js';
import type { RegisterStep } from '../plan.js';
import { absPath, liveInputs, rawOf, type Rejection, type StepEnv, type StepOutput } from './env.js';

const AS_REJECTION = new Set(['FRAME_LEFT_OUT', 'FRAME_UNREADABLE']);

export async function runRegister(env: StepEnv, s: RegisterStep): Promise<StepOutput> {
  const inputs = liveInputs(env, s);
  if (inputs.length === 0) throw new DarkroomError('TOO_FEW', 'no calibrated frames to register');
  const abs = inputs.map((x) => absPath(env, x));
  const planned = new Map(abs.map((a, i) => [a, inputs[i]!]));
  const raw = (a: string): string => rawOf(env, planned.get(a) ?? a);
  const outputs = inputs.map((x) => s.outputs[s.inputs.indexOf(x)]!);
  const r = await registerFiles(abs, outputs.map((o) => absPath(env, o)), {
    reference: s.params.reference, sourceOf: raw, referenceNotFound: 'auto',
    drizzle: s.params.drizzle ?? 1, interp: s.params.interp ?? 'lanczos3', workers: env.workers,
    historyHead: (f, ref) => [`darkroom ${VERSION} run: registered ${planned.get(f)} onto ${planned.get(ref) ?? ref}`],
  }, { onWarning: (w) => !AS_REJECTION.has(w.code) && env.warn(w) });
  const produced: string[] = [];
  const rejected: Rejection[] = [];
  const frames: unknown[] = [];
  r.frames.forEach((f, i) => {
    if (!f.ok) return void rejected.push({ path: raw(abs[i]!), reason: `registration: ${f.reason}` });
    produced.push(outputs[i]!);
    frames.push({ path: raw(abs[i]!), stars: f.stars, shift: { dx: f.dx, dy: f.dy, rotation: f.rotation, scale: f.scale, mirrored: f.mirrored } });
  });
  return { produced, rejected, info: { reference: raw(r.reference), frames } };
}
