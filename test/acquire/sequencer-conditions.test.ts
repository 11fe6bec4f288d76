// The sequencer's reaction to each camera error condition (soft: pause, go on when cleared; hard: stop,
// keep what was saved), darks with an electronic shutter, and per-filter focus offsets; all on the
// virtual clock with the simulated camera and focuser.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { basename } from 'node:path';
import { SimCamera, type SimCameraOptions } from '../../src/devices/sim/simcamera.js';
import { SimFocuser } from '../../src/devices/sim/simfocuser.js';
import { sensorModel } from '../../src/devices/sim/sensors.js';
import { VirtualClock } from '../../src/acquire/clock.js';
import { Sequencer, type SequenceEvent } from '../../src/acquire/sequencer.js';
import { parsePlan } from '../../src/acquire/plan.js';
import { readFitsHeader } from '../../src/fits/index.js';
import { fileRunDirs } from '../helpers/env.js';

const outDir = fileRunDirs();

async function rig(opts: Omit<SimCameraOptions, 'clock'> = {}) {
  const clock = new VirtualClock();
  const cam = new SimCamera({ clock, sensor: sensorModel('kaf8300', { width: 48, height: 32 }), ...opts });
  await cam.connect();
  return { clock, cam };
}

const lights = (exposure: number, count = 3) => parsePlan({ base: 'C', groups: [{ type: 'light', filter: 'Luminance', exposure, count, suffix: 'L' }] });
const dateObs = (path: string) => Date.parse(`${readFitsHeader(path).header.getString('DATE-OBS')}Z`);

interface SoftCase {
  code: string;
  number: number;
  set: (c: SimCamera) => void;
  clear: (c: SimCamera) => void;
}
const SOFT: SoftCase[] = [
  { code: 'over-temperature', number: 101, set: (c) => c.setAmbient(46), clear: (c) => c.setAmbient(20) },
  { code: 'ccd-under-temperature', number: 102, set: (c) => c.setAmbient(-45), clear: (c) => c.setAmbient(10) },
  { code: 'supply-low', number: 103, set: (c) => c.setSupplyVoltage(10.4), clear: (c) => c.setSupplyVoltage(12) },
  { code: 'supply-high', number: 104, set: (c) => c.setSupplyVoltage(14.5), clear: (c) => c.setSupplyVoltage(12) },
];

for (const sc of SOFT) {
  test(`soft error ${sc.number} (${sc.code}): the sequence pauses with a warning, goes on when it clears, takes every frame`, async () => {
    const { clock, cam } = await rig();
    const dir = outDir();
    const events: SequenceEvent[] = [];
    let clearAt = 0;
    // the condition starts during the first 300 s exposure; the operator (or the weather) clears it 20 minutes later
    const seq = new Sequencer(lights(300), {
      camera: cam,
      wheel: cam.wheel,
      clock,
      outDir: dir,
      conditionPollMs: 10_000,
      onEvent: (e) => {
        events.push(e);
        if (e.kind === 'exposing' && e.frame.index === 0) sc.set(cam);
        if (e.kind === 'camera-condition') clearAt = clock.now() + 20 * 60_000;
      },
    });
    const tick = setInterval(() => {
      if (clearAt && clock.now() >= clearAt) {
        sc.clear(cam);
        clearAt = 0;
      }
    }, 1);
    const r = await seq.run();
    clearInterval(tick);
    assert.equal(r.aborted, false);
    assert.equal(r.saved.length, 3);
    const cond = events.filter((e) => e.kind === 'camera-condition');
    assert.equal(cond.length, 1, JSON.stringify(cond));
    const c = cond[0]!;
    assert.ok(c.kind === 'camera-condition');
    assert.deepEqual([c.condition.code, c.condition.number, c.condition.severity, c.action, c.frame?.index], [sc.code, sc.number, 'soft', 'pause', 1]);
    assert.match(c.condition.message, new RegExp(`^soft error ${sc.number}: `));
    const cleared = events.find((e) => e.kind === 'condition-cleared');
    assert.ok(cleared && cleared.kind === 'condition-cleared' && cleared.condition.code === sc.code);
    assert.ok(cleared.waitedS >= 20 * 60 && cleared.waitedS < 20 * 60 + 15 * 60, `waited ${cleared.waitedS} s`);
    const order = events.map((e) => e.kind).filter((k) => ['saved', 'camera-condition', 'condition-cleared'].includes(k));
    assert.deepEqual(order, ['saved', 'camera-condition', 'condition-cleared', 'saved', 'saved']);
    assert.ok(dateObs(r.saved[1]!.path) - dateObs(r.saved[0]!.path) >= (300 + 20 * 60) * 1000, 'the second frame waited for the condition to clear');
  });
}

const HARD = [
  { code: 'filter-wheel', number: 201, when: 'saved' },
  { code: 'shutter', number: 202, when: 'exposing' },
  { code: 'usb', number: 203, when: 'exposing' },
] as const;

