/**
 * Local executor of a plan: runs the steps in dependency order with the other modules
 * (calibrate/ masters and light calibration, color/ debayer, register/, integrate/), writes
 * stacks, previews and the report. A step whose inputs (content fingerprints, chained through
 * the steps that produce them) and parameters are unchanged is reused: its hash is stored in
 * OUT/.darkroom/steps/<step>.json with the size and sha256 of each output (a re-run checks them,
 * and redoes a step whose output changed, and the steps built on it); --force redoes everything.
 * Inputs are never modified; every output is written to a temp name and renamed.
 *
 * Safety of OUT: a run is refused when OUT is the night, inside it, or when the night lies in a
 * folder of OUT (src/pipeline/safety.ts). Darkroom records the files and folders it creates in
 * OUT/.darkroom/manifest.json (src/pipeline/manifest.ts) and deletes only those, file by file (the
 * intermediates at the end of a run; a folder only when empty and its own). Temp files live in
 * OUT/.darkroom/tmp, emptied at the start of each run.
 *
 * Steps run through an `Executor` (src/pipeline/executors/): the local one runs them here, in
 * order; the BullMQ one sends them (split into per-frame and per-tile jobs) to workers on other
 * machines. A step is a function of the plan and the stamps of its dependencies (`runPlanStep`),
 * so any process that sees OUT can run it.
 */
import { createHash, randomUUID } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import type { Plan, PlanStep } from './plan.js';
import { readFits, readFitsHeader, writeFits } from '../fits/index.js';
import { frameMeta } from '../session/metadata.js';
import { checkRunPaths, OUTPUT_DIRS, topDirs } from './safety.js';
import { claimDirs, claimFiles, fileDigest, loadManifest, recordFiles, removeRecorded, saveManifest, type Manifest } from './manifest.js';
import type { Image } from '../image/image.js';
import { writeFileAtomic } from '../util/atomic.js';
import { DarkroomError, isDarkroomError } from '../util/errors.js';
import { VERSION } from '../version.js';
import { writeMaster, loadMaster, calibrateLight, darkIsClamped, detectDefects, repairDefects, type Master, type MasterKind, type DarkMode as CalDarkMode } from '../calibrate/index.js';
import { integrateFiles, writeIntegration, type IntegrateOptions, type IntegrateResult, type Normalize, type Reject, type Weights } from '../integrate/index.js';
import { debayerImage, requireCfa, type DebayerMethod, DEBAYER_METHODS } from '../color/index.js';
import { frameStars, chooseReference, registerToReference, applyRegistrationAsync } from '../register/register.js';
import { WarpPool } from '../register/resample.js';
import { availableParallelism } from 'node:os';
import { stretchToPng } from '../render/stretch.js';
import { renderReportHtml } from './report-html.js';

export interface RunReport {
  version: 1;
  stacks: Array<{ path: string; object: string; filter: string; frames: number; rejected_frames: Array<{ path: string; reason: string }>; exposure_total_s: number; preview?: string; noise?: number; reference?: string }>;
  masters: Array<{ path: string; kind: string; frames: number; exposure: number; temperature: number | null; source?: string }>;
  warnings: string[];
  timing_s: Record<string, number>;
  steps: Array<{ id: string; status: 'done' | 'reused' | 'failed'; seconds: number }>;
}

export interface ExecuteOptions {
  /** One line per step event (plain progress for logs and pipes). */
  log?: (line: string) => void;
  /** Called after each step (done or reused or failed): for a progress bar. */
  progress?: (done: number, total: number, step: string) => void;
  /** Integration workers (default: the integrate module's choice). */
  workers?: number;
  /** Where the steps run (default: here, in order). */
  executor?: Executor;
}

/** Runs one step whose dependencies are done (stamped in OUT/.darkroom/steps). */
export interface Executor {
  readonly name: string;
  /** Independent branches of the DAG may run at the same time. */
  readonly concurrent: boolean;
  /** Run step `s` (content hash `hash`); user errors are thrown as DarkroomError. */
  runStep(env: StepEnv, s: PlanStep, hash: string): Promise<StepOutput>;
  close(): Promise<void>;
}

export const localExecutor: Executor = {
  name: 'local',
  concurrent: false,
  runStep: (env, s) => runPlanStep(env, s),
  close: async () => undefined,
};

