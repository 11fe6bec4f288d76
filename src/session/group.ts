/**
 * Grouping and master matching, as MaxIm's auto-calibration groups and PixInsight's WBPP do it.
 * Calibration frames: kind + exposure (the same within 2% or 0.01 s, whichever is larger; flats,
 * whose exposure the normalization absorbs, within 0.5 s) + temperature (clusters of 2 C; the key
 * names the 2 C bucket of the mean) + binning +
 * gain/offset + size (+ filter for flats). Lights: target + filter + exposure + binning (+ size).
 * Each light group gets the best dark, flat and bias, with the reason written down.
 *
 * Calibration policy (issue 15): a light or a flat is never divided by a flat with its bias pedestal
 * still in. Per group, the best the night has, in this order:
 *  1. a dark of the same exposure and temperature: (L - MD) / MF * s0;
 *  2. a longer dark (or one of another temperature) scaled by dark optimization over a bias:
 *     ((L - MB) - k0 (MD - MB)) / MF * s0;
 *  3. no usable dark: the bias; without a bias, the shortest dark or flat-dark of the same camera,
 *     binning, size, gain/offset and temperature stands in as the bias (standInBias), and also
 *     enables the optimization of 2 for darks at least STANDIN_MIN_RATIO times its exposure;
 *  4. overscan: not detected by the planner today (calibrate --overscan only);
 *  5. nothing: the flat is not applied and a loud warning names the consequence.
 * Flats: flat-dark, else a dark of their exposure, else the bias, else the stand-in; a flat that
 * nothing can pedestal-correct is not used.
 */
import type { Frame } from './scan.js';
import type { FrameKind } from './metadata.js';
import { groupTargets, slugify, type Target } from './targets.js';

export type CalKind = Exclude<FrameKind, 'light'>;

export interface GroupBase {
  id: string;
  /** Key used for the master library and for the file name. */
  key: string;
  exposure: number;
  /** Mean sensor temperature of the frames (undefined when no header has it). */
  temperature?: number;
  binning: { x: number; y: number };
  gain?: number;
  offset?: number;
  /** System gain in e-/ADU (EGAIN of the first frame that has it). */
  egain?: number;
  width: number;
  height: number;
  filter?: string;
  camera?: string;
  cfa?: string;
  frames: Frame[];
}

export interface CalGroup extends GroupBase {
  kind: CalKind;
  /** Median of the frames' sampled pixel medians (ADU), for the dark-vs-bias check. */
  level?: number;
  sigma?: number;
  /** Path of a master from the library (already calibrated: a library flat needs no flat-dark). */
  library?: string;
}

export interface LightGroup extends GroupBase {
  kind: 'light';
  target: string;
  targetSlug: string;
  /** Median of the frames' sampled pixel medians (ADU): pedestal + dark + sky. */
  level?: number;
}

export type DarkMode = 'exact' | 'optimize' | 'unscaled';

/** A dark or flat-dark master standing in as the bias (the night has no bias frames). */
export interface StandIn {
  /** The master standing in (its group id). */
  master: string;
  kind: 'dark' | 'flatdark';
  exposure: number;
  /** The exposures (s) of the darks whose levels tell the dark current (two or more; absent: not estimated). */
  rateFrom?: number[];
  /** Dark current (ADU/s) from the levels of the compatible darks of two or more exposures. */
  darkRateAdu?: number;
  /** The dark signal the stand-in carries besides the pedestal (rate * its exposure). */
  darkSignalAdu?: number;
  darkSignalE?: number;
  /** That dark signal in % of the target's signal above the stand-in (the lights' sky, the flats' level). */
  pctOfSignal?: number;
  /** What pctOfSignal is a fraction of. */
  of: "the lights' sky" | "the flats' signal";
}

