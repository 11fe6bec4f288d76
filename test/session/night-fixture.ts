/**
 * Small synthetic nights written as FITS files the way MaxIm DL, N.I.N.A. and Ekos write them,
 * with known ground truth (kinds, targets, duplicates) for scan/group/plan tests.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { writeFits } from '../../src/fits/writer.js';
import { createImage } from '../../src/image/image.js';
import { Rng } from '../../src/util/random.js';
import type { Frame } from '../../src/session/scan.js';
import type { FrameMeta } from '../../src/session/metadata.js';
import type { PixelEvidence } from '../../src/session/evidence.js';

export const W = 48;
export const H = 40;

export interface FrameSpec {
  path: string;
  /** 'bias' | 'dark' | 'flat' | 'sky' (stars): what the pixels are. */
  pixels: 'bias' | 'dark' | 'flat' | 'sky';
  keywords: Record<string, string | number | boolean>;
  seed: number;
  /** Offset added to every pixel (ADU). */
  level?: number;
  width?: number;
  height?: number;
  bayer?: boolean;
}

/** Star field scaled to the frame: 14 stars per 48x40 pixels, same seed, so frames of a target match. */
function stars(w: number, h: number): Array<[number, number, number]> {
  const out: Array<[number, number, number]> = [];
  const r = new Rng(99);
  const n = Math.max(5, Math.round((14 * w * h) / (W * H)));
  for (let i = 0; i < n; i++) out.push([3 + r.uniform() * (w - 6), 3 + r.uniform() * (h - 6), 3000 + r.uniform() * 8000]);
  return out;
}

export function writeFrame(root: string, s: FrameSpec): string {
  const w = s.width ?? W;
  const h = s.height ?? H;
  const img = createImage(w, h);
  const d = img.data[0]!;
  const rng = new Rng(s.seed);
  const STARS = s.pixels === 'sky' ? stars(w, h) : [];
  const bias = s.level ?? 500;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let v = bias + rng.gauss() * 5;
      if (s.pixels === 'dark') v += 20 + rng.gauss() * 2;
      if (s.pixels === 'flat') {
        const rr = ((x - w / 2) ** 2 + (y - h / 2) ** 2) / (w * w);
        v += 25000 * (1 - 0.3 * rr) + rng.gauss() * 150;
      }
      if (s.pixels === 'sky') {
        v += 700 + rng.gauss() * 25;
        for (const [sx, sy, a] of STARS) {
          const r2 = (x - sx) ** 2 + (y - sy) ** 2;
          if (r2 < 36) v += a * Math.exp(-r2 / (2 * 1.3 * 1.3));
        }
      }
      d[y * w + x] = Math.max(0, Math.min(65535, Math.round(v)));
    }
  }
  if (s.pixels === 'dark') d[7 * w + 9] = 9000; // a hot pixel: not a star
  const p = join(root, s.path);
  mkdirSync(dirname(p), { recursive: true });
  writeFits(p, img, { bitpix: 16, keywords: { XBINNING: 1, YBINNING: 1, INSTRUME: 'QSI 683 wsg-8', ...s.keywords }, stamp: false });
  return p;
}

/**
 * A frame as the scanner would describe it, with no file behind it (for grouping and target logic):
 * `path` is `root/rel`, the kind is the header's, 100 x 80 mono 16-bit unless told.
 */
export function scannedFrame(root: string, rel: string, meta: FrameMeta, o: { width?: number; ra?: number; dec?: number; pixels?: PixelEvidence; bytes?: number } = {}): Frame {
  return {
    path: `${root}/${rel}`,
    rel,
    kind: meta.kind,
    meta,
    width: o.width ?? 100,
    height: 80,
    channels: 1,
    bitpix: 16,
    hdu: 0,
    ra: o.ra,
    dec: o.dec,
    pixels: o.pixels,
    bytes: o.bytes ?? 16000,
  };
}

const maxim = (type: string, exp: number, temp: number, extra: Record<string, string | number | boolean> = {}): Record<string, string | number | boolean> => ({
  IMAGETYP: type,
  EXPTIME: exp,
  EXPOSURE: exp,
  'CCD-TEMP': temp,
  'SET-TEMP': -10,
  ...extra,
});

/**
 * The messy night:
 * - M42 L 300 s: 4 MaxIm lights (OBJCTRA/OBJCTDEC), 2 N.I.N.A. lights OBJECT 'M 42' (RA/DEC deg),
 *   1 light with no OBJECT; a duplicate of light 1 in another folder with a different header;
 *   a frame typed "Dark Frame" that shows stars (named like a light).
 * - NGC 7000 Ha 180 s: 3 Ekos lights ('Light'), darks only at 600 s -> dark optimization with bias.
 * - darks 300 s at -10 C: 3 + one typed "Light Frame" in darks/ named Dark_... (unexposed pixels).
 * - bias x3, flat L x3 (2 s) + flat-darks 2 s x2, flat Ha x3 (no flat-dark -> bias).
 * - a frame typed LIGHT with smooth high pixels (a flat) with FILTER L.
 * - notes.fits: not a FITS file; readme.txt ignored.
 */
