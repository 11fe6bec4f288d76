import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IndiClient, IndiCamera, IndiFilterWheel, IndiGuideOutput, type IndiProperty, type PropState } from '../../src/devices/indi/client.js';
import { openDevice } from '../../src/acquire/open.js';
import { AlpacaServer } from '../../src/devices/alpaca/server.js';
import { simulatedRig } from '../../src/devices/sim/rig.js';
import { AlpacaGuideOutput } from '../../src/devices/alpaca/client.js';
import type { GuideDirection } from '../../src/devices/types.js';
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
// drivers keep config and park data under $HOME/.indi: give them a fresh one so runs start alike
const home = mkdtempSync(join(tmpdir(), 'darkroom-indi-home-'));
before(async () => {
  port = await freePort();
  // -u: own local (abstract) socket; the default /tmp/indiserver allows only one indiserver per machine
  proc = spawn('indiserver', ['-p', String(port), '-u', `/tmp/darkroom-indiserver-${port}`, 'indi_simulator_ccd', 'indi_simulator_wheel', 'indi_simulator_telescope'], { stdio: 'ignore', env: { ...process.env, HOME: home } });
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
  rmSync(home, { recursive: true, force: true });
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

const SCOPE = 'Telescope Simulator';

test('INDI telescope simulator: pulse guide N/S/W/E, Busy -> Idle, coordinates move by rate x time', async () => {
  const client = new IndiClient('127.0.0.1', port);
  await client.connect();
  const guide = new IndiGuideOutput(client, SCOPE);
  await guide.connect();
  // unparked and tracking at Dec +60 (a GOTO with ON_COORD_SET=TRACK ends tracking); away from the pole
  // so that north really increases Dec
  await client.waitProperty(SCOPE, 'TELESCOPE_PARK');
  if (client.switchOn(SCOPE, 'TELESCOPE_PARK', 'PARK')) {
    client.setSwitch(SCOPE, 'TELESCOPE_PARK', { PARK: false, UNPARK: true });
    await client.waitFor(() => client.switchOn(SCOPE, 'TELESCOPE_PARK', 'UNPARK') && client.property(SCOPE, 'TELESCOPE_PARK')!.state !== 'Busy', 10_000, 'unpark');
  }
  client.setSwitch(SCOPE, 'ON_COORD_SET', { TRACK: true, SLEW: false, SYNC: false });
  client.setNumber(SCOPE, 'EQUATORIAL_EOD_COORD', { RA: client.num(SCOPE, 'EQUATORIAL_EOD_COORD', 'RA'), DEC: 60 });
  await client.waitFor(() => client.property(SCOPE, 'EQUATORIAL_EOD_COORD')!.state === 'Ok', 30_000, 'the slew to Dec +60');
  assert.ok(client.switchOn(SCOPE, 'TELESCOPE_TRACK_STATE', 'TRACK_ON'), 'tracking after the GOTO');
  // different rates per axis (fractions of sidereal), so a swapped axis or a wrong scale shows
  client.setNumber(SCOPE, 'GUIDE_RATE', { GUIDE_RATE_WE: 0.3, GUIDE_RATE_NS: 0.8 });
  await client.waitFor(() => client.property(SCOPE, 'GUIDE_RATE')!.state !== 'Busy', 5000, 'guide rate');
  assert.equal(client.num(SCOPE, 'GUIDE_RATE', 'GUIDE_RATE_NS'), 0.8);

  // coordinates as the driver reports them (a tracking mount only sends them when they change)
  const coords = (): { ra: number; dec: number } => ({ ra: client.num(SCOPE, 'EQUATORIAL_EOD_COORD', 'RA'), dec: client.num(SCOPE, 'EQUATORIAL_EOD_COORD', 'DEC') });
  // tracking holds RA and Dec still: the driver's coordinates do not drift between pulses
  const still = coords();
  await new Promise((r) => setTimeout(r, 600));
  assert.ok(Math.abs(coords().ra - still.ra) < 1e-6 && Math.abs(coords().dec - still.dec) < 1e-6, 'tracking: no drift');

  const ms = 500;
  // 15"/s x rate x t on each axis: Dec in degrees, RA in hours (15" of axis = 1 s of time)
  const dDec = (0.8 * 15 * (ms / 1000)) / 3600;
  const dRa = (0.3 * (ms / 1000)) / 3600;
  const expect: Record<GuideDirection, { ra: number; dec: number; prop: string; el: string }> = {
    north: { ra: 0, dec: +dDec, prop: 'TELESCOPE_TIMED_GUIDE_NS', el: 'TIMED_GUIDE_N' },
    south: { ra: 0, dec: -dDec, prop: 'TELESCOPE_TIMED_GUIDE_NS', el: 'TIMED_GUIDE_S' },
    west: { ra: -dRa, dec: 0, prop: 'TELESCOPE_TIMED_GUIDE_WE', el: 'TIMED_GUIDE_W' },
    east: { ra: +dRa, dec: 0, prop: 'TELESCOPE_TIMED_GUIDE_WE', el: 'TIMED_GUIDE_E' },
  };
  const nsSign: Partial<Record<GuideDirection, number>> = {};
  for (const dir of ['north', 'south', 'west', 'east'] as GuideDirection[]) {
    const e = expect[dir];
    const before = coords();
    const seen: { state: PropState; value: number }[] = [];
    const on = (d: string, name?: string, p?: IndiProperty): void => {
      if (d === SCOPE && name === e.prop && p) seen.push({ state: p.state, value: Number(p.elements.get(e.el)!.value) });
    };
    client.on('update', on);
    const pulse = guide.pulseGuide(dir, ms);
    await client.waitFor(() => seen.length > 0, 5000, 'the driver to answer the pulse');
    assert.equal(await guide.isPulseGuiding(), true, `${dir}: guiding while Busy`);
    if (dir === 'north') await assert.rejects(guide.pulseGuide('south', 100), /a north\/south guide pulse is already in progress on 'Telescope Simulator'/);
    await pulse;
    client.off('update', on);
    assert.equal(await guide.isPulseGuiding(), false);
    // the driver took the pulse (Busy, echoing the duration), then ended it (libindi GuideComplete: Idle)
    assert.deepEqual(seen[0], { state: 'Busy', value: ms }, `${dir}: ${JSON.stringify(seen)}`);
    assert.ok(['Idle', 'Ok'].includes(seen.at(-1)!.state), `${dir}: ${JSON.stringify(seen)}`);
    assert.ok(!seen.some((s) => s.state === 'Alert'));
    assert.deepEqual(guide.lastStates, seen.map((s) => s.state));
    // the last position update comes with or just after the end of the pulse
    // (N/S as |dDec|: the 1.9.9 simulator moves its Dec axis without regard to pier side, so on
    // pier West "north" lowers Dec; W/E move RA the sky way round on either side)
    const moved = (): number => (e.dec !== 0 ? Math.abs(coords().dec - before.dec) / dDec : (coords().ra - before.ra) / e.ra);
    await client.waitFor(() => moved() > 0.95, 3000, 'the mount to move').catch(() => undefined);
    await new Promise((r) => setTimeout(r, 300)); // and nothing more comes
    const after = coords();
    const got = { ra: after.ra - before.ra, dec: after.dec - before.dec };
    const msg = `${dir}: moved dRA ${(got.ra * 3600).toFixed(4)} s, dDec ${(got.dec * 3600).toFixed(3)}" (expected ${(e.ra * 3600).toFixed(4)} s, ${(e.dec * 3600).toFixed(3)}")`;
    if (e.dec !== 0) {
      assert.ok(Math.abs(Math.abs(got.dec) - dDec) < 0.05 * dDec, msg);
      nsSign[dir] = Math.sign(got.dec);
      assert.ok(Math.abs(got.ra) < 0.05 * dRa, msg);
    } else {
      assert.ok(Math.abs(got.ra - e.ra) < 0.05 * Math.abs(e.ra), msg);
      assert.ok(Math.abs(got.dec) < 0.05 * dDec, msg);
    }
  }
  assert.equal(nsSign.north, -nsSign.south!, 'north and south move Dec opposite ways');
  client.close();
});

test('INDI guide errors: no guide properties, bad direction, bad durations, unknown device', async () => {
  const client = new IndiClient('127.0.0.1', port);
  await client.connect();
  const noGuide = /INDI device 'Filter Simulator' has no guide properties \(TELESCOPE_TIMED_GUIDE_NS \/ TELESCOPE_TIMED_GUIDE_WE\)/;
  await assert.rejects(new IndiGuideOutput(client, 'Filter Simulator').connect(), noGuide);
  await assert.rejects(new IndiGuideOutput(client, 'Filter Simulator').pulseGuide('north', 100), noGuide);
  await assert.rejects(new IndiGuideOutput(client, 'No Such Mount').connect(), /INDI device 'No Such Mount' not found \(server has: .*Telescope Simulator/);
  const g = new IndiGuideOutput(client, SCOPE);
  await g.connect();
  for (const bad of [0, -5, Number.NaN, Number.POSITIVE_INFINITY]) {
    await assert.rejects(g.pulseGuide('north', bad), { code: 'BAD_ARGUMENT', message: `guide pulse duration must be a positive number of milliseconds, got ${bad}` });
  }
  // the driver's own limit (defNumber max)
  await assert.rejects(g.pulseGuide('east', 120_000), /guide pulse of 120000 ms exceeds the maximum of 60000 ms of Telescope Simulator\.TELESCOPE_TIMED_GUIDE_WE/);
  await assert.rejects(g.pulseGuide('up' as GuideDirection, 100), /unknown guide direction 'up'/);
  assert.equal(await g.isPulseGuiding(), false, 'nothing was sent');
  client.close();
});

test('openDevice exposes the mount as guide output (INDI telescope, Alpaca telescope/0)', async () => {
  const d = await openDevice(`indi://127.0.0.1:${port}`);
  try {
    assert.ok(d.guide instanceof IndiGuideOutput);
    assert.equal((d.guide as IndiGuideOutput).device, SCOPE, 'the mount, not the camera (which has an ST-4 guide port too)');
    await d.guide.pulseGuide('west', 200);
    assert.equal((d.guide as IndiGuideOutput).lastStates[0], 'Busy');
  } finally {
    d.close();
  }
  const server = new AlpacaServer({ ...simulatedRig(), discoveryPort: null });
  await server.start(0);
  try {
    const a = await openDevice(`alpaca://127.0.0.1:${server.port}/0`);
    assert.ok(a.guide instanceof AlpacaGuideOutput);
    await a.guide.pulseGuide('south', 50);
    assert.deepEqual(server.telescope.pulses.map((p) => [p.direction, p.ms]), [['south', 50]]);
    a.close();
  } finally {
    server.close();
  }
});
