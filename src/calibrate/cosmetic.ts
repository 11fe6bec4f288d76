/**
 * Cosmetic correction (docs/algorithms.md#cosmetic): defect maps (hot/cold pixels from a master dark by sigma thresholds,
 * auto-detection in calibrated lights by deviation from the local median, a user list of defect
 * pixels/columns/rows) and repair by the median of the same-colour neighbours (CFA: the 8 pixels
 * 2 away, which have the same Bayer colour) or the 8 neighbours (mono). Neighbours that are
 * themselves defects are not used.
 */
import { readFileSync } from 'node:fs';
import { DarkroomError } from '../util/errors.js';
import { median, madStd } from '../image/stats.js';

export interface DefectMap {
  width: number;
  height: number;
  /** 1 where the pixel is defective. */
  mask: Uint8Array;
}

export function emptyDefectMap(width: number, height: number): DefectMap {
  return { width, height, mask: new Uint8Array(width * height) };
}

export function defectCount(m: DefectMap): number {
  let n = 0;
  for (let i = 0; i < m.mask.length; i++) n += m.mask[i]!;
  return n;
}

export function mergeDefects(a: DefectMap, b: DefectMap): DefectMap {
  const out = emptyDefectMap(a.width, a.height);
  for (let i = 0; i < out.mask.length; i++) out.mask[i] = a.mask[i]! | b.mask[i]!;
  return out;
}

/** Hot pixels: D > median + hotSigma * s; cold: D < median - coldSigma * s; s = MAD-based sigma of the master dark. */
export function defectsFromDark(dark: Float32Array, width: number, height: number, opts: { hotSigma?: number; coldSigma?: number } = {}): DefectMap & { hot: number; cold: number } {
  const m = median(dark);
  const s = madStd(dark);
  const hi = m + (opts.hotSigma ?? 5) * s;
  const lo = m - (opts.coldSigma ?? 5) * s;
  const map = emptyDefectMap(width, height);
  let hot = 0;
  let cold = 0;
  for (let i = 0; i < dark.length; i++) {
    const v = dark[i]!;
    if (v > hi) {
      map.mask[i] = 1;
      hot++;
    } else if (v < lo) {
      map.mask[i] = 1;
      cold++;
    }
  }
  return { ...map, hot, cold };
}

const MONO8: [number, number][] = [[-1, -1], [0, -1], [1, -1], [-1, 0], [1, 0], [-1, 1], [0, 1], [1, 1]];
const CFA8: [number, number][] = MONO8.map(([dx, dy]) => [2 * dx, 2 * dy]);

function ringOffsets(step: number): [number, number][] {
  const out: [number, number][] = [];
  for (let dy = -2; dy <= 2; dy++) for (let dx = -2; dx <= 2; dx++) if (Math.max(Math.abs(dx), Math.abs(dy)) === 2) out.push([dx * step, dy * step]);
  return out;
}

/** The values at (x, y) + each offset that fall inside the plane, into buf; returns how many. */
function gatherAt(plane: Float32Array, width: number, height: number, x: number, y: number, offsets: [number, number][], buf: Float64Array): number {
  let n = 0;
  for (const [dx, dy] of offsets) {
    const xx = x + dx;
    const yy = y + dy;
    if (xx < 0 || yy < 0 || xx >= width || yy >= height) continue;
    buf[n++] = plane[yy * width + xx]!;
  }
  return n;
}

/**
 * Auto-detection in a calibrated light: a pixel is hot (cold) when it deviates from the median of its
 * (same-colour) neighbours by more than `sigma` times the robust noise of those deviations, while the
 * neighbours themselves are not raised above the ring around them (stars raise their neighbours,
 * isolated defects do not).
 */
