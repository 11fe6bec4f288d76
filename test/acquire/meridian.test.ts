// Meridian flip on the simulator: a night crossing the meridian completes with every planned frame, none
// exposed during the flip or past the mount's hour-angle limit; the target is re-centred after the flip
// (catalogue sky, real solve-field) and the guider calibration flipped. Safety: park, or wait until safe.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VirtualClock } from '../../src/acquire/clock.js';
import { flipCalibration, flipDecision } from '../../src/acquire/meridian.js';
import { parsePlan } from '../../src/acquire/plan.js';
import { Sequencer, type SequenceEvent } from '../../src/acquire/sequencer.js';
import { SimCamera, SimMount, sensorModel, skyStars } from '../../src/devices/sim/index.js';
import { SimSafetyMonitor } from '../../src/devices/sim/safety.js';
import { readFitsHeader } from '../../src/fits/index.js';
import { localSiderealDeg } from '../../src/session/sidereal.js';
import { separationDeg } from '../../src/session/coords.js';
import { fileRunDirs } from '../helpers/env.js';

const outDir = fileRunDirs();
const dateObs = (path: string) => Date.parse(`${readFitsHeader(path).header.getString('DATE-OBS')}Z`);
const M31 = { ra: 10.6847, dec: 41.269 };

/** A site whose longitude puts M31 `haStart` hours from the meridian when the clock starts. */
function rig(haStart: number) {
  const clock = new VirtualClock();
  const siteLong = ((M31.ra + haStart * 15 - localSiderealDeg(clock.now(), 0) + 540) % 360) - 180;
  const mount = new SimMount({ clock, pointingError: 3, pointingSeed: 2, siteLat: 50, siteLong, haLimitMinutes: 10 });
  const sensor = sensorModel('kaf8300', { width: 512, height: 384 });
  // the camera turns with the telescope: after the flip the sky is rotated by 180 degrees on the sensor
  const camera = new SimCamera({
    sensor, clock, readoutMs: 1000, seed: 4,
    skyStars: () => skyStars({ ...mount.truePointing(), rotation: 12 + (mount.side === 'east' ? 180 : 0), focalLength: 111, pixelSize: sensor.pixelSize, width: sensor.width, height: sensor.height }),
  });
  return { clock, mount, camera, siteLong };
}

test('flip decisions: expose while the frame ends by the limit, wait for the meridian, flip past it', () => {
  const c = { limitMinutes: 10, afterMinutes: 0, marginS: 10 };
  assert.deepEqual(flipDecision(c, 'west', -1, 300), { action: 'expose' });
  assert.deepEqual(flipDecision(c, 'west', 4 / 60, 300), { action: 'expose' }, '4 + 5.2 min <= 10');
  assert.deepEqual(flipDecision(c, 'west', 5 / 60, 300), { action: 'flip' });
  const w = flipDecision({ ...c, limitMinutes: 2 }, 'west', -3 / 60, 300);
  assert.ok(w.action === 'wait' && Math.abs(w.seconds - 180 / 1.002737909) < 1e-6);
  assert.deepEqual(flipDecision(c, 'east', 2, 300), { action: 'expose' });
  const cal = { ra: { x: 3, y: 1 }, dec: { x: -1, y: 3 }, raRate: Math.hypot(3, 1), decRate: Math.hypot(1, 3), cameraAngle: 18.43, orthogonalityError: 0, steps: { west: 5, north: 5 } };
  const f = flipCalibration(cal);
  assert.deepEqual([f.ra, f.dec, Number(f.cameraAngle.toFixed(2))], [{ x: -3, y: -1 }, { x: -1, y: 3 }, -161.57]);
});

