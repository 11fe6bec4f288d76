/**
 * Open the camera of an Alpaca server from `alpaca://HOST:PORT/N`, with the server's filter wheel,
 * its focuser/0 and, when it has one that can pulse-guide, its telescope/0 as guide output (and as the
 * goto mount when it can slew and sync); a SafetyMonitor from `alpaca://HOST:PORT/N`.
 */
import { connectedOrNone, realClock, type OpenedDevice } from '../types.js';
import { AlpacaCamera, AlpacaFilterWheel, AlpacaFocuser, parseAlpacaUrl, type AlpacaTarget } from './client.js';
import { AlpacaSafetyMonitor, AlpacaTelescope } from './mount.js';

export async function openAlpaca(spec: string): Promise<OpenedDevice> {
  const t = parseAlpacaUrl(spec);
  const camera = new AlpacaCamera(t);
  await camera.connect();
  const wheel = await connectedOrNone(new AlpacaFilterWheel(t));
  if (wheel) camera.wheel = wheel;
  const first = { host: t.host, port: t.port, number: 0, timeoutMs: t.timeoutMs };
  const guide = await connectedOrNone(new AlpacaTelescope(first));
  const mount = guide && (await guide.canGoto()) ? guide : undefined;
  const focuser = await connectedOrNone(new AlpacaFocuser(first));
  return { spec, camera, wheel, guide, mount, focuser, clock: realClock, close: () => undefined };
}

/** The Alpaca device classes that play the optional parts of a rig. */
export interface AlpacaParts {
  wheel: AlpacaFilterWheel;
  focuser: AlpacaFocuser;
  mount: AlpacaTelescope;
}

const MAKE_PART: { [R in keyof AlpacaParts]: (t: Omit<AlpacaTarget, 'type'>) => AlpacaParts[R] } = {
  wheel: (t) => new AlpacaFilterWheel(t),
  focuser: (t) => new AlpacaFocuser(t),
  mount: (t) => new AlpacaTelescope(t),
};

/** One part of a rig from `alpaca://HOST:PORT/N`: device N of the part's type (filterwheel, focuser, telescope), connected. */
export async function openAlpacaPart<R extends keyof AlpacaParts>(spec: string, role: R): Promise<AlpacaParts[R]> {
  const { host, port, number, timeoutMs } = parseAlpacaUrl(spec);
  const device = MAKE_PART[role]({ host, port, number, timeoutMs });
  await device.connect();
  return device;
}

/** safetymonitor/N of `alpaca://HOST:PORT/N`, connected. */
export async function openAlpacaSafety(spec: string): Promise<AlpacaSafetyMonitor> {
  const { host, port, number, timeoutMs } = parseAlpacaUrl(spec);
  const monitor = new AlpacaSafetyMonitor({ host, port, number, timeoutMs });
  await monitor.connect();
  return monitor;
}
