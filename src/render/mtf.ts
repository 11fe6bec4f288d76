/**
 * The midtones transfer function of a screen stretch, shared by the server-side previews
 * (render/stretch.ts) and the browser viewer (web/src/stf.ts). No imports: the web bundle uses it.
 */

/** Midtones transfer function: MTF(m, x) = (m - 1) x / ((2m - 1) x - m), MTF(m, m) = 0.5. */
export function mtf(m: number, x: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  if (m === 0.5) return x;
  return ((m - 1) * x) / ((2 * m - 1) * x - m);
}

/** The midtones balance m for which mtf(m, x) = y. */
export function midtonesFor(x: number, y: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  return (x * (y - 1)) / (2 * x * y - y - x);
}
