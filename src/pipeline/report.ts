/**
 * The report of a run (report.json, and report.html through report-html.ts): stacks with the
 * frames used and left out, masters, warnings (human lines and structured events), timing per
 * step kind, and each step's status.
 */
import { join, relative } from 'node:path';
import { writeFileAtomic } from '../util/atomic.js';
import { warningLine, type WarningEvent } from '../util/warnings.js';
import { claimFiles, fileDigest, recordFiles, type Manifest } from './manifest.js';
import type { Plan, PlanStack } from './plan.js';
import type { StandIn } from '../session/group.js';
import { renderReportHtml } from './report-html.js';
import type { RunState, StepStatus } from './scheduler.js';
import type { Stamp } from './stamps.js';
import type { Rejection } from './steps/env.js';
import type { StackWcs } from './steps/solve.js';

export interface ReportStack {
  path: string;
  object: string;
  filter: string;
  frames: number;
  rejected_frames: Rejection[];
  exposure_total_s: number;
  preview?: string;
  noise?: number;
  reference?: string;
  /** With --rejection-maps: the rejection maps written beside the stack. */
  rejection_maps?: { low: string; high: string };
  /** The stack's plate solution (WCS written into it), or why it has none (steps/solve.ts); absent with --no-solve. */
  wcs?: StackWcs;
}

export interface RunReport {
  version: 1;
  stacks: ReportStack[];
  masters: Array<{ path: string; kind: string; frames: number; exposure: number; temperature: number | null; source?: string }>;
  /** Human lines (warningLine of each event). */
  warnings: string[];
  /** The same warnings with their codes. */
  warning_events: WarningEvent[];
  /** Light and flat groups whose bias is a dark or flat-dark standing in: which, its exposure, the dark signal it carries. */
  stand_in_bias?: Array<StandIn & { group: string }>;
  timing_s: Record<string, number>;
  steps: StepStatus[];
}

function reportStack(plan: Plan, st: PlanStack, integ: Stamp): ReportStack {
  const out = plan.out;
  const rejected = [...((integ.info.rejectedUpstream as Rejection[] | undefined) ?? []), ...integ.rejected];
  const used = typeof integ.info.frames === 'number' ? integ.info.frames : st.frames;
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
    noise: typeof integ.info.noise === 'number' ? integ.info.noise : undefined,
    reference: typeof integ.info.reference === 'string' ? relative(out, integ.info.reference) : undefined,
    ...(st.rejectionMaps ? { rejection_maps: st.rejectionMaps } : {}),
    ...(integ.info.wcs ? { wcs: integ.info.wcs as StackWcs } : {}),
  };
}

function standIns(plan: Plan): Pick<RunReport, 'stand_in_bias'> {
  const all = [...plan.groups.lights, ...plan.groups.calibration].flatMap((g) => (g.standIn ? [{ group: g.id, ...g.standIn }] : []));
  return all.length ? { stand_in_bias: all } : {};
}

export function buildRunReport(plan: Plan, rs: RunState): RunReport {
  return {
    version: 1,
    stacks: plan.stacks.filter((st) => rs.results.has(st.step)).map((st) => reportStack(plan, st, rs.results.get(st.step)!)),
    masters: plan.masters.map((m) => ({ path: m.path, kind: m.kind, frames: m.frames, exposure: m.exposure, temperature: m.temperature ?? null, ...(m.source ? { source: m.source } : {}) })),
    warnings: rs.warnings.map(warningLine),
    warning_events: rs.warnings,
    ...standIns(plan),
    timing_s: { total: 0, ...Object.fromEntries(Object.entries(rs.timing).map(([k, v]) => [k, Number(v.toFixed(3))])) },
    steps: rs.statuses,
  };
}

/** Write report.json and report.html (recorded in the manifest when Darkroom creates them). */
export function writeReportFiles(out: string, m: Manifest, report: RunReport, plan: Plan): void {
  const files = { 'report.json': Buffer.from(`${JSON.stringify(report, null, 2)}\n`), 'report.html': Buffer.from(renderReportHtml(report, plan)) };
  claimFiles(out, m, 'report', Object.keys(files), false);
  for (const [name, buf] of Object.entries(files)) writeFileAtomic(join(out, name), [buf]);
  recordFiles(out, m, Object.keys(files), Object.fromEntries(Object.keys(files).map((n) => [n, fileDigest(join(out, n))])));
}
