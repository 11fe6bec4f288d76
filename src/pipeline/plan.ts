/**
 * The plan of a one-shot run: a plain JSON DAG of steps (id, kind, inputs, outputs, params,
 * reason, deps), built from a scanned night before anything is computed. Raw inputs are
 * absolute paths; everything produced is a path relative to the output folder.
 */
import { basename, dirname, extname, join, resolve } from 'node:path';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { emptyScanCache, scanNight, type Frame, type ScanCache, type ScanResult } from '../session/scan.js';
import { writeFileAtomic } from '../util/atomic.js';
import { groupNight, groupCalibration, matchLight, matchFlat, fmtNum, type CalGroup, type Grouping, type LightGroup } from '../session/group.js';
import { slugify } from '../session/targets.js';
import { readFitsHeader } from '../fits/reader.js';
import { DarkroomError } from '../util/errors.js';
import { VERSION } from '../version.js';
import { checkRunPaths } from './safety.js';
import { loadManifest } from './manifest.js';

export interface RunOptions {
  reject: string;
  normalize: string;
  weights: string;
  drizzle?: number;
  debayer: string;
  cosmetic: boolean;
  pedestal: number;
  reference?: string;
  register: boolean;
  keepIntermediates: boolean;
  strict: boolean;
  force: boolean;
  library?: string;
}

export const DEFAULT_OPTIONS: RunOptions = {
  reject: 'winsorized',
  normalize: 'additive-scaling',
  weights: 'noise',
  debayer: 'bilinear',
  cosmetic: false,
  pedestal: 0,
  register: true,
  keepIntermediates: false,
  strict: false,
  force: false,
};

export type StepKind = 'master' | 'reuse-master' | 'calibrate' | 'debayer' | 'register' | 'integrate' | 'preview' | 'report';

export interface PlanStep {
  id: string;
  kind: StepKind;
  inputs: string[];
  outputs: string[];
  params: Record<string, unknown>;
  reason: string;
  deps: string[];
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
}

export interface Plan {
  version: 1;
  darkroom: string;
  night: string;
  out: string;
  options: RunOptions;
  frames: {
    found: number;
    unique: number;
    byKind: Record<string, number>;
    duplicates: Array<{ path: string; of: string }>;
    skipped: Array<{ path: string; reason: string }>;
    /** Files that are not named as FITS (not read). */
    ignored: string[];
    reclassified: Array<{ path: string; kind: string | null; header: string | null; note: string }>;
  };
  targets: Array<{ name: string; frames: number; ra?: number; dec?: number; objects: Record<string, number>; notes: string[] }>;
  groups: {
    calibration: Array<{ id: string; kind: string; frames: number; exposure: number; temperature?: number; binning: string; filter?: string; used: boolean; library?: string }>;
    lights: Array<{ id: string; target: string; filter?: string; exposure: number; temperature?: number; binning: string; frames: number; cfa?: string; dark?: string; darkMode?: string; bias?: string; flat?: string; reasons: string[] }>;
  };
  masters: PlanMaster[];
  stacks: PlanStack[];
  steps: PlanStep[];
  warnings: string[];
  /** Content fingerprints of the raw inputs (absolute path -> hash of headers and data). */
  fingerprints: Record<string, string>;
}

/** Calibration groups plus masters found in the library (as single-frame groups marked with their path). */
interface LibGroup extends CalGroup {
  library?: string;
  ncombine?: number;
}

function masterPath(g: CalGroup): string {
  return `masters/master_${g.id}.fits`;
}

function uniqueNames(frames: Frame[], dir: string, suffix: string): string[] {
  const used = new Map<string, number>();
  return frames.map((f) => {
    const b = basename(f.path, extname(f.path)).replace(/[^A-Za-z0-9._-]+/g, '_');
    const n = used.get(b) ?? 0;
    used.set(b, n + 1);
    return `${dir}/${b}${n ? `_${n + 1}` : ''}${suffix}.fits`;
  });
}

