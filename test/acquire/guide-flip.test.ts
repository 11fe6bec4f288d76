// The guider across a meridian flip, on the virtual clock: the simulated mount's camera turns half a
// turn with the telescope (the RA direction on the guide sensor reverses) and, unless the mount reverses
// its Dec output on the other side of the pier, the Dec motor moves the sky the other way. After the
// flip, guiding with the flipped calibration (Guider.afterMeridianFlip) still cuts the drift RMS; with the
// calibration left as it was, the corrections push the wrong way and the star runs away.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VirtualClock } from '../../src/acquire/clock.js';
import { Guider, guiderAfterFlip } from '../../src/acquire/guide.js';
import { parsePlan } from '../../src/acquire/plan.js';
import { Sequencer, type SequenceEvent } from '../../src/acquire/sequencer.js';
import { SimCamera } from '../../src/devices/sim/simcamera.js';
import { fileRunDirs } from '../helpers/env.js';
import { flipCalibration } from '../../src/acquire/meridian.js';
import { SimGuideCamera, SimMount } from '../../src/devices/sim/simmount.js';
import { localSiderealDeg } from '../../src/session/sidereal.js';

const outDir = fileRunDirs();
const M31 = { ra: 10.6847, dec: 41.269 };
const MOUNT = { pixelScale: 1.5, cameraAngle: 33, guideRate: 7.52, driftRa: 0.02, driftDec: 0.012, pe: 8, pePeriod: 480 };

/** A mount pointing at M31 5 minutes before the meridian, a guider calibrated there and guiding until past it, then the flip. */
async function flipped(reverseDecOnFlip: boolean, seed = 3) {
  const clock = new VirtualClock();
  const siteLong = ((M31.ra - (5 / 60) * 15 - localSiderealDeg(clock.now(), 0) + 540) % 360) - 180;
  const mount = new SimMount({ clock, ...MOUNT, siteLat: 50, siteLong, reverseDecOnFlip });
  await mount.slewTo(M31.ra, M31.dec);
  assert.equal(await mount.pierSide(), 'west');
  const guider = new Guider(new SimGuideCamera(mount, { seed }), mount, clock, { exposure: 2, pixelScale: MOUNT.pixelScale, seed });
  const before = await guider.calibrate();
  await guider.run(420);
  await mount.flip();
  assert.equal(await mount.pierSide(), 'east');
  return { clock, mount, guider, before };
}

const angleDiff = (a: number, b: number): number => {
  const d = Math.abs(a - b) % 360;
  return d > 180 ? 360 - d : d;
};

test('flipped calibration: RA reversed; Dec reversed too with reverseDec', () => {
  const cal = { ra: { x: 3, y: 1 }, dec: { x: -1, y: 3 }, raRate: Math.hypot(3, 1), decRate: Math.hypot(1, 3), cameraAngle: 18.43, orthogonalityError: 0, steps: { west: 5, north: 5 } };
  const f = flipCalibration(cal, true);
  assert.deepEqual([f.ra, f.dec, Number(f.cameraAngle.toFixed(2)), Math.abs(Number(f.orthogonalityError.toFixed(6)))], [{ x: -3, y: -1 }, { x: 1, y: -3 }, -161.57, 0]);
});

test('after a meridian flip (a mount that keeps its Dec sense): the flipped calibration guides, the old one runs away', async () => {
  // no guiding after the flip: how far drift and periodic error carry the star
  const free = await flipped(false);
  await free.guider.afterMeridianFlip();
  const unguided = await free.guider.run(900, false);
  // the flipped calibration
  const ok = await flipped(false);
  const cal = await ok.guider.afterMeridianFlip();
  assert.ok(angleDiff(cal.cameraAngle, ok.before.cameraAngle + 180) < 1e-9);
  const guided = await ok.guider.run(900);
  assert.equal(guided.lost, 0);
  assert.ok(guided.rmsTotal * 3 < unguided.rmsTotal, `guided RMS ${guided.rmsTotal.toFixed(2)} px vs unguided ${unguided.rmsTotal.toFixed(2)} px`);
  assert.ok(guided.rmsTotalArcsec < 1.5, `guided RMS ${guided.rmsTotalArcsec.toFixed(2)}"`);
  // the calibration of the west side, kept: every RA correction pushes the star further away
  const stale = await flipped(false);
  stale.guider.lock = null;
  await stale.guider.acquire();
  const away = await stale.guider.run(120);
  assert.ok(away.lost > 0 || away.peakRa > 10 * guided.peakRa, `stale calibration: peak RA ${away.peakRa.toFixed(1)} px, lost ${away.lost}`);
  assert.ok(away.lost > 0 || away.rmsTotal > unguided.rmsTotal, `stale RMS ${away.rmsTotal.toFixed(1)} px, lost ${away.lost}`);
});

