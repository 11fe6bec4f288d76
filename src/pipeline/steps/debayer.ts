/** debayer: each calibrated one-shot-colour frame to RGB with the plan's method. */
import { readFits, writeFits } from '../../fits/index.js';
import { debayerImage, requireCfa, DEBAYER_METHODS } from '../../color/index.js';
import { VERSION } from '../../version.js';
import type { DebayerStep } from '../plan.js';
import { oneOf } from '../option-error.js';
import { absPath, ensureDir, liveInputs, type StepEnv, type StepOutput, type StepPart } from './env.js';

export async function runDebayer(env: StepEnv, s: DebayerStep, part?: StepPart): Promise<StepOutput> {
  const only = part?.frames ? new Set(part.frames) : undefined;
  // The plan is JSON read back from disk by remote workers: its method is checked again here.
  const method = oneOf('debayer', s.params.method, DEBAYER_METHODS);
  const produced: string[] = [];
  for (const inp of liveInputs(env, s)) {
    const k = s.inputs.indexOf(inp);
    if (only && !only.has(k)) continue;
    const img = readFits(absPath(env, inp));
    const cfa = requireCfa(img.cfa ?? s.params.pattern, 'CFA pattern', absPath(env, inp));
    const rgb = debayerImage(img, cfa, method, absPath(env, inp));
    const dst = s.outputs[k]!;
    ensureDir(absPath(env, dst));
    writeFits(absPath(env, dst), rgb, { bitpix: -32, history: [`darkroom ${VERSION} run: debayer ${method} ${inp}`] });
    produced.push(dst);
  }
  return { produced, rejected: [], info: {} };
}
