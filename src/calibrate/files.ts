/**
 * `calibrateFiles`: the file-level driver of light calibration, used by `darkroom calibrate`, the
 * pipeline's calibrate step and the server alike. For each light: read, calibrate with the masters
 * (light.ts), optional cosmetic correction, write the output atomically (float32, HISTORY). Outputs
 * that would overwrite an input (a light, a master, the defect list) are refused before any work.
 * Lights are calibrated one per worker thread (util/frame-pool.ts, files-worker.ts) with the
 * masters' pixels in shared memory, results taken in input order: outputs do not depend on the
 * thread count.
 *
 * Defaults are the pipeline's: a dark that is to be scaled but is not brighter than the bias is used
 * plain (one DARK_NOT_SCALED warning for the run), an unused bias (plain dark) is left out, and a
 * light that cannot be calibrated (a user error) is left out with its reason. The CLI asks for its
 * stricter behaviour with `clampedDark: 'refuse' | 'force'`, `keepUnusedBias` and `frameErrors: 'throw'`.
 */
import { existsSync } from 'node:fs';
import { readFitsHeader, readFitsReusing, writeFitsConsuming } from '../fits/index.js';
import type { Image } from '../image/image.js';
import { isDarkroomError, type DarkroomError } from '../util/errors.js';
import { FramePool, frameThreads, inOrder, workerModule } from '../util/frame-pool.js';
import { assertOutputsAreNotInputs } from '../util/paths.js';
import { makeOutputDirs, resolveOutputs, type FrameErrors, type OutputPaths, type Sinks } from '../util/sinks.js';
import type { WarningEvent } from '../util/warnings.js';
import { VERSION } from '../version.js';
import { defectCount, defectsFromDark, detectDefects, mergeDefects, readDefectList, repairDefects, type DefectMap } from './cosmetic.js';
import { calibrateLight, decideDarkScaling, stampNoise, type CalibrateOptions, type ClampedDark, type DarkMode, type FrameReport, type Master } from './light.js';
import { loadMaster } from './masters.js';
import type { OverscanSpec } from './overscan.js';

/**
 * Cosmetic correction after calibration: 'each-plane' detects hot/cold pixels in each plane of the
 * calibrated light (the pipeline's `--cosmetic`); 'auto' detects them in the first plane and adds the
 * master dark's hot/cold pixels, one map for all planes (the CLI's `--cosmetic auto`); `{ list }` a
 * defect list file ('x,y', 'col X', 'row Y' lines).
 */
export type CosmeticMode = 'each-plane' | 'auto' | { list: string };

export interface CosmeticReport {
  fromDark: number;
  detected: number;
  fromList: number;
  repaired: number;
}

export interface CalibrateFilesOptions {
  /** Masters: loaded (the pipeline caches them) or paths (read once). */
  bias?: Master | string;
  dark?: Master | string;
  flat?: Master | string;
  /** Default 'auto' (optimization when a bias is given and the dark exposure differs). */
  darkMode?: DarkMode;
  /** Scaling asked for ('optimize', 'exposure') with a dark not brighter than the bias: default 'plain'. */
  clampedDark?: ClampedDark;
  /** Keep the bias with a plain dark (it is checked against the lights and named in HISTORY); default false. */
  keepUnusedBias?: boolean;
  pedestal?: number | 'auto';
  overscan?: OverscanSpec;
  separateCfaFlatScaling?: boolean;
  cosmetic?: CosmeticMode;
  /** A user error of one light: 'reject' (default: the light is left out) or 'throw'. */
  frameErrors?: FrameErrors;
  /** First HISTORY lines of each output (default `darkroom VERSION calibrate LIGHT`). */
  historyHead?: (light: string) => string[];
  /** Threads (default: the CPU count, 1 for small work), one light per thread; masters given as images with no file are used here, on one. */
  workers?: number;
  /**
   * Flush each output to the disk before it is renamed into place (default true). false: outputs a run can make
   * again (a pipeline's intermediates): still written to a temp name and renamed, so a crash of the process leaves
   * no half-written file, but a power loss may leave one that was not yet on the disk.
   */
  fsync?: boolean;
}

export type CalibratedFrame = { path: string; output: string; ok: true; report: FrameReport & { cosmetic?: CosmeticReport } };
export type FailedFrame = { path: string; output: string; ok: false; reason: string; error: DarkroomError };

export interface CalibrateFilesResult {
  frames: (CalibratedFrame | FailedFrame)[];
  /** The dark mode used (after the dark-darker-than-bias fallback). */
  darkMode: DarkMode;
  /** Every warning also sent to `onWarning`. */
  warnings: WarningEvent[];
  /** Threads the lights were calibrated on (1: this one). */
  threads: number;
}

