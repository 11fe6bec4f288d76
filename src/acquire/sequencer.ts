/**
 * The sequencer: runs a plan on a camera (and filter wheel), writing each frame as a FITS file.
 * - Cooling: cooler on, set point, then wait until the CCD temperature stays within the tolerance for the
 *   plan's stable time (sampled every 10 s of the clock); a timeout is an error.
 * - Before each frame: filter move (when the group names a filter), binning.
 * - Exposure: polled on the clock so pause/abort are honoured; abort stops the running exposure and nothing
 *   of it is written (files are written atomically: temp file + rename, so no partial file ever appears).
 * - Pause takes effect between frames; resume continues with the next frame.
 * - Headers: the camera's (IMAGETYP, EXPTIME, DATE-OBS UTC, CCD-TEMP, SET-TEMP, FILTER, XBINNING/YBINNING...)
 *   plus OBJECT, OBSERVER, TELESCOP, FOCALLEN, SITELAT, SITELONG from the plan's profile, RA/DEC of the plan's
 *   target on lights, and HISTORY provenance.
 * - End: optionally ramps the set point up (plan.warmRate C per minute, default 5) to `warmTo` and switches the cooler off.
 * - Night automation (automation.ts): safety, until/loop, meridian flip, autofocus triggers before each frame; centering first.
 * - Camera error conditions (cameras that report them, see devices/camera-settings.ts), checked before
 *   each frame and whenever a step fails: a soft error (over-temperature, CCD too cold, supply voltage)
 *   pauses the sequence with a 'camera-condition' event until it clears ('condition-cleared'), then it
 *   goes on; a hard error (filter wheel, shutter, USB) stops it ('camera-condition' with action
 *   'abort', then 'aborted'), keeping every frame already saved; the frame in progress is lost.
 * - Focus offsets (plan.focusOffsets, steps per filter name; unlisted filters 0; without the plan key,
 *   the wheel's own FocusOffsets where it reports them and a focuser is connected): on each filter
 *   change the focuser moves by the difference of the two filters' offsets ('focus-offset' event).
 * - With the electronic shutter (shutter priority) nothing covers the sensor: dark frames are refused
 *   unless the plan says the telescope is capped (darksCapped), then taken with a warning.
 */
import { writeFits } from '../fits/index.js';
import type { Image } from '../image/image.js';
import { DarkroomError, isDarkroomError } from '../util/errors.js';
import { VERSION } from '../version.js';
import type { Camera, CameraCondition, Clock, FilterWheel, Focuser } from '../devices/types.js';
import { DEFAULT_PATTERN, checkPattern, freeName } from './autosave.js';
import { expandPlan, type Plan, type PlannedFrame } from './plan.js';
import { NightAutomation, type AutomationEvent, type AutomationHooks } from './automation.js';
import { ditherDue, loopFrames } from './triggers.js';

export type SequenceEvent =
  | { kind: 'cooling'; ccdTemp: number; setpoint: number; power: number }
  | { kind: 'cooled'; ccdTemp: number; waitedS: number }
  | { kind: 'filter'; frame: PlannedFrame; filter: string }
  | { kind: 'exposing'; frame: PlannedFrame }
  | { kind: 'saved'; frame: PlannedFrame; path: string }
  | { kind: 'paused' }
  | { kind: 'resumed' }
  | { kind: 'aborted'; frame?: PlannedFrame }
  | { kind: 'warming'; setpoint: number }
  | { kind: 'camera-condition'; condition: CameraCondition; action: 'pause' | 'abort'; frame?: PlannedFrame }
  | { kind: 'condition-cleared'; condition: CameraCondition; waitedS: number }
  | { kind: 'focus-offset'; frame: PlannedFrame; from?: string; to: string; steps: number; position: number }
  | { kind: 'warning'; code: string; message: string }
  | { kind: 'done' }
  | AutomationEvent;

