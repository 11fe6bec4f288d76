/** `darkroom stars FILE... [--json]`: detect and measure stars; per-frame count, median FWHM, eccentricity, HFR, background, noise. */
import type { Command } from 'commander';
import { readFits } from '../fits/index.js';
import { detectStars, medianOf, type Star } from '../stars/detect.js';
import { DarkroomError, isDarkroomError } from '../util/errors.js';

export interface StarsReport {
  path: string;
  stars: number;
  medianFwhm: number;
  medianEccentricity: number;
  medianHfr: number;
  background: number;
  noise: number;
  snr: number;
  hotPixels: number;
  saturated: number;
  list?: Star[];
}

export function starsReport(path: string, opts: { k?: number; psf?: 'gaussian' | 'moffat'; saturation?: number; list?: boolean } = {}): StarsReport {
  const img = readFits(path);
  const plane = img.data[0]!;
  const sat = opts.saturation ?? img.header.getNumber('SATURATE') ?? undefined;
  const r = detectStars(plane, img.width, img.height, { k: opts.k, psf: opts.psf, saturation: sat ?? undefined });
  const good = r.stars.filter((s) => !s.saturated);
  return {
    path,
    stars: r.stars.length,
    medianFwhm: medianOf(good.map((s) => s.fwhm)),
    medianEccentricity: medianOf(good.map((s) => s.eccentricity)),
    medianHfr: medianOf(good.map((s) => s.hfr)),
    background: r.background.globalBackground,
    noise: r.background.globalNoise,
    snr: medianOf(good.map((s) => s.snr)),
    hotPixels: r.hotPixels,
    saturated: r.saturatedCount,
    list: opts.list ? r.stars : undefined,
  };
}

export function registerStars(program: Command): void {
  program
    .command('stars')
    .description('detect and measure stars (centroid, FWHM, eccentricity, HFR) in FITS frames')
    .argument('<files...>', 'FITS files')
    .option('--json', 'print a JSON report')
    .option('--list', 'include every star in the JSON report')
    .option('-k, --threshold <k>', 'detection threshold in noise sigmas', '5')
    .option('--psf <kind>', 'gaussian or moffat', 'gaussian')
    .option('--saturation <adu>', 'saturation level (default: SATURATE keyword)')
    .action((files: string[], o: { json?: boolean; list?: boolean; threshold: string; psf: string; saturation?: string }) => {
      const k = Number(o.threshold);
      if (!(k > 0)) throw new DarkroomError('BAD_ARGUMENT', `--threshold must be a positive number (got ${o.threshold})`);
      if (o.psf !== 'gaussian' && o.psf !== 'moffat') throw new DarkroomError('BAD_ARGUMENT', `--psf must be gaussian or moffat (got ${o.psf})`);
      const sat = o.saturation === undefined ? undefined : Number(o.saturation);
      const out: StarsReport[] = [];
      let failed = 0;
      for (const f of files) {
        try {
          out.push(starsReport(f, { k, psf: o.psf, saturation: sat, list: o.list }));
        } catch (e) {
          if (!isDarkroomError(e) || files.length === 1) throw e;
          process.stderr.write(`darkroom: ${e.oneLine()}\n`);
          failed++;
        }
      }
      if (o.json) process.stdout.write(`${JSON.stringify(files.length === 1 ? out[0] : out, null, 2)}\n`);
      else for (const r of out) process.stdout.write(`${r.path}: ${r.stars} stars, FWHM ${r.medianFwhm.toFixed(2)} px, eccentricity ${r.medianEccentricity.toFixed(2)}, HFR ${r.medianHfr.toFixed(2)}, background ${r.background.toFixed(1)}, noise ${r.noise.toFixed(2)}\n`);
      if (failed) process.exitCode = 2;
    });
}