const pathOf = (m: Master | string | undefined): string | undefined => (typeof m === 'string' ? m : m?.path);
const load = (m: Master | string | undefined): Master | undefined => (typeof m === 'string' ? loadMaster(m) : m);

/** Repair defects of a calibrated light in place; the report and its HISTORY line. */
export function applyCosmetic(img: Image, mode: CosmeticMode, dark?: Master): { report: CosmeticReport; history: string } {
  const cfa = !!img.cfa;
  const cr: CosmeticReport = { fromDark: 0, detected: 0, fromList: 0, repaired: 0 };
  if (mode === 'each-plane') {
    for (const plane of img.data) {
      const map = detectDefects(plane, img.width, img.height, { cfa });
      cr.detected += defectCount(map);
      cr.repaired += repairDefects(plane, map, { cfa });
    }
    return { report: cr, history: 'cosmetic correction: hot/cold pixels detected and repaired' };
  }
  let map: DefectMap;
  if (mode === 'auto') {
    map = detectDefects(img.data[0]!, img.width, img.height, { cfa });
    cr.detected = defectCount(map);
    if (dark) {
      const dm = defectsFromDark(dark.image.data[0]!, img.width, img.height);
      cr.fromDark = dm.hot + dm.cold;
      map = mergeDefects(map, dm);
    }
  } else {
    map = readDefectList(mode.list, img.width, img.height);
    cr.fromList = defectCount(map);
  }
  for (const p of img.data) cr.repaired = repairDefects(p, map, { cfa });
  const name = mode === 'auto' ? 'auto' : mode.list;
  return { report: cr, history: `cosmetic ${name}: ${cr.repaired} pixels repaired (dark ${cr.fromDark}, detected ${cr.detected}, list ${cr.fromList})` };
}

interface Prepared {
  copts: CalibrateOptions;
  darkMode: DarkMode;
}

/** Masters loaded, the dark-darker-than-bias rule applied once for the run (policy 'plain'), unused bias dropped. */
function prepare(o: CalibrateFilesOptions, warn: (w: WarningEvent) => void): Prepared {
  const bias = load(o.bias);
  const dark = load(o.dark);
  const flat = load(o.flat);
  const policy = o.clampedDark ?? 'plain';
  let darkMode: DarkMode = o.darkMode ?? 'auto';
  if (policy === 'plain' && (darkMode === 'optimize' || darkMode === 'exposure')) {
    const d = decideDarkScaling(darkMode, bias, dark, 'plain', dark?.path);
    if (d.event) warn(d.event);
    if (d.mode === 'plain') darkMode = 'plain';
  }
  const useBias = darkMode === 'plain' && dark && !o.keepUnusedBias ? undefined : bias;
  const copts: CalibrateOptions = {
    bias: useBias, dark, flat, darkMode, pedestal: o.pedestal, overscan: o.overscan,
    force: policy === 'force', separateCfaFlatScaling: o.separateCfaFlatScaling,
  };
  return { copts, darkMode };
}

/** Calibrate one light to `output` (read, calibrate, cosmetic, write). */
function calibrateOne(lp: string, output: string, cosmetic: CosmeticMode | undefined, head: string[], copts: CalibrateOptions, fsync = true): { report: FrameReport & { cosmetic?: CosmeticReport }; events: WarningEvent[] } {
  // with a cosmetic correction, the noise (NOISExx) is measured on the repaired pixels, as written
  const r = calibrateLight(readFitsReusing(lp), lp, { ...copts, inPlace: true, ...(cosmetic ? { noiseKeywords: false } : {}) });
  const report: FrameReport & { cosmetic?: CosmeticReport } = { ...r.report, output };
  if (cosmetic) {
    const c = applyCosmetic(r.image, cosmetic, copts.dark);
    report.cosmetic = c.report;
    r.history.push(c.history);
    report.noise = stampNoise(r.image);
  }
  // the light's buffer is swapped to big-endian and written in place (an overscan-corrected cube's planes are encoded)
  writeFitsConsuming(output, r.image, { history: [...head, ...r.history] }, fsync);
  return { report, events: r.report.events ?? [] };
}

/** A master for the threads: its pixels in shared memory (one copy for all threads), its header read from its file. */
export interface SharedMaster {
  path: string;
  width: number;
  height: number;
  cfa?: string;
  planes: SharedArrayBuffer[];
}

export function shareMaster(m: Master | undefined): SharedMaster | undefined {
  if (!m) return undefined;
  const { width, height, cfa } = m.image;
  const planes = m.image.data.map((d) => {
    const sab = new SharedArrayBuffer(d.length * 4);
    new Float32Array(sab).set(d);
    return sab;
  });
  return { path: m.path, width, height, cfa: cfa === undefined ? undefined : String(cfa), planes };
}

