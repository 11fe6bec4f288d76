/**
 * `darkroom guide --device sim --duration S [--no-guide] [--dither] [--json]`
 * Guide on the simulated mount (drift + periodic error) for S seconds of simulated time: select a star,
 * calibrate, guide, report RMS in px and arcsec.
 */
import type { Command } from 'commander';
import { deviceCommand, numberArg, requireSimDevice } from './device-options.js';
import { SimGuideCamera, SimMount } from '../devices/sim/simmount.js';
import { VirtualClock } from '../acquire/clock.js';
import { Guider } from '../acquire/guide.js';

export function registerGuide(program: Command): void {
  deviceCommand(program, 'guide', 'autoguide on the simulated mount and report the RMS error', {
    device: { help: 'guide camera and mount: sim', default: 'sim' },
    exposure: { help: 'guide exposure, s', default: '2' },
    json: 'print JSON',
  })
    .option('--duration <s>', 'simulated seconds to guide', '600')
    .option('--no-guide', 'only watch the star (no corrections)')
    .option('--dither', 'dither once at the end and report the settling time')
    .action(async (opts: { device: string; duration: string; exposure: string; guide: boolean; dither?: boolean; json?: boolean }) => {
      requireSimDevice('guide', opts.device);
      const duration = numberArg('duration', opts.duration, (n) => n > 0 && n <= 86_400, '0..86400 s');
      const exposure = numberArg('exposure', opts.exposure, (n) => n > 0 && n <= 60, '0..60 s');
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
