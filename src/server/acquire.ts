/**
 * Acquisition in the server session: a sequence (src/acquire/sequencer.ts) on the connected camera, focus
 * (a focus loop and autofocus on the simulator's focuser) and guiding (a simulated mount seen through a
 * simulated guide camera). Each runs in the background; its state is in a status object and every change
 * goes out as a WebSocket event: {type: 'sequence', status}, {type: 'focus', status}, {type: 'guide', ...}.
 * The camera is held (DeviceSession.hold) while a sequence or a focus run uses it, so manual exposures,
 * a second sequence or a focus run are refused with 409 until it ends.
 */
import { mkdirSync } from 'node:fs';
import { z } from 'zod';
import { expandPlan, estimateDuration, describePlan, PlanSchema, type DurationEstimate, type Plan, type TimingModel } from '../acquire/plan.js';
import { Sequencer, type SequenceEvent } from '../acquire/sequencer.js';
import { autofocus, fitHyperbola, focusLoop, type HyperbolaFit } from '../acquire/focus.js';
import { Guider, type Calibration, type GuideSample, type GuideStats } from '../acquire/guide.js';
import { SimGuideCamera, SimMount } from '../devices/simmount.js';
import { AcceleratedClock } from '../devices/types.js';
import { isDarkroomError } from '../util/errors.js';
import { HttpError } from './errors.js';
import type { DeviceSession } from './devices.js';
import type { Roots } from './roots.js';

export const acquireSchemas = {
  estimate: z.strictObject({ plan: PlanSchema }),
  start: z.strictObject({ plan: PlanSchema, out: z.string().min(1).describe('output folder (inside a root; created when missing)') }),
  focusLoop: z.strictObject({ exposure: z.number().min(0.001).max(60).default(5), count: z.number().int().min(1).max(100).default(5) }),
  autofocus: z.strictObject({
    exposure: z.number().min(0.001).max(60).default(10),
    step: z.number().int().min(1).max(5000).default(40).describe('focuser steps between samples'),
    points: z.number().int().min(2).max(10).default(4).describe('samples on each side of the centre'),
    metric: z.enum(['fwhm', 'hfr']).default('fwhm'),
  }),
  focusMove: z.strictObject({ position: z.number().int().min(0) }),
  guideStart: z.strictObject({ exposure: z.number().min(0.05).max(30).default(2) }),
};

const msg = (e: unknown): string => (isDarkroomError(e) ? e.message : (e as Error)?.message ?? String(e));

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
}

export interface FocusStatus {
  state: 'idle' | 'loop' | 'autofocus' | 'done' | 'failed';
  position?: number;
  loop: { i: number; hfr: number; fwhm: number; stars: number }[];
  points: { position: number; value: number; stars: number }[];
  metric?: 'fwhm' | 'hfr';
  fit?: HyperbolaFit | null;
  best?: number;
  error?: string;
}

export interface GuideStatus {
  state: 'idle' | 'calibrating' | 'calibrated' | 'guiding' | 'failed';
  calibration: Calibration | null;
  pixelScale: number;
  samples: GuideSample[];
  stats: GuideStats | null;
  error?: string;
}

const GUIDE_KEEP = 300;
const RMS_WINDOW = 100;

export class AcquireSession {
  private seq: Sequencer | null = null;
  private seqStatus: SequenceStatus = { state: 'idle', total: 0, current: 0, saved: [] };
  private seqDone: Promise<void> | null = null;
  private focus: FocusStatus = { state: 'idle', loop: [], points: [] };
  private focusDone: Promise<void> | null = null;
  private guide: { mount: SimMount; cam: SimGuideCamera; guider: Guider } | null = null;
  private guideStatus: GuideStatus = { state: 'idle', calibration: null, pixelScale: 1.5, samples: [], stats: null };
  private guiding = false;
  private guideLoop: Promise<void> | null = null;