export interface Stamp {
  hash: string;
  /** A new id each time the step runs: the steps built on it record it, so redoing it redoes them. */
  id?: string;
  /** Outputs actually written (registration may leave frames out). */
  produced: string[];
  /** Size, sha256 and mtime of each produced file: checked before the step is reused. */
  files?: Record<string, { size: number; sha256: string; mtimeMs?: number }>;
  /** Stamp ids of every step upstream (transitively) when this step ran. */
  upstream?: Record<string, string>;
  /** Frames left out, with the reason (raw light paths). */
  rejected: Array<{ path: string; reason: string }>;
  info: Record<string, unknown>;
  seconds: number;
}

export type StepOutput = Pick<Stamp, 'produced' | 'rejected' | 'info'>;

/** A part of a step: only these frames (indices into its outputs) of a calibrate or debayer step. */
export interface StepPart {
  frames?: number[];
}

/** Merge the outputs of parts (frames in index order) into the step's output. */
export function mergeParts(parts: StepOutput[]): StepOutput {
  const info: Record<string, unknown> = {};
  const frames: unknown[] = [];
  for (const p of parts) {
    for (const [k, v] of Object.entries(p.info)) if (k !== 'frames') info[k] = v;
    if (Array.isArray(p.info.frames)) frames.push(...(p.info.frames as unknown[]));
  }
  if (parts.some((p) => Array.isArray(p.info.frames))) info.frames = frames;
  return { produced: parts.flatMap((p) => p.produced), rejected: parts.flatMap((p) => p.rejected), info };
}

/** What a step needs besides its own description: the plan and the finished steps' stamps. */
export interface StepEnv {
  plan: Plan;
  steps: Map<string, PlanStep>;
  producer: Map<string, PlanStep>;
  result: (id: string) => Stamp | undefined;
  warn: (w: string) => void;
  workers?: number;
  masterCache: Map<string, Master>;
}

export function makeStepEnv(plan: Plan, result: (id: string) => Stamp | undefined, warn: (w: string) => void, workers?: number): StepEnv {
  const producer = new Map<string, PlanStep>();
  for (const s of plan.steps) for (const p of s.outputs) producer.set(p, s);
  return { plan, steps: new Map(plan.steps.map((s) => [s.id, s])), producer, result, warn, workers, masterCache: new Map() };
}

/** Read the stamp of a finished step from OUT/.darkroom/steps (what a remote worker sees). */
export function readStampFile(out: string, id: string): Stamp | undefined {
  const p = join(out, '.darkroom', 'steps', stampName(id));
  if (!existsSync(p)) return undefined;
  try {
    return JSON.parse(readFileSync(p, 'utf8')) as Stamp;
  } catch {
    return undefined;
  }
}

const sha1 = (s: string): string => createHash('sha1').update(s).digest('hex');
/** Darkroom's own temp folder of an output folder (emptied at the start of each run). */
export const tmpDirOf = (out: string): string => join(out, '.darkroom', 'tmp');
export const stampName = (id: string): string => `${id.replace(/[^A-Za-z0-9._-]+/g, '_')}.json`;

function ensureDir(p: string): void {
  mkdirSync(dirname(p), { recursive: true });
}

function fileHash(path: string): string {
  const h = createHash('sha1');
  h.update(readFileSync(path));
  return h.digest('hex');
}

function stepTools(env: StepEnv) {
  const out = env.plan.out;
  const { producer, steps, masterCache } = env;
  const results = { get: env.result };
  const abs = (p: string): string => (p.startsWith('/') ? p : join(out, p));
  const master = (rel: string | undefined): Master | undefined => {
    if (!rel) return undefined;
    let m = masterCache.get(rel);
    if (!m) {
      m = loadMaster(abs(rel));
      masterCache.set(rel, m);
    }
    return m;
  };

  /** Produced inputs that exist (registration may have left some out). */
  const liveInputs = (s: PlanStep): string[] =>
    s.inputs.filter((p) => {
      const prod = producer.get(p);
      if (!prod) return true;
      return results.get(prod.id)?.produced.includes(p) ?? existsSync(abs(p));
    });
  /** The raw light behind a produced frame, following calibrate/debayer/register. */
  const rawOf = (p: string): string => {
    let cur = p;
    for (let i = 0; i < 4; i++) {
      const prod = producer.get(cur);
      if (!prod) return cur;
      const k = prod.outputs.indexOf(cur);
      const next = prod.kind === 'calibrate' || prod.kind === 'debayer' || prod.kind === 'register' ? prod.inputs[k] : undefined;
      if (!next) return cur;
      cur = next;
    }
    return cur;
  };
  const rejectedUpstream = (s: PlanStep): Array<{ path: string; reason: string }> => {
    const seen = new Set<string>();
    const acc: Array<{ path: string; reason: string }> = [];
    const walk = (id: string): void => {
      if (seen.has(id)) return;
      seen.add(id);
      const st = results.get(id);
      if (st) acc.push(...st.rejected);
      for (const d of steps.get(id)?.deps ?? []) walk(d);
    };
    for (const d of s.deps) walk(d);
    return acc;
  };
  return { abs, master, liveInputs, rawOf, rejectedUpstream };
}

