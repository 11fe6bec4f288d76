/**
 * The device session of the server: one camera (with its filter wheel when it has one) opened from a
 * spec (`sim`, `indi://HOST:PORT[/DEVICE]`, `alpaca://HOST:PORT/N`), with the focuser and the mount
 * its server offers or ones from other servers (parts), exposures run in the background, a cooler
 * history sampled once a second, and the last downloaded image. The focus and guide runners use the
 * focuser and mount connected here.
 */
import { DarkroomError, isDarkroomError } from '../util/errors.js';
import { MIN_SETPOINT, MAX_SETPOINT } from '../devices/sim/simcamera.js';
import { openDevice as openDeviceSpec, type PartSpecs } from '../acquire/open.js';
import { SimCamera } from '../devices/sim/simcamera.js';
import { SimFocuser } from '../devices/sim/simfocuser.js';
import { simSettingsPath } from '../devices/sim/qsi.js';
import { AcceleratedClock, type Focuser, type GuideOutput, type GotoTelescope } from '../devices/types.js';
import { type Camera, type CameraState, type Clock, type CoolerStatus, type DownloadProgress, type FilterWheel, type FrameKind, type SensorInfo } from '../devices/types.js';
import type { Image } from '../image/image.js';
import { HttpError } from './errors.js';

export const DEVICE_KINDS = [
  { kind: 'sim', spec: 'sim', description: 'built-in simulator: QSI 583ws (KAF-8300) with a 5-position filter wheel' },
  { kind: 'indi', spec: 'indi://HOST:PORT[/DEVICE]', description: "a camera on an INDI server (default port 7624), with the server's filter wheel, focuser and mount" },
  { kind: 'alpaca', spec: 'alpaca://HOST:PORT/N', description: "an ASCOM Alpaca camera (device number N), with the server's filterwheel/0, focuser/0 and telescope/0" },
];

export interface ExposeParams {
  type: FrameKind;
  exposure: number;
  binning: number;
  filter?: string;
  delay: number;
}

export interface ExposureJob {
  id: number;
  params: ExposeParams;
  phase: 'delay' | 'filter' | 'exposing' | 'downloading' | 'done' | 'aborted' | 'failed';
  startedAt: number;
  /**
   * While exposing: when the exposure began (this machine's Date.now()) and the camera clock's rate
   * (simulated ms per real ms: the simulator's speed, 1 for a real camera), for a countdown.
   */
  exposing?: { since: number; rate: number };
  /** While downloading: how much of the image has arrived (total null when the camera does not say). */
  download?: Transfer;
  error?: string;
}

/** An image transfer in progress: bytes so far of total, fraction 0..1 (1 when it has all arrived). */
export interface Transfer {
  bytes: number;
  total: number | null;
  fraction: number;
}

const transfer = (p: DownloadProgress): Transfer => ({ bytes: p.bytes, total: p.total ?? null, fraction: p.fraction });

export interface CoolerSample {
  t: number;
  ccdTemp: number;
  power: number;
  setpoint: number;
  on: boolean;
}

export interface CameraStatus {
  connected: boolean;
  spec?: string;
  name?: string;
  sensor?: SensorInfo;
  state?: CameraState;
  cooler?: CoolerStatus;
  binning?: { x: number; y: number };
  filters?: string[];
  filter?: string | null;
  exposure?: ExposureJob | null;
  /** The download of a runner's frame (sequence, focus loop, autofocus) in progress, with its source; null when none. */
  transfer?: (Transfer & { source: string }) | null;
  /** The last image of any source: a manual exposure (no source), a sequence, a focus loop, autofocus. */
  lastImage?: { id: number; width: number; height: number; channels: number; source?: string } | null;
  error?: string | null;
}

export interface DeviceOptions {
  /** Speed of the simulator's clock relative to real time (default 60). */
  simSpeed?: number;
  onEvent?: (ev: Record<string, unknown>) => void;
}

