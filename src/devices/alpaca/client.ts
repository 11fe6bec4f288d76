/**
 * ASCOM Alpaca client: Camera, FilterWheel and GuideOutput over the Alpaca Device API v1, with
 * ErrorNumber handling, ImageBytes (JSON fallback) image transfer and UDP discovery.
 */
import { createSocket } from 'node:dgram';
import { DarkroomError } from '../../util/errors.js';
import { createImage, type Image } from '../../image/image.js';
import { applyFrameHeader } from '../frame-header.js';
import {
  GUIDE_DIRECTIONS,
  type Camera,
  type CameraState,
  type CoolerStatus,
  type ExposureRequest,
  type FilterWheel,
  type Focuser,
  type GuideDirection,
  type GuideOutput,
  type SensorInfo,
  type Subframe,
  type CameraCapabilities,
  type CameraCondition,
  type CameraSettings,
  type CameraSettingsState,
  type DownloadProgress,
} from '../types.js';
import { GAIN_MODES } from '../camera-settings.js';
import { ACTION_KEYS, CAMERA_ACTIONS, actionValue, readoutIndex, readoutOfIndex } from './actions.js';
import { ALPACA_ERRORS, CAMERA_STATES, DISCOVERY_MESSAGE, DISCOVERY_PORT, IMAGEBYTES_MIME, decodeImageBytes, parseImageBytesHeader } from './protocol.js';
import { readBody } from './transfer.js';

/** An Alpaca device reported an error (ErrorNumber != 0). */
export class AlpacaDeviceError extends DarkroomError {
  constructor(readonly errorNumber: number, message: string, file?: string) {
    super(errorNumber === ALPACA_ERRORS.invalidValue ? 'BAD_ARGUMENT' : errorNumber === ALPACA_ERRORS.notImplemented ? 'UNSUPPORTED' : 'IO', message, file);
  }
}

let nextTx = 1;
const CLIENT_ID = (process.pid & 0xffff) + 1;

export interface AlpacaTarget {
  host: string;
  port: number;
  type: 'camera' | 'filterwheel' | 'telescope' | 'focuser' | 'safetymonitor';
  number: number;
  timeoutMs?: number;
}

/** Low-level access to one Alpaca device. */
export class AlpacaDevice {
  readonly base: string;
  readonly label: string;
  constructor(readonly target: AlpacaTarget) {
    this.base = `http://${target.host}:${target.port}/api/v1/${target.type}/${target.number}`;
    this.label = `alpaca://${target.host}:${target.port}/${target.type}/${target.number}`;
  }