/** The frames an integrate step combines (those upstream steps produced) and the ones they left out. */
export function integrateInputs(env: StepEnv, s: PlanStep): { inputs: string[]; rejected: Array<{ path: string; reason: string }> } {
  const { abs, liveInputs, rejectedUpstream } = stepTools(env);
  const inputs = liveInputs(s).map(abs);
  const rejected = rejectedUpstream(s);
  if (inputs.length === 0) throw new DarkroomError('TOO_FEW', `every frame was rejected (${rejected.map((r) => `${basename(r.path)}: ${r.reason}`).join('; ')})`);
  return { inputs, rejected };
}

/** Integration options of an integrate step. */
export function integrateOptions(s: PlanStep, workers?: number): Partial<IntegrateOptions> {
  const p = s.params;
  return {
    combine: 'average',
    reject: p.rejection as Reject,
    normalize: p.normalization as Normalize,
    weights: p.weights as Weights,
    rejectionMaps: false,
    ...(workers ? { workers } : {}),
  };
}

/** Write an integrate step's stack (keywords, HISTORY) and return the step's output. */
export function writeStack(env: StepEnv, s: PlanStep, r: IntegrateResult): StepOutput {
  const { abs, rawOf } = stepTools(env);
  const { inputs, rejected } = integrateInputs(env, s);
  const { plan } = env;
  const out = plan.out;
  const warnings = { push: (w: string): void => env.warn(w) };
  for (const w of r.warnings) warnings.push(`${s.outputs[0]}: ${w}`);
  const stack = plan.stacks.find((x) => x.step === s.id)!;
  const h = r.image.header;
  h.set('OBJECT', stack.object);
  h.set('FILTER', stack.filter);
  // The frames actually integrated (registration may have left some out), not the planned ones.
  const exposure = Number(inputs.reduce((t, p) => t + (frameMeta(readFitsHeader(p).header, p).exposure ?? 0), 0).toFixed(3));
  h.set('NCOMBINE', inputs.length, 'frames integrated');
  h.set('EXPTIME', exposure, '[s] total exposure of the integrated frames', { float: true });
  h.set('IMAGETYP', 'Master Light');
  r.history.unshift(`darkroom ${VERSION} run: ${s.reason}`);
  const dst = abs(s.outputs[0]!);
  ensureDir(dst);
  writeIntegration(r, dst);
  const zeroW = r.frames.filter((f) => !(f.weight > 0)).map((f) => ({ path: rawOf(relative(out, f.path)), reason: 'integration: zero weight' }));
  const regStep = s.deps.map((d) => env.steps.get(d)!).find((d) => d.kind === 'register');
  const reference = regStep ? (env.result(regStep.id)?.info.reference as string | undefined) : undefined;
  return { produced: [s.outputs[0]!], rejected: zeroW, info: { noise: r.noise, frames: inputs.length, exposure, rejectedUpstream: rejected, reference } };
}

/**
 * Run one step (or a part of it: some frames of a calibrate/debayer step) from the plan and the
 * stamps of its dependencies. Outputs are written atomically, so running it twice is harmless.
 */
