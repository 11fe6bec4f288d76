/**
 * Sequence plans (JSON): up to 16 groups of frames, ordered "cycle" (one frame of each active group in turn,
 * default) or "group" (all of group 1, then group 2, ...), with a base name, start number, naming pattern,
 * cooling, site/telescope profile. Validated with zod; errors name the plan file and the field.
 *
 * Duration estimate: for each frame, exposure (0 for bias) + download (readout / binY) + filter move
 * (slots travelled the short way round x time per slot) + the group's delay. Cooling waits are not included.
 */
import { parse as parseYaml } from 'yaml';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { DarkroomError } from '../util/errors.js';
import { FRAME_KINDS } from '../image/frame-kind.js';

export const GroupSchema = z.strictObject({
  type: z.enum(FRAME_KINDS).default('light'),
  filter: z.string().min(1).optional(),
  exposure: z.number().min(0).max(14_400),
  binning: z.number().int().min(1).max(4).default(1),
  count: z.number().int().min(0).max(100_000),
  suffix: z.string().default(''),
  /** Seconds to wait after each frame of this group. */
  delay: z.number().min(0).max(86_400).default(0),
  active: z.boolean().default(true),
});

export const ProfileSchema = z.strictObject({
  observer: z.string().optional(),
  telescope: z.string().optional(),
  /** mm */
  focalLength: z.number().positive().optional(),
  /** degrees, north positive */
  siteLat: z.number().min(-90).max(90).optional(),
  /** degrees, east positive */
  siteLong: z.number().min(-180).max(360).optional(),
});

