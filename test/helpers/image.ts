/** Image comparisons used by end-to-end tests. */

/** Pearson correlation of two planes over the pixels at least `margin` from the edges. */
export function correlation(a: Float32Array, b: Float32Array, w: number, h: number, margin: number): number {
  let sa = 0, sb = 0, n = 0;
  for (let y = margin; y < h - margin; y++) for (let x = margin; x < w - margin; x++) { sa += a[y * w + x]!; sb += b[y * w + x]!; n++; }
  const ma = sa / n, mb = sb / n;
  let cab = 0, caa = 0, cbb = 0;
  for (let y = margin; y < h - margin; y++) for (let x = margin; x < w - margin; x++) {
    const da = a[y * w + x]! - ma, db = b[y * w + x]! - mb;
    cab += da * db; caa += da * da; cbb += db * db;
  }
  return cab / Math.sqrt(caa * cbb);
}