export async function runPlanStep(env: StepEnv, s: PlanStep, part?: StepPart): Promise<StepOutput> {
  const { abs, master, liveInputs, rawOf, rejectedUpstream } = stepTools(env);
  const { producer, plan } = env;
  const out = plan.out;
  const warnings = { push: (w: string): void => env.warn(w) };
  const opts = { workers: env.workers };
  const only = part?.frames ? new Set(part.frames) : undefined;
  const p = s.params;
  switch (s.kind) {
    case 'reuse-master': {
      const dst = abs(s.outputs[0]!);
      ensureDir(dst);
      const tmp = `${dst}.tmp-${process.pid}`;
      copyFileSync(s.inputs[0]!, tmp);
      renameSync(tmp, dst);
      return { produced: [s.outputs[0]!], rejected: [], info: { source: s.inputs[0] } };
    }
    case 'master': {
      const kind = p.kind as MasterKind;
      const raw = s.inputs.filter((x) => !producer.has(x));
      const sub = master(p.calibrateWith as string | undefined);
      const mo = kind === 'flat' && sub ? (p.calibrateKind === 'bias' ? { bias: sub } : { flatDark: sub }) : {};
      const dst = abs(s.outputs[0]!);
      ensureDir(dst);
      // Temp files (calibrated flats) in OUT/.darkroom/tmp, which each run empties at its start.
      const r = await writeMaster(kind, raw, dst, { ...mo, workers: opts.workers, tmpDir: tmpDirOf(out) });
      for (const w of r.warnings) warnings.push(`${s.outputs[0]}: ${w}`);
      if (typeof p.library === 'string') {
        try {
          mkdirSync(dirname(p.library), { recursive: true });
          const tmp = `${p.library}.tmp-${process.pid}`;
          copyFileSync(dst, tmp);
          renameSync(tmp, p.library);
        } catch (e) {
          warnings.push(`cannot store ${s.outputs[0]} in the library: ${(e as Error).message}`);
        }
      }
      return { produced: [s.outputs[0]!], rejected: [], info: { frames: r.count } };
    }
    case 'calibrate': {
      const lights = s.inputs.filter((x) => !producer.has(x));
      const bias = master(p.bias as string | undefined);
      const dark = master(p.dark as string | undefined);
      const flat = master(p.flat as string | undefined);
      const dm = p.darkMode as string | undefined;
      let darkMode: CalDarkMode = dm === 'optimize' ? 'optimize' : 'plain';
      if (darkMode === 'optimize' && bias && dark) {
        const c = darkIsClamped(bias, dark);
        if (c.clamped) {
          darkMode = 'plain';
          warnings.push(`${s.id}: master dark mean ${c.darkMean.toFixed(2)} is not above master bias mean ${c.biasMean.toFixed(2)} (dark-darker-than-bias): dark used without scaling`);
        }
      }
      const produced: string[] = [];
      const rejected: Array<{ path: string; reason: string }> = [];
      const frames: unknown[] = [];
      lights.forEach((lp, i) => {
        if (only && !only.has(i)) return;
        const dst = s.outputs[i]!;
        try {
          const img = readFits(lp);
          const r = calibrateLight(img, lp, { bias: dark && darkMode === 'plain' ? undefined : bias, dark, flat, darkMode: dark ? darkMode : undefined, pedestal: p.pedestal as number });
          if (p.cosmetic) {
            const cfa = !!r.image.cfa;
            for (const plane of r.image.data) repairDefects(plane, detectDefects(plane, r.image.width, r.image.height, { cfa }), { cfa });
            r.history.push('cosmetic correction: hot/cold pixels detected and repaired');
          }
          for (const w of r.report.warnings) warnings.push(`${basename(lp)}: ${w}`);
          const path = abs(dst);
          ensureDir(path);
          writeFits(path, r.image, { bitpix: -32, history: [`darkroom ${VERSION} run: calibrated ${lp}`, ...r.history] });
          produced.push(dst);
          frames.push({ path: lp, mode: r.report.mode, k0: r.report.k0, noise: r.report.noise });
        } catch (e) {
          if (!isDarkroomError(e)) throw e;
          rejected.push({ path: lp, reason: `calibration failed: ${e.message}` });
        }
      });
      return { produced, rejected, info: { frames } };
    }
    case 'debayer': {
      const method = p.method as string;
      if (!(DEBAYER_METHODS as readonly string[]).includes(method)) throw new DarkroomError('BAD_ARGUMENT', `--debayer must be one of ${DEBAYER_METHODS.join(', ')}, got '${method}'`);
      const produced: string[] = [];
      for (const inp of liveInputs(s)) {
        const k = s.inputs.indexOf(inp);
        if (only && !only.has(k)) continue;
        const img = readFits(abs(inp));
        const cfa = requireCfa((img.cfa ?? (p.pattern as string)) as string, 'CFA pattern', abs(inp));
        const rgb = debayerImage(img, cfa, method as DebayerMethod, abs(inp));
        const dst = s.outputs[k]!;
        ensureDir(abs(dst));
        writeFits(abs(dst), rgb, { bitpix: -32, history: [`darkroom ${VERSION} run: debayer ${method} ${inp}`] });
        produced.push(dst);
      }
      return { produced, rejected: [], info: {} };
    }
    case 'register': {
      const inputs = liveInputs(s);
      if (inputs.length === 0) throw new DarkroomError('TOO_FEW', 'no calibrated frames to register');
      // Two passes so that memory holds one frame at a time whatever the frame count: stars of every
      // frame first (then the pixels are dropped), then each frame is read again and resampled.
      const geoms: Array<{ width: number; height: number }> = [];
      const stars = inputs.map((x) => {
        const im = readFits(abs(x));
        geoms.push({ width: im.width, height: im.height });
        return frameStars(im);
      });
      let ref = -1;
      if (typeof p.reference === 'string' && p.reference !== 'auto') {
        ref = inputs.findIndex((x) => rawOf(x) === p.reference || basename(rawOf(x)) === basename(p.reference as string));
        if (ref < 0) warnings.push(`${s.id}: reference ${p.reference} is not among these frames: chose the best frame instead`);
      }
      if (ref < 0) ref = chooseReference(stars);
      if (ref < 0) throw new DarkroomError('TOO_FEW', 'no frame has enough stars to be the registration reference');
      const refGeom = geoms[ref]!;
      const ropts = { drizzle: typeof p.drizzle === 'number' ? p.drizzle : undefined };
      const produced: string[] = [];
      const rejected: Array<{ path: string; reason: string }> = [];
      const frames: unknown[] = [];
      const pool = new WarpPool(opts.workers ?? availableParallelism());
      try {
        for (let i = 0; i < inputs.length; i++) {
          const inp = inputs[i]!;
          const reg = registerToReference(stars[i]!, stars[ref]!, i === ref, {});
          const raw = rawOf(inp);
          if (!reg.ok) {
            rejected.push({ path: raw, reason: `registration: ${reg.reason}` });
            continue;
          }
          const img = readFits(abs(inp));
          const data = await applyRegistrationAsync(img, reg.transform, refGeom.width, refGeom.height, ropts, pool);
          const scale = ropts.drizzle && ropts.drizzle > 1 ? ropts.drizzle : 1;
          const outImg: Image = { width: refGeom.width * scale, height: refGeom.height * scale, channels: img.channels, data, header: img.header.clone() };
          const k = s.inputs.indexOf(inp);
          const dst = s.outputs[k]!;
          ensureDir(abs(dst));
          writeFits(abs(dst), outImg, { bitpix: -32, history: [`darkroom ${VERSION} run: registered ${inp} onto ${inputs[ref]}`, `transform ${Array.from(reg.transform).map((v) => v.toPrecision(8)).join(' ')}`] });
          produced.push(dst);
          frames.push({ path: raw, stars: reg.stars, shift: reg.shift });
        }
      } finally {
        await pool.close();
      }
      return { produced, rejected, info: { reference: rawOf(inputs[ref]!), frames } };
    }
    case 'integrate': {
      const { inputs } = integrateInputs(env, s);
      const r = await integrateFiles(inputs, integrateOptions(s, opts.workers));
      return writeStack(env, s, r);
    }
    case 'preview': {
      const img = readFits(abs(s.inputs[0]!));
      const dst = abs(s.outputs[0]!);
      ensureDir(dst);
      writeFileAtomic(dst, [stretchToPng(img)]);
      return { produced: [s.outputs[0]!], rejected: [], info: {} };
    }
    case 'report':
      return { produced: [], rejected: [], info: {} };
  }
}

