/**
 * The simulated rig served by `darkroom alpaca-sim` and opened by `--device sim`: the QSI-like camera
 * with its internal wheel, a guide port and a focuser (at best focus; its position sets the camera's
 * star size unless `psf` is given), all on one clock.
 */
import { AcceleratedClock, realClock, type Clock } from '../types.js';
import { SimGuideOutput } from './guide-port.js';
import { SimCamera, type SimCameraOptions } from './simcamera.js';
import { SimFocuser } from './simfocuser.js';
import type { SimFilterWheel } from './wheel.js';

export interface SimRig {
  clock: Clock;
  camera: SimCamera;
  wheel: SimFilterWheel;
  telescope: SimGuideOutput;
  focuser: SimFocuser;
  /** Names the Alpaca server gives the simulated devices. */
  names: { server: string; driver: string; wheel: string; telescope: string; focuser: string };
}

export const SIM_DEVICE_NAMES: SimRig['names'] = {
  server: 'Darkroom Alpaca simulator',
  driver: 'Darkroom simulator',
  wheel: 'QSI internal filter wheel (simulated)',
  telescope: 'Guide port (simulated mount)',
  focuser: 'Focuser (simulated)',
};

/** The camera (on `opts.clock`, else a clock `speed` times faster than real time, else the wall clock), its wheel, a guide port and a focuser. */
export function simulatedRig(opts: SimCameraOptions & { speed?: number } = {}): SimRig {
  const { speed, ...camOpts } = opts;
  const clock = camOpts.clock ?? (speed !== undefined ? new AcceleratedClock(speed) : realClock);
  const focuser = new SimFocuser({ clock });
  const camera = new SimCamera({ psf: () => focuser.psf(), ...camOpts, clock });
  return { clock, camera, wheel: camera.wheel, telescope: new SimGuideOutput(clock), focuser, names: SIM_DEVICE_NAMES };
}
