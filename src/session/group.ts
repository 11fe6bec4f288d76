/**
 * Grouping and master matching, as MaxIm's auto-calibration groups and PixInsight's WBPP do it.
 * Calibration frames: kind + exposure (0.5 s tolerance) + temperature (2 C buckets) + binning +
 * gain/offset + size (+ filter for flats). Lights: target + filter + exposure + binning (+ size).
 * Each light group gets the best dark, flat and bias, with the reason written down.
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
}

export interface LightGroup extends GroupBase {
  kind: 'light';
  target: string;
  targetSlug: string;
}

export type DarkMode = 'exact' | 'optimize' | 'unscaled';

export interface MasterChoice {
  group: string;
  reason: string;
}

export interface LightMatch {
  light: string;
  dark?: MasterChoice & { mode: DarkMode };
  bias?: MasterChoice;
  flat?: MasterChoice;
  reasons: string[];
  warnings: string[];
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

export const EXPOSURE_TOLERANCE = 0.5;
export const TEMPERATURE_BUCKET = 2;

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

/** Split frames (sorted by exposure) where the gap to the cluster's first exposure exceeds the tolerance. */
function splitByExposure(frames: Frame[]): Frame[][] {
  const s = [...frames].sort((a, b) => (a.meta.exposure ?? 0) - (b.meta.exposure ?? 0) || a.rel.localeCompare(b.rel));
  const out: Frame[][] = [];
  let cur: Frame[] = [];
  let start = 0;
  for (const f of s) {
    const e = f.meta.exposure ?? 0;
    if (cur.length && e - start > EXPOSURE_TOLERANCE) {
      out.push(cur);
      cur = [];
    }
    if (!cur.length) start = e;
    cur.push(f);
  }
  if (cur.length) out.push(cur);
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
    const k = `${f.kind}|${sensorKey(f)}|t${tempBucket(f.meta.temperature)}|${f.kind === 'flat' ? (f.meta.filter ?? '') : ''}|${f.camera ?? ''}`;
    buckets.set(k, [...(buckets.get(k) ?? []), f]);
  }
  const out: CalGroup[] = [];
  for (const list of buckets.values()) {
    for (const part of splitByExposure(list)) {
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
        out.push({ ...base, kind: 'light', target: t.name, targetSlug: t.slug, id: key, key });
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

/** Dark level not above bias level: black-level clamping / dark current suppression. */
export function darkDarkerThanBias(dark: CalGroup, bias: CalGroup | undefined): boolean {
  if (!bias || dark.level === undefined || bias.level === undefined) return false;
  return dark.level <= bias.level;
}

export function matchLight(lg: LightGroup, cal: CalGroup[]): LightMatch {
  const reasons: string[] = [];
  const warnings: string[] = [];
  const m: LightMatch = { light: lg.id, reasons, warnings };
  const darks = cal.filter((g) => g.kind === 'dark' && compatible(g, lg));
  const bias = bestBias(lg, cal);
  const exact = darks
    .filter((d) => Math.abs(d.exposure - lg.exposure) <= EXPOSURE_TOLERANCE && sameTemp(d, lg))
    .sort((a, b) => tempDiff(a, lg) - tempDiff(b, lg) || b.frames.length - a.frames.length)[0];
  let needBias = false;
  if (exact) {
    m.dark = { group: exact.id, mode: 'exact', reason: `dark of the same exposure (${fmtNum(exact.exposure)} s) and temperature (${tempText(exact.temperature)} vs ${tempText(lg.temperature)})` };
  } else {
    const longer = darks
      .filter((d) => d.exposure > lg.exposure + EXPOSURE_TOLERANCE && sameTemp(d, lg))
      .sort((a, b) => a.exposure - b.exposure || tempDiff(a, lg) - tempDiff(b, lg))[0];
    const nearest = darks
      .filter((d) => sameTemp(d, lg))
      .sort((a, b) => Math.abs(Math.log(a.exposure / lg.exposure)) - Math.abs(Math.log(b.exposure / lg.exposure)))[0];
    const sameExpOtherTemp = darks
      .filter((d) => Math.abs(d.exposure - lg.exposure) <= EXPOSURE_TOLERANCE)
      .sort((a, b) => tempDiff(a, lg) - tempDiff(b, lg))[0];
    const candidate = longer ?? sameExpOtherTemp;
    if (candidate && bias && darkDarkerThanBias(candidate, bias)) {
      // Scaling (D - B) is meaningless when the dark is not brighter than the bias.
      const ratio = nearest ? nearest.exposure / lg.exposure : Infinity;
      const why = `the sensor shows dark-darker-than-bias (dark ${candidate.id} median ${fmtNum(candidate.level, 1)} <= bias median ${fmtNum(bias.level, 1)} ADU: dark current suppression or black-level clamping), so dark scaling is not used`;
      if (nearest && ratio >= 0.5 && ratio <= 2) {
        m.dark = { group: nearest.id, mode: 'unscaled', reason: `nearest dark (${fmtNum(nearest.exposure)} s for ${fmtNum(lg.exposure)} s lights) without scaling: ${why}` };
      } else {
        m.bias = { group: bias.id, reason: `bias only: ${why}; no dark within a factor 2 of the exposure` };
      }
    } else if (candidate && bias) {
      const what = candidate === longer ? `longer dark (${fmtNum(candidate.exposure)} s for ${fmtNum(lg.exposure)} s lights)` : `dark of the same exposure at another temperature (${tempText(candidate.temperature)} vs ${tempText(lg.temperature)})`;
      m.dark = { group: candidate.id, mode: 'optimize', reason: `no dark of the same exposure and temperature: ${what} with dark optimization (k minimizing noise, needs the bias)` };
      needBias = true;
    } else if (candidate && !bias) {
      m.dark = { group: candidate.id, mode: 'unscaled', reason: `no dark of the same exposure and temperature and no bias for dark optimization: ${candidate.id} used without scaling` };
      warnings.push(`${lg.id}: dark ${candidate.id} (${fmtNum(candidate.exposure)} s, ${tempText(candidate.temperature)}) does not match the lights (${fmtNum(lg.exposure)} s, ${tempText(lg.temperature)}) and there is no bias to scale it`);
    } else if (bias) {
      m.bias = { group: bias.id, reason: `no usable dark${darks.length ? ` (only ${darks.map((d) => `${fmtNum(d.exposure)} s`).join(', ')} at other exposure/temperature)` : ''}: bias only` };
      warnings.push(`${lg.id}: no matching dark (${fmtNum(lg.exposure)} s, ${tempText(lg.temperature)}): calibrated with bias only`);
    } else {
      warnings.push(`${lg.id}: no dark and no bias for ${fmtNum(lg.exposure)} s lights at ${tempText(lg.temperature)}`);
    }
  }
  if (needBias && bias) m.bias = { group: bias.id, reason: 'master bias for dark optimization' };
  const flats = cal
    .filter((g) => g.kind === 'flat' && compatible(g, lg) && (g.filter ?? '') === (lg.filter ?? ''))
    .sort((a, b) => b.frames.length - a.frames.length || tempDiff(a, lg) - tempDiff(b, lg));
  const flat = flats[0];
  if (flat) m.flat = { group: flat.id, reason: `flat of the same filter (${lg.filter ?? 'none'}) and binning ${lg.binning.x}x${lg.binning.y}${flats.length > 1 ? ` (the largest of ${flats.length} flat groups)` : ''}` };
  else warnings.push(`${lg.id}: no flat for filter ${lg.filter ?? 'none'} binning ${lg.binning.x}x${lg.binning.y}: vignetting and dust not corrected`);
  for (const c of [m.dark, m.bias, m.flat]) if (c) reasons.push(c.reason);
  return m;
}

export function matchFlat(flat: CalGroup, cal: CalGroup[]): FlatCalibration {
  const fc: FlatCalibration = { flat: flat.id, warnings: [] };
  const fd = cal
    .filter((g) => g.kind === 'flatdark' && compatible(g, flat) && Math.abs(g.exposure - flat.exposure) <= EXPOSURE_TOLERANCE)
    .sort((a, b) => tempDiff(a, flat) - tempDiff(b, flat) || b.frames.length - a.frames.length)[0];
  if (fd) {
    fc.flatdark = { group: fd.id, reason: `flat-dark of the same exposure (${fmtNum(fd.exposure)} s)` };
    return fc;
  }
  const d = cal
    .filter((g) => g.kind === 'dark' && compatible(g, flat) && Math.abs(g.exposure - flat.exposure) <= EXPOSURE_TOLERANCE)
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
  fc.warnings.push(`${flat.id}: no flat-dark and no bias: flats not calibrated (the flat's offset will over-correct)`);
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
