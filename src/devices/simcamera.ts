/**
 * A simulated QSI 500-series CCD camera (QSI 583ws: KAF-8300, internal 5-position wheel, mechanical
 * shutter, two-stage thermoelectric cooler), built on the physical image simulator in sim/.
 *
 * Cooler model (lazy, integrated in 1 s steps of the injected clock):
 *   dT/dt = (Teq(P) - T) / tau,  Teq(P) = ambient - dTmax * P / 100   (tau 90 s, dTmax 45 C)
 *   Control: full power while T > setpoint + 3 C, then a PI loop (with bumpless transfer from full
 *   power, which gives a slight overshoot), power clamped to 0..100 %. The cooler cannot heat: a set
 *   point above the body temperature leaves the CCD at ambient with 0 % power. Set points below
 *   -40 C are refused. Power > 85 % is flagged as poor regulation. Cooler off: power 0, warms back up.
 * Exposures: status idle -> exposing -> downloading (readout) -> idle with the image ready; the image
 * is simulated at the CCD temperature at mid-exposure. Dark and bias frames keep the shutter closed.
 */
import { DarkroomError } from '../util/errors.js';
import { createImage, type Image } from '../image/image.js';
import { createCamera, simulateFrame, type CameraInstance } from './sim/camera.js';
import { sensorModel, type SensorModel } from './sim/sensors.js';
import { randomStarField, type Psf, type SimStar } from './sim/stars.js';
import {
  realClock,
  type Camera,
  type CameraState,
  type Clock,
  type CoolerStatus,
  type ExposureRequest,
  type FilterWheel,
  type GuideDirection,
  type GuideOutput,
  type SensorInfo,
  type Subframe,
} from './types.js';

export const QSI_FILTERS = ['Red', 'Green', 'Blue', 'Luminance', 'Empty'];
/** Relative throughput of each filter slot for sky and stars. */
const FILTER_THROUGHPUT: Record<string, number> = { Red: 0.3, Green: 0.33, Blue: 0.28, Luminance: 1, Empty: 1.1 };

export const MIN_SETPOINT = -40;
export const MAX_SETPOINT = 50;

export interface SimCameraOptions {
  clock?: Clock;
  /** Sensor model (default: KAF-8300 at 256x192 so frames are quick). */
  sensor?: SensorModel;
  seed?: number;
  /** Ambient (heat sink) temperature, C. */
  ambient?: number;
  /** Readout time of a full unbinned frame, ms. */
  readoutMs?: number;
  /** Sky background e-/s/pixel through Luminance. */
  sky?: number;
  stars?: SimStar[];
  /** Wheel move time per slot, ms. */
  wheelMsPerSlot?: number;
  /** Pointing offset of the stars in sensor pixels at exposure start (a simulated mount: drift, guiding, dither). */
  pointing?: () => { dx: number; dy: number };
  /** PSF of the stars at exposure start (a simulated focuser); default Moffat FWHM 3, beta 3. */
  psf?: () => Psf;
  /** Per-star colour: factor on star `index`'s flux through the filter slot named `filter` (default 1: grey stars). */
  starColour?: (index: number, filter: string) => number;
}

/** Error from a device: DarkroomError with code BAD_ARGUMENT (invalid value) or IO (invalid operation). */
export class DeviceError extends DarkroomError {
  constructor(
    readonly kindOf: 'invalid-value' | 'invalid-operation' | 'not-implemented' | 'not-connected',
    message: string,
    file?: string,
  ) {
    super(kindOf === 'invalid-value' ? 'BAD_ARGUMENT' : kindOf === 'not-implemented' ? 'UNSUPPORTED' : 'IO', message, file);
  }
}

interface Exposure {
  req: ExposureRequest;
  start: number;
  end: number;
  readEnd: number;
  bx: number;
  by: number;
  sub: Subframe;
  filter: string;
  ccdTempMid?: number;
  seed: number;
  psf?: Psf;
  dither?: { dx: number; dy: number };
}