export interface SequencerOptions {
  camera: Camera;
  wheel?: FilterWheel;
  clock: Clock;
  outDir: string;
  onEvent?: (e: SequenceEvent) => void;
  /** Called before a light frame when plan.ditherEvery says so (e.g. guider.dither()). */
  dither?: () => Promise<void>;
  /** Poll interval while waiting for an image, ms (default 100). */
  pollMs?: number;
  /** Write 16-bit unsigned integers when the pixels allow it (default true). */
  int16?: boolean;
  /** The focuser that plan.focusOffsets move. */
  focuser?: Focuser;
  /** How often a paused sequence looks whether a soft camera error has cleared, ms of the clock (default 10 s). */
  conditionPollMs?: number;
  /** Night automation (plan.autofocus, until, center, meridian, safety): the devices and hooks it uses (automation.ts). */
  automation?: AutomationHooks;
}

export interface SequenceResult {
  saved: { path: string; frame: PlannedFrame }[];
  aborted: boolean;
  /** Clock time when the first frame started (after cooling), ms. */
  framesStart: number;
  end: number;
  /** Seconds from the first frame to the end of the last frame (incl. delays). */
  framesElapsedS: number;
  coolingWaitS: number;
  /** The hard camera error that stopped the sequence, when one did. */
  cameraError?: CameraCondition;
}

export class Sequencer {
  private aborting = false;
  private pausing = false;
  private cameraError?: CameraCondition;
  /** The filter in the beam (for focus offsets). */
  private filterNow?: string;
  /** The focus offsets in use: the plan's, else the wheel's (steps per filter name). */
  private offsets?: Record<string, number>;
  constructor(
    readonly plan: Plan,
    private readonly o: SequencerOptions,
  ) {
    checkPattern(plan.pattern ?? DEFAULT_PATTERN);
  }
  abort(): void {
    this.aborting = true;
  }
  pause(): void {
    this.pausing = true;
  }
  resume(): void {
    this.pausing = false;
  }
  get paused(): boolean {
    return this.pausing;
  }

  private emit(e: SequenceEvent): void {
    this.o.onEvent?.(e);
  }

  /** Sleep ms in chunks of at most 1 s, returning early on abort. */
  private async wait(ms: number): Promise<void> {
    const { clock } = this.o;
    const end = clock.now() + ms;
    while (!this.aborting && clock.now() < end) await clock.sleep(Math.min(1000, end - clock.now()));
  }

  async cool(): Promise<number> {
    const c = this.plan.cooling;
    if (!c) return 0;
    const { camera, clock } = this.o;
    await camera.setSetpoint(c.setpoint);
    await camera.setCooler(true);
    const t0 = clock.now();
    let stableSince: number | null = null;
    const needMs = c.stableMinutes * 60_000;
    for (;;) {
      if (this.aborting) return (clock.now() - t0) / 1000;
      const st = await camera.coolerStatus();
      this.emit({ kind: 'cooling', ccdTemp: st.ccdTemp, setpoint: c.setpoint, power: st.power });
      const now = clock.now();
      if (Math.abs(st.ccdTemp - c.setpoint) <= c.tolerance) {
        stableSince ??= now;
        if (now - stableSince >= needMs) {
          const waited = (now - t0) / 1000;
          this.emit({ kind: 'cooled', ccdTemp: st.ccdTemp, waitedS: waited });
          return waited;
        }
      } else stableSince = null;
      if (now - t0 > c.timeoutMinutes * 60_000) {
        throw new DarkroomError(
          'IO',
          `camera did not hold ${c.setpoint} C within ${c.tolerance} C for ${c.stableMinutes} min in ${c.timeoutMinutes} min (now ${st.ccdTemp.toFixed(2)} C, cooler ${Math.round(st.power)} %)`,
        );
      }
      await clock.sleep(10_000);
    }
  }

