/**
 * The guide runner of the server session: calibration, then a guiding loop in the background whose samples
 * and RMS go out as {type: 'guide', state, sample, stats, calibration, error} events. With an INDI or Alpaca
 * camera connected, the frames come from that camera (held while calibrating and guiding) and the pulses go
 * to the connected mount; otherwise (no device, or the simulator) a simulated mount seen through a simulated
 * guide camera runs on its own accelerated clock.
 */
import { fullFrame } from '../../acquire/focus.js';
import { CameraGuideFrames, Guider, type Calibration, type GuideSample, type GuideStats } from '../../acquire/guide.js';
import { SimGuideCamera, SimMount } from '../../devices/sim/simmount.js';
import { PacedClock, type Camera } from '../../devices/types.js';
import { HttpError } from '../errors.js';
import { errorMessage, type SessionCore } from './core.js';
import { DarkroomError } from '../../util/errors.js';
import { Rng } from '../../util/random.js';
import { stretchToPng } from '../../render/stretch.js';
import type { SimStar } from '../../devices/sim/stars.js';

export interface GuideStatus {
  state: 'idle' | 'calibrating' | 'calibrated' | 'guiding' | 'failed';
  calibration: Calibration | null;
  pixelScale: number;
  /** What guides: the simulated rig, or the connected camera and mount. */
  source?: string;
  samples: GuideSample[];
  stats: GuideStats | null;
  error?: string;
  /** Star lost / re-acquired / re-centred events, newest last (the last 50). */
  notices: GuideNotice[];
  /** The lock position on the guide frame (px), and the guide frame's size; null before a star is selected. */
  star?: { x: number; y: number; width: number; height: number } | null;
}

export interface GuideNotice {
  /** Wall-clock time, ms since the epoch. */
  at: number;
  kind: 'lost' | 'reacquired' | 'recentred' | 'searching' | 'calibration-dropped' | 'dither' | 'settled' | 'not-settled';
  message: string;
}

/** Samples kept in the status; samples the RMS is computed over. */
const GUIDE_KEEP = 300;
const RMS_WINDOW = 100;

interface GuideRig {
  guider: Guider;
  /** The connected camera the frames come from (held while it is used); null: the simulated mount and guide camera. */
  camera: Camera | null;
  /** The simulated rig's clock (null for a connected camera and mount). */
  clock: PacedClock | null;
}

export class GuideRunner {
  private rig: GuideRig | null = null;
  private current: GuideStatus = { state: 'idle', calibration: null, pixelScale: 1.5, samples: [], stats: null, notices: [] };
  private guiding = false;
  private loop: Promise<void> | null = null;
  /** Dithers asked for while guiding (the sequence's dither hook), each resolved once settled. */
  private dithers: Array<() => void> = [];

  constructor(
    private readonly core: SessionCore,
    /** Speed of the guiding simulation's clock (default 20: a 2 s guide exposure takes 0.1 s). */
    private readonly speed = 20,
  ) {}

  /** The rig for the connected devices (a new one, uncalibrated, when they changed). */
  private devices(): GuideRig {
    const d = this.core.devices.current();
    const real = d && d.spec !== 'sim' ? d : null;
    if (real && !real.guide) throw new HttpError(409, 'NO_MOUNT', `no mount that can pulse-guide on the connected device ${real.spec} (connect one with mount: URL)`);
    if (this.rig && this.rig.camera === (real?.camera ?? null)) return this.rig;
    if (real?.guide) {
      this.rig = { camera: real.camera, clock: null, guider: new Guider(new CameraGuideFrames(real.camera), real.guide, real.clock, { exposure: 2 }) };
    } else {
      // paced by the guider's own sleeps (exposures, pulses): the simulated sky does not run away while the server is starved
      const clock = new PacedClock(this.speed);
      const mount = new SimMount({ clock });
      this.rig = { camera: null, clock, guider: new Guider(new SimGuideCamera(mount, { stars: simSky() }), mount, clock, { exposure: 2, pixelScale: mount.pixelScale }) };
    }
    this.current = { state: 'idle', calibration: null, pixelScale: this.rig.guider.pixelScale, samples: [], stats: null, notices: [] };
    return this.rig;
  }

  /** Hold the connected camera for `who` (nothing to hold for the simulated rig). */
  private hold(rig: GuideRig, who: string | null): void {
    if (rig.camera) this.core.devices.hold(who);
  }

