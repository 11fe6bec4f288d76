/**
 * Open the camera of an INDI server from `indi://HOST:PORT[/DEVICE]`, with the server's filter wheel,
 * its focuser and, when it has a mount that can pulse-guide (a telescope device with
 * TELESCOPE_TIMED_GUIDE_NS/WE), that mount as guide output. Without DEVICE the camera is the first
 * device whose DRIVER_INTERFACE says CCD.
 */
import { DarkroomError } from '../../util/errors.js';
import { connectedOrNone, realClock, type Device, type LinkEvent, type OpenedDevice } from '../types.js';
import { IndiCamera, IndiClient, IndiFilterWheel, parseIndiUrl } from './client.js';
import { deviceFor, type IndiRole } from './discover.js';
import { IndiFocuser } from './focuser.js';
import { IndiTelescope, IndiWeather } from './mount.js';

/**
 * A client connected to `spec`'s server, reconnecting (a server restart or a dropped network during a
 * sequence: reconnect, restore the devices, retry the frame) and settled, handed to `use`; closed when
 * `use` fails.
 */
async function withClient<T>(spec: string, use: (client: IndiClient, device: string | undefined) => Promise<T>): Promise<T> {
  const t = parseIndiUrl(spec);
  const client = new IndiClient(t.host, t.port);
  await client.connect();
  client.enableReconnect();
  try {
    // The server sends every device's properties after getProperties: wait for that burst to end,
    // so that the wheel and the mount are known before we look for them.
    await client.settle();
    return await use(client, t.device);
  } catch (e) {
    client.close();
    throw e;
  }
}

export async function openIndi(spec: string): Promise<OpenedDevice> {
  return withClient(spec, async (client, named) => {
    // devices are told apart by DRIVER_INFO.DRIVER_INTERFACE, defined before they connect; each
    // part's connect() then waits for the properties the driver defines once connected
    const device = cameraDevice(client, spec, named);
    const camera = new IndiCamera(client, device);
    await camera.connect();
    const wheel = await part(client, 'wheel', device, (d) => new IndiFilterWheel(client, d));
    if (wheel) camera.wheel = wheel;
    const guide = await part(client, 'mount', device, (d) => new IndiTelescope(client, d));
    const mount = guide?.canGoto() ? guide : undefined;
    const focuser = await part(client, 'focuser', device, (d) => new IndiFocuser(client, d));
    const onLinkEvent = (listener: (e: LinkEvent) => void): void => void client.on('link', listener);
    return { spec, camera, wheel, guide, mount, focuser, clock: realClock, close: () => client.close(), onLinkEvent };
  });
}

/** The INDI device classes that play the optional parts of a rig. */
export interface IndiParts {
  wheel: IndiFilterWheel;
  focuser: IndiFocuser;
  mount: IndiTelescope;
}
type PartRole = keyof IndiParts;

const MAKE_PART: { [R in PartRole]: (client: IndiClient, device: string) => IndiParts[R] } = {
  wheel: (c, d) => new IndiFilterWheel(c, d),
  focuser: (c, d) => new IndiFocuser(c, d),
  mount: (c, d) => new IndiTelescope(c, d),
};

const PART_WORDS: Record<PartRole, string> = { wheel: 'filter wheel', focuser: 'focuser', mount: 'mount' };

/**
 * One part of a rig from `indi://HOST:PORT[/DEVICE]` on its own connection: the named device, else
 * the server's device for the role (by DRIVER_INTERFACE), connected.
 */
export async function openIndiPart<R extends PartRole>(spec: string, role: R): Promise<{ device: IndiParts[R]; close: () => void }> {
  return withClient(spec, async (client, named) => {
    const name = named ?? deviceFor(role, client.summaries());
    if (!name) throw new DarkroomError('IO', `no ${PART_WORDS[role]} on the INDI server (have: ${[...client.devices.keys()].join(', ') || 'none'})`, spec);
    const device = MAKE_PART[role](client, name);
    await device.connect();
    return { device, close: () => client.close() };
  });
}

/** The camera: the named device, else the first device whose DRIVER_INTERFACE says CCD. */
function cameraDevice(client: IndiClient, spec: string, named?: string): string {
  if (named) return named;
  const device = deviceFor('camera', client.summaries());
  if (!device) throw new DarkroomError('IO', `no camera device on the INDI server (have: ${[...client.devices.keys()].join(', ') || 'none'})`, spec);
  return device;
}

/** The device for an optional part of the rig, connected; undefined when there is none or it fails. */
async function part<T extends Device>(client: IndiClient, role: IndiRole, camera: string, make: (device: string) => T): Promise<T | undefined> {
  const device = deviceFor(role, client.summaries(), camera);
  return device ? connectedOrNone(make(device)) : undefined;
}

/** The weather station of `indi://HOST:PORT[/DEVICE]` (the named device, else the one whose DRIVER_INTERFACE says weather) as a safety monitor, on its own connection. */
export async function openIndiSafety(spec: string): Promise<{ monitor: IndiWeather; close: () => void }> {
  return withClient(spec, async (client, named) => {
    const name = named ?? deviceFor('weather', client.summaries());
    if (!name) throw new DarkroomError('IO', `no weather station on the INDI server (have: ${[...client.devices.keys()].join(', ') || 'none'})`, spec);
    const monitor = new IndiWeather(client, name);
    await monitor.connect();
    return { monitor, close: () => client.close() };
  });
}
