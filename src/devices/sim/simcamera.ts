/**
 * A simulated QSI 500-series CCD camera (QSI 583ws: KAF-8300, internal 5-position wheel, mechanical
 * shutter, two-stage thermoelectric cooler, see cooler.ts), built on the physical image simulator
 * (camera.ts).
 *
 * Exposures: status idle -> exposing -> downloading (readout) -> idle with the image ready; the image
 * is simulated at the CCD temperature at mid-exposure. Dark and bias frames keep the shutter closed
 * (with the electronic shutter of an interline sensor nothing closes: a dark sees the sky).
 * QSI 600-style settings (fan, gain, shutter priority, anti-blooming, pre-exposure flush, readout,
 * LED, beeper, pixel mask; physics in qsi.ts) and error conditions (over-temperature, CCD under
 * -40 C, supply voltage, and injectable filter wheel, shutter and USB failures).
 */
import { createImage, type Image } from '../../image/image.js';
import { isFrameKind } from '../../image/frame-kind.js';
import { DeviceError } from '../errors.js';
import { applyFrameHeader } from '../frame-header.js';
import { realClock, type Camera, type CameraState, type Clock, type CoolerStatus, type ExposureRequest, type SensorInfo, type Subframe } from '../types.js';
import { createCamera, simulateFrame, type CameraInstance } from './camera.js';
import { CoolerModel } from './cooler.js';
import { sensorModel, type SensorModel } from './sensors.js';
import { randomStarField, type Psf, type SimStar } from './stars.js';
import { SimFilterWheel } from './wheel.js';
import { READOUT_MODE_NAMES, checkSettings, condition } from '../camera-settings.js';
import type { CameraCapabilities, CameraCondition, CameraSettings, CameraSettingsState, DownloadProgress } from '../types.js';
import { applyPixelMask, capabilitiesOf, effectiveSensor, flushMs, loadSettings, readoutFactor, residualFraction, saveSettings } from './qsi.js';

export { MIN_SETPOINT, MAX_SETPOINT } from './cooler.js';
export { QSI_FILTERS } from './wheel.js';

/** Relative throughput of each filter slot for sky and stars. */
const FILTER_THROUGHPUT: Record<string, number> = { Red: 0.3, Green: 0.33, Blue: 0.28, Luminance: 1, Empty: 1.1 };
const MAX_BIN = 3;
/** QSI 500 gain modes (setting 0 and 1) and the offset range. */
const GAIN_MODES = ['High', 'Low'];
const OFFSET_RANGE = { min: 0, max: 255 };

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
  /** The wheel's focus offsets, focuser steps per filter name (unlisted filters 0). */
  focusOffsets?: Record<string, number>;
  /** Pointing offset of the stars in sensor pixels at exposure start (a simulated mount: drift, guiding, dither). */
  pointing?: () => { dx: number; dy: number };
  /** PSF of the stars at exposure start (a simulated focuser); default Moffat FWHM 3, beta 3. */
  psf?: () => Psf;
  /** Per-star colour: factor on star `index`'s flux through the filter slot named `filter` (default 1: grey stars). */
  starColour?: (index: number, filter: string) => number;
  /** JSON file the camera keeps its settings in (its memory across sessions); none: defaults, not kept. */
  settingsFile?: string;
  /** The stars of the sky at exposure start (unbinned sensor pixels, e-/s), e.g. skyStars() at a mount's pointing; replaces `stars`. */
  skyStars?: () => SimStar[];
  /** A flat panel: e-/s per unbinned pixel through Luminance (times the filter's throughput), so a flat's level grows with its exposure; without it every flat is at 45% of the range whatever its exposure. */
  panel?: number;
}

/** Failures that can be injected (hard errors). */
export type SimFault = 'filter-wheel' | 'shutter' | 'usb';

interface Exposure {
  /** The settings when the exposure started. */
  st: CameraSettings;
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
  stars?: SimStar[];
}

export class SimCamera implements Camera {
  readonly kind = 'camera' as const;
  readonly clock: Clock;
  readonly sensor: SensorModel;
  readonly wheel: SimFilterWheel;
  private readonly cooler: CoolerModel;
  private readonly inst: CameraInstance;
  private readonly stars: SimStar[];
  private readonly sky: number;
  private readonly readoutMs: number;
  private readonly panel?: number;
  private readonly hooks: Pick<SimCameraOptions, 'pointing' | 'psf' | 'starColour' | 'skyStars'>;
  private isConnected = false;
  private bx = 1;
  private by = 1;
  private sub: Subframe | null = null;
  private gain = 0;
  private offset = 0;
  private settings: CameraSettings;
  private readonly caps: CameraCapabilities;
  private readonly settingsFile?: string;
  private supplyV = 12;
  private readonly faults = new Set<Exclude<SimFault, 'filter-wheel'>>();
  /** Charge (e-) per binned pixel of the last frame rendered, for the residual image. */
  private lastCharge: { w: number; h: number; e: Float32Array } | null = null;
  private exposure: Exposure | null = null;
  private frameCount = 0;
  private cache: { e: Exposure; img: Image } | null = null;

