/** `darkroom debayer FILES... [--pattern auto|RGGB|...] [--method superpixel|bilinear|vng|rcd] -o DIR` */
import type { Command } from 'commander';
import { basename, join } from 'node:path';
import { DEBAYER_METHODS } from '../color/index.js';
import { checkDebayerMethod, debayerFiles, type DebayeredFrame } from '../color/files.js';

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
    .action(async (files: string[], opts: { pattern: string; method: string; output: string; json?: boolean }) => {
      const method = checkDebayerMethod(opts.method);
      const line = (f: DebayeredFrame): string => `${f.input} -> ${f.output} (${f.cfa}, ${f.method}, ${f.width}x${f.height})\n`;
      const r = await debayerFiles(files, (file) => join(opts.output, `${stem(file)}_rgb.fits`), { method, pattern: opts.pattern, frameErrors: 'throw' }, {
        onProgress: (e) => {
          if (!opts.json && e.frame?.ok) process.stdout.write(line(e.frame));
        },
      });
      const report = r.frames.filter((f): f is DebayeredFrame => f.ok).map(({ input, output, cfa, method: m, width, height }) => ({ input, output, cfa, method: m, width, height }));
      if (opts.json) process.stdout.write(`${JSON.stringify({ files: report }, null, 2)}\n`);
    });
}
