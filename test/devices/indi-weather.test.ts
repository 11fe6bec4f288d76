// Safety from an INDI weather station: Debian's indi_simulator_weather under indiserver. Its
// WEATHER_STATUS light vector turns Alert when a parameter leaves its Ok range (rain: WEATHER_RAIN_HOUR
// above 0 mm, set through the simulator's WEATHER_CONTROL.Precip); IndiWeather reads the verdict, and the
// sequencer waits (no frame taken) while it is unsafe and resumes when the rain stops.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startIndiServer, type IndiServer } from './indiserver.js';
import { IndiClient } from '../../src/devices/indi/client.js';
import { IndiWeather } from '../../src/devices/indi/mount.js';
import { openSafety } from '../../src/acquire/open.js';
import { parsePlan } from '../../src/acquire/plan.js';
import { Sequencer, type SequenceEvent } from '../../src/acquire/sequencer.js';
import { SimCamera } from '../../src/devices/sim/simcamera.js';
import { AcceleratedClock, type SafetyMonitor } from '../../src/devices/types.js';
import { fileRunDirs } from '../helpers/env.js';

const WEATHER = 'Weather Simulator';
const outDir = fileRunDirs();
let srv: IndiServer;
let ctl: IndiClient;

before(async () => {
  srv = await startIndiServer(['indi_simulator_weather']);
  ctl = new IndiClient('127.0.0.1', srv.port);
  await ctl.connect();
  await ctl.connectDevice(WEATHER);
  await ctl.waitProperty(WEATHER, 'WEATHER_CONTROL', 10_000);
});
after(() => {
  ctl?.close();
  srv?.stop();
});

/** Make it rain (mm/h) in the simulator and refresh; resolve once `client` sees WEATHER_STATUS in `state`. */
async function rain(mm: number, client: IndiClient, state: 'Ok' | 'Alert'): Promise<void> {
  ctl.setNumber(WEATHER, 'WEATHER_CONTROL', { Precip: mm });
  await ctl.waitFor(() => ctl.num(WEATHER, 'WEATHER_CONTROL', 'Precip') === mm && ctl.property(WEATHER, 'WEATHER_CONTROL')!.state !== 'Busy', 10_000, 'Precip');
  ctl.setSwitch(WEATHER, 'WEATHER_REFRESH', { REFRESH: true });
  await client.waitFor(() => client.property(WEATHER, 'WEATHER_STATUS')?.state === state, 15_000, `WEATHER_STATUS ${state}`);
}

test('INDI weather: WEATHER_STATUS Ok is safe, Alert (rain) unsafe; the light of the parameter that failed says why', async () => {
  const { monitor, close } = await openSafety(`indi://127.0.0.1:${srv.port}`);
  try {
    const w = monitor as IndiWeather;
    assert.equal(w.device, WEATHER, 'found by DRIVER_INTERFACE (weather)');
    await rain(0, w.client, 'Ok');
    assert.equal(await w.isSafe(), true);
    await rain(12, w.client, 'Alert');
    assert.equal(await w.isSafe(), false);
    assert.equal(w.status().parameters.WEATHER_RAIN_HOUR, 'Alert');
    await rain(0, w.client, 'Ok');
    assert.equal(await w.isSafe(), true);
  } finally {
    close();
  }
  // a server without a weather station: one line
  await assert.rejects(openSafety('indi://127.0.0.1:1'), /cannot reach INDI server/);
});

test('the sequencer with the INDI weather station, action wait: rain before frame 3 holds it (no frame), dry again resumes', async () => {
  const { monitor, close } = await openSafety(`indi://127.0.0.1:${srv.port}/${encodeURIComponent(WEATHER)}`);
  const w = monitor as IndiWeather;
  await rain(0, w.client, 'Ok');
  let n = 0;
  const log: boolean[] = [];
  const safety: SafetyMonitor = {
    async isSafe() {
      n++;
      if (n === 3) await rain(8, w.client, 'Alert');
      if (n === 5) await rain(0, w.client, 'Ok');
      const v = await monitor.isSafe();
      log.push(v);
      return v;
    },
  };
  const clock = new AcceleratedClock(100);
  const camera = new SimCamera({ clock, readoutMs: 500 });
  await camera.connect();
  const events: SequenceEvent[] = [];
  try {
    const plan = parsePlan({ base: 'W', safety: { action: 'wait', pollS: 2 }, groups: [{ filter: 'Luminance', exposure: 2, count: 4 }] });
    const r = await new Sequencer(plan, { camera, wheel: camera.wheel, clock, outDir: outDir(), automation: { safety }, onEvent: (e) => events.push(e) }).run();
    assert.equal(r.saved.length, 4);
    assert.deepEqual(log, [true, true, false, false, true, true]);
    const kinds = events.map((e) => e.kind).filter((k) => ['exposing', 'saved', 'unsafe', 'safe'].includes(k));
    assert.deepEqual(kinds, ['exposing', 'saved', 'exposing', 'saved', 'unsafe', 'safe', 'exposing', 'saved', 'exposing', 'saved']);
  } finally {
    close();
  }
});
