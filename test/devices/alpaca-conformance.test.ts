// The Alpaca server against the rules of the ASCOM Alpaca API Reference (sections 2.2 case sensitivity,
// 2.5 HTTP status codes, 2.6 ID fields, 8 ImageBytes), driven with plain HTTP requests; then our
// focuser client against our server.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { AlpacaServer } from '../../src/devices/alpaca/server.js';
import { AlpacaFocuser } from '../../src/devices/alpaca/client.js';
import { parseImageBytesHeader } from '../../src/devices/alpaca/protocol.js';
import { simulatedRig, type SimRig } from '../../src/devices/sim/rig.js';
import { AcceleratedClock } from '../../src/devices/types.js';
import { openDevice } from '../../src/acquire/open.js';

let server: AlpacaServer<SimRig>;
let base: string;
before(async () => {
  // 60x: a focuser move of 24000 steps (24 s simulated) takes 0.4 s
  server = new AlpacaServer({ ...simulatedRig({ clock: new AcceleratedClock(60) }), discoveryPort: null });
  await server.start(0);
  base = `http://127.0.0.1:${server.port}`;
});
after(() => server.close());

interface Answer {
  status: number;
  type: string;
  text: string;
  json?: { Value?: unknown; ClientTransactionID: number; ServerTransactionID: number; ErrorNumber: number; ErrorMessage: string };
}

async function answer(r: Response): Promise<Answer> {
  const text = await r.text();
  const type = r.headers.get('content-type') ?? '';
  return { status: r.status, type, text, json: type.startsWith('application/json') ? JSON.parse(text) : undefined };
}
const get = async (path: string, headers: Record<string, string> = {}): Promise<Answer> => answer(await fetch(base + path, { headers }));
const put = async (path: string, body: string): Promise<Answer> =>
  answer(await fetch(base + path, { method: 'PUT', body, headers: { 'content-type': 'application/x-www-form-urlencoded' } }));

/** A 400 answer: plain text, with a message. */
function refused(a: Answer, message?: RegExp | string): void {
  assert.equal(a.status, 400, `${a.status} ${a.text}`);
  assert.match(a.type, /^text\/plain/);
  assert.ok(a.text.length > 0);
  if (typeof message === 'string') assert.equal(a.text, message);
  else if (message) assert.match(a.text, message);
}
/** A 200 JSON answer with this ErrorNumber. */
function done(a: Answer, errorNumber = 0): NonNullable<Answer['json']> {
  assert.equal(a.status, 200, a.text);
  assert.ok(a.json, a.text);
  assert.equal(a.json.ErrorNumber, errorNumber, a.text);
  return a.json;
}

const IDS = 'ClientID=7&ClientTransactionID=41';

test('ClientID and ClientTransactionID must be unsigned 32-bit integers: otherwise HTTP 400 (GET and PUT)', async () => {
  for (const name of ['ClientID', 'ClientTransactionID']) {
    for (const bad of ['', '     ', '-12345', 'qweqwe', '1.5', '4294967296', '0x10']) {
      const q = `${name}=${encodeURIComponent(bad)}`;
      refused(await get(`/api/v1/camera/0/name?${q}`), `${name} must be an unsigned 32-bit integer, got '${bad}'`);
      refused(await put('/api/v1/camera/0/connected', `Connected=False&${q}`), `${name} must be an unsigned 32-bit integer, got '${bad}'`);
    }
    done(await get(`/api/v1/camera/0/name?${name}=4294967295`));
  }
  refused(await get('/management/v1/configureddevices?ClientID=abc'));
});