  async run(): Promise<SequenceResult> {
    const { wheel, clock } = this.o;
    const plan = this.plan;
    const frames = expandPlan(plan);
    await this.checkStart(frames);
    const auto = new NightAutomation(plan, this.o.automation ?? {}, { camera: this.o.camera, clock, focuser: this.o.focuser, emit: (e) => this.emit(e), aborted: () => this.aborting, wait: (ms) => this.wait(ms) });
    auto.check();
    const coolingWaitS = await this.cool();
    await auto.start();
    const framesStart = clock.now();
    const saved: SequenceResult['saved'] = [];
    const names = wheel ? await wheel.names() : [];
    if (wheel) this.filterNow = names[await wheel.position()];
    this.offsets = await this.focusOffsetsOf(names);
    const st = { seq: plan.start, bin: -1, lights: 0 };
    let abortedFrame: PlannedFrame | undefined;
    for (const f of loopFrames(frames, plan.loop)) {
      if (this.pausing && !this.aborting) {
        this.emit({ kind: 'paused' });
        while (this.pausing && !this.aborting) await clock.sleep(1000);
        if (!this.aborting) this.emit({ kind: 'resumed' });
      }
      if (this.aborting || !(await this.conditionsAllow(f))) break;
      if (!(await auto.before(f))) break;
      let path: string | null;
      try {
        path = await this.frame(f, names, st);
      } catch (e) {
        // a failing step: a hard camera error stops the sequence (what was saved stays), anything else is thrown
        if (!(await this.hardError(f))) throw e;
        abortedFrame = f;
        break;
      }
      if (path === null) {
        abortedFrame = f;
        break;
      }
      saved.push({ path, frame: f });
      this.emit({ kind: 'saved', frame: f, path });
      auto.after(f, path);
      if (f.delay > 0) await this.wait(f.delay * 1000);
    }
    const end = clock.now();
    if (this.aborting) this.emit({ kind: 'aborted', frame: abortedFrame });
    else if (plan.warmTo !== undefined) await this.warm(plan.warmTo);
    this.emit({ kind: 'done' });
    return { saved, aborted: this.aborting, framesStart, end, framesElapsedS: (end - framesStart) / 1000, coolingWaitS, ...(this.cameraError ? { cameraError: this.cameraError } : {}) };
  }

  /** Refuse what the rig cannot do before anything moves: focus offsets without a focuser, darks with the electronic shutter. */
  private async checkStart(frames: PlannedFrame[]): Promise<void> {
    if (this.plan.focusOffsets && Object.keys(this.plan.focusOffsets).length && !this.o.focuser) {
      throw new DarkroomError('BAD_ARGUMENT', 'the plan has focusOffsets but no focuser is connected');
    }
    const cam = this.o.camera;
    if (!cam.settingsState || !frames.some((f) => f.type === 'dark' || f.type === 'flatdark')) return;
    const state = await cam.settingsState().catch((e: unknown) => {
      if (isDarkroomError(e) && e.code === 'UNSUPPORTED') return undefined; // a camera without these settings
      throw e;
    });
    if (state?.settings.shutterPriority !== 'electronic') return;
    const message = 'the camera uses its electronic shutter: nothing covers the sensor in dark frames';
    if (!this.plan.darksCapped) throw new DarkroomError('BAD_ARGUMENT', `${message}; cap the telescope and set darksCapped: true in the plan, or set the shutter priority to mechanical`);
    this.emit({ kind: 'warning', code: 'ELECTRONIC_SHUTTER_DARKS', message: `${message} (the plan says the telescope is capped)` });
  }

  /**
   * Before a frame: true to go on. A soft camera error pauses until it clears (checked every
   * conditionPollMs); a hard one stops the sequence (false).
   */
  private async conditionsAllow(f: PlannedFrame): Promise<boolean> {
    const cam = this.o.camera;
    if (!cam.conditions) return true;
    const { clock } = this.o;
    let waiting: { c: CameraCondition; since: number } | null = null;
    for (;;) {
      const cs = await cam.conditions();
      if (await this.hardError(f, cs)) return false;
      const soft = cs.find((c) => c.severity === 'soft');
      if (!soft) {
        if (waiting) this.emit({ kind: 'condition-cleared', condition: waiting.c, waitedS: (clock.now() - waiting.since) / 1000 });
        return true;
      }
      if (!waiting || waiting.c.code !== soft.code) {
        if (waiting) this.emit({ kind: 'condition-cleared', condition: waiting.c, waitedS: (clock.now() - waiting.since) / 1000 });
        waiting = { c: soft, since: clock.now() };
        this.emit({ kind: 'camera-condition', condition: soft, action: 'pause', frame: f });
      }
      await this.wait(this.o.conditionPollMs ?? 10_000);
      if (this.aborting) return false;
    }
  }

