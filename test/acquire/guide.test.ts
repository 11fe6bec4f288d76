import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SimGuideCamera, SimMount } from '../../src/devices/sim/simmount.js';
import { VirtualClock } from '../../src/acquire/clock.js';
import { Guider, centroid, selectGuideStar } from '../../src/acquire/guide.js';
import { DarkroomError } from '../../src/util/errors.js';
import { createImage } from '../../src/image/image.js';
import { Rng } from '../../src/util/random.js';
import type { GuideDirection } from '../../src/devices/types.js';

const MOUNT = { pixelScale: 1.5, cameraAngle: 33, guideRate: 7.52, driftRa: 0.02, driftDec: 0.012, pe: 8, pePeriod: 480 };

function rig(seed = 3, angle = MOUNT.cameraAngle) {
  const clock = new VirtualClock();
  const mount = new SimMount({ clock, ...MOUNT, cameraAngle: angle });
  const cam = new SimGuideCamera(mount, { seed });
  const guider = new Guider(cam, mount, clock, { exposure: 2, pixelScale: MOUNT.pixelScale, seed });
  return { clock, mount, cam, guider };
}

test('guide star: bright, unsaturated, isolated, not the hot pixel; centroid ignores a hot pixel', async () => {
  const { cam, mount } = rig();
  const img = await cam.capture(2);
  const s = selectGuideStar(img);
  const p = mount.pointing();
  // the 60k star (the 400k one saturates, the 50k one beside it is not isolated, the hot pixel is no star)
  assert.ok(Math.hypot(s.x - (48 + 3.3 + p.dx), s.y - (48 - 2.6 + p.dy)) < 0.3, `selected ${s.x},${s.y}`);
  // centroid of an exact symmetric star with a hot pixel in its box
  const im = createImage(40, 40, 1);
  const rng = new Rng(4);
  const d = im.data[0]!;
  for (let y = 0; y < 40; y++) for (let x = 0; x < 40; x++) d[y * 40 + x] = 100 + 3 * rng.gauss() + 1000 * Math.exp(-((x - 20.3) ** 2 + (y - 19.6) ** 2) / (2 * 1.3 ** 2));
  d[18 * 40 + 22] = 30000; // beside the core
  const c = centroid(im, 21, 21, 8)!;
  assert.ok(Math.abs(c.x - 20.3) < 0.05 && Math.abs(c.y - 19.6) < 0.05, `centroid ${c.x},${c.y}`);
  assert.equal(centroid(createImage(40, 40, 1), 20, 20, 8), null, 'no star: null');
  assert.throws(() => selectGuideStar(createImage(40, 40, 1)), (e: unknown) => e instanceof DarkroomError && /no usable guide star/.test(e.message));
});

test('calibration recovers the camera angle within 2 degrees and the guide rate', async () => {
  for (const angle of [33, -120]) {
    const { guider, mount } = rig(5, angle);
    const cal = await guider.calibrate();
    let err = Math.abs(cal.cameraAngle - mount.cameraAngle) % 360;
    if (err > 180) err = 360 - err;
    assert.ok(err < 2, `angle ${cal.cameraAngle.toFixed(2)} vs ${angle}`);
    const rate = mount.guideRate / mount.pixelScale;
    assert.ok(Math.abs(cal.raRate - rate) / rate < 0.05, `RA rate ${cal.raRate} px/s vs ${rate}`);
    assert.ok(Math.abs(cal.decRate - rate) / rate < 0.05, `Dec rate ${cal.decRate} px/s vs ${rate}`);
    assert.ok(Math.abs(cal.orthogonalityError) < 3, `orthogonality ${cal.orthogonalityError}`);
  }
});

