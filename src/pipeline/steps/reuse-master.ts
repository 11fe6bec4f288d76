/** reuse-master: copy a master from the library into OUT/masters (atomically). */
import { copyFileSync, renameSync } from 'node:fs';
import type { ReuseMasterStep } from '../plan.js';
import { absPath, ensureDir, type StepEnv, type StepOutput } from './env.js';

export async function runReuseMaster(env: StepEnv, s: ReuseMasterStep): Promise<StepOutput> {
  const dst = absPath(env, s.outputs[0]!);
  ensureDir(dst);
  const tmp = `${dst}.tmp-${process.pid}`;
  copyFileSync(s.inputs[0]!, tmp);
  renameSync(tmp, dst);
  return { produced: [s.outputs[0]!], rejected: [], info: { source: s.inputs[0] } };
}
