/**
 * The rig `darkroom sequence --device sim` runs a plan on, all on one virtual clock: the QSI-like camera
 * and its wheel, a focuser setting the camera's star size, a goto mount with a pointing model, pier side
 * and meridian flip (SimMount at the plan's site), and a safety monitor (unsafe during `--unsafe`
 * windows). With a plan `target` the camera is a 1536x1024 window of the KAF-8300 rendering the
 * catalogue sky (skyStars) where the mount really points, at the plan's focal length (default 530 mm,
 * the simulator's telescope), turned by 180 degrees after a flip, so that centering solves for real.
 * And the hooks of night automation for a real rig (INDI, Alpaca): autofocus with its focuser; the
 * plan keys that need a device the rig lacks are refused by the sequencer before anything moves.
 */
import type { AutomationHooks } from '../acquire/automation.js';
import { VirtualClock } from '../acquire/clock.js';
import { autofocusHook } from '../acquire/focus.js';
import type { Plan } from '../acquire/plan.js';
import { SimSafetyMonitor } from '../devices/sim/safety.js';
import { sensorModel } from '../devices/sim/sensors.js';
import { SimCamera } from '../devices/sim/simcamera.js';
import { SimFocuser } from '../devices/sim/simfocuser.js';
import { SimMount, type SimMountOptions } from '../devices/sim/simmount.js';
import { skyStars } from '../devices/sim/stars.js';
import { simSettingsPath } from '../devices/sim/qsi.js';
import { DarkroomError } from '../util/errors.js';

/** Focal length of the simulator's telescope, mm (the rig's 80 mm f/6.6 refractor). */
export const SIM_FOCAL_LENGTH = 530;

/** `--unsafe 20-50,90-100`: minutes after the start during which the simulated safety monitor says unsafe. */
export function parseUnsafe(text: string | undefined, t0: number): { from: number; to: number }[] {
  if (!text) return [];
  return text.split(',').map((w) => {
    const m = /^\s*(\d+(?:\.\d+)?)\s*-\s*(\d+(?:\.\d+)?)\s*$/.exec(w);
    if (!m || !(Number(m[2]) > Number(m[1]))) throw new DarkroomError('BAD_ARGUMENT', `--unsafe must be FROM-TO minutes after the start (e.g. 20-50), got '${w}'`);
    return { from: t0 + Number(m[1]) * 60_000, to: t0 + Number(m[2]) * 60_000 };
  });
}


export interface SimSequenceRig {
  clock: VirtualClock;
  camera: SimCamera;
  focuser: SimFocuser;
  mount: SimMount;
  safety: SimSafetyMonitor;
  automation: AutomationHooks;
}

/**
 * The camera, focuser and goto mount on a virtual clock; with `sky`, the camera (a 1536x1024 KAF-8300
 * window) renders the catalogue stars where the mount really points, turned by 180 degrees on the east side.
 */
export function simSkyRig(o: { sky: boolean; focalLength?: number; mount?: Omit<SimMountOptions, 'clock'> }): Omit<SimSequenceRig, 'safety' | 'automation'> {
  const clock = new VirtualClock();
  const focuser = new SimFocuser({ clock });
  const mount = new SimMount({ clock, ...o.mount });
  const sensor = o.sky ? sensorModel('kaf8300', { width: 1536, height: 1024 }) : undefined;
  const focalLength = o.focalLength ?? SIM_FOCAL_LENGTH;
  const sky = sensor
    ? () => skyStars({ ...mount.truePointing(), rotation: mount.side === 'east' ? 180 : 0, focalLength, pixelSize: sensor.pixelSize, width: sensor.width, height: sensor.height })
    : undefined;
  const camera = new SimCamera({ clock, readoutMs: 1000, wheelMsPerSlot: 400, settingsFile: simSettingsPath(), psf: () => focuser.psf(), ...(sensor ? { sensor, skyStars: sky } : {}) });
  return { clock, camera, focuser, mount };
}

export function simSequenceRig(plan: Plan, opts: { unsafe?: string } = {}): SimSequenceRig {
  const p = plan.profile;
  const site = { ...(p.siteLat !== undefined ? { siteLat: p.siteLat } : {}), ...(p.siteLong !== undefined ? { siteLong: p.siteLong } : {}) };
  const { clock, camera, focuser, mount } = simSkyRig({ sky: plan.target !== undefined, focalLength: p.focalLength, mount: site });
  const safety = new SimSafetyMonitor(clock, parseUnsafe(opts.unsafe, clock.now()));
  return { clock, camera, focuser, mount, safety, automation: { mount, safety, autofocus: autofocusHook(camera, focuser), solve: { timeout: 30 } } };
}