/** Night automation keys (triggers, loop conditions, target, centering, meridian flip, safety): see triggers.ts, automation.ts. */
const AutomationKeys = {
  /** Autofocus triggers (run by the sequencer's autofocus hook, before a light frame). */
  autofocus: z
    .strictObject({
      /** Before the first light frame. */
      atStart: z.boolean().default(false),
      /** After this many light frames since the last autofocus. */
      everyFrames: z.number().int().min(1).max(100_000).optional(),
      /** When the temperature (focuser's) moved this many C since the last autofocus. */
      tempChange: z.number().positive().max(50).optional(),
      /** After each filter change. */
      onFilterChange: z.boolean().default(false),
      /** When the median HFR of the last hfrFrames lights of a filter is this many percent above the one after the last autofocus. */
      hfrIncrease: z.number().positive().max(1000).optional(),
      hfrFrames: z.number().int().min(1).max(50).default(3),
    })
    .optional(),
  /** Repeat the plan's frames (cycle after cycle) until an `until` condition ends the sequence. */
  loop: z.boolean().default(false),
  /** End the sequence at a time (ISO 8601, UTC unless it says otherwise), when the target sinks below an altitude (degrees), or after a number of frames. */
  until: z
    .strictObject({
      time: z.string().refine((t) => Number.isFinite(Date.parse(t)), 'not a date/time (ISO 8601, e.g. 2024-01-16T05:30:00Z)').optional(),
      altitude: z.number().min(-10).max(90).optional(),
      frames: z.number().int().min(1).max(1_000_000).optional(),
    })
    .optional(),
  /** The target (J2000 degrees): for centering, the altitude condition and the meridian flip. */
  target: z.strictObject({ ra: z.number().min(0).max(360), dec: z.number().min(-90).max(90) }).optional(),
  /** Centre the target (slew, expose, solve, sync, re-slew) before the first light frame and after a meridian flip. */
  center: z
    .strictObject({
      /** arcsec */
      tolerance: z.number().positive().max(3600).default(30),
      exposure: z.number().positive().max(600).default(5),
      binning: z.number().int().min(1).max(4).default(2),
      maxIterations: z.number().int().min(1).max(10).default(5),
    })
    .optional(),
  /** Meridian flip: flip once the target is past the meridian and the next frame would end past limitMinutes of hour angle (the mount's tracking limit). */
  meridian: z
    .strictObject({
      /** Minutes of hour angle past the meridian the mount can track before the flip. */
      limitMinutes: z.number().min(0).max(120).default(10),
      /** Earliest flip, minutes past the meridian. */
      afterMinutes: z.number().min(0).max(120).default(0),
      /** Time allowed for a frame's download, s (added to its exposure). */
      marginS: z.number().min(0).max(600).default(10),
      /** Re-centre after the flip (needs `target` and `center`); default true. */
      recenter: z.boolean().default(true),
      /** After the flip the guider flips its calibration (RA reversed) or calibrates again. */
      guider: z.enum(['flip', 'recalibrate']).default('flip'),
      /** The mount reverses its Dec output after a flip (PHD2's "reverse Dec output after meridian flip"): the flipped calibration reverses Dec too. */
      reverseDec: z.boolean().default(false),
    })
    .optional(),
  /** What to do when the safety monitor reports unsafe (checked before each frame): stop, park the mount and stop, or wait until safe. */
  safety: z
    .strictObject({
      action: z.enum(['abort', 'park', 'wait']).default('park'),
      pollS: z.number().min(1).max(3600).default(60),
      /** The safety monitor: alpaca://HOST:PORT/N (SafetyMonitor) or indi://HOST:PORT[/DEVICE] (weather station); `sequence --safety` overrides it. */
      device: z.string().regex(/^(alpaca|indi):\/\//, 'alpaca://HOST:PORT/N or indi://HOST:PORT[/DEVICE]').optional(),
    })
    .optional(),
};

export const PlanSchema = z.strictObject({
  object: z.string().default(''),
  base: z.string().min(1).default('frame'),
  start: z.number().int().min(0).default(1),
  order: z.enum(['cycle', 'group']).default('cycle'),
  pattern: z.string().min(1).optional(),
  cooling: z
    .strictObject({
      setpoint: z.number().min(-60).max(50),
      /** C */
      tolerance: z.number().positive().default(0.2),
      /** minutes within tolerance before starting */
      stableMinutes: z.number().min(0).default(1),
      timeoutMinutes: z.number().positive().default(30),
    })
    .optional(),
  /** Warm the camera at the end: ramp the set point up to this temperature (C), then switch the cooler off. */
  warmTo: z.number().min(-40).max(50).optional(),
  /** Dither every N light frames (0 = never; needs a guider). */
  ditherEvery: z.number().int().min(0).default(0),
  /** Focuser offsets in steps per filter name (filters not listed: 0): on a filter change the focuser moves by the difference. */
  focusOffsets: z.record(z.string().min(1), z.number().int().min(-100_000).max(100_000)).optional(),
  /** The telescope is capped for the dark frames (needed with a camera's electronic shutter). */
  darksCapped: z.boolean().default(false),
  /** Warming rate at the end (warmTo), C per minute. */
  warmRate: z.number().positive().max(20).default(5),
  ...AutomationKeys,
  profile: ProfileSchema.default({}),
  groups: z.array(GroupSchema).min(1).max(16),
});

export type Plan = z.infer<typeof PlanSchema>;
export type PlanGroup = z.infer<typeof GroupSchema>;
export type Profile = z.infer<typeof ProfileSchema>;

/** Validate a parsed plan object; errors name `file`. */
export function parsePlan(obj: unknown, file?: string): Plan {
  const r = PlanSchema.safeParse(obj);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    const where = issue.path.length ? issue.path.join('.') : 'plan';
    throw new DarkroomError('BAD_ARGUMENT', `invalid plan: ${where}: ${issue.message}`, file);
  }
  const bad = automationProblem(r.data);
  if (bad) throw new DarkroomError('BAD_ARGUMENT', `invalid plan: ${bad}`, file);
  return r.data;
}

/** Keys of the night automation that need one another: the first problem, or undefined. */
function automationProblem(p: Plan): string | undefined {
  const u = p.until;
  if (p.loop && !(u && (u.time !== undefined || u.altitude !== undefined || u.frames !== undefined))) return 'loop: a looping plan needs an until condition (time, altitude or frames)';
  const site = p.profile.siteLat !== undefined && p.profile.siteLong !== undefined;
  if (u?.altitude !== undefined && !(p.target && site)) return 'until.altitude: needs target (ra, dec) and profile.siteLat/siteLong';
  if (p.meridian && !(p.target && p.profile.siteLong !== undefined)) return 'meridian: needs target (ra, dec) and profile.siteLong';
  if (p.center && !p.target) return 'center: needs target (ra, dec)';
  return undefined;
}

/** Read a plan file (JSON only). */
export function readPlan(path: string): Plan {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new DarkroomError(err.code === 'ENOENT' ? 'ENOENT' : 'IO', err.code === 'ENOENT' ? 'no such plan file' : `cannot read plan: ${err.message}`, path);
  }
  let obj: unknown;
  if (/\.ya?ml$/i.test(path)) {
    try {
      obj = parseYaml(text);
    } catch (e) {
      throw new DarkroomError('BAD_ARGUMENT', `plan is not valid YAML: ${(e as Error).message.split('\n')[0]}`, path);
    }
  } else {
    try {
      obj = JSON.parse(text);
    } catch (e) {
      throw new DarkroomError('BAD_ARGUMENT', `plan is not valid JSON: ${(e as Error).message}`, path);
    }
  }
  return parsePlan(obj, path);
}

