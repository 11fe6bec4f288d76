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
import { AcceleratedClock, type Camera } from '../../devices/types.js';
import { HttpError } from '../errors.js';
import { errorMessage, type SessionCore } from './core.js';

export interface GuideStatus {
  state: 'idle' | 'calibrating' | 'calibrated' | 'guiding' | 'failed';
  calibration: Calibration | null;
  pixelScale: number;
  /** What guides: the simulated rig, or the connected camera and mount. */
  source?: string;
  samples: GuideSample[];
  stats: GuideStats | null;
  error?: string;
}

/** Samples kept in the status; samples the RMS is computed over. */
const GUIDE_KEEP = 300;
const RMS_WINDOW = 100;

interface GuideRig {
  guider: Guider;
  /** The connected camera the frames come from (held while it is used); null: the simulated mount and guide camera. */
  camera: Camera | null;
}

export class GuideRunner {
  private rig: GuideRig | null = null;
  private current: GuideStatus = { state: 'idle', calibration: null, pixelScale: 1.5, samples: [], stats: null };
  private guiding = false;
  private loop: Promise<void> | null = null;

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
      this.rig = { camera: real.camera, guider: new Guider(new CameraGuideFrames(real.camera), real.guide, real.clock, { exposure: 2 }) };
    } else {
      const clock = new AcceleratedClock(this.speed);
      const mount = new SimMount({ clock });
      this.rig = { camera: null, guider: new Guider(new SimGuideCamera(mount), mount, clock, { exposure: 2, pixelScale: mount.pixelScale }) };
    }
    this.current = { state: 'idle', calibration: null, pixelScale: this.rig.guider.pixelScale, samples: [], stats: null };
    return this.rig;
  }

  /** Hold the connected camera for `who` (nothing to hold for the simulated rig). */
  private hold(rig: GuideRig, who: string | null): void {
    if (rig.camera) this.core.devices.hold(who);
  }

  status(): GuideStatus {
    return { ...this.current, source: this.source() };
  }

  private source(): string {
    const d = this.core.devices.current();
    if (!d || d.spec === 'sim') return 'simulated mount and guide camera';
    return d.guide ? `camera and mount of ${d.spec}` : `no mount that can pulse-guide on ${d.spec}`;
  }

  private event(sample?: GuideSample): void {
    const s = this.current;
    this.core.emit({ type: 'guide', state: s.state, sample, stats: s.stats, calibration: s.calibration, error: s.error });
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
      await g.guider.acquire();
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

  /** The guiding loop: one corrected step after another until stopped; never rejects. */
  private async guide(rig: GuideRig): Promise<void> {
    const guider = rig.guider;
    const window: GuideSample[] = [];
    try {
      while (this.guiding) {
        const s = await guider.step(true);
        if (!this.guiding) break;
        const kept = this.current.samples;
        kept.push(s);
        if (kept.length > GUIDE_KEEP) kept.splice(0, kept.length - GUIDE_KEEP);
        window.push(s);
        if (window.length > RMS_WINDOW) window.shift();
        this.current.stats = guider.stats(window);
        this.event(s);
      }
      this.current.state = 'calibrated';
    } catch (e) {
      this.current.state = 'failed';
      this.current.error = errorMessage(e);
    } finally {
      this.guiding = false;
      this.hold(rig, null);
      this.event();
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
