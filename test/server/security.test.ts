/**
 * Access policy of `darkroom serve` (issue 21, items 6 and 7), through fastify inject():
 * - the token is checked on the route the router matched, not the raw URL: `/%61pi/files` and other
 *   spellings (`/%2561pi`, `//api`, `/api/../api`, `/API`) never answer API data without the token,
 *   nor does the WebSocket; the static UI stays public;
 * - cross-site requests are refused: a foreign Origin or `Sec-Fetch-Site: cross-site` gets 403 on every
 *   API route and the WebSocket upgrade, and a state-changing request without `Content-Type:
 *   application/json` (what an HTML form or a no-preflight fetch sends) gets 415; the long exposure
 *   they aim at keeps running, while the same requests from the served origin are accepted.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { WebSocket } from 'ws';
import { fileTempDir } from '../helpers/env.js';
import { buildServer, type DarkroomServer } from '../../src/server/app.js';

const TOKEN = 'test-token-0123456789';
const HOST = '127.0.0.1:18712';
const SELF = `http://${HOST}`;
const EVIL = 'http://evil.example';
let tok: DarkroomServer; // --host 127.0.0.2: token required
let loop: DarkroomServer; // loopback, no token, simulator clock at real time (a 600 s exposure stays running)

type Headers = Record<string, string>;
type Inject = { method: 'GET' | 'POST' | 'HEAD'; url: string; headers?: Headers; payload?: string | object };

after(async () => {
  await tok.app.close();
  await loop.app.close();
});

// Removed after the server is closed (hooks run in the order they are registered).
const root = fileTempDir('darkroom-sec-');
const web = fileTempDir('darkroom-sec-web-');

before(async () => {
  mkdirSync(join(root, 'night'));
  writeFileSync(join(root, 'night', 'a.fits'), 'SIMPLE');
  mkdirSync(join(web, 'assets'));
  writeFileSync(join(web, 'index.html'), '<!doctype html><title>Darkroom UI</title>');
  writeFileSync(join(web, 'assets', 'app.js'), 'console.log(1)');
  tok = await buildServer({ roots: [root], webDir: web, host: '127.0.0.2', token: TOKEN });
  loop = await buildServer({ roots: [root], webDir: web, simSpeed: 1 });
});

type InjectWS = (url: string, ctx: { headers: Headers }, o: { onInit: (w: WebSocket) => void }) => Promise<WebSocket>;

/** A WebSocket through injectWS: accepted with its first message (hello), or refused with the error. */
async function ws(s: DarkroomServer, url: string, headers: Headers): Promise<{ ok: true; first: string } | { ok: false; error: string }> {
  let first: Promise<string> = Promise.resolve('');
  const onInit = (w: WebSocket): void => {
    first = new Promise((res, rej) => {
      w.once('message', (m) => res(String(m)));
      setTimeout(() => rej(new Error('no message within 5 s')), 5000).unref();
    });
  };
  let sock: WebSocket;
  try {
    sock = await (s.app as unknown as { injectWS: InjectWS }).injectWS(url, { headers }, { onInit });
  } catch (e) {
    return { ok: false, error: (e as Error).message };
  }
  try {
    return { ok: true, first: await first };
  } finally {
    sock.terminate();
  }
}

test('token: every spelling of an API path needs it (router-matched route decides); the static UI does not', async () => {
  const urls = [
    '/%61pi/files?path=night',
    '/%61pi/health',
    '/ap%69/files?path=night',
    '/%2561pi/files?path=night',
    '//api/files?path=night',
    '/api/../api/files?path=night',
    '/API/files?path=night',
    '/api%2Ffiles?path=night',
    '/api/files?path=night',
  ];
  for (const url of urls) {
    for (const method of ['GET', 'HEAD'] as const) {
      const r = await tok.app.inject({ method, url });
      assert.ok(r.statusCode === 401 || r.statusCode === 404, `${method} ${url} without a token: ${r.statusCode} ${r.body.slice(0, 80)}`);
      assert.ok(!r.body.includes(root) && !r.body.includes('a.fits'), `${method} ${url} leaked API data`);
    }
  }
  // with the token, the decoded route answers as the plain one
  for (const url of ['/%61pi/files?path=night', '/api/files?path=night']) {
    const r = await tok.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(r.statusCode, 200, `${url}: ${r.body}`);
    assert.ok(r.json().entries.some((e: { name: string }) => e.name === 'a.fits'));
  }
  assert.equal((await tok.app.inject({ method: 'GET', url: `/%61pi/health?token=${TOKEN}` })).statusCode, 200);
  // the static UI is public (the page reads ?token= and sends it on its API calls)
  for (const url of ['/', `/?token=${TOKEN}`, '/index.html', '/assets/app.js']) {
    const r = await tok.app.inject({ method: 'GET', url });
    assert.equal(r.statusCode, 200, `${url}: ${r.body}`);
    assert.ok(!r.body.includes(root));
  }
});

test('token: the WebSocket upgrade without the token is refused on every spelling, accepted with it', async () => {
  for (const url of ['/api/ws', '/%61pi/ws', '/api/%77s', `/%61pi/ws?token=wrong-token-000000`]) {
    const r = await ws(tok, url, { host: '127.0.0.2:18712' });
    assert.equal(r.ok, false, `${url} accepted without the token`);
  }
  const good = await ws(tok, `/%61pi/ws?token=${TOKEN}`, { host: '127.0.0.2:18712' });
  assert.ok(good.ok && JSON.parse(good.first).type === 'hello', JSON.stringify(good));
});

