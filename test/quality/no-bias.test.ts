// Issue 15's real-night shape: no bias frames, 1 s darks only, 60 s lights, a 1000 ADU pedestal and
// 15 % vignetting. The 1 s darks stand in for the bias, so the pedestal is never divided by the flat:
// the stack's large-scale residual stays within the range of the other quality nights (<= 0.53 %, the
// CMOS night's bound; dividing the pedestal by the flat would print ~60 % of vignetting x pedestal / sky).
import { test } from 'node:test';
import { useTempDir } from '../helpers/env.js';
import { assertWithin, runNight } from './night.js';

test('no bias, short darks: no vignetting imprint, noise and sharpness as on the other nights', { timeout: 600_000 }, (t) => {
  const { metrics: m } = runNight(useTempDir(t), 'no-bias');
  // measured: nb4 1.061, large 0.199, blk 0.239, outliers 0, hfd 4.73, phot 0.117 (4 stars); nlf 1.106
  assertWithin(m, { nlf: 1.161, nb4: 1.114, large: 0.3, blk: 0.275, outliers: 15, hfd: 4.87, phot: 0.4 }, 'no-bias');
});