export function messyNight(root: string): void {
  let seed = 1;
  const m42 = { OBJECT: 'M42', OBJCTRA: '05 35 17.3', OBJCTDEC: '-05 23 28', FILTER: 'L' };
  for (let i = 1; i <= 4; i++) writeFrame(root, { path: `M42/Light/M42_L_300s_00${i}.fit`, pixels: 'sky', seed: seed++, keywords: maxim('Light Frame', 300, -10 + 0.1 * i, m42) });
  for (let i = 5; i <= 6; i++) writeFrame(root, { path: `M42/Light/M42_L_300s_00${i}.fit`, pixels: 'sky', seed: seed++, keywords: { IMAGETYP: 'LIGHT', EXPOSURE: 300, 'CCD-TEMP': -10, OBJECT: 'M 42', RA: 83.83, DEC: -5.40, FILTER: 'L' } });
  writeFrame(root, { path: 'M42/Light/M42_L_300s_007.fit', pixels: 'sky', seed: seed++, keywords: maxim('Light Frame', 300, -10, { OBJCTRA: '05 35 20', OBJCTDEC: '-05 20 00', FILTER: 'L' }) });
  // Same pixels as light 1, different header and folder.
  writeFrame(root, { path: 'backup/copy_of_first.fits', pixels: 'sky', seed: 1, keywords: maxim('Light Frame', 300, -9.9, { ...m42, OBSERVER: 'someone' }) });
  writeFrame(root, { path: 'M42/Light/M42_L_300s_008.fit', pixels: 'sky', seed: seed++, keywords: maxim('Dark Frame', 300, -10, m42) });
  // NGC 7000 Ha 180 s (Ekos style: IMAGETYP 'Light Frame', FRAME).
  const ngc = { OBJECT: 'NGC 7000', RA: 314.75, DEC: 44.33, FILTER: 'Ha' };
  for (let i = 1; i <= 3; i++) writeFrame(root, { path: `NGC7000/NGC_7000_Light_Ha_180_secs_00${i}.fits`, pixels: 'sky', seed: seed++, keywords: { FRAME: 'Light', EXPTIME: 180, 'CCD-TEMP': -10, ...ngc } });
  for (let i = 1; i <= 3; i++) writeFrame(root, { path: `Darks/Dark_300s_00${i}.fit`, pixels: 'dark', seed: seed++, keywords: maxim('Dark Frame', 300, -10 + 0.2 * i) });
  writeFrame(root, { path: 'Darks/Dark_300s_004.fit', pixels: 'dark', seed: seed++, keywords: maxim('Light Frame', 300, -10) });
  for (let i = 1; i <= 3; i++) writeFrame(root, { path: `Darks600/DARK_600s_00${i}.FIT`, pixels: 'dark', level: 540, seed: seed++, keywords: { IMAGETYP: 'DARK', EXPOSURE: 600, 'CCD-TEMP': -10.3 } });
  for (let i = 1; i <= 3; i++) writeFrame(root, { path: `Bias/Bias_00${i}.fts`, pixels: 'bias', seed: seed++, keywords: maxim('Bias Frame', 0, -10) });
  for (let i = 1; i <= 3; i++) writeFrame(root, { path: `Flats/L/Flat_L_00${i}.fit`, pixels: 'flat', seed: seed++, keywords: maxim('Flat Field', 2, -10, { FILTER: 'L' }) });
  for (let i = 1; i <= 2; i++) writeFrame(root, { path: `Flats/L/FlatDark_2s_00${i}.fit`, pixels: 'bias', seed: seed++, keywords: maxim('Flat Dark', 2, -10) });
  for (let i = 1; i <= 3; i++) writeFrame(root, { path: `Flats/Ha/FLAT_Ha_00${i}.fits`, pixels: 'flat', seed: seed++, keywords: { IMAGETYP: 'FLAT', EXPOSURE: 5, 'CCD-TEMP': -10, FILTER: 'Ha' } });
  writeFrame(root, { path: 'M42/Light/frame_099.fit', pixels: 'flat', seed: seed++, keywords: maxim('LIGHT', 2, -10, { FILTER: 'L' }) });
  writeFileSync(join(root, 'M42/notes.fits'), 'observing log: clouds at 2am\n');
  writeFileSync(join(root, 'readme.txt'), 'not an image\n');
}

