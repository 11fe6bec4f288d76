/**
 * Centering on a target, as N.I.N.A.'s "slew and center" and Ekos' "slew to target" do: slew,
 * expose, plate solve, and when the solved centre is farther from the target than the tolerance,
 * sync the mount at the solved position and slew again; at most `maxIterations` exposures.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Camera } from '../devices/types.js';
import { writeFits } from '../fits/index.js';
import { separationDeg } from '../session/coords.js';
import { solveFile, type SolveOptions } from '../solve/index.js';
import { DarkroomError, isDarkroomError } from '../util/errors.js';

/** A mount that can slew and sync (J2000 degrees). */
export interface GotoMount {
  slewTo(ra: number, dec: number): Promise<void>;
  syncTo(ra: number, dec: number): Promise<void>;
  /** Where the mount says it points. */
  position(): Promise<{ ra: number; dec: number }>;
}

export interface CenterOptions {
  /** Centred when the solved centre is within this many arcsec of the target (default 30). */
  tolerance?: number;
  /** Most exposures (default 5). */
  maxIterations?: number;
  /** Exposure of each centering frame, s (default 5), and its binning (default 2). */
  exposure?: number;
  binning?: number;
  /** Focal length, mm (the scale hint with the frame's XPIXSZ); without it the solve has no scale hint. */
  focalLength?: number;
  /** Options of each solve (default: search within 2 degrees of the mount's position). */
  solve?: Partial<SolveOptions>;
}

export interface CenterStep {
  iteration: number;
  /** The mount's position before the exposure, and the solved centre of the frame (degrees). */
  mount: { ra: number; dec: number };
  solved: { ra: number; dec: number };
  /** Distance of the solved centre from the target, arcsec. */
  error: number;
  /** Whether the mount was synced and slewed again after this frame. */
  synced: boolean;
}

export interface CenterResult {
  centered: boolean;
  /** Final distance from the target, arcsec. */
  error: number;
  steps: CenterStep[];
}

export const CENTER_TOLERANCE = 30;

/** Slew to the target and center it; throws a DarkroomError when a frame cannot be solved. */
export async function centerOn(dev: { camera: Camera; mount: GotoMount }, target: { ra: number; dec: number }, o: CenterOptions = {}, onStep?: (s: CenterStep) => void): Promise<CenterResult> {
  const tol = o.tolerance ?? CENTER_TOLERANCE;
  const max = o.maxIterations ?? 5;
  if (!(tol > 0)) throw new DarkroomError('BAD_ARGUMENT', `centering tolerance must be > 0 arcsec (got ${tol})`);
  if (!(Number.isInteger(max) && max >= 1)) throw new DarkroomError('BAD_ARGUMENT', `centering iterations must be a whole number >= 1 (got ${max})`);
  const dir = mkdtempSync(join(tmpdir(), 'darkroom-center-'));
  const steps: CenterStep[] = [];
  try {
    await dev.camera.setBinning(o.binning ?? 2, o.binning ?? 2);
    await dev.mount.slewTo(target.ra, target.dec);
    for (let i = 1; i <= max; i++) {
      const mount = await dev.mount.position();
      await dev.camera.startExposure({ duration: o.exposure ?? 5, type: 'light' });
      const img = await dev.camera.download();
      img.header.set('RA', mount.ra, '[deg] mount RA', { float: true });
      img.header.set('DEC', mount.dec, '[deg] mount Dec', { float: true });
      if (o.focalLength !== undefined) img.header.set('FOCALLEN', o.focalLength, '[mm] focal length', { float: true });
      const file = join(dir, `center-${i}.fits`);
      writeFits(file, img, { bitpix: 16, stamp: false });
      let r;
      try {
        r = await solveFile(file, { radius: 2, ...o.solve });
      } catch (e) {
        if (isDarkroomError(e)) throw new DarkroomError(e.code, `centering frame ${i}: ${e.message}`);
        throw e;
      }
      const solved = { ra: r.ra, dec: r.dec };
      const error = separationDeg(solved.ra, solved.dec, target.ra, target.dec) * 3600;
      const done = error <= tol;
      const step: CenterStep = { iteration: i, mount, solved, error, synced: !done && i < max };
      steps.push(step);
      onStep?.(step);
      if (done) return { centered: true, error, steps };
      if (i < max) {
        await dev.mount.syncTo(solved.ra, solved.dec);
        await dev.mount.slewTo(target.ra, target.dec);
      }
    }
    return { centered: false, error: steps[steps.length - 1]!.error, steps };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
