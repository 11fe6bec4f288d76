/**
 * Open a camera (and its filter wheel) from a device spec: `sim` (the built-in simulator),
 * `indi://HOST:PORT[/DEVICE]` or `alpaca://HOST:PORT/N`. Shared by the CLI and the server.
 */
import { DarkroomError } from '../util/errors.js';
import { SimCamera } from './simcamera.js';
import { AcceleratedClock, realClock, type Camera, type Clock, type FilterWheel } from './types.js';
import { AlpacaCamera, AlpacaFilterWheel, parseAlpacaUrl } from './alpaca/client.js';
import { IndiCamera, IndiClient, IndiFilterWheel, parseIndiUrl } from './indi/client.js';

export interface OpenedDevice {
  spec: string;
  camera: Camera;
  wheel?: FilterWheel;
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
    return { spec, camera, wheel: hasWheel ? wheel : undefined, clock: realClock, close: () => undefined };
  }
  if (spec.startsWith('indi://')) {
    const t = parseIndiUrl(spec);
    const client = new IndiClient(t.host, t.port);
    await client.connect();
    try {
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
      const wd = [...client.devices.entries()].find(([, p]) => p.has('FILTER_SLOT'))?.[0];
      if (wd) {
        const w = new IndiFilterWheel(client, wd);
        if (await w.connect().then(() => true, () => false)) wheel = w;
        camera.wheel = wheel;
      }
      return { spec, camera, wheel, clock: realClock, close: () => client.close() };
    } catch (e) {
      client.close();
      throw e;
    }
  }
  throw new DarkroomError('BAD_ARGUMENT', `unknown device '${spec}' (use ${DEVICE_SPEC_HELP})`);
}
