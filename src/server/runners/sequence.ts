/**
 * The sequence runner of the server session: a plan (src/acquire/plan.ts) run by the sequencer on the
 * connected camera in the background, the camera held while it runs; its status changes go out as
 * {type: 'sequence', status} events.
 */
import { mkdirSync } from 'node:fs';
import { expandPlan, estimateDuration, describePlan, type DurationEstimate, type Plan, type PlannedFrame, type TimingModel } from '../../acquire/plan.js';
import { Sequencer, type SequenceEvent } from '../../acquire/sequencer.js';
import type { Camera, Clock } from '../../devices/types.js';
import { describeAutomationEvent, type AutomationHooks } from '../../acquire/automation.js';
import { autofocusHook } from '../../acquire/focus.js';
import { openSafety } from '../../acquire/open.js';
import { HttpError } from '../errors.js';
import type { Opened } from '../devices.js';
import { publishingCamera, releaseWhenDone, type SessionCore } from './core.js';

export interface SequenceStatus {
  state: 'idle' | 'cooling' | 'running' | 'paused' | 'done' | 'aborted' | 'failed';
  base?: string;
  object?: string;
  out?: string;
  /** Frames in the plan. */
  total: number;
  /** 1-based number of the frame being taken (0 before the first). */
  current: number;
  phase?: string;
  currentFile?: string | null;
  saved: { path: string; group: number; n: number; type: string; filter?: string; exposure: number }[];
  estimate?: DurationEstimate;
  error?: string;
  startedAt?: number;
  /** Seconds of the camera's clock since the start (simulated seconds with the simulator). */
  elapsedS?: number;
  /** Estimated seconds left: the duration estimate of the frames not saved yet (0 at the end). */
  remainingS?: number;
  /** When the sequence should end, in the camera's clock (ms since the epoch). */
  eta?: number;
  /** Per group of the plan with frames (1-based number): frames saved of its total, the estimate of the time until its last frame is saved, and that time. */
  groups?: GroupProgress[];
}

export interface GroupProgress {
  group: number;
  filter?: string;
  done: number;
  total: number;
  remainingS: number;
  eta: number;
}

/** Each group's progress: frames saved of its total, and the estimate of the frames left up to its last one (in the run's order). */
export function groupProgress(frames: PlannedFrame[], saved: number, model: TimingModel, now: number, ended: boolean): GroupProgress[] {
  const left = frames.slice(saved);
  const out = new Map<number, GroupProgress>();
  for (const f of frames) {
    const g = out.get(f.group) ?? { group: f.group + 1, filter: f.filter, done: 0, total: 0, remainingS: 0, eta: now };
    g.total++;
    if (f.index < saved) g.done++;
    out.set(f.group, g);
  }
  if (!ended) {
    for (const g of out.values()) {
      let last = -1;
      for (let i = left.length - 1; i >= 0; i--) if (left[i]!.group === g.group - 1) { last = i; break; }
      g.remainingS = last < 0 ? 0 : estimateDuration(left.slice(0, last + 1), model).totalS;
      g.eta = now + g.remainingS * 1000;
    }
  }
  return [...out.values()];
}

export interface SequenceEstimate {
  frames: number;
  estimate: DurationEstimate;
  timing: 'camera' | 'default';
  lines: string[];
}

const ACTIVE = ['cooling', 'running', 'paused'];

/** Update a sequence status with one sequencer event. */
export function applySequenceEvent(s: SequenceStatus, e: SequenceEvent): void {
  switch (e.kind) {
    case 'cooling':
      s.phase = `cooling: ${e.ccdTemp.toFixed(1)} C (set point ${e.setpoint} C)`;
      break;
    case 'cooled':
      s.state = 'running';
      s.phase = 'cooled';
      break;
    case 'filter':
      s.current = e.frame.index + 1;
      s.phase = `filter ${e.filter}`;
      break;
    case 'exposing':
      s.current = e.frame.index + 1;
      s.state = 'running';
      s.phase = `exposing ${e.frame.type} ${e.frame.exposure} s${e.frame.filter ? ` ${e.frame.filter}` : ''} (group ${e.frame.group + 1} frame ${e.frame.n})`;
      break;
    case 'saved':
      s.currentFile = e.path;
      s.phase = 'saved';
      s.saved.push({ path: e.path, group: e.frame.group + 1, n: e.frame.n, type: e.frame.type, filter: e.frame.filter, exposure: e.frame.exposure });
      break;
    case 'paused':
      s.state = 'paused';
      s.phase = 'paused';
      break;
    case 'resumed':
      s.state = 'running';
      s.phase = 'resumed';
      break;
    case 'aborted':
      s.phase = 'aborted';
      break;
    case 'warming':
      s.phase = `warming: set point ${e.setpoint} C`;
      break;
    case 'camera-condition':
      // soft: paused until it clears; hard: stopped (the frames saved are kept)
      if (e.action === 'pause') s.state = 'paused';
      else s.error = `camera ${e.condition.message}: sequence stopped`;
      s.phase = `camera ${e.condition.message}${e.action === 'pause' ? ': paused until it clears' : ''}`;
      break;
    case 'condition-cleared':
      s.state = 'running';
      s.phase = `camera ${e.condition.code} cleared after ${Math.round(e.waitedS)} s: resuming`;
      break;
    case 'focus-offset':
      s.phase = `focus offset ${e.from ?? '?'} -> ${e.to}: ${e.steps} steps`;
      break;
    case 'warning':
      s.phase = `warning: ${e.message}`;
      break;
    case 'done':
      break;
    default: {
      // night automation: autofocus, centring, meridian flip, safety, until
      const line = describeAutomationEvent(e);
      if (line !== null) s.phase = line;
    }
  }
}