/** The words of a stand-in's dark signal, made from its fields. */
export function standInText(s: StandIn): string {
  if (s.darkRateAdu === undefined || s.darkSignalAdu === undefined || !s.rateFrom) return `its dark signal is not estimated (darks of one exposure only: two or more tell the dark current)`;
  const parts = [`${fmtNum(s.darkSignalAdu, 2)} ADU`];
  if (s.darkSignalE !== undefined) parts.push(`${fmtNum(s.darkSignalE, 2)} e-`);
  if (s.pctOfSignal !== undefined) parts.push(`${fmtNum(s.pctOfSignal, 2)}% of ${s.of}`);
  const from = `dark current ${fmtNum(s.darkRateAdu, 3)} ADU/s from the levels of the darks of ${s.rateFrom.map((e) => `${fmtNum(e)} s`).join(', ')}`;
  return `it carries a dark signal of ${parts.join(', ')} (${from})`;
}

export interface MasterChoice {
  group: string;
  reason: string;
  /** Set when this "bias" is a dark or flat-dark master standing in as the bias. */
  standIn?: StandIn;
}

export interface LightMatch {
  light: string;
  dark?: MasterChoice & { mode: DarkMode };
  bias?: MasterChoice;
  flat?: MasterChoice;
  reasons: string[];
  warnings: string[];
  /** Case 5 (nothing removes the lights' pedestal): that warning (one of `warnings`), for its own code. */
  pedestalNotRemoved?: string;
}

export interface FlatCalibration {
  flat: string;
  flatdark?: MasterChoice;
  /** A regular dark group used as flat-dark (same exposure). */
  dark?: MasterChoice;
  bias?: MasterChoice;
  warnings: string[];
}

export interface Grouping {
  targets: Target[];
  calibration: CalGroup[];
  lights: LightGroup[];
  matches: LightMatch[];
  flatCalibration: FlatCalibration[];
  /** Calibration groups used by some light or flat. */
  used: Set<string>;
  warnings: string[];
}

/**
 * Two exposures are the same when they differ by at most EXPOSURE_TOLERANCE_REL of the longer one
 * or EXPOSURE_TOLERANCE_S, whichever is larger: a header's rounding (60 vs 60.02 s) is the same
 * exposure, 1 s and 1.5 s darks are not (their dark signals differ by half). As WBPP groups darks:
 * by exposure, with a small tolerance. Flats are grouped within FLAT_EXPOSURE_TOLERANCE (sky flats
 * vary their exposure; the normalization takes out the level).
 */
export const EXPOSURE_TOLERANCE_REL = 0.02;
export const EXPOSURE_TOLERANCE_S = 0.01;
export const FLAT_EXPOSURE_TOLERANCE = 0.5;

/** The largest difference from exposure `e` (s) that is still the same exposure. */
export function exposureTolerance(e: number): number {
  return Math.max(EXPOSURE_TOLERANCE_S, EXPOSURE_TOLERANCE_REL * Math.abs(e));
}

/** Exposures `a` and `b` (s) are the same (within exposureTolerance of the longer). */
export function sameExposure(a: number, b: number): boolean {
  return Math.abs(a - b) <= exposureTolerance(Math.max(a, b));
}
export const TEMPERATURE_BUCKET = 2;
/**
 * A dark is scaled over a stand-in bias only when its exposure is at least this many times the
 * stand-in's: (MD - MS) then holds mostly dark current, so k0 is well determined and the scaled
 * dark adds little noise. A dark barely longer than the stand-in (the 1.5 s dark over the 1 s one)
 * would have to be scaled up 40-120x for minutes-long lights: that only adds noise.
 */
export const STANDIN_MIN_RATIO = 5;

export function fmtNum(n: number | undefined, digits = 3): string {
  if (n === undefined) return 'na';
  return String(Number(n.toFixed(digits)));
}

function tempBucket(t: number | undefined): string {
  if (t === undefined) return 'na';
  const b = Math.round(t / TEMPERATURE_BUCKET) * TEMPERATURE_BUCKET;
  return String(b === 0 ? 0 : b);
}

function median(a: number[]): number | undefined {
  if (a.length === 0) return undefined;
  const s = [...a].sort((x, y) => x - y);
  const n = s.length;
  return n % 2 ? s[(n - 1) >> 1]! : 0.5 * (s[n / 2 - 1]! + s[n / 2]!);
}

/** Most common value (rounded to 1 ms), the smaller on ties: the group's nominal exposure. */
function mode(a: number[]): number {
  const c = new Map<number, number>();
  for (const v of a) {
    const r = Number(v.toFixed(3));
    c.set(r, (c.get(r) ?? 0) + 1);
  }
  let best = Infinity;
  let bn = 0;
  for (const [v, k] of c) if (k > bn || (k === bn && v < best)) [best, bn] = [v, k];
  return best;
}

