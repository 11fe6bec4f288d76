// `darkroom alpaca-sim` as a rig that remembers: its camera keeps a client's settings in a file across a
// restart of the server (--settings FILE, else DARKROOM_SIM_SETTINGS, as --device sim), and its filter
// wheel reports the per-filter focus offsets it was given (--focus-offsets) as Alpaca FocusOffsets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, useTempDir } from '../helpers/env.js';
import { startAlpacaSim, stopAlpacaSim } from '../helpers/alpaca-sim.js';
import { AlpacaCamera, AlpacaFilterWheel } from '../../src/devices/alpaca/client.js';

interface Body {
  Value?: unknown;
  ErrorNumber: number;
}
async function get(port: number, path: string): Promise<Body> {
  return (await fetch(`http://127.0.0.1:${port}/api/v1/${path}?ClientID=5`)).json() as Promise<Body>;
}
async function put(port: number, path: string, form: Record<string, string>): Promise<Body> {
  const r = await fetch(`http://127.0.0.1:${port}/api/v1/${path}`, { method: 'PUT', body: new URLSearchParams({ ClientID: '5', ...form }).toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  assert.equal(r.status, 200);
  return r.json() as Promise<Body>;
}

test('alpaca-sim --settings FILE: a client\'s camera settings survive a restart of the server', async (t) => {
  const file = join(useTempDir(t), 'rig', 'camera.json');
  let { proc, port } = await startAlpacaSim(60, ['--settings', file]);
  try {
    assert.equal((await put(port, 'camera/0/connected', { Connected: 'True' })).ErrorNumber, 0);
    // fresh file: the defaults
    assert.equal((await get(port, 'camera/0/gain')).Value, 0);
    assert.equal((await put(port, 'camera/0/action', { Action: 'FanMode', Parameters: '' })).Value, 'full');
    // set through plain Alpaca (Gain, ReadoutMode, Action) and through our client
    assert.equal((await put(port, 'camera/0/gain', { Gain: '1' })).ErrorNumber, 0);
    assert.equal((await put(port, 'camera/0/readoutmode', { ReadoutMode: '1' })).ErrorNumber, 0);
    assert.equal((await put(port, 'camera/0/action', { Action: 'FanMode', Parameters: 'quiet' })).ErrorNumber, 0);
    const client = new AlpacaCamera({ host: '127.0.0.1', port, number: 0 });
    await client.connect();
    await client.setSettings({ preFlush: 4, led: false, pixelMask: [{ x: 10, y: 20 }, { x: 30, y: 40 }] });
    await stopAlpacaSim(proc);
    assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')), { fanMode: 'quiet', gain: 'low', shutterPriority: 'mechanical', antiBlooming: true, preFlush: 4, readout: 'speed', led: false, beeper: true, pixelMask: [{ x: 10, y: 20 }, { x: 30, y: 40 }] });

    ({ proc, port } = await startAlpacaSim(60, ['--settings', file]));
    assert.equal((await put(port, 'camera/0/connected', { Connected: 'True' })).ErrorNumber, 0);
    assert.equal((await get(port, 'camera/0/gain')).Value, 1);
    assert.equal((await get(port, 'camera/0/readoutmode')).Value, 1);
    assert.equal((await put(port, 'camera/0/action', { Action: 'FanMode', Parameters: '' })).Value, 'quiet');
    assert.equal((await put(port, 'camera/0/action', { Action: 'PreFlush', Parameters: '' })).Value, '4');
    assert.equal((await put(port, 'camera/0/action', { Action: 'PixelMask', Parameters: '' })).Value, '[[10,20],[30,40]]');
    const again = new AlpacaCamera({ host: '127.0.0.1', port, number: 0 });
    await again.connect();
    const st = await again.settingsState();
    assert.deepEqual(st.settings, { fanMode: 'quiet', gain: 'low', shutterPriority: 'mechanical', antiBlooming: true, preFlush: 4, readout: 'speed', led: false, beeper: true, pixelMask: [{ x: 10, y: 20 }, { x: 30, y: 40 }] });
  } finally {
    await stopAlpacaSim(proc);
  }
});

test('alpaca-sim without --settings keeps them in $DARKROOM_SIM_SETTINGS, the file --device sim uses', async (t) => {
  const file = join(useTempDir(t), 'sim-camera.json');
  let { proc, port } = await startAlpacaSim(60, [], { DARKROOM_SIM_SETTINGS: file });
  try {
    await put(port, 'camera/0/connected', { Connected: 'True' });
    assert.equal((await put(port, 'camera/0/action', { Action: 'Beeper', Parameters: 'False' })).ErrorNumber, 0);
    await stopAlpacaSim(proc);
    assert.ok(existsSync(file));
    // --device sim reads what the Alpaca client set
    const was = process.env.DARKROOM_SIM_SETTINGS;
    process.env.DARKROOM_SIM_SETTINGS = file;
    let r: ReturnType<typeof runCli>;
    try {
      r = runCli(['camera', 'status', '--device', 'sim', '--json']);
    } finally {
      process.env.DARKROOM_SIM_SETTINGS = was;
    }
    assert.equal(r.code, 0, r.stderr);
    assert.equal((JSON.parse(r.stdout) as { settings: { beeper: boolean } }).settings.beeper, false);
    ({ proc, port } = await startAlpacaSim(60, [], { DARKROOM_SIM_SETTINGS: file }));
    await put(port, 'camera/0/connected', { Connected: 'True' });
    assert.equal((await put(port, 'camera/0/action', { Action: 'Beeper', Parameters: '' })).Value, 'False');
  } finally {
    await stopAlpacaSim(proc);
  }
});

test('alpaca-sim --focus-offsets: the filter wheel\'s FocusOffsets, per slot (unlisted filters 0; none given: all 0)', async () => {
  let { proc, port } = await startAlpacaSim(60, ['--focus-offsets', 'Red=12, green=-30,Empty=+7']);
  try {
    await put(port, 'filterwheel/0/connected', { Connected: 'True' });
    assert.deepEqual((await get(port, 'filterwheel/0/names')).Value, ['Red', 'Green', 'Blue', 'Luminance', 'Empty']);
    assert.deepEqual((await get(port, 'filterwheel/0/focusoffsets')).Value, [12, -30, 0, 0, 7]);
    const wheel = new AlpacaFilterWheel({ host: '127.0.0.1', port, number: 0 });
    await wheel.connect();
    assert.deepEqual(await wheel.focusOffsets(), [12, -30, 0, 0, 7]);
    await stopAlpacaSim(proc);
    ({ proc, port } = await startAlpacaSim(60));
    await put(port, 'filterwheel/0/connected', { Connected: 'True' });
    assert.deepEqual((await get(port, 'filterwheel/0/focusoffsets')).Value, [0, 0, 0, 0, 0]);
  } finally {
    await stopAlpacaSim(proc);
  }
});

test('alpaca-sim --focus-offsets: a bad list is one line, exit 2', () => {
  const cases: [string, string][] = [
    ['Red=12,Halpha=3', "darkroom: --focus-offsets: no filter named 'Halpha' (have: Red, Green, Blue, Luminance, Empty) (e.g. Red=12,Green=-30)"],
    ['Red=1.5', "darkroom: --focus-offsets: 'Red=1.5' is not NAME=STEPS (e.g. Red=12,Green=-30)"],
    ['Red=1,red=2', 'darkroom: --focus-offsets: Red is given twice (e.g. Red=12,Green=-30)'],
    ['Blue=200000', 'darkroom: --focus-offsets: Blue: 200000 steps is beyond +-100000 (e.g. Red=12,Green=-30)'],
  ];
  for (const [arg, err] of cases) {
    const r = runCli(['alpaca-sim', '--port', '0', '--discovery-port', 'off', '--focus-offsets', arg]);
    assert.equal(r.code, 2, `${arg}: ${r.stderr}`);
    assert.equal(r.stderr.trim(), err);
  }
});
