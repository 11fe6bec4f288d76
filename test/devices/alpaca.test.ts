import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { closedPort } from './ports.js';
import { AlpacaServer } from '../../src/devices/alpaca/server.js';
import { AlpacaCamera, AlpacaFilterWheel, AlpacaGuideOutput, AlpacaDeviceError, discoverAlpaca } from '../../src/devices/alpaca/client.js';
import { simulatedRig, type SimRig } from '../../src/devices/sim/rig.js';
import { AcceleratedClock } from '../../src/devices/types.js';
import { decodeImageBytes, encodeImageBytes, parseImageBytesHeader } from '../../src/devices/alpaca/protocol.js';

// camera clock runs 60x faster so cooling takes seconds; exposures use it too
const clock = new AcceleratedClock(60);
let server: AlpacaServer<SimRig>;
let base: string;
before(async () => {
  server = new AlpacaServer({ ...simulatedRig({ clock }), discoveryPort: 0 });
  await server.start(0);
  base = `http://127.0.0.1:${server.port}`;
});
after(() => server.close());

test('ImageBytes encode/decode: 44-byte header, column-major [x][y] order', () => {
  const w = 3;
  const h = 2;
  const data = Float32Array.from([1, 2, 3, 4, 5, 70000]); // row-major; 70000 forces Int32 transmission
  const buf = encodeImageBytes(data, w, h, 7, 9);
  const hd = parseImageBytesHeader(buf);
  assert.deepEqual([hd.metadataVersion, hd.errorNumber, hd.clientTransactionId, hd.serverTransactionId, hd.dataStart, hd.imageElementType, hd.transmissionElementType, hd.rank], [1, 0, 7, 9, 44, 2, 2, 2]);
  assert.deepEqual(hd.dims, [3, 2, 0]);
  // element k = x * height + y
  assert.deepEqual([0, 1, 2, 3, 4, 5].map((k) => buf.readInt32LE(44 + 4 * k)), [1, 4, 2, 5, 3, 70000]);
  assert.deepEqual(Array.from(decodeImageBytes(buf, hd).data), Array.from(data));
  const small = encodeImageBytes(Float32Array.from([1, 2, 3, 4, 5, 6]), w, h, 0, 0);
  assert.equal(parseImageBytesHeader(small).transmissionElementType, 8, 'UInt16 when values fit');
  assert.equal(small.length, 44 + 12);
});