export class SimCamera implements Camera {
  readonly kind = 'camera' as const;
  readonly clock: Clock;
  readonly sensor: SensorModel;
  private readonly inst: CameraInstance;
  private readonly stars: SimStar[];
  private readonly sky: number;
  private readonly readoutMs: number;
  private isConnected = false;
  // cooler
  readonly ambient: number;
  private temp: number;
  private tempT: number;
  private coolerOn = false;
  private setpoint = 0;
  private power = 0;
  private integ = 0;
  private regulating = false;
  private readonly tau = 90;
  private readonly dTmax = 45;
  private readonly kp = 8;
  private readonly ki = 0.4;
  private history: { t: number; temp: number }[] = [];
  // settings
  private bx = 1;
  private by = 1;
  private sub: Subframe | null = null;
  private gain = 0;
  private offset = 0;
  private fault: 'overtemp' | 'voltage' | null = null;
  private exposure: Exposure | null = null;
  private frameCount = 0;
  readonly wheel: SimFilterWheel;
  private readonly pointingFn?: () => { dx: number; dy: number };
  private readonly psfFn?: () => Psf;
  private readonly starColourFn?: (index: number, filter: string) => number;

  constructor(opts: SimCameraOptions = {}) {
    this.clock = opts.clock ?? realClock;
    this.sensor = opts.sensor ?? sensorModel('kaf8300', { width: 256, height: 192 });
    this.inst = createCamera(this.sensor, opts.seed ?? 583);
    this.ambient = opts.ambient ?? 20;
    this.temp = this.ambient;
    this.tempT = this.clock.now();
    this.readoutMs = opts.readoutMs ?? 1000;
    this.sky = opts.sky ?? 2;
    this.stars = opts.stars ?? randomStarField((opts.seed ?? 583) + 1, this.sensor.width, this.sensor.height, 40, { margin: 8 });
    this.wheel = new SimFilterWheel(this.clock, opts.wheelMsPerSlot ?? 400);
    this.pointingFn = opts.pointing;
    this.psfFn = opts.psf;
    this.starColourFn = opts.starColour;
  }

  // ---- connection -------------------------------------------------------------------------
  async connect(): Promise<void> {
    this.isConnected = true;
    await this.wheel.connect();
  }
  async disconnect(): Promise<void> {
    this.isConnected = false;
  }
  async connected(): Promise<boolean> {
    return this.isConnected;
  }
  private need(): void {
    if (!this.isConnected) throw new DeviceError('not-connected', 'camera is not connected');
  }

  async sensorInfo(): Promise<SensorInfo> {
    const s = this.sensor;
    return {
      width: s.width,
      height: s.height,
      pixelSizeX: s.pixelSize,
      pixelSizeY: s.pixelSize,
      maxBinX: 3,
      maxBinY: 3,
      asymmetricBin: true,
      electronsPerAdu: s.gain,
      fullWell: s.fullWell,
      maxAdu: s.adcMax,
      name: s.instrument,
      hasShutter: true,
      canSetCcdTemperature: true,
    };
  }