function mean(a: number[]): number | undefined {
  return a.length ? a.reduce((x, y) => x + y, 0) / a.length : undefined;
}

/** Split frames (sorted by exposure) where an exposure is not the cluster's first (sameExposure; flats: within FLAT_EXPOSURE_TOLERANCE). */
function splitByExposure(frames: Frame[], flats = false): Frame[][] {
  const s = [...frames].sort((a, b) => (a.meta.exposure ?? 0) - (b.meta.exposure ?? 0) || a.rel.localeCompare(b.rel));
  const out: Frame[][] = [];
  let cur: Frame[] = [];
  let start = 0;
  for (const f of s) {
    const e = f.meta.exposure ?? 0;
    if (cur.length && (flats ? e - start > FLAT_EXPOSURE_TOLERANCE : !sameExposure(start, e))) {
      out.push(cur);
      cur = [];
    }
    if (!cur.length) start = e;
    cur.push(f);
  }
  if (cur.length) out.push(cur);
  return out;
}

/**
 * Split frames (sorted by temperature) where the gap to the cluster's first temperature exceeds the
 * 2 C bucket; frames without a temperature form their own cluster. Clusters, not fixed buckets: a
 * camera regulated at -31 C (between the -30 and -32 buckets) wobbling by 0.1 C is one group.
 */
function splitByTemperature(frames: Frame[]): Frame[][] {
  const known = frames.filter((f) => f.meta.temperature !== undefined).sort((a, b) => a.meta.temperature! - b.meta.temperature! || a.rel.localeCompare(b.rel));
  const out: Frame[][] = [];
  for (const f of known) {
    const cur = out[out.length - 1];
    if (cur && f.meta.temperature! - cur[0]!.meta.temperature! <= TEMPERATURE_BUCKET) cur.push(f);
    else out.push([f]);
  }
  const unknown = frames.filter((f) => f.meta.temperature === undefined);
  if (unknown.length) out.push(unknown);
  return out;
}

function baseOf(frames: Frame[]): Omit<GroupBase, 'id' | 'key'> {
  const f0 = frames[0]!;
  const exps = frames.map((f) => f.meta.exposure ?? 0);
  const temps = frames.map((f) => f.meta.temperature).filter((t): t is number => t !== undefined);
  return {
    exposure: mode(exps),
    temperature: temps.length ? Number(mean(temps)!.toFixed(2)) : undefined,
    binning: f0.meta.binning,
    gain: f0.meta.gain,
    offset: f0.meta.offset,
    egain: frames.find((f) => f.meta.egain !== undefined)?.meta.egain,
    width: f0.width,
    height: f0.height,
    filter: f0.meta.filter,
    camera: f0.camera,
    cfa: f0.cfa,
    frames: [...frames].sort((a, b) => a.rel.localeCompare(b.rel)),
  };
}

function sensorKey(f: Frame): string {
  const m = f.meta;
  return `bin${m.binning.x}x${m.binning.y}|g${fmtNum(m.gain)}|o${fmtNum(m.offset)}|${f.width}x${f.height}x${f.channels}`;
}

/** Library/file key of a calibration group: `dark_300s_-10C_bin1x1_g100_o10_64x48`. */
export function calKey(g: Omit<CalGroup, 'id' | 'key'>): string {
  const parts = [g.kind, `${fmtNum(g.exposure)}s`, `${tempBucket(g.temperature)}C`, `bin${g.binning.x}x${g.binning.y}`];
  if (g.gain !== undefined) parts.push(`g${fmtNum(g.gain)}`);
  if (g.offset !== undefined) parts.push(`o${fmtNum(g.offset)}`);
  parts.push(`${g.width}x${g.height}`);
  if (g.kind === 'flat' && g.filter) parts.push(slugify(g.filter));
  return parts.join('_');
}

