/**
 * What the pixels say a frame is, from cheap robust statistics on a subsample of row bands:
 * median, MAD-sigma, and star-like peaks (compact local maxima: see below; hot pixels, hot columns,
 * most cosmic rays and smooth glows do not count). Never reads the whole frame of a large image.
 */
import { median as exactMedian } from '../image/stats.js';
import { medianInPlace } from '../kernels/select.js';
import { medianMadOfBlock, medianMadOfIntegers, type MedianMad } from './int-stats.js';
import type { FitsFile, Hdu } from '../fits/reader.js';
import type { FrameKind } from './metadata.js';

export type PixelClass = 'stars' | 'uniform' | 'unexposed' | 'ambiguous';

export interface PixelEvidence {
  median: number;
  sigma: number;
  /** Star-like peaks found in the sampled rows. */
  stars: number;
  /** Rows examined. */
  rows: number;
  /** Full scale used for "level" (65535 for 16-bit...). */
  fullScale: number;
  class: PixelClass;
}

/** Star-like peaks needed to overrule a header and a file/folder name that agree. */
const STRONG_STARS = 20;

/** Rows per sampled band: a peak is compared with pixels R rows/columns away. */
const R = 4;
const BAND = 2 * R + 1;

/** Columns per segment of a band for the local level and noise of the star test. */
const SEG = 64;

/** Star-test thresholds of the SEG-column segments of a band (index x / SEG). */
interface SegmentThresholds {
  hi: Float64Array;
  lo: Float64Array;
  compact: Float64Array;
}

/** Counting window of medianMadOfBlock, centred on the frame's median (the bins used are walked and cleared, not all). */
const BLOCK_WINDOW = 65536;

/** Star-test thresholds of each SEG-column segment of a band: its median and max(frame sigma, its MAD-sigma). */
function segmentStats(d: Float32Array, width: number, h: number, median: number, sigma: number, buf: Float32Array, out: SegmentThresholds): void {
  for (let x0 = 0, s = 0; x0 < width; x0 += SEG, s++) {
    const x1 = Math.min(width, x0 + SEG);
    // A band taller than BAND rows (a whole small image) fills buf with its first values only: the
    // segment's statistics are those of its first BAND * SEG finite pixels, as they always were.
    const cap = buf.length;
    // Integer pixels (raw frames) are counted straight from the band, in a window around the frame's median.
    const fast = medianMadOfBlock(d, width, h, x0, x1, cap, Math.floor(median) - BLOCK_WINDOW / 2, BLOCK_WINDOW, 32);
    if (fast.ok && (fast.mm || fast.n < 32)) {
      const ss = fast.mm ? 1.4826 * fast.mm.mad : 0;
      const m = ss > sigma ? fast.mm!.med : median;
      const sg = ss > sigma ? ss : sigma;
      out.hi[s] = m + 5 * sg;
      out.lo[s] = m + 3 * sg;
      out.compact[s] = 4 * sg;
      continue;
    }
    let n = 0;
    let lo = Infinity;
    let hi = -Infinity;
    for (let y = 0; y < h && n < cap; y++) {
      for (let i = y * width + x0, e = y * width + x1; i < e; i++) {
        const v = d[i]!;
        if (v === v) {
          buf[n++] = v;
          if (v < lo) lo = v;
          if (v > hi) hi = v;
          if (n === cap) break;
        }
      }
    }
    let m = median;
    let sg = sigma;
    if (n >= 32) {
      const { med: sm, mad } = segmentMedianMad(buf, n, lo, hi, median);
      const ss = 1.4826 * mad;
      if (ss > sigma) { m = sm; sg = ss; }
    }
    out.hi[s] = m + 5 * sg;
    out.lo[s] = m + 3 * sg;
    out.compact[s] = 4 * sg;
  }
}

