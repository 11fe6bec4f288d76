/** `darkroom bin FILE --factor 2x2 [--mode sum|average] -o OUT` */
import type { Command } from 'commander';
import { basename } from 'node:path';
import { readFits, writeFits } from '../fits/index.js';
import { binImage, type BinMode, parseBinFactor } from '../color/index.js';
import { DarkroomError } from '../util/errors.js';
import { assertOutputsAreNotInputs } from '../util/paths.js';

export function registerBin(program: Command): void {
  program
    .command('bin')
    .description('software binning (sum or average of NxM blocks); CFA mosaics lose their colour pattern')
    .argument('<file>', 'FITS file')
    .option('--factor <NxM>', 'binning factor, e.g. 2x2, 3x3, 1x2, 3x2', '2x2')
    .option('--mode <m>', 'sum|average', 'average')
    .requiredOption('-o, --output <file>', 'output FITS file')
    .option('--json', 'print a JSON report')
    .action((file: string, opts: { factor: string; mode: string; output: string; json?: boolean }) => {
      const mode = opts.mode.toLowerCase();
      if (mode !== 'sum' && mode !== 'average') throw new DarkroomError('BAD_ARGUMENT', `unknown mode '${opts.mode}' (choose sum or average)`);
      const [fx, fy] = parseBinFactor(opts.factor);
      assertOutputsAreNotInputs([opts.output], [file]);
      const img = readFits(file);
      const { image, warnings } = binImage(img, fx, fy, mode as BinMode, file);
      for (const w of warnings) process.stderr.write(`darkroom: warning: ${file}: ${w}\n`);
      writeFits(opts.output, image, { history: [`bin ${basename(file)} ${fx}x${fy} mode=${mode}`, ...warnings.map((w) => `warning: ${w}`)] });
      if (opts.json) {
        process.stdout.write(`${JSON.stringify({ input: file, output: opts.output, factor: [fx, fy], mode, width: image.width, height: image.height, warnings }, null, 2)}\n`);
      } else process.stdout.write(`${file} -> ${opts.output} (${fx}x${fy} ${mode}, ${image.width}x${image.height})\n`);
    });
}
