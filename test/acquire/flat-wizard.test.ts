import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { SimCamera } from '../../src/devices/sim/simcamera.js';
import { sensorModel, type SensorModel } from '../../src/devices/sim/sensors.js';
import { VirtualClock } from '../../src/acquire/clock.js';
import { flatRange, nextExposure, runFlatWizard, type FlatWizardEvent, type IterationState } from '../../src/acquire/flat-wizard.js';
import { readFits } from '../../src/fits/index.js';
import { median } from '../../src/image/stats.js';
import { runCli, useTempDir } from '../helpers/env.js';

/** A linear flat source: level = rate x t, clipped at the range. */
function search(rate: number, over: Partial<IterationState> = {}, start = 1) {
  const s: IterationState = { targetAdu: 29_000, range: 64_000, tolerance: 0.02, minExposure: 0.01, maxExposure: 120, maxTries: 10, tries: [], ...over };
  for (;;) {
    const step = nextExposure(s, start);
    if (step.kind !== 'expose') return { step, tries: s.tries };
    s.tries.push({ exposure: step.exposure, level: Math.min(s.range, rate * step.exposure) });
  }
}

describe('flat wizard: the exposure search (pure)', () => {
  test('a linear source: target/measured scaling lands on the target at the second exposure', () => {
    const { step, tries } = search(1000);
    assert.deepEqual(tries.map((t) => t.exposure), [1, 29]);
    assert.equal(step.kind, 'done');
    if (step.kind === 'done') assert.equal(step.level, 29_000);
  });
  test('a saturated frame cuts the exposure by 4, a frame without signal multiplies it by 10', () => {
    const sat = search(10_000, {}, 60); // 60 s -> clipped; 15 s -> clipped; 3.75 s -> 37500; 2.9 s
    assert.deepEqual(sat.tries.map((t) => t.exposure).slice(0, 3), [60, 15, 3.75]);
    assert.equal(sat.step.kind, 'done');
    if (sat.step.kind === 'done') assert.ok(Math.abs(sat.step.exposure - 2.9) < 1e-9);
    const dim = search(0.5, {}, 0.1); // 0.05 ADU: no signal -> 1 s -> 0.5 ADU -> 10 s -> 5 ADU (0.017%: scaled)
    assert.deepEqual(dim.tries.map((t) => t.exposure).slice(0, 2), [0.1, 1]);
  });
  test('too dim at the longest exposure, too bright at the shortest, no convergence: one-line reasons', () => {
    const dim = search(100);
    assert.equal(dim.step.kind, 'fail');
    assert.match(dim.step.kind === 'fail' ? dim.step.reason : '', /too dim: 18\.8% at the longest exposure 120 s/);
    const bright = search(1e8, { minExposure: 0.01 }, 0.01);
    assert.match(bright.step.kind === 'fail' ? bright.step.reason : '', /too bright: 100\.0% at the shortest exposure 0\.01 s/);
    const few = search(1000, { maxTries: 1 });
    assert.match(few.step.kind === 'fail' ? few.step.reason : '', /after 1 test exposures/);
  });
  test('the usable range: the ADC or the full well, whichever saturates first', () => {
    // 25500 e- / 0.37 e-/ADU = 68919 ADU > 65535 - 1000: the ADC
    assert.deepEqual(flatRange({ electronsPerAdu: 0.37, fullWell: 25_500, maxAdu: 65_535 }, 1000, 1, 0.45), { range: 64_535, limit: 'adc', targetAdu: 0.45 * 64_535 });
    // 25500 e- at 1 e-/ADU: the full well; binned 2x2 the wells hold 4x: the ADC again
    assert.deepEqual(flatRange({ electronsPerAdu: 1, fullWell: 25_500, maxAdu: 65_535 }, 1000, 1, 0.4), { range: 25_500, limit: 'full-well', targetAdu: 10_200 });
    assert.equal(flatRange({ electronsPerAdu: 1, fullWell: 25_500, maxAdu: 65_535 }, 1000, 2, 0.4).limit, 'adc');
  });
});

/** The simulated camera in front of a flat panel, on a virtual clock. */
async function panelRig(sensor: SensorModel, panel: number) {
  const clock = new VirtualClock();
  const camera = new SimCamera({ clock, sensor, panel, seed: 7 });
  await camera.connect();
  return { clock, camera };
}

function frameStats(path: string) {
  const img = readFits(path);
  const h = img.header;
  return { median: median(img.data[0]!), type: h.getString('IMAGETYP'), exptime: h.getNumber('EXPTIME'), filter: h.getString('FILTER') };
}

