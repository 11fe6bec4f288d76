/** preview: an auto-stretched PNG of a stack. */
import { readFits } from '../../fits/index.js';
import { stretchToPng } from '../../render/stretch.js';
import { writeFileAtomic } from '../../util/atomic.js';
import type { PreviewStep } from '../plan.js';
import { absPath, ensureDir, type StepEnv, type StepOutput } from './env.js';

export async function runPreview(env: StepEnv, s: PreviewStep): Promise<StepOutput> {
  const img = readFits(absPath(env, s.inputs[0]!));
  const dst = absPath(env, s.outputs[0]!);
  ensureDir(dst);
  writeFileAtomic(dst, [stretchToPng(img)]);
  return { produced: [s.outputs[0]!], rejected: [], info: {} };
}