  // ---- settings ---------------------------------------------------------------------------
  async setBinning(bx: number, by: number): Promise<void> {
    this.need();
    for (const [n, v] of [['x', bx], ['y', by]] as const) {
      if (!(Number.isInteger(v) && v >= 1 && v <= 3)) throw new DeviceError('invalid-value', `binning ${n} must be 1..3, got ${v}`);
    }
    if (this.exposure && this.busy()) throw new DeviceError('invalid-operation', 'cannot change binning during an exposure');
    this.bx = bx;
    this.by = by;
    this.sub = null;
  }
  async getBinning(): Promise<{ x: number; y: number }> {
    return { x: this.bx, y: this.by };
  }
  private fullSub(): Subframe {
    return { x: 0, y: 0, width: Math.floor(this.sensor.width / this.bx), height: Math.floor(this.sensor.height / this.by) };
  }
  async setSubframe(sub: Subframe | null): Promise<void> {
    this.need();
    if (sub) {
      const f = this.fullSub();
      const ok = [sub.x, sub.y, sub.width, sub.height].every((v) => Number.isInteger(v)) && sub.x >= 0 && sub.y >= 0 && sub.width >= 1 && sub.height >= 1;
      if (!ok || sub.x + sub.width > f.width || sub.y + sub.height > f.height) {
        throw new DeviceError('invalid-value', `subframe ${sub.x},${sub.y} ${sub.width}x${sub.height} outside the ${f.width}x${f.height} binned frame`);
      }
    }
    this.sub = sub ? { ...sub } : null;
  }
  async getSubframe(): Promise<Subframe> {
    return this.sub ? { ...this.sub } : this.fullSub();
  }
  async setGain(gain: number): Promise<void> {
    this.need();
    // QSI 500: gain mode 0 = high gain, 1 = low gain
    if (!(gain === 0 || gain === 1)) throw new DeviceError('invalid-value', `gain must be 0 (high) or 1 (low), got ${gain}`);
    this.gain = gain;
  }
  getGainSetting(): number {
    return this.gain;
  }
  async setOffset(offset: number): Promise<void> {
    this.need();
    if (!(Number.isInteger(offset) && offset >= 0 && offset <= 255)) throw new DeviceError('invalid-value', `offset must be an integer 0..255, got ${offset}`);
    this.offset = offset;
  }
  getOffsetSetting(): number {
    return this.offset;
  }

  // ---- cooler -----------------------------------------------------------------------------
  async setCooler(on: boolean): Promise<void> {
    this.need();
    this.advance();
    if (on && !this.coolerOn) {
      this.regulating = false;
      this.integ = 0;
    }
    this.coolerOn = on;
  }
  async setSetpoint(celsius: number): Promise<void> {
    this.need();
    if (!Number.isFinite(celsius) || celsius < MIN_SETPOINT || celsius > MAX_SETPOINT) {
      throw new DeviceError('invalid-value', `set point ${celsius} C out of range ${MIN_SETPOINT}..${MAX_SETPOINT} C`);
    }
    this.advance();
    this.setpoint = celsius;
    this.regulating = false;
  }
  async coolerStatus(): Promise<CoolerStatus> {
    this.advance();
    return {
      on: this.coolerOn,
      setpoint: this.setpoint,
      ccdTemp: this.temp,
      ambient: this.ambient,
      power: this.power,
      locked: this.isLocked(),
      poorRegulation: this.coolerOn && this.power > 85,
    };
  }
  /** Locked: on, and within 0.1 C of the set point for the last 30 simulated seconds. */
  private isLocked(): boolean {
    if (!this.coolerOn || this.history.length < 30) return false;
    const last = this.history.slice(-30);
    return last.every((h) => Math.abs(h.temp - this.setpoint) <= 0.1);
  }
  /** Inject a fault (over-temperature of the heat sink, low supply voltage) or clear it. */
  injectFault(f: 'overtemp' | 'voltage' | null): void {
    this.fault = f;
  }

  /** Integrate the thermal model up to clock.now(). */
  private advance(): void {
    const now = this.clock.now();
    let dtTotal = (now - this.tempT) / 1000;
    if (dtTotal <= 0) return;
    // very long gaps: the system is at equilibrium long before; cap the work
    if (dtTotal > 7200) {
      this.stepFor(dtTotal - 7200, true);
      dtTotal = 7200;
    }
    this.stepFor(dtTotal, false);
    this.tempT = now;
  }
  private stepFor(seconds: number, coarse: boolean): void {
    const step = coarse ? 10 : 1;
    let left = seconds;
    while (left > 1e-9) {
      const dt = Math.min(step, left);
      this.step(dt);
      left -= dt;
      if (!coarse) {
        this.history.push({ t: this.tempT, temp: this.temp });
        if (this.history.length > 120) this.history.shift();
      }
    }
  }
  private step(dt: number): void {
    const body = this.ambient;
    if (!this.coolerOn || this.fault === 'voltage') {
      this.power = 0;
    } else {
      const err = this.temp - this.setpoint;
      if (!this.regulating && err > 3) {
        this.power = 100;
      } else {
        if (!this.regulating) {
          // bumpless transfer: the integral starts at the current power
          this.regulating = true;
          this.integ = this.power - this.kp * err;
        }
        this.integ += this.ki * err * dt;
        this.integ = Math.max(-20, Math.min(110, this.integ));
        this.power = Math.max(0, Math.min(100, this.kp * err + this.integ));
      }
    }
    const teq = body - (this.dTmax * this.power) / 100;
    this.temp += ((teq - this.temp) * Math.min(dt, this.tau)) / this.tau;
    if (this.temp > body) this.temp = body;
  }