  /** Whether the camera reports a hard error (then the sequence stops, with its event). */
  private async hardError(f: PlannedFrame, known?: CameraCondition[]): Promise<boolean> {
    const cam = this.o.camera;
    const cs = known ?? (cam.conditions ? await cam.conditions().catch(() => []) : []);
    const hard = cs.find((c) => c.severity === 'hard');
    if (!hard) return false;
    this.cameraError = hard;
    this.emit({ kind: 'camera-condition', condition: hard, action: 'abort', frame: f });
    this.aborting = true;
    return true;
  }

  /** Filter (and focus offset), binning, dither, exposure and the file of one frame: its path, or null when aborted. */
  private async frame(f: PlannedFrame, names: string[], st: { seq: number; bin: number; lights: number }): Promise<string | null> {
    const { camera, clock, outDir } = this.o;
    const plan = this.plan;
    await this.moveFilter(f, names);
    if (f.binning !== st.bin) {
      await camera.setBinning(f.binning, f.binning);
      st.bin = f.binning;
    }
    if (f.type === 'light' && this.o.dither && ditherDue(plan.ditherEvery, st.lights)) await this.o.dither();
    if (this.aborting) return null;
    this.emit({ kind: 'exposing', frame: f });
    const img = await this.expose(f);
    if (!img) return null;
    if (f.type === 'light') st.lights++;
    const r = freeName(outDir, plan.pattern ?? DEFAULT_PATTERN, {
      base: plan.base,
      object: plan.object,
      filter: f.filter,
      suffix: f.suffix,
      exposure: f.exposure,
      temp: plan.cooling?.setpoint ?? img.header.getNumber('CCD-TEMP'),
      seq: st.seq,
      type: f.type,
      binning: f.binning,
      date: new Date(img.header.getString('DATE-OBS') ? `${img.header.getString('DATE-OBS')}Z` : clock.now()),
    });
    st.seq = r.seq + 1;
    this.annotate(img, f);
    writeFits(r.path, img, {
      bitpix: this.o.int16 !== false && isUint16(img) ? 16 : -32,
      history: [`darkroom ${VERSION} sequence '${plan.base}': group ${f.group + 1} frame ${f.n}, ${f.type} ${f.exposure} s bin ${f.binning}${f.filter ? ` filter ${f.filter}` : ''}`],
    });
    return r.path;
  }

  /** Move the wheel to the frame's filter, then the focuser by the difference of the two filters' focus offsets. */
  private async moveFilter(f: PlannedFrame, names: string[]): Promise<void> {
    const { wheel, focuser } = this.o;
    if (!f.filter || !wheel) return;
    const slot = names.findIndex((n) => n.toLowerCase() === f.filter!.toLowerCase());
    if (slot < 0) throw new DarkroomError('BAD_ARGUMENT', `the filter wheel has no filter '${f.filter}' (have: ${names.join(', ')})`);
    if ((await wheel.position()) === slot) return;
    this.emit({ kind: 'filter', frame: f, filter: f.filter });
    await wheel.move(slot);
    const from = this.filterNow;
    this.filterNow = names[slot];
    const offsets = this.offsets;
    if (!offsets || !focuser) return;
    const steps = focusOffset(offsets, names[slot]!) - (from === undefined ? 0 : focusOffset(offsets, from));
    if (steps === 0) return;
    if (focuser.moveBy) await focuser.moveBy(steps);
    else await focuser.move((await focuser.position()) + steps);
    this.emit({ kind: 'focus-offset', frame: f, from, to: names[slot]!, steps, position: await focuser.position() });
  }

