// Lights of a plan with a target carry its RA/DEC (J2000 degrees), the hint a plate solver (darkroom solve,
// run's stack WCS) starts from; darks do not.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SimCamera } from '../../src/devices/sim/simcamera.js';
import { sensorModel } from '../../src/devices/sim/sensors.js';
import { VirtualClock } from '../../src/acquire/clock.js';
import { Sequencer } from '../../src/acquire/sequencer.js';
import { parsePlan } from '../../src/acquire/plan.js';
import { readFitsHeader } from '../../src/fits/index.js';
import { solveHints } from '../../src/solve/hints.js';
import { SOLVE_DEFAULTS } from '../../src/solve/options.js';
import { fileRunDirs } from '../helpers/env.js';

const outDir = fileRunDirs();

test("a plan's target is written as RA/DEC into its lights (and read back as the solver's hint), not into darks", async () => {
  const clock = new VirtualClock();
  const camera = new SimCamera({ clock, sensor: sensorModel('kaf8300', { width: 48, height: 32 }) });
  await camera.connect();
  const plan = parsePlan({
    base: 'T',
    target: { ra: 83.8221, dec: -5.3911 },
    groups: [
      { type: 'light', filter: 'Luminance', exposure: 10, count: 1, suffix: 'L' },
      { type: 'dark', exposure: 10, count: 1, suffix: 'D' },
    ],
  });
  const r = await new Sequencer(plan, { camera, wheel: camera.wheel, clock, outDir: outDir() }).run();
  assert.equal(r.saved.length, 2);
  const [light, dark] = r.saved.map((s) => readFitsHeader(s.path).header);
  assert.equal(light!.getNumber('RA'), 83.8221);
  assert.equal(light!.getNumber('DEC'), -5.3911);
  const hints = solveHints(light!, { ...SOLVE_DEFAULTS, blind: false });
  assert.ok(hints.position && Math.abs(hints.position.ra - 83.8221) < 1e-9 && Math.abs(hints.position.dec + 5.3911) < 1e-9, JSON.stringify(hints));
  assert.equal(dark!.get('RA'), undefined);
});
