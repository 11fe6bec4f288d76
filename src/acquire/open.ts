/**
 * Open a camera (and its filter wheel) from a device spec: `sim` (the built-in simulator),
 * `indi://HOST:PORT[/DEVICE]` or `alpaca://HOST:PORT/N`. Shared by the CLI and the server. When the
 * server also has a mount that can pulse-guide (INDI: a telescope device; Alpaca: telescope/0), it is
 * opened as `guide`; its focuser as `focuser`. Parts of the rig may come from other servers
 * (`parts`: wheel, focuser, mount specs), each replacing the part the camera's server offers. This is
 * the one place that knows every kind of device: devices/ itself never imports the simulator.
 */
import { DarkroomError } from '../util/errors.js';
import { openAlpaca, openAlpacaPart, openAlpacaSafety } from '../devices/alpaca/open.js';
import { openIndi, openIndiPart, openIndiSafety } from '../devices/indi/open.js';
import { simulatedRig } from '../devices/sim/rig.js';
import { simSettingsPath } from '../devices/sim/qsi.js';
import type { FilterWheel, Focuser, GotoTelescope, GuideOutput, OpenedDevice, SafetyMonitor } from '../devices/types.js';

export type { OpenedDevice };

export const DEVICE_SPEC_HELP = 'sim, indi://HOST:PORT[/DEVICE] or alpaca://HOST:PORT/N';
export const PART_SPEC_HELP = 'indi://HOST:PORT[/DEVICE] or alpaca://HOST:PORT/N';

/** Specs of the parts of a rig that come from another server than the camera's. */
export interface PartSpecs {
  wheel?: string;
  focuser?: string;
  mount?: string;
}
type PartRole = keyof PartSpecs;
interface Part {
  wheel: FilterWheel;
  focuser: Focuser;
  mount: GuideOutput & GotoTelescope & { canGoto(): boolean | Promise<boolean> };
}

/** `simSpeed`: how much faster than real time the simulator's clock runs; `parts`: see PartSpecs. */
export async function openDevice(spec: string, opts: { simSpeed?: number; parts?: PartSpecs } = {}): Promise<OpenedDevice> {
  const parts = Object.entries(opts.parts ?? {}).filter((e): e is [PartRole, string] => typeof e[1] === 'string' && e[1] !== spec);
  if (spec === 'sim') {
    if (parts.length) throw new DarkroomError('BAD_ARGUMENT', `--${parts[0]![0]} needs an INDI or Alpaca --device (with --device sim every part is simulated)`);
    // the simulated camera keeps its settings (camera set) in its file, as a QSI keeps them in the camera
    const { camera, clock, focuser } = simulatedRig({ speed: opts.simSpeed ?? 600, settingsFile: simSettingsPath() });
    await camera.connect();
    return { spec, camera, wheel: camera.wheel, focuser, clock, close: () => undefined };
  }
  const d = await openCamera(spec);
  try {
    for (const [role, partSpec] of parts) await attachPart(d, role, partSpec);
  } catch (e) {
    d.close();
    throw e;
  }
  return d;
}

async function openCamera(spec: string): Promise<OpenedDevice> {
  if (spec.startsWith('alpaca://')) return openAlpaca(spec);
  if (spec.startsWith('indi://')) return openIndi(spec);
  throw new DarkroomError('BAD_ARGUMENT', `unknown device '${spec}' (use ${DEVICE_SPEC_HELP})`);
}

/** Open a part from its own spec and put it in the rig in place of the camera server's. */
async function attachPart(d: OpenedDevice, role: PartRole, spec: string): Promise<void> {
  const { device, close } = await openPart(role, spec);
  const before = d.close;
  d.close = () => {
    close();
    before();
  };
  if (role === 'wheel') {
    d.wheel = device as Part['wheel'];
    d.camera.wheel = d.wheel;
  } else if (role === 'focuser') d.focuser = device as Part['focuser'];
  else {
    const m = device as Part['mount'];
    d.guide = m;
    d.mount = (await m.canGoto()) ? m : undefined;
  }
}

export const SAFETY_SPEC_HELP = 'alpaca://HOST:PORT/N (a SafetyMonitor) or indi://HOST:PORT[/DEVICE] (a weather station)';

/** A safety monitor from its spec: an Alpaca SafetyMonitor or an INDI weather station (WEATHER_STATUS). */
export async function openSafety(spec: string): Promise<{ monitor: SafetyMonitor; close: () => void }> {
  if (spec.startsWith('alpaca://')) return { monitor: await openAlpacaSafety(spec), close: () => undefined };
  if (spec.startsWith('indi://')) return openIndiSafety(spec);
  throw new DarkroomError('BAD_ARGUMENT', `unknown safety monitor '${spec}' (use ${SAFETY_SPEC_HELP})`);
}

async function openPart<R extends PartRole>(role: R, spec: string): Promise<{ device: Part[R]; close: () => void }> {
  if (spec.startsWith('indi://')) return openIndiPart(spec, role);
  if (spec.startsWith('alpaca://')) return { device: await openAlpacaPart(spec, role), close: () => undefined };
  throw new DarkroomError('BAD_ARGUMENT', `unknown ${role} '${spec}' (use ${PART_SPEC_HELP})`);
}
