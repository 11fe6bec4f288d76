/**
 * The camera job's download progress: an Alpaca camera (an in-process Alpaca server pacing its
 * ImageBytes answer) connected through the API; while the image arrives, GET /api/camera/status shows
 * the job in phase 'downloading' with `download: {bytes, total, fraction}`, and /api/ws carries
 * 'download' events for the job whose fractions rise to 1 with bytes = total = the ImageBytes size.
 * A sequence's frame on the same camera sends 'download' events with its source.
 */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import type { WebSocket } from 'ws';
import { fileTempDir } from '../helpers/env.js';
import { buildServer, type DarkroomServer } from '../../src/server/app.js';
import { AlpacaServer } from '../../src/devices/alpaca/server.js';
import { simulatedRig } from '../../src/devices/sim/rig.js';
import { AcceleratedClock } from '../../src/devices/types.js';

let s: DarkroomServer;
let alpaca: AlpacaServer;
const root = fileTempDir('darkroom-dlprog-');
// the 256x192 frame binned 1: 98 348 bytes of ImageBytes, sent at 200 kB/s (10 kB every 50 ms, about 0.5 s)
const RATE = 200_000;
const SIZE = 44 + 256 * 192 * 2;

before(async () => {
  alpaca = new AlpacaServer({ ...simulatedRig({ clock: new AcceleratedClock(60) }), discoveryPort: null, downloadRate: RATE });
  await alpaca.start(0);
  s = await buildServer({ roots: [root], webDir: null, simSpeed: 600 });
  await s.app.ready();
});
after(async () => {
  await s?.app.close();
  await alpaca?.close();
});

type InjectWS = (url: string, ctx: { headers: Record<string, string> }, o: { onInit: (w: WebSocket) => void }) => Promise<WebSocket>;
const post = (url: string, payload: object) => s.app.inject({ method: 'POST', url, payload, headers: { 'content-type': 'application/json' } });

async function listen(): Promise<{ events: Array<Record<string, any>>; sock: WebSocket }> {
  const events: Array<Record<string, any>> = [];
  const sock = await (s.app as unknown as { injectWS: InjectWS }).injectWS('/api/ws', { headers: { host: '127.0.0.1:18712' } }, {
    onInit: (w) => w.on('message', (m) => events.push(JSON.parse(String(m)) as Record<string, any>)),
  });
  return { events, sock };
}

function checkRising(ds: Array<{ bytes: number; total: number | null; fraction: number }>): void {
  assert.ok(ds.length >= 4, `${ds.length} download events`);
  assert.deepEqual(ds[0], { ...ds[0], bytes: 0, fraction: 0 });
  assert.deepEqual({ bytes: ds.at(-1)!.bytes, total: ds.at(-1)!.total, fraction: ds.at(-1)!.fraction }, { bytes: SIZE, total: SIZE, fraction: 1 });
  for (let i = 1; i < ds.length; i++) assert.ok(ds[i]!.fraction > ds[i - 1]!.fraction, `fraction did not rise at ${i}: ${JSON.stringify(ds)}`);
  for (const d of ds.slice(0, -1)) assert.ok(d.total === SIZE && d.fraction < 1 && Math.abs(d.fraction - d.bytes / SIZE) < 1e-12, JSON.stringify(d));
}

test("the camera job carries the download's progress in the status and in 'download' events", async () => {
  const c = await post('/api/devices/connect', { spec: `alpaca://127.0.0.1:${alpaca.port}/0` });
  assert.equal(c.statusCode, 200, c.body);
  const { events, sock } = await listen();
  try {
    const r = await post('/api/camera/expose', { type: 'dark', exposure: 1, binning: 1 });
    assert.equal(r.statusCode, 202, r.body);
    const id = r.json().id as number;
    // poll the status as the console would, until the job is done
    const seen: Array<Record<string, any>> = [];
    for (let i = 0; i < 1000; i++) {
      const st = (await s.app.inject({ method: 'GET', url: '/api/camera/status' })).json();
      const job = st.exposure;
      if (job?.phase === 'downloading' && job.download) seen.push({ ...job.download });
      if (['done', 'failed'].includes(job?.phase)) {
        assert.equal(job.phase, 'done', job.error);
        assert.deepEqual(job.download, { bytes: SIZE, total: SIZE, fraction: 1 });
        break;
      }
      await new Promise((res) => setTimeout(res, 20));
    }
    const partial = seen.filter((d) => d.fraction > 0 && d.fraction < 1);
    assert.ok(partial.length >= 1, `the status never showed a partial download: ${JSON.stringify(seen)}`);
    for (const d of partial) assert.ok(d.total === SIZE && Math.abs(d.fraction - d.bytes / SIZE) < 1e-12, JSON.stringify(d));
    await new Promise((res) => setTimeout(res, 50));
    const ds = events.filter((e) => e.type === 'download' && e.id === id).map((e) => ({ bytes: e.bytes, total: e.total, fraction: e.fraction }));
    checkRising(ds);
    // the 'image' event comes after the last download event
    const last = events.map((e) => e.type).lastIndexOf('download');
    assert.ok(events.findIndex((e) => e.type === 'image' && e.id === id) > last);
  } finally {
    sock.terminate();
  }
});

test("a sequence frame's download is the status's transfer and 'download' events with source 'sequence'", async () => {
  const { events, sock } = await listen();
  const seen: Array<Record<string, any>> = [];
  try {
    const r = await post('/api/sequence/start', { plan: { base: 'D', groups: [{ type: 'dark', exposure: 1, binning: 1, count: 1 }] }, out: 'seq' });
    assert.equal(r.statusCode, 202, r.body);
    const ended = s.acquire.sequenceEnded();
    let done = false;
    void ended.then(() => (done = true));
    while (!done) {
      const st = (await s.app.inject({ method: 'GET', url: '/api/camera/status' })).json();
      if (st.transfer) seen.push(st.transfer);
      await new Promise((res) => setTimeout(res, 20));
    }
    const st = (await s.app.inject({ method: 'GET', url: '/api/sequence/status' })).json();
    assert.equal(st.state, 'done', st.error);
    assert.equal((await s.app.inject({ method: 'GET', url: '/api/camera/status' })).json().transfer, null, 'cleared when the download is over');
  } finally {
    sock.terminate();
  }
  const partial = seen.filter((d) => d.fraction > 0 && d.fraction < 1);
  assert.ok(partial.length >= 1 && partial.every((d) => d.source === 'sequence' && d.total === SIZE), JSON.stringify(seen));
  const ds = events.filter((e) => e.type === 'download');
  assert.ok(ds.every((e) => e.source === 'sequence'));
  checkRising(ds.map((e) => ({ bytes: e.bytes, total: e.total, fraction: e.fraction })));
});
