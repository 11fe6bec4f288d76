// GET/POST /api/camera/settings on the simulator through fastify inject(): the settings, capabilities and
// conditions; a change answered with the new state and kept in the simulated camera's file; bad values 400.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileTempDir } from '../helpers/env.js';
import { buildServer, type DarkroomServer } from '../../src/server/app.js';

let s: DarkroomServer;
const root = fileTempDir('darkroom-camset-');
const file = join(root, 'sim-camera.json');
const call = (method: 'GET' | 'POST', url: string, payload?: unknown) =>
  s.app.inject({ method, url, payload: payload as object | undefined, headers: method === 'POST' ? { 'content-type': 'application/json' } : {} });

before(async () => {
  process.env.DARKROOM_SIM_SETTINGS = file;
  s = await buildServer({ roots: [root], webDir: null, simSpeed: 600 });
});
after(async () => {
  await s.app.close();
});

test('camera settings: 409 before connecting; read, change, refuse bad values; the change is kept', async () => {
  assert.equal((await call('GET', '/api/camera/settings')).statusCode, 409);
  assert.equal((await call('POST', '/api/devices/connect', { spec: 'sim' })).statusCode, 200);
  let r = await call('GET', '/api/camera/settings');
  assert.equal(r.statusCode, 200, r.body);
  assert.deepEqual(r.json().settings, { fanMode: 'full', gain: 'high', shutterPriority: 'mechanical', antiBlooming: true, preFlush: 2, readout: 'quality', led: true, beeper: true, pixelMask: [] });
  assert.deepEqual(r.json().conditions, []);
  assert.deepEqual(r.json().capabilities.preFlushCycles, [0, 1, 2, 4, 8]);
  r = await call('POST', '/api/camera/settings', { fanMode: 'quiet', antiBlooming: 'off', preFlush: 8, pixelMask: [{ x: 7, y: 9 }] });
  assert.equal(r.statusCode, 200, r.body);
  assert.deepEqual(r.json().settings, { fanMode: 'quiet', gain: 'high', shutterPriority: 'mechanical', antiBlooming: false, preFlush: 8, readout: 'quality', led: true, beeper: true, pixelMask: [{ x: 7, y: 9 }] });
  assert.ok(existsSync(file));
  assert.equal(JSON.parse(readFileSync(file, 'utf8')).preFlush, 8);
  const bad: [unknown, RegExp][] = [
    [{ fanMode: 'loud' }, /fanMode/],
    [{ preFlush: 3 }, /pre-exposure flush must be one of 0, 1, 2, 4, 8, got '3'/],
    [{ shutterPriority: 'electronic' }, /shutter priority must be one of mechanical/],
    [{ pixelMask: [{ x: -1, y: 0 }] }, /pixelMask/],
    [{ turbo: true }, /turbo|unrecognized/i],
    [{}, /give at least one setting/],
  ];
  for (const [body, msg] of bad) {
    r = await call('POST', '/api/camera/settings', body);
    assert.equal(r.statusCode, 400, `${JSON.stringify(body)}: ${r.body}`);
    assert.match(r.json().message, msg);
  }
});

test('the console\'s sequence status says what a camera error did: paused, resumed, stopped', async () => {
  const { applySequenceEvent } = await import('../../src/server/runners/sequence.js');
  const { condition } = await import('../../src/devices/camera-settings.js');
  const st = { state: 'running', base: 'b', object: '', out: '', total: 3, current: 1, saved: [] } as unknown as Parameters<typeof applySequenceEvent>[0];
  applySequenceEvent(st, { kind: 'camera-condition', condition: condition('supply-low', '10.4 V', 10.4), action: 'pause' });
  assert.deepEqual([st.state, st.phase], ['paused', 'camera soft error 103: supply voltage below 11 V: cooler off (10.4 V): paused until it clears']);
  applySequenceEvent(st, { kind: 'condition-cleared', condition: condition('supply-low'), waitedS: 600 });
  assert.deepEqual([st.state, st.phase], ['running', 'camera supply-low cleared after 600 s: resuming']);
  applySequenceEvent(st, { kind: 'camera-condition', condition: condition('usb'), action: 'abort' });
  assert.equal(st.error, 'camera hard error 203: USB communication failure: sequence stopped');
});
