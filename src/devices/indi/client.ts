/**
 * INDI client: XML over TCP (default port 7624). Keeps a property table from defXXXVector /
 * setXXXVector / delProperty, sends newXXXVector, enables BLOBs and decodes base64 FITS BLOBs
 * (following each as it arrives: 'blobProgress' events, the camera's download progress).
 * IndiCamera and IndiFilterWheel implement the device interfaces on top of the standard INDI
 * property names (CONNECTION, CCD_EXPOSURE, CCD_TEMPERATURE, CCD_COOLER, CCD_BINNING, CCD_FRAME,
 * CCD_FRAME_TYPE, CCD_INFO, CCD1, FILTER_SLOT, FILTER_NAME); IndiGuideOutput pulse-guides through
 * TELESCOPE_TIMED_GUIDE_NS / TELESCOPE_TIMED_GUIDE_WE.
 *
 * Reconnection (enableReconnect, as openIndi does): when the server goes away (an indiserver restart)
 * the client connects again with back-off, waits for the new server's properties and restores each
 * attached device (connected again; camera binning, frame, gain, offset, cooler and set point; the
 * wheel's filter; the focuser's position). Idempotent operations caught by the drop run again once
 * the link is back (`resilient`); an exposure lost with the link is taken again by download(), so
 * the caller gets one whole image. Each step is a 'link' event (lost, reconnected, retry, failed).
 */
import { connect as tcpConnect, type Socket } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventEmitter } from 'node:events';
import { DarkroomError } from '../../util/errors.js';
import { readFits } from '../../fits/index.js';
import type { Image } from '../../image/image.js';
import { applyFrameHeader } from '../frame-header.js';
import type { Camera, CameraState, CoolerStatus, DownloadProgress, LinkEvent, ExposureRequest, FilterWheel, GuideDirection, GuideOutput, SensorInfo, Subframe } from '../types.js';
import { XmlStream, escapeXml, type XmlElement } from './xml.js';
import { BlobTransfers, blobProgress, type BlobTransfer } from './blob-progress.js';
import { Reporter } from '../alpaca/transfer.js';
import { INDI_INTERFACE, type IndiDeviceSummary } from './discover.js';

export type PropState = 'Idle' | 'Ok' | 'Busy' | 'Alert';
export type PropType = 'Number' | 'Switch' | 'Text' | 'Light' | 'BLOB';

export interface IndiElement {
  name: string;
  label?: string;
  value: string;
  /** BLOB payload (decoded) and format. */
  blob?: Buffer;
  format?: string;
  /** Number limits from defNumber (NaN when not given). */
  min?: number;
  max?: number;
}
export interface IndiProperty {
  device: string;
  name: string;
  type: PropType;
  state: PropState;
  perm?: string;
  rule?: string;
  label?: string;
  elements: Map<string, IndiElement>;
  message?: string;
}

/** A part of the rig that is put back as it was after the client reconnects to a restarted server. */
export interface IndiRestorable {
  /** Connect the device again on the new connection and re-apply the state it had. */
  restore(): Promise<void>;
}

/** What happened to the link to the INDI server (the client emits them as 'link' events). */
export interface IndiLinkEvent extends LinkEvent {
  /** Connection attempts it took (reconnected, failed). */
  attempts?: number;
}

/** Reconnection after the server went away: back-off from `initialDelayMs`, doubled up to `maxDelayMs`; give up after `giveUpMs`. */
export interface ReconnectOptions {
  initialDelayMs?: number;
  maxDelayMs?: number;
  giveUpMs?: number;
}

export class IndiClient extends EventEmitter {
  private sock?: Socket;
  readonly devices = new Map<string, Map<string, IndiProperty>>();
  readonly messages: { device?: string; message: string }[] = [];
  readonly label: string;
  private closed = false;
  private userClosed = false;
  private reconnectOpts?: Required<ReconnectOptions>;
  private readonly restorables = new Set<IndiRestorable>();
  private restoring = false;
  /** Counts the connections lost: a wait begun in one epoch and failed in a later one failed because of the link. */
  epoch = 0;
  /** The BLOB elements arriving now; each chunk of one is a 'blobProgress' event (a BlobTransfer). */
  private readonly blobs = new BlobTransfers((t) => this.emit('blobProgress', t));

  constructor(readonly host = '127.0.0.1', readonly port = 7624) {
    super();
    this.label = `indi://${host}:${port}`;
  }

  async connect(timeoutMs = 5000): Promise<void> {
    await this.openSocket(timeoutMs);
  }

