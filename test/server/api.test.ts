/**
 * API routes through fastify inject(): devices and camera on the simulator, images (header, stats,
 * binary pixels checked against the FITS file, stars checked against an injected star), files,
 * processing on a tiny simulated night, the OpenAPI document, and every refusal: unknown device,
 * bad exposure, paths outside the roots (absolute, `..`, symlink), and the token.
 */
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileTempDir } from '../helpers/env.js';
import { buildServer, servePolicy, type DarkroomServer } from '../../src/server/app.js';
import { createImage } from '../../src/image/image.js';
import { readFits, writeFits } from '../../src/fits/index.js';
import { simulateDemoNight } from '../../src/acquire/demo-night.js';

let s: DarkroomServer;

type M = 'GET' | 'POST';
// state-changing requests must be JSON (security.ts): a POST without a body sends an empty JSON one
const call = (method: M, url: string, payload?: unknown, headers: Record<string, string> = {}) =>
  s.app.inject({ method, url, payload: payload as object | undefined, headers: method === 'POST' ? { 'content-type': 'application/json', ...headers } : headers });

after(async () => {
  await s.app.close();
});

// Removed after the server is closed (hooks run in the order they are registered).
const root = fileTempDir('darkroom-api-');
const outside = fileTempDir('darkroom-outside-');

before(async () => {
  // a synthetic image with one Gaussian star of known FWHM at (40.3, 25.7) on a flat background
  const img = createImage(80, 60, 1);
  const sigma = 2.5 / 2.3548200450309493;
  for (let y = 0; y < 60; y++)
    for (let x = 0; x < 80; x++) img.data[0]![y * 80 + x] = 1000 + ((x * 7 + y * 13) % 5) + 20000 * Math.exp(-((x - 40.3) ** 2 + (y - 25.7) ** 2) / (2 * sigma * sigma));
  writeFits(join(root, 'star.fits'), img, { bitpix: -32, history: ['test'], keywords: { OBJECT: 'TestStar', EXPTIME: 30 } } as never);
  mkdirSync(join(root, 'sub'));
  writeFileSync(join(outside, 'secret.fits'), 'SIMPLE');
  symlinkSync(outside, join(root, 'escape'));
  symlinkSync(join(outside, 'secret.fits'), join(root, 'sub', 'link.fits'));
  s = await buildServer({ roots: [root], webDir: null, simSpeed: 600 });
});

test('health and OpenAPI document cover every route', async () => {
  const h = await call('GET', '/api/health');
  assert.equal(h.statusCode, 200);
  assert.equal(h.json().auth, 'none');
  const o = (await call('GET', '/api/openapi.json')).json();
  assert.equal(o.openapi, '3.1.0');
  for (const p of ['/api/devices/connect', '/api/camera/expose', '/api/camera/image', '/api/images/pixels', '/api/files', '/api/processing/plan', '/api/processing/run', '/api/processing/results', '/api/ws']) assert.ok(o.paths[p], `missing ${p}`);
  const expose = o.paths['/api/camera/expose'].post.requestBody.content['application/json'].schema;
  assert.deepEqual(expose.properties.type.enum, ['light', 'dark', 'bias', 'flat', 'flatdark']);
  assert.ok(o.paths['/api/images/pixels'].get.responses['200'].content['application/octet-stream']);
  assert.ok(o.paths['/api/images/info'].get.parameters.some((p: { name: string; required: boolean }) => p.name === 'path' && p.required));
});

test('devices: kinds, unknown device, camera calls before connecting', async () => {
  const d = (await call('GET', '/api/devices')).json();
  assert.deepEqual(d.kinds.map((k: { kind: string }) => k.kind), ['sim', 'indi', 'alpaca']);
  assert.equal(d.camera.connected, false);
  const bad = await call('POST', '/api/devices/connect', { spec: 'usb://cam' });
  assert.equal(bad.statusCode, 400);
  assert.match(bad.json().message, /unknown device 'usb:\/\/cam'/);
  const empty = await call('POST', '/api/devices/connect', {});
  assert.equal(empty.statusCode, 400);
  assert.match(empty.json().message, /invalid body: spec/);
  const nc = await call('POST', '/api/camera/expose', { exposure: 1 });
  assert.equal(nc.statusCode, 409);
  assert.match(nc.json().message, /no camera connected/);
  assert.equal((await call('GET', '/api/camera/image')).statusCode, 404);
});