  private async request(method: 'GET' | 'PUT', member: string, params: Record<string, string | number | boolean> = {}, accept?: string, signal?: () => AbortSignal): Promise<Response> {
    const form = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) form.set(k, typeof v === 'boolean' ? (v ? 'True' : 'False') : String(v));
    form.set('ClientID', String(CLIENT_ID));
    form.set('ClientTransactionID', String(nextTx++ >>> 0));
    const url = method === 'GET' ? `${this.base}/${member}?${form}` : `${this.base}/${member}`;
    const init: RequestInit = {
      method,
      headers: { ...(accept ? { accept } : {}), ...(method === 'PUT' ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
      body: method === 'PUT' ? form.toString() : undefined,
    };
    try {
      return await this.send(url, init, signal?.());
    } catch (e) {
      // a kept-alive socket the server closed while this process was busy fails the next request
      // on it: a GET changes nothing on the device, so it is sent once more on a fresh connection
      if (method === 'GET' && isStaleSocket(e)) return this.send(url, init, signal?.()).catch((e2: unknown) => this.unreachable(e2));
      return this.unreachable(e);
    }
  }

  /** A request with the answer's timeout (or `signal`, which the caller aborts: an image's body may take longer). */
  private send(url: string, init: RequestInit, signal?: AbortSignal): Promise<Response> {
    return fetch(url, { ...init, signal: signal ?? AbortSignal.timeout(this.target.timeoutMs ?? 10_000) });
  }

  private unreachable(e: unknown): never {
    const err = e as Error & { cause?: { code?: string } };
    const why = err.name === 'TimeoutError' ? `no answer within ${this.target.timeoutMs ?? 10_000} ms` : err.cause?.code === 'ECONNREFUSED' ? 'connection refused' : (err.cause?.code ?? err.message);
    throw new DarkroomError('IO', `cannot reach Alpaca server at ${this.target.host}:${this.target.port} (${why})`, this.label);
  }

  private async json(res: Response, member: string, text?: () => Promise<string>): Promise<Record<string, unknown>> {
    if (res.status === 404) throw new DarkroomError('IO', `device not found on the server (${(await res.text()).trim()})`, this.label);
    if (res.status === 400) {
      // the Alpaca API answers 400 for an unknown device as for any request it cannot take
      const text = (await res.text()).trim();
      if (!(await this.listed())) throw new DarkroomError('IO', `device not found on the server (no ${this.target.type} device number ${this.target.number})`, this.label);
      throw new AlpacaDeviceError(-400, `${member}: the server refused the request (HTTP 400: ${text})`, this.label);
    }
    if (res.status !== 200) throw new AlpacaDeviceError(-res.status, `${member}: HTTP ${res.status}: ${(await res.text()).trim()}`, this.label);
    const body = JSON.parse(text ? await text() : await res.text()) as Record<string, unknown>;
    const n = Number(body.ErrorNumber ?? 0);
    if (n !== 0) throw new AlpacaDeviceError(n, `${member}: ${String(body.ErrorMessage ?? '')} (Alpaca error 0x${n.toString(16)})`, this.label);
    return body;
  }

  /** Whether the server's management API lists this device (true when it cannot tell). */
  private async listed(): Promise<boolean> {
    const url = `http://${this.target.host}:${this.target.port}/management/v1/configureddevices?ClientID=${CLIENT_ID}&ClientTransactionID=${nextTx++ >>> 0}`;
    try {
      const res = await this.send(url, { method: 'GET' });
      const list = ((await res.json()) as { Value?: { DeviceType?: string; DeviceNumber?: number }[] }).Value;
      if (!Array.isArray(list)) return true;
      return list.some((d) => String(d.DeviceType).toLowerCase() === this.target.type && d.DeviceNumber === this.target.number);
    } catch {
      return true;
    }
  }

  async get<T = unknown>(member: string, params: Record<string, string | number> = {}): Promise<T> {
    return (await this.json(await this.request('GET', member, params), member)).Value as T;
  }
  async put(member: string, params: Record<string, string | number | boolean> = {}): Promise<void> {
    await this.json(await this.request('PUT', member, params), member);
  }
  /** PUT Action: the action's text answer. */
  async action(name: string, parameters = ''): Promise<string> {
    return String((await this.json(await this.request('PUT', 'action', { Action: name, Parameters: parameters }), `action ${name}`)).Value ?? '');
  }

  /**
   * The ImageArray, row-major; through ImageBytes unless json is set (or the server answers JSON).
   * The body is read as a stream (transfer.ts), with progress to `onProgress`; the answer's timeout
   * covers the wait for the headers, then the body may take as long as its bytes keep coming.
   */
  async imageArray(json = false, onProgress?: (p: DownloadProgress) => void): Promise<{ width: number; height: number; data: Float32Array; via: 'imagebytes' | 'json' }> {
    const timeoutMs = this.target.timeoutMs ?? 10_000;
    let ctl = new AbortController();
    let headers: NodeJS.Timeout | undefined;
    const signal = (): AbortSignal => {
      clearTimeout(headers);
      ctl = new AbortController();
      const c = ctl;
      headers = setTimeout(() => c.abort(new DOMException(`no answer within ${timeoutMs} ms`, 'TimeoutError')), timeoutMs);
      return c.signal;
    };
    let res: Response;
    try {
      res = await this.request('GET', 'imagearray', {}, json ? 'application/json' : `${IMAGEBYTES_MIME}, application/json;q=0.5`, signal);
    } finally {
      clearTimeout(headers);
    }
    const type = res.headers.get('content-type') ?? '';
    const read = (imageBytes: boolean): Promise<Buffer> => readBody(res, { onProgress, imageBytes, idleMs: Math.max(timeoutMs, 30_000), abort: ctl, label: this.label });
    if (res.status === 200 && type.includes(IMAGEBYTES_MIME)) {
      const buf = await read(true);
      const h = parseImageBytesHeader(buf);
      if (h.errorNumber !== 0) {
        throw new AlpacaDeviceError(h.errorNumber, `imagearray: ${buf.subarray(h.dataStart).toString('utf8')} (Alpaca error 0x${h.errorNumber.toString(16)})`, this.label);
      }
      return { ...decodeImageBytes(buf, h), via: 'imagebytes' };
    }
    const body = await this.json(res, 'imagearray', res.status === 200 ? async () => (await read(false)).toString('utf8') : undefined);
    if (Number(body.Rank) !== 2) throw new AlpacaDeviceError(ALPACA_ERRORS.driverError, `imagearray rank ${String(body.Rank)} not supported`, this.label);
    const cols = body.Value as number[][];
    const width = cols.length;
    const height = width ? cols[0]!.length : 0;
    const data = new Float32Array(width * height);
    for (let x = 0; x < width; x++) {
      const c = cols[x]!;
      for (let y = 0; y < height; y++) data[y * width + x] = c[y]!;
    }
    return { width, height, data, via: 'json' };
  }
}

/** A request failed on a socket the server had closed (undici UND_ERR_SOCKET, a reset or broken pipe). */
function isStaleSocket(e: unknown): boolean {
  const code = (e as { cause?: { code?: string } })?.cause?.code;
  return code === 'UND_ERR_SOCKET' || code === 'ECONNRESET' || code === 'EPIPE';
}

export function parseAlpacaUrl(url: string, type: AlpacaTarget['type'] = 'camera'): AlpacaTarget {
  const m = /^alpaca:\/\/([^/:]+|\[[^\]]+\]):(\d+)(?:\/(\d+))?\/?$/.exec(url);
  if (!m) throw new DarkroomError('BAD_ARGUMENT', `bad Alpaca device '${url}' (expected alpaca://HOST:PORT/N)`);
  return { host: m[1]!, port: Number(m[2]), type, number: Number(m[3] ?? 0) };
}

