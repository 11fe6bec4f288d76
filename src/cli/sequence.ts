/**
 * `darkroom sequence PLAN.json --device sim --out DIR [--dry-run] [--json]`
 * Plans are JSON or YAML. The built-in simulator runs on a virtual clock (simulated time passes instantly).
 */
import { mkdirSync, existsSync, statSync } from 'node:fs';
import type { Command } from 'commander';
import { DarkroomError } from '../util/errors.js';
import { SimCamera, QSI_FILTERS } from '../devices/sim/simcamera.js';
import { openDevice, DEVICE_SPEC_HELP } from '../acquire/open.js';
import type { Camera, Clock, FilterWheel } from '../devices/types.js';
import { VirtualClock } from '../acquire/clock.js';
import { describePlan, estimateDuration, expandPlan, formatDuration, readPlan } from '../acquire/plan.js';
import { Sequencer } from '../acquire/sequencer.js';
import { deviceCommand, partSpecs } from './device-options.js';

export function registerSequence(program: Command): void {
  deviceCommand(program, 'sequence', 'run an acquisition plan (JSON or YAML): cooling, filters, exposures, autosave names', {
    device: { help: `camera: ${DEVICE_SPEC_HELP}`, default: 'sim' },
    parts: ['wheel'],
    json: 'print a JSON summary',
  })
    .argument('<plan>', 'plan file (JSON, or YAML for .yaml/.yml)')
    .option('--out <dir>', 'output folder', '.')
    .option('--dry-run', 'print the frame list and the duration estimate only')
    .action(async (planPath: string, opts: { device: string; wheel?: string; out: string; dryRun?: boolean; json?: boolean }) => {
      const plan = readPlan(planPath);
      let camera: Camera;
      let wheel: FilterWheel | undefined;
      let clock: Clock;
      let close = (): void => undefined;
      let filterNames = QSI_FILTERS;
      if (opts.device === 'sim' && !opts.wheel) {
        // The built-in simulator on a virtual clock: simulated time passes instantly.
        clock = new VirtualClock();
        const sim = new SimCamera({ clock, readoutMs: 1000, wheelMsPerSlot: 400 });
        await sim.connect();
        camera = sim;
        wheel = sim.wheel;
      } else {
        // A real camera (INDI or Alpaca) on the wall clock.
        const d = await openDevice(opts.device, { parts: partSpecs(opts) });
        ({ camera, wheel, clock, close } = d);
        if (wheel) filterNames = await wheel.names();
      }
      const frames = expandPlan(plan);
      const est = estimateDuration(frames, { readoutS: 1, filterSlotS: 0.4, filterNames, startSlot: wheel ? await wheel.position() : 0 });
      if (opts.dryRun) {
        close();
        if (opts.json) process.stdout.write(`${JSON.stringify({ frames, estimate: est }, null, 2)}\n`);
        else process.stdout.write(`${describePlan(plan, frames, est).join('\n')}\n`);
        return;
      }
      if (existsSync(opts.out) && !statSync(opts.out).isDirectory()) throw new DarkroomError('BAD_ARGUMENT', 'output is not a folder', opts.out);
      mkdirSync(opts.out, { recursive: true });
      if (!opts.json) process.stdout.write(`${describePlan(plan, frames, est).join('\n')}\n`);
      const seq = new Sequencer(plan, {
        camera,
        wheel,
        clock,
        outDir: opts.out,
        onEvent: (e) => {
          if (opts.json) return;
          if (e.kind === 'cooled') process.stdout.write(`cooled to ${e.ccdTemp.toFixed(2)} C after ${formatDuration(e.waitedS)}\n`);
          if (e.kind === 'saved') process.stdout.write(`saved ${e.path}\n`);
          if (e.kind === 'aborted') process.stdout.write('aborted\n');
        },
      });
      const onSig = () => seq.abort();
      process.once('SIGINT', onSig);
      try {
        const r = await seq.run();
        if (opts.json) {
          process.stdout.write(`${JSON.stringify({ saved: r.saved.map((s) => s.path), aborted: r.aborted, estimateS: est.totalS, simulatedS: r.framesElapsedS, coolingWaitS: r.coolingWaitS }, null, 2)}\n`);
        } else {
          process.stdout.write(`${r.saved.length} frames in ${formatDuration(r.framesElapsedS)} of simulated time (estimate ${formatDuration(est.totalS)})\n`);
        }
      } finally {
        process.removeListener('SIGINT', onSig);
        close();
      }
    });
}
