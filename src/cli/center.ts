/**
 * `darkroom center --device sim|alpaca://..|indi://.. [--mount SPEC] (--ra DEG --dec DEG | --target M31)
 * [--tolerance 30] [--json]`: slew, expose, plate solve (solve-field), sync and re-slew until the target is
 * within the tolerance: on the simulator's goto mount (pointing model, catalogue sky, virtual clock), or
 * with the camera and goto mount of an Alpaca or INDI server (the mount from another server with --mount).
 */
import type { Command } from 'commander';
import { centerOn, type CenterStep } from '../acquire/center.js';
import { CENTER_CATALOGUE, type CenterCliOptions } from '../acquire/center-options.js';
import { formatDec, formatRa } from '../solve/index.js';
import { separationDeg } from '../session/coords.js';
import { DarkroomError } from '../util/errors.js';
import { openDevice, DEVICE_SPEC_HELP, PART_SPEC_HELP } from '../acquire/open.js';
import type { Camera, GotoTelescope } from '../devices/types.js';
import { addOptions, parseCli } from '../util/options.js';
import { simSkyRig } from './sequence-sim.js';

function target(o: CenterCliOptions): { name?: string; ra: number; dec: number } {
  if (o.target && (o.ra !== undefined || o.dec !== undefined)) throw new DarkroomError('BAD_ARGUMENT', 'give --target or --ra/--dec, not both');
  if (o.target) return o.target;
  if (o.ra === undefined || o.dec === undefined) throw new DarkroomError('BAD_ARGUMENT', 'center needs --ra and --dec (J2000 degrees) or --target NAME');
  return { ra: o.ra, dec: o.dec };
}

const stepLine = (s: CenterStep) =>
  `frame ${s.iteration}: mount at RA ${formatRa(s.mount.ra)} Dec ${formatDec(s.mount.dec)}, solved RA ${formatRa(s.solved.ra)} Dec ${formatDec(s.solved.dec)}: ${s.error.toFixed(1)}" from the target${s.synced ? ', sync and slew again' : ''}\n`;

export function registerCenter(program: Command): void {
  const cmd = program
    .command('center')
    .description('center a target: slew, expose, plate solve, sync and slew again until within the tolerance (the simulator, on a virtual clock)')
    .option('--device <spec>', `the camera (and goto mount): ${DEVICE_SPEC_HELP} (sim: the simulated goto mount and camera)`, 'sim')
    .option('--mount <spec>', `the goto mount from another server: ${PART_SPEC_HELP} (default: the --device server's)`)
    .option('--json', 'print a JSON report');
  addOptions(cmd, CENTER_CATALOGUE).action(async (flags: Record<string, unknown>) => {
    const o = parseCli(CENTER_CATALOGUE, flags) as unknown as CenterCliOptions;
    const t = target(o);
    const rig = await openRig(String(flags.device), flags.mount as string | undefined, o);
    let r;
    try {
      r = await centerOn({ camera: rig.camera, mount: rig.mount }, t, { tolerance: o.tolerance, maxIterations: o.maxIterations, exposure: o.exposure, binning: o.binning, focalLength: rig.focalLength, solve: { timeout: 60 } }, (s) => {
        if (!flags.json) process.stdout.write(stepLine(s));
      });
    } finally {
      rig.close();
    }
    // the simulator's ground truth: where the mount really points
    const p = rig.truePointing?.();
    const trueError = p ? separationDeg(p.ra, p.dec, t.ra, t.dec) * 3600 : undefined;
    if (flags.json) process.stdout.write(`${JSON.stringify({ target: t, ...r, ...(trueError !== undefined ? { trueError } : {}) }, null, 2)}\n`);
    else if (r.centered) process.stdout.write(`centered: ${r.error.toFixed(1)}" from the target after ${r.steps.length} frame${r.steps.length === 1 ? '' : 's'}${trueError !== undefined ? ` (the simulated mount is ${trueError.toFixed(1)}" off)` : ''}\n`);
    if (!r.centered) {
      process.stderr.write(`darkroom: not centered: ${r.error.toFixed(1)}" from the target after ${r.steps.length} frame${r.steps.length === 1 ? '' : 's'} (tolerance ${o.tolerance}")\n`);
      process.exitCode = 2;
    }
  });
}

interface CenterRig {
  camera: Camera;
  mount: GotoTelescope;
  focalLength?: number;
  close: () => void;
  /** The simulator's ground truth. */
  truePointing?: () => { ra: number; dec: number };
}

/** The simulator's sky rig, or the camera and goto mount of INDI / Alpaca servers (refused in one line when the mount cannot slew and sync). */
async function openRig(device: string, mountSpec: string | undefined, o: CenterCliOptions): Promise<CenterRig> {
  if (device === 'sim') {
    if (mountSpec) throw new DarkroomError('BAD_ARGUMENT', '--mount needs an INDI or Alpaca --device (with --device sim the mount is simulated)');
    const { camera, mount } = simSkyRig({ sky: true, focalLength: o.focalLength, mount: { pointingError: o.pointingError, pointingSeed: o.seed } });
    await camera.connect();
    return { camera, mount, focalLength: o.focalLength ?? 530, close: () => undefined, truePointing: () => mount.truePointing() };
  }
  const d = await openDevice(device, { parts: { mount: mountSpec } });
  if (!d.mount) {
    d.close();
    throw new DarkroomError('BAD_ARGUMENT', `center needs a goto mount: ${mountSpec ?? device} has no mount that can slew and sync`);
  }
  return { camera: d.camera, mount: d.mount, focalLength: o.focalLength, close: d.close };
}
