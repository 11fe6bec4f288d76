/**
 * An ASCOM Alpaca device server (Device API v1, Management API, UDP discovery) on node:http, serving
 * any Camera, FilterWheel and GuideOutput (as a telescope that accepts pulse-guide commands) through
 * the device interfaces; `darkroom alpaca-sim` serves the simulated ones.
 * Every request answers; bad input gives ErrorNumber 0x401 (invalid value) with a message, unknown
 * members 0x400 (not implemented); malformed transaction ids HTTP 400; unknown devices HTTP 404.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createSocket, type Socket } from 'node:dgram';
import type { AddressInfo } from 'node:net';
import { VERSION } from '../../version.js';
import { isDarkroomError } from '../../util/errors.js';
import { DeviceError } from '../errors.js';
import { GUIDE_DIRECTIONS, realClock, type Camera, type CameraState, type Clock, type CoolerStatus, type FilterWheel, type GuideOutput, type SensorInfo } from '../types.js';
import type { Image } from '../../image/image.js';
import {
  ALPACA_ERRORS,
  CAMERA_STATES,
  DISCOVERY_MESSAGE,
  DISCOVERY_PORT,
  ELEMENT_TYPE,
  IMAGEBYTES_MIME,
  encodeImageBytes,
  encodeImageBytesError,
} from './protocol.js';

/** An Alpaca error to return in the JSON body (HTTP 200). */
export class AlpacaError extends Error {
  constructor(readonly number: number, message: string) {
    super(message);
  }
}

type Params = Map<string, string>;
interface Member {
  get?: (p: Params) => unknown | Promise<unknown>;
  put?: (p: Params) => unknown | Promise<unknown>;
}
interface DeviceEntry {
  type: string;
  number: number;
  name: string;
  uniqueId: string;
  connected: boolean;
  members: Record<string, Member>;
}

/** What the server calls itself and the devices that do not name themselves. */
export interface AlpacaNames {
  server: string;
  /** In each device's Description, after its name. */
  driver: string;
  wheel: string;
  telescope: string;
}

const DEFAULT_NAMES: AlpacaNames = { server: 'Darkroom Alpaca server', driver: 'Darkroom', wheel: 'Filter wheel', telescope: 'Guide port' };

export interface AlpacaServerOptions {
  camera: Camera;
  /** Served as filterwheel/0 (default: the camera's own wheel, when it has one). */
  wheel?: FilterWheel;
  /** Served as telescope/0, for pulse guiding, when given. */
  telescope?: GuideOutput;
  /** The clock the devices run on (LastExposureStartTime); default the wall clock. */
  clock?: Clock;
  names?: Partial<AlpacaNames>;
  /** Port of the UDP discovery responder (default 32227; 0 = any free port; null = no discovery). */
  discoveryPort?: number | null;
}

/**
 * Start an operation that Alpaca runs in the background (filter moves, guide pulses): resolves as soon
 * as it has started; an error raised when it starts (a bad value) rejects, later ones are dropped.
 */
async function started(op: Promise<unknown>): Promise<void> {
  await Promise.race([op, Promise.resolve()]);
}

function param(p: Params, name: string): string {
  const v = p.get(name.toLowerCase());
  if (v === undefined) throw new AlpacaError(ALPACA_ERRORS.invalidValue, `missing parameter ${name}`);
  return v;
}
function num(p: Params, name: string): number {
  const s = param(p, name).trim();
  const v = Number(s);
  if (s === '' || !Number.isFinite(v)) throw new AlpacaError(ALPACA_ERRORS.invalidValue, `${name} must be a number, got '${s}'`);
  return v;
}
function int(p: Params, name: string): number {
  const v = num(p, name);
  if (!Number.isInteger(v)) throw new AlpacaError(ALPACA_ERRORS.invalidValue, `${name} must be an integer, got ${v}`);
  return v;
}
function bool(p: Params, name: string): boolean {
  const s = param(p, name).trim().toLowerCase();
  if (s === 'true') return true;
  if (s === 'false') return false;
  throw new AlpacaError(ALPACA_ERRORS.invalidValue, `${name} must be True or False, got '${s}'`);
}