test('guiding reduces drift + periodic error RMS at least 3x; dither settles', async () => {
  const run = async (guide: boolean) => {
    const { guider, mount } = rig(9);
    await guider.calibrate();
    const ref = mount.pointing();
    let t2 = 0;
    let n = 0;
    const st = await guider.run(900, guide, () => {
      const p = mount.pointing();
      t2 += (p.dx - ref.dx) ** 2 + (p.dy - ref.dy) ** 2;
      n++;
    });
    return { st, trueRms: Math.sqrt(t2 / n), guider, mount };
  };
  const off = await run(false);
  const on = await run(true);
  assert.ok(off.st.samples > 300 && on.st.samples > 250, `${off.st.samples} / ${on.st.samples} samples`);
  assert.ok(off.st.rmsTotal >= 3 * on.st.rmsTotal, `measured RMS off ${off.st.rmsTotal.toFixed(2)} px, on ${on.st.rmsTotal.toFixed(2)} px`);
  assert.ok(off.trueRms >= 3 * on.trueRms, `true RMS off ${off.trueRms.toFixed(2)} px, on ${on.trueRms.toFixed(2)} px`);
  assert.ok(on.st.rmsTotalArcsec < 1, `guided RMS ${on.st.rmsTotalArcsec.toFixed(2)}"`);
  assert.ok(Math.abs(on.st.rmsTotalArcsec - on.st.rmsTotal * 1.5) < 1e-9);
  assert.equal(on.st.lost, 0);
  // dither: the star moves to the new lock position and settles
  const lock0 = { ...on.guider.lock! };
  const d = await on.guider.dither();
  assert.ok(d.settled, `settled in ${d.seconds} s`);
  assert.ok(Math.hypot(on.guider.lock!.x - lock0.x - d.offset.x, on.guider.lock!.y - lock0.y - d.offset.y) < 1e-9);
  const after = await on.guider.run(60, true);
  assert.ok(after.rmsTotal < 0.6, `RMS after dither ${after.rmsTotal}`);
});

test('calibration keeps the star when each step carries it beyond the search box (long pulses on a drifting mount)', async () => {
  // 1.6 s pulses move the star 8 px; the mount drifts 1 px/s along RA, 3.6 px per cycle: the first west
  // step lands 11.6 px away (beyond the 10 px box), the next ones are found where the last step's move points
  const clock = new VirtualClock();
  const mount = new SimMount({ clock, ...MOUNT, cameraAngle: 0, driftRa: 1.5, driftDec: 0, pe: 0 });
  const cam = new SimGuideCamera(mount, { seed: 4 });
  const guider = new Guider(cam, mount, clock, { exposure: 2, pixelScale: MOUNT.pixelScale, calibrationStepMs: 1600, seed: 4 });
  const cal = await guider.calibrate();
  const rate = mount.guideRate / mount.pixelScale;
  assert.ok(Math.abs(cal.raRate - rate) / rate < 0.1, `RA rate ${cal.raRate.toFixed(2)} px/s vs ${rate}`);
  assert.ok(Math.abs(cal.decRate - rate) / rate < 0.1, `Dec rate ${cal.decRate.toFixed(2)} px/s vs ${rate}`);
  assert.ok(Math.abs(cal.cameraAngle) < 5, `camera angle ${cal.cameraAngle.toFixed(1)}`);
});

test('calibration removes the drift when the legs take unequal time (frames slow during one leg, as on a loaded machine)', async () => {
  // a mount drifting 0.3 px/s along RA (camera angle 0); every frame of the north leg takes 6 s longer, so
  // the drift no longer cancels between north and south: the Dec vector would lean toward RA by atan(drift)
  const clock = new VirtualClock();
  const mount = new SimMount({ clock, ...MOUNT, cameraAngle: 0, driftRa: 0.45, driftDec: 0, pe: 0 });
  const sim = new SimGuideCamera(mount, { seed: 5 });
  let slow = false;
  const cam = {
    capture: async (s: number) => {
      if (slow) await clock.sleep(6000);
      return sim.capture(s);
    },
  };
  // the mount's guide port, noting which leg is pulsing
  const port = new Proxy(mount, {
    get: (target, key, receiver) =>
      key === 'pulseGuide'
        ? async (dir: GuideDirection, ms: number) => {
            slow = dir === 'north';
            return target.pulseGuide(dir, ms);
          }
        : Reflect.get(target, key, receiver),
  });
  const guider = new Guider(cam, port, clock, { exposure: 2, pixelScale: MOUNT.pixelScale, seed: 5 });
  const cal = await guider.calibrate();
  const rate = mount.guideRate / mount.pixelScale;
  assert.ok(Math.abs(cal.decRate - rate) / rate < 0.05, `Dec rate ${cal.decRate.toFixed(2)} px/s vs ${rate}`);
  assert.ok(Math.abs(cal.cameraAngle) < 1.5 && Math.abs(cal.orthogonalityError) < 1.5, `camera angle ${cal.cameraAngle.toFixed(2)}, orthogonality ${cal.orthogonalityError.toFixed(2)}`);
});
