/**
 * `darkroom guide --device sim --duration S [--no-guide] [--dither] [--json]`
 * Guide on the simulated mount (drift + periodic error) for S seconds of simulated time: select a star,
 * calibrate, guide, report RMS in px and arcsec.
 */
import type { Command } from 'commander';
import { DarkroomError } from '../util/errors.js';
import { SimGuideCamera, SimMount } from '../devices/simmount.js';
import { VirtualClock } from '../acquire/clock.js';
import { Guider } from '../acquire/guide.js';

export function registerGuide(program: Command): void {
  program
    .command('guide')
    .description('autoguide on the simulated mount and report the RMS error')
    .option('--device <spec>', 'guide camera and mount: sim', 'sim')
    .option('--duration <s>', 'simulated seconds to guide', '600')
    .option('--exposure <s>', 'guide exposure, s', '2')
    .option('--no-guide', 'only watch the star (no corrections)')
    .option('--dither', 'dither once at the end and report the settling time')
    .option('--json', 'print JSON')
    .action(async (opts: { device: string; duration: string; exposure: string; guide: boolean; dither?: boolean; json?: boolean }) => {
      if (opts.device !== 'sim') throw new DarkroomError('UNSUPPORTED', `guide supports --device sim only for now (got '${opts.device}')`);
      const duration = Number(opts.duration);
      if (!(duration > 0 && duration <= 86_400)) throw new DarkroomError('BAD_ARGUMENT', `--duration must be 0..86400 s, got '${opts.duration}'`);
      const exposure = Number(opts.exposure);
      if (!(exposure > 0 && exposure <= 60)) throw new DarkroomError('BAD_ARGUMENT', `--exposure must be 0..60 s, got '${opts.exposure}'`);
      const clock = new VirtualClock();
      const mount = new SimMount({ clock, cameraAngle: 33 });
      const cam = new SimGuideCamera(mount);
      const g = new Guider(cam, mount, clock, { exposure, pixelScale: mount.pixelScale });
      const cal = await g.calibrate();
      const st = await g.run(duration, opts.guide);
      const dither = opts.dither && opts.guide ? await g.dither() : undefined;
      if (opts.json) {
        process.stdout.write(`${JSON.stringify({ calibration: cal, stats: st, dither }, null, 2)}\n`);
        return;
      }
      process.stdout.write(
        `calibration: camera angle ${cal.cameraAngle.toFixed(1)} deg, RA ${cal.raRate.toFixed(2)} px/s, Dec ${cal.decRate.toFixed(2)} px/s, orthogonality error ${cal.orthogonalityError.toFixed(1)} deg\n` +
          `${opts.guide ? 'guided' : 'unguided'} ${duration} s: RMS RA ${st.rmsRa.toFixed(2)} px (${st.rmsRaArcsec.toFixed(2)}")  Dec ${st.rmsDec.toFixed(2)} px (${st.rmsDecArcsec.toFixed(2)}")  total ${st.rmsTotal.toFixed(2)} px (${st.rmsTotalArcsec.toFixed(2)}"), ${st.samples} frames\n` +
          (dither ? `dither (${dither.offset.x.toFixed(1)}, ${dither.offset.y.toFixed(1)}) px: ${dither.settled ? `settled in ${dither.seconds.toFixed(0)} s` : 'did not settle'}\n` : ''),
      );
    });
}
