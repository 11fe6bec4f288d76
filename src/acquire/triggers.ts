/**
 * Sequencer triggers and conditions, as pure functions: state in, decisions out (automation.ts runs them).
 * - Autofocus (plan.autofocus), checked before each light frame, first reason wins:
 *   'start' (atStart, before the first light), 'frames' (everyFrames lights since the last autofocus),
 *   'temperature' (|T - T at the last autofocus| >= tempChange), 'filter' (onFilterChange: the light's filter
 *   differs from the previous light's), 'hfr' (the median HFR of the last hfrFrames lights of this filter
 *   exceeds the reference by hfrIncrease percent; the reference is the median of the first hfrFrames lights
 *   of the filter after the last autofocus).
 * - Dither every N light frames: before light N+1, 2N+1, ... (never before the first).
 * - Until: 'time' when the next frame would end after it, 'altitude' when the target is below it now,
 *   'frames' when that many frames were taken. loopFrames repeats the plan's frames while plan.loop is set.
 */
import type { Plan, PlannedFrame } from './plan.js';

export type AutofocusConfig = NonNullable<Plan['autofocus']>;
export type UntilConfig = NonNullable<Plan['until']>;
export type AutofocusReason = 'start' | 'frames' | 'temperature' | 'filter' | 'hfr';

export interface TriggerState {
  /** Light frames taken, in all. */
  lights: number;
  /** Light frames since the last autofocus. */
  sinceFocus: number;
  /** Whether an autofocus ran. */
  focused: boolean;
  /** Temperature at the last autofocus, C. */
  focusTemp?: number;
  /** Filter of the previous light frame. */
  lastFilter?: string;
  /** HFR of the lights per filter since the last autofocus (oldest first). */
  hfr: Record<string, number[]>;
}

export function newTriggerState(): TriggerState {
  return { lights: 0, sinceFocus: 0, focused: false, hfr: {} };
}

const key = (filter: string | undefined) => (filter ?? '').toLowerCase();

function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** HFR growth (percent) of a filter's last n lights over its first n after the autofocus; undefined until 2n measured. */
export function hfrGrowth(st: TriggerState, filter: string | undefined, n: number): number | undefined {
  const v = (st.hfr[key(filter)] ?? []).filter((x) => Number.isFinite(x));
  if (v.length < 2 * n) return undefined;
  const ref = median(v.slice(0, n));
  return ref > 0 ? (median(v.slice(-n)) / ref - 1) * 100 : undefined;
}

/** Why an autofocus is due before light frame `f` (temperature now: `temp`), or null. */
export function autofocusDue(cfg: AutofocusConfig | undefined, st: TriggerState, f: Pick<PlannedFrame, 'type' | 'filter'>, temp?: number): AutofocusReason | null {
  if (!cfg || f.type !== 'light') return null;
  if (cfg.atStart && !st.focused && st.lights === 0) return 'start';
  if (cfg.everyFrames !== undefined && st.sinceFocus >= cfg.everyFrames) return 'frames';
  if (cfg.tempChange !== undefined && temp !== undefined && st.focusTemp !== undefined && Math.abs(temp - st.focusTemp) >= cfg.tempChange) return 'temperature';
  if (cfg.onFilterChange && st.lights > 0 && key(st.lastFilter) !== key(f.filter)) return 'filter';
  if (cfg.hfrIncrease !== undefined) {
    const g = hfrGrowth(st, f.filter, cfg.hfrFrames);
    if (g !== undefined && g >= cfg.hfrIncrease) return 'hfr';
  }
  return null;
}

/** The state after an autofocus (at temperature `temp`): counters and HFR history restart. */
export function afterAutofocus(st: TriggerState, temp?: number): TriggerState {
  return { ...st, sinceFocus: 0, focused: true, focusTemp: temp ?? st.focusTemp, hfr: {} };
}

/** The state after a frame was saved (its HFR, when measured). */
export function afterFrame(st: TriggerState, f: Pick<PlannedFrame, 'type' | 'filter'>, hfr?: number): TriggerState {
  if (f.type !== 'light') return st;
  const k = key(f.filter);
  const hist = hfr === undefined ? st.hfr : { ...st.hfr, [k]: [...(st.hfr[k] ?? []), hfr].slice(-200) };
  return { ...st, lights: st.lights + 1, sinceFocus: st.sinceFocus + 1, lastFilter: f.filter, hfr: hist };
}

/** The first temperature of the night: the reference for tempChange when no autofocus ran yet. */
export function withStartTemp(st: TriggerState, temp?: number): TriggerState {
  return st.focusTemp === undefined && temp !== undefined ? { ...st, focusTemp: temp } : st;
}

/** Dither before this light frame: every `every` lights (0: never), never before the first. */
export function ditherDue(every: number, lightsTaken: number): boolean {
  return every > 0 && lightsTaken > 0 && lightsTaken % every === 0;
}

export type StopReason = 'time' | 'altitude' | 'frames';

/** Why the sequence ends before the next frame (ending at `nextEnd` ms), or null. */
export function untilReached(u: UntilConfig | undefined, s: { nextEnd: number; framesTaken: number; altitude?: number }): StopReason | null {
  if (!u) return null;
  if (u.frames !== undefined && s.framesTaken >= u.frames) return 'frames';
  if (u.time !== undefined && s.nextEnd > Date.parse(u.time)) return 'time';
  if (u.altitude !== undefined && s.altitude !== undefined && s.altitude < u.altitude) return 'altitude';
  return null;
}

/** The plan's frames, repeated cycle after cycle when `loop` (indices go on; n counts on within each group). */
export function* loopFrames(frames: PlannedFrame[], loop: boolean): Generator<PlannedFrame> {
  if (!loop || frames.length === 0) {
    yield* frames;
    return;
  }
  const perGroup = new Map<number, number>();
  for (const f of frames) perGroup.set(f.group, Math.max(perGroup.get(f.group) ?? 0, f.n));
  for (let cycle = 0; ; cycle++) {
    for (const f of frames) yield { ...f, index: cycle * frames.length + f.index, n: cycle * perGroup.get(f.group)! + f.n };
  }
}
