// Guiding over ASCOM Alpaca: `darkroom alpaca-sim --drift RA,DEC` serves the simulated camera and a
// telescope whose guide port drives a simulated mount; where the mount points moves the camera's stars,
// its drift carries them away. `darkroom guide --device alpaca://... --mount alpaca://...` calibrates
// on the camera's frames with the telescope's PulseGuide and holds the star that drifts away unguided.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCli } from '../helpers/env.js';
import { startAlpacaSim } from '../helpers/alpaca-sim.js';
import { SIM_RIG_PIXEL_SCALE } from '../../src/devices/sim/rig.js';

const SPEED = 10; // simulated seconds per real second (the camera's readout, the drift)
const DRIFT = { ra: 0.2, dec: 0.1 }; // arcsec per simulated second
const GUIDE_RATE = 7.52; // the simulated mount's guide rate, arcsec/s (0.5x sidereal)

interface Run {
  calibration: { raRate: number; decRate: number; cameraAngle: number; orthogonalityError: number } | null;
  stats: { rmsTotal: number; samples: number; lost: number };
  samples: { t: number; dx: number; dy: number; lost: boolean; lostReason?: string }[];
}

/** One `darkroom guide` run against a fresh `darkroom alpaca-sim` (its mount starts where it should point). */
async function guide(args: string[], viaMount: boolean): Promise<Run> {
  const { proc, port } = await startAlpacaSim(SPEED, ['--drift', `${DRIFT.ra},${DRIFT.dec}`]);
  try {
    // the mount named on its own (another spelling of the server, so it is opened as a part of its own)
    const mount = viaMount ? ['--mount', `alpaca://localhost:${port}/0`] : [];
    const r = runCli(['guide', '--device', `alpaca://127.0.0.1:${port}/0`, ...mount, '--exposure', '0.2', '--json', ...args]);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as Run;
  } finally {
    proc.kill();
  }
}

const offset = (s: { dx: number; dy: number }): number => Math.hypot(s.dx, s.dy);
const median = (v: number[]): number => {
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/**
 * Lost frames (the guider skips them, as PHD2 does) at most 5% of the samples, two at least: these runs are
 * real time against an accelerated simulator, and a client starved for seconds on a loaded machine sees
 * the star jump beyond its search box (seen in CI: 2 of 24 under the full suite); the guider's own rules
 * are tested on the virtual clock (guide.test.ts).
 */
const few = (r: { stats: { lost: number; samples: number } }): boolean => r.stats.lost <= Math.max(2, Math.floor(0.05 * (r.stats.samples + r.stats.lost)));
/** The lost samples' times and reasons, for a failure's message. */
const why = (r: Run): string => r.samples.filter((s) => s.lost).map((s) => `t=${s.t} ${s.lostReason}`).join('; ');

test('darkroom guide --device alpaca:// --mount alpaca://: the simulated mount drifts, PulseGuide moves the sky; guiding cuts the drift RMS 3x', async (t) => {
  const unguided = await guide(['--no-guide', '--duration', '12'], false);
  const u = unguided.samples.filter((s) => !s.lost);
  assert.ok(u.length >= 6 && few(unguided), `${u.length} frames, ${unguided.stats.lost} lost: ${why(unguided)}`);
  // the drift on the sensor: RA along x (camera angle 0), px per real second
  const rate = (Math.hypot(DRIFT.ra, DRIFT.dec) / SIM_RIG_PIXEL_SCALE) * SPEED;
  const last = u.at(-1)!;
  const seconds = (last.t - u[0]!.t) / 1000;
  assert.ok(Math.abs(offset(last) - rate * seconds) < 0.2 * rate * seconds + 1, `unguided: ${offset(last).toFixed(1)} px after ${seconds.toFixed(1)} s (drift ${rate.toFixed(2)} px/s)`);
  assert.ok(Math.abs(Math.atan2(last.dy, last.dx) - Math.atan2(DRIFT.dec, DRIFT.ra)) < 0.15, `drift direction (${last.dx.toFixed(1)}, ${last.dy.toFixed(1)}) px`);

  const guided = await guide(['--duration', '12', '--calibration-step', '2000', '--calibration-distance', '6'], true);
  const cal = guided.calibration!;
  const pulseRate = GUIDE_RATE / SIM_RIG_PIXEL_SCALE; // px per second of pulse
  assert.ok(Math.abs(cal.raRate - pulseRate) < 0.1 * pulseRate, `RA rate ${cal.raRate.toFixed(2)} px/s, mount ${pulseRate.toFixed(2)}`);
  assert.ok(Math.abs(cal.decRate - pulseRate) < 0.1 * pulseRate, `Dec rate ${cal.decRate.toFixed(2)} px/s, mount ${pulseRate.toFixed(2)}`);
  // within the sanity limits a guider checks a calibration against (PHD2 alerts beyond 10 degrees of
  // orthogonality error), as the INDI test: in real time a frame's client-side clock time misses its
  // exposure by the download's latency, which moves with the machine's load (0.3 s is 0.3 px of drift
  // across a 7 px leg); the algorithm's precision is asserted on the virtual clock (guide.test.ts: 1.5 degrees)
  assert.ok(Math.abs(cal.cameraAngle) < 5 && Math.abs(cal.orthogonalityError) < 10, `camera angle ${cal.cameraAngle.toFixed(1)}, orthogonality ${cal.orthogonalityError.toFixed(1)}`);
  const g = guided.samples.filter((s) => !s.lost);
  assert.ok(g.length >= 6 && few(guided), `${g.length} guided frames, ${guided.stats.lost} lost: ${why(guided)}`);
  t.diagnostic(`RMS unguided ${unguided.stats.rmsTotal.toFixed(2)} px (${u.length} frames), guided ${guided.stats.rmsTotal.toFixed(2)} px (${g.length} frames); calibration RA ${cal.raRate.toFixed(2)} Dec ${cal.decRate.toFixed(2)} px/s, camera angle ${cal.cameraAngle.toFixed(2)}, orthogonality ${cal.orthogonalityError.toFixed(2)}`);
  assert.ok(unguided.stats.rmsTotal >= 3 * guided.stats.rmsTotal, `RMS unguided ${unguided.stats.rmsTotal.toFixed(2)} px, guided ${guided.stats.rmsTotal.toFixed(2)} px`);
  // unguided, the drift alone would have carried the star this far during the guided run
  const drifted = (rate * (g.at(-1)!.t - g[0]!.t)) / 1000;
  // the median offset of the second half: a frame late by seconds on a loaded machine (the star drifted
  // while the client was starved) is one excursion, a guider that does not hold the star moves them all
  const typical = median(g.slice(Math.floor(g.length / 2)).map(offset));
  assert.ok(typical < 0.15 * drifted, `guided: ${typical.toFixed(2)} px off (median) in the second half; unguided ${drifted.toFixed(1)} px`);
});