  /** Open the TCP connection with a fresh XML parser, ask for every property. */
  private async openSocket(timeoutMs: number): Promise<void> {
    const sock = tcpConnect({ host: this.host, port: this.port });
    sock.setEncoding('latin1');
    const parser = new XmlStream(
      (el) => this.onElement(el),
      (p) => this.blobs.onText(p),
    );
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => {
        sock.destroy();
        reject(new DarkroomError('IO', `cannot reach INDI server at ${this.host}:${this.port} (no answer within ${timeoutMs} ms)`, this.label));
      }, timeoutMs);
      sock.once('connect', () => {
        clearTimeout(t);
        resolve();
      });
      sock.once('error', (e: NodeJS.ErrnoException) => {
        clearTimeout(t);
        reject(new DarkroomError('IO', `cannot reach INDI server at ${this.host}:${this.port} (${e.code === 'ECONNREFUSED' ? 'connection refused' : e.code ?? e.message})`, this.label));
      });
    });
    this.sock = sock;
    this.closed = false;
    sock.on('data', (d: string) => parser.feed(d));
    sock.on('error', (e) => this.emit('socketError', e));
    sock.on('close', () => this.onClose(sock));
    this.send('<getProperties version="1.7"/>');
  }

  private onClose(sock: Socket): void {
    if (sock !== this.sock) return;
    this.closed = true;
    this.epoch++;
    this.blobs.clear();
    // the properties of a server that went away say nothing of the one that comes back
    if (this.reconnectOpts && !this.userClosed) this.devices.clear();
    this.emit('close');
    if (this.userClosed || !this.reconnectOpts || this.restoring) return;
    this.link('lost', `lost the connection to the INDI server ${this.label}: reconnecting`);
    void this.reconnectLoop();
  }

  private link(kind: IndiLinkEvent['kind'], message: string, attempts?: number): void {
    const e: IndiLinkEvent = { kind, server: this.label, message, ...(attempts !== undefined ? { attempts } : {}) };
    this.emit('link', e);
  }

  /**
   * Reconnect when the server goes away (an indiserver restart): connect again with back-off, wait for
   * the server's properties, then restore every attached device (connected again, its state re-applied).
   * Waits in progress when the link drops still fail (their callers retry: see `whenUp`).
   */
  enableReconnect(opts: ReconnectOptions = {}): void {
    this.reconnectOpts = { initialDelayMs: opts.initialDelayMs ?? 250, maxDelayMs: opts.maxDelayMs ?? 4000, giveUpMs: opts.giveUpMs ?? 120_000 };
  }

  /** Put `d` back after a reconnection (in the order attached). */
  attach(d: IndiRestorable): void {
    this.restorables.add(d);
  }
  detach(d: IndiRestorable): void {
    this.restorables.delete(d);
  }

  /** Whether the client reconnects when the server goes away. */
  get reconnects(): boolean {
    return !!this.reconnectOpts && !this.userClosed;
  }

  /** True while connected and not restoring the devices after a reconnection. */
  get up(): boolean {
    return !this.closed && !this.restoring;
  }

  private async reconnectLoop(): Promise<void> {
    const o = this.reconnectOpts!;
    const t0 = Date.now();
    let delay = o.initialDelayMs;
    this.restoring = true;
    for (let attempt = 1; ; attempt++) {
      await new Promise((r) => setTimeout(r, delay).unref());
      if (this.userClosed) break;
      try {
        this.devices.clear();
        await this.openSocket(Math.max(500, delay));
        await this.settle();
        for (const d of [...this.restorables]) await d.restore();
        this.restoring = false;
        this.link('reconnected', `reconnected to the INDI server ${this.label} after ${attempt} attempt${attempt > 1 ? 's' : ''} (${((Date.now() - t0) / 1000).toFixed(1)} s); devices restored`, attempt);
        this.emit('up');
        return;
      } catch (e) {
        this.sock?.destroy();
        if (Date.now() - t0 + delay > o.giveUpMs) {
          this.restoring = false;
          this.closed = true;
          this.link('failed', `gave up reconnecting to the INDI server ${this.label} after ${attempt} attempts (${(e as Error).message})`, attempt);
          break;
        }
        delay = Math.min(o.maxDelayMs, delay * 2);
      }
    }
    this.restoring = false;
    this.emit('up');
  }

  /** Resolve once no INDI property has arrived for `quietMs` (at most `maxMs`). */
  settle(quietMs = 300, maxMs = 3000): Promise<void> {
    return new Promise((resolve) => {
      let quiet: NodeJS.Timeout;
      const done = (): void => {
        clearTimeout(quiet);
        clearTimeout(cap);
        this.off('update', bump);
        resolve();
      };
      const bump = (): void => {
        clearTimeout(quiet);
        quiet = setTimeout(done, quietMs);
      };
      const cap = setTimeout(done, maxMs);
      this.on('update', bump);
      bump();
    });
  }

  /** Resolve when the link is up (at once, or once a reconnection has restored the devices); reject when it is gone for good. */
  async whenUp(timeoutMs = 180_000): Promise<void> {
    if (this.up) return;
    if (this.userClosed || !this.reconnectOpts) throw new DarkroomError('IO', 'INDI connection is closed', this.label);
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => {
        this.off('up', on);
        reject(new DarkroomError('IO', `the INDI server did not come back within ${timeoutMs} ms`, this.label));
      }, timeoutMs);
      const on = (): void => {
        clearTimeout(t);
        if (this.up) resolve();
        else reject(new DarkroomError('IO', `lost the INDI server for good (could not reconnect)`, this.label));
      };
      this.once('up', on);
    });
  }

  /**
   * Run an idempotent operation (set binning, move the wheel, ...) on a link that may drop: when it
   * fails because the connection was lost, wait for the reconnection and run it again.
   */
  async resilient<T>(fn: () => Promise<T>): Promise<T> {
    for (let tries = 0; ; tries++) {
      if (this.reconnectOpts) await this.whenUp();
      const epoch = this.epoch;
      try {
        return await fn();
      } catch (e) {
        if (!this.reconnectOpts || this.userClosed || (this.epoch === epoch && this.up) || tries >= 5) throw e;
      }
    }
  }

  close(): void {
    this.userClosed = true;
    this.sock?.destroy();
  }

  send(xml: string): void {
    if (!this.sock || this.closed) throw new DarkroomError('IO', 'INDI connection is closed', this.label);
    this.sock.write(xml + '\n');
  }

  /** The BLOB element `device`.`property`.`element` while it is arriving (undefined before and once whole). */
  blobTransfer(device: string, property: string, element: string): BlobTransfer | undefined {
    return this.blobs.get(device, property, element);
  }

  property(device: string, name: string): IndiProperty | undefined {
    return this.devices.get(device)?.get(name);
  }

  /** Every device known so far: its name, DRIVER_INTERFACE bits and property names. */
  summaries(): IndiDeviceSummary[] {
    return [...this.devices.entries()].map(([name, props]) => ({ name, iface: driverInterface(this, name), props: new Set(props.keys()) }));
  }

  private onElement(el: XmlElement): void {
    const device = el.attrs.device;
    const name = el.attrs.name;
    if (el.name === 'message') {
      this.messages.push({ device, message: el.attrs.message ?? '' });
      this.emit('message', device, el.attrs.message);
      return;
    }
    if (el.name === 'delProperty' && device) {
      if (name) this.devices.get(device)?.delete(name);
      else this.devices.delete(device);
      this.emit('update', device, name);
      return;
    }
    const m = /^(def|set)(Number|Switch|Text|Light|BLOB)Vector$/.exec(el.name);
    if (!m || !device || !name) return;
    if (m[1] === 'set' && m[2] === 'BLOB') this.blobs.end(device, name);
    const type = m[2] as PropType;
    let dev = this.devices.get(device);
    if (!dev) this.devices.set(device, (dev = new Map()));
    let prop = dev.get(name);
    if (m[1] === 'def' || !prop) {
      prop = { device, name, type, state: (el.attrs.state as PropState) ?? 'Idle', perm: el.attrs.perm, rule: el.attrs.rule, label: el.attrs.label, elements: new Map() };
      dev.set(name, prop);
    }
    if (el.attrs.state) prop.state = el.attrs.state as PropState;
    if (el.attrs.message) prop.message = el.attrs.message;
    for (const c of el.children) {
      const en = c.attrs.name;
      if (!en) continue;
      const e: IndiElement = prop.elements.get(en) ?? { name: en, label: c.attrs.label, value: '' };
      if (type === 'BLOB' && m[1] === 'set') {
        e.format = c.attrs.format;
        e.blob = Buffer.from(c.text.replace(/\s+/g, ''), 'base64');
        const len = Number(c.attrs.size);
        if (Number.isFinite(len) && len > 0 && e.blob.length !== len && !(e.format ?? '').endsWith('.z')) {
          this.emit('socketError', new Error(`BLOB ${name}.${en}: ${e.blob.length} bytes, expected ${len}`));
        }
      } else e.value = c.text.trim();
      if (type === 'Number' && m[1] === 'def') {
        e.min = c.attrs.min === undefined ? NaN : Number(c.attrs.min);
        e.max = c.attrs.max === undefined ? NaN : Number(c.attrs.max);
      }
      prop.elements.set(en, e);
    }
    this.emit('update', device, name, prop);
  }

  /** Wait until pred() is true (checked on every property update); reject after timeoutMs. */
  waitFor(pred: () => boolean, timeoutMs: number, what: string): Promise<void> {
    if (pred()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const on = (): void => {
        let ok = false;
        try {
          ok = pred();
        } catch (e) {
          cleanup();
          reject(e);
          return;
        }
        if (ok) {
          cleanup();
          resolve();
        }
      };
      const onClose = (): void => {
        cleanup();
        reject(new DarkroomError('IO', `INDI server closed the connection while waiting for ${what}`, this.label));
      };
      const t = setTimeout(() => {
        cleanup();
        reject(new DarkroomError('IO', `timed out after ${timeoutMs} ms waiting for ${what}`, this.label));
      }, timeoutMs);
      const cleanup = (): void => {
        clearTimeout(t);
        this.off('update', on);
        this.off('close', onClose);
      };
      this.on('update', on);
      this.on('close', onClose);
    });
  }

  /** Wait for a device's property to be defined. */
  async waitProperty(device: string, name: string, timeoutMs = 5000): Promise<IndiProperty> {
    await this.waitFor(() => !!this.property(device, name), timeoutMs, `property ${device}.${name}`);
    return this.property(device, name)!;
  }

  private newVector(type: PropType, device: string, name: string, values: Record<string, string>): void {
    const prop = this.property(device, name);
    if (!prop) throw new DarkroomError('BAD_ARGUMENT', `device '${device}' has no property ${name}`, this.label);
    if (prop.perm === 'ro') throw new DarkroomError('BAD_ARGUMENT', `property ${device}.${name} is read-only`, this.label);
    for (const k of Object.keys(values)) {
      if (!prop.elements.has(k)) throw new DarkroomError('BAD_ARGUMENT', `property ${device}.${name} has no element ${k}`, this.label);
    }
    const inner = Object.entries(values)
      .map(([k, v]) => `<one${type} name="${escapeXml(k)}">${escapeXml(v)}</one${type}>`)
      .join('');
    prop.state = 'Busy';
    this.send(`<new${type}Vector device="${escapeXml(device)}" name="${escapeXml(name)}">${inner}</new${type}Vector>`);
  }
  setNumber(device: string, name: string, values: Record<string, number>): void {
    this.newVector('Number', device, name, Object.fromEntries(Object.entries(values).map(([k, v]) => [k, String(v)])));
  }
  setSwitch(device: string, name: string, values: Record<string, boolean>): void {
    this.newVector('Switch', device, name, Object.fromEntries(Object.entries(values).map(([k, v]) => [k, v ? 'On' : 'Off'])));
  }
  setText(device: string, name: string, values: Record<string, string>): void {
    this.newVector('Text', device, name, values);
  }
  /** enableBLOB: 'Never' | 'Also' | 'Only'. */
  enableBlob(device: string, mode: 'Never' | 'Also' | 'Only' = 'Also', name?: string): void {
    this.send(`<enableBLOB device="${escapeXml(device)}"${name ? ` name="${escapeXml(name)}"` : ''}>${mode}</enableBLOB>`);
  }

  num(device: string, name: string, el: string): number {
    const v = this.property(device, name)?.elements.get(el)?.value;
    return v === undefined ? NaN : Number(v);
  }
  switchOn(device: string, name: string, el: string): boolean {
    return this.property(device, name)?.elements.get(el)?.value === 'On';
  }

  /** Connect a device (CONNECTION switch) and wait until it is connected. */
  async connectDevice(device: string, timeoutMs = 10_000): Promise<void> {
    const known = await this.waitFor(() => !!this.property(device, 'CONNECTION'), Math.min(timeoutMs, 5000), `device '${device}'`).then(
      () => true,
      () => false,
    );
    if (!known) {
      const have = [...this.devices.keys()];
      throw new DarkroomError('IO', `INDI device '${device}' not found (server has: ${have.length ? have.join(', ') : 'no devices'})`, this.label);
    }
    if (!this.switchOn(device, 'CONNECTION', 'CONNECT')) this.setSwitch(device, 'CONNECTION', { CONNECT: true, DISCONNECT: false });
    await this.waitFor(() => this.switchOn(device, 'CONNECTION', 'CONNECT') && this.property(device, 'CONNECTION')!.state !== 'Busy', timeoutMs, `${device} to connect`);
    if (this.property(device, 'CONNECTION')!.state === 'Alert') throw new DarkroomError('IO', `INDI device '${device}' failed to connect`, this.label);
  }
}

