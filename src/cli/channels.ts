/** `darkroom channels FILE --keep ha|oiii|r|g|b [--pattern auto|RGGB...] -o OUT` */
import type { Command } from 'commander';
import { basename } from 'node:path';
import { readFits, writeFits } from '../fits/index.js';
import { cfaFromHeader, extractChannel, KEEP_CHOICES, type Keep } from '../color/index.js';
import { DarkroomError } from '../util/errors.js';
import { assertOutputsAreNotInputs } from '../util/paths.js';

export function registerChannels(program: Command): void {
  program
    .command('channels')
    .description('extract R, G, B or a narrowband selection (ha: red pixels; oiii: green + blue) from CFA or RGB data as mono FITS')
    .argument('<file>', 'CFA mosaic or RGB FITS file')
    .requiredOption('--keep <k>', `what to keep: ${KEEP_CHOICES.join('|')}`)
    .option('--pattern <p>', 'CFA pattern for mosaics: auto or RGGB|BGGR|GRBG|GBRG', 'auto')
    .requiredOption('-o, --output <file>', 'output FITS file')
    .option('--json', 'print a JSON report')
    .action((file: string, opts: { keep: string; pattern: string; output: string; json?: boolean }) => {
      const keep = opts.keep.toLowerCase() as Keep;
      if (!KEEP_CHOICES.includes(keep)) throw new DarkroomError('BAD_ARGUMENT', `unknown selection '${opts.keep}' (choose ${KEEP_CHOICES.join(', ')})`);
      assertOutputsAreNotInputs([opts.output], [file]);
      const img = readFits(file);
      const found = img.channels === 1 ? cfaFromHeader(img.header, img.height, opts.pattern, file) : undefined;
      const out = extractChannel(img, keep, found?.cfa, file);
      writeFits(opts.output, out, { history: [`channels ${basename(file)} keep=${keep}`, ...(found ? [found.note] : [])] });
      if (opts.json) process.stdout.write(`${JSON.stringify({ input: file, output: opts.output, keep, width: out.width, height: out.height }, null, 2)}\n`);
      else process.stdout.write(`${file} -> ${opts.output} (${keep}, ${out.width}x${out.height})\n`);
    });
}