/** The plan's frames, refused (400) when there are none or the camera cannot take them (filters, binning). */
async function checkPlan(d: Opened, plan: Plan): Promise<PlannedFrame[]> {
  const frames = expandPlan(plan);
  if (frames.length === 0) throw new HttpError(400, 'BAD_ARGUMENT', 'the plan has no frames to take (no active group with a count above 0)');
  if (d.wheel) {
    const names = await d.wheel.names();
    for (const f of plan.groups) {
      if (f.active && f.filter && !names.some((n) => n.toLowerCase() === f.filter!.toLowerCase())) throw new HttpError(400, 'BAD_ARGUMENT', `no filter named '${f.filter}' (have: ${names.join(', ')})`);
    }
  } else if (plan.groups.some((g) => g.active && g.filter)) throw new HttpError(400, 'BAD_ARGUMENT', 'the plan names filters but the camera has no filter wheel');
  const maxBin = Math.min(d.sensor.maxBinX, d.sensor.maxBinY);
  const tooBig = plan.groups.find((g) => g.active && g.binning > maxBin);
  if (tooBig) throw new HttpError(400, 'BAD_ARGUMENT', `binning ${tooBig.binning} exceeds the camera's maximum ${maxBin}`);
  return frames;
}

/**
 * The night automation of a console sequence, as `darkroom sequence` gives it: autofocus triggers with the
 * connected focuser, centring and the meridian flip with the connected goto mount, and the plan's safety
 * monitor (safety.device), opened for the run (`close` releases it). A plan key whose device the rig
 * lacks is refused by the sequencer, in words, before anything moves.
 */
async function automationOf(d: Opened, camera: Camera, plan: Plan): Promise<{ automation: AutomationHooks; close: () => void }> {
  const safety = plan.safety?.device ? await openSafety(plan.safety.device) : undefined;
  const automation: AutomationHooks = {
    ...(d.focuser ? { autofocus: autofocusHook(camera, d.focuser) } : {}),
    ...(d.mount ? { mount: d.mount } : {}),
    ...(safety ? { safety: safety.monitor } : {}),
    solve: { timeout: 60 },
  };
  return { automation, close: () => safety?.close() };
}

export class SequenceRunner {
  private seq: Sequencer | null = null;
  private current: SequenceStatus = { state: 'idle', total: 0, current: 0, saved: [] };
  private finished: Promise<void> | null = null;
  /** What the elapsed time and the estimate of the rest are computed from while a sequence runs. */
  private timer: { clock: Clock; t0: number; frames: PlannedFrame[]; model: TimingModel; end?: number } | null = null;

  constructor(
    private readonly core: SessionCore,
    /** The plan's dither (ditherEvery): the guider's, while it guides. */
    private readonly hooks: { dither?: () => Promise<void> } = {},
  ) {}

  /** Elapsed, remaining and ETA of the status, from the camera's clock and the frames left. */
  private updateTimes(): void {
    const t = this.timer;
    const s = this.current;
    if (!t) return;
    const ended = !ACTIVE.includes(s.state);
    // the clock stops at the end of the sequence
    if (ended) t.end ??= t.clock.now();
    const now = t.end ?? t.clock.now();
    s.elapsedS = (now - t.t0) / 1000;
    s.remainingS = ended ? 0 : estimateDuration(t.frames.slice(s.saved.length), t.model).totalS;
    s.eta = now + s.remainingS * 1000;
    s.groups = groupProgress(t.frames, s.saved.length, t.model, now, ended);
  }

