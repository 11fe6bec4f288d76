// Picture quality of `darkroom run` on small mono nights against the simulator's truth (issue 15):
// bounds are the measured values plus a margin that catches a regression (nb4 +5 %, blk +15 %, HFD +3 %).
import { test } from 'node:test';
import { useTempDir } from '../helpers/env.js';
import { assertWithin, runNight } from './night.js';

test('CCD mono night (bias, darks of the lights\' exposure, flats): noise, flatness, outliers, HFD, photometry', { timeout: 600_000 }, (t) => {
  const { metrics: m } = runNight(useTempDir(t), 'ccd');
  // measured: nb4 1.046, large 0.314, blk 0.234, outliers 0, hfd 4.76, phot 0.43 (6 stars); nlf 1.117 (the kernel-free noise, +5 %)
  assertWithin(m, { nlf: 1.17, nb4: 1.1, large: 0.42, blk: 0.27, outliers: 15, hfd: 4.9, phot: 0.7 }, 'ccd');
});

test('CMOS night with a clamped black level, amp glow and a meridian flip: the flipped half registers and the glow is calibrated out', { timeout: 600_000 }, (t) => {
  const { metrics: m } = runNight(useTempDir(t), 'cmos-flip');
  // measured: nb4 1.013, large 0.426, blk 0.234, outliers 0, hfd 4.76, phot 0.155 (3 stars); nlf 1.044
  assertWithin(m, { nlf: 1.096, nb4: 1.064, large: 0.53, blk: 0.27, outliers: 15, hfd: 4.9, phot: 0.45 }, 'cmos-flip');
});
