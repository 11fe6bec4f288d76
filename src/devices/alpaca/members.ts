/**
 * The Alpaca members the server implements for each device it serves, on top of the device
 * interfaces. A GET member returns the value; a PUT member first reads its parameters (throwing
 * AlpacaRequestError, HTTP 400, when they cannot be read) and returns the action to run, so that a
 * request is understood, or refused, before the device is asked anything.
 */
import { DeviceError } from '../errors.js';
import { GUIDE_DIRECTIONS, type Camera, type CameraState, type CoolerStatus, type FilterWheel, type Focuser, type GuideOutput, type SensorInfo } from '../types.js';
import type { Image } from '../../image/image.js';
import { ALPACA_ERRORS, CAMERA_STATES, ELEMENT_TYPE } from './protocol.js';
import { bool, int, num, param, type Params } from './request.js';
import { READOUT_MODE_NAMES } from '../camera-settings.js';
import { CAMERA_ACTIONS, findAction, readoutIndex, readoutOfIndex, runAction } from './actions.js';

/** An Alpaca error to return in the JSON body (HTTP 200). */
export class AlpacaError extends Error {
  constructor(readonly number: number, message: string) {
    super(message);
  }
}

export interface Member {
  get?: () => unknown | Promise<unknown>;
  /** Reads the parameters (or throws) and returns what to do. */
  put?: (p: Params) => () => unknown | Promise<unknown>;
}
export type Members = Record<string, Member>;

/**
 * Start an operation that Alpaca runs in the background (filter and focuser moves, guide pulses):
 * resolves as soon as it has started; an error raised when it starts (a bad value) rejects, later
 * ones are dropped.
 */
async function started(op: Promise<unknown>): Promise<void> {
  await Promise.race([op, Promise.resolve()]);
}

export function notImplemented(member: string, why = ''): never {
  throw new AlpacaError(ALPACA_ERRORS.notImplemented, `${member} is not supported${why}`);
}

function invalid(message: string): never {
  throw new AlpacaError(ALPACA_ERRORS.invalidValue, message);
}

const fixed = (v: unknown): Member => ({ get: () => v });

/** What the camera is (sizes, capabilities) and its settings: cooler, gain, offset, readout mode. */
export function cameraInfoMembers(cam: Camera, s: SensorInfo): Members {
  const cooler = (): Promise<CoolerStatus> => cam.coolerStatus();
  return {
    cameraxsize: fixed(s.width),
    cameraysize: fixed(s.height),
    canabortexposure: fixed(true),
    canasymmetricbin: fixed(s.asymmetricBin),
    canfastreadout: fixed(false),
    cangetcoolerpower: { get: async () => Number.isFinite((await cooler()).power) },
    canpulseguide: fixed(false),
    cansetccdtemperature: fixed(s.canSetCcdTemperature),
    canstopexposure: fixed(false),
    ccdtemperature: { get: async () => (await cooler()).ccdTemp },
    cooleron: { get: async () => (await cooler()).on, put: (p) => { const on = bool(p, 'CoolerOn'); return () => cam.setCooler(on); } },
    coolerpower: { get: async () => (await cooler()).power },
    electronsperadu: { get: async () => (await cam.sensorInfo()).electronsPerAdu },
    exposuremax: fixed(14400),
    exposuremin: fixed(0),
    exposureresolution: fixed(0.01),
    fullwellcapacity: fixed(s.fullWell),
    gain: { get: () => (cam.getGain ? cam.getGain() : notImplemented('Gain')), put: (p) => { const g = int(p, 'Gain'); return () => cam.setGain(g); } },
    gains: { get: () => s.gainModes ?? notImplemented('Gains') },
    offset: { get: () => (cam.getOffset ? cam.getOffset() : notImplemented('Offset')), put: (p) => { const o = int(p, 'Offset'); return () => cam.setOffset(o); } },
    offsetmin: { get: () => s.offsetRange?.min ?? notImplemented('OffsetMin') },
    offsetmax: { get: () => s.offsetRange?.max ?? notImplemented('OffsetMax') },
    hasshutter: fixed(s.hasShutter),
    heatsinktemperature: { get: async () => (await cooler()).ambient },
    ispulseguiding: fixed(false),
    maxadu: fixed(s.maxAdu),
    maxbinx: fixed(s.maxBinX),
    maxbiny: fixed(s.maxBinY),
    pixelsizex: fixed(s.pixelSizeX),
    pixelsizey: fixed(s.pixelSizeY),
    ...readoutMembers(cam),
    sensorname: fixed(s.sensorName ?? s.name),
    sensortype: fixed(s.bayer ? 2 : 0),
    setccdtemperature: { get: async () => (await cooler()).setpoint, put: (p) => { const t = num(p, 'SetCCDTemperature'); return () => cam.setSetpoint(t); } },
  };
}

