/**
 * The INDI camera's download progress against Debian's indiserver + indi_simulator_ccd: the client
 * counts the base64 of the CCD1 BLOB as the socket delivers it (a full 1280x1024 16-bit frame is
 * ~3.5 MB of base64, dozens of socket chunks), so download() reports 0, then partial fractions that
 * only grow, then 1, all with the BLOB's real size (a FITS file: whole 2880-byte blocks holding the
 * 16-bit frame). While the BLOB arrives the camera says 'downloading' and imageReady() is true (the
 * console's job then calls download(), which follows the rest: checked through a proxy that paces
 * the server's bytes as a slow link would, with the console's loop polling imageReady() every 50 ms).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';
import { IndiClient, IndiCamera } from '../../src/devices/indi/client.js';
import type { BlobTransfer } from '../../src/devices/indi/blob-progress.js';
import type { CameraState, DownloadProgress } from '../../src/devices/types.js';
import { startIndiServer, type IndiServer } from './indiserver.js';

let server: IndiServer;
before(async () => {
  server = await startIndiServer(['indi_simulator_ccd']);
});
after(() => server?.stop());

function checkFitsSize(size: number, w: number, h: number): void {
  assert.equal(size % 2880, 0, `${size} bytes: a FITS file is whole 2880-byte blocks`);
  assert.ok(size >= w * h * 2 && size < w * h * 2 + 20 * 2880, `${size} bytes for ${w}x${h}`);
}

test('a full-frame INDI BLOB download reports 0, partial fractions that grow, then 1, with the BLOB size', async (t) => {
  const client = new IndiClient('127.0.0.1', server.port);
  await client.connect();
  try {
    const cam = new IndiCamera(client, 'CCD Simulator');
    await cam.connect();
    await cam.setBinning(1, 1);
    await cam.setSubframe(null);
    // what the camera says while the BLOB is on its way (checked as each chunk is counted)
    const during: { ready: Promise<boolean>; state: Promise<CameraState> }[] = [];
    client.on('blobProgress', (t: BlobTransfer) => {
      if (t.property === 'CCD1') during.push({ ready: cam.imageReady(), state: cam.state() });
    });
    await cam.startExposure({ type: 'bias', duration: 0.1 });
    const reports: DownloadProgress[] = [];
    const img = await cam.download(30_000, (p) => reports.push(p));
    assert.equal(img.width, 1280);
    assert.equal(img.height, 1024);
    const size = reports[reports.length - 1]!.bytes;
    checkFitsSize(size, img.width, img.height);
    assert.deepEqual(reports[0], { bytes: 0, total: size, fraction: 0 });
    assert.deepEqual(reports[reports.length - 1], { bytes: size, total: size, fraction: 1 });
    const partial = reports.slice(1, -1);
    assert.ok(partial.length >= 5, `${partial.length} partial reports: ${JSON.stringify(reports)}`);
    t.diagnostic(`${partial.length} partial reports over ${during.length} chunks`);
    for (const p of partial) {
      assert.equal(p.total, size);
      assert.ok(p.fraction > 0 && p.fraction < 1, JSON.stringify(p));
      assert.ok(Math.abs(p.bytes - p.fraction * size) < 1e-6, JSON.stringify(p));
    }
    for (let i = 1; i < reports.length; i++) assert.ok(reports[i]!.fraction > reports[i - 1]!.fraction, JSON.stringify(reports.slice(i - 1, i + 1)));
    // throttled at 1 %: at most ~100 partial reports, however many chunks
    assert.ok(partial.length <= 100, `${partial.length} partial reports`);
    // the transfer was seen as such
    assert.ok(during.length >= partial.length, `${during.length} chunks counted`);
    for (const d of during) {
      assert.equal(await d.ready, true);
      assert.equal(await d.state, 'downloading');
    }
    assert.equal(client.blobTransfer('CCD Simulator', 'CCD1', 'CCD1'), undefined);
    assert.notEqual(await cam.state(), 'downloading');
  } finally {
    client.close();
  }
});

test('a 64x64 subframe BLOB (a chunk or two) reports 0, then 1, growing, with the BLOB size', async () => {
  const client = new IndiClient('127.0.0.1', server.port);
  await client.connect();
  try {
    const cam = new IndiCamera(client, 'CCD Simulator');
    await cam.connect();
    await cam.setBinning(1, 1);
    await cam.setSubframe({ x: 0, y: 0, width: 64, height: 64 });
    await cam.startExposure({ type: 'bias', duration: 0.1 });
    const reports: DownloadProgress[] = [];
    const img = await cam.download(30_000, (p) => reports.push(p));
    assert.equal(img.width, 64);
    const size = reports[reports.length - 1]!.bytes;
    checkFitsSize(size, 64, 64);
    assert.deepEqual(reports[0], { bytes: 0, total: size, fraction: 0 });
    assert.deepEqual(reports[reports.length - 1], { bytes: size, total: size, fraction: 1 });
    // 11520 bytes: whole, or its closing tags in a second chunk (one partial report)
    assert.ok(reports.length <= 3, JSON.stringify(reports));
    for (let i = 1; i < reports.length; i++) assert.ok(reports[i]!.fraction > reports[i - 1]!.fraction && reports[i]!.total === size, JSON.stringify(reports));
  } finally {
    client.close();
  }
});

/** A TCP proxy to the indiserver that passes the server's bytes on at `bytesPerS` (the client's as they come). */
async function pacedProxy(port: number, bytesPerS: number): Promise<{ port: number; close: () => void }> {
  const socks: Socket[] = [];
  const srv: Server = createServer((down) => {
    const up = connect(port, '127.0.0.1');
    socks.push(down, up);
    const queue: Buffer[] = [];
    up.on('data', (d: Buffer) => queue.push(d));
    const perTick = Math.ceil((bytesPerS * 10) / 1000);
    const timer = setInterval(() => {
      let budget = perTick;
      while (budget > 0 && queue.length) {
        const head = queue[0]!;
        const part = head.subarray(0, budget);
        down.write(part);
        budget -= part.length;
        if (part.length === head.length) queue.shift();
        else queue[0] = head.subarray(part.length);
      }
    }, 10);
    down.on('data', (d: Buffer) => up.write(d));
    const end = (): void => {
      clearInterval(timer);
      up.destroy();
      down.destroy();
    };
    up.on('close', end);
    down.on('close', end);
    up.on('error', end);
    down.on('error', end);
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  return {
    port: (srv.address() as AddressInfo).port,
    close: () => {
      for (const s of socks) s.destroy();
      srv.close();
    },
  };
}

test('over a slow link, as the console polls imageReady() then downloads: the rest of the BLOB is followed', async (t) => {
  // 10 MB/s: the full frame's ~3.5 MB of base64 take ~0.35 s
  const proxy = await pacedProxy(server.port, 10_000_000);
  const client = new IndiClient('127.0.0.1', proxy.port);
  t.after(() => {
    client.close();
    proxy.close();
  });
  await client.connect();
  const cam = new IndiCamera(client, 'CCD Simulator');
  await cam.connect();
  await cam.setBinning(1, 1);
  await cam.setSubframe(null);
  await cam.startExposure({ type: 'bias', duration: 0.1 });
  // src/server/devices.ts: poll imageReady() (and state()) every 50 ms, then download with progress
  const states = new Set<CameraState>();
  while (!(await cam.imageReady())) {
    states.add(await cam.state());
    await new Promise((r) => setTimeout(r, 50));
  }
  const readyAt = client.blobTransfer('CCD Simulator', 'CCD1', 'CCD1');
  assert.ok(readyAt, 'imageReady() as the BLOB begins to arrive, before it is whole');
  assert.equal(await cam.state(), 'downloading');
  const reports: DownloadProgress[] = [];
  const img = await cam.download(30_000, (p) => reports.push(p));
  assert.equal(img.width * img.height, 1280 * 1024);
  const size = reports[reports.length - 1]!.bytes;
  checkFitsSize(size, img.width, img.height);
  assert.deepEqual(reports[0], { bytes: 0, total: size, fraction: 0 });
  assert.deepEqual(reports[reports.length - 1], { bytes: size, total: size, fraction: 1 });
  const partial = reports.slice(1, -1);
  // at most 50 ms of the ~350 ms had passed when the loop saw it: most of the 1 % steps are still to come
  assert.ok(partial.length >= 20, `${partial.length} partial reports: ${JSON.stringify(reports)}`);
  for (let i = 1; i < reports.length; i++) assert.ok(reports[i]!.fraction > reports[i - 1]!.fraction, JSON.stringify(reports.slice(i - 1, i + 1)));
  t.diagnostic(`${partial.length} partial reports; states while waiting: ${[...states].join(', ')}`);
});