export interface Opened {
  spec: string;
  camera: Camera;
  wheel?: FilterWheel;
  /** The focuser (the simulator's sets the star size of the sim camera). */
  focuser?: Focuser;
  /** The mount's pulse-guide output, when there is one (not for the simulator: its guiding has its own simulated mount). */
  guide?: GuideOutput;
  /** The goto mount (slew, sync, pier side, flip, park), when the rig has one: centring and the meridian flip. */
  mount?: GotoTelescope;
  clock: Clock;
  sensor: SensorInfo;
  close: () => void;
}

const msg = (e: unknown): string => (isDarkroomError(e) ? e.message : (e as Error)?.message ?? String(e));

export class DeviceSession {
  private dev: Opened | null = null;
  private job: ExposureJob | null = null;
  private jobSeq = 0;
  private image: { id: number; image: Image; source?: string } | null = null;
  private transfer: (Transfer & { source: string }) | null = null;
  private lastError: string | null = null;
  private history: CoolerSample[] = [];
  private timer: NodeJS.Timeout | null = null;
  private polling = false;
  /** What holds the camera besides manual exposures (a sequence, a focus run), or null. */
  private holder: string | null = null;
  /** What the connected devices were opened from (spec and parts). */
  private key = '';
  constructor(private readonly opts: DeviceOptions = {}) {}

  /** The opened devices (409 when none). */
  opened(): Opened {
    return this.need();
  }

  /** The opened devices, or null when none. */
  current(): Opened | null {
    return this.dev;
  }

  /** Whether a manual exposure is running. */
  exposing(): boolean {
    return !!this.job && !['done', 'aborted', 'failed'].includes(this.job.phase);
  }

  /** Reserve the camera for a long job (409 when a manual exposure or another job holds it); release with null. */
  hold(who: string | null): void {
    if (who !== null) {
      if (this.holder) throw new HttpError(409, 'BUSY', `the camera is busy: ${this.holder} is running`);
      if (this.exposing()) throw new HttpError(409, 'BUSY', 'the camera is busy: an exposure is in progress');
    }
    this.holder = who;
  }

  get heldBy(): string | null {
    return this.holder;
  }

  /** Called before the camera is disconnected (the owner of a long job stops it). */
  onDisconnect: (() => Promise<void>) | null = null;

  private emit(ev: Record<string, unknown>): void {
    this.opts.onEvent?.(ev);
  }

  /** Connect the camera of `spec`, with parts (wheel, focuser, mount) from other servers when given. */
  async connect(spec: string, parts: PartSpecs = {}): Promise<CameraStatus> {
    const key = JSON.stringify([spec, parts.wheel, parts.focuser, parts.mount]);
    if (this.dev) {
      if (this.key === key) return this.status();
      await this.disconnect();
    }
    this.dev = await openDevice(spec, this.opts.simSpeed ?? 60, parts);
    this.key = key;
    this.lastError = null;
    this.history = [];
    this.job = null;
    this.timer = setInterval(() => void this.poll(), 1000);
    this.timer.unref();
    await this.poll();
    this.emit({ type: 'connected', spec });
    return this.status();
  }

  async disconnect(): Promise<void> {
    if (this.dev && this.onDisconnect) await this.onDisconnect().catch(() => undefined);
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    const d = this.dev;
    this.dev = null;
    this.job = null;
    if (d) {
      await d.camera.disconnect().catch(() => undefined);
      d.close();
      this.emit({ type: 'disconnected', spec: d.spec });
    }
  }

  private need(): Opened {
    if (!this.dev) throw new HttpError(409, 'NOT_CONNECTED', 'no camera connected (POST /api/devices/connect first)');
    return this.dev;
  }

