// Finding the parts of a rig on a real INDI server (Debian indi-bin) by DRIVER_INFO.DRIVER_INTERFACE,
// and the INDI focuser client against indi_simulator_focus.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { IndiCamera, IndiClient, IndiFilterWheel, IndiGuideOutput, type PropState } from '../../src/devices/indi/client.js';
import { deviceFor, type IndiDeviceSummary } from '../../src/devices/indi/discover.js';
import { IndiFocuser } from '../../src/devices/indi/focuser.js';
import { openDevice } from '../../src/acquire/open.js';
import { startIndiServer, type IndiServer } from './indiserver.js';
import { join } from 'node:path';
import { readFits } from '../../src/fits/index.js';
import { fitsverify, runCli, useTempDir } from '../helpers/env.js';

let srv: IndiServer;
before(async () => {
  srv = await startIndiServer(['indi_simulator_ccd', 'indi_simulator_wheel', 'indi_simulator_telescope', 'indi_simulator_focus']);
});
after(() => srv.stop());

const FOC = 'Focuser Simulator';

test('deviceFor: each role from the DRIVER_INTERFACE bits; property names only for devices without them', () => {
  const d = (name: string, iface: number, props: string[] = []): IndiDeviceSummary => ({ name, iface, props: new Set(props) });
  // what Debian's simulators report before they are connected (the CCD simulator: CCD | guider | filter)
  const sims = [d('Telescope Simulator', 5), d('CCD Simulator', 22), d('Filter Simulator', 16), d(FOC, 8)];
  assert.equal(deviceFor('camera', sims), 'CCD Simulator');
  assert.equal(deviceFor('wheel', sims, 'CCD Simulator'), 'Filter Simulator');
  assert.equal(deviceFor('mount', sims, 'CCD Simulator'), 'Telescope Simulator');
  assert.equal(deviceFor('focuser', sims, 'CCD Simulator'), FOC);
  // no wheel driver: the camera's own wheel; a camera without one has none
  assert.equal(deviceFor('wheel', [d('CCD Simulator', 22)], 'CCD Simulator'), 'CCD Simulator');
  assert.equal(deviceFor('wheel', [d('Guide Camera', 6), d('Weather', 128)], 'Guide Camera'), undefined);
  assert.equal(deviceFor('camera', [d('Telescope Simulator', 5), d(FOC, 8)]), undefined);
  // drivers without DRIVER_INTERFACE: the role's property, once they have it
  assert.equal(deviceFor('camera', [d('Old CCD', NaN, ['CCD_EXPOSURE'])]), 'Old CCD');
  assert.equal(deviceFor('camera', [d('Old CCD', NaN, ['CONNECTION'])]), undefined);
});

test('indi://HOST:PORT without a device name finds the CCD among ccd + wheel + telescope + focuser, none connected yet', async () => {
  const d = await openDevice(`indi://127.0.0.1:${srv.port}`);
  try {
    assert.ok(d.camera instanceof IndiCamera);
    assert.equal(d.camera.device, 'CCD Simulator');
    assert.ok(d.wheel instanceof IndiFilterWheel);
    assert.equal(d.wheel.device, 'Filter Simulator', 'the wheel driver, not the CCD simulator (which has a filter interface too)');
    assert.ok(d.guide instanceof IndiGuideOutput);
    assert.equal(d.guide.device, 'Telescope Simulator');
    assert.ok(d.focuser instanceof IndiFocuser);
    assert.equal(d.focuser.device, FOC);
    assert.ok((await d.camera.sensorInfo()).width > 0);
    assert.ok((await d.wheel.names()).length >= 3);
    assert.ok((await d.focuser.maxStep()) > 0);
  } finally {
    d.close();
  }
});

