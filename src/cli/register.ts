/**
 * `darkroom register FILES -o DIR [--reference auto|FILE] [--model ...] [--interp ...] [--drizzle N --pixfrac F] [--json]`:
 * writes NAME_r.fits with the transform in the header (REGH11..REGH33, frame -> reference) and HISTORY.
 * Frames with no stars or no match are named on one line each and left out; the run continues.
 * `--reject-if RULE` (repeatable) leaves out frames by subframe metrics (see stars/metrics.ts; not an error, exit 0);
 * `--weight-expr EXPR` writes WEIGHT (mean 1) for the integration's keyword:WEIGHT; `--cfa-drizzle` Bayer-drizzles mosaics.
 */
import type { Command } from 'commander';
import { basename, join, resolve } from 'node:path';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { readFits, writeFits } from '../fits/index.js';
import type { Image } from '../image/image.js';
import { DarkroomError, isDarkroomError } from '../util/errors.js';
import { assertOutputsAreNotInputs } from '../util/paths.js';
import { frameStars, frameMetrics, chooseReference, registerToReference, applyRegistrationAsync, type FrameStars, type FrameRegistration } from '../register/register.js';
import { applyRules, frameWeights, parseRule, parseWeightExpr, type FrameMetrics } from '../stars/metrics.js';
import type { Model } from '../register/transform.js';
import { WarpPool, type Interp } from '../register/resample.js';
import { availableParallelism } from 'node:os';

const MODELS = ['shift', 'similarity', 'affine', 'homography'];
const INTERPS = ['lanczos3', 'bicubic', 'bilinear', 'nearest'];

export interface RegisterReportFrame {
  path: string;
  output?: string;
  ok: boolean;
  reason?: string;
  /** Left out by a --reject-if rule (not an error). */
  rejected?: boolean;
  stars: number;
  metrics?: FrameMetrics;
  weight?: number;
  inliers?: number;
  rms?: number;
  dx?: number;
  dy?: number;
  rotation?: number;
  scale?: number;
  mirrored?: boolean;
  transform?: number[];
}

/** DIR/NAME_r.fits for FILE. */
export function registeredPath(dir: string, file: string): string {
  return join(dir, `${basename(file).replace(/\.(fits?|fts)(\.gz)?$/i, '')}_r.fits`);
}