  // ---- exposures --------------------------------------------------------------------------
  private busy(): boolean {
    const e = this.exposure;
    return !!e && this.clock.now() < e.readEnd;
  }
  async startExposure(req: ExposureRequest): Promise<void> {
    this.need();
    if (this.fault) throw new DeviceError('invalid-operation', this.fault === 'overtemp' ? 'camera error: heat sink over temperature' : 'camera error: supply voltage low');
    if (!(Number.isFinite(req.duration) && req.duration >= 0 && req.duration <= 3600 * 4)) {
      throw new DeviceError('invalid-value', `exposure duration must be 0..14400 s, got ${req.duration}`);
    }
    if (!['light', 'dark', 'bias', 'flat', 'flatdark'].includes(req.type)) throw new DeviceError('invalid-value', `unknown frame type '${req.type}'`);
    if (this.busy()) throw new DeviceError('invalid-operation', 'an exposure is already in progress');
    if (await this.wheel.moving()) throw new DeviceError('invalid-operation', 'the filter wheel is moving');
    this.advance();
    const start = this.clock.now();
    const dur = req.type === 'bias' ? 0 : req.duration;
    const end = start + dur * 1000;
    const sub = this.sub ? { ...this.sub } : this.fullSub();
    const frac = (sub.width * this.bx * sub.height * this.by) / (this.sensor.width * this.sensor.height);
    const readEnd = end + Math.max(50, (this.readoutMs * frac) / Math.max(1, this.by));
    const names = await this.wheel.names();
    this.exposure = { req: { ...req, duration: dur }, start, end, readEnd, bx: this.bx, by: this.by, sub, filter: names[await this.wheel.position()] ?? 'Empty', seed: ++this.frameCount, psf: this.psfFn?.(), dither: this.pointingFn?.() };
  }
  async abortExposure(): Promise<void> {
    if (this.exposure && this.busy()) this.exposure = null;
  }
  async state(): Promise<CameraState> {
    if (this.fault) return 'error';
    const e = this.exposure;
    if (!e) return 'idle';
    const now = this.clock.now();
    this.sampleMid(e);
    if (now < e.end) return 'exposing';
    if (now < e.readEnd) return 'downloading';
    return 'idle';
  }
  async imageReady(): Promise<boolean> {
    const e = this.exposure;
    return !!e && this.clock.now() >= e.readEnd;
  }
  /** Percent of the running exposure done. */
  async percentCompleted(): Promise<number> {
    const e = this.exposure;
    if (!e) return 0;
    const now = this.clock.now();
    return e.readEnd <= e.start ? 100 : Math.max(0, Math.min(100, (100 * (now - e.start)) / (e.readEnd - e.start)));
  }
  private sampleMid(e: Exposure): void {
    if (e.ccdTempMid !== undefined) return;
    const mid = (e.start + e.end) / 2;
    if (this.clock.now() >= mid) {
      this.advance();
      e.ccdTempMid = this.temp;
    }
  }
  async download(timeoutMs = 60_000): Promise<Image> {
    const e = this.exposure;
    if (!e) throw new DeviceError('invalid-operation', 'no image: no exposure was taken');
    const waitMs = e.readEnd - this.clock.now();
    if (waitMs > timeoutMs) throw new DeviceError('invalid-operation', `image not ready within ${timeoutMs} ms`);
    const toMid = (e.start + e.end) / 2 - this.clock.now();
    if (toMid > 0) await this.clock.sleep(toMid);
    this.sampleMid(e);
    const rest = e.readEnd - this.clock.now();
    if (rest > 0) await this.clock.sleep(rest);
    if (this.exposure !== e) throw new DeviceError('invalid-operation', 'exposure was aborted');
    this.sampleMid(e);
    return this.render(e);
  }
  /** Last exposure's image (server use): throws when none is ready. */
  lastImage(): Image {
    const e = this.exposure;
    if (!e || this.clock.now() < e.readEnd) throw new DeviceError('invalid-operation', 'no image is ready');
    this.sampleMid(e);
    return this.render(e);
  }
  private cache: { e: Exposure; img: Image } | null = null;

