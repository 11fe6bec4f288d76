/**
 * `darkroom guide [--device SPEC] [--mount SPEC] --duration S [--no-guide] [--dither] [--json]`
 * Guide for S seconds: select a star, calibrate with pulses, guide, report RMS in px and arcsec. With
 * `--device sim` the simulated mount (drift + periodic error) runs on a virtual clock; with an INDI or
 * Alpaca camera the frames come from that camera and the pulses go to its server's mount (or the one
 * named with --mount), in real time. `--no-guide` only watches the star (no calibration, no pulses).
 */
import type { Command } from 'commander';
import { DarkroomError } from '../util/errors.js';
import { deviceCommand, numberArg, partSpecs } from './device-options.js';
import { SimGuideCamera, SimMount } from '../devices/sim/simmount.js';
import { VirtualClock } from '../acquire/clock.js';
import { DEVICE_SPEC_HELP, openDevice, type PartSpecs } from '../acquire/open.js';
import { fullFrame } from '../acquire/focus.js';
import { CameraGuideFrames, Guider, type GuiderOptions } from '../acquire/guide.js';

interface GuideOpts extends PartSpecs {
  device: string;
  duration: string;
  exposure: string;
  calibrationStep: string;
  calibrationDistance: string;
  guide: boolean;
  dither?: boolean;
  json?: boolean;
}

export function registerGuide(program: Command): void {
  deviceCommand(program, 'guide', 'autoguide a mount from a camera\'s frames and report the RMS error', {
    device: { help: `guide camera and mount: ${DEVICE_SPEC_HELP}`, default: 'sim' },
    exposure: { help: 'guide exposure, s', default: '2' },
    parts: ['mount'],
    json: 'print JSON',
  })
    .option('--duration <s>', 'seconds to guide (simulated seconds with --device sim)', '600')
    .option('--calibration-step <ms>', 'calibration pulse length, ms', '1000')
    .option('--calibration-distance <px>', 'calibrate until the star moved this far, px', '20')
    .option('--no-guide', 'only watch the star (no calibration, no corrections)')
    .option('--dither', 'dither once at the end and report the settling time')
    .action(async (opts: GuideOpts) => {
      const duration = numberArg('duration', opts.duration, (n) => n > 0 && n <= 86_400, '0..86400 s');
      const o: GuiderOptions = {
        exposure: numberArg('exposure', opts.exposure, (n) => n > 0 && n <= 60, '0..60 s'),
        calibrationStepMs: numberArg('calibration-step', opts.calibrationStep, (n) => Number.isInteger(n) && n >= 10 && n <= 10_000, 'an integer 10..10000 ms'),
        calibrationDistance: numberArg('calibration-distance', opts.calibrationDistance, (n) => n >= 2 && n <= 200, '2..200 px'),
      };
      if (opts.device === 'sim' && !opts.mount) {
        const clock = new VirtualClock();
        const mount = new SimMount({ clock, cameraAngle: 33 });
        return guideWith(opts, duration, new Guider(new SimGuideCamera(mount), mount, clock, { ...o, pixelScale: mount.pixelScale }));
      }
      const d = await openDevice(opts.device, { parts: partSpecs(opts) });
      try {
        if (!d.guide) throw new DarkroomError('UNSUPPORTED', `no mount that can pulse-guide on ${opts.device} (name one with --mount)`);
        await fullFrame(d.camera);
        await guideWith(opts, duration, new Guider(new CameraGuideFrames(d.camera), d.guide, d.clock, o));
      } finally {
        d.close();
      }
    });
}

/** Calibrate (unless only watching), guide or watch for `duration` s, dither when asked; print the outcome. */
async function guideWith(opts: GuideOpts, duration: number, g: Guider): Promise<void> {
  const cal = opts.guide ? await g.calibrate() : null;
  const st = await g.run(duration, opts.guide);
  const dither = opts.dither && opts.guide ? await g.dither() : undefined;
  if (opts.json) {
    process.stdout.write(`${JSON.stringify({ calibration: cal, pixelScale: g.pixelScale, stats: st, dither, samples: g.samples }, null, 2)}\n`);
    return;
  }
  process.stdout.write(
    (cal
      ? `calibration: camera angle ${cal.cameraAngle.toFixed(1)} deg, RA ${cal.raRate.toFixed(2)} px/s, Dec ${cal.decRate.toFixed(2)} px/s, orthogonality error ${cal.orthogonalityError.toFixed(1)} deg\n`
      : 'not calibrated (--no-guide): offsets along the sensor x and y\n') +
      `${opts.guide ? 'guided' : 'unguided'} ${duration} s: RMS RA ${st.rmsRa.toFixed(2)} px (${st.rmsRaArcsec.toFixed(2)}")  Dec ${st.rmsDec.toFixed(2)} px (${st.rmsDecArcsec.toFixed(2)}")  total ${st.rmsTotal.toFixed(2)} px (${st.rmsTotalArcsec.toFixed(2)}"), ${st.samples} frames at ${g.pixelScale.toFixed(2)}"/px\n` +
      (dither ? `dither (${dither.offset.x.toFixed(1)}, ${dither.offset.y.toFixed(1)}) px: ${dither.settled ? `settled in ${dither.seconds.toFixed(0)} s` : 'did not settle'}\n` : ''),
  );
}