test('management API and raw protocol details', async () => {
  const v = (await (await fetch(`${base}/management/apiversions`)).json()) as { Value: number[] };
  assert.deepEqual(v.Value, [1]);
  const cd = (await (await fetch(`${base}/management/v1/configureddevices?ClientTransactionID=5`)).json()) as { Value: { DeviceType: string }[]; ClientTransactionID: number; ServerTransactionID: number };
  assert.deepEqual(cd.Value.map((d) => d.DeviceType).sort(), ['Camera', 'FilterWheel', 'Focuser', 'Telescope']);
  assert.equal(cd.ClientTransactionID, 5);
  assert.ok(cd.ServerTransactionID > 0);
  const desc = (await (await fetch(`${base}/management/v1/description`)).json()) as { Value: { ServerName: string } };
  assert.match(desc.Value.ServerName, /Darkroom/);
  // PUT form keys as the API spells them (the Alpaca API Reference 2.2.3: form keys are case-sensitive);
  // GET query keys in any casing (2.2.2); test/devices/alpaca-conformance.test.ts has the rest
  let r = await fetch(`${base}/api/v1/camera/0/connected`, { method: 'PUT', body: 'Connected=True&ClientTransactionID=12', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  let j = (await r.json()) as Record<string, unknown>;
  assert.equal(j.ErrorNumber, 0);
  assert.equal(j.ClientTransactionID, 12);
  j = (await (await fetch(`${base}/api/v1/camera/0/connected?clienttransactionid=13`)).json()) as Record<string, unknown>;
  assert.equal(j.ClientTransactionID, 13);
  assert.equal(j.Value, true);
  // unimplemented member: 0x400; invalid value: 0x401 with a message; unparseable value or transaction id,
  // unknown device: HTTP 400 with a text message
  j = (await (await fetch(`${base}/api/v1/camera/0/fastreadout`)).json()) as Record<string, unknown>;
  assert.equal(j.ErrorNumber, 0x400);
  r = await fetch(`${base}/api/v1/camera/0/binx`, { method: 'PUT', body: 'BinX=7', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  j = (await r.json()) as Record<string, unknown>;
  assert.equal(j.ErrorNumber, 0x401);
  assert.match(String(j.ErrorMessage), /BinX must be 1\.\.3, got 7/);
  r = await fetch(`${base}/api/v1/camera/0/binx`, { method: 'PUT', body: 'BinX=two', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  assert.equal(r.status, 400);
  assert.equal(await r.text(), "BinX must be an integer, got 'two'");
  assert.equal((await fetch(`${base}/api/v1/camera/0/binx?ClientTransactionID=-3`)).status, 400);
  assert.equal((await fetch(`${base}/api/v1/camera/5/binx`)).status, 400);
  // still alive after all that
  j = (await (await fetch(`${base}/api/v1/camera/0/binx`)).json()) as Record<string, unknown>;
  assert.equal(j.Value, 1);
});

test('UDP discovery answers with the HTTP port', async () => {
  const found = await discoverAlpaca({ address: '127.0.0.1', port: server.discoveryPort, timeoutMs: 300 });
  assert.deepEqual(found, [{ host: '127.0.0.1', port: server.port }]);
});

describe('client: connect, cool, 1 s 2x2 light via ImageBytes and JSON (same pixels), wheel, guide, errors', () => {
  let cam: AlpacaCamera, wheel: AlpacaFilterWheel, guide: AlpacaGuideOutput;
  before(async () => {
    cam = new AlpacaCamera({ host: '127.0.0.1', port: server.port, number: 0 });
    wheel = new AlpacaFilterWheel({ host: '127.0.0.1', port: server.port, number: 0 });
    guide = new AlpacaGuideOutput({ host: '127.0.0.1', port: server.port, number: 0 });
    await cam.connect();
    await wheel.connect();
    await guide.connect();
    cam.wheel = wheel;
  });

  test('sensor info', async () => {
    const info = await cam.sensorInfo();
    assert.equal(info.width, 256);
    assert.ok(info.asymmetricBin);
  });

  test('cool: 60x clock, about 5 simulated minutes in 5 s', async () => {
    await cam.setSetpoint(-10);
    await cam.setCooler(true);
    let st = await cam.coolerStatus();
    assert.ok(st.on && st.ccdTemp > 15);
    const t0 = Date.now();
    while (!(st = await cam.coolerStatus()).locked && Date.now() - t0 < 15_000) await new Promise((r) => setTimeout(r, 250));
    assert.ok(Math.abs(st.ccdTemp + 10) <= 0.1, `cooled to ${st.ccdTemp}`);
  });

  test('wheel: names, move, a bad position refused', async () => {
    assert.deepEqual(await wheel.names(), ['Red', 'Green', 'Blue', 'Luminance', 'Empty']);
    await wheel.move('Green');
    assert.equal(await wheel.position(), 1);
    await assert.rejects(wheel.move(9), (e: unknown) => e instanceof AlpacaDeviceError && e.errorNumber === 0x401 && /filter position must be 0\.\.4, got 9/.test(e.message));
  });

  test('exposure: one at a time, abort; a 1 s 2x2 light, the same pixels through ImageBytes and JSON, with its header', async () => {
    // 1 s at 60x = 17 ms real
    await cam.setBinning(2, 2);
    await cam.startExposure({ type: 'dark', duration: 600 });
    await assert.rejects(cam.startExposure({ type: 'light', duration: 1 }), (e: unknown) => e instanceof AlpacaDeviceError && e.errorNumber === 0x40b && /an exposure is already in progress/.test(e.message));
    assert.equal(await cam.state(), 'exposing');
    await cam.abortExposure();
    assert.equal(await cam.state(), 'idle');
    await cam.startExposure({ type: 'light', duration: 1 });
    const a = await cam.download();
    assert.equal(cam.lastTransfer, 'imagebytes');
    cam.json = true;
    const b = await cam.download();
    assert.equal(cam.lastTransfer, 'json');
    assert.equal(a.width, 128);
    assert.equal(a.height, 96);
    assert.deepEqual(a.data[0], b.data[0], 'same pixels through ImageBytes and JSON');
    // the pixels are those the simulator produced
    assert.deepEqual(a.data[0], server.camera.lastImage().data[0]);
    const h = a.header;
    assert.equal(h.getString('IMAGETYP'), 'Light Frame');
    assert.equal(h.getNumber('EXPTIME'), 1);
    assert.equal(h.getNumber('XBINNING'), 2);
    assert.equal(h.getNumber('YBINNING'), 2);
    assert.equal(h.getString('FILTER'), 'Green');
    assert.equal(h.getNumber('SET-TEMP'), -10);
    assert.ok(Math.abs(h.getNumber('CCD-TEMP')! + 10) < 0.2);
    assert.equal(h.getNumber('XPIXSZ'), 10.8);
    assert.equal(h.getNumber('EGAIN'), 0.37);
    assert.match(h.getString('DATE-OBS')!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/);
  });

  test('pulse guide: 200 ms west; a negative duration refused', async () => {
    const tg = Date.now();
    await guide.pulseGuide('west', 200);
    assert.ok(Date.now() - tg >= 190);
    const last = server.telescope.pulses.at(-1)!;
    assert.deepEqual([last.direction, last.ms], ['west', 200]);
    await assert.rejects(guide.pulseGuide('north', -5), (e: unknown) => e instanceof AlpacaDeviceError && e.errorNumber === 0x401);
  });

  test('bad values through the client: set point and binning', async () => {
    await assert.rejects(cam.setSetpoint(-45), (e: unknown) => e instanceof AlpacaDeviceError && e.errorNumber === 0x401 && /set point -45 C out of range/.test(e.message));
    await assert.rejects(cam.setBinning(5, 5), (e: unknown) => e instanceof AlpacaDeviceError && e.errorNumber === 0x401);
  });
});

test('client: unreachable server is one clear error', async () => {
  const port = await closedPort();
  const cam = new AlpacaCamera({ host: '127.0.0.1', port, number: 0, timeoutMs: 2000 });
  await assert.rejects(cam.connect(), new RegExp(`cannot reach Alpaca server at 127\\.0\\.0\\.1:${port} \\(connection refused\\)`));
});

