/** `darkroom stretch IN.fits OUT.png`: an auto-stretched 8-bit preview (PixInsight-style STF). */
import type { Command } from 'commander';
import { writeFileAtomic } from '../util/atomic.js';
import { readFits } from '../fits/reader.js';
import { stretchToPng } from '../render/stretch.js';
import { DarkroomError } from '../util/errors.js';
import { assertOutputsAreNotInputs } from '../util/paths.js';

export function registerStretch(program: Command): void {
  program
    .command('stretch')
    .description('write an auto-stretched PNG preview (screen transfer function from median and MAD)')
    .argument('<in>', 'FITS image')
    .argument('<out>', 'PNG file to write')
    .option('--unlinked', 'stretch colour channels independently (neutralizes the background)')
    .option('--shadows-clip <k>', 'shadows clipping in MAD units', '-2.8')
    .option('--target-background <b>', 'target median after stretch, 0..1', '0.25')
    .action((input: string, output: string, opts: { unlinked?: boolean; shadowsClip: string; targetBackground: string }) => {
      const k = Number(opts.shadowsClip);
      const b = Number(opts.targetBackground);
      if (!Number.isFinite(k)) throw new DarkroomError('BAD_ARGUMENT', `--shadows-clip must be a number, got '${opts.shadowsClip}'`);
      if (!(b > 0 && b < 1)) throw new DarkroomError('BAD_ARGUMENT', `--target-background must be between 0 and 1, got '${opts.targetBackground}'`);
      if (!/\.png$/i.test(output)) throw new DarkroomError('BAD_ARGUMENT', 'output must be a .png file', output);
      assertOutputsAreNotInputs([output], [input]);
      const img = readFits(input);
      writeFileAtomic(output, [stretchToPng(img, { linked: !opts.unlinked, shadowsClip: k, targetBackground: b })]);
    });
}