export class AlpacaServer<O extends AlpacaServerOptions = AlpacaServerOptions> {
  readonly camera: O['camera'];
  readonly wheel: FilterWheel | undefined;
  readonly telescope: O['telescope'];
  private readonly clock: Clock;
  private readonly names: AlpacaNames;
  private http?: Server;
  private udp?: Socket;
  private serverTx = 0;
  private devices: DeviceEntry[] = [];
  private readonly discoveryPortOpt: number | null;
  port = 0;
  discoveryPort = 0;
  private lastExposure: { start: number; duration: number } | null = null;
  private readonly uid = 'darkroom-' + Math.floor(Math.random() * 1e9).toString(16);

  constructor(opts: O) {
    this.camera = opts.camera;
    this.wheel = opts.wheel ?? opts.camera.wheel;
    this.telescope = opts.telescope;
    this.clock = opts.clock ?? realClock;
    this.names = { ...DEFAULT_NAMES, ...opts.names };
    this.discoveryPortOpt = opts.discoveryPort === undefined ? DISCOVERY_PORT : opts.discoveryPort;
  }

  async start(port = 11111, host = '127.0.0.1'): Promise<number> {
    await this.camera.connect();
    const info = await this.camera.sensorInfo();
    this.devices = [this.cameraDevice(info)];
    if (this.wheel) this.devices.push(this.wheelDevice(this.wheel));
    if (this.telescope) this.devices.push(this.telescopeDevice(this.telescope));
    const srv = createServer((req, res) => {
      this.handle(req, res).catch((e) => {
        // never crash: internal failures answer 500 with the message
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(`internal error: ${(e as Error).message}`);
      });
    });
    this.http = srv;
    await new Promise<void>((resolve, reject) => {
      srv.once('error', reject);
      srv.listen(port, host, () => resolve());
    });
    this.port = (srv.address() as AddressInfo).port;
    if (this.discoveryPortOpt !== null) {
      const udp = createSocket({ type: 'udp4', reuseAddr: true });
      this.udp = udp;
      udp.on('message', (msg, rinfo) => {
        if (msg.toString('ascii').startsWith(DISCOVERY_MESSAGE)) {
          udp.send(JSON.stringify({ AlpacaPort: this.port }), rinfo.port, rinfo.address);
        }
      });
      udp.on('error', () => undefined);
      await new Promise<void>((resolve, reject) => {
        udp.once('error', reject);
        udp.bind(this.discoveryPortOpt!, host === '127.0.0.1' || host === 'localhost' ? '127.0.0.1' : undefined, () => resolve());
      });
      this.discoveryPort = udp.address().port;
    }
    return this.port;
  }

  async close(): Promise<void> {
    this.udp?.close();
    const srv = this.http;
    if (srv) {
      srv.closeAllConnections();
      await new Promise<void>((r) => srv.close(() => r()));
    }
  }

  // ---- request handling ------------------------------------------------------------------
  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const method = req.method ?? 'GET';
    const params: Params = new Map();
    for (const [k, v] of url.searchParams) params.set(k.toLowerCase(), v);
    if (method === 'PUT') {
      const body = await readBody(req);
      for (const [k, v] of new URLSearchParams(body)) params.set(k.toLowerCase(), v);
    }
    const path = url.pathname.replace(/\/+$/, '').toLowerCase();
    const clientTxRaw = params.get('clienttransactionid');
    const clientIdRaw = params.get('clientid');
    for (const [n, v] of [['ClientTransactionID', clientTxRaw], ['ClientID', clientIdRaw]] as const) {
      if (v !== undefined && !/^\d+$/.test(v.trim())) return sendText(res, 400, `${n} must be an unsigned integer, got '${v}'`);
    }
    const clientTx = clientTxRaw ? Number(clientTxRaw) >>> 0 : 0;
    const serverTx = ++this.serverTx;
    const reply = (value: unknown, err?: AlpacaError): void => {
      const body: Record<string, unknown> = { ClientTransactionID: clientTx, ServerTransactionID: serverTx, ErrorNumber: err ? err.number : 0, ErrorMessage: err ? err.message : '' };
      if (value !== undefined && !err) body.Value = value;
      sendJson(res, 200, body);
    };