/** One light as a frame task: the masters shared, every other option cloneable. */
export interface CalibrateJob {
  light: string;
  output: string;
  masters: { bias?: SharedMaster; dark?: SharedMaster; flat?: SharedMaster };
  copts: Omit<CalibrateOptions, 'bias' | 'dark' | 'flat'>;
  cosmetic?: CosmeticMode;
  head: string[];
  fsync?: boolean;
}

const threadMasters = new Map<string, Master>();

/** A shared master as a Master in this thread: its header read from its file once per thread, its pixels shared. */
export function sharedMasterOf(x: SharedMaster | undefined): Master | undefined {
  if (x === undefined) return undefined;
  let got = threadMasters.get(x.path);
  if (!got) {
    const image: Image = { width: x.width, height: x.height, channels: x.planes.length, data: x.planes.map((b) => new Float32Array(b)), header: readFitsHeader(x.path).header, cfa: x.cfa };
    threadMasters.set(x.path, (got = { image, path: x.path }));
  }
  return got;
}

/** Run a CalibrateJob (on a worker thread: each master's header is read from its file once per thread, its pixels shared). */
export function calibrateJob(j: CalibrateJob): ReturnType<typeof calibrateOne> {
  const m = sharedMasterOf;
  return calibrateOne(j.light, j.output, j.cosmetic, j.head, { ...j.copts, bias: m(j.masters.bias), dark: m(j.masters.dark), flat: m(j.masters.flat) }, j.fsync ?? true);
}

/**
 * Calibrate `lights` into `outputs` (a list in the same order, or a function of the light). Masters
 * and the defect list are inputs for the overwrite check. Warnings (each once) go to `sinks.onWarning`,
 * one progress event per light to `sinks.onProgress`.
 */
export async function calibrateFiles(lights: string[], outputs: OutputPaths, o: CalibrateFilesOptions = {}, sinks: Sinks<CalibratedFrame | FailedFrame> = {}): Promise<CalibrateFilesResult> {
  const outs = resolveOutputs(lights, outputs);
  const extra = [pathOf(o.bias), pathOf(o.dark), pathOf(o.flat), typeof o.cosmetic === 'object' ? o.cosmetic.list : undefined].filter((p): p is string => p !== undefined);
  assertOutputsAreNotInputs(outs, [...lights, ...extra], lights);
  const warnings: WarningEvent[] = [];
  const seen = new Set<string>();
  const warn = (w: WarningEvent): void => {
    const key = `${w.code}\0${w.file ?? ''}\0${w.message}`;
    if (seen.has(key)) return; // a master's warning is found again with each light
    seen.add(key);
    warnings.push(w);
    sinks.onWarning?.(w);
  };
  const { copts, darkMode } = prepare(o, warn);
  makeOutputDirs(outs);
  const frames: CalibrateFilesResult['frames'] = [];
  const head = (lp: string): string[] => (o.historyHead ? o.historyHead(lp) : [`darkroom ${VERSION} calibrate ${lp}`]);
  // one light per task on `workers` threads when the masters are files (each thread reads them once)
  const { bias, dark, flat, ...rest } = copts;
  const onFiles = [bias, dark, flat].every((m) => !m || existsSync(m.path));
  const workers = frameThreads(o.workers, lights);
  const pool = workers > 1 && onFiles ? new FramePool(workerModule(import.meta.url, 'files-worker'), workers) : null;
  const shared = pool ? { bias: shareMaster(bias), dark: shareMaster(dark), flat: shareMaster(flat) } : {};
  const one = async (i: number): Promise<ReturnType<typeof calibrateOne> | DarkroomError> => {
    const lp = lights[i]!;
    try {
      if (!pool) return calibrateOne(lp, outs[i]!, o.cosmetic, head(lp), copts, o.fsync ?? true);
      const job: CalibrateJob = { light: lp, output: outs[i]!, masters: shared, copts: rest, cosmetic: o.cosmetic, head: head(lp), fsync: o.fsync };
      return await pool.run<CalibrateJob, ReturnType<typeof calibrateOne>>('calibrateTask', job);
    } catch (e) {
      if (!isDarkroomError(e) || (o.frameErrors ?? 'reject') === 'throw') throw e;
      return e;
    }
  };
  try {
    await inOrder(lights.length, pool?.workers ?? 1, one, (i, r) => {
      const lp = lights[i]!;
      const output = outs[i]!;
      if (isDarkroomError(r)) {
        warn({ code: 'FRAME_FAILED', file: lp, message: `calibration failed, left out: ${r.message}` });
        frames.push({ path: lp, output, ok: false, reason: r.message, error: r });
      } else {
        r.events.forEach(warn);
        frames.push({ path: lp, output, ok: true, report: r.report });
      }
      sinks.onProgress?.({ done: i + 1, total: lights.length, file: lp, frame: frames[frames.length - 1] });
    });
  } finally {
    await pool?.close();
  }
  return { frames, darkMode, warnings, threads: pool?.workers ?? 1 };
}
