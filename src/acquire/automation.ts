/**
 * Night automation around the sequencer's frames: before each frame, in this order, the safety monitor
 * (plan.safety: abort, park and stop, or wait until safe), the until conditions (time, altitude, frames),
 * the meridian flip (plan.meridian: wait, flip, re-centre, flip the guider calibration) and the autofocus
 * triggers (plan.autofocus); after each saved light, its HFR for the HFR trigger. Centering on plan.target
 * before the first light (plan.center). Decisions are the pure functions of triggers.ts and meridian.ts.
 * Centering and autofocus change the camera's binning: it is put back afterwards.
 */
import type { Camera, Clock, Focuser, SafetyMonitor } from '../devices/types.js';
import { readFits } from '../fits/index.js';
import { altitudeDeg } from '../session/sidereal.js';
import type { SolveOptions } from '../solve/options.js';
import { DarkroomError } from '../util/errors.js';
import { centerOn, type GotoMount } from './center.js';
import { measureFocus } from './focus.js';
import { flipDecision, type MeridianMount, type PierSide } from './meridian.js';
import { formatDuration, type Plan, type PlannedFrame } from './plan.js';
import { afterAutofocus, afterFrame, autofocusDue, newTriggerState, untilReached, withStartTemp, type AutofocusReason, type StopReason } from './triggers.js';

export interface AutomationHooks {
  /** Run an autofocus (e.g. focus.ts autofocus with the rig's focuser). */
  autofocus?: () => Promise<unknown>;
  /** Temperature for the tempChange trigger, C (default: the focuser's sensor). */
  temperature?: () => Promise<number | undefined>;
  /** HFR of a saved light (default: measured from the file). */
  measureHfr?: (path: string) => number;
  /** The mount: goto for centering, hour angle and pier side for the flip, park for safety. */
  mount?: GotoMount & Partial<MeridianMount> & { park?(): Promise<void> };
  safety?: SafetyMonitor;
  /** After a flip (and re-centering): flip the guider's calibration or recalibrate, as plan.meridian says (e.g. Guider.afterMeridianFlip). */
  afterFlip?: (o: { recalibrate: boolean; reverseDec: boolean }) => Promise<void>;
  /** Options of the centering solves. */
  solve?: Partial<SolveOptions>;
}

export type AutomationEvent =
  | { kind: 'autofocus'; reason: AutofocusReason; frame: PlannedFrame }
  | { kind: 'centered'; centered: boolean; error: number; iterations: number }
  | { kind: 'meridian-wait'; frame: PlannedFrame; seconds: number; hourAngle: number }
  | { kind: 'meridian-flip'; frame: PlannedFrame; hourAngle: number; pierSide: PierSide; seconds: number }
  | { kind: 'unsafe'; frame: PlannedFrame; action: 'abort' | 'park' | 'wait' }
  | { kind: 'safe'; waitedS: number }
  | { kind: 'parked' }
  | { kind: 'until'; reason: StopReason; frame: PlannedFrame };

/** One line on what the night automation did (the CLI's log, the console's sequence phase); null for other events. */
export function describeAutomationEvent(e: { kind: string } & Partial<Record<string, unknown>>): string | null {
  const a = e as AutomationEvent | { kind: 'warming'; setpoint: number };
  const at = (f: { index?: number }) => (f.index !== undefined ? ` before frame ${f.index + 1}` : '');
  switch (a.kind) {
    case 'centered': return `${a.centered ? 'centered' : 'warning: not centered'}: ${a.error.toFixed(1)}" from the target after ${a.iterations} frame${a.iterations === 1 ? '' : 's'}`;
    case 'autofocus': return `autofocus (${a.reason})${at(a.frame)}`;
    case 'meridian-wait': return `meridian: waiting ${formatDuration(a.seconds)} (hour angle ${(a.hourAngle * 60).toFixed(1)} min)`;
    case 'meridian-flip': return `meridian flip at hour angle ${(a.hourAngle * 60).toFixed(1)} min: pier side ${a.pierSide}, ${formatDuration(a.seconds)}`;
    case 'unsafe': return `warning: unsafe${at(a.frame)}: ${a.action === 'wait' ? 'waiting until safe' : a.action === 'park' ? 'parking, sequence ended' : 'sequence ended'}`;
    case 'safe': return `safe again after ${formatDuration(a.waitedS)}: resuming`;
    case 'parked': return 'mount parked';
    case 'until': return `until ${a.reason} reached: sequence ended`;
    case 'warming': return `warming: set point ${a.setpoint.toFixed(1)} C`;
    default: return null;
  }
}

export interface AutomationContext {
  camera: Camera;
  clock: Clock;
  focuser?: Focuser;
  emit: (e: AutomationEvent) => void;
  aborted: () => boolean;
  /** Sleep ms of the clock, returning early on abort. */
  wait: (ms: number) => Promise<void>;
}

export class NightAutomation {
  private st = newTriggerState();
  private taken = 0;
  constructor(
    readonly plan: Plan,
    private readonly h: AutomationHooks,
    private readonly c: AutomationContext,
  ) {}