export function checkAlert(c: IndiClient, device: string, name: string): void {
  const p = c.property(device, name);
  if (p?.state === 'Alert') throw new DarkroomError('IO', `${device}.${name} went to Alert${p.message ? `: ${p.message}` : ''}`, c.label);
}

interface IndiExposure {
  req: ExposureRequest;
  start: Date;
  setTemp?: number;
  bx: number;
  by: number;
  sub: Subframe;
  filter?: string;
  /** The client's epoch when it started: a later epoch means the link dropped and the exposure is lost. */
  epoch: number;
  /** Not downloaded yet. */
  pending: boolean;
}

/** How many times an exposure lost with the link is taken again. */
const EXPOSURE_RETRIES = 3;

export class IndiCamera implements Camera, IndiRestorable {
  readonly kind = 'camera' as const;
  private last?: IndiExposure;
  private setpoint = NaN;
  /** What was set, to set again on a restarted server. */
  private readonly state_: { cooler?: boolean; binning?: Record<string, number>; frame?: Record<string, number>; gain?: number; offset?: number } = {};
  wheel?: FilterWheel;
  constructor(readonly client: IndiClient, readonly device: string) {}

  private p(name: string): IndiProperty {
    const p = this.client.property(this.device, name);
    if (!p) throw new DarkroomError('UNSUPPORTED', `INDI camera '${this.device}' has no ${name} property`, this.client.label);
    return p;
  }
  async connect(): Promise<void> {
    await this.connectDevice();
    this.client.attach(this);
  }
  private async connectDevice(): Promise<void> {
    await this.client.connectDevice(this.device);
    await this.client.waitProperty(this.device, 'CCD_EXPOSURE', 5000);
    this.client.enableBlob(this.device, 'Also');
  }
  /** On a restarted server: connect, then binning, frame, gain, offset, cooler and set point as they were. */
  async restore(): Promise<void> {
    await this.connectDevice();
    const st = this.state_;
    const set = async (name: string, values: Record<string, number>): Promise<void> => {
      this.client.setNumber(this.device, name, values);
      await this.client.waitFor(() => this.p(name).state !== 'Busy', 5000, name);
    };
    if (st.binning) await set('CCD_BINNING', st.binning);
    if (st.frame) await set('CCD_FRAME', st.frame);
    if (st.gain !== undefined && this.client.property(this.device, 'CCD_GAIN')) this.client.setNumber(this.device, 'CCD_GAIN', { GAIN: st.gain });
    if (st.offset !== undefined && this.client.property(this.device, 'CCD_OFFSET')) this.client.setNumber(this.device, 'CCD_OFFSET', { OFFSET: st.offset });
    if (st.cooler !== undefined && this.client.property(this.device, 'CCD_COOLER')) this.client.setSwitch(this.device, 'CCD_COOLER', { COOLER_ON: st.cooler, COOLER_OFF: !st.cooler });
    if (Number.isFinite(this.setpoint)) this.client.setNumber(this.device, 'CCD_TEMPERATURE', { CCD_TEMPERATURE_VALUE: this.setpoint });
  }
  async disconnect(): Promise<void> {
    this.client.detach(this);
    this.client.setSwitch(this.device, 'CONNECTION', { CONNECT: false, DISCONNECT: true });
  }
  async connected(): Promise<boolean> {
    return this.client.switchOn(this.device, 'CONNECTION', 'CONNECT');
  }
  async sensorInfo(): Promise<SensorInfo> {
    const n = (el: string): number => this.client.num(this.device, 'CCD_INFO', el);
    const bin = this.p('CCD_BINNING');
    void bin;
    return {
      width: n('CCD_MAX_X'),
      height: n('CCD_MAX_Y'),
      pixelSizeX: n('CCD_PIXEL_SIZE_X'),
      pixelSizeY: n('CCD_PIXEL_SIZE_Y'),
      maxBinX: 4,
      maxBinY: 4,
      asymmetricBin: true,
      electronsPerAdu: NaN,
      fullWell: NaN,
      maxAdu: 2 ** n('CCD_BITSPERPIXEL') - 1,
      name: this.device,
      hasShutter: true,
      canSetCcdTemperature: !!this.client.property(this.device, 'CCD_TEMPERATURE'),
    };
  }
  async setBinning(bx: number, by: number): Promise<void> {
    await this.client.resilient(async () => {
      this.p('CCD_BINNING');
      this.state_.binning = { HOR_BIN: bx, VER_BIN: by };
      this.client.setNumber(this.device, 'CCD_BINNING', this.state_.binning);
      await this.client.waitFor(() => this.p('CCD_BINNING').state !== 'Busy', 5000, 'binning');
      checkAlert(this.client, this.device, 'CCD_BINNING');
    });
  }
  async getBinning(): Promise<{ x: number; y: number }> {
    return { x: this.client.num(this.device, 'CCD_BINNING', 'HOR_BIN'), y: this.client.num(this.device, 'CCD_BINNING', 'VER_BIN') };
  }
  async setSubframe(sub: Subframe | null): Promise<void> {
    await this.client.resilient(async () => {
      const info = await this.sensorInfo();
      const b = await this.getBinning();
      // INDI CCD_FRAME is in unbinned pixels
      const f = sub ? { X: sub.x * b.x, Y: sub.y * b.y, WIDTH: sub.width * b.x, HEIGHT: sub.height * b.y } : { X: 0, Y: 0, WIDTH: info.width, HEIGHT: info.height };
      this.state_.frame = f;
      this.client.setNumber(this.device, 'CCD_FRAME', f);
      await this.client.waitFor(() => this.p('CCD_FRAME').state !== 'Busy', 5000, 'frame');
    });
  }
  async getSubframe(): Promise<Subframe> {
    const b = await this.getBinning();
    const n = (el: string): number => this.client.num(this.device, 'CCD_FRAME', el);
    return { x: n('X') / b.x, y: n('Y') / b.y, width: Math.floor(n('WIDTH') / b.x), height: Math.floor(n('HEIGHT') / b.y) };
  }
  async setGain(gain: number): Promise<void> {
    const p = this.client.property(this.device, 'CCD_GAIN');
    if (!p) throw new DarkroomError('UNSUPPORTED', `INDI camera '${this.device}' has no gain control`, this.client.label);
    this.state_.gain = gain;
    this.client.setNumber(this.device, 'CCD_GAIN', { GAIN: gain });
  }
  async setOffset(offset: number): Promise<void> {
    const p = this.client.property(this.device, 'CCD_OFFSET');
    if (!p) throw new DarkroomError('UNSUPPORTED', `INDI camera '${this.device}' has no offset control`, this.client.label);
    this.state_.offset = offset;
    this.client.setNumber(this.device, 'CCD_OFFSET', { OFFSET: offset });
  }
  async setCooler(on: boolean): Promise<void> {
    await this.client.resilient(async () => {
      this.state_.cooler = on;
      if (this.client.property(this.device, 'CCD_COOLER')) this.client.setSwitch(this.device, 'CCD_COOLER', { COOLER_ON: on, COOLER_OFF: !on });
    });
  }
  async setSetpoint(celsius: number): Promise<void> {
    if (!Number.isFinite(celsius) || celsius < -50 || celsius > 50) {
      throw new DarkroomError('BAD_ARGUMENT', `set point ${celsius} C out of range -50..50 C`, this.client.label);
    }
    await this.client.resilient(async () => {
      this.p('CCD_TEMPERATURE');
      this.setpoint = celsius;
      this.client.setNumber(this.device, 'CCD_TEMPERATURE', { CCD_TEMPERATURE_VALUE: celsius });
    });
  }
  async coolerStatus(): Promise<CoolerStatus> {
    const t = this.client.num(this.device, 'CCD_TEMPERATURE', 'CCD_TEMPERATURE_VALUE');
    const hasCooler = !!this.client.property(this.device, 'CCD_COOLER');
    const on = hasCooler ? this.client.switchOn(this.device, 'CCD_COOLER', 'COOLER_ON') : Number.isFinite(this.setpoint);
    const power = this.client.num(this.device, 'CCD_COOLER_POWER', 'CCD_COOLER_VALUE');
    const tp = this.client.property(this.device, 'CCD_TEMPERATURE');
    return { on, setpoint: this.setpoint, ccdTemp: t, ambient: NaN, power, locked: Number.isFinite(this.setpoint) && Math.abs(t - this.setpoint) <= 0.1 && tp?.state === 'Ok', poorRegulation: power > 85 };
  }
  async startExposure(req: ExposureRequest): Promise<void> {
    await this.client.resilient(() => this.begin(req));
  }
  private async begin(req: ExposureRequest): Promise<void> {
    const exp = this.p('CCD_EXPOSURE');
    if (exp.state === 'Busy') throw new DarkroomError('IO', 'an exposure is already in progress', this.client.label);
    const ft = this.client.property(this.device, 'CCD_FRAME_TYPE');
    if (ft) {
      const want = { light: 'FRAME_LIGHT', dark: 'FRAME_DARK', bias: 'FRAME_BIAS', flat: 'FRAME_FLAT', flatdark: 'FRAME_DARK' }[req.type];
      this.client.setSwitch(this.device, 'CCD_FRAME_TYPE', Object.fromEntries([...ft.elements.keys()].map((k) => [k, k === want])));
    }
    const b = await this.getBinning();
    const sub = await this.getSubframe();
    const filter = this.wheel && req.type !== 'dark' && req.type !== 'bias' ? await this.wheel.position().then(async (p) => (await this.wheel!.names())[p]).catch(() => undefined) : undefined;
    const blob = this.client.property(this.device, 'CCD1')?.elements.get('CCD1');
    if (blob) blob.blob = undefined;
    this.last = { req, start: new Date(), setTemp: Number.isFinite(this.setpoint) ? this.setpoint : undefined, bx: b.x, by: b.y, sub, filter, epoch: this.client.epoch, pending: true };
    this.client.setNumber(this.device, 'CCD_EXPOSURE', { CCD_EXPOSURE_VALUE: req.type === 'bias' ? 0 : req.duration });
  }
  async abortExposure(): Promise<void> {
    if (this.client.property(this.device, 'CCD_ABORT_EXPOSURE')) this.client.setSwitch(this.device, 'CCD_ABORT_EXPOSURE', { ABORT: true });
  }
  async state(): Promise<CameraState> {
    const s = this.client.property(this.device, 'CCD_EXPOSURE')?.state;
    if (s !== 'Alert' && this.client.blobTransfer(this.device, 'CCD1', 'CCD1')) return 'downloading';
    return s === 'Busy' ? 'exposing' : s === 'Alert' ? 'error' : 'idle';
  }
  /** Wait until the exposure's BLOB has arrived (an Alert fails it), then until CCD_EXPOSURE is no longer Busy. */
  private async waitImage(last: IndiExposure, timeoutMs: number): Promise<IndiElement> {
    await this.client.waitFor(
      () => {
        checkAlert(this.client, this.device, 'CCD_EXPOSURE');
        return !!this.client.property(this.device, 'CCD1')?.elements.get('CCD1')?.blob;
      },
      last.req.duration * 1000 + timeoutMs,
      'the image BLOB',
    );
    const el = { ...this.client.property(this.device, 'CCD1')!.elements.get('CCD1')! };
    // libindi sends the BLOB before it sets CCD_EXPOSURE Ok: wait for that, so that the next
    // exposure is not refused as one already in progress
    await this.client.waitFor(() => this.client.property(this.device, 'CCD_EXPOSURE')?.state !== 'Busy', 5000, 'the exposure to end').catch(() => undefined);
    return el;
  }
  /**
   * The image is there or arriving (download() waits for the rest, following its bytes), or the
   * exposure was lost with the link (download() takes it again).
   */
  async imageReady(): Promise<boolean> {
    if (this.client.property(this.device, 'CCD1')?.elements.get('CCD1')?.blob) return true;
    if (this.last?.pending && this.client.blobTransfer(this.device, 'CCD1', 'CCD1')) return true;
    return !!this.last?.pending && this.last.epoch !== this.client.epoch;
  }

