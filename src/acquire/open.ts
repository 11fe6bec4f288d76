/**
 * Open a camera (and its filter wheel) from a device spec: `sim` (the built-in simulator),
 * `indi://HOST:PORT[/DEVICE]` or `alpaca://HOST:PORT/N`. Shared by the CLI and the server. When the
 * server also has a mount that can pulse-guide (INDI: a telescope device; Alpaca: telescope/0), it is
 * opened as `guide`. This is the one place that knows every kind of device: devices/ itself never
 * imports the simulator.
 */
import { DarkroomError } from '../util/errors.js';
import { openAlpaca } from '../devices/alpaca/open.js';
import { openIndi } from '../devices/indi/open.js';
import { simulatedRig } from '../devices/sim/rig.js';
import type { OpenedDevice } from '../devices/types.js';

export type { OpenedDevice };

export const DEVICE_SPEC_HELP = 'sim, indi://HOST:PORT[/DEVICE] or alpaca://HOST:PORT/N';

/** `simSpeed`: how much faster than real time the simulator's clock runs. */
export async function openDevice(spec: string, opts: { simSpeed?: number } = {}): Promise<OpenedDevice> {
  if (spec === 'sim') {
    const { camera, clock, focuser } = simulatedRig({ speed: opts.simSpeed ?? 600 });
    await camera.connect();
    return { spec, camera, wheel: camera.wheel, focuser, clock, close: () => undefined };
  }
  if (spec.startsWith('alpaca://')) return openAlpaca(spec);
  if (spec.startsWith('indi://')) return openIndi(spec);
  throw new DarkroomError('BAD_ARGUMENT', `unknown device '${spec}' (use ${DEVICE_SPEC_HELP})`);
}