  /** Refuse plan keys the rig cannot serve, before anything moves. */
  check(): void {
    const p = this.plan;
    const need = (ok: unknown, what: string) => {
      if (!ok) throw new DarkroomError('BAD_ARGUMENT', `the plan has ${what}`);
    };
    need(!p.autofocus || this.h.autofocus, 'autofocus triggers but no autofocus (focuser) is connected');
    need(!p.center || this.h.mount, 'center but no mount is connected');
    need(!p.meridian || (this.h.mount?.hourAngle && this.h.mount.pierSide && this.h.mount.flip), 'meridian but the mount cannot report its hour angle and pier side or flip');
    need(!p.safety || this.h.safety, 'safety but no safety monitor is connected');
    need(p.safety?.action !== 'park' || this.h.mount?.park, 'safety action park but the mount cannot park');
  }

  /** Before the first frame: the start temperature, centering on the target. */
  async start(): Promise<void> {
    this.st = withStartTemp(this.st, await this.temperature());
    if (this.plan.center) await this.center();
  }

  /** Before frame f: false to end the sequence here. */
  async before(f: PlannedFrame): Promise<boolean> {
    if (!(await this.safe(f))) return false;
    const p = this.plan;
    const { clock } = this.c;
    const nextEnd = clock.now() + (f.exposure + (p.meridian?.marginS ?? 0)) * 1000;
    const t = p.target;
    const alt = t && p.profile.siteLat !== undefined && p.profile.siteLong !== undefined ? altitudeDeg(clock.now(), p.profile.siteLat, p.profile.siteLong, t.ra, t.dec) : undefined;
    const stop = untilReached(p.until, { nextEnd, framesTaken: this.taken, altitude: alt });
    if (stop) {
      this.c.emit({ kind: 'until', reason: stop, frame: f });
      return false;
    }
    if (p.meridian && !(await this.meridian(f))) return false;
    await this.focus(f);
    return !this.c.aborted();
  }

  /** After frame f was saved at `path`. */
  after(f: PlannedFrame, path: string): void {
    this.taken++;
    const hfr = f.type === 'light' && this.plan.autofocus?.hfrIncrease !== undefined ? (this.h.measureHfr ?? ((q) => measureFocus(readFits(q)).hfr))(path) : undefined;
    this.st = afterFrame(this.st, f, hfr);
  }

  private async temperature(): Promise<number | undefined> {
    if (this.h.temperature) return this.h.temperature();
    return this.c.focuser?.temperature ? this.c.focuser.temperature() : undefined;
  }

  /** Run `fn`, then put the camera's binning back. */
  private async keepBinning(fn: () => Promise<void>): Promise<void> {
    const b = await this.c.camera.getBinning();
    try {
      await fn();
    } finally {
      await this.c.camera.setBinning(b.x, b.y);
    }
  }

  private async center(): Promise<void> {
    const p = this.plan;
    const mount = this.h.mount!;
    const o = p.center!;
    await this.keepBinning(async () => {
      const r = await centerOn({ camera: this.c.camera, mount }, p.target!, { tolerance: o.tolerance, exposure: o.exposure, binning: o.binning, maxIterations: o.maxIterations, focalLength: p.profile.focalLength, solve: this.h.solve });
      this.c.emit({ kind: 'centered', centered: r.centered, error: r.error, iterations: r.steps.length });
    });
  }

  private async focus(f: PlannedFrame): Promise<void> {
    if (!this.plan.autofocus) return;
    const temp = await this.temperature();
    const reason = autofocusDue(this.plan.autofocus, this.st, f, temp);
    if (!reason) return;
    this.c.emit({ kind: 'autofocus', reason, frame: f });
    await this.keepBinning(async () => {
      await this.h.autofocus!();
    });
    this.st = afterAutofocus(this.st, await this.temperature());
  }

  /** Flip when the frame would cross the mount's limit (waiting for the target to pass the meridian first). */
  private async meridian(f: PlannedFrame): Promise<boolean> {
    const m = this.h.mount as MeridianMount;
    const cfg = this.plan.meridian!;
    for (;;) {
      const ha = await m.hourAngle();
      const d = flipDecision(cfg, await m.pierSide(), ha, f.exposure);
      if (d.action === 'expose') return true;
      if (d.action === 'wait') {
        this.c.emit({ kind: 'meridian-wait', frame: f, seconds: d.seconds, hourAngle: ha });
        await this.c.wait(Math.ceil(d.seconds * 1000) + 1000);
        if (this.c.aborted()) return false;
        continue;
      }
      const t0 = this.c.clock.now();
      await m.flip();
      if (cfg.recenter && this.plan.center) await this.center();
      if (this.h.afterFlip) await this.h.afterFlip({ recalibrate: cfg.guider === 'recalibrate', reverseDec: cfg.reverseDec });
      this.c.emit({ kind: 'meridian-flip', frame: f, hourAngle: ha, pierSide: await m.pierSide(), seconds: (this.c.clock.now() - t0) / 1000 });
    }
  }

  /** The safety monitor: true to go on (after waiting for safe, with action 'wait'). */
  private async safe(f: PlannedFrame): Promise<boolean> {
    const s = this.plan.safety;
    if (!s || (await this.h.safety!.isSafe())) return true;
    this.c.emit({ kind: 'unsafe', frame: f, action: s.action });
    if (s.action === 'park') {
      await this.h.mount!.park!();
      this.c.emit({ kind: 'parked' });
    }
    if (s.action !== 'wait') return false;
    const t0 = this.c.clock.now();
    while (!this.c.aborted()) {
      await this.c.wait(s.pollS * 1000);
      if (await this.h.safety!.isSafe()) {
        this.c.emit({ kind: 'safe', waitedS: (this.c.clock.now() - t0) / 1000 });
        return true;
      }
    }
    return false;
  }
}