test('darkroom camera expose --device indi://HOST:PORT (no device named) on ccd + wheel + telescope + focuser: a binned frame through the wheel driver\'s filter', async (t) => {
  const out = join(useTempDir(t), 'light.fits');
  const r = runCli(['camera', 'expose', '--device', `indi://127.0.0.1:${srv.port}`, '--exposure', '1', '--bin', '2x2', '--filter', 'Green', '-o', out]);
  assert.equal(r.code, 0, r.stderr);
  const img = readFits(out);
  const c = new IndiClient('127.0.0.1', srv.port);
  t.after(() => c.close());
  await c.connect();
  await c.waitFor(() => Number.isFinite(c.num('CCD Simulator', 'CCD_INFO', 'CCD_MAX_X')) && Number.isFinite(c.num('Filter Simulator', 'FILTER_SLOT', 'FILTER_SLOT_VALUE')), 5000, 'the CCD and the wheel');
  assert.equal(img.width, c.num('CCD Simulator', 'CCD_INFO', 'CCD_MAX_X') / 2);
  assert.equal(img.height, c.num('CCD Simulator', 'CCD_INFO', 'CCD_MAX_Y') / 2);
  assert.equal(img.header.getString('IMAGETYP'), 'Light Frame');
  assert.equal(img.header.getNumber('EXPTIME'), 1);
  assert.equal(img.header.getString('FILTER'), 'Green');
  // the filter wheel driver moved (slot 2 of Red, Green, Blue...), not the CCD simulator's own filter interface
  assert.equal(c.num('Filter Simulator', 'FILTER_SLOT', 'FILTER_SLOT_VALUE'), 2);
  assert.equal(fitsverify(out).errors, 0);
});

test('INDI focuser simulator: absolute and relative moves, limits, Busy while moving, temperature', async () => {
  const client = new IndiClient('127.0.0.1', srv.port);
  await client.connect();
  try {
    const f = new IndiFocuser(client, FOC);
    await f.connect();
    const max = await f.maxStep();
    assert.equal(max, client.num(FOC, 'FOCUS_MAX', 'FOCUS_MAX_VALUE'));
    const states: PropState[] = [];
    client.on('update', (dev: string, name?: string, p?: { state: PropState }) => {
      if (dev === FOC && name === 'ABS_FOCUS_POSITION' && p) states.push(p.state);
    });
    const start = await f.position();
    const target = start > max / 2 ? start - 3000 : start + 3000;
    const moving = f.move(target);
    await new Promise((r) => setImmediate(r)); // the move is sent; the simulator answers after its delay
    assert.equal(await f.isMoving(), true, 'Busy once the move is sent');
    await assert.rejects(f.move(start), /the focuser 'Focuser Simulator' is already moving/);
    await moving;
    assert.equal(await f.isMoving(), false);
    assert.equal(await f.position(), target);
    assert.ok(states.length > 0 && states.at(-1) === 'Ok', states.join(','));
    // relative: inward lowers the position, outward raises it
    await f.moveBy(-400);
    assert.equal(await f.position(), target - 400);
    assert.equal(client.switchOn(FOC, 'FOCUS_MOTION', 'FOCUS_INWARD'), true);
    await f.moveBy(250);
    assert.equal(await f.position(), target - 150);
    assert.equal(client.switchOn(FOC, 'FOCUS_MOTION', 'FOCUS_OUTWARD'), true);
    // the simulator offers FOCUS_TEMPERATURE
    assert.equal(await f.temperature(), client.num(FOC, 'FOCUS_TEMPERATURE', 'TEMPERATURE'));
    assert.equal(typeof (await f.temperature()), 'number');
    for (const bad of [max + 1, -1, 10.5, Number.NaN]) {
      await assert.rejects(f.move(bad), { code: 'BAD_ARGUMENT', message: `focuser position must be an integer 0..${max}, got ${bad}` });
    }
    await assert.rejects(f.moveBy(0.5), { code: 'BAD_ARGUMENT' });
    assert.equal(await f.position(), target - 150, 'nothing was sent');
    // a device that is no focuser
    await assert.rejects(new IndiFocuser(client, 'Filter Simulator', { propertyTimeoutMs: 500 }).connect(), {
      code: 'UNSUPPORTED',
      message: "INDI device 'Filter Simulator' has no focuser properties (ABS_FOCUS_POSITION / REL_FOCUS_POSITION)",
    });
  } finally {
    client.close();
  }
});
