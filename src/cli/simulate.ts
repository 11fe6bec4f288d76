/** `darkroom simulate --out DIR`: a simulated night (bias, darks, flats, lights) plus a truth/ folder. */
import type { Command } from 'commander';
import { mkdirSync } from 'node:fs';
import { simulateSession } from '../devices/sim/session.js';
import { sensorModel } from '../devices/sim/sensors.js';
import { DarkroomError } from '../util/errors.js';

function count(name: string): (v: string) => number {
  return (v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0 || n > 1000) throw new DarkroomError('BAD_ARGUMENT', `--${name} must be an integer 0..1000, got '${v}'`);
    return n;
  };
}
function numberOpt(name: string): (v: string) => number {
  return (v: string) => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n)) throw new DarkroomError('BAD_ARGUMENT', `--${name} must be a number, got '${v}'`);
    return n;
  };
}

export function parseSize(v: string): { width: number; height: number } {
  const m = /^(\d+)x(\d+)$/i.exec(v.trim());
  if (!m) throw new DarkroomError('BAD_ARGUMENT', `--size must be WxH (e.g. 256x192), got '${v}'`);
  return { width: Number(m[1]), height: Number(m[2]) };
}

export function registerSimulate(program: Command): void {
  program
    .command('simulate')
    .description('simulate a night with a physical camera model: bias, darks, flats, flat-darks and lights as FITS, plus truth/ (expected signal, flat field, dark current, hot pixels), which the .darkroomignore it writes keeps out of a scan of the night')
    .requiredOption('--out <dir>', 'output folder')
    .option('--sensor <id>', 'sensor model: kaf8300 | kaf1603 | cmos', 'kaf8300')
    .option('--size <WxH>', 'override the sensor size (e.g. 256x192)')
    .option('--lights <n>', 'number of lights', count('lights'), 5)
    .option('--darks <n>', 'number of darks', count('darks'), 10)
    .option('--bias <n>', 'number of bias frames', count('bias'), 10)
    .option('--flats <n>', 'number of flats', count('flats'), 10)
    .option('--flatdarks <n>', 'number of flat-darks', count('flatdarks'), 0)
    .option('--exposure <s>', 'light exposure, s', numberOpt('exposure'), 300)
    .option('--dark-exposure <s>', 'dark exposure, s (default: the light exposure)', numberOpt('dark-exposure'))
    .option('--temp <C>', 'CCD temperature, C', numberOpt('temp'), -10)
    .option('--seed <s>', 'seed of the camera and the night', numberOpt('seed'), 1)
    .option('--json', 'print the list of files as JSON')
    .action((o: { out: string; sensor: string; size?: string; lights: number; darks: number; bias: number; flats: number; flatdarks: number; exposure: number; darkExposure?: number; temp: number; seed: number; json?: boolean }) => {
      const size = o.size ? parseSize(o.size) : {};
      const sensor = sensorModel(o.sensor, size);
      mkdirSync(o.out, { recursive: true });
      const ses = simulateSession(o.out, {
        sensor, seed: o.seed, lights: o.lights, darks: o.darks, bias: o.bias, flats: o.flats, flatDarks: o.flatdarks,
        lightExposure: o.exposure, darkExposure: o.darkExposure, ccdTemp: o.temp,
      });
      const summary = {
        dir: ses.dir, sensor: sensor.id, width: sensor.width, height: sensor.height,
        bias: ses.bias, darks: ses.darks, flats: ses.flats, flatDarks: ses.flatDarks, lights: ses.lights,
        truth: { signals: ses.truthSignals, flat: ses.truthFlat, darkCurrent: ses.truthDark, hotPixels: ses.truthHotPixels },
      };
      if (o.json) process.stdout.write(JSON.stringify(summary, null, 2) + '\n');
      else process.stdout.write(`simulated ${sensor.id} ${sensor.width}x${sensor.height}: ${ses.bias.length} bias, ${ses.darks.length} darks, ${ses.flats.length} flats, ${ses.flatDarks.length} flat-darks, ${ses.lights.length} lights in ${o.out}\n`);
    });
}
