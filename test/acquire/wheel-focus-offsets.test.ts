// Focus offsets from the filter wheel: without a focusOffsets key in the plan the sequencer moves the
// focuser by the wheel's own per-filter offsets (ASCOM FocusOffsets); the plan's key wins when it is there.
// On the virtual clock with the simulated camera, over Alpaca with our server in process, and with
// `darkroom sequence --device alpaca://` against `darkroom alpaca-sim --focus-offsets`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SimCamera } from '../../src/devices/sim/simcamera.js';
import { SimFocuser } from '../../src/devices/sim/simfocuser.js';
import { sensorModel } from '../../src/devices/sim/sensors.js';
import { simulatedRig } from '../../src/devices/sim/rig.js';
import { AlpacaServer } from '../../src/devices/alpaca/server.js';
import { AlpacaCamera, AlpacaFilterWheel, AlpacaFocuser } from '../../src/devices/alpaca/client.js';
import { AcceleratedClock, realClock, type Camera, type Clock, type FilterWheel, type Focuser } from '../../src/devices/types.js';
import { VirtualClock } from '../../src/acquire/clock.js';
import { Sequencer } from '../../src/acquire/sequencer.js';
import { parsePlan, type Plan } from '../../src/acquire/plan.js';
import { fileRunDirs, runCli, useTempDir } from '../helpers/env.js';
import { startAlpacaSim, stopAlpacaSim } from '../helpers/alpaca-sim.js';

const outDir = fileRunDirs();
const WHEEL = { Red: 12, green: -30, Empty: 5 };
const GROUPS = [
  { filter: 'Red', exposure: 1, count: 1, suffix: 'R' },
  { filter: 'Green', exposure: 1, count: 1, suffix: 'G' },
  { filter: 'Blue', exposure: 1, count: 1, suffix: 'B' },
  { filter: 'Luminance', exposure: 1, count: 1, suffix: 'L' },
];

type Move = [string | undefined, string, number, number];
async function moves(plan: Plan, rig: { camera: Camera; wheel: FilterWheel; focuser: Focuser; clock: Clock }): Promise<Move[]> {
  const out: Move[] = [];
  const r = await new Sequencer(plan, { ...rig, outDir: outDir(), pollMs: 20, onEvent: (e) => e.kind === 'focus-offset' && out.push([e.from, e.to, e.steps, e.position]) }).run();
  assert.equal(r.saved.length, GROUPS.length);
  return out;
}

// the wheel starts at Luminance (offset 0), the focuser at 25000
const FROM_WHEEL: Move[] = [
  ['Luminance', 'Red', 12, 25_012],
  ['Red', 'Green', -42, 24_970],
  ['Green', 'Blue', 30, 25_000],
];
const PLAN_OFFSETS = { Blue: 100 };
const FROM_PLAN: Move[] = [
  ['Green', 'Blue', 100, 25_100],
  ['Blue', 'Luminance', -100, 25_000],
];

test('sequencer: the wheel\'s focus offsets when the plan has none; the plan\'s key wins (simulated camera)', async () => {
  const clock = new VirtualClock();
  const camera = new SimCamera({ clock, sensor: sensorModel('kaf8300', { width: 32, height: 24 }), focusOffsets: WHEEL });
  await camera.connect();
  assert.deepEqual(await camera.wheel.focusOffsets(), [12, -30, 0, 0, 5]);
  const focuser = new SimFocuser({ clock, position: 25_000 });
  const rig = { camera, wheel: camera.wheel, focuser, clock };
  assert.deepEqual(await moves(parsePlan({ base: 'W', groups: GROUPS }), rig), FROM_WHEEL);
  assert.equal(await focuser.position(), 25_000, 'back at Luminance, offset 0');
  assert.deepEqual(await moves(parsePlan({ base: 'P', focusOffsets: PLAN_OFFSETS, groups: GROUPS }), rig), FROM_PLAN);
  // an empty key, too, wins: no offsets at all
  assert.deepEqual(await moves(parsePlan({ base: 'E', focusOffsets: {}, groups: GROUPS }), rig), []);
  // the wheel's offsets without a focuser: nothing to move, no refusal (the plan's key would be refused)
  const r = await new Sequencer(parsePlan({ base: 'N', groups: GROUPS }), { camera, wheel: camera.wheel, clock, outDir: outDir() }).run();
  assert.equal(r.saved.length, GROUPS.length);
});

test('sequencer over Alpaca: the wheel\'s FocusOffsets move the Alpaca focuser', async () => {
  const sim = simulatedRig({ clock: new AcceleratedClock(200), sensor: sensorModel('kaf8300', { width: 32, height: 24 }), readoutMs: 200, focusOffsets: WHEEL });
  await sim.focuser.move(25_000);
  const server = new AlpacaServer({ ...sim, discoveryPort: null });
  await server.start(0);
  try {
    const t = { host: '127.0.0.1', port: server.port, number: 0 };
    const rig = { camera: new AlpacaCamera(t), wheel: new AlpacaFilterWheel(t), focuser: new AlpacaFocuser(t), clock: realClock };
    for (const d of [rig.camera, rig.wheel, rig.focuser]) await d.connect();
    assert.deepEqual(await moves(parsePlan({ base: 'A', groups: GROUPS }), rig), FROM_WHEEL);
    assert.deepEqual(await moves(parsePlan({ base: 'B', focusOffsets: PLAN_OFFSETS, groups: GROUPS }), rig), FROM_PLAN);
  } finally {
    await server.close();
  }
});

test('darkroom sequence --device alpaca:// against alpaca-sim --focus-offsets: the wheel\'s offsets, printed', async (t) => {
  const dir = useTempDir(t);
  const { proc, port } = await startAlpacaSim(100, ['--focus-offsets', 'Red=12,Green=-30']);
  try {
    const plan = join(dir, 'plan.json');
    writeFileSync(plan, JSON.stringify({ base: 'S', groups: GROUPS.slice(0, 2) }));
    const r = runCli(['sequence', plan, '--device', `alpaca://127.0.0.1:${port}/0`, '--out', join(dir, 'out')]);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.split('\n').filter((l) => l.startsWith('focus offset'));
    // alpaca-sim's focuser starts at its best focus, SimFocuser's default
    const best = new SimFocuser().best;
    assert.deepEqual(lines, [`focus offset Luminance -> Red: +12 steps (focuser at ${best + 12})`, `focus offset Red -> Green: -42 steps (focuser at ${best - 30})`]);
  } finally {
    await stopAlpacaSim(proc);
  }
});
