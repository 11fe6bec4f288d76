/**
 * The server's parts on their own: one route plugin registered on a bare fastify and driven with inject()
 * (its routes documented once each in the route table), the sequence status as sequencer events update it,
 * and the background job of a runner releasing the camera whether it succeeds or fails.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Fastify from 'fastify';
import { useTempDir } from '../helpers/env.js';
import { Roots } from '../../src/server/roots.js';
import { collectRoutes, type RouteDef } from '../../src/server/route.js';
import { fileRoutes } from '../../src/server/routes/files.js';
import type { ServerContext } from '../../src/server/context.js';
import { applySequenceEvent, type SequenceStatus } from '../../src/server/runners/sequence.js';
import { releaseWhenDone, type SessionCore } from '../../src/server/runners/core.js';
import type { PlannedFrame } from '../../src/acquire/plan.js';

test('a route plugin alone on a bare fastify: inject() answers, each route documented once', async (t) => {
  const dir = useTempDir(t, 'darkroom-routes-');
  mkdirSync(join(dir, 'night'));
  writeFileSync(join(dir, 'a.fits'), '');
  const routes: RouteDef[] = [];
  const app = Fastify();
  collectRoutes(app, routes);
  await app.register(fileRoutes, { roots: new Roots([dir]), routes } as unknown as ServerContext);
  const r = await app.inject({ method: 'GET', url: `/api/files?path=${encodeURIComponent(dir)}` });
  assert.equal(r.statusCode, 200, r.body);
  assert.deepEqual(r.json().entries.map((e: { name: string; type: string; fits: boolean }) => [e.name, e.type, e.fits]), [['night', 'dir', false], ['a.fits', 'file', true]]);
  const bad = await app.inject({ method: 'GET', url: '/api/images/info' });
  assert.equal(bad.statusCode, 400);
  assert.match(bad.json().message, /invalid query: path/);
  assert.deepEqual(routes.map((d) => `${d.method} ${d.url}`), ['GET /api/files', 'GET /api/images/info', 'GET /api/images/pixels', 'GET /api/images/stars']);
  await app.close();
});

test('sequence status follows the sequencer events', () => {
  const frame: PlannedFrame = { index: 2, group: 1, n: 1, type: 'light', filter: 'Red', exposure: 30, binning: 1, suffix: 'R', delay: 0 };
  const s: SequenceStatus = { state: 'cooling', total: 4, current: 0, saved: [] };
  applySequenceEvent(s, { kind: 'cooling', ccdTemp: -3.25, setpoint: -10, power: 80 });
  assert.equal(s.phase, 'cooling: -3.3 C (set point -10 C)');
  applySequenceEvent(s, { kind: 'cooled', ccdTemp: -10, waitedS: 60 });
  assert.equal(s.state, 'running');
  applySequenceEvent(s, { kind: 'exposing', frame });
  assert.deepEqual([s.current, s.phase], [3, 'exposing light 30 s Red (group 2 frame 1)']);
  applySequenceEvent(s, { kind: 'saved', frame, path: '/x/M42_R_001.fits' });
  assert.deepEqual(s.saved, [{ path: '/x/M42_R_001.fits', group: 2, n: 1, type: 'light', filter: 'Red', exposure: 30 }]);
  applySequenceEvent(s, { kind: 'paused' });
  assert.equal(s.state, 'paused');
  applySequenceEvent(s, { kind: 'resumed' });
  assert.deepEqual([s.state, s.phase], ['running', 'resumed']);
});

test('a runner job releases the camera when it ends, done or failed', async () => {
  const holds: (string | null)[] = [];
  const core = { devices: { hold: (w: string | null) => holds.push(w) }, roots: null, emit: () => undefined } as unknown as SessionCore;
  const seen: string[] = [];
  const outcome = { done: (r: number) => seen.push(`done ${r}`), failed: (m: string) => seen.push(`failed ${m}`), ended: () => seen.push('ended') };
  await releaseWhenDone(core, Promise.resolve(7), outcome);
  await releaseWhenDone(core, Promise.reject(new Error('camera gone')), outcome);
  assert.deepEqual(seen, ['done 7', 'ended', 'failed camera gone', 'ended']);
  assert.deepEqual(holds, [null, null]);
});