test('a night across the meridian: every frame, none during the flip or past the limit, re-centred after the flip', async () => {
  const { clock, mount, camera, siteLong } = rig(-0.4);
  await camera.connect();
  const events: SequenceEvent[] = [];
  let guiderFlips = 0;
  const plan = parsePlan({
    base: 'M', object: 'M31', target: M31, profile: { focalLength: 111, siteLat: 50, siteLong },
    center: { tolerance: 30 }, meridian: { limitMinutes: 10, afterMinutes: 2 },
    groups: [{ filter: 'Luminance', exposure: 300, count: 16 }],
  });
  const r = await new Sequencer(plan, { camera, wheel: camera.wheel, clock, outDir: outDir(), onEvent: (e) => events.push(e), automation: { mount, afterFlip: async () => { guiderFlips++; } } }).run();
  assert.equal(r.aborted, false);
  assert.equal(r.saved.length, 16, 'every planned frame');
  assert.equal(mount.flips, 1);
  assert.equal(guiderFlips, 1);
  const flip = events.find((e) => e.kind === 'meridian-flip');
  assert.ok(flip && flip.kind === 'meridian-flip' && flip.pierSide === 'east');
  const centred = events.filter((e) => e.kind === 'centered');
  assert.equal(centred.length, 2, 'before the first light and after the flip');
  for (const c of centred) assert.ok(c.kind === 'centered' && c.centered && c.error <= 30 && c.iterations <= 3, JSON.stringify(c));
  // no exposure overlaps the flip, none runs past the limit on the west side
  const flipIdx = events.indexOf(flip);
  const savedBefore = events.slice(0, flipIdx).filter((e) => e.kind === 'saved').length;
  assert.ok(savedBefore > 0 && savedBefore < 16);
  for (const [i, s] of r.saved.entries()) {
    const t0 = dateObs(s.path);
    const t1 = t0 + 300_000;
    if (i < savedBefore) assert.ok(mount.hourAngle(t1) * 60 <= 10, `frame ${i + 1} ends at HA ${(mount.hourAngle(t1) * 60).toFixed(2)} min on the west side`);
    else assert.ok(mount.hourAngle(t0) * 60 >= 2, `frame ${i + 1} starts after the flip`);
  }
  // after the flip the mount points at the target again
  const t = mount.truePointing();
  assert.ok(separationDeg(t.ra, t.dec, M31.ra, M31.dec) * 3600 <= 30);
});

test('safety: unsafe weather parks the mount and ends the night; with action wait it goes on when safe', async () => {
  const { clock, mount, camera, siteLong } = rig(-3);
  await camera.connect();
  const t0 = clock.now();
  const groups = [{ filter: 'Luminance', exposure: 300, count: 8 }];
  const monitor = new SimSafetyMonitor(clock, [{ from: t0 + 20 * 60_000, to: t0 + 50 * 60_000 }]);
  const ev: SequenceEvent[] = [];
  const r = await new Sequencer(parsePlan({ base: 'S', groups, safety: { action: 'park' }, profile: { siteLong } }), { camera, wheel: camera.wheel, clock, outDir: outDir(), onEvent: (e) => ev.push(e), automation: { mount, safety: monitor } }).run();
  assert.equal(mount.parked, true);
  assert.ok(r.saved.length === 4, `${r.saved.length} frames before the clouds (20 min of 301 s frames)`);
  assert.deepEqual(ev.filter((e) => ['unsafe', 'parked'].includes(e.kind)).map((e) => e.kind), ['unsafe', 'parked']);
  const clock2 = new VirtualClock();
  const cam2 = new SimCamera({ clock: clock2, sensor: sensorModel('kaf8300', { width: 64, height: 48 }) });
  await cam2.connect();
  const mon2 = new SimSafetyMonitor(clock2, [{ from: clock2.now() + 20 * 60_000, to: clock2.now() + 50 * 60_000 }]);
  const ev2: SequenceEvent[] = [];
  const r2 = await new Sequencer(parsePlan({ base: 'W', groups, safety: { action: 'wait', pollS: 60 } }), { camera: cam2, wheel: cam2.wheel, clock: clock2, outDir: outDir(), onEvent: (e) => ev2.push(e), automation: { safety: mon2 } }).run();
  assert.equal(r2.saved.length, 8);
  for (const s of r2.saved) {
    const a = dateObs(s.path);
    // checked before each frame: none starts in the unsafe window (one started before it is not interrupted)
    assert.ok(a < mon2.unsafe[0]!.from || a >= mon2.unsafe[0]!.to, `frame at ${new Date(a).toISOString()} in the unsafe window`);
  }
  const safe = ev2.find((e) => e.kind === 'safe');
  assert.ok(safe && safe.kind === 'safe' && safe.waitedS >= 50 * 60 - 20 * 60 - 301 && safe.waitedS <= 31 * 60);
  await assert.rejects(new Sequencer(parsePlan({ base: 'X', groups, safety: {} }), { camera: cam2, clock: clock2, outDir: outDir() }).run(), /the plan has safety but no safety monitor is connected/);
});
