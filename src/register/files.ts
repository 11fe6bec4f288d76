/**
 * `registerFiles`: the file-level driver of registration, used by `darkroom register`, the pipeline's
 * register step and the server alike. Two passes so that memory holds one frame per thread whatever
 * the frame count: stars and sizes of every frame first (pixels dropped), then each kept frame is
 * read again, resampled (or drizzled) onto the reference grid and written atomically with its
 * transform (REGH11..REGH33, frame -> reference), the REG* and FRM* keywords and HISTORY. Both
 * passes (and the matching) run one task per frame on worker threads (util/frame-pool.ts,
 * frame-worker.ts), results taken in input order: outputs do not depend on the thread count.
 *
 * Frames that cannot be read, have no stars or no match are left out (FRAME_UNREADABLE /
 * FRAME_LEFT_OUT warnings, `ok: false` with the reason); `rejectIf` rules leave frames out by their
 * subframe metrics (`rejected: true`, not an error). Errors of the whole run (bad options, no
 * possible reference, an output that would overwrite an input) are DarkroomErrors.
 */
import { basename, resolve } from 'node:path';
import { readFits, readFitsReusing, writeFitsConsuming } from '../fits/index.js';
import type { Image } from '../image/image.js';
import { dropNoiseKeywords } from '../image/noise-keywords.js';
import { DarkroomError, isDarkroomError } from '../util/errors.js';
import { assertOutputsAreNotInputs } from '../util/paths.js';
import { makeOutputDirs, resolveOutputs, type OutputPaths, type Sinks } from '../util/sinks.js';
import type { WarningEvent } from '../util/warnings.js';
import { applyRules, frameWeights, parseRule, parseWeightExpr, type FrameMetrics } from '../stars/metrics.js';
import { FramePool, frameThreads, inOrder, workerModule } from '../util/frame-pool.js';
import { applyRegistration, chooseReference, frameMetrics, frameStars, registerToReference, type FrameRegistration, type FrameStars } from './register.js';
import type { Interp } from './resample.js';
import type { Model } from './transform.js';

export const MODELS: readonly Model[] = ['shift', 'similarity', 'affine', 'homography'];
export const INTERPS: readonly Interp[] = ['lanczos3', 'bicubic', 'bilinear', 'nearest'];

export interface RegisterFilesOptions {
  /** 'auto' (default: most stars, then smallest FWHM) or the path of a frame. */
  reference?: string;
  /** The name by which `reference` names an input (default: the input itself; the pipeline: the raw light behind it). */
  sourceOf?: (input: string) => string;
  /**
   * `reference` names none of the inputs: 'auto' (default) matches it by file name, else warns
   * (REFERENCE_NOT_FOUND) and chooses the best frame; 'file' reads it as an external reference frame.
   */
  referenceNotFound?: 'auto' | 'file';
  model?: Model;
  interp?: Interp;
  /** Drizzle scale from 1 to 3 (default 1: resampling; the CLI allows 1, 2 or 3). */
  drizzle?: number;
  pixfrac?: number;
  /** Per-frame weight formula (stars/metrics.ts), written as WEIGHT (mean 1 over the written frames). */
  weightExpr?: string;
  /** Rules leaving frames out by their subframe metrics, e.g. "fwhm > 1.5*median_fwhm". */
  rejectIf?: string[];
  /** CFA mosaics: drizzle each colour pixel into its R, G or B plane (no debayering). */
  cfaDrizzle?: boolean;
  /** Threads (default: the CPU count, 1 for small work): detection, matching and resampling of one frame per thread. */
  workers?: number;
  /** First HISTORY lines of each output (default `darkroom register: FRAME onto REFERENCE`). */
  historyHead?: (input: string, reference: string) => string[];
}

