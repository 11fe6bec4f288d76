/** debayer: each calibrated one-shot-colour frame to RGB with the plan's method (color/files.ts, the driver the CLI uses). */
import { DEBAYER_METHODS } from '../../color/index.js';
import { debayerFiles } from '../../color/files.js';
import { VERSION } from '../../version.js';
import type { DebayerStep } from '../plan.js';
import { oneOf } from '../option-error.js';
import { absPath, liveInputs, type StepEnv, type StepOutput, type StepPart } from './env.js';

export async function runDebayer(env: StepEnv, s: DebayerStep, part?: StepPart): Promise<StepOutput> {
  const only = part?.frames ? new Set(part.frames) : undefined;
  // The plan is JSON read back from disk by remote workers: its method is checked again here.
  const method = oneOf('debayer', s.params.method, DEBAYER_METHODS);
  const ks = liveInputs(env, s).map((inp) => s.inputs.indexOf(inp)).filter((k) => !only || only.has(k));
  const inputs = ks.map((k) => absPath(env, s.inputs[k]!));
  const plan = new Map(ks.map((k, j) => [inputs[j]!, s.inputs[k]!]));
  await debayerFiles(inputs, ks.map((k) => absPath(env, s.outputs[k]!)), {
    method, fallbackPattern: s.params.pattern,
    historyHead: (f) => [`darkroom ${VERSION} run: debayer ${method} ${plan.get(f)}`],
  }, { onWarning: env.warn });
  return { produced: ks.map((k) => s.outputs[k]!), rejected: [], info: {} };
}
