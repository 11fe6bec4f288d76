/**
 * An ASCOM Alpaca device server (Device API v1, Management API, UDP discovery) on node:http, serving
 * any Camera, FilterWheel, Focuser and GuideOutput (as a telescope that accepts pulse-guide commands),
 * a goto mount (the same telescope: slews, syncs, pier side, park; mount-members.ts) and a
 * SafetyMonitor through the device interfaces; `darkroom alpaca-sim` serves the simulated ones.
 * As the ASCOM Alpaca API Reference says: a request the server cannot understand (a path not exactly
 * in lower case, an unknown device type, number or member, a verb the member does not take, a
 * missing or unparseable parameter or ClientID / ClientTransactionID) is answered HTTP 400 with a
 * plain-text message; anything understood is answered HTTP 200 with the JSON body, errors in
 * ErrorNumber / ErrorMessage (0x400 not implemented, 0x401 invalid value, ...).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createSocket, type Socket } from 'node:dgram';
import type { AddressInfo } from 'node:net';
import { VERSION } from '../../version.js';
import { isDarkroomError } from '../../util/errors.js';
import { DeviceError } from '../errors.js';
import { realClock, type Camera, type Clock, type FilterWheel, type Focuser, type GotoTelescope, type GuideOutput, type SensorInfo } from '../types.js';
import type { Image } from '../../image/image.js';
import { ALPACA_ERRORS, DISCOVERY_MESSAGE, DISCOVERY_PORT, IMAGEBYTES_MIME, encodeImageBytes, encodeImageBytesError } from './protocol.js';
import { ALPACA_DEVICE_TYPES, memberVerbs } from './interfaces.js';
import { AlpacaRequestError, Params, bool, devicePath, transactionIds } from './request.js';
import { AlpacaError, cameraActionMembers, cameraInfoMembers, exposureMembers, focuserMembers, frameMembers, telescopeMembers, wheelMembers, type Member, type Members } from './members.js';
import { gotoMembers, safetyMembers, type ServedSafetyMonitor } from './mount-members.js';

export { AlpacaError };

interface DeviceEntry {
  type: string;
  number: number;
  name: string;
  uniqueId: string;
  connected: boolean;
  members: Members;
}

/** What the server calls itself and the devices that do not name themselves. */
export interface AlpacaNames {
  server: string;
  /** In each device's Description, after its name. */
  driver: string;
  wheel: string;
  telescope: string;
  focuser: string;
  safety: string;
}

const DEFAULT_NAMES: AlpacaNames = { server: 'Darkroom Alpaca server', driver: 'Darkroom', wheel: 'Filter wheel', telescope: 'Guide port', focuser: 'Focuser', safety: 'Safety monitor' };

export interface AlpacaServerOptions {
  camera: Camera;
  /** Served as filterwheel/0 (default: the camera's own wheel, when it has one). */
  wheel?: FilterWheel;
  /** Served as telescope/0, for pulse guiding, when given. */
  telescope?: GuideOutput;
  /** Served as focuser/0, when given. */
  focuser?: Focuser;
  /** Slews, syncs, pier side and park of telescope/0 (with `telescope`'s pulse guiding), when given. */
  gotoMount?: GotoTelescope;
  /** Served as safetymonitor/0 (IsSafe; the Action SetSafe when it can be told), when given. */
  safety?: ServedSafetyMonitor;
  /** The clock the devices run on (LastExposureStartTime); default the wall clock. */
  clock?: Clock;
  names?: Partial<AlpacaNames>;
  /** Port of the UDP discovery responder (default 32227; 0 = any free port; null = no discovery). */
  discoveryPort?: number | null;
  /** Send ImageBytes images at this many bytes per second (a slow link, to watch a download's progress); default at once. */
  downloadRate?: number;
}

/** Members a client may use before it connects. */
const WITHOUT_CONNECTION = new Set(['connected', 'connecting', 'connect', 'disconnect', 'name', 'description', 'driverinfo', 'driverversion', 'interfaceversion', 'supportedactions']);

/** How long an idle kept-alive connection stays open (node's default, 5 s, is shorter than a busy client's pause). */
const KEEP_ALIVE_MS = 60_000;

/** What one understood request asks for; `wantsBytes`: ImageBytes instead of JSON. */
interface Call {
  dev: DeviceEntry;
  member: string;
  run: () => unknown;
  wantsBytes: boolean;
}

type Reply = (value: unknown, err?: AlpacaError) => void;

export class AlpacaServer<O extends AlpacaServerOptions = AlpacaServerOptions> {
  readonly camera: O['camera'];
  readonly wheel: FilterWheel | undefined;
  readonly telescope: O['telescope'];
  readonly focuser: O['focuser'];
  readonly gotoMount: O['gotoMount'];
  readonly safety: O['safety'];
  private readonly clock: Clock;
  private readonly names: AlpacaNames;
  private http?: Server;
  private udp?: Socket;
  private serverTx = 0;
  private devices: DeviceEntry[] = [];
  private readonly discoveryPortOpt: number | null;
  private readonly downloadRate: number | undefined;
  port = 0;
  discoveryPort = 0;
  private lastExposure: { start: number; duration: number } | null = null;
  private readonly uid = 'darkroom-' + Math.floor(Math.random() * 1e9).toString(16);