  /**
   * Follow the image BLOB's bytes while it arrives: `onProgress` gets a 0 when its first chunk is
   * seen, then (throttled) the decoded bytes so far; `stop()` stops listening and throws what the
   * callback threw (it runs inside the socket's reader, where a throw would be nobody's to catch).
   */
  private follow(rep: Reporter): { started: () => boolean; stop: () => void } {
    let started = false;
    let failed: { e: unknown } | undefined;
    const on = (t: BlobTransfer): void => {
      if (failed || t.device !== this.device || t.property !== 'CCD1' || t.element !== 'CCD1') return;
      const p = blobProgress(t);
      try {
        if (!started) rep.report(0, p.total);
        started = true;
        rep.report(p.bytes, p.total);
      } catch (e) {
        failed = { e };
      }
    };
    this.client.on('blobProgress', on);
    const now = this.client.blobTransfer(this.device, 'CCD1', 'CCD1');
    if (now) on(now);
    return {
      started: () => started,
      stop: () => {
        this.client.off('blobProgress', on);
        if (failed) throw failed.e;
      },
    };
  }
  /**
   * Wait for the image BLOB. When the link to the server drops before it arrives (a server restart),
   * wait for the client to reconnect and restore the devices, and take the exposure again (up to
   * EXPOSURE_RETRIES times): the caller gets one whole image, never a part of the lost one.
   */
  async download(timeoutMs = 60_000, onProgress?: (p: DownloadProgress) => void): Promise<Image> {
    const last0 = this.last;
    if (!last0) throw new DarkroomError('IO', 'no exposure was started', this.client.label);
    let el: IndiElement;
    // throttled as the Alpaca transfers are (each 1 % or 250 ms) and never going back: the BLOB of an
    // exposure taken again after a lost link is reported once it passes where the lost one had got
    const rep = new Reporter(onProgress, 0.01, 250);
    const follow = onProgress ? this.follow(rep) : undefined;
    try {
      for (let retry = 0; ; retry++) {
        const last = this.last!;
        try {
          if (last.epoch !== this.client.epoch) throw new DarkroomError('IO', 'the connection was lost during the exposure', this.client.label);
          el = await this.waitImage(last, timeoutMs);
          break;
        } catch (e) {
          if (!this.client.reconnects || retry >= EXPOSURE_RETRIES || (last.epoch === this.client.epoch && this.client.up)) throw e;
          await this.client.whenUp();
          this.client.emit('link', { kind: 'retry', server: this.client.label, message: `the ${last.req.duration} s ${last.req.type} exposure on '${this.device}' was lost with the connection: taking it again` } satisfies IndiLinkEvent);
          await this.client.resilient(() => this.begin(last.req));
        }
      }
    } finally {
      follow?.stop();
    }
    const last = this.last!;
    last.pending = false;
    if (!(el.format ?? '').toLowerCase().startsWith('.fits')) throw new DarkroomError('UNSUPPORTED', `image BLOB format '${el.format}' is not FITS`, this.client.label);
    // a BLOB that came whole in one chunk (or before download() was called) was not followed: 0, then 1
    const bytes = el.blob!.length;
    if (!follow?.started()) rep.report(0, bytes);
    const img = decodeFitsBlob(el.blob!);
    rep.report(bytes, bytes, true);
    const st = await this.coolerStatus();
    const info = await this.sensorInfo();
    applyFrameHeader(img.header, {
      type: last.req.type,
      exposure: last.req.type === 'bias' ? 0 : last.req.duration,
      dateObs: last.start,
      ccdTemp: Number.isFinite(st.ccdTemp) ? st.ccdTemp : undefined,
      setTemp: last.setTemp,
      binX: last.bx,
      binY: last.by,
      pixelSizeX: info.pixelSizeX,
      pixelSizeY: info.pixelSizeY,
      instrument: img.header.getString('INSTRUME') ?? this.device,
      egain: img.header.getNumber('EGAIN'),
      gain: img.header.getNumber('GAIN') ?? this.client.num(this.device, 'CCD_GAIN', 'GAIN'),
      filter: last.filter,
      originX: last.sub.x,
      originY: last.sub.y,
    });
    return img;
  }
}

