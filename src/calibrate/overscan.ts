/**
 * Overscan correction (docs/algorithms.md#overscan): the median of each source region (a non-light-sensitive strip) is subtracted
 * from its target region, all medians taken from the uncorrected frame; then the frame is cropped to
 * the image region.
 *
 * SPEC: `image=X:Y:W:H,src=X:Y:W:H>X:Y:W:H[,src=...]` (up to 4 source>target pairs; x:y:w:h in
 * pixels, x = column, y = row, 0-based from the first stored pixel).
 * Example: `image=0:0:2048:2048,src=2050:0:32:2048>0:0:2048:2048`.
 */
import { DarkroomError } from '../util/errors.js';
import { createImage, type Image } from '../image/image.js';
import { median } from '../image/stats.js';

export interface Rect {
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface OverscanSpec {
  image: Rect;
  pairs: { source: Rect; target: Rect }[];
}

export const OVERSCAN_HELP =
  'overscan SPEC: image=X:Y:W:H,src=X:Y:W:H>X:Y:W:H (up to 4 src>target pairs; x:y:w:h in pixels from the first stored pixel), ' +
  'e.g. image=0:0:2048:2048,src=2050:0:32:2048>0:0:2048:2048: the median of each source region is subtracted from its target region, then the frame is cropped to the image region';

function parseRect(s: string, spec: string): Rect {
  const m = /^(\d+):(\d+):(\d+):(\d+)$/.exec(s.trim());
  if (!m) throw new DarkroomError('BAD_ARGUMENT', `bad overscan region '${s}' in '${spec}' (expected X:Y:W:H)`);
  const r = { x: Number(m[1]), y: Number(m[2]), w: Number(m[3]), h: Number(m[4]) };
  if (r.w < 1 || r.h < 1) throw new DarkroomError('BAD_ARGUMENT', `empty overscan region '${s}' in '${spec}'`);
  return r;
}

export function parseOverscanSpec(spec: string): OverscanSpec {
  let image: Rect | undefined;
  const pairs: OverscanSpec['pairs'] = [];
  for (const part of spec.split(',').map((p) => p.trim()).filter(Boolean)) {
    const eq = part.indexOf('=');
    const key = eq > 0 ? part.slice(0, eq).trim().toLowerCase() : '';
    const val = eq > 0 ? part.slice(eq + 1) : '';
    if (key === 'image') {
      image = parseRect(val, spec);
    } else if (key === 'src' || key === 'source') {
      const [a, b, ...rest] = val.split('>');
      if (a === undefined || b === undefined || rest.length) throw new DarkroomError('BAD_ARGUMENT', `bad overscan pair '${part}' in '${spec}' (expected src=X:Y:W:H>X:Y:W:H)`);
      pairs.push({ source: parseRect(a, spec), target: parseRect(b, spec) });
    } else {
      throw new DarkroomError('BAD_ARGUMENT', `bad overscan item '${part}' in '${spec}' (expected image=... or src=...>...)`);
    }
  }
  if (!image) throw new DarkroomError('BAD_ARGUMENT', `overscan spec '${spec}' has no image=X:Y:W:H region`);
  if (pairs.length < 1 || pairs.length > 4) throw new DarkroomError('BAD_ARGUMENT', `overscan spec '${spec}' needs 1 to 4 src=...>... pairs, got ${pairs.length}`);
  return { image, pairs };
}

function checkRect(r: Rect, img: Image, what: string, file?: string): void {
  if (r.x + r.w > img.width || r.y + r.h > img.height) {
    throw new DarkroomError('BAD_ARGUMENT', `overscan ${what} region ${r.x}:${r.y}:${r.w}:${r.h} lies outside the ${img.width}x${img.height} frame`, file);
  }
}

/** Apply overscan correction and crop; returns a new image (the input is not modified) and the medians. */
export function applyOverscan(img: Image, spec: OverscanSpec, file?: string): { image: Image; levels: number[] } {
  checkRect(spec.image, img, 'image', file);
  for (const p of spec.pairs) {
    checkRect(p.source, img, 'source', file);
    checkRect(p.target, img, 'target', file);
  }
  const W = img.width;
  const levels: number[] = [];
  const work = img.data.map((d) => d.slice());
  for (let c = 0; c < img.channels; c++) {
    const src = img.data[c]!;
    const meds = spec.pairs.map((p) => {
      const buf = new Float32Array(p.source.w * p.source.h);
      let k = 0;
      for (let y = p.source.y; y < p.source.y + p.source.h; y++) for (let x = p.source.x; x < p.source.x + p.source.w; x++) buf[k++] = src[y * W + x]!;
      return median(buf);
    });
    spec.pairs.forEach((p, i) => {
      const m = meds[i]!;
      const dst = work[c]!;
      for (let y = p.target.y; y < p.target.y + p.target.h; y++) for (let x = p.target.x; x < p.target.x + p.target.w; x++) dst[y * W + x] = dst[y * W + x]! - m;
    });
    levels.push(...meds);
  }
  const r = spec.image;
  const out = createImage(r.w, r.h, img.channels, img.header.clone());
  for (let c = 0; c < img.channels; c++) {
    for (let y = 0; y < r.h; y++) out.data[c]!.set(work[c]!.subarray((r.y + y) * W + r.x, (r.y + y) * W + r.x + r.w), y * r.w);
  }
  // Keep the CFA phase: cropping by an odd offset shifts the pattern.
  if (img.cfa) out.cfa = shiftPattern(img.cfa, r.x, r.y);
  if (out.cfa && out.cfa !== img.cfa) out.header.set('BAYERPAT', out.cfa);
  return { image: out, levels };
}

/** The Bayer pattern seen from (dx, dy). */
export function shiftPattern(p: string, dx: number, dy: number): string {
  if (p.length !== 4) return p;
  let out = '';
  for (let y = 0; y < 2; y++) for (let x = 0; x < 2; x++) out += p[((y + dy) & 1) * 2 + ((x + dx) & 1)]!;
  return out;
}
