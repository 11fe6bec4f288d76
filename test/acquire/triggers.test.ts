// Sequencer triggers and conditions (plan.autofocus, ditherEvery, loop/until) as pure decisions and on the
// virtual clock with the simulated camera and focuser: autofocus after N frames, a filter change, a
// temperature change and an HFR growth (real autofocus on a drifting focus); loop until a time, an
// altitude or a frame count; the plan's one-line errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SimCamera } from '../../src/devices/sim/simcamera.js';
import { SimFocuser } from '../../src/devices/sim/simfocuser.js';
import { sensorModel } from '../../src/devices/sim/sensors.js';
import { Rng } from '../../src/util/random.js';
import { VirtualClock } from '../../src/acquire/clock.js';
import { autofocus, measureFocus } from '../../src/acquire/focus.js';
import { Sequencer, type SequenceEvent } from '../../src/acquire/sequencer.js';
import { parsePlan, expandPlan } from '../../src/acquire/plan.js';
import { afterAutofocus, afterFrame, autofocusDue, ditherDue, hfrGrowth, loopFrames, newTriggerState, untilReached } from '../../src/acquire/triggers.js';
import { altitudeDeg, localSiderealDeg, hourAngleHours } from '../../src/session/sidereal.js';
import { readFits, readFitsHeader } from '../../src/fits/index.js';
import { fileRunDirs } from '../helpers/env.js';

const outDir = fileRunDirs();
const dateObs = (path: string) => Date.parse(`${readFitsHeader(path).header.getString('DATE-OBS')}Z`);

function rig(stepsPerHour = 40) {
  const clock = new VirtualClock();
  const focuser = new SimFocuser({ clock, best: 25_000, position: 25_000 });
  const rng = new Rng(11);
  const stars = Array.from({ length: 14 }, () => ({ x: 15 + rng.uniform() * 130, y: 15 + rng.uniform() * 90, flux: 30_000 + 120_000 * rng.uniform() }));
  // the focus drifts as the night cools: best focus moves 40 steps per hour (the focuser's model knows its own best)
  // the focuser's position now, as its own psf() reads it (synchronously, mid-move too)
  const at = () => (focuser as unknown as { current(): number }).current();
  const t0 = clock.now();
  const drift = () => Math.round((stepsPerHour * (clock.now() - t0)) / 3_600_000);
  const camera = new SimCamera({ clock, sensor: sensorModel('kaf8300', { width: 160, height: 120 }), stars, readoutMs: 500, psf: () => ({ kind: 'moffat', fwhm: focuser.fwhmAt(at() - drift()), beta: 3 }) });
  return { clock, focuser, camera, drift, at };
}

test('sidereal time and altitude agree with Meeus (example 12.a) and the geometry of the meridian', () => {
  // 1987 April 10, 0h UT: GMST 13h10m46.3668s (Meeus, Astronomical Algorithms, example 12.a)
  const t = Date.UTC(1987, 3, 10, 0, 0, 0);
  const gmstS = (localSiderealDeg(t, 0) / 15) * 3600;
  assert.ok(Math.abs(gmstS - (13 * 3600 + 10 * 60 + 46.3668)) < 0.05, `GMST ${gmstS} s`);
  assert.ok(Math.abs(localSiderealDeg(t, 30) - localSiderealDeg(t, 0) - 30) < 1e-9);
  // on the meridian, altitude = 90 - |lat - dec|; six hours off for dec 0 it is on the horizon
  const ra = localSiderealDeg(t, 10);
  assert.ok(Math.abs(hourAngleHours(t, 10, ra)) < 1e-9);
  assert.ok(Math.abs(altitudeDeg(t, 50, 10, ra, 20) - 60) < 1e-9);
  assert.ok(Math.abs(altitudeDeg(t, 50, 10, (ra + 270) % 360, 0)) < 1e-9);
});

