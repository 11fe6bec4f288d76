/**
 * Open a camera (and its filter wheel) from a device spec: `sim` (the built-in simulator),
 * `indi://HOST:PORT[/DEVICE]` or `alpaca://HOST:PORT/N`. Shared by the CLI and the server.
 * When the server also has a mount that can pulse-guide (INDI: a telescope device with
 * TELESCOPE_TIMED_GUIDE_NS/WE; Alpaca: telescope/0), it is opened as `guide`.
 */
import { DarkroomError } from '../util/errors.js';
import { SimCamera } from './simcamera.js';
import { AcceleratedClock, realClock, type Camera, type Clock, type FilterWheel, type GuideOutput } from './types.js';
import { AlpacaCamera, AlpacaFilterWheel, AlpacaGuideOutput, parseAlpacaUrl } from './alpaca/client.js';
import { INDI_INTERFACE, IndiCamera, IndiClient, IndiFilterWheel, IndiGuideOutput, driverInterface, parseIndiUrl } from './indi/client.js';

export interface OpenedDevice {
  spec: string;
  camera: Camera;
  wheel?: FilterWheel;
  /** Pulse-guide output of the server's mount, when it has one. */
  guide?: GuideOutput;
  /** The clock the camera runs on (accelerated for the simulator). */
  clock: Clock;
  close: () => void;
}

export const DEVICE_SPEC_HELP = 'sim, indi://HOST:PORT[/DEVICE] or alpaca://HOST:PORT/N';

/** `simSpeed`: how much faster than real time the simulator's clock runs. */
export async function openDevice(spec: string, opts: { simSpeed?: number } = {}): Promise<OpenedDevice> {
  if (spec === 'sim') {
    const clock = new AcceleratedClock(opts.simSpeed ?? 600);
    const camera = new SimCamera({ clock });
    await camera.connect();
    return { spec, camera, wheel: camera.wheel, clock, close: () => undefined };
  }
  if (spec.startsWith('alpaca://')) {
    const t = parseAlpacaUrl(spec);
    const camera = new AlpacaCamera(t);
    await camera.connect();
    const wheel = new AlpacaFilterWheel(t);
    const hasWheel = await wheel.connect().then(
      () => true,
      () => false,
    );
    if (hasWheel) camera.wheel = wheel;
    const g = new AlpacaGuideOutput({ host: t.host, port: t.port, number: 0, timeoutMs: t.timeoutMs });
    const guide = await g.connect().then(
      () => g,
      () => undefined,
    );
    return { spec, camera, wheel: hasWheel ? wheel : undefined, guide, clock: realClock, close: () => undefined };
  }
  if (spec.startsWith('indi://')) {
    const t = parseIndiUrl(spec);
    const client = new IndiClient(t.host, t.port);
    await client.connect();
    try {
      // The server sends every device's properties after getProperties: wait for that burst to end,
      // so that the wheel and the mount are known before we look for them.
      await settle(client);
      let device = t.device;
      if (!device) {
        // the first device with a CCD_EXPOSURE property
        await client.waitFor(() => [...client.devices.values()].some((p) => p.has('CCD_EXPOSURE')), 3000, 'a camera device').catch(() => undefined);
        device = [...client.devices.entries()].find(([, p]) => p.has('CCD_EXPOSURE'))?.[0];
        if (!device) throw new DarkroomError('IO', `no camera device on the INDI server (have: ${[...client.devices.keys()].join(', ') || 'none'})`, spec);
      }
      const camera = new IndiCamera(client, device);
      await camera.connect();
      let wheel: FilterWheel | undefined;
      const isWheel = (d: string, p: Map<string, unknown>): boolean => {
        const di = driverInterface(client, d);
        return p.has('FILTER_SLOT') || (Number.isFinite(di) && (di & INDI_INTERFACE.filter) !== 0 && (di & INDI_INTERFACE.ccd) === 0);
      };
      const wd = [...client.devices.entries()].find(([d, p]) => d !== device && isWheel(d, p))?.[0];
      if (wd) {
        const w = new IndiFilterWheel(client, wd);
        if (await w.connect().then(() => true, () => false)) wheel = w;
        camera.wheel = wheel;
      }
      // the mount: a device that says it is a telescope (DRIVER_INTERFACE) or has equatorial coordinates;
      // cameras with an ST-4 port also have the guide properties but are not picked
      let guide: GuideOutput | undefined;
      const isScope = (d: string, p: Map<string, unknown>): boolean => {
        const di = driverInterface(client, d);
        return Number.isFinite(di) ? (di & INDI_INTERFACE.telescope) !== 0 : p.has('EQUATORIAL_EOD_COORD');
      };
      const sd = [...client.devices.entries()].find(([d, p]) => d !== device && isScope(d, p))?.[0];
      if (sd) {
        const g = new IndiGuideOutput(client, sd);
        if (await g.connect().then(() => true, () => false)) guide = g;
      }
      return { spec, camera, wheel, guide, clock: realClock, close: () => client.close() };
    } catch (e) {
      client.close();
      throw e;
    }
  }
  throw new DarkroomError('BAD_ARGUMENT', `unknown device '${spec}' (use ${DEVICE_SPEC_HELP})`);
}

/** Resolve once no INDI property has arrived for `quietMs` (at most `maxMs`). */
function settle(client: IndiClient, quietMs = 300, maxMs = 3000): Promise<void> {
  return new Promise((resolve) => {
    let quiet: NodeJS.Timeout;
    const done = (): void => {
      clearTimeout(quiet);
      clearTimeout(cap);
      client.off('update', bump);
      resolve();
    };
    const bump = (): void => {
      clearTimeout(quiet);
      quiet = setTimeout(done, quietMs);
    };
    const cap = setTimeout(done, maxMs);
    client.on('update', bump);
    bump();
  });
}