export function groupCalibration(frames: Frame[]): CalGroup[] {
  const buckets = new Map<string, Frame[]>();
  for (const f of frames) {
    if (!f.kind || f.kind === 'light') continue;
    const k = `${f.kind}|${sensorKey(f)}|${f.kind === 'flat' ? (f.meta.filter ?? '') : ''}|${f.camera ?? ''}`;
    buckets.set(k, [...(buckets.get(k) ?? []), f]);
  }
  const out: CalGroup[] = [];
  for (const list of buckets.values()) {
    for (const part of splitByTemperature(list).flatMap((l) => splitByExposure(l, l[0]!.kind === 'flat'))) {
      const kind = part[0]!.kind as CalKind;
      const base = baseOf(part);
      const levels = part.map((f) => f.pixels?.median).filter((v): v is number => v !== undefined);
      const sigmas = part.map((f) => f.pixels?.sigma).filter((v): v is number => v !== undefined);
      const g = { ...base, kind, filter: kind === 'flat' ? base.filter : undefined, level: median(levels), sigma: median(sigmas) };
      const key = calKey(g);
      out.push({ ...g, id: key, key });
    }
  }
  // Unique ids even if two groups share a key (different camera names).
  const seen = new Map<string, number>();
  for (const g of out.sort((a, b) => a.key.localeCompare(b.key))) {
    const n = seen.get(g.key) ?? 0;
    seen.set(g.key, n + 1);
    if (n) g.id = `${g.key}_${n + 1}`;
  }
  return out;
}

export function groupLights(targets: Target[]): LightGroup[] {
  const out: LightGroup[] = [];
  for (const t of targets) {
    const buckets = new Map<string, Frame[]>();
    for (const f of t.frames) {
      const k = `${f.meta.filter ?? ''}|${sensorKey(f)}`;
      buckets.set(k, [...(buckets.get(k) ?? []), f]);
    }
    for (const list of buckets.values()) {
      for (const part of splitByExposure(list)) {
        const base = baseOf(part);
        const parts = [t.slug, slugify(base.filter ?? 'nofilter'), `${fmtNum(base.exposure)}s`, `bin${base.binning.x}x${base.binning.y}`];
        const key = parts.join('_');
        const level = median(part.map((f) => f.pixels?.median).filter((v): v is number => v !== undefined));
        out.push({ ...base, kind: 'light', target: t.name, targetSlug: t.slug, level, id: key, key });
      }
    }
  }
  const seen = new Map<string, number>();
  for (const g of out.sort((a, b) => a.key.localeCompare(b.key))) {
    const n = seen.get(g.key) ?? 0;
    seen.set(g.key, n + 1);
    if (n) g.id = `${g.key}_${g.width}x${g.height}${n > 1 ? `_${n}` : ''}`;
  }
  return out;
}

/** Same binning, size, gain and offset (when both say), same camera (when both say). */
export function compatible(a: GroupBase, b: GroupBase): boolean {
  if (a.binning.x !== b.binning.x || a.binning.y !== b.binning.y) return false;
  if (a.width !== b.width || a.height !== b.height) return false;
  if (a.gain !== undefined && b.gain !== undefined && a.gain !== b.gain) return false;
  if (a.offset !== undefined && b.offset !== undefined && a.offset !== b.offset) return false;
  if (a.camera && b.camera && a.camera !== b.camera) return false;
  return true;
}

function tempDiff(a: GroupBase, b: GroupBase): number {
  if (a.temperature === undefined || b.temperature === undefined) return 0;
  return Math.abs(a.temperature - b.temperature);
}

function sameTemp(a: GroupBase, b: GroupBase): boolean {
  return tempDiff(a, b) <= TEMPERATURE_BUCKET;
}

function tempText(t: number | undefined): string {
  return t === undefined ? 'unknown temperature' : `${fmtNum(t, 1)} C`;
}

function bestBias(target: GroupBase, cal: CalGroup[]): CalGroup | undefined {
  return cal
    .filter((g) => g.kind === 'bias' && compatible(g, target))
    .sort((a, b) => tempDiff(a, target) - tempDiff(b, target) || b.frames.length - a.frames.length)[0];
}

/**
 * Dark current in ADU/s, from the darks themselves: the least-squares slope of the level (median)
 * against the exposure over the bias, dark and flat-dark groups compatible with the target at its
 * temperature, when they have two or more exposures; never below 0 (a clamped sensor shows none).
 */
