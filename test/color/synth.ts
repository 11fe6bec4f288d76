/** Test helpers: synthetic RGB scenes and their CFA mosaics. */
import { type Cfa, cfaColor } from '../../src/color/cfa.js';

export type Planes = [Float32Array, Float32Array, Float32Array];

export function scene(width: number, height: number, f: (x: number, y: number, c: number) => number): Planes {
  const out = [0, 1, 2].map((c) => {
    const a = new Float32Array(width * height);
    for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) a[y * width + x] = f(x, y, c);
    return a;
  });
  return out as Planes;
}

/** Sample an RGB scene through a CFA (pixel (x, y) keeps the colour the pattern puts there). */
export function mosaic(rgb: Planes, width: number, height: number, cfa: Cfa): Float32Array {
  const m = new Float32Array(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) m[y * width + x] = rgb[cfaColor(cfa, x, y)]![y * width + x]!;
  return m;
}

/** RMS and max relative error of planes against truth on the interior (border b pixels skipped). */
export function errors(out: Float32Array[], truth: Planes, width: number, height: number, b: number): { rms: number; maxRel: number } {
  let se = 0;
  let n = 0;
  let maxRel = 0;
  for (let c = 0; c < 3; c++) {
    for (let y = b; y < height - b; y++) {
      for (let x = b; x < width - b; x++) {
        const i = y * width + x;
        const d = out[c]![i]! - truth[c][i]!;
        se += d * d;
        n++;
        maxRel = Math.max(maxRel, Math.abs(d) / Math.abs(truth[c][i]!));
      }
    }
  }
  return { rms: Math.sqrt(se / n), maxRel };
}
