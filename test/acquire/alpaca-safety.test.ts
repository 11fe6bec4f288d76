// Safety from the ASCOM Alpaca protocol: `darkroom alpaca-sim` serves a SafetyMonitor (IsSafe; the
// Action SetSafe makes it unsafe or safe again) next to its goto telescope. The sequencer, on the real
// Alpaca camera, checks IsSafe before each frame: unsafe -> it waits (no frame taken) and resumes when
// safe again, or parks the mount (AtPark over Alpaca) and ends; `darkroom sequence --safety` and the
// plan key safety.device open the monitor.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { fileRunDirs, runCli } from '../helpers/env.js';
import { startAlpacaSim, stopAlpacaSim } from '../helpers/alpaca-sim.js';
import { openDevice, openSafety } from '../../src/acquire/open.js';
import { parsePlan } from '../../src/acquire/plan.js';
import { Sequencer, type SequenceEvent } from '../../src/acquire/sequencer.js';
import { AlpacaDevice } from '../../src/devices/alpaca/client.js';
import { AlpacaSafetyMonitor, AlpacaTelescope } from '../../src/devices/alpaca/mount.js';
import type { SafetyMonitor } from '../../src/devices/types.js';

const outDir = fileRunDirs();
let sim: ChildProcess;
let port: number;
let switchbox: AlpacaDevice;

before(async () => {
  ({ proc: sim, port } = await startAlpacaSim(100));
  switchbox = new AlpacaDevice({ host: '127.0.0.1', port, type: 'safetymonitor', number: 0 });
  await switchbox.put('connected', { Connected: true });
});
after(() => stopAlpacaSim(sim));

/** The Alpaca monitor, made unsafe (over the protocol, by the Action SetSafe) at its `unsafeAt`-th query and safe again at its `safeAt`-th. */
function scripted(inner: SafetyMonitor, unsafeAt: number, safeAt = Infinity): SafetyMonitor & { log: boolean[] } {
  let n = 0;
  const log: boolean[] = [];
  return {
    log,
    async isSafe() {
      n++;
      if (n === unsafeAt) await switchbox.action('SetSafe', 'False');
      if (n === safeAt) await switchbox.action('SetSafe', 'True');
      const v = await inner.isSafe();
      log.push(v);
      return v;
    },
  };
}

test('Alpaca SafetyMonitor: IsSafe follows SetSafe; an unreachable monitor counts as unsafe', async () => {
  const m = new AlpacaSafetyMonitor({ host: '127.0.0.1', port, number: 0 });
  await m.connect();
  assert.equal(await m.isSafe(), true);
  await switchbox.action('SetSafe', 'False');
  assert.equal(await m.isSafe(), false);
  await switchbox.action('SetSafe', 'True');
  assert.equal(await m.isSafe(), true);
  await switchbox.action('SetSafe', '');
  assert.deepEqual(await switchbox.get('supportedactions'), ['SetSafe']);
  const gone = new AlpacaSafetyMonitor({ host: '127.0.0.1', port: 1, number: 0 });
  assert.equal(await gone.isSafe(), false);
  assert.match(gone.lastError ?? '', /cannot reach Alpaca server/);
});

test('unsafe over Alpaca, action wait: no frame while unsafe, the sequence resumes when safe and takes every frame', async () => {
  const d = await openDevice(`alpaca://127.0.0.1:${port}/0`);
  const { monitor, close } = await openSafety(`alpaca://127.0.0.1:${port}/0`);
  // queries 1, 2: frames 1 and 2; the 3rd (before frame 3) finds it unsafe; polls until the 6th, safe again
  const safety = scripted(monitor, 3, 6);
  const events: SequenceEvent[] = [];
  try {
    const plan = parsePlan({ base: 'S', safety: { action: 'wait', pollS: 1 }, groups: [{ filter: 'Luminance', exposure: 1, count: 5 }] });
    const r = await new Sequencer(plan, { camera: d.camera, wheel: d.wheel, clock: d.clock, outDir: outDir(), automation: { safety }, onEvent: (e) => events.push(e) }).run();
    assert.equal(r.aborted, false);
    assert.equal(r.saved.length, 5, 'every planned frame');
    assert.deepEqual(safety.log, [true, true, false, false, false, true, true, true]);
    const kinds = events.map((e) => e.kind).filter((k) => ['exposing', 'saved', 'unsafe', 'safe'].includes(k));
    const u = kinds.indexOf('unsafe');
    const s = kinds.indexOf('safe');
    assert.ok(u > 0 && s === u + 1, `nothing between unsafe and safe: ${kinds.join(' ')}`);
    assert.equal(kinds.slice(0, u).filter((k) => k === 'saved').length, 2, 'two frames before the clouds');
    const unsafe = events.find((e) => e.kind === 'unsafe');
    assert.ok(unsafe?.kind === 'unsafe' && unsafe.action === 'wait' && unsafe.frame.index === 2);
    const safe = events.find((e) => e.kind === 'safe');
    assert.ok(safe?.kind === 'safe' && safe.waitedS >= 3, `waited three polls of 1 s (${safe?.kind === 'safe' ? safe.waitedS : '?'} s)`);
  } finally {
    close();
    d.close();
  }
});