const INTERMEDIATE_KINDS: ReadonlySet<string> = new Set(['calibrate', 'debayer', 'register']);
const isIntermediate = (s: PlanStep): boolean => INTERMEDIATE_KINDS.has(s.kind);

/**
 * Before a run: refuse unsafe folders (OUT == night, OUT inside the night, the night inside a folder
 * the plan writes), empty Darkroom's temp folder (leftovers of a killed run), and record in the
 * manifest the folders of OUT the plan will create (those that do not exist yet).
 */
export function prepareOut(plan: Plan): Manifest {
  const out = plan.out;
  const outputs = plan.steps.flatMap((s) => s.outputs);
  checkRunPaths(plan.night, out, { library: plan.options.library, dirs: [...new Set([...OUTPUT_DIRS, ...topDirs(outputs)])] });
  mkdirSync(join(out, '.darkroom', 'steps'), { recursive: true });
  rmSync(tmpDirOf(out), { recursive: true, force: true });
  mkdirSync(tmpDirOf(out), { recursive: true });
  const m = loadManifest(out);
  claimDirs(out, m, outputs);
  saveManifest(out, m);
  return m;
}

/** Every step upstream of a step (its dependencies, theirs, ...), memoized. */
function upstreamIds(env: StepEnv): (id: string) => string[] {
  const memo = new Map<string, string[]>();
  const get = (id: string): string[] => {
    let r = memo.get(id);
    if (!r) {
      const set = new Set<string>();
      for (const d of env.steps.get(id)?.deps ?? []) {
        set.add(d);
        for (const x of get(d)) set.add(x);
      }
      r = [...set];
      memo.set(id, r);
    }
    return r;
  };
  return get;
}