export function darkRate(target: GroupBase, cal: CalGroup[]): { rate: number; exposures: number[] } | undefined {
  const pts = cal.filter((g) => g.kind !== 'flat' && g.level !== undefined && compatible(g, target) && sameTemp(g, target));
  const exposures = [...new Set(pts.map((g) => g.exposure))].sort((a, b) => a - b);
  if (exposures.length < 2) return undefined;
  const mx = mean(pts.map((g) => g.exposure))!;
  const my = mean(pts.map((g) => g.level!))!;
  let sxy = 0;
  let sxx = 0;
  for (const g of pts) {
    sxy += (g.exposure - mx) * (g.level! - my);
    sxx += (g.exposure - mx) ** 2;
  }
  return { rate: Math.max(0, sxy / sxx), exposures };
}

const sig3 = (x: number): number => Number(x.toPrecision(3));

/** The dark signal a stand-in bias carries: rate x its exposure, in ADU, e- (with EGAIN) and % of the target's signal. */
function standInSignal(s: CalGroup, target: LightGroup | CalGroup, cal: CalGroup[]): { standIn: StandIn; text: string } {
  const standIn: StandIn = { master: s.id, kind: s.kind === 'flatdark' ? 'flatdark' : 'dark', exposure: s.exposure, of: target.kind === 'light' ? "the lights' sky" : "the flats' signal" };
  const r = darkRate(target, cal);
  if (r) {
    const adu = r.rate * s.exposure;
    standIn.rateFrom = r.exposures;
    standIn.darkRateAdu = sig3(r.rate);
    standIn.darkSignalAdu = sig3(adu);
    const egain = s.egain ?? target.egain;
    if (egain !== undefined) standIn.darkSignalE = sig3(adu * egain);
    const signal = target.level !== undefined && s.level !== undefined ? target.level - s.level : undefined;
    if (signal !== undefined && signal > 0) standIn.pctOfSignal = sig3((100 * adu) / signal);
  }
  return { standIn, text: standInText(standIn) };
}

/**
 * No bias: the shortest dark or flat-dark of the same camera, binning, size, gain/offset and
 * temperature (at most maxExposure long) stands in as the bias. It removes the pedestal and the
 * bias pattern; its own small dark signal is reported (standInSignal).
 */
export function standInBias(target: LightGroup | CalGroup, cal: CalGroup[], maxExposure = Infinity): { group: CalGroup; choice: MasterChoice } | undefined {
  const g = cal
    .filter((c) => (c.kind === 'dark' || c.kind === 'flatdark') && c.id !== target.id && compatible(c, target) && sameTemp(c, target) && c.exposure <= maxExposure)
    .sort((a, b) => a.exposure - b.exposure || tempDiff(a, target) - tempDiff(b, target) || b.frames.length - a.frames.length)[0];
  if (!g) return undefined;
  const { standIn, text } = standInSignal(g, target, cal);
  const what = g.kind === 'flatdark' ? 'flat-dark' : 'dark';
  const reason = `no bias frames: the ${fmtNum(g.exposure)} s ${what} master ${g.id} stands in as the bias (the shortest ${what} of the same camera, binning, gain/offset and temperature); ${text}`;
  return { group: g, choice: { group: g.id, reason, standIn } };
}

/** Dark level not above bias level: black-level clamping / dark current suppression. */
export function darkDarkerThanBias(dark: CalGroup, bias: CalGroup | undefined): boolean {
  if (!bias || dark.level === undefined || bias.level === undefined) return false;
  return dark.level <= bias.level;
}

/** What removes the pedestal of a light group that has no dark of its own: a bias, or a stand-in. */
interface Pedestal {
  group: CalGroup;
  /** The stand-in's choice (absent for a real bias). */
  standIn?: MasterChoice;
}

/** The bias (or its stand-in) as the light's bias choice, with what it is used for. */
function pedestalChoice(p: Pedestal, use: string): MasterChoice {
  return p.standIn ? { ...p.standIn, reason: `${p.standIn.reason}; ${use}` } : { group: p.group.id, reason: use };
}

