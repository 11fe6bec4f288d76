/**
 * A step's warning reaches the console's WebSocket while the run goes: POST /api/processing/run (inject),
 * and on /api/ws (injectWS) the master bias step's warning (3 bias frames: winsorized rejection falls
 * back) arrives as a 'warning' event with source 'processing' and its step, before that step's
 * run-progress and before the run's end; every warning of the report is sent once, none twice.
 */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { WebSocket } from 'ws';
import { fileTempDir } from '../helpers/env.js';
import { buildServer, type DarkroomServer } from '../../src/server/app.js';
import { simulateDemoNight } from '../../src/acquire/demo-night.js';

let s: DarkroomServer;
const root = fileTempDir('darkroom-stepwarn-');

before(async () => {
  simulateDemoNight(join(root, 'night'), { width: 128, height: 96, lightsPerFilter: 4, filters: ['L'], bias: 3, darks: 5, flatsPerFilter: 5 });
  s = await buildServer({ roots: [root], webDir: null, simSpeed: 600 });
  await s.app.ready(); // injectWS does not wait for the plugins as inject() does
});

after(async () => {
  await s?.app.close();
});

type InjectWS = (url: string, ctx: { headers: Record<string, string> }, o: { onInit: (w: WebSocket) => void }) => Promise<WebSocket>;

test('a step\'s warning is sent on the WebSocket as it is raised, with its step; the end of the run repeats none', async () => {
  const messages: Array<Record<string, any>> = [];
  let ended!: () => void;
  const end = new Promise<void>((res) => (ended = res));
  const sock = await (s.app as unknown as { injectWS: InjectWS }).injectWS('/api/ws', { headers: { host: '127.0.0.1:18712' } }, {
    onInit: (w) =>
      w.on('message', (m) => {
        const ev = JSON.parse(String(m)) as Record<string, any>;
        messages.push(ev);
        if (ev.type === 'run' && ev.status.state !== 'running') ended();
      }),
  });
  try {
    const r = await s.app.inject({ method: 'POST', url: '/api/processing/run', payload: { night: 'night', options: { solve: false } }, headers: { 'content-type': 'application/json' } });
    assert.equal(r.statusCode, 202, r.body);
    await end;
  } finally {
    sock.terminate();
  }
  const st = s.processing.status()!;
  assert.equal(st.state, 'done', st.error);
  const warnings = messages.filter((m) => m.type === 'warning') as Array<{ code: string; message: string; file?: string }>;
  const i = messages.findIndex((m) => m.type === 'warning' && /^masters\/master_bias_.*\.fits$/.test(m.file ?? ''));
  assert.ok(i >= 0, `no warning about the master bias: ${JSON.stringify(warnings)}`);
  const w = messages[i]!;
  assert.equal(w.source, 'processing');
  assert.equal(w.code, 'STEP_WARNING');
  assert.match(w.message, /^winsorized rejection needs at least 4 frames \(got 3\)/);
  const bias = st.report!.steps.find((x) => /^master:bias/.test(x.id))!.id;
  const stepDone = messages.findIndex((m) => m.type === 'run-progress' && m.step === bias);
  const stackDone = messages.findIndex((m) => m.type === 'run-progress' && /^integrate:/.test(m.step));
  const runEnd = messages.findIndex((m) => m.type === 'run' && m.status.state === 'done');
  assert.ok(i < stepDone && stepDone < stackDone && stackDone < runEnd, `warning ${i}, its step done ${stepDone}, stack done ${stackDone}, run end ${runEnd}`);
  assert.equal(w.step, bias, 'the warning names its step');
  // the report's warnings, each sent once (the plan's at the start, the steps' as raised)
  const key = (x: { code: string; message: string; file?: string }): string => `${x.code}|${x.message}|${x.file ?? ''}`;
  assert.deepEqual(warnings.map(key).sort(), st.report!.warning_events.map(key).sort());
  assert.equal(new Set(warnings.map(key)).size, warnings.length, 'no warning sent twice');
});
