/**
 * The plan of a one-shot run: a plain JSON DAG of steps (id, kind, inputs, outputs, params,
 * reason, deps), built from a scanned night before anything is computed. Raw inputs are
 * absolute paths; everything produced is a path relative to the output folder.
 *
 * buildPlan runs named stages: scan (plan-scan.ts), group and match masters (plan-scan.ts), master
 * steps, light steps, stacks and previews (plan-steps.ts), then the summary, the warnings and the
 * --strict check (plan-summary.ts).
 */
import { resolve } from 'node:path';
import type { MasterKind, MasterSettings } from '../calibrate/masters.js';
import type { DarkMode, StandIn } from '../session/group.js';
import type { DebayerMethod } from '../color/debayer.js';
import type { Interp } from '../register/resample.js';
import { RUN_TOP_DEFAULTS, type IntegrateOptions, type Normalize, type Reject } from '../integrate/options.js';
import { warningLine, type WarningEvent } from '../util/warnings.js';
import { VERSION } from '../version.js';
import { groupStage, scanStage, type PlanContext } from './plan-scan.js';
import { lightSteps, masterSteps, reportStep, stackSteps } from './plan-steps.js';
import { checkStrict, planFrames, planGroups, planWarnings } from './plan-summary.js';

export { scanCachePath, type PlanContext } from './plan-scan.js';

export interface RunOptions {
  reject: string;
  normalize: string;
  /** none, noise, exposure or keyword:NAME. */
  weights: string;
  /** The stacks' other integration options that differ from their defaults (integrate/options.ts). */
  integration?: Partial<IntegrateOptions>;
  drizzle?: number;
  debayer: string;
  cosmetic: boolean;
  pedestal: number;
  reference?: string;
  register: boolean;
  /** The registration's resampling kernel (register/options.ts); absent: the catalogue's default, lanczos3. */
  interp?: Interp;
  keepIntermediates: boolean;
  strict: boolean;
  force: boolean;
  library?: string;
  /** Exclusion rules for the scan (globs as in .gitignore, added to the night's .darkroomignore). */
  exclude?: string[];
  /** false: do not plate solve the stacks (default: solve them when solve-field can, and write their WCS). */
  solve?: boolean;
}

/** The defaults of a run; its stacks' integration options default to the integration catalogue's (one default each). */
export const DEFAULT_OPTIONS: RunOptions = {
  ...RUN_TOP_DEFAULTS,
  debayer: 'rcd',
  cosmetic: false,
  pedestal: 0,
  register: true,
  keepIntermediates: false,
  strict: false,
  force: false,
};

/** A master copied from the library. */
export interface ReuseMasterParams {
  kind: MasterKind;
  key: string;
}

/** A master built from the night's frames: exactly the settings passed to the master builder. */
export interface MasterParams {
  kind: MasterKind;
  key: string;
  exposure: number;
  temperature?: number;
  filter?: string;
  settings: MasterSettings;
  /** Flats: the master subtracted from each flat first (a path in OUT), and its kind. */
  calibrateWith?: string;
  calibrateKind?: MasterKind;
  /** Where the new master is stored in the library. */
  library?: string;
}

export interface CalibrateParams {
  pedestal: number;
  cosmetic: boolean;
  dark?: string;
  bias?: string;
  flat?: string;
  darkMode?: DarkMode;
  optimizeDark: boolean;
}

export interface DebayerParams {
  method: DebayerMethod;
  pattern: string;
}

export interface RegisterParams {
  /** 'auto' or the path of the raw light to register onto. */
  reference: string;
  drizzle: number | null;
  /** The resampling kernel when not the default (lanczos3): absent in a default run, which keeps its hashes. */
  interp?: Interp;
}

export interface IntegrateParams {
  rejection: Reject;
  normalization: Normalize;
  /** none, noise, exposure or keyword:NAME. */
  weights: string;
  drizzle: number | null;
  /** The other integration options that differ from their defaults. */
  integration?: Partial<IntegrateOptions>;
  /** false: do not plate solve the stack (steps/solve.ts); absent: solve it. */
  solve?: false;
}

export interface PreviewParams {
  stretch: 'auto-stf';
}

export type ReportParams = Record<string, never>;

interface StepOf<K extends string, P> {
  id: string;
  kind: K;
  inputs: string[];
  outputs: string[];
  params: P;
  reason: string;
  deps: string[];
}

export type ReuseMasterStep = StepOf<'reuse-master', ReuseMasterParams>;
export type MasterStep = StepOf<'master', MasterParams>;
export type CalibrateStep = StepOf<'calibrate', CalibrateParams>;
export type DebayerStep = StepOf<'debayer', DebayerParams>;
export type RegisterStep = StepOf<'register', RegisterParams>;
export type IntegrateStep = StepOf<'integrate', IntegrateParams>;
export type PreviewStep = StepOf<'preview', PreviewParams>;
export type ReportStep = StepOf<'report', ReportParams>;