function libraryGroups(library: string): LibGroup[] {
  if (!existsSync(library)) return [];
  // Library masters are Darkroom's own: the header kind is trusted over the pixel check (a master
  // flat normalized to 1 looks unexposed); the pixel levels still serve the dark-vs-bias check.
  const scan = scanNight(library, { hash: false, pixels: true });
  const out: LibGroup[] = [];
  for (const f of scan.frames) {
    if (f.headerKind) f.kind = f.meta.kind = f.headerKind;
    if (!f.kind || f.kind === 'light') continue;
    // A single library master grouped alone gives its key; it stands for NCOMBINE frames.
    const [g] = groupCalibration([f]);
    if (!g) continue;
    const n = readFitsHeader(f.path).header.getNumber('NCOMBINE');
    out.push({ ...g, library: f.path, id: `lib_${g.key}`, ncombine: n });
  }
  return out;
}

export function scanCachePath(out: string): string {
  return join(resolve(out), '.darkroom', 'scan-cache.json');
}

function loadScanCache(out: string): ScanCache {
  const p = scanCachePath(out);
  try {
    const c = JSON.parse(readFileSync(p, 'utf8')) as ScanCache;
    if (c && c.version === 1 && c.entries && typeof c.entries === 'object') return c;
  } catch {
    // no cache or unreadable: scan everything
  }
  return emptyScanCache();
}

export interface PlanContext {
  /** An existing scan of the night (skips scanning). */
  scan?: ScanResult;
  /** Reuse OUT/.darkroom/scan-cache.json for unchanged files (default true). */
  useCache?: boolean;
  /**
   * Write the updated scan cache (default false: a dry run leaves OUT untouched). A plan for a run:
   * the folders are checked first (see checkRunPaths), before anything is scanned or written.
   */
  saveCache?: boolean;
  /** Scan progress (files done, total). */
  onFile?: (done: number, total: number, path: string) => void;
}

