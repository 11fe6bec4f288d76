import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { IndiClient, IndiCamera, IndiFilterWheel } from '../../src/devices/indi/client.js';
import { XmlStream, type XmlElement } from '../../src/devices/indi/xml.js';

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

let proc: ChildProcess;
let port: number;
before(async () => {
  port = await freePort();
  proc = spawn('indiserver', ['-p', String(port), 'indi_simulator_ccd', 'indi_simulator_wheel'], { stdio: 'ignore' });
  // wait until it accepts connections
  for (let i = 0; i < 50; i++) {
    const ok = await new Promise<boolean>((r) => {
      const c = new IndiClient('127.0.0.1', port);
      c.connect(500).then(() => { c.close(); r(true); }, () => r(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('indiserver did not start (install Debian package indi-bin)');
});
after(() => {
  proc.kill();
});

test('XML stream: chunked input, attributes, entities, self-closing, nesting', () => {
  const got: XmlElement[] = [];
  const x = new XmlStream((e) => got.push(e));
  const doc = `<defNumberVector device="CCD &amp; Co" name='T' state="Ok"><defNumber name="V" format="%g">\n -10.5 \n</defNumber></defNumberVector><message device="a" message="x &lt; y"/><setBLOBVector device="d" name="b"><oneBLOB name="c" size="3" format=".fits">QUJD</oneBLOB></setBLOBVector>`;
  for (let i = 0; i < doc.length; i += 7) x.feed(doc.slice(i, i + 7));
  assert.equal(got.length, 3);
  assert.equal(got[0]!.attrs.device, 'CCD & Co');
  assert.equal(got[0]!.attrs.name, 'T');
  assert.equal(got[0]!.children[0]!.text.trim(), '-10.5');
  assert.equal(got[1]!.attrs.message, 'x < y');
  assert.equal(Buffer.from(got[2]!.children[0]!.text, 'base64').toString(), 'ABC');
});

test('INDI simulators: connect, cool, 1 s 2x2 light (FITS BLOB), wheel', async () => {
  const client = new IndiClient('127.0.0.1', port);
  await client.connect();
  const cam = new IndiCamera(client, 'CCD Simulator');
  const wheel = new IndiFilterWheel(client, 'Filter Simulator');
  await cam.connect();
  await wheel.connect();
  cam.wheel = wheel;
  const info = await cam.sensorInfo();
  assert.ok(info.width > 0 && info.height > 0, `${info.width}x${info.height}`);

  // cool to a setpoint
  await cam.setCooler(true);
  await cam.setSetpoint(-5);
  await client.waitFor(() => Math.abs(client.num('CCD Simulator', 'CCD_TEMPERATURE', 'CCD_TEMPERATURE_VALUE') + 5) < 0.1, 30_000, 'CCD to reach -5 C');
  const st = await cam.coolerStatus();
  assert.ok(Math.abs(st.ccdTemp + 5) < 0.1, `${st.ccdTemp}`);

  // wheel: move to slot 3 (0-based 2) by number and then by name
  const names = await wheel.names();
  assert.ok(names.length >= 3, names.join(','));
  await wheel.move(2);
  assert.equal(await wheel.position(), 2);
  await wheel.move(names[1]!);
  assert.equal(await wheel.position(), 1);
  await assert.rejects(wheel.move('NoSuchFilter'), /no filter named 'NoSuchFilter'/);

  // 1 s light at 2x2
  await cam.setBinning(2, 2);
  await cam.setSubframe(null);
  const t0 = Date.now();
  await cam.startExposure({ type: 'light', duration: 1 });
  await assert.rejects(cam.startExposure({ type: 'light', duration: 1 }), /an exposure is already in progress/);
  const img = await cam.download(30_000);
  assert.ok(Date.now() - t0 >= 900, 'the exposure took about 1 s');
  assert.equal(img.width, Math.floor(info.width / 2));
  assert.equal(img.height, Math.floor(info.height / 2));
  const h = img.header;
  assert.equal(h.getString('IMAGETYP'), 'Light Frame');
  assert.equal(h.getNumber('EXPTIME'), 1);
  assert.equal(h.getNumber('XBINNING'), 2);
  assert.equal(h.getString('FILTER'), names[1]);
  assert.ok(Math.abs(h.getNumber('CCD-TEMP')! + 5) < 0.2);
  // real pixel data: not constant
  const d = img.data[0]!;
  let min = Infinity;
  let max = -Infinity;
  for (const v of d) {
    min = Math.min(min, v);
    max = Math.max(max, v);
  }
  assert.ok(max > min, `pixels vary (${min}..${max})`);
  client.close();
});

test('INDI errors: unreachable server, unknown device', async () => {
  const bad = new IndiClient('127.0.0.1', await freePort());
  await assert.rejects(bad.connect(), /cannot reach INDI server at 127\.0\.0\.1:\d+ \(connection refused\)/);
  const c = new IndiClient('127.0.0.1', port);
  await c.connect();
  await assert.rejects(new IndiCamera(c, 'No Such Cam').connect(), /INDI device 'No Such Cam' not found \(server has: .*CCD Simulator/);
  c.close();
});
