/**
 * Master calibration frames (docs/algorithms.md#masters), integrated with the integration engine (bounded memory, row bands):
 *  - bias, dark, flat-dark: average, no normalization, no weights, winsorized sigma clipping (4 / 3);
 *    a master dark is never bias-subtracted;
 *  - flat: each flat calibrated first (minus the master flat-dark, else minus the master bias), then
 *    multiplicative normalization, rejection normalization "equalize fluxes", average. The flats are
 *    read as calibrated (master-frames.ts: the master subtracted as rows are read, the frames held
 *    in memory when they fit half the budget), never written; only overscan-corrected frames go
 *    through float32 temp files.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { readFits, readFitsHeader, writeFits } from '../fits/index.js';
import type { Image } from '../image/image.js';
import { integrateFiles, type IntegrateOptions } from '../integrate/index.js';
import { DarkroomError } from '../util/errors.js';
import { FramePool, frameThreads, inOrder, workerModule } from '../util/frame-pool.js';
import { VERSION } from '../version.js';
import { applyOverscan, type OverscanSpec } from './overscan.js';
import { checkMasterCompatible, type Master } from './light.js';
import { shareMaster, sharedMasterOf, type SharedMaster } from './files.js';
import { integrateCalibrated } from './master-frames.js';

export type MasterKind = 'bias' | 'dark' | 'flatdark' | 'flat';

export const MASTER_IMAGETYP: Record<MasterKind, string> = {
  bias: 'Master Bias',
  dark: 'Master Dark',
  flatdark: 'Master Flat Dark',
  flat: 'Master Flat',
};

export interface MasterOptions {
  /** Flats: subtract this master bias (when no flat-dark is given). */
  bias?: Master;
  /** Flats: subtract this master flat-dark. */
  flatDark?: Master;
  overscan?: OverscanSpec;
  memoryBytes?: number;
  workers?: number;
  /**
   * Folder in which overscan-corrected frames (calibrated flats too, with an overscan) are written while the master
   * is integrated, in a subfolder removed at the end (default: the system temp folder; writeMaster:
   * the output's folder). The pipeline passes OUT/.darkroom/tmp, which each run empties at its start,
   * so a killed run leaves nothing behind for good.
   */
  tmpDir?: string;
  /** Integration settings (default MASTER_DEFAULTS[kind]). */
  settings?: MasterSettings;
}

export interface MasterResult {
  image: Image;
  history: string[];
  warnings: string[];
  count: number;
}

/** The integration settings of a master: what buildMaster passes to the integration (and what a plan hashes). */
export type MasterSettings = Pick<IntegrateOptions, 'combine' | 'reject' | 'sigmaLow' | 'sigmaHigh' | 'winsorCutoff' | 'weights' | 'normalize' | 'rejectNormalize'>;

const BASE = { combine: 'average', reject: 'winsorized', sigmaLow: 4, sigmaHigh: 3, winsorCutoff: 5, weights: 'none' } as const;

/** The settings of each kind of master (defined once: the builder uses them, the pipeline's plan carries them). */
export const MASTER_DEFAULTS: Readonly<Record<MasterKind, MasterSettings>> = {
  bias: { ...BASE, normalize: 'none', rejectNormalize: 'none' },
  dark: { ...BASE, normalize: 'none', rejectNormalize: 'none' },
  flatdark: { ...BASE, normalize: 'none', rejectNormalize: 'none' },
  flat: { ...BASE, normalize: 'multiplicative', rejectNormalize: 'equalize-fluxes' },
};

function avg(xs: (number | undefined)[]): number | undefined {
  const v = xs.filter((x): x is number => x !== undefined && Number.isFinite(x));
  return v.length ? v.reduce((a, b) => a + b, 0) / v.length : undefined;
}

/** How each frame is prepared before a master is integrated: overscan, then minus `sub` (flats). */
interface Prep {
  overscan?: OverscanSpec;
  sub?: Master;
  subRole: string;
}

