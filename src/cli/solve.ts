/** `darkroom solve FILE... [--json] [--write]`: plate solve with astrometry.net's solve-field; centre, scale, rotation, field size. */
import type { Command } from 'commander';
import { formatDec, formatRa, SOLVE_CATALOGUE, solveFile, type SolveOptions, type SolveResult } from '../solve/index.js';
import { isDarkroomError } from '../util/errors.js';
import { addOptions, parseCli } from '../util/options.js';

function line(r: SolveResult): string {
  return (
    `${r.path}: RA ${formatRa(r.ra)} Dec ${formatDec(r.dec)} (${r.ra.toFixed(5)} ${r.dec.toFixed(5)}), ` +
    `scale ${r.scale.toFixed(3)}"/px, rotation ${r.rotation.toFixed(2)} deg${r.parity === 'flipped' ? ' (flipped)' : ''}, ` +
    `field ${r.fieldWidth.toFixed(3)} x ${r.fieldHeight.toFixed(3)} deg${r.index ? `, index ${r.index}` : ''}${r.written ? ', WCS written' : ''}`
  );
}

export function registerSolve(program: Command): void {
  const what = "plate solve FITS frames with astrometry.net's solve-field (offline, Tycho-2 index files): RA/Dec of the centre, scale, rotation, field size";
  const cmd = program.command('solve').description(what).argument('<files...>', 'FITS files').option('--json', 'print a JSON report');
  addOptions(cmd, SOLVE_CATALOGUE).action(async (files: string[], flags: Record<string, unknown>) => {
    const o = parseCli(SOLVE_CATALOGUE, flags) as unknown as SolveOptions;
    const out: SolveResult[] = [];
    let failed = 0;
    for (const f of files) {
      try {
        const r = await solveFile(f, o);
        out.push(r);
        if (!flags.json) process.stdout.write(`${line(r)}\n`);
      } catch (e) {
        if (!isDarkroomError(e) || files.length === 1) throw e;
        process.stderr.write(`darkroom: ${e.oneLine()}\n`);
        failed++;
      }
    }
    if (flags.json) process.stdout.write(`${JSON.stringify(files.length === 1 ? out[0] : out, null, 2)}\n`);
    if (failed) process.exitCode = 2;
  });
}
