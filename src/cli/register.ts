/**
 * `darkroom register FILES -o DIR [--reference auto|FILE] [--model ...] [--interp ...] [--drizzle N --pixfrac F] [--json]`:
 * writes NAME_r.fits with the transform in the header (REGH11..REGH33, frame -> reference) and HISTORY.
 * Frames with no stars or no match are named on one line each and left out; the run continues.
 * `--reject-if RULE` (repeatable) leaves out frames by subframe metrics (see stars/metrics.ts; not an error, exit 0);
 * `--weight-expr EXPR` writes WEIGHT (mean 1) for the integration's keyword:WEIGHT; `--cfa-drizzle` Bayer-drizzles mosaics.
 */
import type { Command } from 'commander';
import { basename, join } from 'node:path';
import { DarkroomError } from '../util/errors.js';
import { warningLine } from '../util/warnings.js';
import { INTERPS, MODELS, registerFiles, type RegisterFilesOptions, type RegisterReportFrame } from '../register/files.js';
import type { Model } from '../register/transform.js';
import type { Interp } from '../register/resample.js';

export type { RegisterReportFrame };

interface Flags {
  out: string;
  reference?: string;
  model?: string;
  interp?: string;
  drizzle?: string;
  pixfrac?: string;
  weightExpr?: string;
  rejectIf?: string[];
  cfaDrizzle?: boolean;
  workers?: string;
  json?: boolean;
}

/** DIR/NAME_r.fits for FILE. */
export function registeredPath(dir: string, file: string): string {
  return join(dir, `${basename(file).replace(/\.(fits?|fts)(\.gz)?$/i, '')}_r.fits`);
}

/** The CLI's flags as the driver's options (a --reference that is none of the frames is read as an external frame). */
export function registerFlags(o: Flags): RegisterFilesOptions {
  const model = (o.model ?? 'homography') as Model;
  if (!MODELS.includes(model)) throw new DarkroomError('BAD_ARGUMENT', `--model must be one of ${MODELS.join(', ')} (got ${o.model})`);
  const interp = (o.interp ?? 'lanczos3') as Interp;
  if (!INTERPS.includes(interp)) throw new DarkroomError('BAD_ARGUMENT', `--interp must be one of ${INTERPS.join(', ')} (got ${o.interp})`);
  const drizzle = o.drizzle === undefined ? 1 : Number(o.drizzle);
  if (![1, 2, 3].includes(drizzle)) throw new DarkroomError('BAD_ARGUMENT', `--drizzle must be 1, 2 or 3 (got ${o.drizzle})`);
  const pixfrac = o.pixfrac === undefined ? 1 : Number(o.pixfrac);
  if (!(pixfrac > 0 && pixfrac <= 1)) throw new DarkroomError('BAD_ARGUMENT', `--pixfrac must be in (0, 1] (got ${o.pixfrac})`);
  const workers = o.workers === undefined ? undefined : Number(o.workers);
  if (workers !== undefined && !(Number.isInteger(workers) && workers >= 1)) throw new DarkroomError('BAD_ARGUMENT', `--workers must be a positive integer (got ${o.workers})`);
  return {
    reference: o.reference ?? 'auto', referenceNotFound: 'file', model, interp, drizzle, pixfrac, workers,
    weightExpr: o.weightExpr, rejectIf: o.rejectIf ?? [], cfaDrizzle: !!o.cfaDrizzle,
  };
}

function frameLine(f: RegisterReportFrame): string {
  if (!f.ok) return `${f.path}: left out (${f.reason})\n`;
  return `${f.path}: ${f.inliers ?? 'reference'} stars, rms ${(f.rms ?? 0).toFixed(3)} px${f.weight !== undefined ? `, weight ${f.weight.toFixed(3)}` : ''} -> ${f.output}\n`;
}

export function registerRegister(program: Command): void {
  program
    .command('register')
    .description('align frames on a reference (asterism matching) and resample or drizzle them')
    .argument('<files...>', 'FITS files')
    .requiredOption('-o, --out <dir>', 'output folder')
    .option('--reference <ref>', 'auto (best frame) or a FITS file', 'auto')
    .option('--model <model>', 'shift, similarity, affine or homography', 'homography')
    .option('--interp <interp>', 'lanczos3, bicubic, bilinear or nearest', 'lanczos3')
    .option('--drizzle <scale>', 'drizzle at 1, 2 or 3 times the resolution')
    .option('--pixfrac <f>', 'drizzle drop size (0-1]', '1')
    .option('--weight-expr <expr>', 'per-frame weight formula, e.g. "1/(fwhm^2 * noise^2)" (written as WEIGHT, mean 1); variables: stars fwhm hfr eccentricity background noise snr and median_*')
    .option('--reject-if <rule>', 'leave out frames for which the rule is true, e.g. "fwhm > 1.5*median_fwhm" (repeatable; and/or/not)', (v: string, prev: string[] = []) => [...prev, v])
    .option('--cfa-drizzle', 'CFA mosaics (BAYERPAT): drizzle each colour pixel into its R, G or B plane, no debayering (scale from --drizzle, default 1)')
    .option('--workers <n>', 'threads for resampling frames above 2 MP (default: the CPU count)')
    .option('--json', 'print a JSON report')
    .action(async (files: string[], o: Flags) => {
      const r = await registerFiles(files, (f) => registeredPath(o.out, f), registerFlags(o), {
        onWarning: (w) => process.stderr.write(`darkroom: ${warningLine(w)}\n`),
      });
      if (o.json) process.stdout.write(`${JSON.stringify({ reference: r.reference, frames: r.frames }, null, 2)}\n`);
      else for (const f of r.frames) process.stdout.write(frameLine(f));
      if (r.frames.some((f) => !f.ok && !f.rejected)) process.exitCode = 2;
    });
}