/** No dark of the lights' exposure and temperature: a dark scaled over the bias (or stand-in), else the bias alone, else nothing. */
function matchWithoutExactDark(m: LightMatch, lg: LightGroup, darks: CalGroup[], cal: CalGroup[]): void {
  const bias = bestBias(lg, cal);
  // A stand-in longer than the lights would take away more dark current than the lights have.
  const stand = bias ? undefined : standInBias(lg, cal, lg.exposure - exposureTolerance(lg.exposure));
  const ped: Pedestal | undefined = bias ? { group: bias } : stand && { group: stand.group, standIn: stand.choice };
  const longer = darks
    .filter((d) => d.exposure > lg.exposure && !sameExposure(d.exposure, lg.exposure) && sameTemp(d, lg))
    .sort((a, b) => a.exposure - b.exposure || tempDiff(a, lg) - tempDiff(b, lg))[0];
  const nearest = darks
    .filter((d) => sameTemp(d, lg))
    .sort((a, b) => Math.abs(Math.log(a.exposure / lg.exposure)) - Math.abs(Math.log(b.exposure / lg.exposure)))[0];
  const sameExpOtherTemp = darks
    .filter((d) => sameExposure(d.exposure, lg.exposure))
    .sort((a, b) => tempDiff(a, lg) - tempDiff(b, lg))[0];
  const candidate = longer ?? sameExpOtherTemp;
  // Over a stand-in S (= bias + its dark signal) the optimization is exact too: (L - S) - k (D - S)
  // with k = (tL - tS) / (tD - tS); it needs D - S to be mostly dark current (STANDIN_MIN_RATIO).
  const scalable = !!candidate && !!ped && (!ped.standIn || candidate.exposure >= STANDIN_MIN_RATIO * ped.group.exposure);
  const biasName = ped?.standIn ? 'stand-in bias' : 'bias';
  if (candidate && ped && scalable && darkDarkerThanBias(candidate, ped.group)) {
    // Scaling (D - B) is meaningless when the dark is not brighter than the bias.
    const ratio = nearest ? nearest.exposure / lg.exposure : Infinity;
    const why = `the sensor shows dark-darker-than-bias (dark ${candidate.id} median ${fmtNum(candidate.level, 1)} <= ${biasName} median ${fmtNum(ped.group.level, 1)} ADU: dark current suppression or black-level clamping), so dark scaling is not used`;
    if (nearest && ratio >= 0.5 && ratio <= 2) {
      m.dark = { group: nearest.id, mode: 'unscaled', reason: `nearest dark (${fmtNum(nearest.exposure)} s for ${fmtNum(lg.exposure)} s lights) without scaling: ${why}` };
    } else {
      m.bias = pedestalChoice(ped, `${biasName} only: ${why}; no dark within a factor 2 of the exposure`);
    }
  } else if (candidate && ped && scalable) {
    const what = candidate === longer ? `longer dark (${fmtNum(candidate.exposure)} s for ${fmtNum(lg.exposure)} s lights)` : `dark of the same exposure at another temperature (${tempText(candidate.temperature)} vs ${tempText(lg.temperature)})`;
    m.dark = { group: candidate.id, mode: 'optimize', reason: `no dark of the same exposure and temperature: ${what} with dark optimization (k minimizing noise, needs the bias)` };
    m.bias = pedestalChoice(ped, ped.standIn ? `dark optimization over the stand-in bias (${fmtNum(candidate.exposure)} s dark >= ${STANDIN_MIN_RATIO}x the stand-in's ${fmtNum(ped.group.exposure)} s)` : 'master bias for dark optimization');
  } else if (candidate) {
    const close = ped?.standIn ? ` (the ${fmtNum(ped.group.exposure)} s stand-in bias ${ped.group.id} is too close to it: scaling over a stand-in needs a dark of at least ${STANDIN_MIN_RATIO}x its exposure)` : '';
    m.dark = { group: candidate.id, mode: 'unscaled', reason: `no dark of the same exposure and temperature and no bias for dark optimization: ${candidate.id} used without scaling${close}` };
    m.warnings.push(`${lg.id}: dark ${candidate.id} (${fmtNum(candidate.exposure)} s, ${tempText(candidate.temperature)}) does not match the lights (${fmtNum(lg.exposure)} s, ${tempText(lg.temperature)}) and there is no bias to scale it${close}`);
  } else if (bias) {
    m.bias = { group: bias.id, reason: `no usable dark${darks.length ? ` (only ${darks.map((d) => `${fmtNum(d.exposure)} s`).join(', ')} at other exposure/temperature)` : ''}: bias only` };
    m.warnings.push(`${lg.id}: no matching dark (${fmtNum(lg.exposure)} s, ${tempText(lg.temperature)}): calibrated with bias only`);
  } else if (stand) {
    m.bias = stand.choice;
    const lightDark = stand.choice.standIn?.darkRateAdu !== undefined ? ` (about ${fmtNum(stand.choice.standIn.darkRateAdu * (lg.exposure - stand.group.exposure), 2)} ADU)` : '';
    m.warnings.push(`${lg.id}: no dark of the lights' exposure (${fmtNum(lg.exposure)} s, ${tempText(lg.temperature)}) and no bias: the ${fmtNum(stand.group.exposure)} s ${stand.choice.standIn!.kind === 'flatdark' ? 'flat-dark' : 'dark'} master ${stand.group.id} stands in as the bias; the lights' own dark current${lightDark} is not removed`);
  } else {
    m.pedestalNotRemoved = `${lg.id}: no dark and no bias for ${fmtNum(lg.exposure)} s lights at ${tempText(lg.temperature)}: nothing removes the bias pedestal (no dark, no bias, no shorter dark or flat-dark of this camera and temperature to stand in as the bias; overscan is not detected)`;
    m.warnings.push(m.pedestalNotRemoved);
  }
}

