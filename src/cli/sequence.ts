/**
 * `darkroom sequence PLAN.json --device sim --out DIR [--dry-run] [--json]`
 * Plans are JSON or YAML. The built-in simulator runs on a virtual clock (simulated time passes instantly).
 */
import { mkdirSync, existsSync, statSync } from 'node:fs';
import type { Command } from 'commander';
import { DarkroomError } from '../util/errors.js';
import { QSI_FILTERS } from '../devices/sim/simcamera.js';
import { openDevice, openSafety, DEVICE_SPEC_HELP, SAFETY_SPEC_HELP } from '../acquire/open.js';
import type { Camera, Clock, FilterWheel, Focuser } from '../devices/types.js';
import type { AutomationHooks } from '../acquire/automation.js';
import { describePlan, estimateDuration, expandPlan, formatDuration, readPlan } from '../acquire/plan.js';
import { Sequencer, type SequenceEvent } from '../acquire/sequencer.js';
import { deviceCommand, partSpecs } from './device-options.js';
import { simSequenceRig } from './sequence-sim.js';
import { autofocusHook } from '../acquire/focus.js';
import { describeAutomationEvent } from '../acquire/automation.js';

export function registerSequence(program: Command): void {
  deviceCommand(program, 'sequence', 'run an acquisition plan (JSON or YAML): cooling, filters, exposures, autosave names', {
    device: { help: `camera: ${DEVICE_SPEC_HELP}`, default: 'sim' },
    parts: ['wheel', 'mount'],
    json: 'print a JSON summary',
  })
    .argument('<plan>', 'plan file (JSON, or YAML for .yaml/.yml)')
    .option('--out <dir>', 'output folder', '.')
    .option('--dry-run', 'print the frame list and the duration estimate only')
    .option('--safety <spec>', `the safety monitor (plan key safety.device): ${SAFETY_SPEC_HELP}`)
    .option('--unsafe <windows>', 'simulator: the safety monitor says unsafe FROM-TO minutes after the start (e.g. 20-50,90-100)')
    .action(async (planPath: string, opts: { device: string; wheel?: string; mount?: string; out: string; dryRun?: boolean; json?: boolean; unsafe?: string; safety?: string }) => {
      const plan = readPlan(planPath);
      let camera: Camera;
      let wheel: FilterWheel | undefined;
      let clock: Clock;
      let focuser: Focuser | undefined;
      let close = (): void => undefined;
      let filterNames = QSI_FILTERS;
      let automation: AutomationHooks = {};
      if (opts.device === 'sim' && !opts.wheel && !opts.mount) {
        if (opts.safety) throw new DarkroomError('BAD_ARGUMENT', '--safety needs an INDI or Alpaca --device (the simulator has its own safety monitor: --unsafe)');
        // The built-in simulator on a virtual clock (simulated time passes instantly), with a mount and a safety monitor.
        const rig = simSequenceRig(plan, { unsafe: opts.unsafe });
        await rig.camera.connect();
        ({ camera, clock, focuser, automation } = rig);
        wheel = rig.camera.wheel;
      } else {
        if (opts.unsafe) throw new DarkroomError('BAD_ARGUMENT', '--unsafe is for the simulator (--device sim)');
        // A real camera (INDI or Alpaca) on the wall clock.
        const d = await openDevice(opts.device, { parts: partSpecs(opts) });
        ({ camera, wheel, clock, close, focuser } = d);
        // a lost link, the reconnection, a frame taken again: in the log (stderr with --json)
        d.onLinkEvent?.((e) => (opts.json ? process.stderr : process.stdout).write(`${e.kind === 'lost' || e.kind === 'failed' ? 'warning: ' : ''}${e.message}\n`));
        if (wheel) filterNames = await wheel.names();
        // the goto mount (centering, meridian flip, park) and the safety monitor of a real rig; plan keys
        // needing a device the rig lacks are refused by the sequencer before anything moves
        const safetySpec = opts.safety ?? plan.safety?.device;
        const safety = safetySpec ? await openSafety(safetySpec).catch((e: unknown) => { d.close(); throw e; }) : undefined;
        if (safety) {
          const before = close;
          close = () => {
            safety.close();
            before();
          };
        }
        automation = { ...(focuser ? { autofocus: autofocusHook(camera, focuser) } : {}), ...(d.mount ? { mount: d.mount } : {}), ...(safety ? { safety: safety.monitor } : {}), solve: { timeout: 60 } };
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
      const night: NightTally = { centered: [], autofocus: 0, flips: 0, parked: false };
      const seq = new Sequencer(plan, {
        camera,
        wheel,
        clock,
        focuser,
        automation,
        outDir: opts.out,
        onEvent: (e) => {
          automationLog(e, opts.json);
          tally(night, e);
          // camera errors and warnings in the log (stderr with --json)
          const log = opts.json ? process.stderr : process.stdout;
          if (e.kind === 'camera-condition') log.write(`${e.action === 'abort' ? 'error' : 'warning'}: camera ${e.condition.message}: ${e.action === 'abort' ? 'sequence stopped (frames saved so far are kept)' : 'paused until it clears'}\n`);
          if (e.kind === 'condition-cleared') log.write(`camera ${e.condition.code} cleared after ${formatDuration(e.waitedS)}: resuming\n`);
          if (e.kind === 'warning') log.write(`warning: ${e.message}\n`);
          if (opts.json) return;
          if (e.kind === 'focus-offset') process.stdout.write(`focus offset ${e.from ?? '?'} -> ${e.to}: ${e.steps > 0 ? '+' : ''}${e.steps} steps (focuser at ${e.position})\n`);
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
          process.stdout.write(`${JSON.stringify({ saved: r.saved.map((s) => s.path), aborted: r.aborted, cameraError: r.cameraError, estimateS: est.totalS, simulatedS: r.framesElapsedS, coolingWaitS: r.coolingWaitS, ...night }, null, 2)}\n`);
        } else {
          process.stdout.write(`${r.saved.length} frames in ${formatDuration(r.framesElapsedS)} of simulated time (estimate ${formatDuration(est.totalS)})\n`);
        }
      } finally {
        process.removeListener('SIGINT', onSig);
        close();
      }
    });
}

/** The night automation's events in the log (stderr with --json). */
function automationLog(e: SequenceEvent, json?: boolean): void {
  const line = describeAutomationEvent(e);
  if (line !== null) (json ? process.stderr : process.stdout).write(`${line}\n`);
}

/** What the night automation did, for the JSON summary. */
interface NightTally {
  centered: { centered: boolean; error: number; iterations: number }[];
  autofocus: number;
  flips: number;
  parked: boolean;
  stop?: string;
}

function tally(t: NightTally, e: SequenceEvent): void {
  if (e.kind === 'centered') t.centered.push({ centered: e.centered, error: e.error, iterations: e.iterations });
  else if (e.kind === 'autofocus') t.autofocus++;
  else if (e.kind === 'meridian-flip') t.flips++;
  else if (e.kind === 'parked') t.parked = true;
  else if (e.kind === 'until') t.stop = e.reason;
  else if (e.kind === 'unsafe' && e.action !== 'wait') t.stop = 'unsafe';
}
