// Focus over ASCOM Alpaca: `darkroom alpaca-sim` serves the simulated camera and a focuser whose position
// blurs the camera's stars (best focus at the focuser's start position); `darkroom focus --device alpaca://`
// autofocuses against it, and so does the web console's focus panel once that camera is connected. The
// guide panel, too, uses the connected camera and mount instead of its own simulated ones.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { runCli, tempDir } from '../helpers/env.js';
import { startAlpacaSim } from '../helpers/alpaca-sim.js';
import { AlpacaFocuser } from '../../src/devices/alpaca/client.js';
import { AlpacaServer } from '../../src/devices/alpaca/server.js';
import { SimFocuser } from '../../src/devices/sim/simfocuser.js';
import { simulatedRig } from '../../src/devices/sim/rig.js';
import { buildServer, type DarkroomServer } from '../../src/server/app.js';

// the simulated focuser's model: best focus and critical focus zone (4.88 lambda F^2 / step size)
const model = new SimFocuser();
const CFZ_HALF = model.criticalFocusZone() / 2;

let sim: ChildProcess;
let port: number;
let focuser: AlpacaFocuser;

before(async () => {
  // the real command, 50 times faster than real time (a 1 s exposure takes 20 ms)
  ({ proc: sim, port } = await startAlpacaSim(50));
  focuser = new AlpacaFocuser({ host: '127.0.0.1', port, number: 0 });
  await focuser.connect();
});
after(() => sim?.kill());

test('darkroom focus --device alpaca:// --auto: autofocus on the simulated focuser ends within its critical focus zone', async () => {
  assert.equal(await focuser.position(), model.best, 'the focuser starts at best focus');
  await focuser.move(model.best + 130);
  const r = runCli(['focus', '--device', `alpaca://127.0.0.1:${port}/0`, '--auto', '--exposure', '0.3', '--step', '40', '--points', '3', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout) as { best: number; position: number; passes: number };
  assert.ok(Math.abs(j.best - model.best) <= CFZ_HALF, `best ${j.best}, truth ${model.best}, CFZ +-${CFZ_HALF.toFixed(1)}`);
  assert.equal(j.position, j.best);
  assert.equal(await focuser.position(), j.best);
  assert.ok(j.passes >= 2, 'the first sweep was off-centre: it re-centred');
});

test('the web console: autofocus on the connected Alpaca focuser; guiding uses the connected camera and mount', async (t) => {
  const dir = tempDir();
  const s: DarkroomServer = await buildServer({ roots: [dir.dir], webDir: null });
  t.after(async () => {
    await s.app.close();
    dir.cleanup();
  });
  const call = (url: string, payload: object = {}) => s.app.inject({ method: 'POST', url, payload, headers: { 'content-type': 'application/json' } });
  let r = await call('/api/devices/connect', { spec: `alpaca://127.0.0.1:${port}/0` });
  assert.equal(r.statusCode, 200, r.body);
  assert.equal((await call('/api/focus/move', { position: model.best - 120 })).statusCode, 200);
  r = await call('/api/focus/autofocus', { exposure: 0.3, step: 40, points: 4 });
  assert.equal(r.statusCode, 202, r.body);
  await s.acquire.focusEnded();
  const st = (await s.app.inject({ method: 'GET', url: '/api/focus/status' })).json() as { state: string; best: number; position: number; error?: string };
  assert.equal(st.state, 'done', st.error);
  assert.ok(Math.abs(st.best - model.best) <= CFZ_HALF, `best ${st.best}, truth ${model.best}`);
  assert.equal(await focuser.position(), st.best, 'the Alpaca focuser was moved');

  // guiding takes the connected camera: refused while an exposure holds it (the simulated guide rig would not care)
  const guideStatus = async () => (await s.app.inject({ method: 'GET', url: '/api/guide/status' })).json() as { source: string };
  assert.equal((await guideStatus()).source, `camera and mount of alpaca://127.0.0.1:${port}/0`);
  r = await call('/api/camera/expose', { type: 'light', exposure: 100 });
  assert.equal(r.statusCode, 202, r.body);
  r = await call('/api/guide/calibrate');
  assert.equal(r.statusCode, 409, r.body);
  assert.match(r.json().message, /the camera is busy: an exposure is in progress/);
  await call('/api/camera/abort');

  // a camera whose server has no mount: no guiding
  const bare = new AlpacaServer({ camera: simulatedRig().camera, discoveryPort: null });
  await bare.start(0);
  t.after(() => bare.close());
  assert.equal((await call('/api/devices/connect', { spec: `alpaca://127.0.0.1:${bare.port}/0` })).statusCode, 200);
  r = await call('/api/guide/calibrate');
  assert.equal(r.statusCode, 409, r.body);
  assert.match(r.json().message, /no mount that can pulse-guide on the connected device alpaca:\/\/127\.0\.0\.1:\d+\/0/);
  assert.equal((await guideStatus()).source, `no mount that can pulse-guide on alpaca://127.0.0.1:${bare.port}/0`);
});