export function detectDefects(plane: Float32Array, width: number, height: number, opts: { sigma?: number; cfa?: boolean } = {}): DefectMap {
  const k = opts.sigma ?? 5;
  const near = opts.cfa ? CFA8 : MONO8;
  const ring = ringOffsets(opts.cfa ? 2 : 1);
  const dev = new Float32Array(width * height).fill(NaN);
  const med8 = new Float32Array(width * height).fill(NaN);
  const buf = new Float64Array(16);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const n = gatherAt(plane, width, height, x, y, near, buf);
      if (n < 3) continue;
      const m = median(buf.subarray(0, n));
      med8[y * width + x] = m;
      dev[y * width + x] = plane[y * width + x]! - m;
    }
  }
  const s = madStd(dev);
  const map = emptyDefectMap(width, height);
  if (!(s > 0)) return map;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      const d = dev[i]!;
      if (!(Math.abs(d) > k * s)) continue;
      const n = gatherAt(plane, width, height, x, y, ring, buf);
      const r = n >= 3 ? median(buf.subarray(0, n)) : med8[i]!;
      const lift = med8[i]! - r; // how much the neighbours stand above their surroundings
      if (Math.abs(lift) < 0.2 * Math.abs(d) + 2 * s) map.mask[i] = 1;
    }
  }
  return map;
}

/** Parse a defect list: `x,y` lines, `col X`, `row Y`; `#` starts a comment. */
export function parseDefectList(text: string, width: number, height: number, file: string): DefectMap {
  const map = emptyDefectMap(width, height);
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, li) => {
    const line = raw.replace(/#.*/, '').trim();
    if (!line) return;
    const bad = (why: string): never => {
      throw new DarkroomError('BAD_ARGUMENT', `line ${li + 1}: ${why} ('${raw.trim()}'; expected 'x,y', 'col X' or 'row Y')`, file);
    };
    let m: RegExpExecArray | null;
    if ((m = /^col(?:umn)?\s+(\d+)$/i.exec(line))) {
      const x = Number(m[1]);
      if (x >= width) bad(`column ${x} outside the ${width}x${height} frame`);
      for (let y = 0; y < height; y++) map.mask[y * width + x] = 1;
    } else if ((m = /^row\s+(\d+)$/i.exec(line))) {
      const y = Number(m[1]);
      if (y >= height) bad(`row ${y} outside the ${width}x${height} frame`);
      map.mask.fill(1, y * width, (y + 1) * width);
    } else if ((m = /^(\d+)\s*[, ]\s*(\d+)$/.exec(line))) {
      const x = Number(m[1]);
      const y = Number(m[2]);
      if (x >= width || y >= height) bad(`pixel ${x},${y} outside the ${width}x${height} frame`);
      map.mask[y * width + x] = 1;
    } else bad('cannot parse');
  });
  return map;
}

export function readDefectList(path: string, width: number, height: number): DefectMap {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new DarkroomError(code === 'ENOENT' ? 'ENOENT' : 'IO', code === 'ENOENT' ? 'no such defect list' : `cannot read: ${(e as Error).message}`, path);
  }
  return parseDefectList(text, width, height, path);
}

/** Replace defective pixels in place by the median of their valid (same-colour) neighbours; returns the count repaired. */
export function repairDefects(plane: Float32Array, map: DefectMap, opts: { cfa?: boolean } = {}): number {
  const { width, height, mask } = map;
  const near = opts.cfa ? CFA8 : MONO8;
  const wide = opts.cfa ? ringOffsets(2) : ringOffsets(1);
  const buf = new Float64Array(16);
  const src = plane.slice();
  let repaired = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      if (!mask[i]) continue;
      let n = 0;
      for (const set of [near, wide]) {
        for (const [dx, dy] of set) {
          const xx = x + dx;
          const yy = y + dy;
          if (xx < 0 || yy < 0 || xx >= width || yy >= height) continue;
          const j = yy * width + xx;
          if (mask[j]) continue;
          buf[n++] = src[j]!;
        }
        if (n >= 2) break; // the wider ring only when the near neighbours are defects too (columns)
      }
      if (n > 0) {
        plane[i] = median(buf.subarray(0, n));
        repaired++;
      }
    }
  }
  return repaired;
}