  constructor(
    private readonly devices: DeviceSession,
    private readonly roots: Roots,
    private readonly emit: (ev: Record<string, unknown>) => void,
    /** Speed of the guiding simulation's clock (default 20: a 2 s guide exposure takes 0.1 s). */
    private readonly guideSpeed = 20,
  ) {
    devices.onDisconnect = async () => {
      this.seq?.abort();
      await this.seqDone;
      await this.focusDone;
    };
  }

  // ---- sequence ------------------------------------------------------------------------------

  /** The timing model of the connected camera (the simulator's readout and wheel), or defaults. */
  private async timing(): Promise<{ model: TimingModel; source: 'camera' | 'default' }> {
    let d;
    try {
      d = this.devices.opened();
    } catch {
      return { model: { readoutS: 1, filterSlotS: 0.4, filterNames: [] }, source: 'default' };
    }
    const names = d.wheel ? await d.wheel.names().catch(() => []) : [];
    const pos = d.wheel ? await d.wheel.position().catch(() => -1) : -1;
    // readout and wheel speed are those of the simulator (1 s full frame, 0.4 s per slot); others: the same guess
    return { model: { readoutS: 1, filterSlotS: 0.4, filterNames: names, startSlot: pos >= 0 ? pos : undefined }, source: d.spec === 'sim' ? 'camera' : 'default' };
  }

  async estimate(plan: Plan): Promise<{ frames: number; estimate: DurationEstimate; timing: 'camera' | 'default'; lines: string[] }> {
    const frames = expandPlan(plan);
    const { model, source } = await this.timing();
    const est = estimateDuration(frames, model);
    return { frames: frames.length, estimate: est, timing: source, lines: describePlan(plan, frames, est) };
  }

  sequenceStatus(): SequenceStatus {
    return this.seqStatus;
  }

  private seqEvent(): void {
    this.emit({ type: 'sequence', status: this.seqStatus });
  }

  async startSequence(plan: Plan, out: string): Promise<SequenceStatus> {
    const running = this.seq && ['cooling', 'running', 'paused'].includes(this.seqStatus.state);
    if (running) throw new HttpError(409, 'BUSY', `a sequence is already running ('${this.seqStatus.base}', frame ${this.seqStatus.current} of ${this.seqStatus.total}): abort it first`);
    const dir = this.roots.writable(out);
    const d = this.devices.opened();
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
    const seq = new Sequencer(plan, {
      camera: d.camera,
      wheel: d.wheel,
      clock: d.clock,
      outDir: dir,
      onEvent: (e) => this.onSeq(e),
    });
    this.devices.hold(`sequence '${plan.base}'`);
    mkdirSync(dir, { recursive: true });
    const { model } = await this.timing();
    this.seq = seq;
    this.seqStatus = {
      state: plan.cooling ? 'cooling' : 'running',
      base: plan.base,
      object: plan.object,
      out: dir,
      total: frames.length,
      current: 0,
      phase: plan.cooling ? 'cooling' : 'starting',
      currentFile: null,
      saved: [],
      estimate: estimateDuration(frames, model),
      startedAt: Date.now(),
    };
    this.seqEvent();
    this.seqDone = seq
      .run()
      .then((r) => {
        this.seqStatus.state = r.aborted ? 'aborted' : 'done';
        this.seqStatus.phase = r.aborted ? 'aborted' : 'done';
      })
      .catch((e) => {
        this.seqStatus.state = 'failed';
        this.seqStatus.phase = 'failed';
        this.seqStatus.error = msg(e);
      })
      .finally(() => {
        this.devices.hold(null);
        this.seqEvent();
      });
    return this.seqStatus;
  }

