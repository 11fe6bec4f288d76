/**
 * `darkroom calibrate LIGHTS... [--bias MB] [--dark MD] [--flat MF] [--optimize | --dark-scale exposure]
 *  [--pedestal N|auto] [--overscan SPEC] [--cosmetic auto|FILE] [--force] -o DIR`
 * writes DIR/NAME_c.fits for each light (inputs are never touched); --json prints the per-frame report.
 */
import type { Command } from 'commander';
import { mkdirSync, realpathSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { readFits, writeFits } from '../fits/index.js';
import { calibrateLight, type CalibrateOptions, type DarkMode, type FrameReport } from '../calibrate/light.js';
import { loadMaster } from '../calibrate/masters.js';
import { parseOverscanSpec, OVERSCAN_HELP } from '../calibrate/overscan.js';
import { defectCount, defectsFromDark, detectDefects, mergeDefects, readDefectList, repairDefects } from '../calibrate/cosmetic.js';
import { DarkroomError } from '../util/errors.js';
import { assertOutputsAreNotInputs } from '../util/paths.js';
import { VERSION } from '../version.js';

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

export interface CosmeticReport {
  fromDark: number;
  detected: number;
  fromList: number;
  repaired: number;
}

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
    .action((lights: string[], o: Opts) => {
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
      const masters = [o.bias, o.dark, o.flat, o.cosmetic === 'auto' ? undefined : o.cosmetic].filter((p): p is string => p !== undefined);
      assertOutputsAreNotInputs(lights.map((lp) => join(o.output, outputName(lp))), [...lights, ...masters], lights);
      const copts: CalibrateOptions = {
        bias: o.bias ? loadMaster(o.bias) : undefined,
        dark: o.dark ? loadMaster(o.dark) : undefined,
        flat: o.flat ? loadMaster(o.flat) : undefined,
        darkMode, pedestal, overscan, force: !!o.force,
        separateCfaFlatScaling: o.separateCfaFlatScaling,
      };
      if (!copts.bias && !copts.dark && !copts.flat && !overscan) throw new DarkroomError('BAD_ARGUMENT', 'nothing to calibrate with: give --bias, --dark, --flat or --overscan');
      mkdirSync(o.output, { recursive: true });
      const outDir = realpathSync(o.output);
      const reports: (FrameReport & { cosmetic?: CosmeticReport })[] = [];
      for (const lp of lights) {
        const outPath = join(outDir, outputName(lp));
        const light = readFits(lp);
        const r = calibrateLight(light, lp, copts);
        const rep: FrameReport & { cosmetic?: CosmeticReport } = { ...r.report, output: outPath };
        if (o.cosmetic) {
          const img = r.image;
          const cfa = !!img.cfa;
          const plane = img.data[0]!;
          let map;
          const cr: CosmeticReport = { fromDark: 0, detected: 0, fromList: 0, repaired: 0 };
          if (o.cosmetic === 'auto') {
            const det = detectDefects(plane, img.width, img.height, { cfa });
            cr.detected = defectCount(det);
            map = det;
            if (copts.dark) {
              const dm = defectsFromDark(copts.dark.image.data[0]!, img.width, img.height);
              cr.fromDark = dm.hot + dm.cold;
              map = mergeDefects(det, dm);
            }
          } else {
            map = readDefectList(o.cosmetic, img.width, img.height);
            cr.fromList = defectCount(map);
          }
          for (const p of img.data) cr.repaired = repairDefects(p, map, { cfa });
          rep.cosmetic = cr;
          r.history.push(`cosmetic ${o.cosmetic === 'auto' ? 'auto' : o.cosmetic}: ${cr.repaired} pixels repaired (dark ${cr.fromDark}, detected ${cr.detected}, list ${cr.fromList})`);
        }
        writeFits(outPath, r.image, { bitpix: -32, history: [`darkroom ${VERSION} calibrate ${lp}`, ...r.history] });
        for (const w of rep.warnings) process.stderr.write(`darkroom: warning: ${lp}: ${w}\n`);
        reports.push(rep);
        if (!o.json) {
          process.stdout.write(
            `${lp} -> ${outPath}: ${rep.mode}${rep.k0 !== undefined ? ` k0=${rep.k0.toFixed(4)}` : ''}${rep.s0 ? ` s0=${rep.s0.map((s) => s.toFixed(1)).join('/')}` : ''} pedestal=${rep.pedestal} noise=${rep.noise.toFixed(2)} clipped=${rep.clippedPct.toFixed(3)}%\n`,
          );
        }
      }
      if (o.json) process.stdout.write(JSON.stringify(reports, null, 2) + '\n');
    });
}