test('ClientTransactionID is echoed (0 when absent); ServerTransactionID starts at 1 or more and increases', async () => {
  const seen: number[] = [];
  for (const path of ['/api/v1/camera/0/name?ClientTransactionID=41', '/api/v1/camera/0/name?clienttransactionid=42', '/management/v1/description?CLIENTTRANSACTIONID=43']) {
    const j = done(await get(path));
    assert.equal(j.ClientTransactionID, Number(path.slice(-2)));
    seen.push(j.ServerTransactionID);
  }
  let j = done(await get('/api/v1/camera/0/name'));
  assert.equal(j.ClientTransactionID, 0);
  seen.push(j.ServerTransactionID);
  j = done(await put('/api/v1/camera/0/connected', `Connected=False&${IDS}`));
  assert.equal(j.ClientTransactionID, 41);
  seen.push(j.ServerTransactionID);
  // a PUT form key is case-sensitive: a mis-cased ClientTransactionID is not one, and is ignored
  j = done(await put('/api/v1/camera/0/connected', 'Connected=False&clienttransactionid=44'));
  assert.equal(j.ClientTransactionID, 0);
  seen.push(j.ServerTransactionID);
  assert.ok(seen[0]! >= 1);
  for (let i = 1; i < seen.length; i++) assert.ok(seen[i]! > seen[i - 1]!, seen.join(','));
});

test('GET query keys in any casing; PUT form keys exactly as the API spells them (a mis-cased one is missing: 400)', async () => {
  done(await get('/api/v1/camera/0/name?clientid=1&CLIENTTRANSACTIONID=2'));
  done(await put('/api/v1/camera/0/connected', `Connected=True&${IDS}`));
  refused(await put('/api/v1/camera/0/connected', `cONNECTED=True&${IDS}`), 'missing parameter Connected');
  refused(await put('/api/v1/camera/0/binx', `binx=2&${IDS}`), 'missing parameter BinX');
  refused(await put('/api/v1/camera/0/binx', IDS), 'missing parameter BinX');
  done(await put('/api/v1/camera/0/binx', `BinX=1&${IDS}&ExtraParameter=ExtraValue`));
});

test('Booleans are True or False in any casing; anything else is HTTP 400', async () => {
  for (const good of ['True', 'true', 'TRUE', 'tRuE']) done(await put('/api/v1/camera/0/connected', `Connected=${good}&${IDS}`));
  for (const bad of ['maybe', '', '123456', '1', 'yes', ' True']) {
    refused(await put('/api/v1/camera/0/connected', `Connected=${encodeURIComponent(bad)}&${IDS}`), `Connected must be True or False, got '${bad}'`);
  }
  done(await put('/api/v1/camera/0/connected', `Connected=false&${IDS}`));
  assert.equal(done(await get('/api/v1/camera/0/connected')).Value, false, 'the refused requests changed nothing');
  done(await put('/api/v1/camera/0/connected', `Connected=True&${IDS}`));
});

test('Numbers with a period and no separators; integers for integer members; else HTTP 400. Out of range: 0x401 in a 200', async () => {
  for (const bad of ['abc', '1,5', '1 000', '', '--3', 'NaN', 'Infinity', '0x10']) {
    refused(await put('/api/v1/camera/0/setccdtemperature', `SetCCDTemperature=${encodeURIComponent(bad)}&${IDS}`), `SetCCDTemperature must be a number, got '${bad}'`);
  }
  for (const good of ['-5.5', '-5', '+10', '.5', '1e1']) done(await put('/api/v1/camera/0/setccdtemperature', `SetCCDTemperature=${encodeURIComponent(good)}&${IDS}`));
  done(await put('/api/v1/camera/0/setccdtemperature', `SetCCDTemperature=-45&${IDS}`), 0x401);
  refused(await put('/api/v1/camera/0/binx', `BinX=1.5&${IDS}`), "BinX must be an integer, got '1.5'");
  done(await put('/api/v1/camera/0/binx', `BinX=9&${IDS}`), 0x401);
  refused(await put('/api/v1/camera/0/startexposure', `Duration=1&Light=sure&${IDS}`), "Light must be True or False, got 'sure'");
  assert.equal(done(await get('/api/v1/camera/0/camerastate')).Value, 0, 'no exposure was started');
});

