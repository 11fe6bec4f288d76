// The console's sequences get the night automation `darkroom sequence` gets: the autofocus triggers of a
// plan run with the connected focuser (the simulator's starts 100 steps out of focus), each in the
// sequence's phase; plan keys whose device the rig lacks (centring without a goto mount) end the sequence
// with the sequencer's words before any frame is taken.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileTempDir } from '../helpers/env.js';
import { buildServer, type DarkroomServer } from '../../src/server/app.js';

let s: DarkroomServer;
type M = 'GET' | 'POST';
const call = (method: M, url: string, payload?: unknown) =>
  s.app.inject({ method, url, payload: payload as object | undefined, headers: method === 'POST' ? { 'content-type': 'application/json' } : {} });

after(async () => {
  await s.app.close();
});
const root = fileTempDir('darkroom-seq-auto-');
before(async () => {
  s = await buildServer({ roots: [root], webDir: null, simSpeed: 600, guideSpeed: 50 });
  assert.equal((await call('POST', '/api/devices/connect', { spec: 'sim' })).statusCode, 200);
});

test('a console sequence runs the plan\'s autofocus triggers with the connected focuser', async () => {
  const focuser = s.devices.opened().focuser!;
  const before = await focuser.position();
  assert.ok(Math.abs(before - 24_900) <= 1, `the simulator's focuser starts at ${before}`);
  const plan = { base: 'af', autofocus: { atStart: true }, groups: [{ type: 'light', filter: 'Luminance', exposure: 2, count: 2, suffix: 'L' }] };
  const r = await call('POST', '/api/sequence/start', { plan, out: 'af' });
  assert.equal(r.statusCode, 202, r.body);
  await s.acquire.sequenceEnded();
  const st = (await call('GET', '/api/sequence/status')).json();
  assert.equal(st.state, 'done', st.error);
  assert.equal(st.saved.length, 2);
  const after = await focuser.position();
  // the V-curve's minimum is the simulator's best focus, 25000
  assert.ok(Math.abs(after - 25_000) <= 24, `focuser at ${after} after the sequence's autofocus (from ${before})`);
});

test('a console sequence whose plan needs a goto mount the rig lacks stops in words, no frame taken', async () => {
  const plan = { base: 'c', target: { ra: 10.68, dec: 41.27 }, center: {}, groups: [{ type: 'light', filter: 'Luminance', exposure: 2, count: 2, suffix: 'L' }] };
  const r = await call('POST', '/api/sequence/start', { plan, out: 'c' });
  assert.equal(r.statusCode, 202, r.body);
  await s.acquire.sequenceEnded();
  const st = (await call('GET', '/api/sequence/status')).json();
  assert.equal(st.state, 'failed');
  assert.match(st.error, /the plan has center but no mount is connected/);
  assert.ok(!existsSync(join(root, 'c')) || readdirSync(join(root, 'c')).length === 0);
});