/** ReadoutMode(s): the readout optimization of a camera with settings, else one 'Normal' mode. */
function readoutMembers(cam: Camera): Members {
  if (!cam.settingsState || !cam.setSettings) {
    return {
      readoutmode: { get: () => 0, put: (p) => { const m = int(p, 'ReadoutMode'); return () => { if (m !== 0) invalid('ReadoutMode must be 0'); }; } },
      readoutmodes: fixed(['Normal']),
    };
  }
  const set = cam.setSettings.bind(cam);
  return {
    readoutmode: { get: async () => readoutIndex((await cam.settingsState!()).settings.readout), put: (p) => { const m = int(p, 'ReadoutMode'); return () => set({ readout: readoutOfIndex(m) }); } },
    readoutmodes: fixed([...READOUT_MODE_NAMES]),
  };
}

/** SupportedActions and Action: the vendor settings of a camera that has them (see actions.ts); none otherwise. */
export function cameraActionMembers(cam: Camera): Members {
  const has = !!(cam.settingsState && cam.setSettings);
  const run = async (name: string, parameters: string): Promise<string> => {
    const a = has ? findAction(name) : undefined;
    if (!a) throw new AlpacaError(ALPACA_ERRORS.actionNotImplemented, `action '${name}' is not supported${has ? ` (supported: ${CAMERA_ACTIONS.join(', ')})` : ''}`);
    return runAction(cam, a, parameters);
  };
  return {
    supportedactions: fixed(has ? [...CAMERA_ACTIONS] : []),
    action: { put: (p) => { const name = param(p, 'Action'); const parameters = param(p, 'Parameters'); return () => run(name, parameters); } },
  };
}

/** Binning and subframe (as ASCOM keeps them: set one by one, checked at StartExposure) and the exposure start. */
export function frameMembers(cam: Camera, info: SensorInfo, onStart: (duration: number) => void): Members {
  let bin = { x: 1, y: 1 };
  let sub = { x: 0, y: 0, w: info.width, h: info.height };
  const full = (): { fw: number; fh: number } => ({ fw: Math.floor(info.width / bin.x), fh: Math.floor(info.height / bin.y) });
  const applySub = async (): Promise<void> => {
    const { fw, fh } = full();
    if (sub.x + sub.w > fw || sub.y + sub.h > fh) return; // checked at StartExposure
    await cam.setSubframe(sub.x === 0 && sub.y === 0 && sub.w === fw && sub.h === fh ? null : { x: sub.x, y: sub.y, width: sub.w, height: sub.h });
  };
  const binMember = (axis: 'x' | 'y'): Member => ({
    get: () => bin[axis],
    put: (p) => {
      const v = int(p, axis === 'x' ? 'BinX' : 'BinY');
      return async () => {
        const max = axis === 'x' ? info.maxBinX : info.maxBinY;
        if (!(v >= 1 && v <= max)) invalid(`Bin${axis.toUpperCase()} must be 1..${max}, got ${v}`);
        bin = { ...bin, [axis]: v };
        await cam.setBinning(bin.x, bin.y);
      };
    },
  });
  /** A subframe member: its value, and a PUT that sets it (at least `min`). */
  const subMember = (name: string, key: 'x' | 'y' | 'w' | 'h', min: number): Member => ({
    get: () => sub[key],
    put: (p) => {
      const v = int(p, name);
      return async () => {
        if (v < min) invalid(`${name} must be >= ${min}, got ${v}`);
        sub = { ...sub, [key]: v };
        await applySub();
      };
    },
  });
  const startExposure = async (duration: number, light: boolean): Promise<void> => {
    const { fw, fh } = full();
    if (sub.x + sub.w > fw || sub.y + sub.h > fh) invalid(`subframe ${sub.x},${sub.y} ${sub.w}x${sub.h} outside the ${fw}x${fh} binned frame`);
    await applySub();
    await cam.startExposure({ type: light ? 'light' : duration === 0 ? 'bias' : 'dark', duration });
    onStart(duration);
  };
  return {
    binx: binMember('x'),
    biny: binMember('y'),
    numx: subMember('NumX', 'w', 1),
    numy: subMember('NumY', 'h', 1),
    startx: subMember('StartX', 'x', 0),
    starty: subMember('StartY', 'y', 0),
    startexposure: { put: (p) => { const d = num(p, 'Duration'); const l = bool(p, 'Light'); return () => startExposure(d, l); } },
  };
}