test('unknown device types, numbers, members and verbs, and paths not in lower case: HTTP 400', async () => {
  const bad: [string, RegExp][] = [
    ['/api/v1/telescop/0/canslew', /unknown device type 'telescop'/],
    ['/api/v1/camera/1/name', /no camera device number 1/],
    ['/api/v1/camera/99999/name', /no camera device number 99999/],
    ['/api/v1/dome/0/name', /no dome device number 0/],
    ['/api/v1/camera/-1/name', /unknown Alpaca path/],
    ['/api/v1/camera/A/name', /unknown Alpaca path/],
    ['/api/v1/camera/0/canslew', /'canslew' is not a member of the camera interface/],
    ['/api/v1/camera/0/descrip', /'descrip' is not a member/],
    ['/api/v1/camera/0/startexposure', /startexposure takes PUT, not GET/],
    ['/API/V1/CAMERA/0/NAME', /unknown Alpaca path/],
    ['/api/v1/CAMERA/0/name', /unknown Alpaca path/],
    ['/api/v1/camera/0/Name', /unknown Alpaca path/],
    ['/api/V1/camera/0/name', /unknown Alpaca path/],
    ['/api/v2/camera/0/name', /unknown Alpaca path/],
    ['/apii/v1/camera/0/name', /unknown Alpaca path/],
    ['/management/v1/nothing', /unknown management path/],
  ];
  for (const [path, message] of bad) refused(await get(`${path}?${IDS}`), message);
  refused(await put('/api/v1/camera/0/cameraxsize', `CameraXSize=5&${IDS}`), /cameraxsize takes GET, not PUT/);
  // a member of the interface that this camera does not implement: understood, NotImplemented
  assert.match(done(await get('/api/v1/camera/0/fastreadout'), 0x400).ErrorMessage, /not/);
  done(await put('/api/v1/telescope/0/connected', `Connected=True&${IDS}`));
  done(await get('/api/v1/telescope/0/canslew'), 0x400);
});

test('parameters are checked before the connection: 400 for a bad value, 0x407 for a good one while disconnected', async () => {
  done(await put('/api/v1/filterwheel/0/connected', `Connected=False&${IDS}`));
  refused(await put('/api/v1/filterwheel/0/position', `Position=two&${IDS}`));
  done(await put('/api/v1/filterwheel/0/position', `Position=2&${IDS}`), 0x407);
  done(await get('/api/v1/filterwheel/0/names'), 0x407);
  done(await get('/api/v1/filterwheel/0/name'));
});

test('ImageBytes: the header echoes the transaction ids; no image ready is an ImageBytes error; JSON otherwise', async () => {
  const bytes = { accept: 'application/imagebytes' };
  done(await put('/api/v1/camera/0/connected', `Connected=True&${IDS}`));
  done(await put('/api/v1/camera/0/binx', `BinX=1&${IDS}`));
  done(await put('/api/v1/camera/0/biny', `BinY=1&${IDS}`));
  done(await put('/api/v1/camera/0/abortexposure', IDS));
  let r = await fetch(`${base}/api/v1/camera/0/imagearray?ClientTransactionID=77`, { headers: bytes });
  const none = Buffer.from(await r.arrayBuffer());
  assert.equal(r.headers.get('content-type'), 'application/imagebytes');
  const hn = parseImageBytesHeader(none);
  assert.equal(hn.errorNumber, 0x40b);
  assert.equal(hn.clientTransactionId, 77);
  assert.equal(none.subarray(hn.dataStart).toString('utf8'), 'no image is ready');
  done(await put('/api/v1/camera/0/startexposure', `Duration=0.5&Light=True&${IDS}`));
  for (let i = 0; i < 100 && !done(await get('/api/v1/camera/0/imageready')).Value; i++) await new Promise((res) => setTimeout(res, 20));
  for (const member of ['imagearray', 'imagearrayvariant']) {
    const before = done(await get('/api/v1/camera/0/name')).ServerTransactionID;
    r = await fetch(`${base}/api/v1/camera/0/${member}?ClientTransactionID=78`, { headers: bytes });
    assert.equal(r.headers.get('content-type'), 'application/imagebytes');
    const buf = Buffer.from(await r.arrayBuffer());
    const h = parseImageBytesHeader(buf);
    assert.deepEqual([h.errorNumber, h.clientTransactionId, h.rank, h.dims[0], h.dims[1]], [0, 78, 2, 256, 192]);
    assert.ok(h.serverTransactionId > before);
    assert.equal(buf.length, h.dataStart + 256 * 192 * (h.transmissionElementType === 8 ? 2 : 4));
  }
  const j = await get('/api/v1/camera/0/imagearray?ClientTransactionID=79');
  assert.equal(done(j).ClientTransactionID, 79);
  assert.equal((j.json as unknown as { Rank: number; Type: number }).Rank, 2);
});

