/**
 * calibrate: each light minus its dark (optimized, plain or none) and bias, divided by its flat,
 * plus the pedestal; cosmetic correction when asked. A frame that cannot be calibrated is left
 * out (rejected), not fatal. A part of the step does only some of its frames.
 */
import { readFits, writeFits } from '../../fits/index.js';
import { calibrateLight, darkIsClamped, detectDefects, repairDefects, type DarkMode, type Master } from '../../calibrate/index.js';
import { isDarkroomError } from '../../util/errors.js';
import { VERSION } from '../../version.js';
import type { CalibrateStep } from '../plan.js';
import { absPath, ensureDir, masterOf, rawInputs, stepWarning, type Rejection, type StepEnv, type StepOutput, type StepPart } from './env.js';

interface Masters {
  bias?: Master;
  dark?: Master;
  flat?: Master;
  darkMode: DarkMode;
}

/** The step's masters; dark optimization falls back to a plain dark when the dark is not above the bias. */
function mastersOf(env: StepEnv, s: CalibrateStep): Masters {
  const p = s.params;
  const m: Masters = { bias: masterOf(env, p.bias), dark: masterOf(env, p.dark), flat: masterOf(env, p.flat), darkMode: p.darkMode === 'optimize' ? 'optimize' : 'plain' };
  if (m.darkMode === 'optimize' && m.bias && m.dark) {
    const c = darkIsClamped(m.bias, m.dark);
    if (c.clamped) {
      m.darkMode = 'plain';
      stepWarning(env, 'DARK_NOT_SCALED', `${s.id}: master dark mean ${c.darkMean.toFixed(2)} is not above master bias mean ${c.biasMean.toFixed(2)} (dark-darker-than-bias): dark used without scaling`);
    }
  }
  return m;
}

function calibrateFrame(env: StepEnv, s: CalibrateStep, m: Masters, lp: string, dst: string): Record<string, unknown> {
  const img = readFits(lp);
  const r = calibrateLight(img, lp, { bias: m.dark && m.darkMode === 'plain' ? undefined : m.bias, dark: m.dark, flat: m.flat, darkMode: m.dark ? m.darkMode : undefined, pedestal: s.params.pedestal });
  if (s.params.cosmetic) {
    const cfa = !!r.image.cfa;
    for (const plane of r.image.data) repairDefects(plane, detectDefects(plane, r.image.width, r.image.height, { cfa }), { cfa });
    r.history.push('cosmetic correction: hot/cold pixels detected and repaired');
  }
  for (const w of r.report.warnings) stepWarning(env, 'STEP_WARNING', w, lp);
  const path = absPath(env, dst);
  ensureDir(path);
  writeFits(path, r.image, { bitpix: -32, history: [`darkroom ${VERSION} run: calibrated ${lp}`, ...r.history] });
  return { path: lp, mode: r.report.mode, k0: r.report.k0, noise: r.report.noise };
}

export async function runCalibrate(env: StepEnv, s: CalibrateStep, part?: StepPart): Promise<StepOutput> {
  const only = part?.frames ? new Set(part.frames) : undefined;
  const m = mastersOf(env, s);
  const produced: string[] = [];
  const rejected: Rejection[] = [];
  const frames: unknown[] = [];
  rawInputs(env, s).forEach((lp, i) => {
    if (only && !only.has(i)) return;
    try {
      frames.push(calibrateFrame(env, s, m, lp, s.outputs[i]!));
      produced.push(s.outputs[i]!);
    } catch (e) {
      if (!isDarkroomError(e)) throw e;
      rejected.push({ path: lp, reason: `calibration failed: ${e.message}` });
    }
  });
  return { produced, rejected, info: { frames } };
}
