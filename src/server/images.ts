/**
 * Image views for the API: header cards as JSON, per-channel statistics, stars with FWHM, and the
 * pixels as one binary float32 buffer (planes one after the other, little-endian). Images read from
 * disk are cached by path and modification time (a few at a time).
 */
import { statSync } from 'node:fs';
import { readFits } from '../fits/index.js';
import type { Image } from '../image/image.js';
import { planeStats, MAD_TO_SIGMA } from '../image/stats.js';
import { detectStars } from '../stars/detect.js';

const cache = new Map<string, { mtime: number; image: Image; stars?: StarsView }>();

export function loadImage(real: string): Image {
  const st = statSync(real);
  const hit = cache.get(real);
  if (hit && hit.mtime === st.mtimeMs) return hit.image;
  const image = readFits(real);
  cache.set(real, { mtime: st.mtimeMs, image });
  while (cache.size > 4) cache.delete(cache.keys().next().value!);
  return image;
}

export interface ImageInfo {
  width: number;
  height: number;
  channels: number;
  cfa?: string;
  header: Array<{ key: string; value: string | number | boolean | null; comment?: string }>;
  stats: Array<{ mean: number; median: number; stdev: number; mad: number; noise: number; min: number; max: number }>;
}

export function imageInfo(img: Image): ImageInfo {
  const header = img.header.cards
    .filter((c) => c.key !== '' || c.comment)
    .map((c) => ({ key: c.key, value: c.value === undefined ? null : typeof c.value === 'bigint' ? Number(c.value) : c.value, ...(c.comment ? { comment: c.comment } : {}) }));
  const stats = img.data.map((d) => {
    const s = planeStats(d);
    return { mean: s.mean, median: s.median, stdev: s.stdev, mad: s.mad, noise: s.mad * MAD_TO_SIGMA, min: s.min, max: s.max };
  });
  const cfa = (img as { cfa?: { pattern?: string } }).cfa?.pattern;
  return { width: img.width, height: img.height, channels: img.channels, ...(cfa ? { cfa } : {}), header, stats };
}

/** Planar float32 pixels, little-endian, channel after channel. */
export function pixelBuffer(img: Image): Buffer {
  const n = img.width * img.height;
  const buf = Buffer.allocUnsafe(n * img.channels * 4);
  for (let c = 0; c < img.channels; c++) {
    const d = img.data[c]!;
    Buffer.from(d.buffer, d.byteOffset, n * 4).copy(buf, c * n * 4);
  }
  return buf;
}

export interface StarsView {
  count: number;
  medianFwhm: number | null;
  medianHfr: number | null;
  stars: Array<{ x: number; y: number; fwhm: number; hfr: number; flux: number; snr: number; eccentricity: number; saturated: boolean }>;
}

function med(v: number[]): number | null {
  const a = v.filter(Number.isFinite).sort((x, y) => x - y);
  if (a.length === 0) return null;
  const h = a.length >> 1;
  return a.length % 2 ? a[h]! : (a[h - 1]! + a[h]!) / 2;
}

/** Stars of the first channel (the mean of the channels for colour images), brightest first. */
export function imageStars(img: Image, max = 500, path?: string): StarsView {
  const hit = path ? cache.get(path) : undefined;
  if (hit?.image === img && hit.stars) return hit.stars;
  let plane = img.data[0]!;
  if (img.channels > 1) {
    plane = new Float32Array(plane.length);
    for (const d of img.data) for (let i = 0; i < d.length; i++) plane[i]! += d[i]! / img.channels;
  }
  const r = detectStars(plane, img.width, img.height, { maxStars: max });
  const stars = r.stars.map((s) => ({ x: s.x, y: s.y, fwhm: s.fwhm, hfr: s.hfr, flux: s.flux, snr: s.snr, eccentricity: s.eccentricity, saturated: s.saturated }));
  const view: StarsView = { count: stars.length, medianFwhm: med(r.stars.filter((s) => s.fitted).map((s) => s.fwhm)) ?? med(stars.map((s) => s.fwhm)), medianHfr: med(stars.map((s) => s.hfr)), stars };
  if (hit?.image === img) hit.stars = view;
  return view;
}