/** Read frame `p`, prepare it and write it as float32 to `out`. */
function prepareFrame(p: string, out: string, prep: Prep): null {
  let img = readFits(p);
  if (prep.overscan) img = applyOverscan(img, prep.overscan, p).image;
  const sub = prep.sub;
  if (sub) {
    checkMasterCompatible(img, p, sub, prep.subRole);
    for (let c = 0; c < img.channels; c++) {
      const d = img.data[c]!;
      const s = sub.image.data[c]!;
      for (let j = 0; j < d.length; j++) d[j] = d[j]! - s[j]!;
    }
  }
  writeFits(out, img, { bitpix: -32, stamp: false });
  return null;
}

/** One frame to prepare on a worker thread (the master to subtract in shared memory). */
export interface PrepJob {
  path: string;
  out: string;
  overscan?: OverscanSpec;
  sub?: SharedMaster;
  subRole: string;
}

export function prepJob(j: PrepJob): null {
  return prepareFrame(j.path, j.out, { overscan: j.overscan, sub: sharedMasterOf(j.sub), subRole: j.subRole });
}

/**
 * Prepare every frame, one per worker thread (frameThreads; in this thread for small work or a
 * master with no file), in input order as far as errors go: the first bad frame's error.
 */
async function prepareFrames(paths: string[], outs: string[], prep: Prep, workers: number | undefined): Promise<void> {
  const threads = frameThreads(workers, paths);
  const onFile = !prep.sub || existsSync(prep.sub.path);
  const pool = threads > 1 && onFile ? new FramePool(workerModule(import.meta.url, 'masters-worker'), threads) : null;
  const sub = pool ? shareMaster(prep.sub) : undefined;
  try {
    const one = async (i: number): Promise<null> =>
      pool ? pool.run<PrepJob, null>('flatPrepTask', { path: paths[i]!, out: outs[i]!, overscan: prep.overscan, sub, subRole: prep.subRole }) : prepareFrame(paths[i]!, outs[i]!, prep);
    await inOrder(paths.length, pool?.workers ?? 1, one, () => undefined);
  } finally {
    await pool?.close();
  }
}

/** A message naming temp frames (overscan-corrected) with their raw frames' names instead. */
function tempToRaw(text: string, inputs: string[], paths: string[]): string {
  return inputs === paths ? text : inputs.reduce((t, p, i) => t.split(p).join(paths[i]!), text);
}

/** An integration error about a temp frame, as one about its raw frame (the user's file). */
function rawNamed(e: unknown, inputs: string[], paths: string[]): unknown {
  if (!(e instanceof DarkroomError) || inputs === paths) return e;
  const i = e.file === undefined ? -1 : inputs.indexOf(e.file);
  return new DarkroomError(e.code, tempToRaw(e.message, inputs, paths), i >= 0 ? paths[i] : e.file);
}

