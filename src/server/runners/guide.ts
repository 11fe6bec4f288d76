/**
 * The guide runner of the server session: a simulated mount seen through a simulated guide camera, on its
 * own accelerated clock; calibration, then a guiding loop in the background whose samples and RMS go out as
 * {type: 'guide', state, sample, stats, calibration, error} events.
 */
import { Guider, type Calibration, type GuideSample, type GuideStats } from '../../acquire/guide.js';
import { SimGuideCamera, SimMount } from '../../devices/sim/simmount.js';
import { AcceleratedClock } from '../../devices/types.js';
import { HttpError } from '../errors.js';
import { errorMessage, type SessionCore } from './core.js';

export interface GuideStatus {
  state: 'idle' | 'calibrating' | 'calibrated' | 'guiding' | 'failed';
  calibration: Calibration | null;
  pixelScale: number;
  samples: GuideSample[];
  stats: GuideStats | null;
  error?: string;
}

/** Samples kept in the status; samples the RMS is computed over. */
const GUIDE_KEEP = 300;
const RMS_WINDOW = 100;

interface GuideRig {
  mount: SimMount;
  cam: SimGuideCamera;
  guider: Guider;
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

  private devices(): GuideRig {
    if (!this.rig) {
      const clock = new AcceleratedClock(this.speed);
      const mount = new SimMount({ clock });
      const cam = new SimGuideCamera(mount);
      const guider = new Guider(cam, mount, clock, { exposure: 2, pixelScale: mount.pixelScale });
      this.rig = { mount, cam, guider };
      this.current.pixelScale = mount.pixelScale;
    }
    return this.rig;
  }

  status(): GuideStatus {
    return this.current;
  }

  private event(sample?: GuideSample): void {
    const s = this.current;
    this.core.emit({ type: 'guide', state: s.state, sample, stats: s.stats, calibration: s.calibration, error: s.error });
  }

  async calibrate(): Promise<GuideStatus> {
    if (this.guiding) throw new HttpError(409, 'BUSY', 'guiding is running: stop it before calibrating');
    if (this.current.state === 'calibrating') throw new HttpError(409, 'BUSY', 'a calibration is already running');
    const g = this.devices();
    this.current = { ...this.current, state: 'calibrating', error: undefined };
    this.event();
    try {
      await g.guider.acquire();
      this.current.calibration = await g.guider.calibrate();
      this.current.state = 'calibrated';
    } catch (e) {
      this.current.state = 'failed';
      this.current.error = errorMessage(e);
      this.event();
      throw new HttpError(409, 'CALIBRATION', `calibration failed: ${errorMessage(e)}`);
    }
    this.event();
    return this.current;
  }

  start(exposure: number): GuideStatus {
    if (this.guiding) throw new HttpError(409, 'BUSY', 'guiding is already running');
    if (!this.rig?.guider.cal || this.current.state === 'calibrating') throw new HttpError(409, 'NOT_CALIBRATED', 'calibrate before guiding (POST /api/guide/calibrate)');
    this.rig.guider.o.exposure = exposure;
    this.guiding = true;
    this.current = { ...this.current, state: 'guiding', samples: [], stats: null, error: undefined };
    this.event();
    this.loop = this.guide(this.rig.guider);
    return this.current;
  }

  /** The guiding loop: one corrected step after another until stopped; never rejects. */
  private async guide(guider: Guider): Promise<void> {
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
      this.event();
    }
  }

  async stop(): Promise<GuideStatus> {
    if (!this.guiding) throw new HttpError(409, 'NOT_GUIDING', 'guiding is not running');
    this.guiding = false;
    await this.loop;
    return this.current;
  }

  /** Stop guiding, if it runs, and wait for the loop to end. */
  async close(): Promise<void> {
    this.guiding = false;
    await this.loop;
  }
}
