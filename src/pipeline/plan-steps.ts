/**
 * The step stages of a plan: master steps (built or reused from the library), light steps
 * (calibrate, then debayer for one-shot-colour groups), stacks (register, integrate) with their
 * previews, and the report step.
 */
import { basename, extname, join, resolve } from 'node:path';
import type { Frame } from '../session/scan.js';
import { fmtNum, type CalGroup, type LightGroup } from '../session/group.js';
import { slugify } from '../session/targets.js';
import { MASTER_DEFAULTS } from '../calibrate/masters.js';
import { DEBAYER_METHODS } from '../color/index.js';
import { DEFAULT_OPTIONS as INTEGRATE_DEFAULTS, REJECTS, NORMALIZES, rejectionMapPaths, validateRunIntegration } from '../integrate/index.js';
import { oneOf } from './option-error.js';
import type { LibGroup, PlanGrouping } from './plan-scan.js';
import type { CalibrateStep, DebayerStep, IntegrateStep, MasterStep, PlanMaster, PlanStack, PlanStep, PreviewStep, RegisterStep, ReportStep, ReuseMasterStep, RunOptions } from './plan.js';

export function masterPath(g: CalGroup): string {
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

function reuseMasterStep(g: LibGroup & { library: string }): ReuseMasterStep {
  const reason = `master ${g.kind} from the library (${g.key}): the night has no ${g.kind} frames for this group`;
  return { id: `master:${g.id}`, kind: 'reuse-master', inputs: [g.library], outputs: [masterPath(g)], params: { kind: g.kind, key: g.key }, reason, deps: [] };
}

function buildMasterStep(g: LibGroup, grouping: PlanGrouping, options: RunOptions): MasterStep {
  const step: MasterStep = {
    id: `master:${g.id}`,
    kind: 'master',
    inputs: g.frames.map((f) => f.path),
    outputs: [masterPath(g)],
    params: { kind: g.kind, key: g.key, exposure: g.exposure, temperature: g.temperature, settings: { ...MASTER_DEFAULTS[g.kind] } },
    reason: `${g.frames.length} ${g.kind} frame(s) ${fmtNum(g.exposure)} s at ${g.temperature === undefined ? 'unknown temperature' : `${fmtNum(g.temperature, 1)} C`}`,
    deps: [],
  };
  if (g.kind === 'flat') {
    step.params.filter = g.filter;
    const fc = grouping.flatCalibration.find((x) => x.flat === g.id);
    const sub = fc?.flatdark ?? fc?.dark ?? fc?.bias;
    const sg = sub && grouping.calibration.find((c) => c.id === sub.group);
    if (sub && sg) {
      step.params.calibrateWith = masterPath(sg);
      step.params.calibrateKind = sg.kind;
      step.inputs.push(masterPath(sg));
      step.deps.push(`master:${sg.id}`);
      step.reason += `; ${sub.reason}`;
    } else step.reason += '; flats not calibrated (no flat-dark or bias)';
  }
  if (options.library) step.params.library = join(resolve(options.library), `master_${g.key}.fits`);
  return step;
}

/** Master steps stage: one per calibration group a light (or a flat) uses. */
export function masterSteps(grouping: PlanGrouping, options: RunOptions): { steps: PlanStep[]; masters: PlanMaster[] } {
  // Flat calibration first needs its bias/flat-dark masters: order bias, flatdark, dark, flat.
  const order: Record<string, number> = { bias: 0, flatdark: 1, dark: 2, flat: 3 };
  const used = grouping.calibration.filter((g) => grouping.used.has(g.id)).sort((a, b) => order[a.kind]! - order[b.kind]! || a.id.localeCompare(b.id));
  const steps: PlanStep[] = [];
  const masters: PlanMaster[] = [];
  for (const g of used) {
    const step = g.library ? reuseMasterStep({ ...g, library: g.library }) : buildMasterStep(g, grouping, options);
    steps.push(step);
    const frames = g.library ? (g.ncombine ?? 1) : g.frames.length;
    masters.push({ id: g.id, kind: g.kind, path: masterPath(g), frames, exposure: g.exposure, temperature: g.temperature, filter: g.filter, source: g.library, step: step.id });
  }
  return { steps, masters };
}

function calibrateStep(lg: LightGroup, grouping: PlanGrouping, options: RunOptions): CalibrateStep {
  const m = grouping.matches.find((x) => x.light === lg.id)!;
  const step: CalibrateStep = {
    id: `calibrate:${lg.id}`,
    kind: 'calibrate',
    inputs: lg.frames.map((f) => f.path),
    outputs: uniqueNames(lg.frames, `calibrated/${lg.id}`, '_c'),
    params: { pedestal: options.pedestal, cosmetic: options.cosmetic, optimizeDark: false },
    reason: m.reasons.length ? m.reasons.join('; ') : 'no calibration masters: frames copied as float',
    deps: [],
  };
  for (const [role, c] of [['dark', m.dark], ['bias', m.bias], ['flat', m.flat]] as const) {
    const g = c && grouping.calibration.find((x) => x.id === c.group);
    if (!g) continue;
    step.params[role] = masterPath(g);
    step.inputs.push(masterPath(g));
    step.deps.push(`master:${g.id}`);
  }
  if (m.dark) step.params.darkMode = m.dark.mode;
  step.params.optimizeDark = m.dark?.mode === 'optimize';
  return step;
}

function debayerStep(lg: LightGroup & { cfa: string }, cal: CalibrateStep, options: RunOptions): DebayerStep {
  const method = oneOf('debayer', options.debayer, DEBAYER_METHODS);
  const reason = `one-shot-colour camera (BAYERPAT ${lg.cfa}): debayer after calibration`;
  return { id: `debayer:${lg.id}`, kind: 'debayer', inputs: cal.outputs, outputs: uniqueNames(lg.frames, `debayered/${lg.id}`, '_c_d'), params: { method, pattern: lg.cfa }, reason, deps: [cal.id] };
}

/** The last step of each light group and the frames it produces (what stacks are made of). */
export type LightOutputs = Map<string, { step: PlanStep; files: string[] }>;

/** Light steps stage: calibrate each light group (then debayer one-shot-colour groups). */
export function lightSteps(grouping: PlanGrouping, options: RunOptions): { steps: PlanStep[]; last: LightOutputs } {
  const steps: PlanStep[] = [];
  const last: LightOutputs = new Map();
  for (const lg of grouping.lights) {
    const cal = calibrateStep(lg, grouping, options);
    steps.push(cal);
    last.set(lg.id, { step: cal, files: cal.outputs });
    if (lg.cfa) {
      const ds = debayerStep({ ...lg, cfa: lg.cfa }, cal, options);
      steps.push(ds);
      last.set(lg.id, { step: ds, files: ds.outputs });
    }
  }
  return { steps, last };
}

/** Stack sets: target + filter, split by binning and size when a target/filter has several. */
function stackSets(lights: LightGroup[]): Array<{ name: string; filter: string; groups: LightGroup[] }> {
  const byFilter = new Map<string, LightGroup[]>();
  for (const lg of lights) {
    const filter = lg.filter ?? (lg.cfa ? 'RGB' : 'nofilter');
    const k = `${lg.targetSlug}\u0000${filter}`;
    byFilter.set(k, [...(byFilter.get(k) ?? []), lg]);
  }
  const sets: Array<{ name: string; filter: string; groups: LightGroup[] }> = [];
  for (const [k, groups] of byFilter) {
    const [slug, filter] = k.split('\u0000') as [string, string];
    const bins = new Map<string, LightGroup[]>();
    for (const g of groups) {
      const bk = `${g.binning.x}x${g.binning.y}|${g.width}x${g.height}`;
      bins.set(bk, [...(bins.get(bk) ?? []), g]);
    }
    for (const [bk, gs] of bins) sets.push({ name: `${slug}_${slugify(filter)}${bins.size > 1 ? `_bin${bk.split('|')[0]}` : ''}`, filter, groups: gs });
  }
  return sets;
}

function registerStep(name: string, target: string, filter: string, files: string[], deps: string[], options: RunOptions): RegisterStep {
  return {
    id: `register:${name}`,
    kind: 'register',
    inputs: files,
    outputs: files.map((f) => `registered/${name}/${basename(f, '.fits')}_r.fits`),
    params: { reference: options.reference ?? 'auto', drizzle: options.drizzle ?? null, ...(options.interp && options.interp !== 'lanczos3' ? { interp: options.interp } : {}) },
    reason: `align ${files.length} frames of ${target} ${filter} on ${options.reference ? `reference ${options.reference}` : 'the frame with the most stars (auto)'}${options.interp && options.interp !== 'lanczos3' ? `, resampled ${options.interp}` : ''}`,
    deps,
  };
}

function integrateStep(name: string, gs: LightGroup[], inputs: string[], deps: string[], summary: { frames: number; exposure: number }, options: RunOptions): IntegrateStep {
  // One line naming the first bad option (the CLI and the API have checked theirs already).
  validateRunIntegration(options);
  const params: IntegrateStep['params'] = {
    rejection: oneOf('reject', options.reject, REJECTS),
    normalization: oneOf('normalize', options.normalize, NORMALIZES),
    weights: options.weights,
    drizzle: options.drizzle ?? null,
    ...(options.integration && Object.keys(options.integration).length ? { integration: options.integration } : {}),
    ...(options.solve === false ? { solve: false as const } : {}),
  };
  const groups = gs.length > 1 ? ` (light groups ${gs.map((g) => g.id).join(', ')})` : '';
  const combine = options.integration?.combine ?? INTEGRATE_DEFAULTS.combine;
  const reason = `${summary.frames} frame(s), ${fmtNum(summary.exposure, 1)} s total: ${combine} with ${options.reject} rejection, ${options.normalize} normalization, ${options.weights} weights${groups}`;
  const stack = `stacks/${name}.fits`;
  // --rejection-maps: the maps beside the stack, as `darkroom stack` writes them (outputs of the step: claimed in the manifest)
  const maps = options.integration?.rejectionMaps ? rejectionMapPaths(stack) : undefined;
  return { id: `integrate:${name}`, kind: 'integrate', inputs, outputs: maps ? [stack, maps.low, maps.high] : [stack], params, reason, deps };
}

function previewStep(name: string, is: IntegrateStep): PreviewStep {
  return { id: `preview:${name}`, kind: 'preview', inputs: [is.outputs[0]!], outputs: [`previews/${name}.png`], params: { stretch: 'auto-stf' }, reason: 'auto-stretched preview', deps: [is.id] };
}

/** Stacks stage: per stack, registration (when asked and there are several frames), integration and its preview. */
export function stackSteps(grouping: PlanGrouping, last: LightOutputs, options: RunOptions): { steps: PlanStep[]; stacks: PlanStack[] } {
  const steps: PlanStep[] = [];
  const stacks: PlanStack[] = [];
  for (const { name, filter, groups: gs } of stackSets(grouping.lights)) {
    const files = gs.flatMap((g) => last.get(g.id)!.files);
    let inputs = files;
    let deps = gs.map((g) => last.get(g.id)!.step.id);
    const frames = gs.reduce((s, g) => s + g.frames.length, 0);
    const exposure = gs.reduce((s, g) => s + g.frames.reduce((t, f) => t + (f.meta.exposure ?? 0), 0), 0);
    if (options.register && files.length > 1) {
      const rs = registerStep(name, gs[0]!.target, filter, files, deps, options);
      steps.push(rs);
      inputs = rs.outputs;
      deps = [rs.id];
    }
    const is = integrateStep(name, gs, inputs, deps, { frames, exposure }, options);
    steps.push(is, previewStep(name, is));
    const maps = is.outputs.length === 3 ? { rejectionMaps: { low: is.outputs[1]!, high: is.outputs[2]! } } : {};
    stacks.push({ path: is.outputs[0]!, object: gs[0]!.target, filter, lightGroups: gs.map((g) => g.id), frames, exposure_total_s: exposure, cfa: gs[0]!.cfa, step: is.id, ...maps });
  }
  return { steps, stacks };
}

export function reportStep(steps: PlanStep[], stacks: PlanStack[]): ReportStep {
  const deps = steps.filter((s) => s.kind === 'integrate' || s.kind === 'preview').map((s) => s.id);
  return { id: 'report', kind: 'report', inputs: stacks.map((s) => s.path), outputs: ['report.json', 'report.html'], params: {}, reason: 'summary of stacks, masters, rejected frames, warnings and timing', deps };
}
