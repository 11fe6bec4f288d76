/**
 * `darkroom center --device sim (--ra DEG --dec DEG | --target M31) [--tolerance 30] [--json]`: slew,
 * expose, plate solve (solve-field), sync and re-slew until the target is within the tolerance, on the
 * simulator's goto mount (pointing model, catalogue sky, virtual clock). INDI and Alpaca mounts are
 * opened for guiding only, so other devices are refused in one line.
 */
import type { Command } from 'commander';
import { centerOn, type CenterStep } from '../acquire/center.js';
import { CENTER_CATALOGUE, type CenterCliOptions } from '../acquire/center-options.js';
import { formatDec, formatRa } from '../solve/index.js';
import { separationDeg } from '../session/coords.js';
import { DarkroomError } from '../util/errors.js';
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
    .option('--device <spec>', 'the rig: sim (the simulated goto mount and camera)', 'sim')
    .option('--json', 'print a JSON report');
  addOptions(cmd, CENTER_CATALOGUE).action(async (flags: Record<string, unknown>) => {
    if (flags.device !== 'sim') throw new DarkroomError('BAD_ARGUMENT', `center needs a goto mount: '${String(flags.device)}' is opened for guiding only (use --device sim)`);
    const o = parseCli(CENTER_CATALOGUE, flags) as unknown as CenterCliOptions;
    const t = target(o);
    const { camera, mount } = simSkyRig({ sky: true, focalLength: o.focalLength, mount: { pointingError: o.pointingError, pointingSeed: o.seed } });
    await camera.connect();
    const r = await centerOn({ camera, mount }, t, { tolerance: o.tolerance, maxIterations: o.maxIterations, exposure: o.exposure, binning: o.binning, focalLength: o.focalLength ?? 530, solve: { timeout: 30 } }, (s) => {
      if (!flags.json) process.stdout.write(stepLine(s));
    });
    // the simulator's ground truth: where the mount really points
    const p = mount.truePointing();
    const trueError = separationDeg(p.ra, p.dec, t.ra, t.dec) * 3600;
    if (flags.json) process.stdout.write(`${JSON.stringify({ target: t, ...r, trueError }, null, 2)}\n`);
    else if (r.centered) process.stdout.write(`centered: ${r.error.toFixed(1)}" from the target after ${r.steps.length} frame${r.steps.length === 1 ? '' : 's'} (the simulated mount is ${trueError.toFixed(1)}" off)\n`);
    if (!r.centered) {
      process.stderr.write(`darkroom: not centered: ${r.error.toFixed(1)}" from the target after ${r.steps.length} frame${r.steps.length === 1 ? '' : 's'} (tolerance ${o.tolerance}")\n`);
      process.exitCode = 2;
    }
  });
}