/**
 * Every produced file of a stamp is there with the size and sha256 recorded when it was written.
 * `quick` (intermediates, which can be thousands of frames): an unchanged size and mtime is trusted
 * without hashing; final outputs are always hashed.
 */
function outputsIntact(out: string, st: Stamp, quick: boolean): boolean {
  return st.produced.every((p) => {
    const f = st.files?.[p];
    const path = join(out, p);
    if (!f || !existsSync(path)) return false;
    const stat = statSync(path);
    if (stat.size !== f.size) return false;
    if (quick && stat.mtimeMs === f.mtimeMs) return true;
    return fileDigest(path).sha256 === f.sha256;
  });
}

/**
 * Which steps can be reused: same hash (kind, params, input fingerprints), outputs intact, and built on
 * the same runs of the upstream steps that still have stamps (a redone master redoes its stack).
 */
function makeFresh(out: string, env: StepEnv, results: Map<string, Stamp>, hashOf: (s: PlanStep) => string, force: boolean): (s: PlanStep) => Stamp | undefined {
  const memo = new Map<string, Stamp | null>();
  const up = upstreamIds(env);
  const check = (s: PlanStep): Stamp | undefined => {
    const st = readStampFile(out, s.id);
    if (!st || st.hash !== hashOf(s) || !st.id || !st.upstream || !outputsIntact(out, st, isIntermediate(s))) return undefined;
    for (const d of up(s.id)) {
      // A dependency without a stamp (a removed intermediate) is covered by the hash chain.
      const cur = results.get(d) ?? (readStampFile(out, d) ? (fresh(env.steps.get(d)!) ?? null) : undefined);
      if (cur === null || (cur && st.upstream[d] !== cur.id)) return undefined;
    }
    return st;
  };
  const fresh = (s: PlanStep): Stamp | undefined => {
    if (force) return undefined;
    if (!memo.has(s.id)) memo.set(s.id, check(s) ?? null);
    return memo.get(s.id) ?? undefined;
  };
  return fresh;
}

/** Merkle hashes: a step's hash covers its kind, params and the fingerprints of its inputs; a produced input is fingerprinted by the hash of the step producing it. */
function makeHashOf(plan: Plan, producer: Map<string, PlanStep>): (s: PlanStep) => string {
  const hashes = new Map<string, string>();
  const hashOf = (s: PlanStep): string => {
    const known = hashes.get(s.id);
    if (known) return known;
    const fp = s.inputs.map((p) => {
      const prod = producer.get(p);
      if (prod) return `${p}@${hashOf(prod)}`;
      return `${p}#${plan.fingerprints[p] ?? (existsSync(p) ? fileHash(p) : 'missing')}`;
    });
    const h = sha1(JSON.stringify({ v: VERSION, kind: s.kind, params: s.params, inputs: fp, outputs: s.outputs }));
    hashes.set(s.id, h);
    return h;
  };
  return hashOf;
}

interface RunState {
  results: Map<string, Stamp>;
  failed: Map<string, string>;
  warnings: string[];
  timing: Record<string, number>;
  statuses: RunReport['steps'];
}

