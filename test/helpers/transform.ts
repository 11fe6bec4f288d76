/** Helpers of the registration tests: sky -> frame maps and how far a found transform is from the truth. */
import { apply, type Mat3 } from '../../src/register/transform.js';

/** A map sky -> frame. */
export type Tf = (x: number, y: number) => [number, number];

/**
 * RMS over a 40 px grid of a W x H frame of the difference between the found frame -> reference map
 * `h` and the truth (tf^-1).
 */
export function truthRmsOf(h: Mat3, tf: Tf, W: number, H: number): number {
  let e = 0, n = 0;
  for (let x = 20; x < W; x += 40) for (let y = 20; y < H; y += 40) {
    const [fx, fy] = tf(x, y);
    if (fx < 0 || fy < 0 || fx >= W || fy >= H) continue;
    const [u, v] = apply(h, fx, fy);
    e += (u - x) ** 2 + (v - y) ** 2;
    n++;
  }
  return Math.sqrt(e / n);
}
