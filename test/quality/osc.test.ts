// Picture quality of `darkroom run` on a small one-shot-colour (RGGB) CMOS night against the truth
// (issue 15): metrics are the mean over R, G, B; bounds are the measured values plus a margin.
import { test } from 'node:test';
import { useTempDir } from '../helpers/env.js';
import { assertWithin, runNight } from './night.js';

test('OSC RGGB night: the glowing darks stay darks, RCD debayering keeps the stars sharp', { timeout: 600_000 }, (t) => {
  const { metrics: m } = runNight(useTempDir(t), 'osc');
  // measured: nb4 0.835, large 0.409, blk 0.400, outliers 0, hfd 4.73 (bilinear debayering: 5.11), phot 0.215 (2-3 stars a channel); nlf 1.053
  assertWithin(m, { nlf: 1.105, nb4: 0.877, large: 0.51, blk: 0.46, outliers: 15, hfd: 4.88, phot: 0.5 }, 'osc');
});
