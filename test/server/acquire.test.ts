/**
 * Acquisition routes through fastify inject() on the simulator: the sequence editor's estimate (hand-computed
 * answer), a 2-group sequence written to disk (files, headers, order), pause/resume/abort, and every refusal
 * (17 groups, output folder outside the roots, start while a sequence runs, manual exposure while it runs,
 * no camera); autofocus finds the simulated focuser's true best position; guiding calibrates to the simulated
 * mount's known rates and angle and reports RMS in px and arcsec.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileTempDir, fitsverify } from '../helpers/env.js';
import { buildServer, type DarkroomServer } from '../../src/server/app.js';
import { readFits } from '../../src/fits/index.js';

let s: DarkroomServer;

type M = 'GET' | 'POST';
// state-changing requests must be JSON (security.ts): a POST without a body sends an empty JSON one
const call = (method: M, url: string, payload?: unknown) =>
  s.app.inject({ method, url, payload: payload as object | undefined, headers: method === 'POST' ? { 'content-type': 'application/json' } : {} });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(what: string, f: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await f())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

// 2 groups: Red 30 s x2 bin 1 with a 5 s delay, Green 60 s x2 bin 2; cycle order R G R G
const PLAN = {
  base: 'M42',
  object: 'M 42',
  order: 'cycle',
  groups: [
    { type: 'light', filter: 'Red', exposure: 30, binning: 1, count: 2, suffix: 'R', delay: 5 },
    { type: 'light', filter: 'Green', exposure: 60, binning: 2, count: 2, suffix: 'G' },
    { type: 'dark', exposure: 10, count: 3, active: false },
  ],
};

after(async () => {
  await s.app.close();
});

// Removed after the server is closed (hooks run in the order they are registered).
const root = fileTempDir('darkroom-acq-');
const outside = fileTempDir('darkroom-acq-outside-');

before(async () => {
  s = await buildServer({ roots: [root], webDir: null, simSpeed: 600, guideSpeed: 50 });
});

test('sequence estimate: hand-computed durations without and with the simulator; 17 groups refused', async () => {
  // no camera: unknown wheel, every filter frame costs one slot (0.4 s); readout 1 s / binning
  let r = await call('POST', '/api/sequence/estimate', { plan: PLAN });
  assert.equal(r.statusCode, 200, r.body);
  let e = r.json();
  assert.equal(e.timing, 'default');
  assert.equal(e.frames, 4);
  assert.equal(e.estimate.exposureS, 180);
  assert.equal(e.estimate.downloadS, 3);
  assert.ok(Math.abs(e.estimate.filterS - 1.6) < 1e-9);
  assert.equal(e.estimate.delayS, 10);
  assert.ok(Math.abs(e.estimate.totalS - 194.6) < 1e-9);
  assert.ok(e.lines.some((l: string) => /estimated duration 3m15s/.test(l)), e.lines.join('\n'));
  // the simulator: wheel at Luminance (slot 3): L->R 2 slots, R->G 1, G->R 1, R->G 1 = 5 x 0.4 s
  assert.equal((await call('POST', '/api/devices/connect', { spec: 'sim' })).statusCode, 200);
  e = (await call('POST', '/api/sequence/estimate', { plan: PLAN })).json();
  assert.equal(e.timing, 'camera');
  assert.ok(Math.abs(e.estimate.filterS - 2.0) < 1e-9, String(e.estimate.filterS));
  assert.ok(Math.abs(e.estimate.totalS - 195) < 1e-9);
  // group order: R R G G: L->R 2, R->G 1
  e = (await call('POST', '/api/sequence/estimate', { plan: { ...PLAN, order: 'group' } })).json();
  assert.ok(Math.abs(e.estimate.filterS - 1.2) < 1e-9);
  // 17 groups
  const g = { exposure: 1, count: 1 };
  r = await call('POST', '/api/sequence/estimate', { plan: { groups: Array.from({ length: 17 }, () => g) } });
  assert.equal(r.statusCode, 400);
  assert.match(r.json().message, /plan\.groups: .*16/);
  r = await call('POST', '/api/sequence/start', { plan: { groups: Array.from({ length: 17 }, () => g) }, out: 'seq' });
  assert.equal(r.statusCode, 400);
  assert.match(r.json().message, /plan\.groups: .*16/);
  // a bad field names it
  r = await call('POST', '/api/sequence/estimate', { plan: { groups: [{ exposure: -1, count: 1 }] } });
  assert.equal(r.statusCode, 400);
  assert.match(r.json().message, /plan\.groups\.0\.exposure/);
});

test('sequence: runs a 2-group plan on the simulator, writes the frames in cycle order with headers', async () => {
  let r = await call('POST', '/api/sequence/start', { plan: PLAN, out: join(outside, 'x') });
  assert.equal(r.statusCode, 403);
  assert.match(r.json().message, /outside the served roots/);
  r = await call('POST', '/api/sequence/start', { plan: PLAN, out: '../escape' });
  assert.equal(r.statusCode, 403);
  r = await call('POST', '/api/sequence/start', { plan: { groups: [{ filter: 'Halpha', exposure: 1, count: 1 }] }, out: 'seq' });
  assert.equal(r.statusCode, 400);
  assert.match(r.json().message, /no filter named 'Halpha'/);
  r = await call('POST', '/api/sequence/start', { plan: PLAN, out: 'seq/night1' });
  assert.equal(r.statusCode, 202, r.body);
  assert.equal(r.json().total, 4);
  await s.acquire.sequenceEnded();
  const st = (await call('GET', '/api/sequence/status')).json();
  assert.equal(st.state, 'done', st.error);
  assert.equal(st.current, 4);
  assert.equal(st.saved.length, 4);
  assert.equal(st.currentFile, st.saved[3].path);
  const dir = join(root, 'seq/night1');
  assert.deepEqual(readdirSync(dir).sort(), ['M42-001-R30.fit', 'M42-002-G60.fit', 'M42-003-R30.fit', 'M42-004-G60.fit']);
  const hdrs = st.saved.map((f: { path: string }) => readFits(f.path).header);
  assert.deepEqual(hdrs.map((h: any) => h.getString('FILTER')), ['Red', 'Green', 'Red', 'Green']);
  assert.deepEqual(hdrs.map((h: any) => h.getNumber('EXPTIME')), [30, 60, 30, 60]);
  assert.deepEqual(hdrs.map((h: any) => h.getNumber('XBINNING')), [1, 2, 1, 2]);
  assert.deepEqual(hdrs.map((h: any) => h.getNumber('SEQGROUP')), [1, 2, 1, 2]);
  assert.equal(hdrs[0].getString('OBJECT'), 'M 42');
  assert.equal(readFits(st.saved[1].path).width, 128);
  assert.equal(fitsverify(st.saved[0].path).errors, 0);
  // the saved frames open through the images API
  const info = await call('GET', `/api/images/info?path=${encodeURIComponent(st.saved[0].path)}`);
  assert.equal(info.statusCode, 200);
});

test('sequence: start while running, exposure while running, pause, resume, abort', async () => {
  const long = { base: 'long', groups: [{ type: 'light', filter: 'Luminance', exposure: 120, count: 40, suffix: 'L' }] };
  let r = await call('POST', '/api/sequence/start', { plan: long, out: 'seq/long' });
  assert.equal(r.statusCode, 202, r.body);
  r = await call('POST', '/api/sequence/start', { plan: PLAN, out: 'seq/other' });
  assert.equal(r.statusCode, 409);
  assert.match(r.json().message, /a sequence is already running \('long', frame \d+ of 40\): abort it first/);
  r = await call('POST', '/api/camera/expose', { exposure: 1 });
  assert.equal(r.statusCode, 409);
  assert.match(r.json().message, /the camera is busy: sequence 'long' is running/);
  r = await call('POST', '/api/focus/autofocus', {});
  assert.equal(r.statusCode, 409);
  assert.match(r.json().message, /busy/);
  assert.equal((await call('POST', '/api/sequence/resume')).statusCode, 409);
  assert.equal((await call('POST', '/api/sequence/pause')).statusCode, 200);
  await until('paused', async () => (await call('GET', '/api/sequence/status')).json().state === 'paused');
  const n = (await call('GET', '/api/sequence/status')).json().saved.length;
  await sleep(400); // 240 s of simulated time: nothing is taken while paused
  assert.equal((await call('GET', '/api/sequence/status')).json().saved.length, n);
  assert.equal((await call('POST', '/api/sequence/resume')).statusCode, 200);
  await until('a frame after resuming', async () => (await call('GET', '/api/sequence/status')).json().saved.length > n);
  r = await call('POST', '/api/sequence/abort');
  assert.equal(r.statusCode, 200);
  const st = r.json();
  assert.equal(st.state, 'aborted');
  assert.ok(st.saved.length < 40);
  assert.equal(readdirSync(join(root, 'seq/long')).filter((f) => f.endsWith('.fit')).length, st.saved.length);
  r = await call('POST', '/api/sequence/abort');
  assert.equal(r.statusCode, 409);
  assert.match(r.json().message, /no sequence is running/);
  // the camera is free again
  r = await call('POST', '/api/camera/expose', { exposure: 1, wait: true });
  assert.equal(r.statusCode, 200, r.body);
});

test('focus: the loop measures HFR; autofocus fits the V-curve and lands on the true best focus', async () => {
  const st0 = (await call('GET', '/api/focus/status')).json();
  assert.equal(st0.state, 'idle');
  let r = await call('POST', '/api/focus/move', { position: 25_000 });
  assert.equal(r.statusCode, 200, r.body);
  assert.equal(r.json().position, 25_000);
  assert.equal((await call('POST', '/api/focus/loop', { exposure: 10, count: 2 })).statusCode, 202);
  await s.acquire.focusEnded();
  const inFocus = (await call('GET', '/api/focus/status')).json();
  assert.equal(inFocus.state, 'done', inFocus.error);
  assert.equal(inFocus.loop.length, 2);
  await call('POST', '/api/focus/move', { position: 24_750 });
  await call('POST', '/api/focus/loop', { exposure: 10, count: 2 });
  await s.acquire.focusEnded();
  const out = (await call('GET', '/api/focus/status')).json();
  // model FWHM 3 px at focus, hypot(3, 250 * 2 / (6 * 5.4)) = 15.7 px at 24750: the HFR must grow
  assert.ok(out.loop[0].hfr > 2.5 * inFocus.loop[0].hfr, `${out.loop[0].hfr} vs ${inFocus.loop[0].hfr}`);
  r = await call('POST', '/api/focus/move', { position: 10_000_000 });
  assert.equal(r.statusCode, 400);
  assert.match(r.json().message, /out of range 0\.\.50000/);
  r = await call('POST', '/api/focus/autofocus', { step: 0 });
  assert.equal(r.statusCode, 400);
  assert.match(r.json().message, /step/);
  await call('POST', '/api/focus/move', { position: 24_900 });
  r = await call('POST', '/api/focus/autofocus', { exposure: 10, step: 40, points: 4, metric: 'fwhm' });
  assert.equal(r.statusCode, 202, r.body);
  r = await call('POST', '/api/focus/autofocus', {});
  assert.equal(r.statusCode, 409);
  await s.acquire.focusEnded();
  const af = (await call('GET', '/api/focus/status')).json();
  assert.equal(af.state, 'done', af.error);
  assert.ok(af.points.length >= 9);
  // true best 25000; the critical focus zone of the simulated f/6 optics is 4.88*0.55*36/2 = 48 steps wide
  assert.ok(Math.abs(af.best - 25_000) < 24, `best ${af.best}`);
  assert.equal(af.position, af.best);
  // the fitted minimum FWHM is the simulated seeing (3 px) plus pixel sampling and fitting
  assert.ok(af.fit.min > 2.8 && af.fit.min < 3.8, `fit min ${af.fit.min}`);
});

test('guiding: refused before calibration; calibration matches the mount; guiding reports RMS px and arcsec', async () => {
  let r = await call('POST', '/api/guide/start', {});
  assert.equal(r.statusCode, 409);
  assert.match(r.json().message, /calibrate before guiding/);
  assert.equal((await call('POST', '/api/guide/stop')).statusCode, 409);
  r = await call('POST', '/api/guide/calibrate');
  assert.equal(r.statusCode, 200, r.body);
  const cal = r.json().calibration;
  // SimMount: guide rate 7.52"/s at 1.5"/px = 5.01 px/s on both axes, RA along +x (camera angle 0)
  assert.ok(Math.abs(cal.raRate - 7.52 / 1.5) < 0.5, `RA rate ${cal.raRate}`);
  assert.ok(Math.abs(cal.decRate - 7.52 / 1.5) < 0.5, `Dec rate ${cal.decRate}`);
  assert.ok(Math.abs(cal.cameraAngle) < 5, `angle ${cal.cameraAngle}`);
  r = await call('POST', '/api/guide/start', { exposure: 0 });
  assert.equal(r.statusCode, 400);
  r = await call('POST', '/api/guide/start', { exposure: 2 });
  assert.equal(r.statusCode, 202, r.body);
  assert.equal((await call('POST', '/api/guide/start', {})).statusCode, 409);
  await until('30 guide samples', async () => (await call('GET', '/api/guide/status')).json().samples.length >= 30);
  r = await call('POST', '/api/guide/stop');
  assert.equal(r.statusCode, 200);
  const st = r.json();
  assert.equal(st.state, 'calibrated');
  const ok = st.samples.filter((x: any) => !x.lost);
  // RMS recomputed from the last 100 samples must agree with the reported one, and arcsec = px x 1.5
  const win = ok.slice(-100);
  const rms = Math.sqrt(win.reduce((a: number, x: any) => a + x.ra * x.ra, 0) / win.length);
  assert.ok(Math.abs(rms - st.stats.rmsRa) < 1e-9);
  assert.ok(Math.abs(st.stats.rmsRaArcsec - 1.5 * st.stats.rmsRa) < 1e-9);
  assert.ok(st.stats.rmsTotal < 1, `guiding RMS ${st.stats.rmsTotal} px`);
  assert.ok(st.samples.some((x: any) => x.raPulseMs !== 0 || x.decPulseMs !== 0), 'no corrections were sent');
});

test('no camera: sequence and focus refused with a clear message', async () => {
  await call('POST', '/api/devices/disconnect');
  let r = await call('POST', '/api/sequence/start', { plan: PLAN, out: 'seq/x' });
  assert.equal(r.statusCode, 409);
  assert.match(r.json().message, /no camera connected/);
  r = await call('POST', '/api/focus/loop', {});
  assert.equal(r.statusCode, 409);
  assert.match(r.json().message, /no camera connected/);
  const o = (await call('GET', '/api/openapi.json')).json();
  for (const p of ['/api/sequence/estimate', '/api/sequence/start', '/api/sequence/pause', '/api/sequence/resume', '/api/sequence/abort', '/api/sequence/status', '/api/focus/autofocus', '/api/focus/loop', '/api/guide/calibrate', '/api/guide/start', '/api/guide/stop', '/api/guide/status'])
    assert.ok(o.paths[p], `missing ${p}`);
  const body = o.paths['/api/sequence/start'].post.requestBody.content['application/json'].schema;
  assert.equal(body.properties.plan.properties.groups.maxItems, 16);
});
