/** `darkroom info FILE...`: what a frame is (kind, exposure, temperature, filter, binning) and its statistics. */
import type { Command } from 'commander';
import { FitsFile, type Hdu } from '../fits/reader.js';
import { frameMeta } from '../session/metadata.js';
import { rowScan, rowsForBytes, streamPlaneStats, type RowSource } from '../image/bandstats.js';
import { noiseMRS, noiseRows } from '../image/noise.js';
import type { PlaneStats } from '../image/stats.js';
import { isDarkroomError } from '../util/errors.js';

export interface InfoStats extends Omit<PlaneStats, 'count'> {
  noise: number;
}

export interface InfoRecord {
  path: string;
  width: number;
  height: number;
  channels: number;
  bitpix: number;
  kind: string | null;
  exposure: number | null;
  temperature: number | null;
  filter: string | null;
  binning: string;
  object: string | null;
  bayer: string | null;
  hdu: number;
  stats: InfoStats;
  /** What the reader found questionable but could still read (non-standard cards, bytes after END...). */
  warnings: string[];
}

/** Bytes of one band when `info` streams a file (the statistics never hold a whole plane). */
const INFO_BAND_BYTES = 16 << 20;

/**
 * Statistics over all planes together (as numpy over the whole array), streamed by row bands:
 * exact, in bounded memory; noise averaged over planes (each on at most NOISE_MAX_PIXELS).
 */
function fileStats(f: FitsFile, hdu: Hdu, width: number, height: number, channels: number): InfoStats {
  const src: RowSource = { width, height, readRows: (c, y0, y1, out) => void f.readRows(c, y0, y1, hdu, out) };
  const chans = Array.from({ length: channels }, (_, c) => c);
  const s = streamPlaneStats(rowScan(src, chans, rowsForBytes(width, INFO_BAND_BYTES)));
  const [y0, y1] = noiseRows(width, height);
  let noise = 0;
  for (let c = 0; c < channels; c++) noise += noiseMRS(f.readRows(c, y0, y1, hdu), width, y1 - y0).sigma;
  noise /= channels;
  return { mean: s.mean, median: s.median, stdev: s.stdev, mad: s.mad, min: s.min, max: s.max, noise };
}

export function infoFor(path: string): InfoRecord {
  const warnings: string[] = [];
  const f = new FitsFile(path, { onWarning: (w) => warnings.push(w.message) });
  try {
    const hdu = f.imageHdu();
    const { width, height, channels } = f.geometry(hdu);
    const meta = frameMeta(hdu.header, path);
    const stats = fileStats(f, hdu, width, height, channels);
    return {
      path,
      width,
      height,
      channels,
      bitpix: hdu.bitpix,
      kind: meta.kind ?? null,
      exposure: meta.exposure ?? null,
      temperature: meta.temperature ?? null,
      filter: meta.filter ?? null,
      binning: `${meta.binning.x}x${meta.binning.y}`,
      object: meta.object ?? null,
      bayer: meta.bayer ?? null,
      hdu: hdu.index,
      stats,
      warnings,
    };
  } finally {
    f.close();
  }
}

function fmt(v: number | null | undefined, digits = 2): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '-';
  return Math.abs(v) >= 1e6 || (Math.abs(v) < 1e-3 && v !== 0) ? v.toExponential(3) : v.toFixed(digits);
}

export function formatInfo(r: InfoRecord): string {
  const s = r.stats;
  return [
    `${r.path}`,
    `  size        ${r.width} x ${r.height}${r.channels > 1 ? ` x ${r.channels}` : ''}  BITPIX ${r.bitpix}${r.hdu > 0 ? `  (HDU ${r.hdu})` : ''}`,
    `  kind        ${r.kind ?? '-'}${r.object ? `  object ${r.object}` : ''}`,
    `  exposure    ${r.exposure === null ? '-' : `${r.exposure} s`}`,
    `  temperature ${r.temperature === null ? '-' : `${r.temperature} C`}`,
    `  filter      ${r.filter ?? '-'}`,
    `  binning     ${r.binning}${r.bayer ? `  CFA ${r.bayer}` : ''}`,
    `  mean ${fmt(s.mean)}  median ${fmt(s.median)}  stdev ${fmt(s.stdev)}  MAD ${fmt(s.mad)}`,
    `  min ${fmt(s.min)}  max ${fmt(s.max)}  noise ${fmt(s.noise)}`,
  ].join('\n');
}

export function registerInfo(program: Command): void {
  program
    .command('info')
    .description('describe FITS frames: size, BITPIX, kind, exposure, temperature, filter, binning, pixel statistics')
    .argument('<files...>', 'FITS files')
    .option('--json', 'print a JSON array')
    .action((files: string[], opts: { json?: boolean }) => {
      const out: InfoRecord[] = [];
      let failed = 0;
      for (const f of files) {
        try {
          const r = infoFor(f); // warnings printed only for a file that reads: a refusal stays one line
          for (const w of r.warnings) process.stderr.write(`darkroom: warning: ${f}: ${w}\n`);
          out.push(r);
          if (!opts.json) process.stdout.write(`${formatInfo(r)}\n`);
        } catch (e) {
          if (!isDarkroomError(e)) throw e;
          failed++;
          process.stderr.write(`darkroom: ${e.oneLine()}\n`);
        }
      }
      if (opts.json) process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
      if (failed > 0) process.exitCode = 2;
    });
}