/** One Alpaca device behind a device interface: the low-level access and the Connected switch. */
export abstract class AlpacaPart {
  readonly dev: AlpacaDevice;
  constructor(target: Omit<AlpacaTarget, 'type'>, type: AlpacaTarget['type']) {
    this.dev = new AlpacaDevice({ ...target, type });
  }
  async connect(): Promise<void> {
    await this.dev.put('connected', { Connected: true });
  }
  async disconnect(): Promise<void> {
    await this.dev.put('connected', { Connected: false });
  }
}

export class AlpacaCamera extends AlpacaPart implements Camera {
  readonly kind = 'camera' as const;
  private info?: SensorInfo;
  private last?: { req: ExposureRequest; start: Date; bx: number; by: number; sub: Subframe; setTemp?: number; filter?: string };
  /** Filter wheel queried for the FILTER keyword at exposure start. */
  wheel?: FilterWheel;
  /** Transfer images as JSON instead of ImageBytes. */
  json = false;
  lastTransfer?: 'imagebytes' | 'json';

  constructor(target: Omit<AlpacaTarget, 'type'>) {
    super(target, 'camera');
  }
  override async connect(): Promise<void> {
    await super.connect();
    this.info = undefined;
    this.missingActions = undefined;
  }
  async connected(): Promise<boolean> {
    return this.dev.get<boolean>('connected');
  }
  async sensorInfo(): Promise<SensorInfo> {
    if (this.info) return this.info;
    const g = <T>(m: string): Promise<T> => this.dev.get<T>(m);
    const opt = async <T>(m: string, dflt: T): Promise<T> => g<T>(m).catch(() => dflt);
    this.info = {
      width: await g<number>('cameraxsize'),
      height: await g<number>('cameraysize'),
      pixelSizeX: await g<number>('pixelsizex'),
      pixelSizeY: await g<number>('pixelsizey'),
      maxBinX: await g<number>('maxbinx'),
      maxBinY: await g<number>('maxbiny'),
      asymmetricBin: await g<boolean>('canasymmetricbin'),
      electronsPerAdu: await opt<number>('electronsperadu', NaN),
      fullWell: await opt<number>('fullwellcapacity', NaN),
      maxAdu: await g<number>('maxadu'),
      name: await g<string>('name'),
      hasShutter: await g<boolean>('hasshutter'),
      canSetCcdTemperature: await g<boolean>('cansetccdtemperature'),
    };
    return this.info;
  }
  async setBinning(bx: number, by: number): Promise<void> {
    const info = await this.sensorInfo();
    await this.dev.put('binx', { BinX: bx });
    await this.dev.put('biny', { BinY: by });
    await this.setFrame({ x: 0, y: 0, width: Math.floor(info.width / bx), height: Math.floor(info.height / by) });
  }
  async getBinning(): Promise<{ x: number; y: number }> {
    return { x: await this.dev.get<number>('binx'), y: await this.dev.get<number>('biny') };
  }
  private async setFrame(s: Subframe): Promise<void> {
    await this.dev.put('startx', { StartX: s.x });
    await this.dev.put('starty', { StartY: s.y });
    await this.dev.put('numx', { NumX: s.width });
    await this.dev.put('numy', { NumY: s.height });
  }
  async setSubframe(sub: Subframe | null): Promise<void> {
    if (sub) return this.setFrame(sub);
    const info = await this.sensorInfo();
    const b = await this.getBinning();
    await this.setFrame({ x: 0, y: 0, width: Math.floor(info.width / b.x), height: Math.floor(info.height / b.y) });
  }
  async getSubframe(): Promise<Subframe> {
    const g = (m: string): Promise<number> => this.dev.get<number>(m);
    return { x: await g('startx'), y: await g('starty'), width: await g('numx'), height: await g('numy') };
  }
  async setGain(gain: number): Promise<void> {
    await this.dev.put('gain', { Gain: gain });
  }
  async setOffset(offset: number): Promise<void> {
    await this.dev.put('offset', { Offset: offset });
  }
  async setCooler(on: boolean): Promise<void> {
    await this.dev.put('cooleron', { CoolerOn: on });
  }
  async setSetpoint(celsius: number): Promise<void> {
    await this.dev.put('setccdtemperature', { SetCCDTemperature: celsius });
  }
  async coolerStatus(): Promise<CoolerStatus> {
    const on = await this.dev.get<boolean>('cooleron');
    const setpoint = await this.dev.get<number>('setccdtemperature');
    const ccdTemp = await this.dev.get<number>('ccdtemperature');
    const power = await this.dev.get<number>('coolerpower').catch(() => NaN);
    const ambient = await this.dev.get<number>('heatsinktemperature').catch(() => NaN);
    return { on, setpoint, ccdTemp, power, ambient, locked: on && Math.abs(ccdTemp - setpoint) <= 0.1, poorRegulation: on && power > 85 };
  }
  async startExposure(req: ExposureRequest): Promise<void> {
    const info = await this.sensorInfo();
    const light = req.type === 'light' || req.type === 'flat';
    if (!light && !info.hasShutter && req.type !== 'bias') {
      // no shutter: the user must cover the telescope; we still take it
    }
    const b = await this.getBinning();
    const sub = await this.getSubframe();
    const st = await this.coolerStatus().catch(() => undefined);
    const filter = this.wheel ? await currentFilter(this.wheel).catch(() => undefined) : undefined;
    const start = new Date();
    await this.dev.put('startexposure', { Duration: req.type === 'bias' ? 0 : req.duration, Light: light });
    this.last = { req, start, bx: b.x, by: b.y, sub, setTemp: st?.on ? st.setpoint : undefined, filter };
  }
  async abortExposure(): Promise<void> {
    await this.dev.put('abortexposure');
  }
  // ---- vendor (QSI-style) settings: Gain, ReadoutMode and the actions of actions.ts -------------
  /** The vendor actions missing from the camera's SupportedActions (asked once per connection). */
  private missingActions?: string[];
  private async needActions(): Promise<void> {
    if (!this.missingActions) {
      const have = await this.dev.get<string[]>('supportedactions');
      this.missingActions = CAMERA_ACTIONS.filter((a) => !have.some((h) => h.toLowerCase() === a.toLowerCase()));
    }
    const missing = this.missingActions;
    if (missing.length) throw new DarkroomError('UNSUPPORTED', `the camera offers no QSI-style settings (SupportedActions lacks ${missing.join(', ')})`, this.dev.label);
  }
  async settingsState(): Promise<CameraSettingsState> {
    await this.needActions();
    const a = (n: string): Promise<string> => this.dev.action(n);
    const gain = GAIN_MODES[await this.dev.get<number>('gain')] ?? 'high';
    const settings: CameraSettings = {
      fanMode: (await a('FanMode')) as CameraSettings['fanMode'],
      gain,
      shutterPriority: (await a('ShutterPriority')) as CameraSettings['shutterPriority'],
      antiBlooming: (await a('AntiBlooming')) === 'True',
      preFlush: Number(await a('PreFlush')) as CameraSettings['preFlush'],
      readout: readoutOfIndex(await this.dev.get<number>('readoutmode')),
      led: (await a('LED')) === 'True',
      beeper: (await a('Beeper')) === 'True',
      pixelMask: (JSON.parse(await a('PixelMask')) as number[][]).map(([x, y]) => ({ x: x!, y: y! })),
    };
    const capabilities = JSON.parse(await a('Capabilities')) as CameraCapabilities;
    const conditions = JSON.parse(await a('ErrorStatus')) as CameraCondition[];
    return { settings, capabilities, conditions, fanOverride: conditions.some((c) => c.code === 'over-temperature') };
  }
  async setSettings(patch: Partial<CameraSettings>): Promise<CameraSettingsState> {
    await this.needActions();
    for (const [action, key] of Object.entries(ACTION_KEYS)) {
      if (patch[key] !== undefined) await this.dev.action(action, actionValue(key, { ...({} as CameraSettings), [key]: patch[key] } as CameraSettings));
    }
    if (patch.gain !== undefined) await this.dev.put('gain', { Gain: GAIN_MODES.indexOf(patch.gain) });
    if (patch.readout !== undefined) await this.dev.put('readoutmode', { ReadoutMode: readoutIndex(patch.readout) });
    return this.settingsState();
  }
  /** The camera's error conditions (none for a camera without the ErrorStatus action). */
  async conditions(): Promise<CameraCondition[]> {
    await this.needActions().catch(() => undefined);
    if (this.missingActions?.includes('ErrorStatus')) return [];
    return JSON.parse(await this.dev.action('ErrorStatus')) as CameraCondition[];
  }
  async state(): Promise<CameraState> {
    const n = await this.dev.get<number>('camerastate');
    return CAMERA_STATES[n] ?? 'error';
  }
  async imageReady(): Promise<boolean> {
    return this.dev.get<boolean>('imageready');
  }
  async download(timeoutMs = 60_000, onProgress?: (p: DownloadProgress) => void): Promise<Image> {
    const last = this.last;
    if (!last) throw new DarkroomError('IO', 'no exposure was started', this.dev.label);
    const deadline = last.start.getTime() + last.req.duration * 1000 + timeoutMs;
    // poll no faster than needed: wait out the exposure, then every 100..500 ms
    for (;;) {
      if (await this.imageReady()) break;
      const now = Date.now();
      if (now > deadline) throw new DarkroomError('IO', `image not ready within ${timeoutMs} ms after the exposure`, this.dev.label);
      const left = last.start.getTime() + last.req.duration * 1000 - now;
      await new Promise((r) => setTimeout(r, left > 500 ? Math.min(left, 2000) : Math.max(100, Math.min(500, left))));
    }
    const arr = await this.dev.imageArray(this.json, onProgress);
    this.lastTransfer = arr.via;
    const img = createImage(arr.width, arr.height, 1);
    img.data[0]!.set(arr.data);
    const info = await this.sensorInfo();
    const ccdTemp = await this.dev.get<number>('ccdtemperature').catch(() => undefined);
    const power = await this.dev.get<number>('coolerpower').catch(() => undefined);
    const gain = await this.dev.get<number>('gain').catch(() => undefined);
    const egain = await this.dev.get<number>('electronsperadu').catch(() => info.electronsPerAdu);
    const offset = await this.dev.get<number>('offset').catch(() => undefined);
    const startIso = await this.dev.get<string>('lastexposurestarttime').catch(() => undefined);
    const dateObs = startIso ? new Date(`${startIso.replace(/Z$/, '')}Z`) : last.start;
    applyFrameHeader(img.header, {
      type: last.req.type,
      exposure: last.req.type === 'bias' ? 0 : last.req.duration,
      dateObs: Number.isNaN(dateObs.getTime()) ? last.start : dateObs,
      ccdTemp,
      setTemp: last.setTemp,
      binX: last.bx,
      binY: last.by,
      pixelSizeX: info.pixelSizeX,
      pixelSizeY: info.pixelSizeY,
      instrument: info.name,
      egain: egain,
      gain,
      offset,
      filter: last.req.type === 'bias' || last.req.type === 'dark' ? undefined : last.filter,
      originX: last.sub.x,
      originY: last.sub.y,
      coolerPower: power,
    });
    return img;
  }
}