describe('camera on the simulator', () => {
  let c: Awaited<ReturnType<typeof call>>;
  let f: Float32Array;
  before(async () => {
    c = await call('POST', '/api/devices/connect', { spec: 'sim' });
  });

  test('connect: the camera and its filters', () => {
    assert.equal(c.statusCode, 200, c.body);
    assert.equal(c.json().connected, true);
    assert.deepEqual(c.json().filters, ['Red', 'Green', 'Blue', 'Luminance', 'Empty']);
  });

  test('a bad set point and bad exposures are refused with a message naming the field', async () => {
    const sp = await call('POST', '/api/camera/cooler', { on: true, setpoint: -45 });
    assert.equal(sp.statusCode, 400);
    assert.match(sp.json().message, /set point -45 C out of range -40\.\.50 C/);
    for (const [body, re] of [
      [{ exposure: -1 }, /exposure: Too small/i],
      [{ exposure: 'ten' }, /exposure: Invalid input/i],
      [{ exposure: 1, type: 'sky' }, /type: Invalid option/i],
      [{ exposure: 1, binning: 1.5 }, /binning/],
      [{ exposure: 1, filter: 'Halpha' }, /no filter named 'Halpha' \(have: Red, Green, Blue, Luminance, Empty\)/],
      [{ exposure: 1, binning: 4 }, /binning 4 exceeds the camera's maximum 3/],
    ] as const) {
      const r = await call('POST', '/api/camera/expose', body);
      assert.equal(r.statusCode, 400, JSON.stringify(body));
      assert.match(r.json().message, re);
    }
  });

  test('cool: the CCD reaches the set point within a few seconds (the clock runs 600x)', async () => {
    const on = await call('POST', '/api/camera/cooler', { on: true, setpoint: -10 });
    assert.equal(on.statusCode, 200);
    assert.equal(on.json().cooler.on, true);
    assert.equal(on.json().cooler.setpoint, -10);
    // the simulator's clock runs 600x: the CCD cools within a few seconds
    let temp = 99;
    for (let i = 0; i < 60 && temp > -5; i++) {
      await new Promise((r) => setTimeout(r, 100));
      temp = (await call('GET', '/api/camera/status')).json().cooler.ccdTemp;
    }
    assert.ok(temp < -5, `CCD still at ${temp} C`);
  });

  test('expose with filter and binning: status, pixels, header, stats, stars', async () => {
    const e = await call('POST', '/api/camera/expose', { type: 'light', exposure: 20, binning: 2, filter: 'Luminance', wait: true });
    assert.equal(e.statusCode, 200, e.body);
    assert.equal(e.json().phase, 'done');
    const st = (await call('GET', '/api/camera/status')).json();
    assert.equal(st.filter, 'Luminance');
    assert.deepEqual(st.lastImage, { id: e.json().id, width: 128, height: 96, channels: 1 });
    const px = await call('GET', '/api/camera/image');
    assert.equal(px.headers['content-type'], 'application/octet-stream');
    assert.equal(px.headers['x-width'], '128');
    assert.equal(px.headers['x-height'], '96');
    assert.equal(px.rawPayload.length, 128 * 96 * 4);
    const info = (await call('GET', '/api/camera/image/info')).json();
    const cards = Object.fromEntries(info.header.map((c: { key: string; value: unknown }) => [c.key, c.value]));
    assert.equal(cards.FILTER, 'Luminance');
    assert.equal(cards.EXPTIME, 20);
    assert.equal(cards.XBINNING, 2);
    f = new Float32Array(px.rawPayload.buffer.slice(px.rawPayload.byteOffset, px.rawPayload.byteOffset + px.rawPayload.length));
    const sorted = Float32Array.from(f).sort();
    assert.equal(info.stats[0].median, (sorted[f.length / 2 - 1]! + sorted[f.length / 2]!) / 2);
    assert.ok(sorted[sorted.length - 1]! > sorted[0]!, 'image is not flat');
    const stars = (await call('GET', '/api/camera/image/stars?max=50')).json();
    assert.ok(stars.count > 0, 'the simulated sky has stars');
  });

  test('save under the root (and not twice, and not outside)', async () => {
    const sv = await call('POST', '/api/camera/image/save', { path: 'sub/L1.fits' });
    assert.equal(sv.statusCode, 200, sv.body);
    const back = readFits(join(root, 'sub/L1.fits'));
    assert.deepEqual(Array.from(back.data[0]!.subarray(0, 100)), Array.from(f.subarray(0, 100)));
    assert.ok(back.header.history().some((h) => h.includes('serve')));
    assert.equal((await call('POST', '/api/camera/image/save', { path: 'sub/L1.fits' })).statusCode, 409);
    assert.equal((await call('POST', '/api/camera/image/save', { path: '../x.fits' })).statusCode, 403);
  });

  test('abort a long exposure started in the background; cooler history; disconnect', async () => {
    const long = await call('POST', '/api/camera/expose', { exposure: 3600 });
    assert.equal(long.statusCode, 202);
    const busy = await call('POST', '/api/camera/expose', { exposure: 1 });
    assert.equal(busy.statusCode, 409);
    assert.match(busy.json().message, /already in progress/);
    const ab = await call('POST', '/api/camera/abort');
    assert.equal(ab.json().phase, 'aborted');
    assert.equal((await call('POST', '/api/camera/abort')).statusCode, 409);
    const hist = (await call('GET', '/api/camera/cooler/history')).json();
    assert.ok(hist.samples.length >= 1);
    const dc = await call('POST', '/api/devices/disconnect');
    assert.equal(dc.json().connected, false);
  });
});

test('images: header, stats, float32 pixels identical to the file, star at its known place and FWHM', async () => {
  const info = await call('GET', '/api/images/info?path=star.fits');
  assert.equal(info.statusCode, 200, info.body);
  const j = info.json();
  assert.equal(j.width, 80);
  assert.ok(j.header.some((c: { key: string; value: unknown }) => c.key === 'OBJECT' && c.value === 'TestStar'));
  const px = await call('GET', `/api/images/pixels?path=${encodeURIComponent(join(root, 'star.fits'))}`);
  assert.equal(px.statusCode, 200);
  assert.equal(px.headers['x-channels'], '1');
  const file = readFits(join(root, 'star.fits'));
  const got = new Float32Array(px.rawPayload.buffer.slice(px.rawPayload.byteOffset, px.rawPayload.byteOffset + px.rawPayload.length));
  assert.deepEqual(Array.from(got), Array.from(file.data[0]!));
  const st = (await call('GET', '/api/images/stars?path=star.fits')).json();
  assert.equal(st.count, 1);
  assert.ok(Math.abs(st.stars[0].x - 40.3) < 0.05 && Math.abs(st.stars[0].y - 25.7) < 0.05, JSON.stringify(st.stars[0]));
  assert.ok(Math.abs(st.medianFwhm - 2.5) < 0.1, `FWHM ${st.medianFwhm}`);
  const nf = await call('GET', '/api/images/info?path=nope.fits');
  assert.equal(nf.statusCode, 404);
  assert.match(nf.json().message, /nope\.fits: no such file/);
  writeFileSync(join(root, 'junk.fits'), 'not a fits file at all');
  const junk = await call('GET', '/api/images/info?path=junk.fits');
  assert.equal(junk.statusCode, 422);
  assert.match(junk.json().message, /junk\.fits/);
  const noq = await call('GET', '/api/images/info');
  assert.equal(noq.statusCode, 400);
  assert.match(noq.json().message, /invalid query: path/);
});

test('files: roots, listing, and no way out (absolute, .., symlinked folder, symlinked file)', async () => {
  const roots = (await call('GET', '/api/files')).json();
  assert.equal(roots.entries[0].path, s.roots.dirs[0]);
  const l = (await call('GET', `/api/files?path=${encodeURIComponent(root)}`)).json();
  assert.ok(l.entries.some((e: { name: string; fits: boolean }) => e.name === 'star.fits' && e.fits));
  assert.equal(l.entries[0].type, 'dir');
  for (const p of ['/etc', '../', 'sub/../../', `${root}/../`, 'escape', 'escape/secret.fits', 'sub/link.fits']) {
    for (const url of [`/api/files?path=${encodeURIComponent(p)}`, `/api/images/info?path=${encodeURIComponent(p)}`]) {
      const r = await call('GET', url);
      assert.equal(r.statusCode, 403, `${url}: ${r.body}`);
      assert.match(r.json().message, /outside the served roots/);
    }
  }
  const sym = await call('GET', `/api/images/pixels?path=sub/link.fits`);
  assert.match(sym.json().message, /symbolic link leads outside/);
  const plan = await call('POST', '/api/processing/plan', { night: 'escape' });
  assert.equal(plan.statusCode, 403);
  const out = await call('POST', '/api/processing/plan', { night: 'sub', out: 'escape/out' });
  assert.equal(out.statusCode, 403);
});

test('processing: plan, run with progress events, results, bad input', async () => {
  const night = join(root, 'night');
  simulateDemoNight(night, { width: 128, height: 96, lightsPerFilter: 4, filters: ['L'], bias: 4, darks: 4, flatsPerFilter: 4 });
  const bad = await call('POST', '/api/processing/plan', { night: 'night', options: { bogus: 1 } });
  assert.equal(bad.statusCode, 400);
  assert.match(bad.json().message, /options/);
  const inside = await call('POST', '/api/processing/plan', { night: 'night', out: 'night/out' });
  assert.equal(inside.statusCode, 400);
  assert.match(inside.json().message, /must not be inside the night folder/);
  const p = await call('POST', '/api/processing/plan', { night: 'night' });
  assert.equal(p.statusCode, 200, p.body);
  const plan = p.json();
  assert.equal(plan.stacks.length, 1);
  assert.equal(plan.groups.lights[0].frames, 4);
  assert.equal(plan.out, join(s.roots.dirs[0]!, 'night-darkroom'));
  const events: Array<{ type: string }> = [];
  const unsub = (s.processing as unknown as { onEvent: (e: { type: string }) => void });
  const orig = unsub.onEvent;
  unsub.onEvent = (e) => {
    events.push(e);
    orig(e);
  };
  const r = await call('POST', '/api/processing/run', { night: 'night' });
  assert.equal(r.statusCode, 202, r.body);
  let run;
  for (let i = 0; i < 600; i++) {
    run = (await call('GET', '/api/processing/status')).json().run;
    if (run.state !== 'running') break;
    await new Promise((res) => setTimeout(res, 100));
  }
  assert.equal(run.state, 'done', run.error);
  assert.equal(run.done, run.total);
  assert.ok(events.filter((e) => e.type === 'run-progress').length >= plan.steps.length - 1);
  const res = (await call('GET', `/api/processing/results?out=${encodeURIComponent(plan.out)}`)).json();
  assert.equal(res.stacks.length, 1);
  assert.ok(existsSync(res.stacks[0]));
  assert.ok(res.masters.length >= 2);
  assert.equal(res.report.stacks[0].frames, 4);
  const stack = await call('GET', `/api/images/info?path=${encodeURIComponent(res.stacks[0])}`);
  assert.equal(stack.statusCode, 200);
  assert.equal((await call('GET', '/api/processing/results?out=nothing-here')).statusCode, 404);
  // one run at a time (a second start in the same tick finds the first still running; steps are reused)
  const a = s.processing.start(night, plan.out, {});
  assert.throws(() => s.processing.start(night, plan.out, {}), /a run is already in progress/);
  await a.finished;
  assert.equal(s.processing.status()!.state, 'done');
});

test('token: required for /api with a non-loopback host; Bearer or ?token=; Host check on loopback', async () => {
  assert.throws(() => servePolicy({ token: 'short' }), /at least 8 characters/);
  const gen = servePolicy({ host: '0.0.0.0' });
  assert.equal(gen.generated, true);
  assert.ok(gen.token && gen.token.length >= 20);
  assert.equal(servePolicy({}).token, undefined);
  const s2 = await buildServer({ roots: [root], webDir: null, host: '0.0.0.0', token: gen.token });
  try {
    const no = await s2.app.inject({ method: 'GET', url: '/api/health' });
    assert.equal(no.statusCode, 401);
    assert.match(no.json().message, /token is required/);
    const wrong = await s2.app.inject({ method: 'GET', url: '/api/health', headers: { authorization: 'Bearer wrongwrongwrong' } });
    assert.equal(wrong.statusCode, 401);
    assert.match(wrong.json().message, /wrong token/);
    assert.equal((await s2.app.inject({ method: 'GET', url: '/api/health', headers: { authorization: `Bearer ${gen.token}` } })).statusCode, 200);
    assert.equal((await s2.app.inject({ method: 'GET', url: `/api/health?token=${gen.token}` })).statusCode, 200);
  } finally {
    await s2.app.close();
  }
  const rebind = await call('GET', '/api/health', undefined, { host: 'evil.example.com' });
  assert.equal(rebind.statusCode, 403);
  assert.match(rebind.json().message, /only answers on localhost/);
});