/** A step of the plan: discriminated on `kind`, with the params of that kind. */
export type PlanStep = ReuseMasterStep | MasterStep | CalibrateStep | DebayerStep | RegisterStep | IntegrateStep | PreviewStep | ReportStep;
export type StepKind = PlanStep['kind'];
export type StepOfKind<K extends StepKind> = Extract<PlanStep, { kind: K }>;

/** The step `id` of the plan, which must be of kind `kind`. */
export function stepById<K extends StepKind>(plan: Pick<Plan, 'steps'>, id: string, kind: K): StepOfKind<K> {
  const s = plan.steps.find((x) => x.id === id);
  if (!s || s.kind !== kind) throw new Error(`no ${kind} step ${id} in the plan`);
  return s as StepOfKind<K>;
}

export interface PlanMaster {
  id: string;
  kind: string;
  path: string;
  frames: number;
  exposure: number;
  temperature?: number;
  filter?: string;
  /** Where an existing master comes from (library). */
  source?: string;
  step: string;
}

export interface PlanStack {
  path: string;
  object: string;
  filter: string;
  lightGroups: string[];
  frames: number;
  exposure_total_s: number;
  cfa?: string;
  step: string;
  /** With --rejection-maps: the stack's rejection maps (fraction of frames rejected low/high per pixel), beside it. */
  rejectionMaps?: { low: string; high: string };
}

export interface PlanFrames {
  found: number;
  unique: number;
  byKind: Record<string, number>;
  duplicates: Array<{ path: string; of: string }>;
  skipped: Array<{ path: string; reason: string }>;
  /** Files that are not named as FITS (not read). */
  ignored: string[];
  /** Folders and files left out by an exclusion rule (--exclude, .darkroomignore), with the rule. */
  excluded?: Array<{ path: string; rule: string }>;
  reclassified: Array<{ path: string; kind: string | null; header: string | null; note: string }>;
}

export interface PlanGroups {
  /** `standIn`: a flat group calibrated with a dark or flat-dark standing in as the bias, its details. */
  calibration: Array<{ id: string; kind: string; frames: number; exposure: number; temperature?: number; binning: string; filter?: string; used: boolean; library?: string; standIn?: StandIn }>;
  /** `standIn`: when the bias is a dark or flat-dark standing in, which one, its exposure and the dark signal it carries (the reason's words are made from it). */
  lights: Array<{ id: string; target: string; filter?: string; exposure: number; temperature?: number; binning: string; frames: number; cfa?: string; dark?: string; darkMode?: string; bias?: string; flat?: string; standIn?: StandIn; reasons: string[] }>;
}

export interface Plan {
  version: 1;
  darkroom: string;
  night: string;
  out: string;
  options: RunOptions;
  frames: PlanFrames;
  targets: Array<{ name: string; frames: number; ra?: number; dec?: number; objects: Record<string, number>; notes: string[] }>;
  groups: PlanGroups;
  masters: PlanMaster[];
  stacks: PlanStack[];
  steps: PlanStep[];
  /** The human line of each warning (warningLine of warningEvents[i]). */
  warnings: string[];
  /** The same warnings with their codes (what --strict and other callers decide on). */
  warningEvents: WarningEvent[];
  /** Content fingerprints of the raw inputs (absolute path -> hash of headers and data). */
  fingerprints: Record<string, string>;
}

export function buildPlan(nightIn: string, outIn: string, opts: Partial<RunOptions> = {}, ctx: PlanContext = {}): Plan {
  const options: RunOptions = { ...DEFAULT_OPTIONS, ...opts };
  const night = resolve(nightIn);
  const out = resolve(outIn);
  const scan = scanStage(nightIn, outIn, options, ctx);
  const grouping = groupStage(scan, options);
  const masters = masterSteps(grouping, options);
  const lights = lightSteps(grouping, options);
  const stacks = stackSteps(grouping, lights.last, options);
  const steps = [...masters.steps, ...lights.steps, ...stacks.steps];
  steps.push(reportStep(steps, stacks.stacks));
  const warningEvents = planWarnings(scan, grouping);
  if (options.strict) checkStrict(warningEvents, nightIn);
  const plan: Plan = {
    version: 1,
    darkroom: VERSION,
    night,
    out,
    options,
    frames: planFrames(scan),
    targets: grouping.targets.map((t) => ({ name: t.name, frames: t.frames.length, ra: t.ra, dec: t.dec, objects: t.objects, notes: t.notes })),
    groups: planGroups(grouping),
    masters: masters.masters,
    stacks: stacks.stacks,
    steps,
    warnings: warningEvents.map(warningLine),
    warningEvents,
    fingerprints: Object.fromEntries(scan.unique.filter((f) => f.contentHash).map((f) => [f.path, f.contentHash!])),
  };
  // Plain JSON: no undefined fields, what --json prints is exactly the plan.
  return JSON.parse(JSON.stringify(plan)) as Plan;
}
