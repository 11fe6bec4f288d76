/**
 * `darkroom focus --device sim [--auto] [--exposure S] [--count N] [--step N] [--json]`
 * Focus loop (HFR/FWHM of the brightest stars) or autofocus (V-curve, hyperbola fit) on the simulator,
 * whose focuser hides its best position.
 */
import type { Command } from 'commander';
import { deviceCommand, numberArg, requireSimDevice } from './device-options.js';
import { SimCamera } from '../devices/sim/simcamera.js';
import { SimFocuser } from '../devices/sim/simfocuser.js';
import { VirtualClock } from '../acquire/clock.js';
import { autofocus, focusLoop } from '../acquire/focus.js';
import { Rng } from '../util/random.js';

function num(name: string, v: string, min: number): number {
  return numberArg(name, v, (n) => Number.isFinite(n) && n >= min, `a number >= ${min}`);
}

export function registerFocus(program: Command): void {
  deviceCommand(program, 'focus', 'focus loop (HFR/FWHM) or autofocus with a V-curve', {
    device: { help: 'camera and focuser: sim', default: 'sim' },
    exposure: { help: 'exposure, s', default: '1' },
    seed: { help: 'simulator seed', default: '1' },
    json: 'print JSON',
  })
    .option('--auto', 'run autofocus')
    .option('--count <n>', 'frames in the focus loop', '5')
    .option('--step <n>', 'autofocus step, focuser steps', '40')
    .action(async (opts: { device: string; auto?: boolean; exposure: string; count: string; step: string; seed: string; json?: boolean }) => {
      requireSimDevice('focus', opts.device);
      const exposure = num('exposure', opts.exposure, 0.001);
      const rng = new Rng(num('seed', opts.seed, 0));
      const clock = new VirtualClock();
      const focuser = new SimFocuser({ clock, position: 25_000, best: 25_000 + Math.round((rng.uniform() - 0.5) * 300) });
      const camera = new SimCamera({ clock, psf: () => focuser.psf() });
      await camera.connect();
      const out = (o: unknown, text: string) => process.stdout.write(opts.json ? `${JSON.stringify(o, null, 2)}\n` : text);
      if (!opts.auto) {
        const ms = await focusLoop(camera, { exposure, count: Math.round(num('count', opts.count, 1)), onFrame: (i, m) => !opts.json && process.stdout.write(`frame ${i + 1}: HFR ${m.hfr.toFixed(2)} px  FWHM ${m.fwhm.toFixed(2)} px  (${m.stars} stars)\n`) });
        if (opts.json) out(ms, '');
        return;
      }
      const r = await autofocus(camera, focuser, {
        exposure,
        step: Math.round(num('step', opts.step, 1)),
        onPoint: (p) => !opts.json && process.stdout.write(`position ${p.position}: FWHM ${p.value.toFixed(2)} px (${p.stars} stars)\n`),
      });
      const res = { best: r.best, fwhmAtBest: r.final.fwhm, hfrAtBest: r.final.hfr, fit: r.fit, passes: r.passes, criticalFocusZone: focuser.criticalFocusZone(), trueBest: focuser.best };
      out(res, `best focus ${r.best} (FWHM ${r.final.fwhm.toFixed(2)} px, HFR ${r.final.hfr.toFixed(2)} px; V-curve minimum ${r.fit.min.toFixed(2)} px, ${r.passes} passes)\nsimulator: true best ${focuser.best}, critical focus zone ${focuser.criticalFocusZone().toFixed(0)} steps\n`);
    });
}