function buildRunReport(plan: Plan, rs: RunState): RunReport {
  const out = plan.out;
  const { results } = rs;
  return {
    version: 1,
    stacks: plan.stacks.filter((st) => results.has(st.step)).map((st) => {
      const integ = results.get(st.step)!;
      const rejected = [...((integ.info.rejectedUpstream as Array<{ path: string; reason: string }>) ?? []), ...integ.rejected];
      const used = (integ.info.frames as number) ?? st.frames;
      const expPer = st.frames ? st.exposure_total_s / st.frames : 0;
      const exposure = typeof integ.info.exposure === 'number' ? integ.info.exposure : expPer * used;
      const prev = plan.steps.find((x) => x.kind === 'preview' && x.inputs[0] === st.path);
      return {
        path: st.path,
        object: st.object,
        filter: st.filter,
        frames: used,
        rejected_frames: rejected.map((r) => ({ path: r.path.startsWith('/') ? relative(out, r.path) : r.path, reason: r.reason })),
        exposure_total_s: Number(exposure.toFixed(3)),
        preview: prev?.outputs[0],
        noise: integ.info.noise as number | undefined,
        reference: typeof integ.info.reference === 'string' ? relative(out, integ.info.reference) : undefined,
      };
    }),
    masters: plan.masters.map((m) => ({ path: m.path, kind: m.kind, frames: m.frames, exposure: m.exposure, temperature: m.temperature ?? null, ...(m.source ? { source: m.source } : {}) })),
    warnings: rs.warnings,
    timing_s: { total: 0, ...Object.fromEntries(Object.entries(rs.timing).map(([k, v]) => [k, Number(v.toFixed(3))])) },
    steps: rs.statuses,
  };
}

/** End of a run without --keep-intermediates: Darkroom's intermediate files go, one by one, from the manifest; their stamps too. */
function removeIntermediates(plan: Plan, m: Manifest, warn: (w: string) => void): void {
  removeRecorded(plan.out, m, (_rel, e) => !!e.intermediate, warn);
  for (const s of plan.steps) if (isIntermediate(s)) rmSync(join(plan.out, '.darkroom', 'steps', stampName(s.id)), { force: true });
}

/** Write report.json and report.html (recorded in the manifest when Darkroom creates them). */
function writeReportFiles(out: string, m: Manifest, report: RunReport, plan: Plan): void {
  const files = { 'report.json': Buffer.from(`${JSON.stringify(report, null, 2)}\n`), 'report.html': Buffer.from(renderReportHtml(report, plan)) };
  claimFiles(out, m, 'report', Object.keys(files), false);
  for (const [name, buf] of Object.entries(files)) writeFileAtomic(join(out, name), [buf]);
  recordFiles(out, m, Object.keys(files), Object.fromEntries(Object.keys(files).map((n) => [n, fileDigest(join(out, n))])));
}

interface Runner {
  plan: Plan;
  env: StepEnv;
  executor: Executor;
  manifest: Manifest;
  rs: RunState;
  log: (line: string) => void;
}

/** Run steps in dependency order (each once), reusing fresh ones, stamping and recording the others. */
function makeRunner(c: Runner): (s: PlanStep) => Promise<Stamp | undefined> {
  const { plan, env, executor, manifest, log } = c;
  const { results, failed, warnings, timing, statuses } = c.rs;
  const out = plan.out;
  const hashOf = makeHashOf(plan, env.producer);
  const fresh = makeFresh(out, env, results, hashOf, plan.options.force);
  const up = upstreamIds(env);
  const total = plan.steps.length;
  let n = 0;
  const running = new Map<string, Promise<Stamp | undefined>>();
  /** Run a step (after its dependencies); undefined when it or a dependency failed with a user error. */
  const run = (s: PlanStep): Promise<Stamp | undefined> => {
    let r = running.get(s.id);
    if (!r) {
      r = runOnce(s);
      running.set(s.id, r);
    }
    return r;
  };
  const fail = (s: PlanStep, why: string, seconds: number, line: string): undefined => {
    failed.set(s.id, why);
    statuses.push({ id: s.id, status: 'failed', seconds });
    log(`[${++n}/${total}] ${s.id}: ${line}`);
    return undefined;
  };
  /** Stamp a finished step: outputs' size and sha256, the upstream runs it was built on; record its files. */
  const stampStep = (s: PlanStep, st: StepOutput, seconds: number): Stamp => {
    const files = Object.fromEntries(st.produced.map((p) => [p, { ...fileDigest(join(out, p)), mtimeMs: statSync(join(out, p)).mtimeMs }]));
    const upstream = Object.fromEntries(up(s.id).flatMap((d) => (results.get(d)?.id ? [[d, results.get(d)!.id!]] : [])));
    const stamp: Stamp = { ...st, hash: hashOf(s), id: randomUUID(), files, upstream, seconds };
    writeFileAtomic(join(out, '.darkroom', 'steps', stampName(s.id)), [Buffer.from(JSON.stringify(stamp, null, 1))]);
    recordFiles(out, manifest, s.outputs, files);
    saveManifest(out, manifest);
    return stamp;
  };
  const runOnce = async (s: PlanStep): Promise<Stamp | undefined> => {
    const done = results.get(s.id);
    if (done) return done;
    if (failed.has(s.id)) return undefined;
    const f = fresh(s);
    if (f) {
      results.set(s.id, f);
      statuses.push({ id: s.id, status: 'reused', seconds: 0 });
      log(`[${++n}/${total}] ${s.id}: unchanged, reused`);
      return f;
    }
    // Dependencies: one after the other here; side by side when the executor runs remotely.
    if (executor.concurrent) await Promise.all(s.deps.map((d) => run(env.steps.get(d)!)));
    for (const d of s.deps) {
      if (!(await run(env.steps.get(d)!))) {
        const why = `not run: ${d} failed: ${failed.get(d)!.replace(/^not run: .*? failed: /, '')}`;
        return fail(s, why, 0, why);
      }
    }
    const t = Date.now();
    log(`[${n + 1}/${total}] ${s.id}: ${s.kind} (${s.inputs.length} input(s))`);
    // Claim the outputs that do not exist yet: Darkroom's, whatever happens to this step.
    claimFiles(out, manifest, s.id, s.outputs, isIntermediate(s));
    saveManifest(out, manifest);
    let st: StepOutput;
    try {
      st = await executor.runStep(env, s, hashOf(s));
    } catch (e) {
      recordFiles(out, manifest, s.outputs, {});
      saveManifest(out, manifest);
      if (!isDarkroomError(e)) throw e;
      warnings.push(`${s.id} failed: ${e.oneLine()}`);
      return fail(s, e.oneLine(), (Date.now() - t) / 1000, `FAILED: ${e.oneLine()}`);
    }
    const seconds = (Date.now() - t) / 1000;
    const stamp = stampStep(s, st, seconds);
    results.set(s.id, stamp);
    statuses.push({ id: s.id, status: 'done', seconds });
    timing[s.kind] = (timing[s.kind] ?? 0) + seconds;
    log(`[${++n}/${total}] ${s.id}: done in ${seconds.toFixed(1)} s`);
    return stamp;
  };
  return run;
}