test('focuser/0: the simulated focuser, absolute, moved by PUT move', async () => {
  const list = done(await get('/management/v1/configureddevices')).Value as { DeviceType: string; DeviceNumber: number }[];
  assert.ok(list.some((d) => d.DeviceType === 'Focuser' && d.DeviceNumber === 0));
  done(await put('/api/v1/focuser/0/connected', `Connected=True&${IDS}`));
  assert.equal(done(await get('/api/v1/focuser/0/absolute')).Value, true);
  const max = done(await get('/api/v1/focuser/0/maxstep')).Value as number;
  assert.equal(max, server.focuser.max);
  refused(await put('/api/v1/focuser/0/move', `Position=far&${IDS}`), "Position must be an integer, got 'far'");
  assert.match(done(await put('/api/v1/focuser/0/move', `Position=${max + 1}&${IDS}`), 0x401).ErrorMessage, /focuser position must be an integer 0\.\./);
  done(await put('/api/v1/focuser/0/move', `Position=1000&${IDS}`));
  assert.equal(done(await get('/api/v1/focuser/0/ismoving')).Value, true);
  done(await put('/api/v1/focuser/0/move', `Position=24500&${IDS}`), 0x40b);
  for (let i = 0; i < 300 && done(await get('/api/v1/focuser/0/ismoving')).Value; i++) await new Promise((res) => setTimeout(res, 10));
  assert.equal(done(await get('/api/v1/focuser/0/position')).Value, 1000);
  done(await get('/api/v1/focuser/0/temperature'), 0x400);
  assert.equal(done(await get('/api/v1/focuser/0/tempcompavailable')).Value, false);
  done(await put('/api/v1/focuser/0/tempcomp', `TempComp=False&${IDS}`));
  done(await put('/api/v1/focuser/0/tempcomp', `TempComp=True&${IDS}`), 0x400);
  refused(await put('/api/v1/focuser/0/tempcomp', `TempComp=on&${IDS}`));
  done(await put('/api/v1/focuser/0/halt', IDS), 0x400);
});

test('our focuser client against our server, and openDevice alpaca:// with its focuser', async () => {
  const f = new AlpacaFocuser({ host: '127.0.0.1', port: server.port, number: 0 });
  await f.connect();
  await f.move(25_300);
  assert.equal(await f.position(), 25_300);
  assert.equal(await server.focuser.position(), 25_300);
  await f.moveBy(-300);
  assert.equal(await f.position(), 25_000);
  assert.equal(await f.isMoving(), false);
  assert.equal(await f.maxStep(), server.focuser.max);
  assert.equal(await f.temperature(), undefined, 'the simulated focuser has no sensor');
  await assert.rejects(f.move(-5), { code: 'BAD_ARGUMENT' });
  const d = await openDevice(`alpaca://127.0.0.1:${server.port}/0`);
  assert.ok(d.focuser instanceof AlpacaFocuser);
  assert.equal(await d.focuser.position(), 25_000);
  // no focuser/1: none, and one clear error when asked for it
  await assert.rejects(new AlpacaFocuser({ host: '127.0.0.1', port: server.port, number: 1 }).connect(), {
    message: 'device not found on the server (no focuser device number 1)',
  });
});
