/**
 * master: build a master from the night's frames with exactly the settings the plan carries
 * (flats calibrated first with the master named by calibrateWith); store a copy in the library.
 */
import { copyFileSync, mkdirSync, renameSync } from 'node:fs';
import { dirname } from 'node:path';
import { writeMaster, type MasterOptions } from '../../calibrate/index.js';
import type { MasterStep } from '../plan.js';
import { absPath, ensureDir, masterOf, rawInputs, stepWarning, tmpDirOf, type StepEnv, type StepOutput } from './env.js';

/** The master flats are calibrated with: a bias, or a flat-dark (or a dark used as one). */
function flatSubtraction(env: StepEnv, s: MasterStep): Pick<MasterOptions, 'bias' | 'flatDark'> {
  const sub = masterOf(env, s.params.calibrateWith);
  if (s.params.kind !== 'flat' || !sub) return {};
  return s.params.calibrateKind === 'bias' ? { bias: sub } : { flatDark: sub };
}

function storeInLibrary(env: StepEnv, s: MasterStep, dst: string, library: string): void {
  try {
    mkdirSync(dirname(library), { recursive: true });
    const tmp = `${library}.tmp-${process.pid}`;
    copyFileSync(dst, tmp);
    renameSync(tmp, library);
  } catch (e) {
    stepWarning(env, 'LIBRARY_WRITE', `cannot store ${s.outputs[0]} in the library: ${(e as Error).message}`);
  }
}

export async function runMaster(env: StepEnv, s: MasterStep): Promise<StepOutput> {
  const dst = absPath(env, s.outputs[0]!);
  ensureDir(dst);
  // Temp files (calibrated flats) in OUT/.darkroom/tmp, which each run empties at its start.
  const opts: MasterOptions = { ...flatSubtraction(env, s), settings: s.params.settings, workers: env.workers, tmpDir: tmpDirOf(env.plan.out) };
  const r = await writeMaster(s.params.kind, rawInputs(env, s), dst, opts);
  for (const w of r.warnings) stepWarning(env, 'STEP_WARNING', w, s.outputs[0]);
  if (s.params.library) storeInLibrary(env, s, dst, s.params.library);
  return { produced: [s.outputs[0]!], rejected: [], info: { frames: r.count } };
}
