/**
 * The streaming ImageArray reader (src/devices/alpaca/transfer.ts) against a local HTTP server that
 * sends the body in small, slow chunks: with Content-Length, without it (the size then comes from the
 * ImageBytes header's dimensions), as JSON sent chunked, cut short and stalled. The progress reports
 * rise monotonically from 0 to 1, are throttled (far fewer than the chunks), and the decoded image
 * equals the one-shot decode of the same bytes and the image that was sent.
 */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AlpacaDevice, AlpacaDeviceError } from '../../../src/devices/alpaca/client.js';
import { IMAGEBYTES_MIME, decodeImageBytes, encodeImageBytes, encodeImageBytesError, parseImageBytesHeader } from '../../../src/devices/alpaca/protocol.js';
import { imageBytesSize, readBody } from '../../../src/devices/alpaca/transfer.js';
import type { DownloadProgress } from '../../../src/devices/types.js';

const W = 300;
const H = 200;
// a deterministic 16-bit image (row-major), and one that needs Int32 transmission
const image = Float32Array.from({ length: W * H }, (_, i) => (i * 7919 + (i >> 3) * 31) % 65536);
const wide = Float32Array.from({ length: W * H }, (_, i) => ((i * 104729) % 200_000) - 50_000);

interface Mode {
  body: Buffer;
  type: string;
  length: boolean;
  chunk: number;
  /** Send only this many bytes, then end (or, with stall, keep the connection open). */
  cut?: number;
  stall?: boolean;
}
let mode: Mode;
let server: Server;
let port = 0;
const open: ServerResponse[] = [];

async function send(res: ServerResponse, m: Mode): Promise<void> {
  res.writeHead(200, { 'content-type': m.type, ...(m.length ? { 'content-length': String(m.body.length) } : {}) });
  const end = m.cut ?? m.body.length;
  for (let o = 0; o < end; o += m.chunk) {
    res.write(m.body.subarray(o, Math.min(end, o + m.chunk)));
    // a pause every few chunks so that they arrive as separate reads
    if ((o / m.chunk) % 8 === 0) await new Promise((r) => setTimeout(r, 1));
  }
  if (m.stall) open.push(res);
  else if (m.cut !== undefined && m.length) res.destroy();
  else res.end();
}