test('unsafe over Alpaca, action park: the telescope parks (AtPark) and the sequence ends with the frames taken before', async () => {
  const d = await openDevice(`alpaca://127.0.0.1:${port}/0`);
  const { monitor, close } = await openSafety(`alpaca://127.0.0.1:${port}/0`);
  const safety = scripted(monitor, 2);
  const events: SequenceEvent[] = [];
  try {
    assert.ok(d.mount, 'the Alpaca telescope is a goto mount');
    const plan = parsePlan({ base: 'P', safety: { action: 'park' }, groups: [{ filter: 'Luminance', exposure: 1, count: 4 }] });
    const r = await new Sequencer(plan, { camera: d.camera, wheel: d.wheel, clock: d.clock, outDir: outDir(), automation: { safety, mount: d.mount }, onEvent: (e) => events.push(e) }).run();
    assert.equal(r.saved.length, 1, 'one frame before it turned unsafe, none after');
    assert.deepEqual(events.filter((e) => ['unsafe', 'parked'].includes(e.kind)).map((e) => e.kind), ['unsafe', 'parked']);
    assert.equal(events.filter((e) => e.kind === 'exposing').length, 1);
    const scope = new AlpacaTelescope({ host: '127.0.0.1', port, number: 0 });
    assert.equal(await scope.dev.get('atpark'), true, 'parked, as the telescope says over Alpaca');
    // a slew unparks it again (Unpark, then SlewToCoordinatesAsync)
    await scope.slewTo(83.8, -5.4);
    assert.equal(await scope.dev.get('atpark'), false);
  } finally {
    await switchbox.action('SetSafe', '');
    close();
    d.close();
  }
});

test('darkroom sequence --device alpaca:// with the plan key safety.device: unsafe from the start (alpaca-sim --unsafe), action abort: no frame', async () => {
  const { proc, port: p2 } = await startAlpacaSim(100, ['--unsafe', '0-10000']);
  try {
    const dir = outDir();
    const planFile = join(dir, 'plan.json');
    writeFileSync(planFile, JSON.stringify({ base: 'A', safety: { action: 'abort', device: `alpaca://127.0.0.1:${p2}/0` }, groups: [{ filter: 'Luminance', exposure: 1, count: 3 }] }));
    const r = runCli(['sequence', planFile, '--device', `alpaca://127.0.0.1:${p2}/0`, '--out', join(dir, 'out'), '--json']);
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout) as { saved: string[]; stop?: string };
    assert.deepEqual([j.saved.length, j.stop], [0, 'unsafe']);
    assert.match(r.stderr, /unsafe before frame 1: sequence ended/);
    // --safety names it on the command line; the same verdict
    const r2 = runCli(['sequence', planFile, '--device', `alpaca://127.0.0.1:${port}/0`, '--safety', `alpaca://127.0.0.1:${p2}/0`, '--out', join(dir, 'out2'), '--json']);
    assert.equal(r2.code, 0, r2.stderr);
    assert.equal((JSON.parse(r2.stdout) as { saved: string[] }).saved.length, 0);
    // and the safe monitor of the first server lets every frame through
    const r3 = runCli(['sequence', planFile, '--device', `alpaca://127.0.0.1:${port}/0`, '--safety', `alpaca://127.0.0.1:${port}/0`, '--out', join(dir, 'out3'), '--json']);
    assert.equal(r3.code, 0, r3.stderr);
    assert.equal((JSON.parse(r3.stdout) as { saved: string[] }).saved.length, 3);
  } finally {
    await stopAlpacaSim(proc);
  }
});
