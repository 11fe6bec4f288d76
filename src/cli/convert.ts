/** `darkroom convert RAW... -o DIR`: camera raw files (CR2, NEF, ARW, DNG...) -> CFA FITS through dcraw. */
import type { Command } from 'commander';
import { mkdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { writeFits } from '../fits/index.js';
import { cfaName, readRaw } from '../color/index.js';
import { assertOutputsAreNotInputs } from '../util/paths.js';

export function registerConvert(program: Command): void {
  program
    .command('convert')
    .description('convert camera raw files to FITS CFA mosaics (raw sensor values via dcraw -D -4, BAYERPAT, ROWORDER TOP-DOWN)')
    .argument('<files...>', 'camera raw files')
    .requiredOption('-o, --output <dir>', 'output directory (NAME.fits)')
    .option('--json', 'print a JSON report')
    .action((files: string[], opts: { output: string; json?: boolean }) => {
      const dests = files.map((file) => join(opts.output, `${basename(file).replace(/\.[^.]+$/, '')}.fits`));
      assertOutputsAreNotInputs(dests, files, files);
      mkdirSync(opts.output, { recursive: true });
      const report: Array<Record<string, unknown>> = [];
      files.forEach((file, i) => {
        const { image, info } = readRaw(file);
        const dest = dests[i]!;
        writeFits(dest, image, { bitpix: 16, history: [`convert ${basename(file)}`] });
        const entry = { input: file, output: dest, cfa: cfaName(info.cfa!), width: image.width, height: image.height, camera: info.camera, iso: info.iso, exposure: info.exposure };
        report.push(entry);
        if (!opts.json) process.stdout.write(`${file} -> ${dest} (${entry.cfa}, ${image.width}x${image.height})\n`);
      });
      if (opts.json) process.stdout.write(`${JSON.stringify({ files: report }, null, 2)}\n`);
    });
}
