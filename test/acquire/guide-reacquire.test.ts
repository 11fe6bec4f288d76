/**
 * Guider.reacquire against the simulator's ground truth: after the simulated mount sat idle two hours the
 * locked star is gone; the whole-frame search finds a star, the calibrated mount re-centres it, and the
 * new lock is where the simulator put that star (sky position + the mount's pointing offset). A wrong
 * calibration is caught by the re-centring move and discarded.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Guider } from '../../src/acquire/guide.js';
import { SimGuideCamera, SimMount } from '../../src/devices/sim/simmount.js';
import { VirtualClock } from '../../src/acquire/clock.js';
import { simSky } from '../../src/server/runners/guide.js';

async function rig() {
  const clock = new VirtualClock();
  const mount = new SimMount({ clock });
  const cam = new SimGuideCamera(mount, { stars: simSky() });
  const g = new Guider(cam, mount, clock, { exposure: 2, pixelScale: mount.pixelScale });
  await g.acquire();
  await g.calibrate();
  return { clock, mount, cam, g };
}

/** Distance from (x, y) to the nearest star of the simulated sky as the mount now shows it. */
function nearestTruth(cam: SimGuideCamera, mount: SimMount, x: number, y: number): number {
  const p = mount.pointing();
  return Math.min(...cam.stars.map((s) => Math.hypot(s.x + p.dx - x, s.y + p.dy - y)));
}

test('after two idle hours the star is lost; reacquire finds one, re-centres it with the mount, keeps the calibration; guiding holds it', async () => {
  const { clock, mount, cam, g } = await rig();
  const lock0 = { ...g.lock! };
  await clock.sleep(7_200_000);
  const p = mount.pointing();
  assert.ok(Math.hypot(p.dx, p.dy) > 20, `the mount drifted ${Math.hypot(p.dx, p.dy).toFixed(1)} px`);
  const lost = await g.step(true);
  assert.equal(lost.lost, true, 'the old lock position holds no star (or another one)');
  // the sample says why, as PHD2's log does: no star in the box, a jump, or another source's flux
  assert.match(lost.lostReason ?? '', /^(no star within 10 px of|the star jumped [\d.]+ px|a source [\d.]+ px away with)/, lost.lostReason);
  const r = await g.reacquire();
  assert.ok(r.recentred, r.message);
  assert.equal(r.calibrationKept, true);
  assert.ok(Math.hypot(r.x - 47.5, r.y - 47.5) < 4, `re-centred at ${r.x.toFixed(1)}, ${r.y.toFixed(1)}`);
  assert.ok(nearestTruth(cam, mount, r.x, r.y) < 0.6, `lock ${r.x.toFixed(2)}, ${r.y.toFixed(2)} is ${nearestTruth(cam, mount, r.x, r.y).toFixed(2)} px from a true star`);
  assert.notDeepEqual(g.lock, lock0);
  // guiding on it: 30 steps, none lost, within 1 px of the lock (the star truly stays: ground truth)
  const st = await g.run(60);
  assert.equal(st.lost, 0);
  assert.ok(st.rmsTotal < 1, `RMS ${st.rmsTotal.toFixed(2)} px`);
  assert.ok(nearestTruth(cam, mount, g.lock!.x, g.lock!.y) < 1.5);
});

test('a calibration that no longer matches the mount (both rates 3x off: the move falls 2/3 short) is discarded by the re-centring move', async () => {
  const { clock, g } = await rig();
  await clock.sleep(7_200_000);
  await g.step(false);
  const c = g.cal!;
  g.cal = { ...c, ra: { x: 3 * c.ra.x, y: 3 * c.ra.y }, raRate: 3 * c.raRate, dec: { x: 3 * c.dec.x, y: 3 * c.dec.y }, decRate: 3 * c.decRate };
  const r = await g.reacquire();
  assert.equal(r.calibrationKept, false, r.message);
  assert.equal(g.cal, null);
  assert.match(r.message, /calibration discarded/);
});