  constructor(opts: O) {
    this.camera = opts.camera;
    this.wheel = opts.wheel ?? opts.camera.wheel;
    this.telescope = opts.telescope;
    this.focuser = opts.focuser;
    this.gotoMount = opts.gotoMount;
    this.safety = opts.safety;
    this.clock = opts.clock ?? realClock;
    this.names = { ...DEFAULT_NAMES, ...opts.names };
    this.discoveryPortOpt = opts.discoveryPort === undefined ? DISCOVERY_PORT : opts.discoveryPort;
    this.downloadRate = opts.downloadRate;
  }

  async start(port = 11111, host = '127.0.0.1'): Promise<number> {
    await this.camera.connect();
    this.devices = [this.cameraDevice(await this.camera.sensorInfo())];
    if (this.wheel) this.devices.push(this.device('filterwheel', this.names.wheel, 2, wheelMembers(this.wheel)));
    if (this.telescope || this.gotoMount) this.devices.push(this.device('telescope', this.names.telescope, 3, { ...(this.telescope ? telescopeMembers(this.telescope) : {}), ...(this.gotoMount ? gotoMembers(this.gotoMount) : {}) }));
    if (this.safety) this.devices.push(this.device('safetymonitor', this.names.safety, 3, safetyMembers(this.safety)));
    if (this.focuser) this.devices.push(this.device('focuser', this.names.focuser, 3, focuserMembers(this.focuser)));
    const srv = createServer((req, res) => {
      this.handle(req, res).catch((e) => {
        // never crash: internal failures answer 500 with the message
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(`internal error: ${(e as Error).message}`);
      });
    });
    srv.keepAliveTimeout = KEEP_ALIVE_MS;
    this.http = srv;
    await new Promise<void>((resolve, reject) => {
      srv.once('error', reject);
      srv.listen(port, host, () => resolve());
    });
    this.port = (srv.address() as AddressInfo).port;
    if (this.discoveryPortOpt !== null) await this.startDiscovery(this.discoveryPortOpt, host);
    return this.port;
  }

  private async startDiscovery(port: number, host: string): Promise<void> {
    const udp = createSocket({ type: 'udp4', reuseAddr: true });
    this.udp = udp;
    udp.on('message', (msg, rinfo) => {
      if (msg.toString('ascii').startsWith(DISCOVERY_MESSAGE)) udp.send(JSON.stringify({ AlpacaPort: this.port }), rinfo.port, rinfo.address);
    });
    udp.on('error', () => undefined);
    await new Promise<void>((resolve, reject) => {
      udp.once('error', reject);
      udp.bind(port, host === '127.0.0.1' || host === 'localhost' ? '127.0.0.1' : undefined, () => resolve());
    });
    this.discoveryPort = udp.address().port;
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
    if (method !== 'GET' && method !== 'PUT') return sendText(res, 405, `method ${method} not allowed`);
    const params = method === 'PUT' ? Params.form(await readBody(req)) : Params.query(url.searchParams);
    let call: Call;
    let clientTx: number;
    try {
      clientTx = transactionIds(params).clientTx;
      const path = url.pathname.replace(/\/+$/, '');
      if (path.startsWith('/management/')) return this.management(path, method, this.replier(res, clientTx));
      call = this.understand(path, method, params, req.headers.accept ?? '');
    } catch (e) {
      if (e instanceof AlpacaRequestError) return sendText(res, 400, e.message);
      throw e;
    }
    await this.execute(call, res, clientTx);
  }

  /** A JSON 200 answer with the transaction ids. */
  private replier(res: ServerResponse, clientTx: number): Reply {
    const serverTx = ++this.serverTx;
    return (value, err) => {
      const body: Record<string, unknown> = { ClientTransactionID: clientTx, ServerTransactionID: serverTx, ErrorNumber: err ? err.number : 0, ErrorMessage: err ? err.message : '' };
      if (value !== undefined && !err) body.Value = value;
      sendJson(res, 200, body);
    };
  }

  private management(path: string, method: string, reply: Reply): void {
    const value =
      path === '/management/apiversions'
        ? [1]
        : path === '/management/v1/description'
          ? { ServerName: this.names.server, Manufacturer: 'Darkroom', ManufacturerVersion: VERSION, Location: 'localhost' }
          : path === '/management/v1/configureddevices'
            ? this.devices.map((d) => ({ DeviceName: d.name, DeviceType: capital(d.type), DeviceNumber: d.number, UniqueID: d.uniqueId }))
            : undefined;
    if (value === undefined) throw new AlpacaRequestError(`unknown management path ${path}`);
    if (method !== 'GET') throw new AlpacaRequestError(`${path} takes GET only`);
    reply(value);
  }