/** State of the exposure, the image, and the last exposure's start and duration. */
export function exposureMembers(cam: Camera, readyImage: () => Promise<Image>, last: () => { start: number; duration: number } | null): Members {
  const done = (): { start: number; duration: number } => last() ?? notSet('no exposure has been taken');
  const image: Member = { get: async () => imageArrayValue(await readyImage()) };
  return {
    camerastate: { get: async () => CAMERA_STATES.indexOf((await cam.state()) as CameraState) },
    imageready: { get: () => cam.imageReady() },
    imagearray: image,
    imagearrayvariant: image,
    lastexposureduration: { get: () => done().duration },
    lastexposurestarttime: { get: () => new Date(done().start).toISOString().slice(0, 19) },
    percentcompleted: { get: () => (cam.percentCompleted ? cam.percentCompleted() : notImplemented('PercentCompleted')) },
    abortexposure: { put: () => () => cam.abortExposure() },
    stopexposure: { put: () => () => notImplemented('StopExposure', ' (CanStopExposure is false)') },
  };
}

function notSet(message: string): never {
  throw new AlpacaError(ALPACA_ERRORS.valueNotSet, message);
}

export function wheelMembers(wheel: FilterWheel): Members {
  return {
    names: { get: () => wheel.names() },
    focusoffsets: { get: async () => (wheel.focusOffsets ? wheel.focusOffsets() : (await wheel.names()).map(() => 0)) },
    position: { get: () => wheel.position(), put: (p) => { const slot = int(p, 'Position'); return () => started(wheel.move(slot)); } },
  };
}

export function telescopeMembers(t: GuideOutput): Members {
  const pulse = (dir: number, ms: number): Promise<void> => {
    if (!(dir >= 0 && dir <= 3)) invalid(`Direction must be 0..3 (N, S, E, W), got ${dir}`);
    return started(t.pulseGuide(GUIDE_DIRECTIONS[dir]!, ms));
  };
  return {
    canpulseguide: fixed(true),
    ispulseguiding: { get: () => t.isPulseGuiding() },
    pulseguide: { put: (p) => { const dir = int(p, 'Direction'); const ms = int(p, 'Duration'); return () => pulse(dir, ms); } },
  };
}

/** An absolute focuser without temperature compensation; Temperature when the focuser has a sensor. */
export function focuserMembers(f: Focuser): Members {
  const move = async (position: number): Promise<void> => {
    if (await f.isMoving()) throw new DeviceError('invalid-operation', 'the focuser is already moving');
    await started(f.move(position));
  };
  const temperature = async (): Promise<number> => (await f.temperature?.()) ?? notImplemented('Temperature', ' (the focuser has no temperature sensor)');
  return {
    absolute: fixed(true),
    ismoving: { get: () => f.isMoving() },
    maxincrement: { get: () => f.maxStep() },
    maxstep: { get: () => f.maxStep() },
    position: { get: () => f.position() },
    stepsize: { get: () => notImplemented('StepSize') },
    tempcomp: { get: () => false, put: (p) => { const on = bool(p, 'TempComp'); return () => { if (on) notImplemented('TempComp', ' (TempCompAvailable is false)'); }; } },
    tempcompavailable: fixed(false),
    temperature: { get: temperature },
    halt: { put: () => () => notImplemented('Halt') },
    move: { put: (p) => { const pos = int(p, 'Position'); return () => move(pos); } },
  };
}

/** ImageArray as JSON: columns of Int32 (Alpaca's [x][y] order). */
function imageArrayValue(img: Image): unknown {
  const cols: number[][] = [];
  const d = img.data[0]!;
  for (let x = 0; x < img.width; x++) {
    const c = new Array<number>(img.height);
    for (let y = 0; y < img.height; y++) c[y] = d[y * img.width + x]!;
    cols.push(c);
  }
  return { __image: true, Type: ELEMENT_TYPE.int32, Rank: 2, Value: cols };
}
