/**
 * After an integrate step: plate solve the stack itself (astrometry.net's solve-field, hints from the
 * header the stack inherits from the reference: RA/DEC or OBJCTRA/OBJCTDEC, FOCALLEN, XPIXSZ, binning;
 * both a position and a scale hint are needed)
 * and write its TAN WCS into the stack file, a file Darkroom just created (header rewritten, pixels
 * copied byte for byte, temp file + rename). Registered stacks are in the reference's frame, so the WCS
 * is the reference's. Without a position hint, without solve-field or index files, or without a
 * solution the stack is left as it is and the reason goes to report.json (a warning when a solve with
 * hints found nothing). Off with `darkroom run --no-solve`.
 */
import { readFitsHeader } from '../../fits/index.js';
import { SOLVE_DEFAULTS, solveFile, solveHints } from '../../solve/index.js';
import { isDarkroomError } from '../../util/errors.js';
import type { IntegrateStep } from '../plan.js';
import { absPath, stepWarning, type StepEnv, type StepOutput } from './env.js';

/** What report.json says of a stack's WCS: the solution (degrees, arcsec per pixel, degrees), or why there is none. */
export type StackWcs = { ra: number; dec: number; scale: number; rotation: number } | { reason: string };

/** CPU seconds a stack's solve may take (hints make it seconds). */
const STACK_SOLVE_TIMEOUT = 60;

export async function solveStack(env: StepEnv, path: string, file: string): Promise<StackWcs> {
  const hints = solveHints(readFitsHeader(path).header, SOLVE_DEFAULTS);
  // a solve without hints could take minutes, and frames without them are rarely the sky as solved
  if (!hints.position) return { reason: 'no position hint in the header (RA/DEC or OBJCTRA/OBJCTDEC)' };
  if (!hints.scale) return { reason: 'no scale hint in the header (FOCALLEN and XPIXSZ)' };
  try {
    const r = await solveFile(path, { timeout: STACK_SOLVE_TIMEOUT, write: true });
    return { ra: r.ra, dec: r.dec, scale: r.scale, rotation: r.rotation };
  } catch (e) {
    if (!isDarkroomError(e)) throw e;
    if (e.code === 'NO_SOLUTION') stepWarning(env, 'STEP_WARNING', `stack not plate solved: ${e.message}`, file);
    return { reason: e.message };
  }
}

/** An integrate step's output with its stack solved (info.wcs), unless the step says solve: false. */
export async function withStackWcs(env: StepEnv, s: IntegrateStep, out: StepOutput): Promise<StepOutput> {
  if (s.params.solve === false || !out.produced.includes(s.outputs[0]!)) return out;
  const wcs = await solveStack(env, absPath(env, s.outputs[0]!), s.outputs[0]!);
  return { ...out, info: { ...out.info, wcs } };
}