export interface RegisterReportFrame {
  path: string;
  output?: string;
  ok: boolean;
  reason?: string;
  /** Left out by a rejectIf rule (not an error). */
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

export interface RegisterFilesResult {
  /** The reference frame (an input, or the external file). */
  reference: string;
  /** Its index among the inputs (-1: an external file). */
  referenceIndex: number;
  frames: RegisterReportFrame[];
  /** Every warning also sent to `onWarning`. */
  warnings: WarningEvent[];
  /** Threads the frames were processed on (1: this one). */
  threads: number;
}

export interface Settings {
  model: Model;
  interp: Interp;
  drizzle: number;
  pixfrac: number;
  /** Threads asked for (0: frameThreads' choice). */
  workers: number;
  rules: string[];
}

/** Options checked before any work (expression syntax included). */
export function checkRegisterOptions(o: RegisterFilesOptions): Settings {
  const model = o.model ?? 'homography';
  if (!MODELS.includes(model)) throw new DarkroomError('BAD_ARGUMENT', `model must be one of ${MODELS.join(', ')} (got ${model})`);
  const interp = o.interp ?? 'lanczos3';
  if (!INTERPS.includes(interp)) throw new DarkroomError('BAD_ARGUMENT', `interpolation must be one of ${INTERPS.join(', ')} (got ${interp})`);
  const drizzle = o.drizzle ?? 1;
  if (!(drizzle >= 1 && drizzle <= 3)) throw new DarkroomError('BAD_ARGUMENT', `drizzle must be a scale from 1 to 3 (got ${drizzle})`);
  const pixfrac = o.pixfrac ?? 1;
  if (!(pixfrac > 0 && pixfrac <= 1)) throw new DarkroomError('BAD_ARGUMENT', `pixfrac must be in (0, 1] (got ${pixfrac})`);
  const workers = o.workers ?? 0;
  if (o.workers !== undefined && !(Number.isInteger(workers) && workers >= 1)) throw new DarkroomError('BAD_ARGUMENT', `workers must be a positive integer (got ${workers})`);
  const rules = o.rejectIf ?? [];
  rules.forEach(parseRule);
  if (o.weightExpr !== undefined) parseWeightExpr(o.weightExpr);
  return { model, interp, drizzle, pixfrac, workers, rules };
}

interface Detected {
  geoms: ({ width: number; height: number } | null)[];
  stars: FrameStars[];
  frames: RegisterReportFrame[];
}

/** Size and stars of one frame (a frame task: on a worker thread or here). */
export function detectFrame(path: string): { width: number; height: number; stars: FrameStars } {
  const img = readFitsReusing(path);
  return { width: img.width, height: img.height, stars: frameStars(img) };
}

/** First pass: size, stars and metrics of every frame (one task per frame); unreadable frames are left out. */
async function detectAll(inputs: string[], warn: (w: WarningEvent) => void, pool: FramePool | null): Promise<Detected> {
  const d: Detected = { geoms: [], stars: [], frames: [] };
  type R = ReturnType<typeof detectFrame> | DarkroomError;
  const one = async (i: number): Promise<R> => {
    try {
      return pool ? await pool.run<string, ReturnType<typeof detectFrame>>('detectTask', inputs[i]!) : detectFrame(inputs[i]!);
    } catch (e) {
      if (!isDarkroomError(e)) throw e;
      return e;
    }
  };
  await inOrder(inputs.length, pool?.workers ?? 1, one, (i, r) => {
    const f = inputs[i]!;
    if (isDarkroomError(r)) {
      warn({ code: 'FRAME_UNREADABLE', file: r.file ?? f, message: r.message });
      d.geoms.push(null);
      d.stars.push({ stars: [], medianFwhm: NaN });
      d.frames.push({ path: f, ok: false, reason: r.message, stars: 0 });
      return;
    }
    d.geoms.push({ width: r.width, height: r.height });
    d.stars.push(r.stars);
    d.frames.push({ path: f, ok: true, stars: r.stars.stars.length, metrics: frameMetrics(f, r.stars) });
  });
  return d;
}

/** Rejection rules over the readable frames (medians over that set). */
function applyRejectRules(d: Detected, rules: string[], warn: (w: WarningEvent) => void): void {
  if (rules.length === 0) return;
  const r = applyRules(d.frames.filter((f) => f.metrics).map((f) => f.metrics!), rules);
  for (const rej of r.rejected) {
    const i = d.frames.findIndex((f) => f.metrics?.path === rej.path);
    Object.assign(d.frames[i]!, { ok: false, rejected: true, reason: rej.reason });
    warn({ code: 'FRAME_LEFT_OUT', file: rej.path, message: `${rej.reason}; left out` });
  }
}

interface Reference {
  index: number;
  stars: FrameStars;
  width: number;
  height: number;
  name: string;
}

/** Index of the input that `ref` names (by path through `sourceOf`; then, with `byName`, by file name), or -1. */
function findReference(inputs: string[], ref: string, sourceOf: (p: string) => string, byName: boolean): number {
  const i = inputs.findIndex((x) => sourceOf(x) === ref || resolve(sourceOf(x)) === resolve(ref));
  if (i >= 0 || !byName) return i;
  return inputs.findIndex((x) => basename(sourceOf(x)) === basename(ref));
}

function pickReference(inputs: string[], d: Detected, o: RegisterFilesOptions, rules: string[], warn: (w: WarningEvent) => void): Reference {
  const usable = (i: number): boolean => d.geoms[i] !== null && !d.frames[i]!.rejected;
  const fromIndex = (i: number): Reference => ({ index: i, stars: d.stars[i]!, width: d.geoms[i]!.width, height: d.geoms[i]!.height, name: inputs[i]! });
  const ref = o.reference && o.reference !== 'auto' ? o.reference : undefined;
  const external = (o.referenceNotFound ?? 'auto') === 'file';
  const idx = ref ? findReference(inputs, ref, o.sourceOf ?? ((p) => p), !external) : -1;
  if (ref && idx < 0 && !external) warn({ code: 'REFERENCE_NOT_FOUND', file: ref, message: 'the reference is not among these frames: chose the best frame instead' });
  let r: Reference;
  if (ref && idx >= 0) {
    if (!d.geoms[idx]) throw new DarkroomError('BAD_ARGUMENT', 'the reference frame cannot be read', ref);
    r = fromIndex(idx);
  } else if (ref && external) {
    const img = readFits(ref);
    r = { index: -1, stars: frameStars(img), width: img.width, height: img.height, name: ref };
  } else {
    const i = chooseReference(d.stars.map((f, k) => (usable(k) ? f : { stars: [], medianFwhm: NaN })));
    if (i < 0) throw new DarkroomError('TOO_FEW', rules.length > 0 ? 'no frame kept by the rejection rules has enough stars to serve as the reference' : 'no frame has enough stars to serve as the reference');
    return fromIndex(i);
  }
  if (r.stars.stars.length < 3) throw new DarkroomError('TOO_FEW', `the reference has too few stars (${r.stars.stars.length})`, ref);
  return r;
}

/** Everything the second pass needs for one frame, cloneable (a frame task). */
export interface WriteJob {
  input: string;
  output: string;
  ref: { name: string; width: number; height: number };
  r: FrameRegistration;
  metrics: FrameMetrics;
  s: Settings;
  cfaDrizzle: boolean;
  /** First HISTORY lines. */
  head: string[];
  weight?: { value: number; count: number; expr: string };
}

/** The REG* / FRM* keywords and HISTORY of a registered frame. */
function provenance(j: WriteJob, cfa: string | undefined): { keywords: Record<string, string | number | boolean>; history: string[] } {
  const { r, s, ref, metrics: m } = j;
  const { model, interp, drizzle, pixfrac } = s;
  const H = Array.from(r.transform);
  const keywords: Record<string, string | number | boolean> = {
    REGMODEL: model, REGREF: basename(ref.name), REGNSTAR: r.match?.inliers ?? r.stars,
    REGRMS: r.match ? Number(r.match.rms.toFixed(4)) : 0, REGMIRR: r.shift?.mirrored ?? false,
    REGINTP: cfa ? 'cfa-drizzle' : drizzle > 1 ? 'drizzle' : interp, REGDRIZ: drizzle, REGPIXFR: pixfrac,
  };
  for (let k = 0; k < 9; k++) keywords[`REGH${Math.floor(k / 3) + 1}${(k % 3) + 1}`] = H[k]!;
  const num = (v: number): number => (Number.isFinite(v) ? Number(v.toPrecision(6)) : 0);
  Object.assign(keywords, { FRMSTARS: m.stars, FRMFWHM: num(m.fwhm), FRMHFR: num(m.hfr), FRMECC: num(m.eccentricity), FRMSNR: num(m.snr) });
  const history = [
    ...j.head,
    `model ${model}, ${cfa ? `CFA (Bayer ${cfa}) drizzle ${drizzle}x pixfrac ${pixfrac} into R, G, B` : drizzle > 1 ? `drizzle ${drizzle}x pixfrac ${pixfrac}` : `interpolation ${interp}`}`,
    `matched ${r.match?.inliers ?? 'all (reference)'} stars, rms ${r.match ? r.match.rms.toFixed(4) : 0} px`,
    `H (frame -> reference) = ${H.map((v) => v.toPrecision(10)).join(' ')}`,
  ];
  for (const rule of s.rules) history.push(`kept by --reject-if "${rule}"`);
  if (j.weight) {
    keywords.WEIGHT = Number(j.weight.value.toPrecision(8));
    history.push(`WEIGHT ${j.weight.value.toPrecision(8)} from --weight-expr "${j.weight.expr}" (normalized to mean 1 over ${j.weight.count} frames)`);
  }
  return { keywords, history };
}

export interface MatchJob { frame: FrameStars; ref: FrameStars; isReference: boolean; model: Model }

/** The transform of one frame onto the reference (a frame task). */
export function matchFrame(j: MatchJob): FrameRegistration {
  return registerToReference(j.frame, j.ref, j.isReference, { model: j.model });
}

/** Second pass for one frame (a frame task): read again, resample onto the reference grid, write. */
export function writeRegistered(j: WriteJob): void {
  const { s, ref } = j;
  const img = readFitsReusing(j.input);
  const cfaDriz = j.cfaDrizzle && img.channels === 1 && !!img.cfa;
  const planes = applyRegistration(img, j.r.transform, ref.width, ref.height, { model: s.model, interp: s.interp, drizzle: s.drizzle, pixfrac: s.pixfrac, cfaDrizzle: cfaDriz });
  const outImg: Image = { width: Math.round(ref.width * s.drizzle), height: Math.round(ref.height * s.drizzle), channels: planes.length, data: planes, header: img.header.clone() };
  if (cfaDriz) for (const k of ['BAYERPAT', 'XBAYROFF', 'YBAYROFF', 'COLORTYP']) outImg.header.delete(k);
  // NOISExx / IKSCALxx / IKLOCxx (the calibrated frame's noise, scale and location, before resampling) are kept: integration prefers them to the resampled pixels'; not for R, G, B drizzled from a mosaic
  if (cfaDriz) dropNoiseKeywords(outImg.header);
  const { keywords, history } = provenance(j, cfaDriz ? String(img.cfa) : undefined);
  writeFitsConsuming(j.output, outImg, { keywords, history });
}

/**
 * Register `inputs` onto a reference and write them to `outputs` (a list in the same order, or a
 * function of the input). Frames left out keep `ok: false` and a reason; one progress event per frame.
 */
export async function registerFiles(inputs: string[], outputs: OutputPaths, o: RegisterFilesOptions = {}, sinks: Sinks<RegisterReportFrame> = {}): Promise<RegisterFilesResult> {
  const s = checkRegisterOptions(o);
  const outs = resolveOutputs(inputs, outputs);
  const externalRef = o.reference && o.reference !== 'auto' && o.referenceNotFound === 'file' ? [o.reference] : [];
  assertOutputsAreNotInputs(outs, [...inputs, ...externalRef], inputs);
  if (inputs.length === 0) throw new DarkroomError('TOO_FEW', 'no frames to register');
  makeOutputDirs(outs);
  const warnings: WarningEvent[] = [];
  const warn = (w: WarningEvent): void => void (warnings.push(w), sinks.onWarning?.(w));
  // one task per frame on `workers` threads (each holds one frame), results taken in input order
  const threads = frameThreads(o.workers, inputs);
  const pool = threads > 1 ? new FramePool(workerModule(import.meta.url, 'frame-worker'), threads) : null;
  try {
    const d = await detectAll(inputs, warn, pool);
    applyRejectRules(d, s.rules, warn);
    const ref = pickReference(inputs, d, o, s.rules, warn);
    const matched = new Map<number, FrameRegistration>();
    const match = async (i: number): Promise<FrameRegistration | null> => {
      if (!d.geoms[i] || d.frames[i]!.rejected) return null;
      const job: MatchJob = { frame: d.stars[i]!, ref: ref.stars, isReference: i === ref.index, model: s.model };
      return pool && !job.isReference ? pool.run<MatchJob, FrameRegistration>('matchTask', job) : matchFrame(job);
    };
    await inOrder(inputs.length, pool?.workers ?? 1, match, (i, r) => {
      if (!r) return;
      if (r.ok) return void matched.set(i, r);
      Object.assign(d.frames[i]!, { ok: false, reason: r.reason });
      warn({ code: 'FRAME_LEFT_OUT', file: inputs[i]!, message: `${r.reason}; left out` });
    });
    // weights over the frames that are written (normalized to mean 1)
    const order = [...matched.keys()];
    const weights = o.weightExpr !== undefined ? frameWeights(order.map((i) => d.frames[i]!.metrics!), o.weightExpr) : null;
    const jobs = inputs.map((input, i): WriteJob | null => {
      const r = matched.get(i);
      if (!r) return null;
      const k = order.indexOf(i);
      const head = o.historyHead ? o.historyHead(input, ref.name) : [`darkroom register: ${basename(input)} onto ${basename(ref.name)}`];
      const weight = weights ? { value: weights[k]!, count: order.length, expr: o.weightExpr! } : undefined;
      return { input, output: outs[i]!, ref: { name: ref.name, width: ref.width, height: ref.height }, r, metrics: d.frames[i]!.metrics!, s, cfaDrizzle: !!o.cfaDrizzle, head, weight };
    });
    const write = async (i: number): Promise<void> => {
      const j = jobs[i];
      if (j) await (pool ? pool.run<WriteJob, void>('writeTask', j) : writeRegistered(j));
    };
    await inOrder(inputs.length, pool?.workers ?? 1, write, (i) => {
      const j = jobs[i], rep = d.frames[i]!;
      if (j) Object.assign(rep, { output: j.output, inliers: j.r.match?.inliers, rms: j.r.match?.rms ?? 0, ...j.r.shift, transform: Array.from(j.r.transform) }, j.weight ? { weight: j.weight.value } : {});
      sinks.onProgress?.({ done: i + 1, total: inputs.length, file: inputs[i]!, frame: rep });
    });
    return { reference: ref.name, referenceIndex: ref.index, frames: d.frames, warnings, threads: pool?.workers ?? 1 };
  } finally {
    await pool?.close();
  }
}