/** A flat whose own pedestal can be removed (a library master is already calibrated). */
function flatCorrectable(flat: CalGroup, cal: CalGroup[]): boolean {
  if (flat.library) return true;
  const fc = matchFlat(flat, cal);
  return !!(fc.flatdark ?? fc.dark ?? fc.bias);
}

/** The flat of the light group: never one that would divide a pedestal (the lights' or its own). */
function chooseFlat(m: LightMatch, lg: LightGroup, cal: CalGroup[]): void {
  const flats = cal
    .filter((g) => g.kind === 'flat' && compatible(g, lg) && (g.filter ?? '') === (lg.filter ?? ''))
    .sort((a, b) => b.frames.length - a.frames.length || tempDiff(a, lg) - tempDiff(b, lg));
  if (!flats.length) {
    m.warnings.push(`${lg.id}: no flat for filter ${lg.filter ?? 'none'} binning ${lg.binning.x}x${lg.binning.y}: vignetting and dust not corrected`);
    return;
  }
  const imprint = "dividing a bias pedestal by the flat would print the flat's vignetting and pixel pattern into every light; vignetting and dust are not corrected";
  if (!m.dark && !m.bias) {
    m.warnings.push(`${lg.id}: flat ${flats[0]!.id} NOT applied: the lights keep their bias pedestal, and ${imprint}`);
    return;
  }
  const flat = flats.find((f) => flatCorrectable(f, cal));
  if (!flat) {
    m.warnings.push(`${lg.id}: flat ${flats[0]!.id} NOT applied: nothing removes the flats' own bias pedestal (no flat-dark, dark, bias or stand-in), and ${imprint}`);
    return;
  }
  const skipped = flats.slice(0, flats.indexOf(flat)).map((f) => f.id);
  const more = flats.length > 1 ? ` (the largest of ${flats.length} flat groups${skipped.length ? ` whose pedestal can be removed: not ${skipped.join(', ')}` : ''})` : '';
  m.flat = { group: flat.id, reason: `flat of the same filter (${lg.filter ?? 'none'}) and binning ${lg.binning.x}x${lg.binning.y}${more}` };
}