  status(): GuideStatus {
    return { ...this.current, source: this.source(), star: this.star() };
  }

  private star(): GuideStatus['star'] {
    const g = this.rig?.guider;
    const f = g?.lastFrame;
    return g?.lock && f ? { ...g.lock, width: f.width, height: f.height } : null;
  }

  /** The last guide frame as an auto-stretched PNG (404 before the first). */
  framePng(): Buffer {
    const f = this.rig?.guider.lastFrame;
    if (!f) throw new HttpError(404, 'NO_IMAGE', 'no guide frame yet: calibrate or guide first');
    return stretchToPng(f);
  }

  private source(): string {
    const d = this.core.devices.current();
    if (!d || d.spec === 'sim') return 'simulated mount and guide camera';
    return d.guide ? `camera and mount of ${d.spec}` : `no mount that can pulse-guide on ${d.spec}`;
  }

  /** The simulated rig's clock, when the simulated mount guides (tests and demos let it sit idle with advance()). */
  simulatedClock(): PacedClock | null {
    return this.devices().clock;
  }

  private event(sample?: GuideSample, notice?: GuideNotice): void {
    const s = this.current;
    this.core.emit({ type: 'guide', state: s.state, sample, stats: s.stats, calibration: s.calibration, error: s.error, notice, star: this.star() });
  }

  private notice(kind: GuideNotice['kind'], message: string): void {
    const n: GuideNotice = { at: Date.now(), kind, message };
    this.current.notices = [...this.current.notices, n].slice(-50);
    this.event(undefined, n);
  }

  /** Search the whole frame for a star after a loss (or a stale lock); the notices say what happened. */
  private async reacquire(g: GuideRig): Promise<boolean> {
    const r = await g.guider.reacquire();
    if (!r.calibrationKept && this.current.calibration) {
      this.current.calibration = null;
      this.notice('calibration-dropped', r.message);
      return false;
    }
    this.notice(r.recentred ? 'recentred' : 'reacquired', r.message);
    return true;
  }

  async calibrate(): Promise<GuideStatus> {
    if (this.guiding) throw new HttpError(409, 'BUSY', 'guiding is running: stop it before calibrating');
    if (this.current.state === 'calibrating') throw new HttpError(409, 'BUSY', 'a calibration is already running');
    const g = this.devices();
    this.hold(g, 'guide calibration');
    this.current = { ...this.current, state: 'calibrating', error: undefined };
    this.event();
    try {
      if (g.camera) await fullFrame(g.camera);
      // the whole frame is searched: after the mount sat idle the star is elsewhere (re-centred when calibrated)
      if (g.guider.lock) await this.reacquire(g);
      else await g.guider.acquire().catch(() => this.reacquire(g));
      this.current.calibration = await g.guider.calibrate();
      this.current.pixelScale = g.guider.pixelScale;
      this.current.state = 'calibrated';
    } catch (e) {
      this.current.state = 'failed';
      this.current.error = errorMessage(e);
      this.event();
      throw new HttpError(409, 'CALIBRATION', `calibration failed: ${errorMessage(e)}`);
    } finally {
      this.hold(g, null);
    }
    this.event();
    return this.status();
  }

  start(exposure: number): GuideStatus {
    if (this.guiding) throw new HttpError(409, 'BUSY', 'guiding is already running');
    if (this.current.state === 'calibrating') throw new HttpError(409, 'NOT_CALIBRATED', 'calibrate before guiding (POST /api/guide/calibrate)');
    const g = this.devices();
    if (!g.guider.cal) throw new HttpError(409, 'NOT_CALIBRATED', 'calibrate before guiding (POST /api/guide/calibrate)');
    this.hold(g, 'guiding');
    g.guider.o.exposure = exposure;
    this.guiding = true;
    this.current = { ...this.current, state: 'guiding', samples: [], stats: null, error: undefined };
    this.event();
    this.loop = this.guide(g);
    return this.status();
  }

  /**
   * The sequence's dither: while guiding, the loop shifts the lock position and guides until the star
   * settles on it (notices 'dither', then 'settled' or 'not-settled'); resolves then. Not guiding: nothing to do.
   */
  dither(): Promise<void> {
    if (!this.guiding) return Promise.resolve();
    return new Promise((resolve) => this.dithers.push(resolve));
  }