/** Decode a FITS file held in memory (an INDI BLOB) with our FITS reader. */
export function decodeFitsBlob(buf: Buffer): Image {
  const dir = mkdtempSync(join(tmpdir(), 'darkroom-indi-'));
  try {
    const p = join(dir, 'blob.fits');
    writeFileSync(p, buf);
    return readFits(p);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export class IndiFilterWheel implements FilterWheel, IndiRestorable {
  readonly kind = 'filterwheel' as const;
  /** The slot (1-based) the wheel was last sent to, to send it there again on a restarted server. */
  private slot?: number;
  constructor(readonly client: IndiClient, readonly device: string) {}
  async connect(): Promise<void> {
    await this.client.connectDevice(this.device);
    await this.client.waitProperty(this.device, 'FILTER_SLOT', 5000);
    const at = this.client.num(this.device, 'FILTER_SLOT', 'FILTER_SLOT_VALUE');
    this.slot ??= Number.isInteger(at) ? at : undefined;
    this.client.attach(this);
  }
  /** On a restarted server: connect, and turn the wheel back to the filter it had. */
  async restore(): Promise<void> {
    await this.client.connectDevice(this.device);
    await this.client.waitProperty(this.device, 'FILTER_SLOT', 5000);
    if (this.slot === undefined || this.client.num(this.device, 'FILTER_SLOT', 'FILTER_SLOT_VALUE') === this.slot) return;
    this.client.setNumber(this.device, 'FILTER_SLOT', { FILTER_SLOT_VALUE: this.slot });
    await this.client.waitFor(() => this.client.property(this.device, 'FILTER_SLOT')!.state !== 'Busy', 30_000, 'the filter wheel');
  }
  async disconnect(): Promise<void> {
    this.client.detach(this);
    this.client.setSwitch(this.device, 'CONNECTION', { CONNECT: false, DISCONNECT: true });
  }
  async names(): Promise<string[]> {
    if (this.client.reconnects) await this.client.whenUp();
    const p = this.client.property(this.device, 'FILTER_NAME');
    return p ? [...p.elements.values()].map((e) => e.value) : [];
  }
  async position(): Promise<number> {
    if (this.client.reconnects) await this.client.whenUp();
    const p = this.client.property(this.device, 'FILTER_SLOT');
    if (!p) return -1;
    if (p.state === 'Busy') return -1;
    return this.client.num(this.device, 'FILTER_SLOT', 'FILTER_SLOT_VALUE') - 1; // INDI slots are 1-based
  }
  async move(target: number | string, timeoutMs = 30_000): Promise<void> {
    await this.client.resilient(() => this.moveOnce(target, timeoutMs));
  }
  private async moveOnce(target: number | string, timeoutMs: number): Promise<void> {
    let slot: number;
    const names = await this.names();
    if (typeof target === 'string') {
      slot = names.findIndex((n) => n.toLowerCase() === target.toLowerCase());
      if (slot < 0) throw new DarkroomError('BAD_ARGUMENT', `no filter named '${target}' (have: ${names.join(', ')})`, this.client.label);
    } else slot = target;
    const p = this.client.property(this.device, 'FILTER_SLOT');
    const max = Number(p?.elements.get('FILTER_SLOT_VALUE') ? names.length : 0);
    if (!(Number.isInteger(slot) && slot >= 0 && (max === 0 || slot < max))) throw new DarkroomError('BAD_ARGUMENT', `filter position must be 0..${max - 1}, got ${target}`, this.client.label);
    this.slot = slot + 1;
    this.client.setNumber(this.device, 'FILTER_SLOT', { FILTER_SLOT_VALUE: slot + 1 });
    await this.client.waitFor(() => this.client.property(this.device, 'FILTER_SLOT')!.state !== 'Busy', timeoutMs, 'the filter wheel');
    checkAlert(this.client, this.device, 'FILTER_SLOT');
  }
}

export { INDI_INTERFACE };

/** A device's DRIVER_INFO.DRIVER_INTERFACE bit mask; NaN when the device does not report one. */
export function driverInterface(client: IndiClient, device: string): number {
  const v = client.property(device, 'DRIVER_INFO')?.elements.get('DRIVER_INTERFACE')?.value;
  return v === undefined || v === '' ? NaN : Number(v);
}

const GUIDE_AXES: Record<GuideDirection, { prop: string; el: string; other: string; axis: string }> = {
  north: { prop: 'TELESCOPE_TIMED_GUIDE_NS', el: 'TIMED_GUIDE_N', other: 'TIMED_GUIDE_S', axis: 'north/south' },
  south: { prop: 'TELESCOPE_TIMED_GUIDE_NS', el: 'TIMED_GUIDE_S', other: 'TIMED_GUIDE_N', axis: 'north/south' },
  west: { prop: 'TELESCOPE_TIMED_GUIDE_WE', el: 'TIMED_GUIDE_W', other: 'TIMED_GUIDE_E', axis: 'west/east' },
  east: { prop: 'TELESCOPE_TIMED_GUIDE_WE', el: 'TIMED_GUIDE_E', other: 'TIMED_GUIDE_W', axis: 'west/east' },
};

/**
 * Pulse guiding through the INDI guider interface (a mount, or a camera's ST-4 port):
 * TELESCOPE_TIMED_GUIDE_NS {TIMED_GUIDE_N, TIMED_GUIDE_S} and TELESCOPE_TIMED_GUIDE_WE
 * {TIMED_GUIDE_W, TIMED_GUIDE_E}, values in milliseconds. A pulse is sent as the new vector
 * (this direction = ms, the opposite = 0); the driver answers Busy while guiding and then Idle
 * (libindi's GuideComplete) or Ok; Alert means the driver refused or failed the pulse.
 */
export class IndiGuideOutput implements GuideOutput, IndiRestorable {
  readonly kind = 'guide' as const;
  /** States the server reported for the guide property during the last pulse, e.g. ['Busy', 'Idle']. */
  lastStates: PropState[] = [];
  constructor(
    readonly client: IndiClient,
    readonly device: string,
    /** timeoutMs: extra time allowed beyond the pulse length; propertyTimeoutMs: wait for the guide properties after connecting. */
    readonly opts: { timeoutMs?: number; propertyTimeoutMs?: number } = {},
  ) {}

  private noGuide(): DarkroomError {
    return new DarkroomError('UNSUPPORTED', `INDI device '${this.device}' has no guide properties (TELESCOPE_TIMED_GUIDE_NS / TELESCOPE_TIMED_GUIDE_WE)`, this.client.label);
  }

  async connect(): Promise<void> {
    // DRIVER_INFO follows CONNECTION in the server's first answer: a device that says it is not a
    // guider is refused before we connect it
    await this.client
      .waitFor(() => !!this.client.property(this.device, 'CONNECTION') && !!this.client.property(this.device, 'DRIVER_INFO'), 5000, `device '${this.device}'`)
      .catch(() => undefined);
    if (!this.client.property(this.device, 'CONNECTION')) {
      const have = [...this.client.devices.keys()];
      throw new DarkroomError('IO', `INDI device '${this.device}' not found (server has: ${have.length ? have.join(', ') : 'no devices'})`, this.client.label);
    }
    const di = driverInterface(this.client, this.device);
    if (Number.isFinite(di) && (di & INDI_INTERFACE.guider) === 0) throw this.noGuide();
    await this.restore();
    this.client.attach(this);
  }

  /** Connect the device and wait for its guide properties (also on a restarted server). */
  async restore(): Promise<void> {
    await this.client.connectDevice(this.device);
    const has = (): boolean => !!this.client.property(this.device, 'TELESCOPE_TIMED_GUIDE_NS') && !!this.client.property(this.device, 'TELESCOPE_TIMED_GUIDE_WE');
    await this.client.waitFor(has, this.opts.propertyTimeoutMs ?? 5000, 'guide properties').catch(() => {
      throw this.noGuide();
    });
  }

  async disconnect(): Promise<void> {
    this.client.detach(this);
    this.client.setSwitch(this.device, 'CONNECTION', { CONNECT: false, DISCONNECT: true });
  }

  async pulseGuide(direction: GuideDirection, ms: number): Promise<void> {
    const a = GUIDE_AXES[direction];
    if (!a) throw new DarkroomError('BAD_ARGUMENT', `unknown guide direction '${String(direction)}' (use north, south, east or west)`, this.client.label);
    if (typeof ms !== 'number' || !Number.isFinite(ms) || ms <= 0) {
      throw new DarkroomError('BAD_ARGUMENT', `guide pulse duration must be a positive number of milliseconds, got ${String(ms)}`, this.client.label);
    }
    const prop = this.client.property(this.device, a.prop);
    if (!prop) throw this.noGuide();
    const max = prop.elements.get(a.el)?.max ?? NaN;
    if (Number.isFinite(max) && max > 0 && ms > max) {
      throw new DarkroomError('BAD_ARGUMENT', `guide pulse of ${ms} ms exceeds the maximum of ${max} ms of ${this.device}.${a.prop}`, this.client.label);
    }
    if (prop.state === 'Busy') throw new DarkroomError('IO', `a ${a.axis} guide pulse is already in progress on '${this.device}'`, this.client.label);
    const states: PropState[] = [];
    const on = (d: string, n: string | undefined, p?: IndiProperty): void => {
      if (d === this.device && n === a.prop && p) states.push(p.state);
    };
    this.client.on('update', on);
    try {
      this.client.setNumber(this.device, a.prop, { [a.el]: ms, [a.other]: 0 });
      const timeout = ms + (this.opts.timeoutMs ?? 5000);
      await this.client.waitFor(
        () => {
          if (states.includes('Alert')) {
            const m = this.client.property(this.device, a.prop)?.message;
            throw new DarkroomError('IO', `${direction} guide pulse of ${ms} ms failed: ${this.device}.${a.prop} went to Alert${m ? `: ${m}` : ''}`, this.client.label);
          }
          return states.some((s) => s !== 'Busy');
        },
        timeout,
        `the ${direction} guide pulse of ${ms} ms to end on '${this.device}'`,
      );
    } finally {
      this.client.off('update', on);
      this.lastStates = states;
    }
  }

  async isPulseGuiding(): Promise<boolean> {
    return ['TELESCOPE_TIMED_GUIDE_NS', 'TELESCOPE_TIMED_GUIDE_WE'].some((n) => this.client.property(this.device, n)?.state === 'Busy');
  }
}

/** Parse indi://HOST:PORT[/DEVICE]. */
export function parseIndiUrl(url: string): { host: string; port: number; device?: string } {
  const m = /^indi:\/\/([^/:]+)(?::(\d+))?(?:\/(.*))?$/.exec(url);
  if (!m) throw new DarkroomError('BAD_ARGUMENT', `bad INDI device '${url}' (expected indi://HOST:PORT[/DEVICE])`);
  return { host: m[1]!, port: Number(m[2] ?? 7624), device: m[3] ? decodeURIComponent(m[3]) : undefined };
}