  /** The device and member a request is for, with its parameters read; AlpacaRequestError (HTTP 400) when it cannot be understood. */
  private understand(path: string, method: 'GET' | 'PUT', params: Params, accept: string): Call {
    const dp = devicePath(path);
    if (!dp) throw new AlpacaRequestError(`unknown Alpaca path ${path} (expected /api/v1/TYPE/NUMBER/MEMBER, in lower case)`);
    const { type, number, member } = dp;
    if (!(ALPACA_DEVICE_TYPES as readonly string[]).includes(type)) throw new AlpacaRequestError(`unknown device type '${type}'`);
    const dev = this.devices.find((d) => d.type === type && d.number === number);
    if (!dev) throw new AlpacaRequestError(`no ${type} device number ${number}`);
    const verbs = memberVerbs(type, member);
    if (!verbs.length) throw new AlpacaRequestError(`'${member}' is not a member of the ${type} interface`);
    if (!verbs.includes(method)) throw new AlpacaRequestError(`${member} takes ${verbs.join(' and ')}, not ${method}`);
    const mem: Member = dev.members[member] ?? {};
    const run = method === 'GET' ? mem.get : mem.put?.(params);
    const wantsBytes = (member === 'imagearray' || member === 'imagearrayvariant') && method === 'GET' && accept.toLowerCase().includes(IMAGEBYTES_MIME);
    return { dev, member, run: run ?? (() => notImplementedError(type, member)), wantsBytes };
  }

  private async execute(call: Call, res: ServerResponse, clientTx: number): Promise<void> {
    const reply = this.replier(res, clientTx);
    const serverTx = this.serverTx;
    try {
      if (!WITHOUT_CONNECTION.has(call.member) && !call.dev.connected) throw new AlpacaError(ALPACA_ERRORS.notConnected, `${call.dev.name} is not connected`);
      if (call.wantsBytes) {
        const img = await this.readyImage();
        const bytes = encodeImageBytes(img.data[0]!, img.width, img.height, clientTx, serverTx);
        res.writeHead(200, { 'content-type': IMAGEBYTES_MIME, 'content-length': String(bytes.length) });
        if (this.downloadRate) await sendPaced(res, bytes, this.downloadRate);
        else res.end(bytes);
        return;
      }
      reply(await call.run());
    } catch (e) {
      const err = toAlpacaError(e);
      if (!call.wantsBytes) return reply(undefined, err);
      res.writeHead(200, { 'content-type': IMAGEBYTES_MIME });
      res.end(encodeImageBytesError(err.number, err.message, clientTx, serverTx));
    }
  }

  // ---- devices ----------------------------------------------------------------------------
  /** Device number 0 of `type`, with the members every Alpaca device has. */
  private device(type: string, name: string, iface: number, members: Members): DeviceEntry {
    const entry: DeviceEntry = { type, number: 0, name, uniqueId: `${this.uid}-${type}-0`, connected: false, members: {} };
    const setConnected = (on: boolean) => () => {
      entry.connected = on;
    };
    entry.members = {
      connected: { get: () => entry.connected, put: (p) => setConnected(bool(p, 'Connected')) },
      connecting: { get: () => false },
      connect: { put: () => setConnected(true) },
      disconnect: { put: () => setConnected(false) },
      name: { get: () => name },
      description: { get: () => `${name} (${this.names.driver})` },
      driverinfo: { get: () => this.names.server },
      driverversion: { get: () => VERSION },
      interfaceversion: { get: () => iface },
      supportedactions: { get: () => [] },
      action: { put: () => () => { throw new AlpacaError(ALPACA_ERRORS.actionNotImplemented, 'no actions are supported'); } },
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
    const cam = this.camera;
    const onStart = (duration: number): void => {
      this.lastExposure = { start: this.clock.now(), duration };
    };
    return this.device('camera', info.name, 3, {
      ...cameraInfoMembers(cam, info),
      ...frameMembers(cam, info, onStart),
      ...exposureMembers(cam, () => this.readyImage(), () => this.lastExposure),
      ...cameraActionMembers(cam),
    });
  }
}

function notImplementedError(type: string, member: string): never {
  throw new AlpacaError(ALPACA_ERRORS.notImplemented, `${type} member '${member}' is not implemented`);
}

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

/** Write `body` at `rate` bytes per second: a slice every 50 ms (stops when the client goes away). */
async function sendPaced(res: ServerResponse, body: Buffer, rate: number): Promise<void> {
  const slice = Math.max(1024, Math.round(rate / 20));
  const t0 = Date.now();
  for (let o = 0; o < body.length && !res.destroyed; o += slice) {
    res.write(body.subarray(o, Math.min(body.length, o + slice)));
    const due = t0 + ((o + slice) / rate) * 1000 - Date.now();
    if (due > 0) await new Promise((r) => setTimeout(r, due));
  }
  res.end();
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
