/**
 * Device interfaces shared by the built-in simulator, the Alpaca client and the INDI client.
 * Everything is async; implementations enforce timeouts and never poll faster than needed.
 */
import type { Image } from '../image/image.js';
import type { FrameKind } from './sim/camera.js';

export type { FrameKind };

/** Camera state, as ASCOM CameraStates (plus 'error'). */
export type CameraState = 'idle' | 'waiting' | 'exposing' | 'reading' | 'downloading' | 'error';

export interface SensorInfo {
  /** Sensor size in unbinned pixels. */
  width: number;
  height: number;
  /** Pixel pitch, micrometres. */
  pixelSizeX: number;
  pixelSizeY: number;
  /** Maximum binning per axis. */
  maxBinX: number;
  maxBinY: number;
  /** Whether different x and y binning is supported. */
  asymmetricBin: boolean;
  /** Electrons per ADU. */
  electronsPerAdu: number;
  fullWell: number;
  maxAdu: number;
  /** Camera / sensor name (INSTRUME). */
  name: string;
  hasShutter: boolean;
  canSetCcdTemperature: boolean;
}

export interface Subframe {
  /** Start and size in binned pixels (ASCOM convention). */
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface CoolerStatus {
  on: boolean;
  /** Set point, C. */
  setpoint: number;
  /** Current CCD temperature, C. */
  ccdTemp: number;
  /** Heat sink / ambient temperature, C (NaN when unknown). */
  ambient: number;
  /** Cooler power, percent 0..100 (NaN when unknown). */
  power: number;
  /** True when the temperature is within 0.1 C of the set point and holding. */
  locked: boolean;
  /** Power above 85%: the cooler cannot regulate with margin. */
  poorRegulation: boolean;
}

export interface ExposureRequest {
  /** Seconds. */
  duration: number;
  type: FrameKind;
}

export interface Camera {
  readonly kind: 'camera';
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  connected(): Promise<boolean>;
  sensorInfo(): Promise<SensorInfo>;
  setBinning(bx: number, by: number): Promise<void>;
  getBinning(): Promise<{ x: number; y: number }>;
  /** Subframe in binned pixels; null = full frame at the current binning. */
  setSubframe(sub: Subframe | null): Promise<void>;
  getSubframe(): Promise<Subframe>;
  /** Gain / offset settings (cameras without them reject). */
  setGain(gain: number): Promise<void>;
  setOffset(offset: number): Promise<void>;
  setCooler(on: boolean): Promise<void>;
  setSetpoint(celsius: number): Promise<void>;
  coolerStatus(): Promise<CoolerStatus>;
  startExposure(req: ExposureRequest): Promise<void>;
  abortExposure(): Promise<void>;
  state(): Promise<CameraState>;
  /** True when the last exposure's image can be downloaded. */
  imageReady(): Promise<boolean>;
  /** Download the last image with a full FITS header (IMAGETYP, EXPTIME, DATE-OBS, CCD-TEMP, ...). */
  download(timeoutMs?: number): Promise<Image>;
}

export interface FilterWheel {
  readonly kind: 'filterwheel';
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  names(): Promise<string[]>;
  /** Current slot (0-based); -1 while moving. */
  position(): Promise<number>;
  /** Move to a slot (0-based) or a filter name; resolves when it arrives. */
  move(target: number | string, timeoutMs?: number): Promise<void>;
}

export type GuideDirection = 'north' | 'south' | 'east' | 'west';

export interface GuideOutput {
  readonly kind: 'guide';
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  /** Pulse-guide for ms milliseconds; resolves when the pulse has ended. */
  pulseGuide(direction: GuideDirection, ms: number): Promise<void>;
  isPulseGuiding(): Promise<boolean>;
}

export interface Focuser {
  readonly kind: 'focuser';
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  position(): Promise<number>;
  maxStep(): Promise<number>;
  /** Absolute move in steps; resolves when it stops. */
  move(position: number, timeoutMs?: number): Promise<void>;
  isMoving(): Promise<boolean>;
}

/** ASCOM guide direction numbers (guideNorth=0, South=1, East=2, West=3). */
export const GUIDE_DIRECTIONS: GuideDirection[] = ['north', 'south', 'east', 'west'];

/** Injectable clock so tests can run minutes of simulated time in milliseconds. */
export interface Clock {
  /** Milliseconds since the epoch (simulated). */
  now(): number;
  /** Resolve after ms of simulated time. */
  sleep(ms: number): Promise<void>;
}

export const realClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((r) => setTimeout(r, Math.max(0, ms))),
};

/**
 * A clock running `factor` times faster than real time (factor 600: one simulated minute per 100 ms).
 * `advance(ms)` jumps ahead instantly (for tests that step the model).
 */
export class AcceleratedClock implements Clock {
  private offset = 0;
  private readonly t0 = Date.now();
  constructor(readonly factor = 1, private readonly start = Date.now()) {}
  now(): number {
    return this.start + (Date.now() - this.t0) * this.factor + this.offset;
  }
  advance(ms: number): void {
    this.offset += ms;
  }
  sleep(ms: number): Promise<void> {
    // round up (timers fire in whole ms) so at least ms of simulated time has passed
    return new Promise((r) => setTimeout(r, Math.max(0, Math.ceil(ms / this.factor) + (ms > 0 ? 1 : 0))));
  }
}

/** Reject with a DarkroomError-like timeout when p does not settle in ms. */
export async function withTimeout<T>(p: Promise<T>, ms: number, what: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<T>((_, rej) => {
        timer = setTimeout(() => rej(what()), ms);
      }),
    ]);
  } finally {
    if (timer) clearTimeout(timer);
  }
}
