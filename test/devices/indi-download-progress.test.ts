/**
 * The INDI camera's download progress against Debian's indiserver + indi_simulator_ccd: the client's
 * XML reader hands over whole BLOB elements, so the bytes cannot be followed as they arrive; download()
 * reports 0 and then 1, both with the BLOB's real size (a FITS file: whole 2880-byte blocks holding
 * the 16-bit frame).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { IndiClient, IndiCamera } from '../../src/devices/indi/client.js';
import type { DownloadProgress } from '../../src/devices/types.js';
import { startIndiServer, type IndiServer } from './indiserver.js';

let server: IndiServer;
before(async () => {
  server = await startIndiServer(['indi_simulator_ccd']);
});
after(() => server?.stop());

test('an INDI BLOB download reports 0, then 1, with the BLOB size', async () => {
  const client = new IndiClient('127.0.0.1', server.port);
  await client.connect();
  try {
    const cam = new IndiCamera(client, 'CCD Simulator');
    await cam.connect();
    await cam.setBinning(4, 4);
    await cam.setSubframe(null);
    await cam.startExposure({ type: 'bias', duration: 0.1 });
    const reports: DownloadProgress[] = [];
    const img = await cam.download(30_000, (p) => reports.push(p));
    assert.equal(reports.length, 2, JSON.stringify(reports));
    const size = reports[1]!.bytes;
    assert.deepEqual(reports, [{ bytes: 0, total: size, fraction: 0 }, { bytes: size, total: size, fraction: 1 }]);
    assert.equal(size % 2880, 0, `${size} bytes: a FITS file is whole 2880-byte blocks`);
    assert.ok(size >= img.width * img.height * 2 && size < img.width * img.height * 2 + 20 * 2880, `${size} bytes for ${img.width}x${img.height}`);
  } finally {
    client.close();
  }
});
