// Goto over INDI: Debian's indi_simulator_telescope under indiserver. IndiTelescope slews and syncs through
// ON_COORD_SET + EQUATORIAL_EOD_COORD (JNow: J2000 positions precessed both ways), reads the pier side
// (TELESCOPE_PIER_SIDE) and the hour angle (sidereal time at GEOGRAPHIC_COORD.LONG), parks and unparks
// (TELESCOPE_PARK); `darkroom sequence`/`center` find it as the rig's goto mount.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startIndiServer, type IndiServer } from './indiserver.js';
import { openIndiPart } from '../../src/devices/indi/open.js';
import { IndiTelescope } from '../../src/devices/indi/mount.js';
import { j2000ToJnow, jnowToJ2000 } from '../../src/devices/precess.js';
import { localSiderealDeg } from '../../src/session/sidereal.js';
import { separationDeg } from '../../src/session/coords.js';

let srv: IndiServer;
let scope: IndiTelescope;
let close: () => void;

before(async () => {
  srv = await startIndiServer(['indi_simulator_telescope']);
  ({ device: scope, close } = await openIndiPart(`indi://127.0.0.1:${srv.port}`, 'mount'));
  scope.client.setNumber(scope.device, 'GEOGRAPHIC_COORD', { LAT: 50, LONG: 10, ELEV: 0 });
  await scope.client.waitFor(() => scope.client.num(scope.device, 'GEOGRAPHIC_COORD', 'LONG') === 10, 5000, 'the site');
});
after(() => {
  close?.();
  srv?.stop();
});

test('precession J2000 <-> equinox of date: Meeus example 21.b (theta Persei to 2028 Nov 13.19), and back', () => {
  const t = Date.UTC(2028, 10, 13, 4, 33, 36);
  const p = j2000ToJnow(41.054063, 49.22775, t);
  assert.ok(Math.abs(p.ra - 41.547214) < 2e-6 && Math.abs(p.dec - 49.348483) < 2e-6, JSON.stringify(p));
  const q = jnowToJ2000(p.ra, p.dec, t);
  assert.ok(Math.abs(q.ra - 41.054063) < 1e-9 && Math.abs(q.dec - 49.22775) < 1e-9);
});

test('INDI telescope: slew (J2000 in, JNow on the wire), sync, hour angle, pier side, no flip before the meridian, park and unpark', async () => {
  assert.ok(scope instanceof IndiTelescope && scope.canGoto(), 'found by DRIVER_INTERFACE, with the goto properties');
  // a target 0.3 h east of the meridian: the telescope on the west side of the pier, looking east
  const lst = localSiderealDeg(Date.now(), 10);
  const target = { ra: (lst + 0.3 * 15 + 360) % 360, dec: 40 };
  await scope.slewTo(target.ra, target.dec);
  // the simulator ends a long slew a little behind the sky; the second, short one lands on it
  await scope.slewTo(target.ra, target.dec);
  const at = await scope.position();
  assert.ok(separationDeg(at.ra, at.dec, target.ra, target.dec) * 3600 < 10, `at ${JSON.stringify(at)}, target ${JSON.stringify(target)}`);
  const wire = j2000ToJnow(target.ra, target.dec, Date.now());
  assert.ok(Math.abs(scope.client.num(scope.device, 'EQUATORIAL_EOD_COORD', 'RA') * 15 - wire.ra) < 0.01, 'the driver got JNow coordinates');
  const ha = await scope.hourAngle();
  assert.ok(Math.abs(ha + 0.3 + wire.ra / 15 - target.ra / 15) < 0.01, `hour angle ${ha.toFixed(4)} h`);
  assert.equal(await scope.pierSide(), 'west');
  await assert.rejects(scope.flip(), /the meridian flip left the telescope on the west side/);
  // sync: the mount now says it points where we told it
  await scope.syncTo((target.ra + 0.05) % 360, 40.05);
  const s = await scope.position();
  assert.ok(separationDeg(s.ra, s.dec, (target.ra + 0.05) % 360, 40.05) * 3600 < 10, `${JSON.stringify(s)} ${(target.ra + 0.05) % 360}`);
  assert.ok(scope.client.switchOn(scope.device, 'ON_COORD_SET', 'TRACK'), 'back to slew-and-track after the sync');
  await scope.park();
  assert.equal(scope.parked(), true);
  await scope.slewTo(target.ra, target.dec);
  assert.equal(scope.parked(), false, 'a slew unparks first');
});

test('INDI telescope: a meridian flip past the meridian (the simulator picks the east side on the slew to the same coordinates)', async () => {
  // near the meridian first (a long slew), then 12 s of hour angle before it (a short one)
  await scope.slewTo((localSiderealDeg(Date.now(), 10) + 3) % 360, 40);
  const ra = (localSiderealDeg(Date.now(), 10) + (12 / 3600) * 15) % 360;
  await scope.slewTo(ra, 40);
  assert.equal(await scope.pierSide(), 'west');
  while ((await scope.hourAngle()) <= 3 / 3600) await new Promise((r) => setTimeout(r, 250));
  await scope.flip();
  assert.equal(await scope.pierSide(), 'east');
  const at = await scope.position();
  assert.ok(separationDeg(at.ra, at.dec, ra, 40) * 3600 < 60, `after the flip at ${JSON.stringify(at)}`);
});
