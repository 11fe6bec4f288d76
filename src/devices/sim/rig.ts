/**
 * The simulated rig served by `darkroom alpaca-sim` and opened by `--device sim`: the QSI-like camera
 * with its internal wheel, a guide port and a focuser (at best focus; its position sets the camera's
 * star size unless `psf` is given), all on one clock. The guide port drives a simulated mount
 * (SimMount) whose pointing moves the camera's stars (unless `pointing` is given): its drift (none
 * unless `mount` says so) carries them away, guide pulses bring them back.
 */
import { AcceleratedClock, realClock, type Clock } from '../types.js';
import { SimGuideOutput } from './guide-port.js';
import { SimMount, type SimMountOptions } from './simmount.js';
import { SimCamera, type SimCameraOptions } from './simcamera.js';
import { SimFocuser } from './simfocuser.js';
import type { SimFilterWheel } from './wheel.js';

export interface SimRig {
  clock: Clock;
  camera: SimCamera;
  wheel: SimFilterWheel;
  telescope: SimGuideOutput;
  /** The mount behind the guide port: where it points moves the camera's stars. */
  mount: SimMount;
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

/**
 * Plate scale of the rig's camera, arcsec per unbinned pixel: its 5.4 um pixels behind 530 mm of focal
 * length (an 80 mm f/6.6 refractor).
 */
export const SIM_RIG_PIXEL_SCALE = (206.265 * 5.4) / 530;

/** The rig's mount by default: a perfect one (no drift, no periodic error), the RA axis along the sensor's x. */
const RIG_MOUNT: SimMountOptions = { pixelScale: SIM_RIG_PIXEL_SCALE, cameraAngle: 0, driftRa: 0, driftDec: 0, pe: 0 };

/**
 * The camera (on `opts.clock`, else a clock `speed` times faster than real time, else the wall clock),
 * its wheel, a guide port into a simulated mount (`mount`: its drift, periodic error, guide rate...)
 * and a focuser.
 */
export function simulatedRig(opts: SimCameraOptions & { speed?: number; mount?: Omit<SimMountOptions, 'clock'> } = {}): SimRig {
  const { speed, mount: mountOpts, ...camOpts } = opts;
  const clock = camOpts.clock ?? (speed !== undefined ? new AcceleratedClock(speed) : realClock);
  const focuser = new SimFocuser({ clock });
  const mount = new SimMount({ ...RIG_MOUNT, ...mountOpts, clock });
  const camera = new SimCamera({ psf: () => focuser.psf(), pointing: () => mount.pointing(), ...camOpts, clock });
  return { clock, camera, wheel: camera.wheel, telescope: new SimGuideOutput(clock, mount), mount, focuser, names: SIM_DEVICE_NAMES };
}