  private render(e: Exposure): Image {
    if (this.cache?.e === e) return this.cache.img;
    const s = this.sensor;
    const kind = e.req.type;
    const ccdTemp = e.ccdTempMid ?? this.temp;
    const thr = FILTER_THROUGHPUT[e.filter] ?? 1;
    const sym = e.bx === e.by;
    const base = sym ? s : { ...s, readNoise: s.readNoise / Math.sqrt(e.bx * e.by) };
    const inst = sym ? this.inst : { ...this.inst, sensor: base };
    const fr = simulateFrame(inst, {
      kind,
      exposure: e.req.duration,
      ccdTemp,
      setTemp: this.coolerOn ? this.setpoint : undefined,
      binning: sym ? e.bx : 1,
      filter: e.filter,
      seed: this.inst.seed * 1000 + e.seed,
      sky: this.sky * thr,
      stars: this.stars.map((st, i) => ({ ...st, flux: st.flux * thr * (this.starColourFn ? this.starColourFn(i, e.filter) : 1) })),
      psf: e.psf ?? { kind: 'moffat', fwhm: 3, beta: 3 },
      dither: e.dither,
      dateObs: new Date(e.start),
    });
    let img = fr.image;
    if (!sym) img = binAsym(img, e.bx, e.by, s.biasLevel, s.adcMax);
    // subframe crop in binned pixels
    const { x, y, width, height } = e.sub;
    if (x !== 0 || y !== 0 || width !== img.width || height !== img.height) {
      const out = createImage(width, height, 1, img.header);
      const src = img.data[0]!;
      const dst = out.data[0]!;
      for (let r = 0; r < height; r++) dst.set(src.subarray((y + r) * img.width + x, (y + r) * img.width + x + width), r * width);
      img = out;
    }
    const h = img.header;
    if (!this.coolerOn) h.delete('SET-TEMP');
    h.set('XBINNING', e.bx, 'binning factor in x');
    h.set('YBINNING', e.by, 'binning factor in y');
    h.set('XPIXSZ', s.pixelSize * e.bx, '[um] pixel size in x including binning', { float: true });
    h.set('YPIXSZ', s.pixelSize * e.by, '[um] pixel size in y including binning', { float: true });
    h.set('XORGSUBF', e.sub.x, 'subframe origin x (binned pixels)');
    h.set('YORGSUBF', e.sub.y, 'subframe origin y (binned pixels)');
    h.set('FILTER', e.filter, 'filter');
    h.set('GAIN', this.gain, 'gain mode (0 high, 1 low)');
    h.set('OFFSET', this.offset, 'offset setting');
    h.set('COOLPOW', Math.round(this.power * 10) / 10, '[%] cooler power', { float: true });
    this.cache = { e, img };
    return img;
  }
}

