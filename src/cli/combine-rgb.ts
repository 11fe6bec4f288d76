/** `darkroom combine-rgb R G B [--lum L] -o OUT` */
import type { Command } from 'commander';
import { basename } from 'node:path';
import { readFits, writeFits } from '../fits/index.js';
import { combineLrgb, combineRgb } from '../color/index.js';
import { assertOutputsAreNotInputs } from '../util/paths.js';

export function registerCombineRgb(program: Command): void {
  program
    .command('combine-rgb')
    .description('combine mono R, G, B images into one RGB FITS; with --lum, LRGB (L replaces the CIE L*a*b* lightness)')
    .argument('<r>', 'red mono FITS')
    .argument('<g>', 'green mono FITS')
    .argument('<b>', 'blue mono FITS')
    .option('--lum <file>', 'luminance mono FITS (RGB may be smaller, e.g. binned 2x2: upsampled to its size)')
    .requiredOption('-o, --output <file>', 'output FITS file')
    .option('--json', 'print a JSON report')
    .action((r: string, g: string, b: string, opts: { lum?: string; output: string; json?: boolean }) => {
      assertOutputsAreNotInputs([opts.output], [r, g, b, ...(opts.lum ? [opts.lum] : [])]);
      let out = combineRgb(readFits(r), readFits(g), readFits(b), [r, g, b]);
      const history = [`combine-rgb R=${basename(r)} G=${basename(g)} B=${basename(b)}`];
      if (opts.lum) {
        out = combineLrgb(readFits(opts.lum), out, { lum: opts.lum, rgb: r });
        history.push(`LRGB: L=${basename(opts.lum)} replaces CIE L* (linear sRGB primaries, D65), common scale`);
      }
      writeFits(opts.output, out, { history });
      if (opts.json) process.stdout.write(`${JSON.stringify({ output: opts.output, lrgb: !!opts.lum, width: out.width, height: out.height }, null, 2)}\n`);
      else process.stdout.write(`-> ${opts.output} (${opts.lum ? 'LRGB' : 'RGB'}, ${out.width}x${out.height})\n`);
    });
}
