/** `darkroom debayer FILES... [--pattern auto|RGGB|...] [--method superpixel|bilinear|vng|rcd] -o DIR` */
import type { Command } from 'commander';
import { mkdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { readFits, writeFits } from '../fits/index.js';
import { cfaFromHeader, cfaName, DEBAYER_METHODS, type DebayerMethod, debayerImage } from '../color/index.js';
import { DarkroomError } from '../util/errors.js';
import { assertOutputsAreNotInputs } from '../util/paths.js';

export function stem(path: string): string {
  return basename(path).replace(/\.(fits?|fts)(\.fz)?$/i, '');
}

export function registerDebayer(program: Command): void {
  program
    .command('debayer')
    .description('demosaic one-shot-colour CFA frames into RGB FITS (3 planes R, G, B)')
    .argument('<files...>', 'CFA mosaic FITS files')
    .option('--pattern <p>', 'CFA pattern: auto (BAYERPAT/XBAYROFF/YBAYROFF/ROWORDER) or RGGB|BGGR|GRBG|GBRG|XTRANS, first stored row', 'auto')
    .option('--method <m>', `demosaicing method: ${DEBAYER_METHODS.join('|')}`, 'rcd')
    .requiredOption('-o, --output <dir>', 'output directory (files NAME_rgb.fits)')
    .option('--json', 'print a JSON report')
    .action((files: string[], opts: { pattern: string; method: string; output: string; json?: boolean }) => {
      const method = opts.method.toLowerCase() as DebayerMethod;
      if (!DEBAYER_METHODS.includes(method)) {
        throw new DarkroomError('BAD_ARGUMENT', `unknown method '${opts.method}' (choose ${DEBAYER_METHODS.join(', ')})`);
      }
      const dests = files.map((file) => join(opts.output, `${stem(file)}_rgb.fits`));
      assertOutputsAreNotInputs(dests, files, files);
      mkdirSync(opts.output, { recursive: true });
      const report: Array<{ input: string; output: string; cfa: string; method: string; width: number; height: number }> = [];
      files.forEach((file, i) => {
        const img = readFits(file);
        if (img.channels !== 1) {
          throw new DarkroomError('BAD_ARGUMENT', `image has ${img.channels} planes: it is already colour, there is no mosaic to debayer`, file);
        }
        const found = cfaFromHeader(img.header, img.height, opts.pattern, file);
        if (!found) throw new DarkroomError('BAD_HEADER', 'no BAYERPAT keyword: not a known CFA mosaic (give --pattern RGGB|BGGR|GRBG|GBRG)', file);
        const out = debayerImage(img, found.cfa, method, file);
        const dest = dests[i]!;
        writeFits(dest, out, {
          history: [`debayer ${basename(file)} method=${method}`, found.note],
        });
        report.push({ input: file, output: dest, cfa: cfaName(found.cfa), method, width: out.width, height: out.height });
        if (!opts.json) process.stdout.write(`${file} -> ${dest} (${cfaName(found.cfa)}, ${method}, ${out.width}x${out.height})\n`);
      });
      if (opts.json) process.stdout.write(`${JSON.stringify({ files: report }, null, 2)}\n`);
    });
}
