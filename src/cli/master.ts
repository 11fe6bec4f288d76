/** `darkroom master bias|dark|flatdark|flat FILES -o OUT.fits`: integrate calibration masters. */
import type { Command } from 'commander';
import { writeMaster, loadMaster, type MasterKind } from '../calibrate/masters.js';
import { parseOverscanSpec, OVERSCAN_HELP } from '../calibrate/overscan.js';
import { DarkroomError } from '../util/errors.js';
import { assertOutputsAreNotInputs } from '../util/paths.js';

const KINDS: MasterKind[] = ['bias', 'dark', 'flatdark', 'flat'];

export function registerMaster(program: Command): void {
  program
    .command('master')
    .description(
      'integrate a master: bias, dark and flatdark = average with winsorized sigma clipping (4/3), no normalization; ' +
        'flat = each flat minus the master flat-dark (or bias), multiplicative normalization, equalize-fluxes rejection, average',
    )
    .argument('<kind>', 'bias | dark | flatdark | flat')
    .argument('<files...>', 'input frames')
    .requiredOption('-o, --output <file>', 'output master FITS')
    .option('--bias <file>', 'flat: master bias subtracted from each flat')
    .option('--flatdark <file>', 'flat: master flat-dark subtracted from each flat (instead of the bias)')
    .option('--overscan <spec>', OVERSCAN_HELP)
    .option('--json', 'print a JSON report')
    .action(async (kind: string, files: string[], o: { output: string; bias?: string; flatdark?: string; overscan?: string; json?: boolean }) => {
      if (!KINDS.includes(kind as MasterKind)) throw new DarkroomError('BAD_ARGUMENT', `unknown master kind '${kind}' (expected ${KINDS.join(', ')})`);
      const k = kind as MasterKind;
      if (k !== 'flat' && (o.bias || o.flatdark)) throw new DarkroomError('BAD_ARGUMENT', `--bias/--flatdark apply to master flat only (a master ${k} is never bias-subtracted)`);
      if (o.bias && o.flatdark) throw new DarkroomError('BAD_ARGUMENT', 'give --bias or --flatdark, not both (the flat-dark already contains the bias)');
      assertOutputsAreNotInputs([o.output], [...files, ...(o.bias ? [o.bias] : []), ...(o.flatdark ? [o.flatdark] : [])]);
      const r = await writeMaster(k, files, o.output, {
        bias: o.bias ? loadMaster(o.bias) : undefined,
        flatDark: o.flatdark ? loadMaster(o.flatdark) : undefined,
        overscan: o.overscan ? parseOverscanSpec(o.overscan) : undefined,
      });
      for (const w of r.warnings) process.stderr.write(`darkroom: warning: ${w}\n`);
      if (o.json) process.stdout.write(JSON.stringify({ kind: k, output: o.output, frames: r.count, warnings: r.warnings }, null, 2) + '\n');
      else process.stdout.write(`master ${k}: ${r.count} frames -> ${o.output}\n`);
    });
}
