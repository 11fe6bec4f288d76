/**
 * AlpacaCamera.download with progress from an Alpaca server that paces its ImageBytes answer
 * (AlpacaServerOptions.downloadRate, `alpaca-sim --download-rate`): the reports rise from 0 to 1 against
 * the Content-Length the server sends, and the image is the simulator's. The simulator camera itself
 * reports 0 then 1.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { AlpacaServer } from '../../../src/devices/alpaca/server.js';
import { AlpacaCamera } from '../../../src/devices/alpaca/client.js';
import { simulatedRig, type SimRig } from '../../../src/devices/sim/rig.js';
import { AcceleratedClock, type DownloadProgress } from '../../../src/devices/types.js';

const clock = new AcceleratedClock(60);
let server: AlpacaServer<SimRig>;
let cam: AlpacaCamera;
// 20 kB per 50 ms slice: the 256x192 16-bit frame (98 348 bytes of ImageBytes) in 5 slices
const RATE = 400_000;
before(async () => {
  server = new AlpacaServer({ ...simulatedRig({ clock }), discoveryPort: null, downloadRate: RATE });
  await server.start(0);
  cam = new AlpacaCamera({ host: '127.0.0.1', port: server.port, number: 0 });
  await cam.connect();
});
after(() => server.close());

test('a paced ImageBytes download reports its progress and gives the simulator image', async () => {
  await cam.startExposure({ type: 'light', duration: 1 });
  const reports: DownloadProgress[] = [];
  const img = await cam.download(60_000, (p) => reports.push({ ...p }));
  const size = 44 + img.width * img.height * 2;
  assert.deepEqual([img.width, img.height], [256, 192]);
  assert.deepEqual(reports[0], { bytes: 0, total: size, fraction: 0 });
  assert.deepEqual(reports.at(-1), { bytes: size, total: size, fraction: 1 });
  const mid = reports.slice(1, -1);
  // the server's slices arrive one by one: at least one report in between per slice but the last
  assert.ok(mid.length >= Math.floor(size / (RATE / 20)) - 1, `${mid.length} reports between 0 and 1`);
  for (let i = 1; i < reports.length; i++) assert.ok(reports[i]!.fraction > reports[i - 1]!.fraction && reports[i]!.bytes > reports[i - 1]!.bytes);
  for (const r of mid) assert.ok(Math.abs(r.fraction - r.bytes / size) < 1e-12 && r.fraction < 1);
  assert.deepEqual(img.data[0], server.camera.lastImage().data[0]);
  assert.equal(img.header.getNumber('EXPTIME'), 1);
});

test('the simulator camera reports 0, then 1 with the 16-bit frame size', async () => {
  const sim = simulatedRig({ clock }).camera;
  await sim.connect();
  await sim.setBinning(2, 2);
  await sim.startExposure({ type: 'dark', duration: 1 });
  const reports: DownloadProgress[] = [];
  const img = await sim.download(60_000, (p) => reports.push(p));
  const bytes = 2 * img.width * img.height;
  assert.deepEqual(reports, [{ bytes: 0, total: bytes, fraction: 0 }, { bytes, total: bytes, fraction: 1 }]);
});
