/**
 * The pure part of plate solving: hints from a FITS header, the solve-field command line, and the
 * reading of its answer (the .wcs header it writes).
 */
import type { FitsHeader } from '../fits/header.js';
import { pointing } from '../session/coords.js';
import type { SolveOptions } from './options.js';
import { readWcs, type TanWcs } from './wcs.js';

export interface SolveHints {
  /** Centre hint, degrees, and search radius, degrees. */
  position?: { ra: number; dec: number; radius: number };
  /** Scale range, arcsec per pixel. */
  scale?: { low: number; high: number };
}

/** Hints from the options (first) and the header: RA/DEC or OBJCTRA/OBJCTDEC; FOCALLEN with XPIXSZ (binning included) and XBINNING. */
export function solveHints(h: FitsHeader, o: Pick<SolveOptions, 'ra' | 'dec' | 'radius' | 'focalLength' | 'pixelSize' | 'scaleTolerance' | 'blind'>): SolveHints {
  if (o.blind) return {};
  const out: SolveHints = {};
  const p = o.ra !== undefined && o.dec !== undefined ? { ra: o.ra, dec: o.dec } : pointing(h);
  if (p) out.position = { ...p, radius: o.radius };
  const pos = (v: number | undefined): number | undefined => (v !== undefined && Number.isFinite(v) && v > 0 ? v : undefined);
  const focal = pos(o.focalLength) ?? pos(h.getNumber('FOCALLEN'));
  const pixel = pos(o.pixelSize) ?? pos(h.getNumber('XPIXSZ'));
  if (focal && pixel) {
    const s = (206.264806 * pixel) / focal;
    // XPIXSZ includes the binning as MaxIm, N.I.N.A. and Darkroom write it; some software writes the
    // unbinned size: the range also reaches the scale that reading would give.
    const bin = o.pixelSize === undefined ? Math.max(1, Math.round(pos(h.getNumber('XBINNING')) ?? 1)) : 1;
    out.scale = { low: s * (1 - o.scaleTolerance), high: s * bin * (1 + o.scaleTolerance) };
  }
  return out;
}

/** The solve-field arguments for solving `input` into `dir` (outputs `<dir>/field.*`); `config` an astrometry.cfg to use. */
export function solveFieldArgs(input: string, dir: string, hints: SolveHints, o: Pick<SolveOptions, 'timeout' | 'downsample'> & { width: number; config?: string }): string[] {
  const a = ['--no-plots', '--overwrite', '--dir', dir, '--temp-dir', dir, '--out', 'field', '--fits-image'];
  // only the .wcs answer: no new FITS, correspondence, match or index-star files
  a.push('--new-fits', 'none', '--corr', 'none', '--rdls', 'none', '--match', 'none', '--solved', 'none', '--index-xyls', 'none');
  // a linear (pure TAN) fit to every matched star, with the reference pixel at the centre of the image
  a.push('--crpix-center', '--tweak-order', '1');
  a.push('--cpulimit', String(Math.ceil(o.timeout)));
  const ds = o.downsample ?? (o.width > 2000 ? 2 : 1);
  if (ds > 1) a.push('--downsample', String(ds));
  if (hints.scale) a.push('--scale-units', 'arcsecperpix', '--scale-low', hints.scale.low.toFixed(4), '--scale-high', hints.scale.high.toFixed(4));
  if (hints.position) a.push('--ra', hints.position.ra.toFixed(6), '--dec', hints.position.dec.toFixed(6), '--radius', String(hints.position.radius));
  if (o.config) a.push('--config', o.config);
  a.push(input);
  return a;
}

/** The solution in a .wcs header written by solve-field (TAN or TAN-SIP; SIP terms ignored) and the index that solved it. */
export function parseSolution(h: FitsHeader): { wcs: TanWcs; index?: string } | undefined {
  const wcs = readWcs(h);
  if (!wcs) return undefined;
  const idx = h.cards.find((c) => c.key === 'COMMENT' && /^index id:/.test(c.comment ?? ''));
  return { wcs, index: idx?.comment?.replace(/^index id:\s*/, '').trim() };
}

/** The astrometry.cfg folders (add_path lines) of a config text. */
export function configPaths(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*add_path\s+(\S+)/.exec(line);
    if (m) out.push(m[1]!);
  }
  return out;
}

/** Sexagesimal text: hours for RA ('00h42m44.3s'), degrees for Dec ('+41d16m08s'). */
export function formatRa(deg: number): string {
  const t = Math.round((((deg % 360) + 360) % 360) / 15 * 36000) / 10;
  const h = Math.floor(t / 3600);
  const m = Math.floor((t - h * 3600) / 60);
  const s = t - h * 3600 - m * 60;
  return `${String(h % 24).padStart(2, '0')}h${String(m).padStart(2, '0')}m${s.toFixed(1).padStart(4, '0')}s`;
}

export function formatDec(deg: number): string {
  const t = Math.round(Math.abs(deg) * 3600);
  const d = Math.floor(t / 3600);
  const m = Math.floor((t - d * 3600) / 60);
  const s = t - d * 3600 - m * 60;
  return `${deg < 0 ? '-' : '+'}${String(d).padStart(2, '0')}d${String(m).padStart(2, '0')}m${String(s).padStart(2, '0')}s`;
}