test('a mount that reverses its Dec output after the flip: the calibration flipped with reverseDec guides, without it Dec runs away; recalibrating finds the turned camera', async () => {
  const ok = await flipped(true, 5);
  await ok.guider.afterMeridianFlip({ reverseDec: true });
  const guided = await ok.guider.run(900);
  assert.equal(guided.lost, 0);
  assert.ok(guided.rmsTotalArcsec < 1.5, `guided RMS ${guided.rmsTotalArcsec.toFixed(2)}"`);
  const wrong = await flipped(true, 5);
  await wrong.guider.afterMeridianFlip({ reverseDec: false });
  const away = await wrong.guider.run(300);
  assert.ok(away.lost > 0 || away.peakDec > 10 * guided.peakDec, `Dec not reversed: peak Dec ${away.peakDec.toFixed(1)} px, lost ${away.lost}`);
  const re = await flipped(true, 5);
  const cal = await re.guider.afterMeridianFlip({ recalibrate: true });
  assert.ok(angleDiff(cal.cameraAngle, MOUNT.cameraAngle + 180) < 2, `recalibrated camera angle ${cal.cameraAngle.toFixed(2)}`);
  // a mount that reverses its Dec output: on the turned sensor north pulses move the star the other way
  const dot = cal.dec.x * re.before.dec.x + cal.dec.y * re.before.dec.y;
  assert.ok(dot < 0, 'the reversed Dec output moves the star the other way on the turned sensor');
  assert.ok((await re.guider.run(600)).rmsTotalArcsec < 1.5);
});

test('the sequencer\'s meridian flip calls the guider as the plan says (meridian.guider recalibrate): it guides on the east side', async () => {
  const clock = new VirtualClock();
  const siteLong = ((M31.ra - 0.2 * 15 - localSiderealDeg(clock.now(), 0) + 540) % 360) - 180;
  const mount = new SimMount({ clock, ...MOUNT, siteLat: 50, siteLong, haLimitMinutes: 10, reverseDecOnFlip: true });
  await mount.slewTo(M31.ra, M31.dec);
  const guider = new Guider(new SimGuideCamera(mount, { seed: 7 }), mount, clock, { exposure: 2, pixelScale: MOUNT.pixelScale, seed: 7 });
  const before = await guider.calibrate();
  const camera = new SimCamera({ clock, readoutMs: 1000 });
  await camera.connect();
  const plan = parsePlan({ base: 'F', target: M31, profile: { siteLat: 50, siteLong }, meridian: { limitMinutes: 10, afterMinutes: 2, guider: 'recalibrate' }, groups: [{ filter: 'Luminance', exposure: 300, count: 6 }] });
  const events: SequenceEvent[] = [];
  const r = await new Sequencer(plan, { camera, wheel: camera.wheel, clock, outDir: outDir(), automation: { mount, afterFlip: guiderAfterFlip(guider) }, onEvent: (e) => events.push(e) }).run();
  assert.equal(r.saved.length, 6);
  assert.equal(mount.flips, 1);
  assert.ok(guider.cal && angleDiff(guider.cal.cameraAngle, before.cameraAngle + 180) < 2, `recalibrated on the east side: ${guider.cal?.cameraAngle.toFixed(2)} (west ${before.cameraAngle.toFixed(2)})`);
  // the sequence took its frames unguided: lock on the star where it is now, and guide
  await guider.acquire();
  const st = await guider.run(600);
  assert.ok(st.lost === 0 && st.rmsTotalArcsec < 1.5, `east side RMS ${st.rmsTotalArcsec.toFixed(2)}"`);
});
