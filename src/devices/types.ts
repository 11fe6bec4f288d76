/**
 * Device interfaces shared by the built-in simulator, the Alpaca client and the INDI client.
 * Everything is async; implementations enforce timeouts and never poll faster than needed.
 */
import type { Image } from '../image/image.js';
import type { FrameKind } from '../image/frame-kind.js';

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
  /** Sensor chip name (Alpaca SensorName), when known. */
  sensorName?: string;
  /** Bayer pattern of a colour sensor (undefined: monochrome). */
  bayer?: string;
  /** Names of the gain settings 0, 1, ... when the camera has a list of modes (ASCOM Gains). */
  gainModes?: string[];
  /** Range of the offset setting, when known. */
  offsetRange?: { min: number; max: number };
}

/** Fan mode of a QSI-style camera (full speed is forced while the heat sink is over temperature). */
export type FanMode = 'off' | 'quiet' | 'full';

/** A sensor pixel, unbinned coordinates. */
export interface PixelXY {
  x: number;
  y: number;
}

/** The vendor settings of a QSI-style camera (see camera-settings.ts for their meaning and checks). */
export interface CameraSettings {
  fanMode: FanMode;
  /** Gain mode; `gain: 'high'` is the camera's gain setting 0 (Alpaca Gain 0), 'low' setting 1. */
  gain: 'high' | 'low';
  /** Mechanical shutter, or electronic (interline sensors: nothing covers the sensor). */
  shutterPriority: 'mechanical' | 'electronic';
  antiBlooming: boolean;
  /** Pre-exposure flush cycles. */
  preFlush: 0 | 1 | 2 | 4 | 8;
  /** Readout optimization: image quality (low read noise) or readout speed. */
  readout: 'quality' | 'speed';
  led: boolean;
  beeper: boolean;
  /** Pixels the camera replaces with the mean of their neighbours in every frame. */
  pixelMask: PixelXY[];
}

/** Which settings a camera offers and the values each may take. */
export interface CameraCapabilities {
  fanModes: FanMode[];
  gainModes: CameraSettings['gain'][];
  shutterPriorities: CameraSettings['shutterPriority'][];
  readoutModes: CameraSettings['readout'][];
  preFlushCycles: CameraSettings['preFlush'][];
  /** Whether the sensor has an anti-blooming gate (the default), and whether it can be switched off. */
  antiBlooming: boolean;
  antiBloomingSelectable: boolean;
  led: boolean;
  beeper: boolean;
  maxMaskedPixels: number;
}

export type CameraConditionCode = 'over-temperature' | 'ccd-under-temperature' | 'supply-low' | 'supply-high' | 'filter-wheel' | 'shutter' | 'usb';

/** An error condition the camera reports: soft (mitigated, clears by itself) or hard (the camera stops). */
export interface CameraCondition {
  code: CameraConditionCode;
  /** The camera's error number. */
  number: number;
  severity: 'soft' | 'hard';
  message: string;
  /** The measured value (C, V) when there is one. */
  value?: number;
}