describe('flat wizard on the simulator', () => {
  test('each filter (its own panel throughput) lands within 5% of the target; flat-darks at the same exposure', async (t) => {
    const dir = useTempDir(t);
    const sensor = sensorModel('kaf8300', { width: 128, height: 96 });
    const { clock, camera } = await panelRig(sensor, 4000);
    const events: FlatWizardEvent[] = [];
    const r = await runFlatWizard({ camera, wheel: camera.wheel, clock, outDir: dir, onEvent: (e) => events.push(e) }, { filters: ['L', 'R', 'G', 'B'], count: 4, target: 0.45 });
    // simulator truth: 25500 e- / 0.37 e-/ADU is above the ADC's 65535 - 1000 ADU, so the ADC limits
    const range = Math.min(sensor.adcMax - sensor.biasLevel, sensor.fullWell / sensor.gain);
    const target = 0.45 * range;
    assert.equal(r.limit, 'adc');
    assert.ok(Math.abs(r.bias - sensor.biasLevel) < 3, `bias ${r.bias}`);
    assert.deepEqual(r.filters.map((f) => f.slot), ['Luminance', 'Red', 'Green', 'Blue']);
    for (const f of r.filters) {
      assert.equal(f.flats.length, 4);
      assert.equal(f.flatDarks.length, 4);
      for (const p of f.flats) {
        const s = frameStats(p);
        assert.equal(s.type, 'Flat Field');
        assert.equal(s.filter, f.slot);
        assert.equal(s.exptime, f.exposure);
        const err = Math.abs(s.median - sensor.biasLevel - target) / target;
        assert.ok(err < 0.05, `${basename(p)}: median ${s.median} is ${(100 * err).toFixed(2)}% off the target ${target + sensor.biasLevel}`);
      }
      for (const p of f.flatDarks) {
        const s = frameStats(p);
        assert.equal(s.type, 'Flat Dark');
        assert.equal(s.exptime, f.exposure);
        // shutter closed: bias + dark current (+ the flat's residual image) only, far below 1% of the flat level
        assert.ok(Math.abs(s.median - sensor.biasLevel) < 0.01 * target, `${basename(p)}: a flat-dark sees no panel (median ${s.median})`);
      }
    }
    // the colour filters pass a fraction of the panel: longer exposures than Luminance
    const [L, R, G, B] = r.filters.map((f) => f.exposure) as [number, number, number, number];
    assert.ok(R > 2.5 * L && G > 2.5 * L && B > 2.5 * L, `exposures L ${L} R ${R} G ${G} B ${B}`);
    assert.ok(B > R && R > G, `Blue passes least, Green most: R ${R} G ${G} B ${B}`);
    // autosave names as the sequencer: {base}-{seq:3}-{suffix}{exposure}
    const names = readdirSync(dir).sort();
    assert.equal(names.length, 32);
    assert.ok(names.includes(`Flat-001-L${Math.round(L * 1000) / 1000}.fit`), names.join(' '));
    assert.ok(names.includes(`FlatDark-016-B${Math.round(B * 1000) / 1000}.fit`), names.join(' '));
    assert.equal(events.filter((e) => e.kind === 'saved').length, 32);
  });

  test('a full-well-limited camera, starting saturated: the quarter steps, then the target', async (t) => {
    const dir = useTempDir(t);
    const sensor = sensorModel('kaf8300', { width: 96, height: 64, gain: 1 });
    const { clock, camera } = await panelRig(sensor, 20_000);
    const r = await runFlatWizard({ camera, wheel: camera.wheel, clock, outDir: dir }, { filters: ['Luminance'], count: 3, darks: 0, target: 0.4, startExposure: 30 });
    assert.equal(r.limit, 'full-well');
    assert.equal(r.range, sensor.fullWell / sensor.gain);
    const f = r.filters[0]!;
    assert.equal(f.tries[0]!.exposure, 30);
    assert.equal(f.tries[1]!.exposure, 7.5, 'a saturated test frame: a quarter of the exposure');
    assert.equal(f.flatDarks.length, 0);
    for (const p of f.flats) {
      const err = Math.abs(frameStats(p).median - sensor.biasLevel - 0.4 * r.range) / (0.4 * r.range);
      assert.ok(err < 0.05, `${basename(p)} ${(100 * err).toFixed(2)}% off`);
    }
  });
});

describe('darkroom flats', () => {
  test('takes flats and flat-darks on the simulator', (t) => {
    const dir = useTempDir(t);
    const r = runCli(['flats', '--device', 'sim', '--filters', 'L,R', '--count', '2', '--target', '0.45', '--out', join(dir, 'flats'), '--json']);
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout) as { limit: string; filters: { filter: string; fraction: number; flats: string[]; flatDarks: string[] }[] };
    assert.equal(j.limit, 'adc');
    assert.deepEqual(j.filters.map((f) => [f.filter, f.flats.length, f.flatDarks.length]), [['L', 2, 2], ['R', 2, 2]]);
    for (const f of j.filters) assert.ok(Math.abs(f.fraction - 0.45) <= 0.45 * 0.02, `${f.filter} at ${f.fraction}`);
    assert.equal(readdirSync(join(dir, 'flats')).length, 8);
  });
  test('bad options: one line, exit 2', (t) => {
    const dir = useTempDir(t);
    const cases: [string[], RegExp][] = [
      [['--target', '1.5'], /--target: 1\.5 is out of range/],
      [['--filters', 'L,X'], /no filter 'X'/],
      [['--count', '0'], /--count: 0 is out of range/],
      [['--min-exposure', '10', '--max-exposure', '5'], /min exposure 10 s is above max exposure 5 s/],
      [['--filters', 'L', '--max-exposure', '0.5'], /too dim/],
    ];
    for (const [args, re] of cases) {
      const r = runCli(['flats', '--out', dir, ...args]);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, re);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    }
  });
});
