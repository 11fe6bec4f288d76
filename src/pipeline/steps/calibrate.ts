/**
 * calibrate: each light minus its dark (optimized, plain or none) and bias, divided by its flat,
 * plus the pedestal; cosmetic correction when asked (calibrate/files.ts, the driver the CLI uses).
 * A frame that cannot be calibrated is left out (rejected), not fatal. A part of the step does only
 * some of its frames.
 */
import { calibrateFiles } from '../../calibrate/files.js';
import { VERSION } from '../../version.js';
import type { CalibrateStep } from '../plan.js';
import { absPath, masterOf, rawInputs, type Rejection, type StepEnv, type StepOutput, type StepPart } from './env.js';

export async function runCalibrate(env: StepEnv, s: CalibrateStep, part?: StepPart): Promise<StepOutput> {
  const p = s.params;
  const only = part?.frames ? new Set(part.frames) : undefined;
  const lights = rawInputs(env, s);
  const ks = lights.map((_, i) => i).filter((i) => !only || only.has(i));
  const r = await calibrateFiles(ks.map((i) => lights[i]!), ks.map((i) => absPath(env, s.outputs[i]!)), {
    bias: masterOf(env, p.bias), dark: masterOf(env, p.dark), flat: masterOf(env, p.flat),
    darkMode: p.darkMode === 'optimize' && p.dark ? 'optimize' : 'plain',
    pedestal: p.pedestal,
    cosmetic: p.cosmetic ? 'each-plane' : undefined,
    historyHead: (lp) => [`darkroom ${VERSION} run: calibrated ${lp}`], workers: env.workers,
  }, { onWarning: (w) => w.code !== 'FRAME_FAILED' && env.warn(w) });
  const produced: string[] = [];
  const rejected: Rejection[] = [];
  const frames: unknown[] = [];
  r.frames.forEach((f, j) => {
    if (f.ok) {
      produced.push(s.outputs[ks[j]!]!);
      frames.push({ path: f.path, mode: f.report.mode, k0: f.report.k0, noise: f.report.noise });
    } else rejected.push({ path: f.path, reason: `calibration failed: ${f.reason}` });
  });
  return { produced, rejected, info: { frames } };
}