for (const hc of HARD) {
  test(`hard error ${hc.number} (${hc.code}): the sequence stops, keeps the frames saved, writes no partial file`, async () => {
    const { clock, cam } = await rig();
    const dir = outDir();
    const events: SequenceEvent[] = [];
    // alternate filters so that the wheel moves before every frame
    const plan = parsePlan({ base: 'H', groups: [{ filter: 'Red', exposure: 60, count: 3, suffix: 'R' }, { filter: 'Green', exposure: 60, count: 3, suffix: 'G' }] });
    const seq = new Sequencer(plan, {
      camera: cam,
      wheel: cam.wheel,
      clock,
      outDir: dir,
      onEvent: (e) => {
        events.push(e);
        // during the second frame's exposure, or once the first frame is saved
        if (hc.when === 'exposing' && e.kind === 'exposing' && e.frame.index === 1) cam.injectFault(hc.code);
        if (hc.when === 'saved' && e.kind === 'saved' && e.frame.index === 0) cam.injectFault(hc.code);
      },
    });
    const r = await seq.run();
    assert.equal(r.aborted, true);
    assert.deepEqual([r.cameraError?.code, r.cameraError?.number, r.cameraError?.severity], [hc.code, hc.number, 'hard']);
    assert.deepEqual(r.saved.map((s) => basename(s.path)), ['H-001-R60.fit']);
    assert.deepEqual(readdirSync(dir), ['H-001-R60.fit'], 'the frame saved is kept; the lost one left no file');
    const kinds = events.map((e) => e.kind);
    assert.deepEqual(kinds.slice(-3), ['camera-condition', 'aborted', 'done']);
    const c = events.at(-3)!;
    assert.ok(c.kind === 'camera-condition' && c.action === 'abort' && c.frame?.index === 1);
    assert.match(c.condition.message, new RegExp(`^hard error ${hc.number}: `));
  });
}

test('electronic shutter: darks are refused unless the plan says the telescope is capped, then taken with a warning', async () => {
  const { clock, cam } = await rig({ sensor: sensorModel('kai04022', { width: 48, height: 32 }) });
  await cam.setSettings({ shutterPriority: 'electronic' });
  const plan = { base: 'D', groups: [{ type: 'dark', exposure: 10, count: 1 }] };
  await assert.rejects(new Sequencer(parsePlan(plan), { camera: cam, clock, outDir: outDir() }).run(), /electronic shutter: nothing covers the sensor in dark frames; cap the telescope and set darksCapped: true/);
  const events: SequenceEvent[] = [];
  const r = await new Sequencer(parsePlan({ ...plan, darksCapped: true }), { camera: cam, clock, outDir: outDir(), onEvent: (e) => events.push(e) }).run();
  assert.equal(r.saved.length, 1);
  assert.deepEqual(events.filter((e) => e.kind === 'warning').map((e) => e.kind === 'warning' && e.code), ['ELECTRONIC_SHUTTER_DARKS']);
  // lights and biases need no cap
  await cam.setSettings({ shutterPriority: 'electronic' });
  const ok = await new Sequencer(parsePlan({ base: 'B', groups: [{ type: 'bias', exposure: 0, count: 1 }] }), { camera: cam, clock, outDir: outDir() }).run();
  assert.equal(ok.saved.length, 1);
});

test('focus offsets: each filter change moves the focuser by the difference of the offsets (unlisted filters 0)', async () => {
  const { clock, cam } = await rig();
  const focuser = new SimFocuser({ clock, position: 25_000 });
  const plan = parsePlan({
    base: 'F',
    focusOffsets: { red: 12, Green: -30, Luminance: 0 },
    groups: [{ filter: 'Red', exposure: 10, count: 2, suffix: 'R' }, { filter: 'Green', exposure: 10, count: 2, suffix: 'G' }, { filter: 'Blue', exposure: 10, count: 1, suffix: 'B' }, { filter: 'Luminance', exposure: 10, count: 1, suffix: 'L' }],
  });
  const at: number[] = [];
  const moves: [string | undefined, string, number, number][] = [];
  const r = await new Sequencer(plan, {
    camera: cam,
    wheel: cam.wheel,
    focuser,
    clock,
    outDir: outDir(),
    onEvent: (e) => {
      if (e.kind === 'focus-offset') moves.push([e.from, e.to, e.steps, e.position]);
      if (e.kind === 'exposing') void focuser.position().then((p) => at.push(p));
    },
  }).run();
  assert.equal(r.saved.length, 6);
  // the wheel starts at Luminance (offset 0) with the focuser focused there, at 25000
  assert.deepEqual(moves, [
    ['Luminance', 'Red', 12, 25_012],
    ['Red', 'Green', -42, 24_970],
    ['Green', 'Blue', 30, 25_000],
    ['Luminance', 'Red', 12, 25_012],
    ['Red', 'Green', -42, 24_970],
  ]);
  assert.deepEqual(at, [25_012, 24_970, 25_000, 25_000, 25_012, 24_970]);
  assert.equal(await focuser.position(), 24_970);
  await assert.rejects(new Sequencer(plan, { camera: cam, wheel: cam.wheel, clock, outDir: outDir() }).run(), /the plan has focusOffsets but no focuser is connected/);
  assert.throws(() => parsePlan({ base: 'x', focusOffsets: { Red: 1.5 }, groups: [{ exposure: 1, count: 1 }] }), /invalid plan: focusOffsets\.Red:/);
});