  /** One dither in the guiding loop: its samples (settling) join the graph's as they were taken. */
  private async runDither(guider: Guider, keep: (s: GuideSample) => void): Promise<void> {
    const waiting = this.dithers.splice(0);
    const from = guider.samples.length;
    this.notice('dither', 'dither: lock position moved, settling');
    try {
      const r = await guider.dither();
      for (const s of guider.samples.slice(from)) keep(s);
      const off = `(${r.offset.x.toFixed(1)}, ${r.offset.y.toFixed(1)}) px`;
      this.notice(r.settled ? 'settled' : 'not-settled', r.settled ? `dithered by ${off}: settled in ${r.seconds.toFixed(1)} s` : `dithered by ${off}: not settled after ${r.seconds.toFixed(0)} s, going on`);
    } catch (e) {
      // a dither that cannot run (no lock) is no reason to stop guiding: the frame is taken undithered
      this.notice('not-settled', `dither failed: ${errorMessage(e)}`);
    } finally {
      for (const w of waiting) w();
    }
  }

  /** The guiding loop: one corrected step after another until stopped; never rejects. */
  private async guide(rig: GuideRig): Promise<void> {
    const guider = rig.guider;
    const window: GuideSample[] = [];
    let lost = false;
    const keep = (s: GuideSample): void => {
      const kept = this.current.samples;
      kept.push(s);
      if (kept.length > GUIDE_KEEP) kept.splice(0, kept.length - GUIDE_KEEP);
      window.push(s);
      if (window.length > RMS_WINDOW) window.shift();
      this.current.stats = guider.stats(window);
      this.event(s);
    };
    try {
      while (this.guiding) {
        if (this.dithers.length && !lost) {
          await this.runDither(guider, keep);
          continue;
        }
        const s = await guider.step(true);
        if (!this.guiding) break;
        keep(s);
        if (!s.lost) continue;
        if (!lost) this.notice('lost', 'guide star lost: searching the whole frame');
        lost = await this.recover(rig, lost);
        if (!guider.cal) break;
      }
      this.current.state = guider.cal ? 'calibrated' : 'idle';
      if (!guider.cal) this.current.error = 'the calibration no longer matches the mount: calibrate again';
    } catch (e) {
      this.current.state = 'failed';
      this.current.error = errorMessage(e);
    } finally {
      this.guiding = false;
      for (const w of this.dithers.splice(0)) w();
      this.hold(rig, null);
      this.event();
    }
  }

  /** After a lost frame: re-acquire; true while still lost (no star in the frame; the next frames search again). */
  private async recover(rig: GuideRig, wasLost: boolean): Promise<boolean> {
    try {
      await this.reacquire(rig);
      return false;
    } catch (e) {
      if (!(e instanceof DarkroomError) || e.code !== 'TOO_FEW') throw e;
      if (!wasLost) this.notice('searching', e.message);
      return true;
    }
  }

  async stop(): Promise<GuideStatus> {
    if (!this.guiding) throw new HttpError(409, 'NOT_GUIDING', 'guiding is not running');
    this.guiding = false;
    await this.loop;
    return this.status();
  }

  /** Stop guiding, if it runs, and wait for the loop to end. */
  async close(): Promise<void> {
    this.guiding = false;
    await this.loop;
  }
}

/**
 * The simulated guide camera's sky: its five default stars in the 96x96 frame (one saturated, one not
 * isolated) and a seeded field of 120 more around it over 596x596 px, so that a mount that drifted while
 * idle shows other stars to guide on.
 */
export function simSky(): SimStar[] {
  const c = 48;
  const stars: SimStar[] = [
    { x: c + 3.3, y: c - 2.6, flux: 60_000 },
    { x: c - 25.2, y: c + 20.7, flux: 15_000 },
    { x: c + 24.6, y: c + 27.1, flux: 8_000 },
    { x: c - 28.4, y: c - 30.2, flux: 1_000_000 },
    { x: c - 20.4, y: c - 27.2, flux: 50_000 },
  ];
  const rng = new Rng(11);
  while (stars.length < 125) {
    const x = -250 + 596 * rng.uniform();
    const y = -250 + 596 * rng.uniform();
    if (x > -12 && x < 108 && y > -12 && y < 108) continue;
    stars.push({ x, y, flux: 4000 + 56_000 * rng.uniform() ** 2 });
  }
  return stars;
}
