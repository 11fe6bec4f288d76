/**
 * `darkroom focus [--device SPEC] [--focuser SPEC] [--auto] [--exposure S] [--count N] [--step N] [--points N] [--json]`
 * Focus loop (HFR/FWHM of the brightest stars) or autofocus (V-curve, hyperbola fit) with any camera and
 * focuser: the built-in simulator (whose focuser hides its best position, on a virtual clock), or an INDI
 * or Alpaca camera with its server's focuser or one named with --focuser.
 */
import type { Command } from 'commander';
import { DarkroomError } from '../util/errors.js';
import { deviceCommand, numberArg, partSpecs } from './device-options.js';
import { SimCamera } from '../devices/sim/simcamera.js';
import { SimFocuser } from '../devices/sim/simfocuser.js';
import type { Camera, Focuser } from '../devices/types.js';
import { VirtualClock } from '../acquire/clock.js';
import { DEVICE_SPEC_HELP, openDevice, type PartSpecs } from '../acquire/open.js';
import { autofocus, focusLoop, fullFrame, type AutofocusResult } from '../acquire/focus.js';
import { Rng } from '../util/random.js';

interface FocusOpts extends PartSpecs {
  device: string;
  auto?: boolean;
  exposure: string;
  count: string;
  step: string;
  points: string;
  seed: string;
  json?: boolean;
}

function num(name: string, v: string, min: number): number {
  return numberArg(name, v, (n) => Number.isFinite(n) && n >= min, `a number >= ${min}`);
}

const write = (opts: FocusOpts, o: unknown, text: string): void => {
  process.stdout.write(opts.json ? `${JSON.stringify(o, null, 2)}\n` : text);
};

export function registerFocus(program: Command): void {
  deviceCommand(program, 'focus', 'focus loop (HFR/FWHM) or autofocus with a V-curve', {
    device: { help: `camera and focuser: ${DEVICE_SPEC_HELP}`, default: 'sim' },
    exposure: { help: 'exposure, s', default: '1' },
    seed: { help: 'simulator seed', default: '1' },
    parts: ['focuser'],
    json: 'print JSON',
  })
    .option('--auto', 'run autofocus')
    .option('--count <n>', 'frames in the focus loop', '5')
    .option('--step <n>', 'autofocus step, focuser steps', '40')
    .option('--points <n>', 'autofocus samples on each side of the centre', '4')
    .action(async (opts: FocusOpts) => {
      const exposure = num('exposure', opts.exposure, 0.001);
      if (opts.device === 'sim' && !opts.focuser) return focusSim(opts, exposure);
      const d = await openDevice(opts.device, { parts: partSpecs(opts) });
      try {
        if (!d.focuser) throw new DarkroomError('UNSUPPORTED', `no focuser on ${opts.device} (name one with --focuser)`);
        await fullFrame(d.camera);
        if (!opts.auto) return await loop(opts, d.camera, exposure);
        const r = await runAutofocus(opts, d.camera, d.focuser, exposure);
        const res = { ...summary(r), position: await d.focuser.position() };
        write(opts, res, `${describe(r)}\nfocuser at ${res.position}\n`);
      } finally {
        d.close();
      }
    });
}

/** The built-in simulator on a virtual clock, with a focuser whose best position is drawn from the seed. */
async function focusSim(opts: FocusOpts, exposure: number): Promise<void> {
  const rng = new Rng(num('seed', opts.seed, 0));
  const clock = new VirtualClock();
  const focuser = new SimFocuser({ clock, position: 25_000, best: 25_000 + Math.round((rng.uniform() - 0.5) * 300) });
  const camera = new SimCamera({ clock, psf: () => focuser.psf() });
  await camera.connect();
  if (!opts.auto) return loop(opts, camera, exposure);
  const r = await runAutofocus(opts, camera, focuser, exposure);
  const res = { ...summary(r), criticalFocusZone: focuser.criticalFocusZone(), trueBest: focuser.best };
  write(opts, res, `${describe(r)}\nsimulator: true best ${focuser.best}, critical focus zone ${focuser.criticalFocusZone().toFixed(0)} steps\n`);
}

async function loop(opts: FocusOpts, camera: Camera, exposure: number): Promise<void> {
  const count = Math.round(num('count', opts.count, 1));
  const ms = await focusLoop(camera, {
    exposure,
    count,
    onFrame: (i, m) => !opts.json && process.stdout.write(`frame ${i + 1}: HFR ${m.hfr.toFixed(2)} px  FWHM ${m.fwhm.toFixed(2)} px  (${m.stars} stars)\n`),
  });
  if (opts.json) write(opts, ms, '');
}

function runAutofocus(opts: FocusOpts, camera: Camera, focuser: Focuser, exposure: number): Promise<AutofocusResult> {
  return autofocus(camera, focuser, {
    exposure,
    step: Math.round(num('step', opts.step, 1)),
    points: Math.round(num('points', opts.points, 2)),
    onPoint: (p) => !opts.json && process.stdout.write(`position ${p.position}: FWHM ${p.value.toFixed(2)} px (${p.stars} stars)\n`),
  });
}

function summary(r: AutofocusResult) {
  return { best: r.best, fwhmAtBest: r.final.fwhm, hfrAtBest: r.final.hfr, fit: r.fit, passes: r.passes, points: r.points };
}

function describe(r: AutofocusResult): string {
  return `best focus ${r.best} (FWHM ${r.final.fwhm.toFixed(2)} px, HFR ${r.final.hfr.toFixed(2)} px; V-curve minimum ${r.fit.min.toFixed(2)} px, ${r.passes} passes)`;
}
