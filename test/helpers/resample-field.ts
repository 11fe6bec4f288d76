/** A frame for the resampling tests (register/resample-fast, kernels/resample). */
import { renderStars, randomStarField } from '../../src/devices/sim/stars.js';
import { Rng } from '../../src/util/random.js';

/**
 * Sky + noise + stars, hot pixels and a negative patch (they trigger the clamping and the negative-data branch);
 * with `bad`, a few NaN and Inf pixels too.
 */
export function resampleField(w: number, h: number, seed: number, bad = false): Float32Array {
  const rng = new Rng(seed);
  const p = new Float32Array(w * h);
  for (let i = 0; i < p.length; i++) p[i] = 500 + 20 * rng.gauss();
  renderStars(p, w, h, randomStarField(seed + 1, w, h, Math.round((w * h) / 300), { fluxMin: 2000, fluxMax: 200000 }), { kind: 'gaussian', fwhm: 2.2 });
  for (let k = 0; k < 40; k++) p[rng.int(p.length)] = 65000;
  for (let y = 10; y < 16; y++) for (let x = 20; x < 30; x++) p[y * w + x] = -50 - 10 * rng.uniform();
  if (bad) for (let k = 0; k < 6; k++) p[rng.int(p.length)] = k % 3 === 0 ? Infinity : NaN;
  return p;
}