/** Build a master from frame files; the result is not written (see writeMaster). */
export async function buildMaster(kind: MasterKind, paths: string[], opts: MasterOptions = {}): Promise<MasterResult> {
  if (paths.length === 0) throw new DarkroomError('TOO_FEW', `no ${kind} frames given`);
  const warnings: string[] = [];
  const headers = paths.map((p) => ({ path: p, ...readFitsHeader(p) }));
  const first = headers[0]!;
  for (const h of headers.slice(1)) {
    if (h.width !== first.width || h.height !== first.height || h.channels !== first.channels) {
      throw new DarkroomError('MISMATCH', `size ${h.width}x${h.height} differs from ${first.path} (${first.width}x${first.height})`, h.path);
    }
    for (const k of ['XBINNING', 'YBINNING', 'GAIN', 'OFFSET']) {
      const a = first.header.getNumber(k);
      const b = h.header.getNumber(k);
      if (a !== undefined && b !== undefined && a !== b) throw new DarkroomError('MISMATCH', `${k} ${b} differs from ${first.path} (${a})`, h.path);
    }
  }
  const exps = headers.map((h) => h.header.getNumber('EXPTIME') ?? h.header.getNumber('EXPOSURE'));
  const temps = headers.map((h) => h.header.getNumber('CCD-TEMP') ?? h.header.getNumber('SET-TEMP'));
  if (kind === 'dark' || kind === 'flatdark') {
    const e = exps.filter((x): x is number => x !== undefined);
    if (e.length && Math.max(...e) - Math.min(...e) > 0.01 * Math.max(...e)) warnings.push(`${kind} frames have different exposures (${Math.min(...e)} to ${Math.max(...e)} s)`);
  }
  const t = temps.filter((x): x is number => x !== undefined);
  if (t.length && Math.max(...t) - Math.min(...t) > 2) warnings.push(`${kind} frames span ${(Math.max(...t) - Math.min(...t)).toFixed(1)} C of temperature`);
  if (kind === 'flat' && !opts.bias && !opts.flatDark) warnings.push('flats are not calibrated (no --bias or --flatdark): the bias level stays in the master flat and the flat correction will be wrong');

  const history: string[] = [`darkroom ${VERSION} master ${kind}: ${paths.length} frames`];
  let inputs = paths;
  let tmp: string | undefined;
  try {
    const sub = kind === 'flat' ? (opts.flatDark ?? opts.bias) : undefined;
    const subRole = opts.flatDark ? 'master flat-dark' : 'master bias';
    if (opts.overscan) {
      const parent = opts.tmpDir ?? tmpdir();
      mkdirSync(parent, { recursive: true });
      tmp = mkdtempSync(join(parent, opts.tmpDir ? '.darkroom-master-' : 'darkroom-master-'));
      inputs = paths.map((p, i) => join(tmp!, `${String(i).padStart(4, '0')}_${basename(p)}`));
      await prepareFrames(paths, inputs, { overscan: opts.overscan, sub, subRole }, opts.workers);
      history.push(`overscan applied to each frame (image ${opts.overscan.image.w}x${opts.overscan.image.h})`);
    }
    if (sub) history.push(`each flat calibrated: minus ${subRole} ${sub.path}`);
    const io: Partial<IntegrateOptions> = { ...(opts.settings ?? MASTER_DEFAULTS[kind]), rejectionMaps: false };
    if (opts.memoryBytes) io.memory = opts.memoryBytes;
    if (opts.workers) io.workers = opts.workers;
    // flats minus a master, no overscan: read as calibrated from the raw files (master-frames.ts), nothing written
    const r = sub && !opts.overscan ? await integrateCalibrated(paths, sub, subRole, io) : await integrateFiles(inputs, io).catch((e: unknown) => { throw rawNamed(e, inputs, paths); });
    warnings.push(...r.warnings.map((w) => tempToRaw(w, inputs, paths)));
    const img = r.image;
    const h = img.header;
    h.set('IMAGETYP', MASTER_IMAGETYP[kind], 'master calibration frame');
    h.set('NCOMBINE', paths.length, 'number of frames integrated');
    const e = avg(exps);
    if (e !== undefined) {
      h.set('EXPTIME', e, '[s] mean exposure of the frames', { float: true });
      if (h.has('EXPOSURE')) h.set('EXPOSURE', e, '[s] mean exposure of the frames', { float: true });
    }
    const tm = avg(temps);
    if (tm !== undefined) h.set('CCD-TEMP', Number(tm.toFixed(3)), '[C] mean sensor temperature of the frames', { float: true });
    for (const k of ['XBINNING', 'YBINNING', 'GAIN', 'OFFSET', 'FILTER', 'BAYERPAT', 'INSTRUME']) {
      const v = first.header.get(k);
      if (v !== undefined && v !== null && typeof v !== 'bigint') h.set(k, v);
    }
    if (kind !== 'flat') h.delete('FILTER');
    for (const k of ['OBJECT', 'RA', 'DEC']) h.delete(k);
    history.push(...r.history.map((l) => l.replace(/frame (\d+): \S+/, (_m, i: string) => `frame ${i}: ${paths[Number(i) - 1]}`)));
    return { image: img, history, warnings, count: paths.length };
  } finally {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  }
}

export async function writeMaster(kind: MasterKind, paths: string[], out: string, opts: MasterOptions = {}): Promise<MasterResult> {
  const r = await buildMaster(kind, paths, { ...opts, tmpDir: opts.tmpDir ?? dirname(out) });
  writeFits(out, r.image, { bitpix: -32, history: r.history });
  return r;
}

/** Read a master from disk for calibration. */
export function loadMaster(path: string): Master {
  return { image: readFits(path), path };
}