const exposing = async (): Promise<string | undefined> => (await loop.app.inject({ method: 'GET', url: '/api/camera/status', headers: { host: HOST } })).json().exposure?.phase;
const NO_BODY = ['/api/camera/abort', '/api/devices/disconnect', '/api/sequence/abort', '/api/sequence/pause', '/api/sequence/resume', '/api/guide/calibrate', '/api/guide/stop'];

test('cross-site: foreign Origin, Sec-Fetch-Site cross-site and non-JSON state changes are refused; the exposure keeps running', async () => {
  const json = { host: HOST, origin: SELF, 'content-type': 'application/json' };
  assert.equal((await loop.app.inject({ method: 'POST', url: '/api/devices/connect', headers: json, payload: { spec: 'sim' } })).statusCode, 200);
  const ex = await loop.app.inject({ method: 'POST', url: '/api/camera/expose', headers: json, payload: { exposure: 600 } });
  assert.equal(ex.statusCode, 202, ex.body);
  const attacks: Inject[] = [];
  for (const url of NO_BODY) {
    // a cross-site form / no-cors fetch: foreign Origin, text/plain body
    attacks.push({ method: 'POST', url, headers: { host: HOST, origin: EVIL, 'content-type': 'text/plain' }, payload: 'x' });
    // even with a JSON type (a preflight the server never answers), a foreign Origin is refused
    attacks.push({ method: 'POST', url, headers: { host: HOST, origin: EVIL, 'content-type': 'application/json' }, payload: '{}' });
    attacks.push({ method: 'POST', url, headers: { host: HOST, origin: 'http://127.0.0.1:3000', 'content-type': 'application/json' }, payload: '{}' });
    attacks.push({ method: 'POST', url, headers: { host: HOST, origin: 'null', 'content-type': 'application/json' }, payload: '{}' });
    attacks.push({ method: 'POST', url, headers: { host: HOST, 'sec-fetch-site': 'cross-site', 'content-type': 'application/json' }, payload: '{}' });
    // no Origin at all but not JSON: what a simple request looks like
    attacks.push({ method: 'POST', url, headers: { host: HOST, 'content-type': 'text/plain' }, payload: 'x' });
    attacks.push({ method: 'POST', url, headers: { host: HOST, 'content-type': 'application/x-www-form-urlencoded' }, payload: 'a=1' });
    attacks.push({ method: 'POST', url, headers: { host: HOST } });
  }
  for (const a of attacks) {
    const r = await loop.app.inject(a);
    const cross = a.headers!.origin !== undefined || a.headers!['sec-fetch-site'] !== undefined;
    assert.equal(r.statusCode, cross ? 403 : 415, `${a.url} ${JSON.stringify(a.headers)}: ${r.statusCode} ${r.body}`);
    assert.match(r.json().message, cross ? /cross-origin|cross-site/ : /Content-Type: application\/json/);
  }
  assert.equal(await exposing(), 'exposing', 'the exposure survived every refused request');
  // reads from a foreign origin are refused too (they carry absolute paths)
  const read = await loop.app.inject({ method: 'GET', url: '/api/files?path=night', headers: { host: HOST, origin: EVIL } });
  assert.equal(read.statusCode, 403);
  assert.ok(!read.body.includes(root));
  assert.equal((await loop.app.inject({ method: 'GET', url: '/api/files?path=night', headers: { host: HOST, 'sec-fetch-site': 'cross-site' } })).statusCode, 403);
  // the same requests from the served origin, with the JSON type, are accepted
  assert.equal((await loop.app.inject({ method: 'GET', url: '/api/files?path=night', headers: { host: HOST, origin: SELF, 'sec-fetch-site': 'same-origin' } })).statusCode, 200);
  const ab = await loop.app.inject({ method: 'POST', url: '/api/camera/abort', headers: { ...json, 'sec-fetch-site': 'same-origin' } });
  assert.equal(ab.statusCode, 200, ab.body);
  assert.equal(ab.json().phase, 'aborted');
  const dc = await loop.app.inject({ method: 'POST', url: '/api/devices/disconnect', headers: { host: HOST, 'content-type': 'application/json; charset=utf-8' }, payload: '{}' });
  assert.equal(dc.statusCode, 200, dc.body);
  assert.equal(dc.json().connected, false);
  // the static UI can still be opened from a link on another site
  assert.equal((await loop.app.inject({ method: 'GET', url: '/', headers: { host: HOST, 'sec-fetch-site': 'cross-site' } })).statusCode, 200);
});

test('cross-site: a WebSocket from a foreign Origin is refused, from the served origin accepted; the Host check stays', async () => {
  for (const origin of [EVIL, 'http://127.0.0.1:3000', 'null']) {
    const r = await ws(loop, '/api/ws', { host: HOST, origin });
    assert.equal(r.ok, false, `WebSocket from ${origin} accepted`);
  }
  assert.equal((await ws(loop, '/api/ws', { host: HOST, 'sec-fetch-site': 'cross-site' })).ok, false);
  const good = await ws(loop, '/api/ws', { host: HOST, origin: SELF });
  assert.ok(good.ok && JSON.parse(good.first).type === 'hello', JSON.stringify(good));
  // DNS rebinding: a foreign Host is refused even when Origin matches it
  const rebind = await loop.app.inject({ method: 'GET', url: '/api/health', headers: { host: 'evil.example:18712', origin: 'http://evil.example:18712' } });
  assert.equal(rebind.statusCode, 403);
  assert.equal((await ws(loop, '/api/ws', { host: 'evil.example:18712', origin: 'http://evil.example:18712' })).ok, false);
});