    if (path === '/management/apiversions') return reply([1]);
    if (path === '/management/v1/description') {
      return reply({ ServerName: this.names.server, Manufacturer: 'Darkroom', ManufacturerVersion: VERSION, Location: 'localhost' });
    }
    if (path === '/management/v1/configureddevices') {
      return reply(this.devices.map((d) => ({ DeviceName: d.name, DeviceType: capital(d.type), DeviceNumber: d.number, UniqueID: d.uniqueId })));
    }
    const m = /^\/api\/v1\/([a-z]+)\/(\d+)\/([a-z]+)$/.exec(path);
    if (!m) return sendText(res, 404, `unknown path ${url.pathname}`);
    const [, type, nStr, member] = m as unknown as [string, string, string, string];
    const dev = this.devices.find((d) => d.type === type && d.number === Number(nStr));
    if (!dev) return sendText(res, 404, `no ${type} device number ${nStr}`);
    if (method !== 'GET' && method !== 'PUT') return sendText(res, 405, `method ${method} not allowed`);

    const wantsBytes = member === 'imagearray' && method === 'GET' && (req.headers.accept ?? '').toLowerCase().includes(IMAGEBYTES_MIME);
    try {
      const mem = dev.members[member] ?? COMMON_NOT_IMPL;
      const fn = method === 'GET' ? mem.get : mem.put;
      if (!fn) {
        if (!dev.members[member]) throw new AlpacaError(ALPACA_ERRORS.notImplemented, `${type} member '${member}' is not implemented`);
        throw new AlpacaError(ALPACA_ERRORS.notImplemented, `${method} ${member} is not implemented`);
      }
      const needsConnection = !['connected', 'name', 'description', 'driverinfo', 'driverversion', 'interfaceversion', 'supportedactions'].includes(member);
      if (needsConnection && !dev.connected) throw new AlpacaError(ALPACA_ERRORS.notConnected, `${dev.name} is not connected`);
      if (wantsBytes) {
        const img = await this.readyImage();
        res.writeHead(200, { 'content-type': IMAGEBYTES_MIME });
        res.end(encodeImageBytes(img.data[0]!, img.width, img.height, clientTx, serverTx));
        return;
      }
      reply(await fn(params));
    } catch (e) {
      const err = toAlpacaError(e);
      if (wantsBytes) {
        res.writeHead(200, { 'content-type': IMAGEBYTES_MIME });
        res.end(encodeImageBytesError(err.number, err.message, clientTx, serverTx));
        return;
      }
      reply(undefined, err);
    }
  }

  // ---- devices ----------------------------------------------------------------------------
  private common(d: Omit<DeviceEntry, 'members'>, iface: number, members: Record<string, Member>): DeviceEntry {
    const entry: DeviceEntry = { ...d, members: {} };
    entry.members = {
      connected: { get: () => entry.connected, put: (p) => { entry.connected = bool(p, 'Connected'); } },
      connecting: { get: () => false },
      connect: { put: () => { entry.connected = true; } },
      disconnect: { put: () => { entry.connected = false; } },
      name: { get: () => d.name },
      description: { get: () => `${d.name} (${this.names.driver})` },
      driverinfo: { get: () => this.names.server },
      driverversion: { get: () => VERSION },
      interfaceversion: { get: () => iface },
      supportedactions: { get: () => [] },
      action: { put: () => { throw new AlpacaError(ALPACA_ERRORS.actionNotImplemented, 'no actions are supported'); } },
      ...members,
    };
    return entry;
  }

  /** The last exposure's image; an invalid operation while none is ready. */
  private async readyImage(): Promise<Image> {
    if (!(await this.camera.imageReady())) throw new DeviceError('invalid-operation', 'no image is ready');
    return this.camera.download();
  }

  private cameraDevice(info: SensorInfo): DeviceEntry {
    const entry = { type: 'camera', number: 0, name: info.name, uniqueId: `${this.uid}-camera-0`, connected: false };
    return this.common(entry, 3, { ...cameraInfoMembers(this.camera, info), ...this.frameMembers(info), ...this.exposureMembers() });
  }

  /** Binning and subframe (as ASCOM keeps them: set one by one, checked at StartExposure) and the exposure itself. */
  private frameMembers(info: SensorInfo): Record<string, Member> {
    const cam = this.camera;
    let bin = { x: 1, y: 1 };
    let sub = { x: 0, y: 0, w: info.width, h: info.height };
    const full = (): { fw: number; fh: number } => ({ fw: Math.floor(info.width / bin.x), fh: Math.floor(info.height / bin.y) });
    const applySub = async (): Promise<void> => {
      const { fw, fh } = full();
      if (sub.x + sub.w > fw || sub.y + sub.h > fh) return; // checked at StartExposure
      await cam.setSubframe(sub.x === 0 && sub.y === 0 && sub.w === fw && sub.h === fh ? null : { x: sub.x, y: sub.y, width: sub.w, height: sub.h });
    };
    const setBin = async (axis: 'x' | 'y', v: number): Promise<void> => {
      const max = axis === 'x' ? info.maxBinX : info.maxBinY;
      if (!(v >= 1 && v <= max)) throw new AlpacaError(ALPACA_ERRORS.invalidValue, `Bin${axis.toUpperCase()} must be 1..${max}, got ${v}`);
      bin = { ...bin, [axis]: v };
      await cam.setBinning(bin.x, bin.y);
    };
    /** A subframe member: its value, and a PUT that sets it (at least `min`). */
    const subMember = (name: string, key: 'x' | 'y' | 'w' | 'h', min: number): Member => ({
      get: () => sub[key],
      put: async (p) => {
        const v = int(p, name);
        if (v < min) throw new AlpacaError(ALPACA_ERRORS.invalidValue, `${name} must be >= ${min}, got ${v}`);
        sub = { ...sub, [key]: v };
        await applySub();
      },
    });
    return {
      binx: { get: () => bin.x, put: (p) => setBin('x', int(p, 'BinX')) },
      biny: { get: () => bin.y, put: (p) => setBin('y', int(p, 'BinY')) },
      numx: subMember('NumX', 'w', 1),
      numy: subMember('NumY', 'h', 1),
      startx: subMember('StartX', 'x', 0),
      starty: subMember('StartY', 'y', 0),
      startexposure: {
        put: async (p) => {
          const duration = num(p, 'Duration');
          const light = bool(p, 'Light');
          const { fw, fh } = full();
          if (sub.x + sub.w > fw || sub.y + sub.h > fh) {
            throw new AlpacaError(ALPACA_ERRORS.invalidValue, `subframe ${sub.x},${sub.y} ${sub.w}x${sub.h} outside the ${fw}x${fh} binned frame`);
          }
          await applySub();
          const type = light ? 'light' : duration === 0 ? 'bias' : 'dark';
          await cam.startExposure({ type, duration });
          this.lastExposure = { start: this.clock.now(), duration };
        },
      },
    };
  }

  /** State of the exposure, the image, and the last exposure's start and duration. */
  private exposureMembers(): Record<string, Member> {
    const cam = this.camera;
    const last = (): { start: number; duration: number } => {
      if (!this.lastExposure) throw new AlpacaError(ALPACA_ERRORS.valueNotSet, 'no exposure has been taken');
      return this.lastExposure;
    };
    return {
      camerastate: { get: async () => CAMERA_STATES.indexOf((await cam.state()) as CameraState) },
      imageready: { get: () => cam.imageReady() },
      imagearray: { get: async () => imageArrayValue(await this.readyImage()) },
      lastexposureduration: { get: () => last().duration },
      lastexposurestarttime: { get: () => new Date(last().start).toISOString().slice(0, 19) },
      percentcompleted: { get: () => (cam.percentCompleted ? cam.percentCompleted() : notImplemented('PercentCompleted')) },
      abortexposure: { put: () => cam.abortExposure() },
      stopexposure: { put: () => notImplemented('StopExposure', ' (CanStopExposure is false)') },
    };
  }

  private wheelDevice(wheel: FilterWheel): DeviceEntry {
    return this.common({ type: 'filterwheel', number: 0, name: this.names.wheel, uniqueId: `${this.uid}-filterwheel-0`, connected: false }, 2, {
      names: { get: () => wheel.names() },
      focusoffsets: { get: async () => (await wheel.names()).map(() => 0) },
      position: { get: () => wheel.position(), put: (p) => started(wheel.move(int(p, 'Position'))) },
    });
  }

  private telescopeDevice(t: GuideOutput): DeviceEntry {
    return this.common({ type: 'telescope', number: 0, name: this.names.telescope, uniqueId: `${this.uid}-telescope-0`, connected: false }, 3, {
      canpulseguide: { get: () => true },
      ispulseguiding: { get: () => t.isPulseGuiding() },
      pulseguide: {
        put: (p) => {
          const dir = int(p, 'Direction');
          if (!(dir >= 0 && dir <= 3)) throw new AlpacaError(ALPACA_ERRORS.invalidValue, `Direction must be 0..3 (N, S, E, W), got ${dir}`);
          return started(t.pulseGuide(GUIDE_DIRECTIONS[dir]!, int(p, 'Duration')));
        },
      },
    });
  }
}