  private onSeq(e: SequenceEvent): void {
    const s = this.seqStatus;
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
      case 'done':
        break;
    }
    this.seqEvent();
  }

  private needSeq(what: string): Sequencer {
    if (!this.seq || !['cooling', 'running', 'paused'].includes(this.seqStatus.state)) throw new HttpError(409, 'NOT_RUNNING', `no sequence is running (cannot ${what})`);
    return this.seq;
  }

  pause(): SequenceStatus {
    const q = this.needSeq('pause');
    if (q.paused) throw new HttpError(409, 'PAUSED', 'the sequence is already paused');
    q.pause();
    this.seqStatus.phase = 'pausing after this frame';
    this.seqEvent();
    return this.seqStatus;
  }

  resume(): SequenceStatus {
    const q = this.needSeq('resume');
    if (!q.paused) throw new HttpError(409, 'NOT_PAUSED', 'the sequence is not paused');
    q.resume();
    if (this.seqStatus.state === 'paused') this.seqStatus.state = 'running';
    this.seqStatus.phase = 'resumed';
    this.seqEvent();
    return this.seqStatus;
  }

  async abort(wait = true): Promise<SequenceStatus> {
    const q = this.needSeq('abort');
    q.abort();
    this.seqStatus.phase = 'aborting';
    this.seqEvent();
    if (wait) await this.seqDone;
    return this.seqStatus;
  }

  /** Resolves when the current sequence has ended (tests). */
  async sequenceEnded(): Promise<void> {
    await this.seqDone;
  }

  // ---- focus ---------------------------------------------------------------------------------

  private needFocuser() {
    const d = this.devices.opened();
    if (!d.focuser) throw new HttpError(409, 'NO_FOCUSER', `no focuser: focus runs need the simulator (connected: ${d.spec})`);
    return { ...d, focuser: d.focuser };
  }

  focusStatus(): FocusStatus {
    return this.focus;
  }

  private focusEvent(): void {
    this.emit({ type: 'focus', status: this.focus });
  }

  private runFocus(kind: 'loop' | 'autofocus', body: () => Promise<void>): FocusStatus {
    if (this.focus.state === 'loop' || this.focus.state === 'autofocus') throw new HttpError(409, 'BUSY', `a focus ${this.focus.state === 'loop' ? 'loop' : 'run'} is already running`);
    this.devices.hold(kind === 'loop' ? 'a focus loop' : 'autofocus');
    this.focus = { state: kind, loop: [], points: [], position: this.focus.position };
    this.focusEvent();
    this.focusDone = body()
      .then(() => {
        this.focus.state = 'done';
      })
      .catch((e) => {
        this.focus.state = 'failed';
        this.focus.error = msg(e);
      })
      .finally(() => {
        this.devices.hold(null);
        this.focusEvent();
      });
    return this.focus;
  }

  async focusLoop(o: z.infer<typeof acquireSchemas.focusLoop>): Promise<FocusStatus> {
    const d = this.needFocuser();
    this.focus.position = await d.focuser.position();
    return this.runFocus('loop', async () => {
      await d.camera.setBinning(1, 1);
      await d.camera.setSubframe(null);
      await focusLoop(d.camera, {
        exposure: o.exposure,
        count: o.count,
        onFrame: (i, m) => {
          this.focus.loop.push({ i: i + 1, hfr: m.hfr, fwhm: m.fwhm, stars: m.stars });
          this.focusEvent();
        },
      });
    });
  }

  async autofocus(o: z.infer<typeof acquireSchemas.autofocus>): Promise<FocusStatus> {
    const d = this.needFocuser();
    return this.runFocus('autofocus', async () => {
      this.focus.metric = o.metric;
      await d.camera.setBinning(1, 1);
      await d.camera.setSubframe(null);
      const r = await autofocus(d.camera, d.focuser, {
        exposure: o.exposure,
        step: o.step,
        points: o.points,
        metric: o.metric,
        clock: d.clock,
        onPoint: (p) => {
          this.focus.points.push(p);
          this.focus.position = p.position;
          this.focus.fit = fitHyperbola(this.focus.points);
          this.focusEvent();
        },
      });
      this.focus.fit = r.fit;
      this.focus.best = r.best;
      this.focus.position = await d.focuser.position();
    });
  }

  async focusMove(position: number): Promise<FocusStatus> {
    const d = this.needFocuser();
    if (this.focus.state === 'loop' || this.focus.state === 'autofocus') throw new HttpError(409, 'BUSY', 'a focus run is in progress');
    const max = await d.focuser.maxStep();
    if (position > max) throw new HttpError(400, 'BAD_ARGUMENT', `focuser position ${position} out of range 0..${max}`);
    await d.focuser.move(position);
    this.focus.position = await d.focuser.position();
    this.focusEvent();
    return this.focus;
  }

  async focusEnded(): Promise<void> {
    await this.focusDone;
  }

  // ---- guiding -------------------------------------------------------------------------------

  private guideDevices() {
    if (!this.guide) {
      const clock = new AcceleratedClock(this.guideSpeed);
      const mount = new SimMount({ clock });
      const cam = new SimGuideCamera(mount);
      const guider = new Guider(cam, mount, clock, { exposure: 2, pixelScale: mount.pixelScale });
      this.guide = { mount, cam, guider };
      this.guideStatus.pixelScale = mount.pixelScale;
    }
    return this.guide;
  }

  status(): GuideStatus {
    return this.guideStatus;
  }

  private guideEvent(sample?: GuideSample): void {
    this.emit({ type: 'guide', state: this.guideStatus.state, sample, stats: this.guideStatus.stats, calibration: this.guideStatus.calibration, error: this.guideStatus.error });
  }

  async calibrate(): Promise<GuideStatus> {
    if (this.guiding) throw new HttpError(409, 'BUSY', 'guiding is running: stop it before calibrating');
    if (this.guideStatus.state === 'calibrating') throw new HttpError(409, 'BUSY', 'a calibration is already running');
    const g = this.guideDevices();
    this.guideStatus = { ...this.guideStatus, state: 'calibrating', error: undefined };
    this.guideEvent();
    try {
      await g.guider.acquire();
      this.guideStatus.calibration = await g.guider.calibrate();
      this.guideStatus.state = 'calibrated';
    } catch (e) {
      this.guideStatus.state = 'failed';
      this.guideStatus.error = msg(e);
      this.guideEvent();
      throw new HttpError(409, 'CALIBRATION', `calibration failed: ${msg(e)}`);
    }
    this.guideEvent();
    return this.guideStatus;
  }

  startGuiding(exposure: number): GuideStatus {
    if (this.guiding) throw new HttpError(409, 'BUSY', 'guiding is already running');
    if (!this.guide?.guider.cal || this.guideStatus.state === 'calibrating') throw new HttpError(409, 'NOT_CALIBRATED', 'calibrate before guiding (POST /api/guide/calibrate)');
    const g = this.guide;
    g.guider.o.exposure = exposure;
    this.guiding = true;
    this.guideStatus = { ...this.guideStatus, state: 'guiding', samples: [], stats: null, error: undefined };
    this.guideEvent();
    const window: GuideSample[] = [];
    this.guideLoop = (async () => {
      try {
        while (this.guiding) {
          const s = await g.guider.step(true);
          if (!this.guiding) break;
          const ss = this.guideStatus.samples;
          ss.push(s);
          if (ss.length > GUIDE_KEEP) ss.splice(0, ss.length - GUIDE_KEEP);
          window.push(s);
          if (window.length > RMS_WINDOW) window.shift();
          this.guideStatus.stats = g.guider.stats(window);
          this.guideEvent(s);
        }
        this.guideStatus.state = 'calibrated';
      } catch (e) {
        this.guideStatus.state = 'failed';
        this.guideStatus.error = msg(e);
      } finally {
        this.guiding = false;
        this.guideEvent();
      }
    })();
    return this.guideStatus;
  }

  async stopGuiding(): Promise<GuideStatus> {
    if (!this.guiding) throw new HttpError(409, 'NOT_GUIDING', 'guiding is not running');
    this.guiding = false;
    await this.guideLoop;
    return this.guideStatus;
  }

  async close(): Promise<void> {
    this.guiding = false;
    await this.guideLoop;
    this.seq?.abort();
    await this.seqDone;
    await this.focusDone;
  }
}
