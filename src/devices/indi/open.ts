/**
 * Open the camera of an INDI server from `indi://HOST:PORT[/DEVICE]`, with the server's filter wheel
 * and, when it has a mount that can pulse-guide (a telescope device with TELESCOPE_TIMED_GUIDE_NS/WE),
 * that mount as guide output.
 */
import { DarkroomError } from '../../util/errors.js';
import { connectedOrNone, realClock, type FilterWheel, type GuideOutput, type OpenedDevice } from '../types.js';
import { INDI_INTERFACE, IndiCamera, IndiClient, IndiFilterWheel, IndiGuideOutput, driverInterface, parseIndiUrl } from './client.js';

export async function openIndi(spec: string): Promise<OpenedDevice> {
  const t = parseIndiUrl(spec);
  const client = new IndiClient(t.host, t.port);
  await client.connect();
  try {
    // The server sends every device's properties after getProperties: wait for that burst to end,
    // so that the wheel and the mount are known before we look for them.
    await settle(client);
    const device = t.device ?? (await firstCamera(client, spec));
    const camera = new IndiCamera(client, device);
    await camera.connect();
    const wheel = await findWheel(client, device);
    if (wheel) camera.wheel = wheel;
    const guide = await findMount(client, device);
    return { spec, camera, wheel, guide, clock: realClock, close: () => client.close() };
  } catch (e) {
    client.close();
    throw e;
  }
}

type Props = Map<string, unknown>;

/** The first device other than `except` for which `is` holds. */
function deviceWhere(client: IndiClient, except: string, is: (d: string, p: Props) => boolean): string | undefined {
  return [...client.devices.entries()].find(([d, p]) => d !== except && is(d, p))?.[0];
}

/** The first device with a CCD_EXPOSURE property. */
async function firstCamera(client: IndiClient, spec: string): Promise<string> {
  const hasCcd = (p: Props): boolean => p.has('CCD_EXPOSURE');
  await client.waitFor(() => [...client.devices.values()].some(hasCcd), 3000, 'a camera device').catch(() => undefined);
  const device = deviceWhere(client, '', (_d, p) => hasCcd(p));
  if (!device) throw new DarkroomError('IO', `no camera device on the INDI server (have: ${[...client.devices.keys()].join(', ') || 'none'})`, spec);
  return device;
}

/** A filter wheel: FILTER_SLOT, or a driver that says it is a filter wheel and not a camera. */
async function findWheel(client: IndiClient, camera: string): Promise<FilterWheel | undefined> {
  const wd = deviceWhere(client, camera, (d, p) => {
    const di = driverInterface(client, d);
    return p.has('FILTER_SLOT') || (Number.isFinite(di) && (di & INDI_INTERFACE.filter) !== 0 && (di & INDI_INTERFACE.ccd) === 0);
  });
  return wd ? connectedOrNone(new IndiFilterWheel(client, wd)) : undefined;
}

/**
 * The mount: a device that says it is a telescope (DRIVER_INTERFACE) or has equatorial coordinates;
 * cameras with an ST-4 port also have the guide properties but are not picked.
 */
async function findMount(client: IndiClient, camera: string): Promise<GuideOutput | undefined> {
  const sd = deviceWhere(client, camera, (d, p) => {
    const di = driverInterface(client, d);
    return Number.isFinite(di) ? (di & INDI_INTERFACE.telescope) !== 0 : p.has('EQUATORIAL_EOD_COORD');
  });
  return sd ? connectedOrNone(new IndiGuideOutput(client, sd)) : undefined;
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