async function currentFilter(w: FilterWheel): Promise<string | undefined> {
  const p = await w.position();
  return p >= 0 ? (await w.names())[p] : undefined;
}

export class AlpacaFilterWheel extends AlpacaPart implements FilterWheel {
  readonly kind = 'filterwheel' as const;
  constructor(target: Omit<AlpacaTarget, 'type'>) {
    super(target, 'filterwheel');
  }
  async names(): Promise<string[]> {
    return this.dev.get<string[]>('names');
  }
  async position(): Promise<number> {
    return this.dev.get<number>('position');
  }
  /** FocusOffsets: the focuser offset of each slot, steps. */
  async focusOffsets(): Promise<number[]> {
    return this.dev.get<number[]>('focusoffsets');
  }
  async move(target: number | string, timeoutMs = 30_000): Promise<void> {
    let slot: number;
    if (typeof target === 'string') {
      const names = await this.names();
      slot = names.findIndex((n) => n.toLowerCase() === target.toLowerCase());
      if (slot < 0) throw new DarkroomError('BAD_ARGUMENT', `no filter named '${target}' (have: ${names.join(', ')})`, this.dev.label);
    } else slot = target;
    await this.dev.put('position', { Position: slot });
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const p = await this.position();
      if (p === slot) return;
      if (p !== -1 && p !== slot) throw new DarkroomError('IO', `filter wheel stopped at ${p}, not ${slot}`, this.dev.label);
      if (Date.now() > deadline) throw new DarkroomError('IO', `filter wheel did not arrive within ${timeoutMs} ms`, this.dev.label);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

export class AlpacaGuideOutput extends AlpacaPart implements GuideOutput {
  readonly kind = 'guide' as const;
  constructor(target: Omit<AlpacaTarget, 'type'>) {
    super(target, 'telescope');
  }
  async pulseGuide(direction: GuideDirection, ms: number): Promise<void> {
    const d = GUIDE_DIRECTIONS.indexOf(direction);
    if (d < 0) throw new DarkroomError('BAD_ARGUMENT', `unknown guide direction '${direction}'`, this.dev.label);
    await this.dev.put('pulseguide', { Direction: d, Duration: ms });
    const deadline = Date.now() + ms + 5000;
    await new Promise((r) => setTimeout(r, ms));
    while (await this.isPulseGuiding()) {
      if (Date.now() > deadline) throw new DarkroomError('IO', 'pulse guide did not end', this.dev.label);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  async isPulseGuiding(): Promise<boolean> {
    return this.dev.get<boolean>('ispulseguiding');
  }
}

/**
 * An Alpaca focuser. Absolute focusers move to a position (in steps of at most MaxIncrement);
 * relative ones only by a number of steps (moveBy). Moves run in the background on the device:
 * they are followed through IsMoving until they stop.
 */
export class AlpacaFocuser extends AlpacaPart implements Focuser {
  readonly kind = 'focuser' as const;
  constructor(target: Omit<AlpacaTarget, 'type'>) {
    super(target, 'focuser');
  }
  async position(): Promise<number> {
    return this.dev.get<number>('position');
  }
  async maxStep(): Promise<number> {
    return this.dev.get<number>('maxstep');
  }
  async isMoving(): Promise<boolean> {
    return this.dev.get<boolean>('ismoving');
  }
  async temperature(): Promise<number | undefined> {
    return this.dev.get<number>('temperature').catch((e: unknown) => {
      if (e instanceof AlpacaDeviceError && e.errorNumber === ALPACA_ERRORS.notImplemented) return undefined;
      throw e;
    });
  }
  async move(position: number, timeoutMs = 120_000): Promise<void> {
    if (!(await this.dev.get<boolean>('absolute'))) throw new DarkroomError('UNSUPPORTED', 'the focuser moves only by steps (Absolute is false)', this.dev.label);
    const deadline = Date.now() + timeoutMs;
    const inc = await this.dev.get<number>('maxincrement');
    for (let at = await this.position(); at !== position; at = await this.position()) {
      if (Date.now() > deadline) throw new DarkroomError('IO', `the focuser did not reach ${position} within ${timeoutMs} ms (at ${at})`, this.dev.label);
      const next = Math.abs(position - at) > inc && inc > 0 ? at + Math.sign(position - at) * inc : position;
      await this.dev.put('move', { Position: next });
      await this.stopped(deadline, timeoutMs);
      if (next === position) return;
    }
  }
  async moveBy(steps: number, timeoutMs = 120_000): Promise<void> {
    if (await this.dev.get<boolean>('absolute')) return this.move((await this.position()) + steps, timeoutMs);
    await this.dev.put('move', { Position: steps });
    await this.stopped(Date.now() + timeoutMs, timeoutMs);
  }
  /** Poll IsMoving (every 50 ms) until the move ends. */
  private async stopped(deadline: number, timeoutMs: number): Promise<void> {
    while (await this.isMoving()) {
      if (Date.now() > deadline) throw new DarkroomError('IO', `the focuser did not stop within ${timeoutMs} ms`, this.dev.label);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/** Alpaca UDP discovery: broadcast `alpacadiscovery1`, collect `{AlpacaPort}` answers. */
export async function discoverAlpaca(opts: { address?: string; port?: number; timeoutMs?: number } = {}): Promise<{ host: string; port: number }[]> {
  const sock = createSocket({ type: 'udp4', reuseAddr: true });
  const found = new Map<string, { host: string; port: number }>();
  sock.on('message', (msg, rinfo) => {
    try {
      const j = JSON.parse(msg.toString('utf8')) as { AlpacaPort?: number };
      if (typeof j.AlpacaPort === 'number') found.set(`${rinfo.address}:${j.AlpacaPort}`, { host: rinfo.address, port: j.AlpacaPort });
    } catch {
      /* not an Alpaca answer */
    }
  });
  await new Promise<void>((r) => sock.bind(0, () => r()));
  const address = opts.address ?? '255.255.255.255';
  if (address === '255.255.255.255') sock.setBroadcast(true);
  sock.send(DISCOVERY_MESSAGE, opts.port ?? DISCOVERY_PORT, address);
  await new Promise((r) => setTimeout(r, opts.timeoutMs ?? 1000));
  sock.close();
  return [...found.values()];
}