/** Settings, capabilities and conditions together (`camera status`, GET /api/camera/settings). */
export interface CameraSettingsState {
  settings: CameraSettings;
  capabilities: CameraCapabilities;
  conditions: CameraCondition[];
  /** True while over-temperature forces the fan to full speed. */
  fanOverride: boolean;
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

/** How much of an image transfer has arrived: bytes so far of `total` (when known), fraction 0..1. */
export interface DownloadProgress {
  bytes: number;
  total?: number;
  fraction: number;
}

export interface ExposureRequest {
  /** Seconds. */
  duration: number;
  type: FrameKind;
}

/** What every device does: connect and let go. */
export interface Device {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
}

export interface Camera extends Device {
  readonly kind: 'camera';
  /** The filter wheel in or in front of the camera, when it has one. */
  wheel?: FilterWheel;
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
  /** Current gain / offset settings, where the camera reports them. */
  getGain?(): Promise<number>;
  getOffset?(): Promise<number>;
  setCooler(on: boolean): Promise<void>;
  setSetpoint(celsius: number): Promise<void>;
  coolerStatus(): Promise<CoolerStatus>;
  startExposure(req: ExposureRequest): Promise<void>;
  abortExposure(): Promise<void>;
  state(): Promise<CameraState>;
  /** True when the last exposure's image can be downloaded. */
  imageReady(): Promise<boolean>;
  /** Percent of the running exposure (with readout) done, where the camera reports it. */
  percentCompleted?(): Promise<number>;
  /**
   * Download the last image with a full FITS header (IMAGETYP, EXPTIME, DATE-OBS, CCD-TEMP, ...);
   * `onProgress` hears how much of the transfer has arrived (throttled; at least fraction 0 and 1).
   */
  download(timeoutMs?: number, onProgress?: (p: DownloadProgress) => void): Promise<Image>;
  /** The vendor settings, capabilities and error conditions, where the camera has them (QSI-style). */
  settingsState?(): Promise<CameraSettingsState>;
  /** Change some settings (DeviceError invalid-value for a value the camera does not offer); returns the new state. */
  setSettings?(patch: Partial<CameraSettings>): Promise<CameraSettingsState>;
  /** The error conditions active now. */
  conditions?(): Promise<CameraCondition[]>;
}

export interface FilterWheel extends Device {
  readonly kind: 'filterwheel';
  names(): Promise<string[]>;
  /** Current slot (0-based); -1 while moving. */
  position(): Promise<number>;
  /** Move to a slot (0-based) or a filter name; resolves when it arrives. */
  move(target: number | string, timeoutMs?: number): Promise<void>;
  /** The focuser offset of each slot, steps (ASCOM FocusOffsets), where the wheel knows them. */
  focusOffsets?(): Promise<number[]>;
}

export type GuideDirection = 'north' | 'south' | 'east' | 'west';

export interface GuideOutput extends Device {
  readonly kind: 'guide';
  /** Pulse-guide for ms milliseconds; resolves when the pulse has ended. */
  pulseGuide(direction: GuideDirection, ms: number): Promise<void>;
  isPulseGuiding(): Promise<boolean>;
}

export interface Focuser extends Device {
  readonly kind: 'focuser';
  position(): Promise<number>;
  maxStep(): Promise<number>;
  /** Absolute move in steps; resolves when it stops. */
  move(position: number, timeoutMs?: number): Promise<void>;
  isMoving(): Promise<boolean>;
  /** Relative move in steps (negative: inward); resolves when it stops. */
  moveBy?(steps: number, timeoutMs?: number): Promise<void>;
  /** Temperature at the focuser, C; undefined when it has no sensor. */
  temperature?(): Promise<number | undefined>;
}

/** A weather / safety device (ASCOM SafetyMonitor, INDI weather): whether it is safe to observe now. */
export interface SafetyMonitor {
  isSafe(): Promise<boolean>;
}

/** Side of the pier (ASCOM): 'west' looking east (targets before the meridian), 'east' looking west (after a flip). */
export type PierSide = 'east' | 'west';

/**
 * A goto mount (Alpaca Telescope, INDI telescope, the simulator's): slew and sync in J2000 degrees
 * (clients convert to the mount's own equinox), pier side, hour angle, meridian flip, park. Every
 * move resolves when the mount has stopped.
 */
export interface GotoTelescope {
  slewTo(ra: number, dec: number): Promise<void>;
  syncTo(ra: number, dec: number): Promise<void>;
  /** Where the mount says it points, J2000 degrees. */
  position(): Promise<{ ra: number; dec: number }>;
  /** Hour angle of where the mount points, hours (-12, 12]. */
  hourAngle(): number | Promise<number>;
  pierSide(): Promise<PierSide>;
  /** Slew to the same target on the other side of the pier. */
  flip(): Promise<void>;
  park(): Promise<void>;
}

/** ASCOM guide direction numbers (guideNorth=0, South=1, East=2, West=3). */
export const GUIDE_DIRECTIONS: GuideDirection[] = ['north', 'south', 'east', 'west'];

/** A camera opened from a device spec, with what came with it. */
export interface OpenedDevice {
  spec: string;
  camera: Camera;
  wheel?: FilterWheel;
  /** Pulse-guide output of the server's mount, when it has one. */
  guide?: GuideOutput;
  /** The server's mount as a goto mount (slew, sync, pier side, flip, park), when it can slew and sync. */
  mount?: GotoTelescope;
  /** The server's focuser, when it has one. */
  focuser?: Focuser;
  /** The clock the camera runs on (accelerated for the simulator). */
  clock: Clock;
  close: () => void;
  /** Listen to what happens to the link to the device's server (lost, reconnected, a frame taken again), when it can reconnect. */
  onLinkEvent?: (listener: (e: LinkEvent) => void) => void;
}

/** The link to a device server: lost, reconnected (devices restored), an exposure taken again, given up. */
export interface LinkEvent {
  kind: 'lost' | 'reconnected' | 'retry' | 'failed';
  server: string;
  message: string;
}

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

/**
 * A simulation clock paced by its sleeps: simulated time moves by what the simulation sleeps (an
 * exposure, a pulse, a pause), shown `factor` times faster than real time, and by real time x factor
 * only across idle gaps (no sleep for more than `idleMs` of real time: the rig sitting unused). The
 * computing between sleeps (centroids, a render) takes no simulated time, so a starved process on a
 * loaded machine does not make an accelerated mount drift `factor` times its stall: a guider under
 * test sees the same sky whatever the load. `advance(ms)` jumps ahead instantly.
 */
export class PacedClock implements Clock {
  private t: number;
  private lastReal = Date.now();
  private sleeping = 0;
  constructor(
    readonly factor = 1,
    start = Date.now(),
    private readonly idleMs = 2000,
  ) {
    this.t = start;
  }
  /** Count an idle gap (real time with no sleep pending, longer than idleMs) as simulated time. */
  private catchUp(): void {
    const now = Date.now();
    const gap = now - this.lastReal;
    if (this.sleeping === 0 && gap > this.idleMs) this.t += gap * this.factor;
    this.lastReal = now;
  }
  now(): number {
    this.catchUp();
    return this.t;
  }
  advance(ms: number): void {
    this.t += ms;
  }
  async sleep(ms: number): Promise<void> {
    this.catchUp();
    if (ms > 0) this.t += ms;
    this.sleeping++;
    try {
      await new Promise((r) => setTimeout(r, Math.max(0, Math.ceil(ms / this.factor))));
    } finally {
      this.sleeping--;
      this.lastReal = Date.now();
    }
  }
}

/** Resolve to the device once it connects, to undefined when it does not (optional parts of a rig). */
export async function connectedOrNone<T extends Device>(d: T): Promise<T | undefined> {
  return d.connect().then(
    () => d,
    () => undefined,
  );
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