/**
 * Star-like peaks in rows R .. h - R - 1 of a band (see pixelEvidence), with the thresholds of
 * each x's segment; a plateau counts once (the next pixel is skipped, across segments too).
 */
function countStars(d: Float32Array, width: number, h: number, t: SegmentThresholds): number {
  let stars = 0;
  const { hi: his, lo: los, compact: compacts } = t;
  for (let y = R; y < h - R; y++) {
    const row = y * width;
    let x = R;
    for (let s = 0; x < width - R; s++) {
      const end = Math.min(width - R, (s + 1) * SEG);
      const hi = his[s]!, lo = los[s]!, compact = compacts[s]!;
      for (; x < end; x++) {
        const v = d[row + x]!;
        if (!(v > hi)) continue;
        const l = d[row + x - 1]!;
        const r = d[row + x + 1]!;
        const u = d[row - width + x]!;
        const w = d[row + width + x]!;
        if (v < l || v < r || v < u || v < w) continue; // not a local maximum
        if (!((l > lo || r > lo) && (u > lo || w > lo))) continue;
        const far = Math.max(d[row + x - R]!, d[row + x + R]!, d[row - R * width + x]!, d[row + R * width + x]!);
        if (v - far > compact) {
          stars++;
          x++; // a plateau counts once
        }
      }
    }
  }
  return stars;
}

/** Exact median (the shared radix selection: no sort of the whole sample). */
function medianOf(a: Float32Array): number {
  return a.length === 0 ? NaN : exactMedian(a);
}

/** Counting window of a segment whose values span more than it: centred on the frame's median. */
const SEG_WINDOW = 4096;

/**
 * Exact median and MAD of a segment's buf[0..n-1] (reordered): by counting when the values are
 * integers (raw frames) and the middle ranks fall in a window of SEG_WINDOW bins, else by two
 * in-place selections. Both give the numbers of median() / the MAD over float32 deviations.
 */
function segmentMedianMad(buf: Float32Array, n: number, lo: number, hi: number, frameMedian: number): MedianMad {
  const base = hi - lo < SEG_WINDOW ? lo : Math.floor(frameMedian) - SEG_WINDOW / 2;
  const size = hi - lo < SEG_WINDOW ? hi - lo + 1 : SEG_WINDOW;
  const fast = Number.isInteger(base) ? medianMadOfIntegers(buf, n, base, size) : null;
  if (fast) return fast;
  const seg = buf.subarray(0, n);
  const med = medianInPlace(seg, n);
  for (let i = 0; i < n; i++) seg[i] = Math.abs(seg[i]! - med);
  return { med, mad: medianInPlace(seg, n) };
}

/**
 * Exact median and MAD of the frame sample s (overwritten by the deviations on the slow path):
 * by counting over [lo, hi] when the values are integers spanning at most 65536, else by radix selection.
 */
function sampleMedianMad(s: Float32Array, lo: number, hi: number): MedianMad {
  const fast = s.length > 0 && hi - lo < 65536 && Number.isInteger(lo) ? medianMadOfIntegers(s, s.length, lo, hi - lo + 1) : null;
  if (fast) return fast;
  const med = medianOf(s);
  for (let i = 0; i < s.length; i++) s[i] = Math.abs(s[i]! - med);
  return { med, mad: medianOf(s) };
}

/** The frame sample's buffer, reused from file to file (grown when a frame needs more). */
let sampleBuf = new Float32Array(0);

export function fullScaleOf(hdu: Hdu): number {
  const sat = hdu.header.getNumber('SATURATE') ?? hdu.header.getNumber('DATAMAX');
  if (sat && sat > 0) return sat;
  if (hdu.bitpix === 8) return 255;
  if (hdu.bitpix === 16) return hdu.bzero === 32768 ? 65535 : 32767;
  return 65535;
}

/**
 * Sample `maxBands` bands of 9 consecutive rows spread over the first plane (whole image when
 * small) and classify: stars -> exposed sky; no stars and median above 10% of full scale ->
 * uniform illumination (flat); median below 5% of full scale and no stars -> unexposed.
 */
