/**
 * `darkroom calibrate LIGHTS... [--bias MB] [--dark MD] [--flat MF] [--optimize | --dark-scale exposure]
 *  [--pedestal N|auto] [--overscan SPEC] [--cosmetic auto|FILE] [--force] -o DIR`
 * writes DIR/NAME_c.fits for each light (inputs are never touched); --json prints the per-frame report.
 */
import type { Command } from 'commander';
import { realpathSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import type { DarkMode, FrameReport } from '../calibrate/light.js';
import { parseOverscanSpec, OVERSCAN_HELP } from '../calibrate/overscan.js';
import { calibrateFiles, type CalibratedFrame, type CalibrateFilesOptions, type CosmeticReport } from '../calibrate/files.js';
import { DarkroomError } from '../util/errors.js';
import { warningLine } from '../util/warnings.js';

interface Opts {
  output: string;
  bias?: string;
  dark?: string;
  flat?: string;
  optimize?: boolean;
  darkScale?: string;
  noOptimize?: boolean;
  pedestal?: string;
  overscan?: string;
  cosmetic?: string;
  force?: boolean;
  separateCfaFlatScaling?: boolean;
  json?: boolean;
}

export function outputName(light: string): string {
  const ext = extname(light);
  const stem = ext.toLowerCase() === '.fits' || ext.toLowerCase() === '.fit' || ext.toLowerCase() === '.fts' ? basename(light, ext) : basename(light);
  return `${stem}_c.fits`;
}

export type { CosmeticReport };

export function registerCalibrate(program: Command): void {
  program
    .command('calibrate')
    .description(
      'calibrate lights: C = (L - MD) / MF * s0, or with dark scaling C = ((L - MB) - k0 (MD - MB)) / MF * s0 ' +
        '(k0 by noise minimization with --optimize, or t_light / t_dark with --dark-scale exposure); ' +
        'automatic: optimization when a bias is given and the dark exposure differs; s0 = mean of the master flat (per CFA colour for CFA data); ' +
        'the pedestal is added and pixels truncated to >= 0 as the last step',
    )
    .argument('<lights...>', 'light frames')
    .requiredOption('-o, --output <dir>', 'output folder (NAME_c.fits)')
    .option('--bias <file>', 'master bias')
    .option('--dark <file>', 'master dark (never bias-subtracted on disk)')
    .option('--flat <file>', 'master flat')
    .option('--optimize', 'dark optimization: k0 minimizing the noise of the result (needs --bias)')
    .option('--dark-scale <how>', "'exposure': k0 = t_light / t_dark (needs --bias)")
    .option('--no-optimize', 'never scale the dark (plain C = (L - MD) / MF * s0)')
    .option('--pedestal <N|auto>', "output pedestal in ADU, or 'auto' (smallest multiple of 10 keeping clipped pixels under 0.1%)")
    .option('--overscan <spec>', OVERSCAN_HELP)
    .option('--cosmetic <auto|file>', "'auto': hot/cold pixels from the master dark plus detection in each calibrated light; or a defect list file ('x,y', 'col X', 'row Y' lines; coordinates after overscan cropping)")
    .option('--separate-cfa-flat-scaling', 'one s0 per CFA colour (default for CFA data)')
    .option('--no-separate-cfa-flat-scaling', 'one s0 for all CFA colours')
    .option('--force', 'scale/optimize the dark although it is not brighter than the bias')
    .option('--json', 'print the per-frame report as JSON')
    .action(async (lights: string[], o: Opts) => {
      const opts = calibrateFlags(o);
      // the CLI shows the outputs by their real path (the folder exists once the driver checked it)
      let outDir: string | undefined;
      // the CLI names the outputs by their real path (the folder exists once the driver has checked the outputs)
      const shown = (f: CalibratedFrame): FrameReport => ({ ...f.report, output: join((outDir ??= realpathSync(o.output)), basename(f.output)) });
      const r = await calibrateFiles(lights, lights.map((lp) => join(o.output, outputName(lp))), opts, {
        onWarning: (w) => process.stderr.write(`darkroom: warning: ${warningLine(w)}\n`),
        onProgress: (e) => {
          if (!o.json && e.frame?.ok) process.stdout.write(reportLine(shown(e.frame)));
        },
      });
      if (o.json) process.stdout.write(JSON.stringify(r.frames.filter((f): f is CalibratedFrame => f.ok).map(shown), null, 2) + '\n');
    });
}

/** The CLI's flags as the driver's options (the CLI is strict: it refuses scaling a clamped dark unless --force, stops at the first bad light). */
export function calibrateFlags(o: Opts): CalibrateFilesOptions {
  let darkMode: DarkMode = 'auto';
  if (o.darkScale !== undefined && o.darkScale !== 'exposure') throw new DarkroomError('BAD_ARGUMENT', `--dark-scale must be 'exposure', got '${o.darkScale}'`);
  if (o.optimize === true && o.darkScale) throw new DarkroomError('BAD_ARGUMENT', 'give --optimize or --dark-scale exposure, not both');
  if (o.darkScale) darkMode = 'exposure';
  else if (o.optimize === true) darkMode = 'optimize';
  else if (o.optimize === false) darkMode = 'plain';
  let pedestal: number | 'auto' | undefined;
  if (o.pedestal !== undefined) {
    if (o.pedestal === 'auto') pedestal = 'auto';
    else {
      const p = Number(o.pedestal);
      if (o.pedestal.trim() === '' || !Number.isFinite(p) || p < 0) throw new DarkroomError('BAD_ARGUMENT', `--pedestal must be a number >= 0 or 'auto', got '${o.pedestal}'`);
      pedestal = p;
    }
  }
  const overscan = o.overscan ? parseOverscanSpec(o.overscan) : undefined;
  if (!o.bias && !o.dark && !o.flat && !overscan) throw new DarkroomError('BAD_ARGUMENT', 'nothing to calibrate with: give --bias, --dark, --flat or --overscan');
  return {
    bias: o.bias, dark: o.dark, flat: o.flat, darkMode, pedestal, overscan,
    clampedDark: o.force ? 'force' : 'refuse', keepUnusedBias: true, frameErrors: 'throw',
    separateCfaFlatScaling: o.separateCfaFlatScaling,
    cosmetic: o.cosmetic === undefined ? undefined : o.cosmetic === 'auto' ? 'auto' : { list: o.cosmetic },
  };
}

function reportLine(rep: FrameReport): string {
  return `${rep.path} -> ${rep.output}: ${rep.mode}${rep.k0 !== undefined ? ` k0=${rep.k0.toFixed(4)}` : ''}${rep.s0 ? ` s0=${rep.s0.map((s) => s.toFixed(1)).join('/')}` : ''} pedestal=${rep.pedestal} noise=${rep.noise.toFixed(2)} clipped=${rep.clippedPct.toFixed(3)}%\n`;
}