  private async poll(): Promise<void> {
    if (!this.dev || this.polling) return;
    this.polling = true;
    try {
      const st = await this.dev.camera.coolerStatus();
      const s: CoolerSample = { t: Date.now(), ccdTemp: st.ccdTemp, power: st.power, setpoint: st.setpoint, on: st.on };
      this.history.push(s);
      if (this.history.length > 900) this.history.splice(0, this.history.length - 900);
      this.emit({ type: 'cooler', sample: s, status: st });
    } catch (e) {
      this.lastError = msg(e);
      this.emit({ type: 'error', message: this.lastError });
    } finally {
      this.polling = false;
    }
  }

  coolerHistory(): CoolerSample[] {
    return [...this.history];
  }

  async status(): Promise<CameraStatus> {
    const d = this.dev;
    if (!d) return { connected: false };
    const out: CameraStatus = { connected: true, spec: d.spec, name: d.sensor.name, sensor: d.sensor, exposure: this.job, transfer: this.transfer, error: this.lastError };
    try {
      out.state = await d.camera.state();
      out.cooler = await d.camera.coolerStatus();
      out.binning = await d.camera.getBinning();
      if (d.wheel) {
        out.filters = await d.wheel.names();
        const p = await d.wheel.position();
        out.filter = p >= 0 ? out.filters[p] ?? null : null;
      } else out.filters = [];
    } catch (e) {
      out.error = this.lastError = msg(e);
    }
    const im = this.image;
    out.lastImage = im ? { id: im.id, width: im.image.width, height: im.image.height, channels: im.image.channels, source: im.source } : null;
    return out;
  }

  async cooler(on: boolean, setpoint?: number): Promise<CameraStatus> {
    const d = this.need();
    if (setpoint !== undefined) {
      if (d.spec === 'sim' && (setpoint < MIN_SETPOINT || setpoint > MAX_SETPOINT)) {
        throw new HttpError(400, 'BAD_ARGUMENT', `set point ${setpoint} C out of range ${MIN_SETPOINT}..${MAX_SETPOINT} C`);
      }
      await d.camera.setSetpoint(setpoint);
    }
    await d.camera.setCooler(on);
    this.lastError = null;
    await this.poll();
    return this.status();
  }

  /** Start an exposure in the background; resolves when it has been started (or finished, with wait). */
  async expose(p: ExposeParams, wait = false): Promise<ExposureJob> {
    const d = this.need();
    if (this.job && !['done', 'aborted', 'failed'].includes(this.job.phase)) throw new HttpError(409, 'BUSY', 'an exposure is already in progress');
    if (this.holder) throw new HttpError(409, 'BUSY', `the camera is busy: ${this.holder} is running`);
    if (p.filter !== undefined) {
      if (!d.wheel) throw new HttpError(400, 'BAD_ARGUMENT', `filter '${p.filter}': the camera has no filter wheel`);
      const names = await d.wheel.names();
      if (!names.some((n) => n.toLowerCase() === p.filter!.toLowerCase())) {
        throw new HttpError(400, 'BAD_ARGUMENT', `no filter named '${p.filter}' (have: ${names.join(', ')})`);
      }
    }
    if (p.binning > Math.min(d.sensor.maxBinX, d.sensor.maxBinY)) throw new HttpError(400, 'BAD_ARGUMENT', `binning ${p.binning} exceeds the camera's maximum ${Math.min(d.sensor.maxBinX, d.sensor.maxBinY)}`);
    const job: ExposureJob = { id: ++this.jobSeq, params: p, phase: 'delay', startedAt: Date.now() };
    this.job = job;
    const run = this.runJob(d, job);
    if (wait) await run;
    else void run;
    return job;
  }

