// The QSI settings and error conditions over Alpaca: Gains/Gain, ReadoutModes/ReadoutMode and the vendor
// actions (SupportedActions, Action) of our server, driven with plain HTTP and with our client.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { AlpacaServer } from '../../src/devices/alpaca/server.js';
import { AlpacaCamera } from '../../src/devices/alpaca/client.js';
import { simulatedRig, type SimRig } from '../../src/devices/sim/rig.js';
import { sensorModel } from '../../src/devices/sim/sensors.js';
import { AcceleratedClock } from '../../src/devices/types.js';
import { LOW_GAIN_FACTOR } from '../../src/devices/sim/qsi.js';

let server: AlpacaServer<SimRig>;
let rig: SimRig;
let base: string;
let client: AlpacaCamera;
before(async () => {
  rig = simulatedRig({ clock: new AcceleratedClock(600), sensor: sensorModel('kaf8300', { width: 64, height: 48 }) });
  server = new AlpacaServer({ ...rig, discoveryPort: null });
  await server.start(0);
  base = `http://127.0.0.1:${server.port}/api/v1/camera/0`;
  client = new AlpacaCamera({ host: '127.0.0.1', port: server.port, number: 0 });
  await client.connect();
});
after(() => server.close());

interface Body {
  Value?: unknown;
  ErrorNumber: number;
  ErrorMessage: string;
}
async function put(member: string, form: Record<string, string>): Promise<{ status: number; body?: Body; text: string }> {
  const r = await fetch(`${base}/${member}`, { method: 'PUT', body: new URLSearchParams({ ClientID: '3', ClientTransactionID: '9', ...form }).toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  const text = await r.text();
  return { status: r.status, text, body: r.headers.get('content-type')?.startsWith('application/json') ? (JSON.parse(text) as Body) : undefined };
}
async function get(member: string): Promise<Body> {
  return (await fetch(`${base}/${member}?ClientID=3`)).json() as Promise<Body>;
}
const action = (name: string, parameters: string) => put('action', { Action: name, Parameters: parameters });

test('SupportedActions lists the vendor settings; Gains and ReadoutModes name the modes', async () => {
  assert.deepEqual((await get('supportedactions')).Value, ['FanMode', 'ShutterPriority', 'AntiBlooming', 'PreFlush', 'PixelMask', 'LED', 'Beeper', 'ErrorStatus', 'Capabilities']);
  assert.deepEqual((await get('gains')).Value, ['High', 'Low']);
  assert.deepEqual((await get('readoutmodes')).Value, ['Image quality', 'Fast readout']);
});

test('Gain 1 is the low gain mode: ElectronsPerADU x2.6; ReadoutMode 1 is readout speed; bad values 0x401, unparseable 400', async () => {
  const e0 = (await get('electronsperadu')).Value as number;
  assert.equal((await put('gain', { Gain: '1' })).body?.ErrorNumber, 0);
  assert.ok(Math.abs(((await get('electronsperadu')).Value as number) / e0 - LOW_GAIN_FACTOR) < 1e-9);
  assert.equal((await rig.camera.settingsState()).settings.gain, 'low');
  assert.equal((await put('gain', { Gain: '2' })).body?.ErrorNumber, 0x401);
  assert.equal((await put('readoutmode', { ReadoutMode: '1' })).body?.ErrorNumber, 0);
  assert.equal((await get('readoutmode')).Value, 1);
  assert.equal((await rig.camera.settingsState()).settings.readout, 'speed');
  const r = await put('readoutmode', { ReadoutMode: '2' });
  assert.equal(r.body?.ErrorNumber, 0x401);
  assert.match(r.body!.ErrorMessage, /ReadoutMode must be 0\.\.1 \(Image quality, Fast readout\), got 2/);
  assert.equal((await put('readoutmode', { ReadoutMode: 'fast' })).status, 400);
  await put('gain', { Gain: '0' });
  await put('readoutmode', { ReadoutMode: '0' });
});

test('each vendor action reads (empty Parameters) and sets its setting; bad values are 0x401', async () => {
  const cases: [string, string, string, (s: Awaited<ReturnType<typeof rig.camera.settingsState>>['settings']) => unknown, unknown, string][] = [
    ['FanMode', 'full', 'quiet', (s) => s.fanMode, 'quiet', 'loud'],
    ['ShutterPriority', 'mechanical', 'mechanical', (s) => s.shutterPriority, 'mechanical', 'electronic'],
    ['AntiBlooming', 'True', 'False', (s) => s.antiBlooming, false, 'maybe'],
    ['PreFlush', '2', '8', (s) => s.preFlush, 8, '3'],
    ['LED', 'True', 'off', (s) => s.led, false, '2'],
    ['Beeper', 'True', 'False', (s) => s.beeper, false, 'x'],
    ['PixelMask', '[]', '10,11;20,21', (s) => s.pixelMask, [{ x: 10, y: 11 }, { x: 20, y: 21 }], '64,0'],
  ];
  for (const [name, before, set, read, value, badValue] of cases) {
    assert.equal((await action(name, '')).body?.Value, before, `${name} reads`);
    const r = await action(name.toLowerCase(), set);
    assert.equal(r.body?.ErrorNumber, 0, `${name}: ${r.text}`);
    assert.deepEqual(read((await rig.camera.settingsState()).settings), value, `${name} sets`);
    const bad = await action(name, badValue);
    assert.equal(bad.body?.ErrorNumber, 0x401, `${name} ${badValue}: ${bad.text}`);
  }
  assert.equal((await action('PixelMask', '')).body?.Value, '[[10,11],[20,21]]');
  assert.equal((await action('PixelMask', 'none')).body?.Value, '[]');
  const unknown = await action('Flash', '');
  assert.equal(unknown.body?.ErrorNumber, 0x40c);
  assert.equal((await put('action', { Action: 'FanMode' })).status, 400, 'Parameters missing');
  assert.equal((await action('ErrorStatus', 'clear')).body?.ErrorNumber, 0x401, 'read only');
});

test('ErrorStatus reports each condition with its number and severity (soft 101-104, hard 201-203)', async () => {
  const cam = rig.camera;
  const status = async () => JSON.parse((await action('ErrorStatus', '')).body!.Value as string) as { code: string; number: number; severity: string }[];
  assert.deepEqual(await status(), []);
  const clock = rig.clock as AcceleratedClock;
  const seen: [string, number, string][] = [];
  const check = async (set: () => void, clear: () => void, settle = 0) => {
    set();
    clock.advance(settle);
    const s = await status();
    assert.equal(s.length, 1, JSON.stringify(s));
    seen.push([s[0]!.code, s[0]!.number, s[0]!.severity]);
    clear();
    clock.advance(settle);
  };
  await check(() => cam.setAmbient(46), () => cam.setAmbient(20), 20 * 60_000);
  await check(() => cam.setAmbient(-45), () => cam.setAmbient(20), 20 * 60_000);
  await check(() => cam.setSupplyVoltage(10.2), () => cam.setSupplyVoltage(12));
  await check(() => cam.setSupplyVoltage(14.4), () => cam.setSupplyVoltage(12));
  for (const f of ['filter-wheel', 'shutter', 'usb'] as const) await check(() => cam.injectFault(f), () => cam.injectFault(f, false));
  assert.deepEqual(seen, [
    ['over-temperature', 101, 'soft'],
    ['ccd-under-temperature', 102, 'soft'],
    ['supply-low', 103, 'soft'],
    ['supply-high', 104, 'soft'],
    ['filter-wheel', 201, 'hard'],
    ['shutter', 202, 'hard'],
    ['usb', 203, 'hard'],
  ]);
  cam.injectFault('shutter');
  assert.equal((await get('camerastate')).Value, 5, 'CameraState error while a hard error holds');
  assert.equal((await client.conditions())[0]!.message, 'hard error 202: shutter failure');
  cam.injectFault('shutter', false);
});

test('our client: settingsState and setSettings through the server', async () => {
  const st = await client.setSettings({ fanMode: 'off', gain: 'low', readout: 'speed', preFlush: 4, led: true, beeper: true, antiBlooming: true, pixelMask: [{ x: 1, y: 2 }] });
  assert.deepEqual(st.settings, { fanMode: 'off', gain: 'low', shutterPriority: 'mechanical', antiBlooming: true, preFlush: 4, readout: 'speed', led: true, beeper: true, pixelMask: [{ x: 1, y: 2 }] });
  assert.deepEqual(st.settings, (await rig.camera.settingsState()).settings, 'the same as the camera behind the server');
  assert.deepEqual(st.capabilities.shutterPriorities, ['mechanical']);
  await assert.rejects(client.setSettings({ fanMode: 'turbo' as 'off' }), /fan mode must be one of off, quiet, full, got 'turbo' \(Alpaca error 0x401\)/);
  await client.setSettings({ fanMode: 'full', gain: 'high', readout: 'quality', preFlush: 2, pixelMask: [] });
});