  /** The plan's focus offsets (the key wins, even empty), else the wheel's FocusOffsets when a focuser can apply them. */
  private async focusOffsetsOf(names: string[]): Promise<Record<string, number> | undefined> {
    const { wheel, focuser } = this.o;
    if (this.plan.focusOffsets) return this.plan.focusOffsets;
    if (!wheel?.focusOffsets || !focuser) return undefined;
    try {
      const steps = await wheel.focusOffsets();
      return Object.fromEntries(names.map((n, i) => [n, Number.isInteger(steps[i]) ? steps[i]! : 0]));
    } catch (e) {
      this.emit({ kind: 'warning', code: 'FOCUS_OFFSETS_UNREAD', message: `the filter wheel's focus offsets could not be read (${(e as Error).message}); no offsets applied` });
      return undefined;
    }
  }

  /** One exposure; null when aborted (the exposure is stopped and its image dropped). */
  private async expose(f: PlannedFrame): Promise<Image | null> {
    const { camera, clock } = this.o;
    const poll = this.o.pollMs ?? 100;
    await camera.startExposure({ duration: f.exposure, type: f.type });
    const expectedEnd = clock.now() + f.exposure * 1000;
    for (;;) {
      if (this.aborting) {
        await camera.abortExposure();
        return null;
      }
      if (await camera.imageReady()) break;
      const left = expectedEnd - clock.now();
      await clock.sleep(left > 0 ? Math.min(left, 1000) : poll);
    }
    const img = await camera.download();
    if (this.aborting) return null;
    return img;
  }

  private annotate(img: Image, f: PlannedFrame): void {
    const h = img.header;
    const p = this.plan.profile;
    if (this.plan.object && (f.type === 'light' || f.type === 'flat')) h.set('OBJECT', this.plan.object, 'target');
    // where the telescope points (the plan's target, J2000): a plate solver's hint, as N.I.N.A. writes RA/DEC
    const t = this.plan.target;
    if (t && f.type === 'light') {
      h.set('RA', t.ra, '[deg] target right ascension (J2000)', { float: true });
      h.set('DEC', t.dec, '[deg] target declination (J2000)', { float: true });
    }
    if (p.observer) h.set('OBSERVER', p.observer, 'observer');
    if (p.telescope) h.set('TELESCOP', p.telescope, 'telescope');
    if (p.focalLength !== undefined) h.set('FOCALLEN', p.focalLength, '[mm] focal length', { float: true });
    if (p.siteLat !== undefined) h.set('SITELAT', p.siteLat, '[deg] site latitude, north positive', { float: true });
    if (p.siteLong !== undefined) h.set('SITELONG', p.siteLong, '[deg] site longitude, east positive', { float: true });
    if (this.plan.cooling && h.get('SET-TEMP') === undefined) h.set('SET-TEMP', this.plan.cooling.setpoint, '[C] cooler set point', { float: true });
    h.set('SEQGROUP', f.group + 1, 'sequence group');
    h.set('SEQFRAME', f.n, 'frame number within the group');
  }

  private async warm(to: number): Promise<void> {
    const { camera, clock } = this.o;
    let st = await camera.coolerStatus();
    let sp = st.setpoint;
    while (sp < to) {
      sp = Math.min(to, sp + this.plan.warmRate);
      this.emit({ kind: 'warming', setpoint: sp });
      await camera.setSetpoint(sp);
      await clock.sleep(60_000);
    }
    st = await camera.coolerStatus();
    await camera.setCooler(false);
  }
}

/** A filter's focus offset in steps (names in any casing; 0 for a filter not listed). */
export function focusOffset(offsets: Record<string, number>, filter: string): number {
  const k = Object.keys(offsets).find((n) => n.toLowerCase() === filter.toLowerCase());
  return k === undefined ? 0 : offsets[k]!;
}

function isUint16(img: Image): boolean {
  for (const d of img.data) for (let i = 0; i < d.length; i++) {
    const v = d[i]!;
    if (!(v >= 0 && v <= 65535 && v === Math.round(v))) return false;
  }
  return true;
}