export interface PlannedFrame {
  /** 0-based index in the run. */
  index: number;
  /** Index of the group in plan.groups. */
  group: number;
  /** 1-based number of this frame within its group. */
  n: number;
  type: PlanGroup['type'];
  filter?: string;
  exposure: number;
  binning: number;
  suffix: string;
  delay: number;
}

/** The frames of a plan in execution order. */
export function expandPlan(plan: Plan): PlannedFrame[] {
  const groups = plan.groups.map((g, i) => ({ g, i })).filter(({ g }) => g.active && g.count > 0);
  const out: PlannedFrame[] = [];
  const mk = (g: PlanGroup, i: number, n: number): PlannedFrame => ({
    index: out.length,
    group: i,
    n,
    type: g.type,
    filter: g.filter,
    exposure: g.type === 'bias' ? 0 : g.exposure,
    binning: g.binning,
    suffix: g.suffix,
    delay: g.delay,
  });
  if (plan.order === 'group') {
    for (const { g, i } of groups) for (let n = 1; n <= g.count; n++) out.push(mk(g, i, n));
  } else {
    const max = Math.max(...groups.map(({ g }) => g.count), 0);
    for (let n = 1; n <= max; n++) for (const { g, i } of groups) if (n <= g.count) out.push(mk(g, i, n));
  }
  return out;
}

export interface TimingModel {
  /** Full-frame readout time unbinned, s (divided by the y binning). */
  readoutS: number;
  /** Filter wheel time per slot, s. */
  filterSlotS: number;
  /** Wheel slot names in order (for slot distances); unknown filters count one slot. */
  filterNames: string[];
  /** Current wheel slot (0-based). */
  startSlot?: number;
}

export interface DurationEstimate {
  totalS: number;
  exposureS: number;
  downloadS: number;
  filterS: number;
  delayS: number;
  frames: number;
}

function slotOf(names: string[], f: string): number {
  return names.findIndex((n) => n.toLowerCase() === f.toLowerCase());
}

export function estimateDuration(frames: PlannedFrame[], t: TimingModel): DurationEstimate {
  let exposureS = 0;
  let downloadS = 0;
  let filterS = 0;
  let delayS = 0;
  let slot = t.startSlot ?? -1;
  const n = t.filterNames.length;
  for (const f of frames) {
    if (f.filter) {
      const s = slotOf(t.filterNames, f.filter);
      if (s < 0) filterS += t.filterSlotS;
      else if (slot >= 0 && s !== slot) filterS += Math.min((s - slot + n) % n, (slot - s + n) % n) * t.filterSlotS;
      else if (slot < 0) filterS += t.filterSlotS;
      if (s >= 0) slot = s;
    }
    exposureS += f.exposure;
    downloadS += t.readoutS / f.binning;
    delayS += f.delay;
  }
  return { totalS: exposureS + downloadS + filterS + delayS, exposureS, downloadS, filterS, delayS, frames: frames.length };
}

export function formatDuration(s: number): string {
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = Math.round(s % 60);
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m${String(sec).padStart(2, '0')}s` : `${m}m${String(sec).padStart(2, '0')}s`;
}

/** Human-readable listing of the plan: one line per group and the duration estimate. */
export function describePlan(plan: Plan, frames: PlannedFrame[], est: DurationEstimate): string[] {
  const lines = [`sequence '${plan.base}' (${plan.object || 'no object'}), order ${plan.order}, ${frames.length} frames, start number ${plan.start}`];
  plan.groups.forEach((g, i) => {
    lines.push(
      `  ${String(i + 1).padStart(2)}. ${g.active ? ' ' : '-'} ${g.type.padEnd(8)} ${(g.filter ?? '-').padEnd(10)} ${String(g.exposure).padStart(7)} s  bin ${g.binning}  x${g.count}  suffix '${g.suffix}'${g.delay ? `  delay ${g.delay} s` : ''}${g.active ? '' : '  (inactive)'}`,
    );
  });
  if (plan.cooling) lines.push(`  cooling to ${plan.cooling.setpoint} C, stable within ${plan.cooling.tolerance} C for ${plan.cooling.stableMinutes} min before starting`);
  lines.push(
    `  estimated duration ${formatDuration(est.totalS)} (exposures ${formatDuration(est.exposureS)}, downloads ${formatDuration(est.downloadS)}, filter moves ${formatDuration(est.filterS)}, delays ${formatDuration(est.delayS)})${plan.cooling ? ' plus cooling' : ''}`,
  );
  return lines;
}