export async function registerStack(files: string[], o: { out: string; reference?: string; model?: string; interp?: string; drizzle?: string; pixfrac?: string; weightExpr?: string; rejectIf?: string[]; cfaDrizzle?: boolean; workers?: string }, warn: (line: string) => void): Promise<{ reference: string; frames: RegisterReportFrame[] }> {
  const model = (o.model ?? 'homography') as Model;
  if (!MODELS.includes(model)) throw new DarkroomError('BAD_ARGUMENT', `--model must be one of ${MODELS.join(', ')} (got ${o.model})`);
  const interp = (o.interp ?? 'lanczos3') as Interp;
  if (!INTERPS.includes(interp)) throw new DarkroomError('BAD_ARGUMENT', `--interp must be one of ${INTERPS.join(', ')} (got ${o.interp})`);
  const drizzle = o.drizzle === undefined ? 1 : Number(o.drizzle);
  if (![1, 2, 3].includes(drizzle)) throw new DarkroomError('BAD_ARGUMENT', `--drizzle must be 1, 2 or 3 (got ${o.drizzle})`);
  const pixfrac = o.pixfrac === undefined ? 1 : Number(o.pixfrac);
  if (!(pixfrac > 0 && pixfrac <= 1)) throw new DarkroomError('BAD_ARGUMENT', `--pixfrac must be in (0, 1] (got ${o.pixfrac})`);
  const workers = o.workers === undefined ? availableParallelism() : Number(o.workers);
  if (!(Number.isInteger(workers) && workers >= 1)) throw new DarkroomError('BAD_ARGUMENT', `--workers must be a positive integer (got ${o.workers})`);
  const rules = o.rejectIf ?? [];
  rules.forEach(parseRule); // syntax errors before any work
  if (o.weightExpr !== undefined) parseWeightExpr(o.weightExpr);
  const reference = o.reference && o.reference !== 'auto' ? [o.reference] : [];
  assertOutputsAreNotInputs(files.map((f) => registeredPath(o.out, f)), [...files, ...reference], files);
  if (existsSync(o.out) && !statSync(o.out).isDirectory()) throw new DarkroomError('BAD_ARGUMENT', 'output is not a folder', o.out);
  mkdirSync(o.out, { recursive: true });
  // Two passes so memory holds one frame at a time: stars and sizes first, then each frame is read
  // again to be resampled.
  const geoms: ({ width: number; height: number } | null)[] = [];
  const fs: FrameStars[] = [];
  const frames: RegisterReportFrame[] = [];
  for (const f of files) {
    try {
      const img = readFits(f);
      geoms.push({ width: img.width, height: img.height });
      fs.push(frameStars(img));
      frames.push({ path: f, ok: true, stars: fs[fs.length - 1]!.stars.length, metrics: frameMetrics(f, fs[fs.length - 1]!) });
    } catch (e) {
      if (!isDarkroomError(e)) throw e;
      warn(e.oneLine());
      geoms.push(null);
      fs.push({ stars: [], medianFwhm: NaN });
      frames.push({ path: f, ok: false, reason: e.message, stars: 0 });
    }
  }
  // rejection rules over the readable frames (medians over that set)
  if (rules.length > 0) {
    const r = applyRules(frames.filter((f) => f.metrics).map((f) => f.metrics!), rules);
    for (const rej of r.rejected) {
      const i = frames.findIndex((f) => f.metrics?.path === rej.path);
      Object.assign(frames[i]!, { ok: false, rejected: true, reason: rej.reason });
      warn(`${rej.path}: ${rej.reason}; left out`);
    }
  }
  const usable = (i: number): boolean => geoms[i] !== null && !frames[i]!.rejected;
  let refIdx: number;
  let refStars: FrameStars;
  let refW: number, refH: number, refName: string;
  if (!o.reference || o.reference === 'auto') {
    refIdx = chooseReference(fs.map((f, i) => (usable(i) ? f : { stars: [], medianFwhm: NaN })));
    if (refIdx < 0) throw new DarkroomError('TOO_FEW', rules.length > 0 ? 'no frame kept by the rejection rules has enough stars to serve as the reference' : 'no frame has enough stars to serve as the reference');
    refStars = fs[refIdx]!;
    refW = geoms[refIdx]!.width; refH = geoms[refIdx]!.height; refName = files[refIdx]!;
  } else {
    refIdx = files.findIndex((f) => resolve(f) === resolve(o.reference!));
    let geom = refIdx >= 0 ? geoms[refIdx] : null;
    if (refIdx >= 0) {
      if (!geom) throw new DarkroomError('BAD_ARGUMENT', 'the reference frame cannot be read', o.reference);
      refStars = fs[refIdx]!;
    } else {
      const img = readFits(o.reference);
      geom = { width: img.width, height: img.height };
      refStars = frameStars(img);
    }
    if (refStars.stars.length < 3) throw new DarkroomError('TOO_FEW', `the reference has too few stars (${refStars.stars.length})`, o.reference);
    refW = geom.width; refH = geom.height; refName = o.reference;
  }
  const matched: { i: number; r: FrameRegistration }[] = [];
  for (let i = 0; i < files.length; i++) {
    if (!usable(i)) continue;
    const r = registerToReference(fs[i]!, refStars, i === refIdx, { model });
    const rep = frames[i]!;
    if (!r.ok) {
      rep.ok = false;
      rep.reason = r.reason;
      warn(`${files[i]}: ${r.reason}; left out`);
      continue;
    }
    matched.push({ i, r });
  }
  // weights over the frames that are written (normalized to mean 1)
  const weights = o.weightExpr !== undefined ? frameWeights(matched.map(({ i }) => frames[i]!.metrics!), o.weightExpr) : null;
  const pool = new WarpPool(workers);
  try {
    for (let k = 0; k < matched.length; k++) {
      const { i, r } = matched[k]!;
      const img = readFits(files[i]!);
      const rep = frames[i]!;
      const cfaDriz = !!o.cfaDrizzle && img.channels === 1 && !!img.cfa;
      const planes = await applyRegistrationAsync(img, r.transform, refW, refH, { model, interp, drizzle, pixfrac, cfaDrizzle: cfaDriz }, pool);
      const outW = Math.round(refW * drizzle), outH = Math.round(refH * drizzle);
      const outImg: Image = { width: outW, height: outH, channels: planes.length, data: planes, header: img.header.clone() };
      if (cfaDriz) { outImg.header.delete('BAYERPAT'); outImg.header.delete('XBAYROFF'); outImg.header.delete('YBAYROFF'); outImg.header.delete('COLORTYP'); }
      const out = registeredPath(o.out, files[i]!);
      const H = Array.from(r.transform);
      const keywords: Record<string, string | number | boolean> = {
        REGMODEL: model, REGREF: basename(refName), REGNSTAR: r.match?.inliers ?? fs[i]!.stars.length,
        REGRMS: r.match ? Number(r.match.rms.toFixed(4)) : 0, REGMIRR: r.shift?.mirrored ?? false,
        REGINTP: cfaDriz ? 'cfa-drizzle' : drizzle > 1 ? 'drizzle' : interp, REGDRIZ: drizzle, REGPIXFR: pixfrac,
      };
      for (let k = 0; k < 9; k++) keywords[`REGH${Math.floor(k / 3) + 1}${(k % 3) + 1}`] = H[k]!;
      const m = rep.metrics!;
      const num = (v: number): number => (Number.isFinite(v) ? Number(v.toPrecision(6)) : 0);
      Object.assign(keywords, { FRMSTARS: m.stars, FRMFWHM: num(m.fwhm), FRMHFR: num(m.hfr), FRMECC: num(m.eccentricity), FRMSNR: num(m.snr) });
      const history = [
        `darkroom register: ${basename(files[i]!)} onto ${basename(refName)}`,
        `model ${model}, ${cfaDriz ? `CFA (Bayer ${img.cfa}) drizzle ${drizzle}x pixfrac ${pixfrac} into R, G, B` : drizzle > 1 ? `drizzle ${drizzle}x pixfrac ${pixfrac}` : `interpolation ${interp}`}`,
        `matched ${r.match?.inliers ?? 'all (reference)'} stars, rms ${r.match ? r.match.rms.toFixed(4) : 0} px`,
        `H (frame -> reference) = ${H.map((v) => v.toPrecision(10)).join(' ')}`,
      ];
      for (const rule of rules) history.push(`kept by --reject-if "${rule}"`);
      if (weights) {
        keywords.WEIGHT = Number(weights[k]!.toPrecision(8));
        history.push(`WEIGHT ${weights[k]!.toPrecision(8)} from --weight-expr "${o.weightExpr}" (normalized to mean 1 over ${matched.length} frames)`);
        rep.weight = weights[k]!;
      }
      writeFits(out, outImg, { keywords, history });
      Object.assign(rep, { output: out, inliers: r.match?.inliers, rms: r.match?.rms ?? 0, ...r.shift, transform: H });
    }
  } finally {
    await pool.close();
  }
  return { reference: refName, frames };
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
    .action(async (files: string[], o: { out: string; reference: string; model: string; interp: string; drizzle?: string; pixfrac: string; weightExpr?: string; rejectIf?: string[]; cfaDrizzle?: boolean; workers?: string; json?: boolean }) => {
      const r = await registerStack(files, o, (line) => process.stderr.write(`darkroom: ${line}\n`));
      if (o.json) process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
      else for (const f of r.frames) process.stdout.write(f.ok ? `${f.path}: ${f.inliers ?? 'reference'} stars, rms ${(f.rms ?? 0).toFixed(3)} px${f.weight !== undefined ? `, weight ${f.weight.toFixed(3)}` : ''} -> ${f.output}\n` : `${f.path}: left out (${f.reason})\n`);
      if (r.frames.some((f) => !f.ok && !f.rejected)) process.exitCode = 2;
    });
}