export function matchLight(lg: LightGroup, cal: CalGroup[]): LightMatch {
  const m: LightMatch = { light: lg.id, reasons: [], warnings: [] };
  const darks = cal.filter((g) => g.kind === 'dark' && compatible(g, lg));
  const exact = darks
    .filter((d) => sameExposure(d.exposure, lg.exposure) && sameTemp(d, lg))
    .sort((a, b) => tempDiff(a, lg) - tempDiff(b, lg) || b.frames.length - a.frames.length)[0];
  if (exact) {
    m.dark = { group: exact.id, mode: 'exact', reason: `dark of the same exposure (${fmtNum(exact.exposure)} s) and temperature (${tempText(exact.temperature)} vs ${tempText(lg.temperature)})` };
  } else matchWithoutExactDark(m, lg, darks, cal);
  chooseFlat(m, lg, cal);
  for (const c of [m.dark, m.bias, m.flat]) if (c) m.reasons.push(c.reason);
  return m;
}

/** A flat's flat-dark (or dark) is of its exposure within FLAT_EXPOSURE_TOLERANCE, as flats are grouped. */
export function matchFlat(flat: CalGroup, cal: CalGroup[]): FlatCalibration {
  const fc: FlatCalibration = { flat: flat.id, warnings: [] };
  const fd = cal
    .filter((g) => g.kind === 'flatdark' && compatible(g, flat) && Math.abs(g.exposure - flat.exposure) <= FLAT_EXPOSURE_TOLERANCE)
    .sort((a, b) => tempDiff(a, flat) - tempDiff(b, flat) || b.frames.length - a.frames.length)[0];
  if (fd) {
    fc.flatdark = { group: fd.id, reason: `flat-dark of the same exposure (${fmtNum(fd.exposure)} s)` };
    return fc;
  }
  const d = cal
    .filter((g) => g.kind === 'dark' && compatible(g, flat) && Math.abs(g.exposure - flat.exposure) <= FLAT_EXPOSURE_TOLERANCE)
    .sort((a, b) => tempDiff(a, flat) - tempDiff(b, flat))[0];
  if (d) {
    fc.dark = { group: d.id, reason: `no flat-dark: dark of the same exposure (${fmtNum(d.exposure)} s) used as flat-dark` };
    return fc;
  }
  const b = bestBias(flat, cal);
  if (b) {
    fc.bias = { group: b.id, reason: `no flat-dark of ${fmtNum(flat.exposure)} s: flats calibrated with the master bias` };
    return fc;
  }
  // At most twice the flats' exposure: its dark signal is then about the flats' own, tiny against their level.
  const s = standInBias(flat, cal, 2 * flat.exposure + exposureTolerance(2 * flat.exposure));
  if (s) {
    fc.bias = { ...s.choice, reason: `no flat-dark of ${fmtNum(flat.exposure)} s and no bias: ${s.choice.reason}` };
    return fc;
  }
  fc.warnings.push(`${flat.id}: no flat-dark and no bias (nor a dark to stand in as the bias): the flats' bias pedestal cannot be removed, so this flat is not used`);
  return fc;
}

/** The warning about frames whose kind could not be told (undefined when there are none). */
export function unknownKindWarning(unique: Frame[]): string | undefined {
  const unclassified = unique.filter((f) => !f.kind);
  return unclassified.length ? `${unclassified.length} frame(s) of unknown kind (no IMAGETYP, name or clear pixels): ${unclassified.map((f) => f.rel).join(', ')}` : undefined;
}

export function groupNight(unique: Frame[], opts: { radiusDeg?: number } = {}): Grouping {
  const lights = unique.filter((f) => f.kind === 'light');
  const targets = groupTargets(lights, opts.radiusDeg ?? 0.5);
  const calibration = groupCalibration(unique);
  const lightGroups = groupLights(targets);
  const matches = lightGroups.map((lg) => matchLight(lg, calibration));
  const used = new Set<string>();
  for (const m of matches) for (const c of [m.dark, m.bias, m.flat]) if (c) used.add(c.group);
  const flatCalibration = calibration.filter((g) => g.kind === 'flat' && used.has(g.id)).map((g) => matchFlat(g, calibration));
  for (const fc of flatCalibration) for (const c of [fc.flatdark, fc.dark, fc.bias]) if (c) used.add(c.group);
  const warnings = [...matches.flatMap((m) => m.warnings), ...flatCalibration.flatMap((f) => f.warnings)];
  const unclassified = unknownKindWarning(unique);
  if (unclassified) warnings.push(unclassified);
  return { targets, calibration, lights: lightGroups, matches, flatCalibration, used, warnings };
}
