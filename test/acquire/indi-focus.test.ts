// `darkroom focus --device indi://...` against Debian's indi_simulator_ccd + indi_simulator_focus: the CCD
// simulator blurs its stars by the focuser's distance from SIM_FOCUSING.SIM_FOCUS_POSITION, so the
// autofocus has a known answer.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { runCli } from '../helpers/env.js';
import { openDevice } from '../../src/acquire/open.js';
import { AlpacaFilterWheel, AlpacaFocuser, AlpacaGuideOutput } from '../../src/devices/alpaca/client.js';
import { AlpacaServer } from '../../src/devices/alpaca/server.js';
import { IndiCamera } from '../../src/devices/indi/client.js';
import { IndiFocuser } from '../../src/devices/indi/focuser.js';
import { simulatedRig } from '../../src/devices/sim/rig.js';
import { CCD, FOCUSER, setNumbers, startIndiSky, type IndiSky } from './indi-sky.js';

let sky: IndiSky;

// The simulator's blur law (indi ccd_simulator.cpp, on every snooped focuser position p):
//   FWHM = SEEING + 0.5625 t^2 arcsec,  t = 20 (p - SIM_FOCUS_POSITION) / SIM_FOCUS_MAX
const IDEAL = 31_234;
const SCALE = 20_000; // SIM_FOCUS_MAX
const SEEING = 3.5;
const fwhmAt = (p: number): number => SEEING + 0.5625 * ((20 * (p - IDEAL)) / SCALE) ** 2;
// Critical focus zone: the positions whose FWHM is within 10% of the optimum (the Wallner zone of the
// built-in simulator's f/6 optics lets the FWHM grow by 12%); half-width 789 steps here
const CFZ_HALF = (SCALE / 20) * Math.sqrt((0.1 * SEEING) / 0.5625);
const START = IDEAL + 2600;

before(async () => {
  sky = await startIndiSky(['indi_simulator_ccd', 'indi_simulator_focus'], [CCD, FOCUSER]);
  const c = sky.client;
  // a 640x512 sensor (frames download and measure quickly), behind 900 mm of focal length (1.19"/px)
  await setNumbers(c, CCD, 'SIMULATOR_SETTINGS', { SIM_XRES: 640, SIM_YRES: 512 });
  await setNumbers(c, CCD, 'SCOPE_INFO', { FOCAL_LENGTH: 900, APERTURE: 120 });
  await setNumbers(c, CCD, 'SIM_FOCUSING', { SIM_FOCUS_POSITION: IDEAL, SIM_FOCUS_MAX: SCALE, SIM_SEEING: SEEING });
  // the CCD simulator computes its seeing when it sees the focuser move
  await setNumbers(c, FOCUSER, 'ABS_FOCUS_POSITION', { FOCUS_ABSOLUTE_POSITION: START }, 30_000);
});
after(() => sky?.stop());

test('darkroom focus --device indi:// --auto: the V-curve lands within the critical focus zone of the simulator\'s ideal position', async () => {
  assert.ok(Math.abs(START - IDEAL) > 3 * CFZ_HALF, 'the run starts well outside the zone');
  const r = runCli(['focus', '--device', `indi://127.0.0.1:${sky.port}`, '--auto', '--exposure', '0.1', '--step', '1000', '--points', '3', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout) as { best: number; position: number; passes: number; fwhmAtBest: number; points: { position: number; value: number; stars: number }[] };
  const msg = `best ${j.best}, ideal ${IDEAL}, CFZ +-${CFZ_HALF.toFixed(0)}; points ${j.points.map((p) => `${p.position}:${p.value.toFixed(2)}`).join(' ')}`;
  assert.ok(Math.abs(j.best - IDEAL) <= CFZ_HALF, msg);
  // the focuser was left there, and the simulator's client sees it too
  assert.equal(j.position, j.best);
  await sky.client.waitFor(() => sky.client.num(FOCUSER, 'ABS_FOCUS_POSITION', 'FOCUS_ABSOLUTE_POSITION') === j.best, 5000, 'the focuser at the best position');
  assert.ok(j.passes >= 2, 'the first sweep was off-centre: it re-centred');
  // the measured FWHM follows the blur law (1.19"/px); in focus it is the seeing
  const scale = (5.2 / 900) * 206.3;
  for (const p of j.points.filter((q) => Math.abs(q.position - IDEAL) <= 3000)) {
    assert.ok(Math.abs(p.value - fwhmAt(p.position) / scale) < 0.25 * (fwhmAt(p.position) / scale), `${p.position}: FWHM ${p.value.toFixed(2)} px, law ${(fwhmAt(p.position) / scale).toFixed(2)} px`);
  }
  assert.ok(j.fwhmAtBest < 1.15 * (SEEING / scale), `final FWHM ${j.fwhmAtBest}`);
});

test('darkroom focus --focuser names the focuser on its own connection; a device that is no focuser is refused', () => {
  const r = runCli(['focus', '--device', `indi://127.0.0.1:${sky.port}`, '--focuser', `indi://127.0.0.1:${sky.port}/${CCD}`, '--count', '1']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^darkroom: .*INDI device 'CCD Simulator' has no focuser properties/);
  const loop = runCli(['focus', '--device', `indi://127.0.0.1:${sky.port}`, '--focuser', `indi://127.0.0.1:${sky.port}`, '--exposure', '0.1', '--count', '1', '--json']);
  assert.equal(loop.code, 0, loop.stderr);
  const m = JSON.parse(loop.stdout) as { fwhm: number; stars: number }[];
  assert.equal(m.length, 1);
  assert.ok(m[0]!.stars >= 5, `${m[0]!.stars} stars`);
});

test('parts of the rig from several servers: an INDI camera with an Alpaca wheel, focuser and mount, and the reverse', async () => {
  const alpaca = new AlpacaServer({ ...simulatedRig(), discoveryPort: null });
  await alpaca.start(0);
  try {
    const a = `alpaca://127.0.0.1:${alpaca.port}/0`;
    const d = await openDevice(`indi://127.0.0.1:${sky.port}`, { parts: { wheel: a, focuser: a, mount: a } });
    try {
      assert.ok(d.camera instanceof IndiCamera);
      assert.ok(d.wheel instanceof AlpacaFilterWheel && d.camera.wheel === d.wheel, 'the camera names the Alpaca wheel\'s filter');
      assert.ok(d.focuser instanceof AlpacaFocuser && d.guide instanceof AlpacaGuideOutput);
      await d.focuser.move(24_990);
      assert.equal(await alpaca.focuser!.position(), 24_990);
      await d.guide.pulseGuide('east', 20);
      assert.deepEqual(alpaca.telescope!.pulses.map((p) => p.direction), ['east']);
    } finally {
      d.close();
    }
    const r = await openDevice(a, { parts: { focuser: `indi://127.0.0.1:${sky.port}` } });
    try {
      assert.ok(r.focuser instanceof IndiFocuser);
      assert.equal(r.focuser.device, FOCUSER);
      assert.equal(await r.focuser.position(), sky.client.num(FOCUSER, 'ABS_FOCUS_POSITION', 'FOCUS_ABSOLUTE_POSITION'));
    } finally {
      r.close();
    }
    await assert.rejects(openDevice(a, { parts: { mount: 'tcp://x' } }), { code: 'BAD_ARGUMENT', message: "unknown mount 'tcp://x' (use indi://HOST:PORT[/DEVICE] or alpaca://HOST:PORT/N)" });
  } finally {
    await alpaca.close();
  }
});