test('autofocus decisions: start, every N lights, filter change, temperature change, HFR growth; dither and until', () => {
  const cfg = parsePlan({ autofocus: { atStart: true, everyFrames: 3, tempChange: 1, onFilterChange: true, hfrIncrease: 20, hfrFrames: 2 }, groups: [{ exposure: 1, count: 1 }] }).autofocus!;
  const L = { type: 'light' as const, filter: 'L' };
  let st = newTriggerState();
  assert.equal(autofocusDue(cfg, st, L, 10), 'start');
  assert.equal(autofocusDue(cfg, st, { type: 'dark' }, 10), null, 'never before a dark');
  st = afterAutofocus(st, 10);
  st = afterFrame(st, L, 2.0);
  st = afterFrame(st, L, 2.0);
  assert.equal(autofocusDue(cfg, st, L, 10.9), null);
  assert.equal(autofocusDue(cfg, st, L, 8.9), 'temperature');
  assert.equal(autofocusDue(cfg, st, { type: 'light', filter: 'R' }, 10), 'filter');
  st = afterFrame(st, L, 2.5);
  assert.equal(autofocusDue(cfg, st, L, 10), 'frames');
  const hfrOnly = { ...cfg, atStart: false, everyFrames: undefined, onFilterChange: false, tempChange: undefined };
  assert.equal(autofocusDue(hfrOnly, st, L, 10), null, '2.0, 2.0 -> 2.0, 2.5: median 2.25 is 12.5% up');
  st = afterFrame(st, L, 2.6);
  assert.ok(Math.abs(hfrGrowth(st, 'L', 2)! - 27.5) < 1e-9);
  assert.equal(autofocusDue(hfrOnly, st, L, 10), 'hfr');
  assert.deepEqual([0, 1, 2, 3, 4, 6].map((n) => ditherDue(3, n)), [false, false, false, true, false, true]);
  assert.equal(ditherDue(0, 3), false);
  const until = { time: '2024-01-15T21:00:00Z', frames: 10, altitude: 30 };
  assert.equal(untilReached(until, { nextEnd: Date.UTC(2024, 0, 15, 21), framesTaken: 9, altitude: 31 }), null);
  assert.equal(untilReached(until, { nextEnd: Date.UTC(2024, 0, 15, 21) + 1, framesTaken: 9 }), 'time');
  assert.equal(untilReached(until, { nextEnd: 0, framesTaken: 10 }), 'frames');
  assert.equal(untilReached(until, { nextEnd: 0, framesTaken: 0, altitude: 29.9 }), 'altitude');
  const frames = expandPlan(parsePlan({ groups: [{ filter: 'R', exposure: 1, count: 2 }, { filter: 'G', exposure: 1, count: 1 }] }));
  const it = loopFrames(frames, true);
  const seven = Array.from({ length: 7 }, () => it.next().value!);
  assert.deepEqual(seven.map((f) => `${f.index}:${f.filter}${f.n}`), ['0:R1', '1:G1', '2:R2', '3:R3', '4:G2', '5:R4', '6:R5']);
});

test('plan errors are one line naming the key', () => {
  const g = [{ exposure: 1, count: 1 }];
  assert.throws(() => parsePlan({ loop: true, groups: g }, 'n.json'), /invalid plan: loop: a looping plan needs an until condition/);
  assert.throws(() => parsePlan({ until: { altitude: 30 }, groups: g }), /invalid plan: until.altitude: needs target/);
  assert.throws(() => parsePlan({ until: { time: 'tonight' }, groups: g }), /invalid plan: until.time: not a date\/time/);
  assert.throws(() => parsePlan({ autofocus: { everyFrames: 0 }, groups: g }), /invalid plan: autofocus.everyFrames: /);
  assert.throws(() => parsePlan({ meridian: {}, target: { ra: 10, dec: 41 }, groups: g }), /invalid plan: meridian: needs target \(ra, dec\) and profile.siteLong/);
  assert.throws(() => parsePlan({ safety: { action: 'run' }, groups: g }), /invalid plan: safety.action: /);
});

test('sequence: autofocus every 3 lights and on each filter change, at the right frames (virtual clock)', async () => {
  const { clock, focuser, camera } = rig();
  await camera.connect();
  const events: SequenceEvent[] = [];
  let runs = 0;
  const plan = parsePlan({ base: 'A', order: 'group', autofocus: { everyFrames: 3, onFilterChange: true }, groups: [{ filter: 'Luminance', exposure: 60, count: 7 }, { filter: 'Red', exposure: 60, count: 2 }] });
  const r = await new Sequencer(plan, { camera, wheel: camera.wheel, clock, focuser, outDir: outDir(), onEvent: (e) => events.push(e), automation: { autofocus: async () => { runs++; await clock.sleep(90_000); } } }).run();
  assert.equal(r.saved.length, 9);
  const af = events.filter((e) => e.kind === 'autofocus').map((e) => e.kind === 'autofocus' && `${e.frame.index}:${e.reason}`);
  assert.deepEqual(af, ['3:frames', '6:frames', '7:filter']);
  assert.equal(runs, 3);
});