before(async () => {
  server = createServer((req, res) => {
    if (!req.url?.startsWith('/api/v1/camera/0/imagearray')) {
      res.writeHead(400).end('no');
      return;
    }
    void send(res, mode);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  port = (server.address() as AddressInfo).port;
});
after(async () => {
  for (const r of open) r.destroy();
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
});

const device = (): AlpacaDevice => new AlpacaDevice({ host: '127.0.0.1', port, type: 'camera', number: 0 });

/** The reports are monotonic, start at 0, end at exactly one 1 with bytes = total = the body's size. */
function checkReports(reports: DownloadProgress[], size: number, chunks: number): void {
  assert.ok(reports.length >= 2, `${reports.length} reports`);
  assert.deepEqual({ ...reports[0] }, { bytes: 0, total: reports[0]!.total, fraction: 0 });
  const last = reports.at(-1)!;
  assert.deepEqual(last, { bytes: size, total: size, fraction: 1 });
  for (let i = 1; i < reports.length; i++) {
    assert.ok(reports[i]!.fraction >= reports[i - 1]!.fraction, `fraction went back at report ${i}`);
    assert.ok(reports[i]!.bytes > reports[i - 1]!.bytes, `bytes did not grow at report ${i}`);
  }
  assert.equal(reports.filter((r) => r.fraction === 1).length, 1, 'fraction 1 only at the end');
  // throttled: at most one report per 1 % of the body (plus the first and the last), far fewer than the chunks
  assert.ok(reports.length <= 102, `${reports.length} reports`);
  assert.ok(reports.length * 4 < chunks, `${reports.length} reports for ${chunks} chunks`);
}

test('ImageBytes with Content-Length: progress against it, decoded as the one-shot decode', async () => {
  const body = encodeImageBytes(image, W, H, 1, 1);
  mode = { body, type: IMAGEBYTES_MIME, length: true, chunk: 64 };
  const reports: DownloadProgress[] = [];
  const arr = await device().imageArray(false, (p) => reports.push(p));
  checkReports(reports, body.length, Math.ceil(body.length / 64));
  assert.equal(body.length, 44 + W * H * 2);
  // every report before the last knows the total from Content-Length, fraction = bytes / total
  for (const r of reports.slice(0, -1)) {
    assert.equal(r.total, body.length);
    assert.ok(Math.abs(r.fraction - r.bytes / body.length) < 1e-12);
  }
  // fractions step by about 1 % (the throttle), never above 0.999 before the end
  assert.ok(reports.length >= 30, `${reports.length} reports: the progress should be followed`);
  assert.ok(reports.slice(0, -1).every((r) => r.fraction <= 0.999));
  const once = decodeImageBytes(body, parseImageBytesHeader(body));
  assert.equal(arr.via, 'imagebytes');
  assert.deepEqual([arr.width, arr.height], [W, H]);
  assert.deepEqual(arr.data, once.data);
  assert.deepEqual(arr.data, image);
});

test('ImageBytes without Content-Length: the size from the header (dims x element size + DataStart)', async () => {
  const body = encodeImageBytes(wide, W, H, 2, 2);
  assert.equal(parseImageBytesHeader(body).transmissionElementType, 2, 'Int32 transmission');
  assert.equal(imageBytesSize(body.subarray(0, 44)), 44 + W * H * 4);
  mode = { body, type: IMAGEBYTES_MIME, length: false, chunk: 128 };
  const reports: DownloadProgress[] = [];
  const arr = await device().imageArray(false, (p) => reports.push(p));
  checkReports(reports, body.length, Math.ceil(body.length / 128));
  assert.equal(reports[0]!.total, undefined, 'unknown before the header has arrived');
  const known = reports.slice(1, -1);
  assert.ok(known.length >= 30, `${known.length} reports`);
  for (const r of known) {
    assert.equal(r.total, body.length);
    assert.ok(Math.abs(r.fraction - r.bytes / body.length) < 1e-12);
  }
  assert.deepEqual(arr.data, decodeImageBytes(body, parseImageBytesHeader(body)).data);
  assert.deepEqual(arr.data, wide);
});

test('JSON ImageArray sent chunked: bytes counted, fraction 0 until the end, then the same image', async () => {
  const cols = Array.from({ length: W }, (_, x) => Array.from({ length: H }, (_, y) => image[y * W + x]!));
  const body = Buffer.from(JSON.stringify({ Type: 2, Rank: 2, Value: cols, ClientTransactionID: 1, ServerTransactionID: 1, ErrorNumber: 0, ErrorMessage: '' }));
  mode = { body, type: 'application/json; charset=utf-8', length: false, chunk: 1000 };
  const reports: DownloadProgress[] = [];
  const arr = await device().imageArray(true, (p) => reports.push(p));
  assert.equal(arr.via, 'json');
  assert.deepEqual(arr.data, image);
  assert.deepEqual(reports.at(-1), { bytes: body.length, total: body.length, fraction: 1 });
  // no size known: every report before the last has fraction 0 and no total; bytes still grow
  for (const r of reports.slice(0, -1)) assert.deepEqual([r.fraction, r.total], [0, undefined]);
  for (let i = 1; i < reports.length; i++) assert.ok(reports[i]!.bytes > reports[i - 1]!.bytes);
});

test('an ImageBytes error answer is an AlpacaDeviceError with its message', async () => {
  mode = { body: encodeImageBytesError(0x40b, 'no image is ready', 1, 1), type: IMAGEBYTES_MIME, length: false, chunk: 16 };
  const reports: DownloadProgress[] = [];
  await assert.rejects(device().imageArray(false, (p) => reports.push(p)), (e: unknown) => e instanceof AlpacaDeviceError && e.errorNumber === 0x40b && /no image is ready/.test(e.message));
  assert.equal(reports.at(-1)!.fraction, 1);
});

test('a body cut short fails naming how far it got; a stalled one fails after the idle time', async () => {
  const body = encodeImageBytes(image, W, H, 1, 1);
  mode = { body, type: IMAGEBYTES_MIME, length: false, chunk: 4096, cut: 40_000 };
  await assert.rejects(device().imageArray(), /image transfer ended after 40000 of 120044 bytes/);
  mode = { body, type: IMAGEBYTES_MIME, length: true, chunk: 4096, cut: 40_000, stall: true };
  const reports: DownloadProgress[] = [];
  const res = await fetch(`http://127.0.0.1:${port}/api/v1/camera/0/imagearray`);
  await assert.rejects(readBody(res, { imageBytes: true, idleMs: 300, onProgress: (p) => reports.push(p) }), /image transfer stalled: no data for 300 ms after 40000 of 120044 bytes/);
  assert.ok(reports.every((r) => r.fraction < 1), 'no fraction 1 for a transfer that failed');
});