  /** The timing model of the connected camera (the simulator's readout and wheel), or defaults. */
  private async timing(): Promise<{ model: TimingModel; source: 'camera' | 'default' }> {
    let d;
    try {
      d = this.core.devices.opened();
    } catch {
      return { model: { readoutS: 1, filterSlotS: 0.4, filterNames: [] }, source: 'default' };
    }
    const names = d.wheel ? await d.wheel.names().catch(() => []) : [];
    const pos = d.wheel ? await d.wheel.position().catch(() => -1) : -1;
    // readout and wheel speed are those of the simulator (1 s full frame, 0.4 s per slot); others: the same guess
    return { model: { readoutS: 1, filterSlotS: 0.4, filterNames: names, startSlot: pos >= 0 ? pos : undefined }, source: d.spec === 'sim' ? 'camera' : 'default' };
  }

  async estimate(plan: Plan): Promise<SequenceEstimate> {
    const frames = expandPlan(plan);
    const { model, source } = await this.timing();
    const est = estimateDuration(frames, model);
    return { frames: frames.length, estimate: est, timing: source, lines: describePlan(plan, frames, est) };
  }

  status(): SequenceStatus {
    this.updateTimes();
    return this.current;
  }

  private event(): void {
    this.updateTimes();
    this.core.emit({ type: 'sequence', status: this.current });
  }

  async start(plan: Plan, out: string): Promise<SequenceStatus> {
    if (this.seq && ACTIVE.includes(this.current.state)) throw new HttpError(409, 'BUSY', `a sequence is already running ('${this.current.base}', frame ${this.current.current} of ${this.current.total}): abort it first`);
    const dir = this.core.roots.writable(out);
    const d = this.core.devices.opened();
    const frames = await checkPlan(d, plan);
    const camera = publishingCamera(this.core, d.camera, 'sequence');
    const { automation, close } = await automationOf(d, camera, plan);
    const seq = new Sequencer(plan, { camera, wheel: d.wheel, focuser: d.focuser, clock: d.clock, outDir: dir, dither: this.hooks.dither, automation, onEvent: (e) => this.onEvent(e) });
    try {
      this.core.devices.hold(`sequence '${plan.base}'`);
    } catch (e) {
      close();
      throw e;
    }
    mkdirSync(dir, { recursive: true });
    const { model } = await this.timing();
    this.seq = seq;
    const cooling = plan.cooling ? 'cooling' : undefined;
    this.current = { state: cooling ?? 'running', base: plan.base, object: plan.object, out: dir, total: frames.length, current: 0, phase: cooling ?? 'starting', currentFile: null, saved: [], estimate: estimateDuration(frames, model), startedAt: Date.now() };
    this.timer = { clock: d.clock, t0: d.clock.now(), frames, model };
    this.event();
    const s = this.current;
    this.finished = releaseWhenDone(this.core, seq.run().finally(close), {
      done: (r) => {
        s.state = r.aborted ? 'aborted' : 'done';
        s.phase = r.aborted ? 'aborted' : 'done';
      },
      failed: (message) => {
        s.state = 'failed';
        s.phase = 'failed';
        s.error = message;
      },
      ended: () => this.event(),
    });
    return this.current;
  }

  private onEvent(e: SequenceEvent): void {
    applySequenceEvent(this.current, e);
    this.event();
  }

  private running(what: string): Sequencer {
    if (!this.seq || !ACTIVE.includes(this.current.state)) throw new HttpError(409, 'NOT_RUNNING', `no sequence is running (cannot ${what})`);
    return this.seq;
  }

  pause(): SequenceStatus {
    const q = this.running('pause');
    if (q.paused) throw new HttpError(409, 'PAUSED', 'the sequence is already paused');
    q.pause();
    this.current.phase = 'pausing after this frame';
    this.event();
    return this.current;
  }

  resume(): SequenceStatus {
    const q = this.running('resume');
    if (!q.paused) throw new HttpError(409, 'NOT_PAUSED', 'the sequence is not paused');
    q.resume();
    if (this.current.state === 'paused') this.current.state = 'running';
    this.current.phase = 'resumed';
    this.event();
    return this.current;
  }

  async abort(wait = true): Promise<SequenceStatus> {
    const q = this.running('abort');
    q.abort();
    this.current.phase = 'aborting';
    this.event();
    if (wait) await this.finished;
    return this.current;
  }

  /** Stop the sequence, if any, and wait for its end (disconnect, close). */
  async stop(): Promise<void> {
    this.seq?.abort();
    await this.finished;
  }

  /** Resolves when the current sequence has ended (tests). */
  async ended(): Promise<void> {
    await this.finished;
  }
}