export function buildPlan(nightIn: string, outIn: string, opts: Partial<RunOptions> = {}, ctx: PlanContext = {}): Plan {
  const options: RunOptions = { ...DEFAULT_OPTIONS, ...opts };
  const night = resolve(nightIn);
  const out = resolve(outIn);
  if (ctx.saveCache) checkRunPaths(nightIn, outIn, { library: options.library });
  const cache = ctx.useCache === false || options.force ? emptyScanCache() : loadScanCache(out);
  // Never scan OUT's own products: OUT itself (when a dry run puts it in the night) and the files Darkroom recorded there.
  const exclude = [out, ...Object.keys(loadManifest(out).files).map((f) => join(out, f))];
  const scan = ctx.scan ?? scanNight(night, { cache, onFile: ctx.onFile, exclude });
  if (ctx.saveCache && !ctx.scan) {
    // Keep only entries of files that still exist under this night (and any other nights' entries).
    for (const k of Object.keys(cache.entries)) if (!existsSync(k)) delete cache.entries[k];
    mkdirSync(dirname(scanCachePath(out)), { recursive: true });
    writeFileAtomic(scanCachePath(out), [Buffer.from(JSON.stringify(cache))]);
  }
  const grouping: Grouping = groupNight(scan.unique);
  const warnings: string[] = [];
  // Masters from the library fill what the night lacks (same key => the night's frames win).
  if (options.library) {
    const lib = libraryGroups(resolve(options.library)).filter((l) => !grouping.calibration.some((g) => g.key === l.key));
    if (lib.length) {
      const cal: LibGroup[] = [...grouping.calibration, ...lib];
      grouping.calibration = cal;
      grouping.matches = grouping.lights.map((lg) => matchLight(lg, cal));
      grouping.used = new Set();
      for (const m of grouping.matches) for (const c of [m.dark, m.bias, m.flat]) if (c) grouping.used.add(c.group);
      grouping.flatCalibration = cal.filter((g) => g.kind === 'flat' && grouping.used.has(g.id) && !(g as LibGroup).library).map((g) => matchFlat(g, cal));
      for (const fc of grouping.flatCalibration) for (const c of [fc.flatdark, fc.dark, fc.bias]) if (c) grouping.used.add(c.group);
      const unclassified = grouping.warnings.filter((w) => w.includes('frame(s) of unknown kind'));
      grouping.warnings = [...grouping.matches.flatMap((m) => m.warnings), ...grouping.flatCalibration.flatMap((f) => f.warnings), ...unclassified];
    }
  }
  warnings.push(...grouping.warnings);
  if (scan.skipped.length) warnings.push(`${scan.skipped.length} file(s) skipped (not readable as FITS images): ${scan.skipped.map((s) => s.path).join(', ')}`);
  if (scan.duplicates.length) warnings.push(`${scan.duplicates.length} duplicate frame(s) (same pixel data) used once: ${scan.duplicates.map((d) => `${d.path} = ${d.of}`).join(', ')}`);
  for (const f of scan.unique) if (f.kindNote && f.headerKind && f.kind !== f.headerKind) warnings.push(`${f.rel}: ${f.kindNote}`);
  if (grouping.lights.length === 0) warnings.push('no light frames found');

  const steps: PlanStep[] = [];
  const masters: PlanMaster[] = [];
  const byId = new Map<string, LibGroup>(grouping.calibration.map((g) => [g.id, g as LibGroup]));
  const masterStep = new Map<string, PlanStep>();
  const calParams = { combine: 'average', normalization: 'none', rejection: 'winsorized', sigmaLow: 4, sigmaHigh: 3 };
  // Flat calibration first needs its bias/flat-dark masters: order bias, flatdark, dark, flat.
  const order: Record<string, number> = { bias: 0, flatdark: 1, dark: 2, flat: 3 };
  const usedGroups = grouping.calibration.filter((g) => grouping.used.has(g.id)).sort((a, b) => order[a.kind]! - order[b.kind]! || a.id.localeCompare(b.id));
  for (const g of usedGroups as LibGroup[]) {
    const path = masterPath(g);
    let step: PlanStep;
    if (g.library) {
      step = { id: `master:${g.id}`, kind: 'reuse-master', inputs: [g.library], outputs: [path], params: { kind: g.kind, key: g.key }, reason: `master ${g.kind} from the library (${g.key}): the night has no ${g.kind} frames for this group`, deps: [] };
    } else {
      const libPath = options.library ? join(resolve(options.library), `master_${g.key}.fits`) : undefined;
      const params: Record<string, unknown> = { kind: g.kind, key: g.key, exposure: g.exposure, temperature: g.temperature, ...calParams };
      let reason = `${g.frames.length} ${g.kind} frame(s) ${fmtNum(g.exposure)} s at ${g.temperature === undefined ? 'unknown temperature' : `${fmtNum(g.temperature, 1)} C`}`;
      const deps: string[] = [];
      const inputs = g.frames.map((f) => f.path);
      if (g.kind === 'flat') {
        params.normalization = 'multiplicative';
        params.rejectionNormalization = 'equalize-fluxes';
        params.filter = g.filter;
        const fc = grouping.flatCalibration.find((x) => x.flat === g.id);
        const sub = fc?.flatdark ?? fc?.dark ?? fc?.bias;
        if (sub) {
          const sg = byId.get(sub.group)!;
          params.calibrateWith = masterPath(sg);
          params.calibrateKind = sg.kind;
          inputs.push(masterPath(sg));
          deps.push(`master:${sg.id}`);
          reason += `; ${sub.reason}`;
        } else reason += '; flats not calibrated (no flat-dark or bias)';
      }
      step = { id: `master:${g.id}`, kind: 'master', inputs, outputs: [path], params, reason, deps };
      if (libPath) params.library = libPath;
    }
    steps.push(step);
    masterStep.set(g.id, step);
    masters.push({ id: g.id, kind: g.kind, path, frames: g.library ? (g.ncombine ?? 1) : g.frames.length, exposure: g.exposure, temperature: g.temperature, filter: g.filter, source: g.library, step: step.id });
  }

  // Light groups -> calibrate (-> debayer).
  const calibrated = new Map<string, { step: PlanStep; files: string[] }>();
  for (const lg of grouping.lights) {
    const m = grouping.matches.find((x) => x.light === lg.id)!;
    const deps: string[] = [];
    const params: Record<string, unknown> = { pedestal: options.pedestal, cosmetic: options.cosmetic };
    const inputs = lg.frames.map((f) => f.path);
    for (const [role, c] of [['dark', m.dark], ['bias', m.bias], ['flat', m.flat]] as const) {
      if (!c) continue;
      const g = byId.get(c.group)!;
      params[role] = masterPath(g);
      inputs.push(masterPath(g));
      deps.push(`master:${g.id}`);
    }
    if (m.dark) params.darkMode = m.dark.mode;
    params.optimizeDark = m.dark?.mode === 'optimize';
    const outs = uniqueNames(lg.frames, `calibrated/${lg.id}`, '_c');
    const reason = m.reasons.length ? m.reasons.join('; ') : 'no calibration masters: frames copied as float';
    const step: PlanStep = { id: `calibrate:${lg.id}`, kind: 'calibrate', inputs, outputs: outs, params, reason, deps };
    steps.push(step);
    let last = { step, files: outs };
    if (lg.cfa) {
      const dOuts = uniqueNames(lg.frames, `debayered/${lg.id}`, '_c_d');
      const ds: PlanStep = { id: `debayer:${lg.id}`, kind: 'debayer', inputs: outs, outputs: dOuts, params: { method: options.debayer, pattern: lg.cfa }, reason: `one-shot-colour camera (BAYERPAT ${lg.cfa}): debayer after calibration`, deps: [step.id] };
      steps.push(ds);
      last = { step: ds, files: dOuts };
    }
    calibrated.set(lg.id, last);
  }

  // Stacks: target + filter (+ binning when a target/filter has several).
  const stackMap = new Map<string, LightGroup[]>();
  for (const lg of grouping.lights) {
    const filter = lg.filter ?? (lg.cfa ? 'RGB' : 'nofilter');
    const k = `${lg.targetSlug}\u0000${filter}`;
    stackMap.set(k, [...(stackMap.get(k) ?? []), lg]);
  }
  const stacks: PlanStack[] = [];
  for (const [k, groups] of stackMap) {
    const [slug, filter] = k.split('\u0000') as [string, string];
    const bins = new Map<string, LightGroup[]>();
    for (const g of groups) {
      const bk = `${g.binning.x}x${g.binning.y}|${g.width}x${g.height}`;
      bins.set(bk, [...(bins.get(bk) ?? []), g]);
    }
    const many = bins.size > 1;
    for (const [bk, gs] of bins) {
      const name = `${slug}_${slugify(filter)}${many ? `_bin${bk.split('|')[0]}` : ''}`;
      const path = `stacks/${name}.fits`;
      const files = gs.flatMap((g) => calibrated.get(g.id)!.files);
      const deps = gs.map((g) => calibrated.get(g.id)!.step.id);
      const nFrames = gs.reduce((s, g) => s + g.frames.length, 0);
      const expTotal = gs.reduce((s, g) => s + g.frames.reduce((t, f) => t + (f.meta.exposure ?? 0), 0), 0);
      let regFiles = files;
      let intDeps = deps;
      if (options.register && files.length > 1) {
        const regOuts = files.map((f) => `registered/${name}/${basename(f, '.fits')}_r.fits`);
        const rs: PlanStep = {
          id: `register:${name}`,
          kind: 'register',
          inputs: files,
          outputs: regOuts,
          params: { reference: options.reference ?? 'auto', drizzle: options.drizzle ?? null },
          reason: `align ${files.length} frames of ${gs[0]!.target} ${filter} on ${options.reference ? `reference ${options.reference}` : 'the frame with the most stars (auto)'}`,
          deps,
        };
        steps.push(rs);
        regFiles = regOuts;
        intDeps = [rs.id];
      }
      const is: PlanStep = {
        id: `integrate:${name}`,
        kind: 'integrate',
        inputs: regFiles,
        outputs: [path],
        params: { rejection: options.reject, normalization: options.normalize, weights: options.weights, drizzle: options.drizzle ?? null },
        reason: `${nFrames} frame(s), ${fmtNum(expTotal, 1)} s total: average with ${options.reject} rejection, ${options.normalize} normalization, ${options.weights} weights${gs.length > 1 ? ` (light groups ${gs.map((g) => g.id).join(', ')})` : ''}`,
        deps: intDeps,
      };
      steps.push(is);
      const ps: PlanStep = { id: `preview:${name}`, kind: 'preview', inputs: [path], outputs: [`previews/${name}.png`], params: { stretch: 'auto-stf' }, reason: 'auto-stretched preview', deps: [is.id] };
      steps.push(ps);
      stacks.push({ path, object: gs[0]!.target, filter, lightGroups: gs.map((g) => g.id), frames: nFrames, exposure_total_s: expTotal, cfa: gs[0]!.cfa, step: is.id });
    }
  }
  steps.push({ id: 'report', kind: 'report', inputs: stacks.map((s) => s.path), outputs: ['report.json', 'report.html'], params: {}, reason: 'summary of stacks, masters, rejected frames, warnings and timing', deps: steps.filter((s) => s.kind === 'integrate' || s.kind === 'preview').map((s) => s.id) });

  const byKind: Record<string, number> = {};
  for (const f of scan.unique) byKind[f.kind ?? 'unknown'] = (byKind[f.kind ?? 'unknown'] ?? 0) + 1;
  const plan: Plan = {
    version: 1,
    darkroom: VERSION,
    night,
    out,
    options,
    frames: {
      found: scan.frames.length,
      unique: scan.unique.length,
      byKind,
      duplicates: scan.duplicates,
      skipped: scan.skipped,
      ignored: scan.ignored,
      reclassified: scan.unique.filter((f) => f.kindNote).map((f) => ({ path: f.rel, kind: f.kind ?? null, header: f.headerKind ?? null, note: f.kindNote! })),
    },
    targets: grouping.targets.map((t) => ({ name: t.name, frames: t.frames.length, ra: t.ra, dec: t.dec, objects: t.objects, notes: t.notes })),
    groups: {
      calibration: (grouping.calibration as LibGroup[]).map((g) => ({ id: g.id, kind: g.kind, frames: g.frames.length, exposure: g.exposure, temperature: g.temperature, binning: `${g.binning.x}x${g.binning.y}`, filter: g.filter, used: grouping.used.has(g.id), library: g.library })),
      lights: grouping.lights.map((lg) => {
        const m = grouping.matches.find((x) => x.light === lg.id)!;
        return { id: lg.id, target: lg.target, filter: lg.filter, exposure: lg.exposure, temperature: lg.temperature, binning: `${lg.binning.x}x${lg.binning.y}`, frames: lg.frames.length, cfa: lg.cfa, dark: m.dark?.group, darkMode: m.dark?.mode, bias: m.bias?.group, flat: m.flat?.group, reasons: m.reasons };
      }),
    },
    masters,
    stacks,
    steps,
    warnings,
    fingerprints: Object.fromEntries(scan.unique.filter((f) => f.contentHash).map((f) => [f.path, f.contentHash!])),
  };
  const unusedCal = grouping.calibration.filter((g) => !grouping.used.has(g.id) && !(g as LibGroup).library);
  if (unusedCal.length) plan.warnings.push(`calibration group(s) not used by any light: ${unusedCal.map((g) => g.id).join(', ')}`);
  if (options.strict) {
    const missing = grouping.warnings.filter((w) => /no (matching )?dark|no flat|no dark and no bias|not calibrated|does not match/.test(w));
    if (missing.length) throw new DarkroomError('TOO_FEW', `missing calibration (--strict): ${missing.join('; ')}`, nightIn);
  }
  // Plain JSON: no undefined fields, what --json prints is exactly the plan.
  return JSON.parse(JSON.stringify(plan)) as Plan;
}
