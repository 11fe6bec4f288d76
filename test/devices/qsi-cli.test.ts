// `darkroom camera set` / `camera status` with the QSI settings, on --device sim (settings kept in the
// simulated camera's file) and over Alpaca (our alpaca-sim in its own process).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { runCli, fileTempDir } from '../helpers/env.js';
import { startAlpacaSim } from '../helpers/alpaca-sim.js';
import { readFits } from '../../src/fits/index.js';
import { LOW_GAIN_FACTOR } from '../../src/devices/sim/qsi.js';
import { sensorModel } from '../../src/devices/sim/sensors.js';

const tmp = fileTempDir();
let proc: ChildProcess;
let port = 0;
before(async () => {
  process.env.DARKROOM_SIM_SETTINGS = join(tmp, 'sim-camera.json');
  ({ proc, port } = await startAlpacaSim(60));
});
after(() => {
  proc.kill('SIGTERM');
});

test('camera set --device sim: kept by the simulated camera across commands; status prints every setting and the conditions', () => {
  let r = runCli(['camera', 'set', '--device', 'sim', '--fan', 'quiet', '--gain', 'low', '--pre-flush', '4', '--readout', 'speed', '--led', 'off', '--beeper', 'off', '--anti-blooming', 'off', '--mask', '10,20;30,40', '--json']);
  assert.equal(r.code, 0, r.stderr);
  r = runCli(['camera', 'status', '--device', 'sim', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const st = JSON.parse(r.stdout) as { settings: Record<string, unknown>; conditions: unknown[]; capabilities: { fanModes: string[] } };
  assert.deepEqual(st.settings, { fanMode: 'quiet', gain: 'low', shutterPriority: 'mechanical', antiBlooming: false, preFlush: 4, readout: 'speed', led: false, beeper: false, pixelMask: [{ x: 10, y: 20 }, { x: 30, y: 40 }] });
  assert.deepEqual(st.conditions, []);
  assert.deepEqual(st.capabilities.fanModes, ['off', 'quiet', 'full']);
  r = runCli(['camera', 'status', '--device', 'sim']);
  assert.equal(r.code, 0, r.stderr);
  for (const line of ['fan: quiet', 'gain: low', 'shutter priority: mechanical', 'anti-blooming: off', 'pre-exposure flush: 4 cycles', 'readout: readout speed', 'LED: off, beeper: off', 'pixel mask: 2 pixels (10,20;30,40)', 'conditions: none']) {
    assert.ok(r.stdout.split('\n').includes(line), `'${line}' in:\n${r.stdout}`);
  }
  // the frames follow: low gain e-/ADU in EGAIN, the readout mode in READOUTM
  const out = join(tmp, 'low.fits');
  r = runCli(['camera', 'expose', '--device', 'sim', '--type', 'bias', '--exposure', '0', '-o', out]);
  assert.equal(r.code, 0, r.stderr);
  const h = readFits(out).header;
  assert.ok(Math.abs(h.getNumber('EGAIN')! - sensorModel('kaf8300').gain * LOW_GAIN_FACTOR) < 1e-4);
  assert.equal(h.getString('READOUTM'), 'Fast readout');
  r = runCli(['camera', 'set', '--device', 'sim', '--mask', 'none', '--gain', 'high']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^pixel mask: none$/m);
});

test('camera set: bad values are one line naming the option or the device, exit 2', () => {
  const cases: [string[], string][] = [
    [['--fan', 'loud'], "darkroom: sim: --fan: unknown value 'loud' (choose off, quiet, full)"],
    [['--pre-flush', '3'], "darkroom: sim: pre-exposure flush must be one of 0, 1, 2, 4, 8, got '3'"],
    [['--shutter', 'electronic'], "darkroom: sim: shutter priority must be one of mechanical, got 'electronic'"],
    [['--mask', '1,2;x'], "darkroom: sim: --mask: 'x' is not a pixel x,y (e.g. 120,45;300,17)"],
    [['--mask', '256,0'], 'darkroom: sim: masked pixel 256,0 outside the 256x192 sensor'],
    [[], 'darkroom: camera set: give at least one setting (--fan, --gain, --shutter, --anti-blooming, --pre-flush, --readout, --led, --beeper, --mask)'],
  ];
  for (const [args, err] of cases) {
    const r = runCli(['camera', 'set', '--device', 'sim', ...args]);
    assert.equal(r.code, 2, r.stdout);
    assert.equal(r.stderr.trim(), err);
  }
});

test('camera set / status over Alpaca: the vendor actions, Gain and ReadoutMode of the server', () => {
  const dev = `alpaca://127.0.0.1:${port}/0`;
  let r = runCli(['camera', 'set', '--device', dev, '--readout', 'speed', '--anti-blooming', 'off', '--fan', 'off', '--gain', 'low', '--mask', '5,6', '--json']);
  assert.equal(r.code, 0, r.stderr);
  r = runCli(['camera', 'status', '--device', dev, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const st = JSON.parse(r.stdout) as { settings: Record<string, unknown> };
  assert.deepEqual(st.settings, { fanMode: 'off', gain: 'low', shutterPriority: 'mechanical', antiBlooming: false, preFlush: 2, readout: 'speed', led: true, beeper: true, pixelMask: [{ x: 5, y: 6 }] });
  r = runCli(['camera', 'set', '--device', dev, '--fan', 'full', '--pre-flush', '5']);
  assert.equal(r.code, 2);
  assert.match(r.stderr.trim(), /^darkroom: alpaca:\/\/127\.0\.0\.1:\d+\/camera\/0: action PreFlush: pre-exposure flush must be one of 0, 1, 2, 4, 8, got '5' \(Alpaca error 0x401\)$/);
});