function notImplemented(member: string, why = ''): never {
  throw new AlpacaError(ALPACA_ERRORS.notImplemented, `${member} is not supported${why}`);
}

/** What the camera is (sizes, capabilities) and its settings: cooler, gain, offset, readout mode. */
function cameraInfoMembers(cam: Camera, s: SensorInfo): Record<string, Member> {
  const cooler = (): Promise<CoolerStatus> => cam.coolerStatus();
  const fixed = (v: unknown): Member => ({ get: () => v });
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
    cooleron: { get: async () => (await cooler()).on, put: (p) => cam.setCooler(bool(p, 'CoolerOn')) },
    coolerpower: { get: async () => (await cooler()).power },
    electronsperadu: fixed(s.electronsPerAdu),
    exposuremax: fixed(14400),
    exposuremin: fixed(0),
    exposureresolution: fixed(0.01),
    fullwellcapacity: fixed(s.fullWell),
    gain: { get: () => (cam.getGain ? cam.getGain() : notImplemented('Gain')), put: (p) => cam.setGain(int(p, 'Gain')) },
    gains: { get: () => s.gainModes ?? notImplemented('Gains') },
    offset: { get: () => (cam.getOffset ? cam.getOffset() : notImplemented('Offset')), put: (p) => cam.setOffset(int(p, 'Offset')) },
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
    readoutmode: { get: () => 0, put: (p) => { if (int(p, 'ReadoutMode') !== 0) throw new AlpacaError(ALPACA_ERRORS.invalidValue, 'ReadoutMode must be 0'); } },
    readoutmodes: fixed(['Normal']),
    sensorname: fixed(s.sensorName ?? s.name),
    sensortype: fixed(s.bayer ? 2 : 0),
    setccdtemperature: { get: async () => (await cooler()).setpoint, put: (p) => cam.setSetpoint(num(p, 'SetCCDTemperature')) },
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

const COMMON_NOT_IMPL: Member = {};

function capital(t: string): string {
  return t === 'filterwheel' ? 'FilterWheel' : t[0]!.toUpperCase() + t.slice(1);
}

function toAlpacaError(e: unknown): AlpacaError {
  if (e instanceof AlpacaError) return e;
  if (e instanceof DeviceError) {
    const n = e.kindOf === 'invalid-value' ? ALPACA_ERRORS.invalidValue : e.kindOf === 'not-implemented' ? ALPACA_ERRORS.notImplemented : e.kindOf === 'not-connected' ? ALPACA_ERRORS.notConnected : ALPACA_ERRORS.invalidOperation;
    return new AlpacaError(n, e.message);
  }
  if (isDarkroomError(e)) return new AlpacaError(e.code === 'BAD_ARGUMENT' ? ALPACA_ERRORS.invalidValue : ALPACA_ERRORS.driverError, e.message);
  return new AlpacaError(ALPACA_ERRORS.driverError, `driver error: ${(e as Error)?.message ?? String(e)}`);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > 1 << 20) {
        reject(new Error('request body too large'));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function sendJson(res: ServerResponse, status: number, body: Record<string, unknown>): void {
  // image arrays: lift Type/Rank next to Value (Alpaca ImageArray JSON response)
  const v = body.Value as { __image?: boolean; Type: number; Rank: number; Value: unknown } | undefined;
  if (v && typeof v === 'object' && v.__image) body = { Type: v.Type, Rank: v.Rank, Value: v.Value, ...Object.fromEntries(Object.entries(body).filter(([k]) => k !== 'Value')) };
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(body));
}

function sendText(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
  res.end(text);
}