export function pixelEvidence(f: FitsFile, hdu: Hdu, maxBands = 32): PixelEvidence {
  const { width, height } = f.geometry(hdu);
  const fullScale = fullScaleOf(hdu);
  const bands: Array<[number, number]> = [];
  if (height <= maxBands * BAND * 2) bands.push([0, height]);
  else {
    const step = (height - BAND) / (maxBands - 1);
    for (let i = 0; i < maxBands; i++) {
      const y0 = Math.round(i * step);
      bands.push([y0, y0 + BAND]);
    }
  }
  const data: Float32Array[] = bands.map(([a, b]) => f.readRows(0, a, b, hdu));
  // Robust level and sigma from a strided subsample of at most ~200k values.
  let total = 0;
  for (const d of data) total += d.length;
  const stride = Math.max(1, Math.floor(total / 200_000));
  const need = Math.ceil(total / stride) + data.length;
  if (sampleBuf.length < need) sampleBuf = new Float32Array(need);
  const sample = sampleBuf;
  let n = 0;
  let lo = Infinity;
  let hi = -Infinity;
  for (const d of data) {
    for (let i = 0; i < d.length; i += stride) {
      const v = d[i]!;
      if (v === v) {
        sample[n++] = v;
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
    }
  }
  const { med: median, mad } = sampleMedianMad(sample.subarray(0, n), lo, hi);
  let sigma = 1.4826 * mad;
  if (!(sigma > 0)) sigma = 1e-6 * Math.max(1, Math.abs(median));
  let stars = 0;
  let rows = 0;
  // A star is compact: a local maximum above the local level + 5 sigma, with neighbours above 3 sigma
  // horizontally and vertically (not a hot pixel or column), standing 4 sigma above the pixels
  // R away in all four directions (not a smooth bright region such as amp glow or a gradient).
  // Level and sigma are those of the band's SEG-column segment when its noise is higher than the
  // frame's (the shot noise of an amp glow or a bright gradient makes noise peaks there), else the frame's.
  const segment = new Float32Array(BAND * SEG);
  const nseg = Math.ceil(width / SEG);
  const local: SegmentThresholds = { hi: new Float64Array(nseg), lo: new Float64Array(nseg), compact: new Float64Array(nseg) };
  for (let b = 0; b < data.length; b++) {
    const d = data[b]!;
    const h = bands[b]![1] - bands[b]![0];
    rows += h;
    segmentStats(d, width, h, median, sigma, segment, local);
    stars += countStars(d, width, h, local);
  }
  let cls: PixelClass = 'ambiguous';
  // Float data normalized to [0, 1] (or a master flat normalized to 1) has a full scale of 1.
  let full = fullScale;
  if (hdu.bitpix < 0 && !hdu.header.getNumber('SATURATE') && !hdu.header.getNumber('DATAMAX') && median <= 1.5) full = 1;
  const level = median / full;
  if (stars >= 5) cls = 'stars';
  else if (level > 0.1 && stars === 0) cls = 'uniform';
  else if (level < 0.05 && stars <= 1) cls = 'unexposed';
  return { median, sigma, stars, rows, fullScale: full, class: cls };
}

/** Kinds the pixel class agrees with. */
export function kindsFor(cls: PixelClass): FrameKind[] {
  switch (cls) {
    case 'stars':
      return ['light'];
    case 'uniform':
      return ['flat'];
    case 'unexposed':
      return ['bias', 'dark', 'flatdark'];
    default:
      return ['bias', 'dark', 'flatdark', 'flat', 'light'];
  }
}

export interface KindDecision {
  kind?: FrameKind;
  /** Why, when the evidence disagreed (empty when header, name and pixels agree). */
  note?: string;
}

function describe(cls: PixelClass, ev: PixelEvidence): string {
  if (cls === 'stars') return `pixels show ${ev.stars} star-like peaks`;
  if (cls === 'uniform') return `pixels are a smooth high level (median ${ev.median.toFixed(0)}, ${((100 * ev.median) / ev.fullScale).toFixed(0)}% of full scale) with no stars`;
  return `pixels are unexposed (median ${ev.median.toFixed(0)}, no stars)`;
}

/**
 * Combine the header kind, the file/folder-name kind and the pixel class: the kind with the
 * stronger evidence wins (header and name agreeing beat nothing; pixels contradicting the header
 * decide, using the name when it agrees with the pixels).
 */
export function decideKind(
  headerKind: FrameKind | undefined,
  nameKind: FrameKind | undefined,
  ev: PixelEvidence | undefined,
  exposure: number | undefined,
): KindDecision {
  const cls = ev?.class ?? 'ambiguous';
  const ok = kindsFor(cls);
  if (headerKind && ok.includes(headerKind)) {
    if (nameKind && nameKind !== headerKind) {
      if (!ok.includes(nameKind) || cls === 'ambiguous') {
        return { kind: headerKind, note: `header IMAGETYP says ${headerKind}, file/folder name says ${nameKind}: used the header${cls !== 'ambiguous' ? ` (${describe(cls, ev!)})` : ''}` };
      }
      // Both compatible with the pixels (e.g. dark vs bias): the header is the more specific record.
      return { kind: headerKind, note: `header IMAGETYP says ${headerKind}, file/folder name says ${nameKind}: used the header` };
    }
    return { kind: headerKind };
  }
  if (headerKind === 'light' && cls === 'unexposed' && !(nameKind && ok.includes(nameKind))) {
    // A faint light with no star found (clouds, narrowband, a sparse field) looks unexposed:
    // weak evidence alone, so the header stays unless the file/folder name agrees with the pixels.
    return { kind: 'light', note: `header IMAGETYP says light, ${describe(cls, ev!)}: kept as light (no name evidence for a dark)` };
  }
  if (headerKind && !ok.includes(headerKind) && nameKind === headerKind && cls === 'stars' && ev!.stars < STRONG_STARS) {
    // Header and name agree; a few compact peaks (cosmic rays, hot-pixel clusters) do not outweigh both.
    return { kind: headerKind, note: `header IMAGETYP and file/folder name say ${headerKind}; ${describe(cls, ev!)}, too few to overrule both: kept as ${headerKind}` };
  }
  if (headerKind && !ok.includes(headerKind)) {
    // Pixels contradict the header.
    let kind: FrameKind;
    if (nameKind && ok.includes(nameKind)) kind = nameKind;
    else if (cls === 'stars') kind = 'light';
    else if (cls === 'uniform') kind = 'flat';
    else if (headerKind === 'flat') kind = 'flatdark';
    else kind = exposure !== undefined && exposure <= 0.01 ? 'bias' : 'dark';
    const byName = nameKind === kind ? ' and the file/folder name' : '';
    return { kind, note: `header IMAGETYP says ${headerKind} but ${describe(cls, ev!)}: classified as ${kind} (pixels${byName})` };
  }
  // No header kind.
  if (nameKind && ok.includes(nameKind)) return { kind: nameKind, note: `no IMAGETYP: ${nameKind} from the file/folder name` };
  if (cls !== 'ambiguous') {
    const kind: FrameKind = cls === 'stars' ? 'light' : cls === 'uniform' ? 'flat' : exposure !== undefined && exposure <= 0.01 ? 'bias' : 'dark';
    return { kind, note: `no IMAGETYP${nameKind ? ` (name says ${nameKind})` : ''}: ${describe(cls, ev!)}, classified as ${kind}` };
  }
  if (nameKind) return { kind: nameKind, note: `no IMAGETYP: ${nameKind} from the file/folder name` };
  return {};
}