  constructor(opts: SimCameraOptions = {}) {
    this.clock = opts.clock ?? realClock;
    this.sensor = opts.sensor ?? sensorModel('kaf8300', { width: 256, height: 192 });
    this.inst = createCamera(this.sensor, opts.seed ?? 583);
    this.cooler = new CoolerModel(opts.ambient ?? 20, this.clock);
    this.readoutMs = opts.readoutMs ?? 1000;
    this.sky = opts.sky ?? 2;
    this.panel = opts.panel;
    this.stars = opts.stars ?? randomStarField((opts.seed ?? 583) + 1, this.sensor.width, this.sensor.height, 40, { margin: 8 });
    this.wheel = new SimFilterWheel(this.clock, opts.wheelMsPerSlot ?? 400, undefined, opts.focusOffsets);
    this.caps = capabilitiesOf(this.sensor);
    this.settingsFile = opts.settingsFile;
    this.settings = loadSettings(opts.settingsFile, this.caps, this.sensor);
    this.gain = this.settings.gain === 'low' ? 1 : 0;
    this.cooler.fanMode = this.settings.fanMode;
    this.hooks = { pointing: opts.pointing, psf: opts.psf, starColour: opts.starColour, skyStars: opts.skyStars };
  }

  /** Ambient (heat sink) temperature, C. */
  get ambient(): number {
    return this.cooler.ambient;
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
      maxBinX: MAX_BIN,
      maxBinY: MAX_BIN,
      asymmetricBin: true,
      electronsPerAdu: effectiveSensor(s, this.settings).gain,
      fullWell: s.fullWell,
      maxAdu: s.adcMax,
      name: s.instrument,
      hasShutter: true,
      canSetCcdTemperature: true,
      sensorName: s.id.toUpperCase(),
      bayer: s.bayer,
      gainModes: [...GAIN_MODES],
      offsetRange: { ...OFFSET_RANGE },
    };
  }

  // ---- settings ---------------------------------------------------------------------------
  async setBinning(bx: number, by: number): Promise<void> {
    this.need();
    for (const [n, v] of [['x', bx], ['y', by]] as const) {
      if (!(Number.isInteger(v) && v >= 1 && v <= MAX_BIN)) throw new DeviceError('invalid-value', `binning ${n} must be 1..${MAX_BIN}, got ${v}`);
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
    await this.setSettings({ gain: gain === 0 ? 'high' : 'low' });
  }
  async getGain(): Promise<number> {
    return this.gain;
  }
  async setOffset(offset: number): Promise<void> {
    this.need();
    const { min, max } = OFFSET_RANGE;
    if (!(Number.isInteger(offset) && offset >= min && offset <= max)) throw new DeviceError('invalid-value', `offset must be an integer ${min}..${max}, got ${offset}`);
    this.offset = offset;
  }
  async getOffset(): Promise<number> {
    return this.offset;
  }

  // ---- cooler -----------------------------------------------------------------------------
  async setCooler(on: boolean): Promise<void> {
    this.need();
    this.cooler.setOn(on);
  }
  async setSetpoint(celsius: number): Promise<void> {
    this.need();
    this.cooler.setSetpoint(celsius);
  }
  async coolerStatus(): Promise<CoolerStatus> {
    return this.cooler.status();
  }
  // ---- QSI settings and error conditions ---------------------------------------------------
  async settingsState(): Promise<CameraSettingsState> {
    return { settings: structuredClone(this.settings), capabilities: structuredClone(this.caps), conditions: await this.conditions(), fanOverride: this.cooler.fanOverride };
  }
  async setSettings(patch: Partial<CameraSettings>): Promise<CameraSettingsState> {
    this.need();
    checkSettings(patch, this.caps, this.sensor);
    this.cooler.temperature();
    this.settings = { ...this.settings, ...structuredClone(patch) };
    this.gain = this.settings.gain === 'low' ? 1 : 0;
    this.cooler.fanMode = this.settings.fanMode;
    saveSettings(this.settingsFile, this.settings);
    return this.settingsState();
  }
  async conditions(): Promise<CameraCondition[]> {
    const out: CameraCondition[] = [];
    const hs = this.cooler.heatSinkTemp();
    if (this.cooler.fanOverride) out.push(condition('over-temperature', `heat sink ${hs.toFixed(1)} C`, hs));
    const t = this.cooler.temperature();
    if (t < -40) out.push(condition('ccd-under-temperature', `CCD ${t.toFixed(1)} C`, t));
    if (this.supplyV < 11) out.push(condition('supply-low', `${this.supplyV.toFixed(1)} V`, this.supplyV));
    if (this.supplyV > 14) out.push(condition('supply-high', `${this.supplyV.toFixed(1)} V`, this.supplyV));
    if (this.wheel.failed) out.push(condition('filter-wheel'));
    for (const f of this.faults) out.push(condition(f));
    return out;
  }
  /** Inject a hard failure (filter wheel, shutter, USB) or clear it (on = false). */
  injectFault(f: SimFault, on = true): void {
    if (f === 'filter-wheel') this.wheel.failed = on;
    else if (on) this.faults.add(f);
    else this.faults.delete(f);
  }
  /** The supply voltage (out of 11..14 V the camera switches its cooler off). */
  setSupplyVoltage(volts: number): void {
    this.cooler.temperature();
    this.supplyV = volts;
    this.cooler.powerCut = volts < 11 || volts > 14;
  }
  /** Change the ambient temperature, C. */
  setAmbient(celsius: number): void {
    this.cooler.setAmbient(celsius);
  }
  /** The hard error that stops the camera (shutter, USB), if any. */
  private hardFault(): CameraCondition | undefined {
    for (const f of this.faults) return condition(f);
    return undefined;
  }

  // ---- exposures --------------------------------------------------------------------------
  private busy(): boolean {
    const e = this.exposure;
    return !!e && this.clock.now() < e.readEnd;
  }
  private async checkCanExpose(req: ExposureRequest): Promise<void> {
    this.need();
    const hard = this.hardFault();
    if (hard) throw new DeviceError('invalid-operation', `camera ${hard.message}`);
    if (!(Number.isFinite(req.duration) && req.duration >= 0 && req.duration <= 3600 * 4)) {
      throw new DeviceError('invalid-value', `exposure duration must be 0..14400 s, got ${req.duration}`);
    }
    if (!isFrameKind(req.type)) throw new DeviceError('invalid-value', `unknown frame type '${req.type}'`);
    if (this.busy()) throw new DeviceError('invalid-operation', 'an exposure is already in progress');
    if (await this.wheel.moving()) throw new DeviceError('invalid-operation', 'the filter wheel is moving');
  }
  async startExposure(req: ExposureRequest): Promise<void> {
    await this.checkCanExpose(req);
    this.cooler.temperature();
    const settings = structuredClone(this.settings);
    // the shutter opens after the pre-exposure flush
    const start = this.clock.now() + flushMs(settings, this.readoutMs);
    const dur = req.type === 'bias' ? 0 : req.duration;
    const end = start + dur * 1000;
    const sub = this.sub ? { ...this.sub } : this.fullSub();
    const frac = (sub.width * this.bx * sub.height * this.by) / (this.sensor.width * this.sensor.height);
    const readEnd = end + Math.max(50, (this.readoutMs * readoutFactor(settings) * frac) / Math.max(1, this.by));
    const names = await this.wheel.names();
    const filter = names[await this.wheel.position()] ?? 'Empty';
    this.exposure = { st: settings, req: { ...req, duration: dur }, start, end, readEnd, bx: this.bx, by: this.by, sub, filter, seed: ++this.frameCount, psf: this.hooks.psf?.(), dither: this.hooks.pointing?.(), stars: req.type === 'light' ? this.hooks.skyStars?.() : undefined };
  }
  async abortExposure(): Promise<void> {
    if (this.exposure && this.busy()) this.exposure = null;
  }
  async state(): Promise<CameraState> {
    if (this.hardFault()) return 'error';
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
    if (this.clock.now() >= mid) e.ccdTempMid = this.cooler.temperature();
  }
  /** The image once read out; `onProgress` hears 0 then 1 (it is made in memory: there is no transfer to follow). */
  async download(timeoutMs = 60_000, onProgress?: (p: DownloadProgress) => void): Promise<Image> {
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
    const hard = this.hardFault();
    if (hard) throw new DeviceError('invalid-operation', `camera ${hard.message}: the image is lost`);
    this.sampleMid(e);
    const bytes = 2 * e.sub.width * e.sub.height;
    onProgress?.({ bytes: 0, total: bytes, fraction: 0 });
    const img = this.render(e);
    onProgress?.({ bytes, total: bytes, fraction: 1 });
    return img;
  }
  /** Last exposure's image: throws when none is ready. */
  lastImage(): Image {
    const e = this.exposure;
    if (!e || this.clock.now() < e.readEnd) throw new DeviceError('invalid-operation', 'no image is ready');
    this.sampleMid(e);
    return this.render(e);
  }

  private render(e: Exposure): Image {
    if (this.cache?.e === e) return this.cache.img;
    const img = cropSubframe(this.maskAndKeep(this.simulate(e), e), e.sub);
    const s = this.sensor;
    const h = img.header;
    if (!this.cooler.isOn) h.delete('SET-TEMP');
    applyFrameHeader(h, {
      type: e.req.type,
      exposure: e.req.duration,
      dateObs: new Date(e.start),
      binX: e.bx,
      binY: e.by,
      pixelSizeX: s.pixelSize,
      pixelSizeY: s.pixelSize,
      filter: e.filter,
      gain: e.st.gain === 'low' ? 1 : 0,
      offset: this.offset,
      originX: e.sub.x,
      originY: e.sub.y,
      coolerPower: this.cooler.powerPct,
    });
    h.set('READOUTM', READOUT_MODE_NAMES[e.st.readout === 'speed' ? 1 : 0]!, 'readout mode');
    this.cache = { e, img };
    return img;
  }

  /** Keep the frame's charge for the next frame's residual image, then apply the pixel mask. */
  private maskAndKeep(full: Image, e: Exposure): Image {
    const g = effectiveSensor(this.sensor, e.st).gain;
    const d = full.data[0]!;
    const charge = new Float32Array(d.length);
    for (let i = 0; i < d.length; i++) charge[i] = Math.max(0, (d[i]! - this.sensor.biasLevel) * g);
    this.lastCharge = { w: full.width, h: full.height, e: charge };
    applyPixelMask(full, e.st.pixelMask, e.bx, e.by);
    return full;
  }

  /** Residual electrons of the previous frame left after the flush (none below 0.5 e- per pixel or for another frame size). */
  private residual(e: Exposure, w: number, h: number): Float32Array | undefined {
    const last = this.lastCharge;
    if (!last || last.w !== w || last.h !== h) return undefined;
    const f = residualFraction(e.st);
    let max = 0;
    for (let i = 0; i < last.e.length; i++) if (last.e[i]! > max) max = last.e[i]!;
    if (max * f < 0.5) return undefined;
    return last.e.map((v) => v * f);
  }

  /** The full (binned) frame of an exposure from the image simulator. */
  private simulate(e: Exposure): Image {
    const s = this.sensor;
    const thr = FILTER_THROUGHPUT[e.filter] ?? 1;
    const sym = e.bx === e.by;
    const es = effectiveSensor(s, e.st);
    const inst = { ...this.inst, sensor: sym ? es : { ...es, readNoise: es.readNoise / Math.sqrt(e.bx * e.by) } };
    const colour = this.hooks.starColour;
    // with the electronic shutter nothing covers the sensor: a dark is exposed to the sky
    const open = e.st.shutterPriority === 'electronic' && (e.req.type === 'dark' || e.req.type === 'flatdark');
    const fr = simulateFrame(inst, {
      kind: open ? 'light' : e.req.type,
      blooming: !(s.antiBloomingGate && e.st.antiBlooming),
      residual: sym ? this.residual(e, Math.floor(s.width / e.bx), Math.floor(s.height / e.by)) : undefined,
      exposure: e.req.duration,
      ccdTemp: e.ccdTempMid ?? this.cooler.temperature(),
      setTemp: this.cooler.isOn ? this.cooler.setpointC : undefined,
      binning: sym ? e.bx : 1,
      filter: e.filter,
      seed: this.inst.seed * 1000 + e.seed,
      sky: this.sky * thr,
      // the panel's level above bias in ADU of the (binned) pixel: e- in the exposure over e-/ADU
      flatLevel: this.panel !== undefined && e.req.type === 'flat' ? (this.panel * thr * e.req.duration * (sym ? e.bx * e.bx : 1)) / es.gain : undefined,
      stars: (e.stars ?? this.stars).map((st, i) => ({ ...st, flux: st.flux * thr * (colour ? colour(i, e.filter) : 1) })),
      psf: e.psf ?? { kind: 'moffat', fwhm: 3, beta: 3 },
      dither: e.dither,
      dateObs: new Date(e.start),
    });
    return sym ? fr.image : binAsym(fr.image, e.bx, e.by, s.biasLevel, s.adcMax);
  }
}

/** The subframe (binned pixels) of a frame; the frame itself when the subframe is all of it. */
function cropSubframe(img: Image, sub: Subframe): Image {
  const { x, y, width, height } = sub;
  if (x === 0 && y === 0 && width === img.width && height === img.height) return img;
  const out = createImage(width, height, 1, img.header);
  const src = img.data[0]!;
  const dst = out.data[0]!;
  for (let r = 0; r < height; r++) dst.set(src.subarray((y + r) * img.width + x, (y + r) * img.width + x + width), r * width);
  return out;
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