  private async runJob(d: Opened, job: ExposureJob): Promise<void> {
    const set = (phase: ExposureJob['phase']): void => {
      job.phase = phase;
      this.emit({ type: 'exposure', job });
    };
    try {
      set('delay');
      if (job.params.delay > 0) await d.clock.sleep(job.params.delay * 1000);
      if (this.job !== job || job.phase === 'aborted') return;
      if (job.params.filter !== undefined && d.wheel) {
        set('filter');
        await d.wheel.move(job.params.filter);
      }
      await d.camera.setBinning(job.params.binning, job.params.binning);
      await d.camera.setSubframe(null);
      job.exposing = { since: Date.now(), rate: d.clock instanceof AcceleratedClock ? d.clock.factor : 1 };
      set('exposing');
      await d.camera.startExposure({ type: job.params.type, duration: job.params.exposure });
      // wait for the image (the simulator's download waits for the end of exposure and readout)
      while (!(await d.camera.imageReady())) {
        if ((job.phase as string) === 'aborted') return;
        const st = await d.camera.state();
        if (st === 'error') throw new DarkroomError('IO', 'the camera reported an error during the exposure');
        if (st === 'downloading' || st === 'reading') job.phase = 'downloading';
        await new Promise((r) => setTimeout(r, 50));
      }
      set('downloading');
      // each (throttled) progress report: on the job for the status, and a 'download' event
      const img = await d.camera.download(120_000, (p) => {
        job.download = transfer(p);
        this.emit({ type: 'download', id: job.id, ...job.download });
      });
      this.image = { id: job.id, image: img };
      set('done');
      this.emit({ type: 'image', id: job.id, width: img.width, height: img.height, channels: img.channels });
    } catch (e) {
      if ((job.phase as string) === 'aborted') return;
      job.error = msg(e);
      this.lastError = `exposure failed: ${job.error}`;
      set('failed');
    }
  }

  async abort(): Promise<ExposureJob | null> {
    const d = this.need();
    const job = this.job;
    if (!job || ['done', 'aborted', 'failed'].includes(job.phase)) throw new HttpError(409, 'NOT_EXPOSING', 'no exposure in progress');
    job.phase = 'aborted';
    await d.camera.abortExposure().catch(() => undefined);
    this.emit({ type: 'exposure', job });
    return job;
  }

  /**
   * The progress sink of a runner's download (sequence, focus): the transfer in the status and a
   * 'download' event with the source; `done()` clears it (however the download ended).
   */
  downloadProgress(source: string): { onProgress: (p: DownloadProgress) => void; done: () => void } {
    return {
      onProgress: (p) => {
        this.transfer = { source, ...transfer(p) };
        this.emit({ type: 'download', ...this.transfer });
      },
      done: () => {
        if (this.transfer?.source === source) this.transfer = null;
      },
    };
  }

  /** A frame a runner took (sequence, focus) becomes the last image, for the viewer: an 'image' event with its source. */
  publish(img: Image, source: string): void {
    this.image = { id: ++this.jobSeq, image: img, source };
    this.emit({ type: 'image', id: this.image.id, source, width: img.width, height: img.height, channels: img.channels });
  }

  lastImage(): Image {
    if (!this.image) throw new HttpError(404, 'NO_IMAGE', 'no image has been taken yet');
    return this.image.image;
  }

  async close(): Promise<void> {
    await this.disconnect();
  }
}

async function openDevice(spec: string, simSpeed: number, parts: PartSpecs): Promise<Opened> {
  if (spec === 'sim' && !parts.wheel && !parts.focuser && !parts.mount) {
    // the simulator with a focuser on its PSF hook (start a little out of focus so autofocus has work to do)
    const clock = new AcceleratedClock(simSpeed);
    const focuser = new SimFocuser({ clock, position: 24_900, best: 25_000 });
    const camera = new SimCamera({ clock, psf: () => focuser.psf(), settingsFile: simSettingsPath() });
    await camera.connect();
    return { spec, camera, wheel: camera.wheel, focuser, clock, close: () => undefined, sensor: await camera.sensorInfo() };
  }
  const d = await openDeviceSpec(spec, { simSpeed, parts });
  try {
    return { ...d, sensor: await d.camera.sensorInfo() };
  } catch (e) {
    d.close();
    throw e;
  }
}
