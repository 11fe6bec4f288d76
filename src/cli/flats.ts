/**
 * `darkroom flats [--device SPEC] [--filters L,R,G,B] [--count N] [--target F] --out DIR [--json]`
 * The flat wizard (acquire/flat-wizard.ts): per filter, the exposure that puts the flat's median at the
 * target fraction of the usable range, then N flats and N flat-darks. With `--device sim` the built-in
 * simulator on a virtual clock, in front of a flat panel of `--panel` e-/s per pixel through Luminance
 * (each filter passes its own fraction of it).
 */
import { mkdirSync } from 'node:fs';
import type { Command } from 'commander';
import { DarkroomError } from '../util/errors.js';
import { addOptions, parseCli } from '../util/options.js';
import { deviceCommand, numberArg, partSpecs } from './device-options.js';
import { SimCamera } from '../devices/sim/simcamera.js';
import { VirtualClock } from '../acquire/clock.js';
import { DEVICE_SPEC_HELP, openDevice, type PartSpecs } from '../acquire/open.js';
import { FLAT_CATALOGUE, runFlatWizard, type FlatWizardEvent, type FlatWizardOptions, type FlatWizardResult, type FlatWizardRig } from '../acquire/flat-wizard.js';

interface FlatsFlags extends PartSpecs {
  device: string;
  out?: string;
  panel: string;
  seed: string;
  json?: boolean;
  [k: string]: unknown;
}

export function registerFlats(program: Command): void {
  const cmd = deviceCommand(program, 'flats', 'flat wizard: per filter, find the exposure for the target level, then take flats and flat-darks', {
    device: { help: `camera and filter wheel: ${DEVICE_SPEC_HELP}`, default: 'sim' },
    seed: { help: 'simulator seed', default: '583' },
    parts: ['wheel'],
    json: 'print a JSON report',
  })
    .option('--out <dir>', 'folder for the flats and flat-darks (created if missing)')
    .option('--panel <e/s>', 'simulator: flat panel brightness, e-/s per pixel through Luminance', '4000');
  addOptions(cmd, FLAT_CATALOGUE).action(async (flags: FlatsFlags) => {
    const o = parseCli(FLAT_CATALOGUE, flags) as unknown as FlatWizardOptions;
    if (!flags.out) throw new DarkroomError('BAD_ARGUMENT', 'flats: --out <dir> is required');
    const outDir = flags.out;
    mkdirSync(outDir, { recursive: true });
    const onEvent = flags.json ? undefined : (e: FlatWizardEvent) => process.stdout.write(describe(e));
    let r: FlatWizardResult;
    if (flags.device === 'sim' && !flags.wheel) {
      const panel = numberArg('panel', flags.panel, (n) => Number.isFinite(n) && n > 0, 'a number > 0');
      const seed = numberArg('seed', flags.seed, (n) => Number.isInteger(n) && n >= 0, 'a whole number >= 0');
      const clock = new VirtualClock();
      const camera = new SimCamera({ clock, panel, seed });
      await camera.connect();
      r = await runFlatWizard({ camera, wheel: camera.wheel, clock, outDir, onEvent }, o);
    } else {
      const d = await openDevice(flags.device, { parts: partSpecs(flags) });
      try {
        const rig: FlatWizardRig = { camera: d.camera, wheel: d.wheel, clock: d.clock, outDir, onEvent };
        r = await runFlatWizard(rig, o);
      } finally {
        d.close();
      }
    }
    process.stdout.write(flags.json ? `${JSON.stringify(r, null, 2)}\n` : summary(r));
  });
}

const pct = (f: number) => `${(100 * f).toFixed(1)}%`;

function describe(e: FlatWizardEvent): string {
  switch (e.kind) {
    case 'bias':
      return `bias ${e.level.toFixed(1)} ADU; usable range ${e.range.toFixed(0)} ADU above bias (limited by the ${e.limit === 'adc' ? 'ADC' : 'full well'}); target ${e.targetAdu.toFixed(0)} ADU\n`;
    case 'filter':
      return `filter ${e.filter} (${e.slot})\n`;
    case 'test':
      return `  test ${e.exposure.toPrecision(4)} s: median ${e.level.toFixed(0)} ADU above bias (${pct(e.fraction)})\n`;
    case 'found':
      return `  exposure ${e.exposure.toPrecision(4)} s (${pct(e.fraction)})\n`;
    case 'saved':
      return '';
  }
}

function summary(r: FlatWizardResult): string {
  return r.filters
    .map((f) => `${f.filter || 'flat'}: ${f.exposure.toPrecision(4)} s at ${pct(f.fraction)} of the range, ${f.flats.length} flats, ${f.flatDarks.length} flat-darks\n`)
    .join('');
}
