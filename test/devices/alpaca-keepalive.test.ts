// Kept-alive connections: a server closes an idle one when it likes (node's default after 5 s), and a
// client busy elsewhere (a test blocked in spawnSync) may send its next request on it before it has
// seen the close. The client sends such a GET again; the server keeps idle connections a minute.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, get as httpGet, type IncomingMessage } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { AlpacaDevice } from '../../src/devices/alpaca/client.js';
import { AlpacaServer } from '../../src/devices/alpaca/server.js';
import { simulatedRig } from '../../src/devices/sim/rig.js';

/**
 * An Alpaca-like server that answers the first request on each connection (kept alive) and drops the
 * connection on the next one without answering: each kept-alive connection is stale when reused.
 */
async function staleServer(): Promise<{ port: number; seen: string[]; close: () => Promise<void> }> {
  const served = new WeakSet<Socket>();
  const seen: string[] = [];
  const srv = createServer((req, res) => {
    seen.push(`${req.method} ${new URL(req.url ?? '/', 'http://x').pathname}`);
    if (served.has(req.socket)) {
      req.socket.destroy();
      return;
    }
    served.add(req.socket);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ Value: 3, ClientTransactionID: 0, ServerTransactionID: seen.length, ErrorNumber: 0, ErrorMessage: '' }));
  });
  srv.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  return {
    port: (srv.address() as AddressInfo).port,
    seen,
    close: () => new Promise<void>((r) => { srv.closeAllConnections(); srv.close(() => r()); }),
  };
}

/** Let fetch put the connection back in its pool (it does so after the response has been read). */
const released = (): Promise<void> => new Promise((r) => setImmediate(r));

test('a GET on a kept-alive connection the server has dropped is sent once more, on a new connection', async () => {
  const s = await staleServer();
  try {
    const dev = new AlpacaDevice({ host: '127.0.0.1', port: s.port, type: 'camera', number: 0, timeoutMs: 5000 });
    assert.equal(await dev.get<number>('binx'), 3);
    await released();
    assert.equal(await dev.get<number>('biny'), 3, 'the second GET, whose first try met the dropped connection');
    assert.deepEqual(s.seen, ['GET /api/v1/camera/0/binx', 'GET /api/v1/camera/0/biny', 'GET /api/v1/camera/0/biny']);
  } finally {
    await s.close();
  }
});

test('a PUT is never sent twice: the dropped connection is one clear error', async () => {
  const s = await staleServer();
  try {
    const dev = new AlpacaDevice({ host: '127.0.0.1', port: s.port, type: 'camera', number: 0, timeoutMs: 5000 });
    await dev.get('binx');
    await released();
    await assert.rejects(dev.put('abortexposure'), { code: 'IO', message: new RegExp(`^cannot reach Alpaca server at 127\\.0\\.0\\.1:${s.port} \\(`) });
    assert.deepEqual(s.seen, ['GET /api/v1/camera/0/binx', 'PUT /api/v1/camera/0/abortexposure']);
  } finally {
    await s.close();
  }
});

test('the Alpaca server keeps idle connections open for a minute (Keep-Alive: timeout=60)', async () => {
  const server = new AlpacaServer({ ...simulatedRig(), discoveryPort: null });
  await server.start(0);
  try {
    const res = await new Promise<IncomingMessage>((resolve, reject) => httpGet(`http://127.0.0.1:${server.port}/management/apiversions`, resolve).on('error', reject));
    res.resume();
    assert.equal(res.headers['keep-alive'], 'timeout=60');
  } finally {
    await server.close();
  }
});