test('sequence: the HFR trigger fires on a drifting focus; real autofocus brings the HFR back (virtual clock)', async () => {
  const { clock, focuser, camera, drift, at } = rig(1200);
  await camera.connect();
  const events: SequenceEvent[] = [];
  const plan = parsePlan({ base: 'H', autofocus: { hfrIncrease: 25, hfrFrames: 2 }, groups: [{ filter: 'Luminance', exposure: 5, count: 40 }] });
  const r = await new Sequencer(plan, {
    camera, wheel: camera.wheel, clock, focuser, outDir: outDir(),
    onEvent: (e) => events.push(e),
    automation: { autofocus: () => autofocus(camera, focuser, { exposure: 2, step: 40, points: 4 }), measureHfr: undefined },
  }).run();
  assert.equal(r.saved.length, 40);
  const af = events.filter((e) => e.kind === 'autofocus');
  assert.ok(af.length >= 1, 'the focus drifted: the HFR trigger fired');
  const hfr = r.saved.map((s) => measureFocus(readFits(s.path)).hfr);
  const first = af[0]!.kind === 'autofocus' ? af[0]!.frame.index : 0;
  assert.ok(hfr[first - 1]! > 1.25 * hfr[0]!, `HFR ${hfr[0]!.toFixed(2)} -> ${hfr[first - 1]!.toFixed(2)} before the autofocus`);
  assert.ok(hfr[first]! < hfr[first - 1]! / 1.15, `HFR after the autofocus ${hfr[first]!.toFixed(2)}`);
  assert.ok(af.every((e) => e.kind === 'autofocus' && e.reason === 'hfr'));
  // after the last autofocus the focuser sits near the drifted best focus
  const off = Math.abs(at() - drift() - 25_000);
  assert.ok(off < 60, `focuser ${off} steps from the drifted best focus`);
});

test('sequence: autofocus when the temperature fell by tempChange since the last one (virtual clock)', async () => {
  const { clock, focuser, camera } = rig();
  await camera.connect();
  const t0 = clock.now();
  const temp = async () => 10 - (1.5 * (clock.now() - t0)) / 3_600_000; // 1.5 C per hour
  const events: SequenceEvent[] = [];
  const at: number[] = [];
  const plan = parsePlan({ base: 'T', autofocus: { tempChange: 1 }, groups: [{ filter: 'Luminance', exposure: 300, count: 24 }] });
  await new Sequencer(plan, { camera, wheel: camera.wheel, clock, focuser, outDir: outDir(), onEvent: (e) => events.push(e), automation: { temperature: temp, autofocus: async () => { at.push(await temp()); } } }).run();
  // 24 x 300 s = 2 h: 3 C, so an autofocus at each 1 C step (each within one frame of 1 C after the last)
  const af = events.filter((e) => e.kind === 'autofocus');
  assert.equal(af.length, 2, JSON.stringify(at));
  let last = 10;
  for (const T of at) {
    assert.ok(last - T >= 1 && last - T < 1 + (1.5 * 301) / 3600 + 1e-6, `autofocus at ${T.toFixed(3)} C, previous ${last.toFixed(3)} C`);
    last = T;
  }
});

test('loop until a time, a frame count, an altitude (virtual clock)', async () => {
  const run = async (extra: object) => {
    const { clock, camera } = rig();
    await camera.connect();
    const events: SequenceEvent[] = [];
    const r = await new Sequencer(parsePlan({ base: 'U', loop: true, groups: [{ filter: 'Luminance', exposure: 300, count: 2 }, { filter: 'Red', exposure: 300, count: 1 }], ...extra }), { camera, wheel: camera.wheel, clock, outDir: outDir(), onEvent: (e) => events.push(e) }).run();
    return { r, events, clock };
  };
  // until 21:30 (the clock starts at 20:00): every frame ends by then, the next one would not
  const until = Date.UTC(2024, 0, 15, 21, 30);
  const a = await run({ until: { time: '2024-01-15T21:30:00Z' } });
  const lastStart = dateObs(a.r.saved.at(-1)!.path);
  assert.ok(lastStart + 300_000 <= until && a.r.end + 300_000 > until, `last frame ${new Date(lastStart).toISOString()}, end ${new Date(a.r.end).toISOString()}`);
  assert.ok(a.r.saved.length > 3, 'it looped past the plan\'s 3 frames');
  assert.deepEqual(a.events.filter((e) => e.kind === 'until').map((e) => e.kind === 'until' && e.reason), ['time']);
  const b = await run({ until: { frames: 7 } });
  assert.deepEqual(b.r.saved.map((s) => s.frame.filter), ['Luminance', 'Red', 'Luminance', 'Luminance', 'Red', 'Luminance', 'Luminance']);
  // a target setting in the west: stop when it is below 40 degrees
  const site = { siteLat: 50, siteLong: 0 };
  const t0 = Date.UTC(2024, 0, 15, 20);
  const target = { ra: (localSiderealDeg(t0, 0) - 45 + 360) % 360, dec: 20 }; // 3 h past the meridian
  const altStart = altitudeDeg(t0, 50, 0, target.ra, target.dec);
  assert.ok(altStart > 40 && altStart < 50, `altitude at the start ${altStart}`);
  const c = await run({ target, profile: site, until: { altitude: 40 } });
  const alts = c.r.saved.map((s) => altitudeDeg(dateObs(s.path), 50, 0, target.ra, target.dec));
  assert.ok(alts.every((h) => h >= 40), `altitudes ${alts.map((h) => h.toFixed(2))}`);
  assert.ok(altitudeDeg(c.r.end, 50, 0, target.ra, target.dec) < 40);
  assert.deepEqual(c.events.filter((e) => e.kind === 'until').map((e) => e.kind === 'until' && e.reason), ['altitude']);
});