/** Sum charge in bx x by blocks of an unbinned frame (bias counted once). */
function binAsym(img: Image, bx: number, by: number, biasLevel: number, adcMax: number): Image {
  const w = Math.floor(img.width / bx);
  const h = Math.floor(img.height / by);
  const out = createImage(w, h, 1, img.header);
  const src = img.data[0]!;
  const dst = out.data[0]!;
  const extraBias = (bx * by - 1) * biasLevel;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let s = 0;
      for (let j = 0; j < by; j++) for (let i = 0; i < bx; i++) s += src[(y * by + j) * img.width + x * bx + i]!;
      const v = Math.round(s - extraBias);
      dst[y * w + x] = v < 0 ? 0 : v > adcMax ? adcMax : v;
    }
  }
  return out;
}

/** The QSI internal 5-position filter wheel. */
export class SimFilterWheel implements FilterWheel {
  readonly kind = 'filterwheel' as const;
  private pos = 3;
  private target = 3;
  private arrive = 0;
  constructor(
    private readonly clock: Clock,
    private readonly msPerSlot: number,
    private readonly filterNames: string[] = QSI_FILTERS,
  ) {}
  async connect(): Promise<void> {}
  async disconnect(): Promise<void> {}
  async names(): Promise<string[]> {
    return [...this.filterNames];
  }
  async moving(): Promise<boolean> {
    return this.clock.now() < this.arrive;
  }
  async position(): Promise<number> {
    if (this.clock.now() < this.arrive) return -1;
    this.pos = this.target;
    return this.pos;
  }
  /** Begin a move; returns the arrival time. */
  begin(target: number | string): number {
    const n = this.filterNames.length;
    let slot: number;
    if (typeof target === 'string') {
      slot = this.filterNames.findIndex((f) => f.toLowerCase() === target.toLowerCase());
      if (slot < 0) throw new DeviceError('invalid-value', `no filter named '${target}' (have: ${this.filterNames.join(', ')})`);
    } else {
      slot = target;
      if (!(Number.isInteger(slot) && slot >= 0 && slot < n)) throw new DeviceError('invalid-value', `filter position must be 0..${n - 1}, got ${target}`);
    }
    const now = this.clock.now();
    if (now < this.arrive) throw new DeviceError('invalid-operation', 'the filter wheel is already moving');
    const from = this.target;
    const slots = Math.min((slot - from + n) % n, (from - slot + n) % n);
    this.target = slot;
    this.arrive = now + slots * this.msPerSlot;
    return this.arrive;
  }
  async move(target: number | string, timeoutMs = 30_000): Promise<void> {
    const arrive = this.begin(target);
    const wait = arrive - this.clock.now();
    if (wait > timeoutMs) throw new DeviceError('invalid-operation', `filter wheel did not arrive within ${timeoutMs} ms`);
    if (wait > 0) await this.clock.sleep(wait);
    while (this.clock.now() < arrive) await this.clock.sleep(arrive - this.clock.now());
    await this.position();
  }
}

/** A mount's guide port (ST-4 style pulses), simulated: records the pulses it received. */
export class SimGuideOutput implements GuideOutput {
  readonly kind = 'guide' as const;
  private until = 0;
  readonly pulses: { direction: GuideDirection; ms: number; at: number }[] = [];
  constructor(private readonly clock: Clock = realClock) {}
  async connect(): Promise<void> {}
  async disconnect(): Promise<void> {}
  /** Start a pulse without waiting (Alpaca PulseGuide is asynchronous). */
  begin(direction: GuideDirection, ms: number): void {
    if (!(Number.isFinite(ms) && ms >= 0 && ms <= 60_000)) throw new DeviceError('invalid-value', `pulse duration must be 0..60000 ms, got ${ms}`);
    const now = this.clock.now();
    this.pulses.push({ direction, ms, at: now });
    this.until = Math.max(this.until, now + ms);
  }
  async pulseGuide(direction: GuideDirection, ms: number): Promise<void> {
    this.begin(direction, ms);
    await this.clock.sleep(ms);
  }
  async isPulseGuiding(): Promise<boolean> {
    return this.clock.now() < this.until;
  }
}