export async function executePlan(plan: Plan, opts: ExecuteOptions = {}): Promise<RunReport> {
  const plainLog = opts.log ?? (() => undefined);
  let finished = 0;
  const log = (line: string): void => {
    plainLog(line);
    const m = /^\[\d+\/\d+\] (\S+): (?!\w+ \(\d+ input)/.exec(line);
    if (m && opts.progress) opts.progress(++finished, plan.steps.length - 1, m[1]!);
  };
  const out = plan.out;
  const t0 = Date.now();
  const manifest = prepareOut(plan);
  const executor = opts.executor ?? localExecutor;
  const rs: RunState = { results: new Map(), failed: new Map(), warnings: [...plan.warnings], timing: {}, statuses: [] };
  const { results, failed, warnings } = rs;
  const env = makeStepEnv(plan, (id) => results.get(id), (w) => warnings.push(w), opts.workers);
  const run = makeRunner({ plan, env, executor, manifest, rs, log });

  // Pull the final outputs (masters, stacks, previews); intermediates run only when something
  // downstream must be recomputed. The report is always rewritten.
  const finals = new Set(['master', 'reuse-master', 'integrate', 'preview']);
  if (executor.concurrent) await Promise.all(plan.steps.filter((s) => finals.has(s.kind)).map((s) => run(s)));
  else for (const s of plan.steps) if (finals.has(s.kind)) await run(s);

  const report = buildRunReport(plan, rs);
  for (const st of plan.stacks) if (!results.has(st.step)) warnings.push(`${st.path} not produced: ${failed.get(st.step) ?? 'not run'}`);
  if (!plan.options.keepIntermediates) removeIntermediates(plan, manifest, (w) => warnings.push(w));
  report.timing_s.total = Number(((Date.now() - t0) / 1000).toFixed(3));
  writeReportFiles(out, manifest, report, plan);
  saveManifest(out, manifest);
  log(`report: ${join(out, 'report.json')} (${report.timing_s.total.toFixed(1)} s)`);
  if (plan.stacks.length > 0 && report.stacks.length === 0) {
    const first = [...failed.entries()].filter(([, w]) => !w.startsWith('not run:')).map(([id, w]) => `${id}: ${w}`)[0] ?? 'every step failed';
    throw new DarkroomError('TOO_FEW', `no stack could be made (see ${join(out, 'report.json')}): ${first}`, plan.night);
  }
  return report;
}
