// `darkroom sequence --device sim` runs the night automation keys from the command line on the virtual
// clock: the README's unattended night, shortened (target, center, autofocus, meridian, loop/until,
// safety, warmRate), crossing the meridian on the simulated mount with the catalogue sky and real
// solve-field; the simulated safety monitor (--unsafe); an Alpaca rig without a goto mount refuses the keys.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { VirtualClock } from '../../src/acquire/clock.js';
import { readFitsHeader } from '../../src/fits/index.js';
import { hourAngleHours, localSiderealDeg } from '../../src/session/sidereal.js';
import { solveFile } from '../../src/solve/index.js';
import { separationDeg } from '../../src/session/coords.js';
import { runCli, useTempDir } from '../helpers/env.js';
import { startAlpacaSim } from '../helpers/alpaca-sim.js';

const M31 = { ra: 10.6847, dec: 41.269 };
const T0 = new VirtualClock().now();
const dateObs = (path: string) => Date.parse(`${readFitsHeader(path).header.getString('DATE-OBS')}Z`);

interface NightJson {
  saved: string[];
  aborted: boolean;
  centered: { centered: boolean; error: number; iterations: number }[];
  autofocus: number;
  flips: number;
  parked: boolean;
  stop?: string;
}

test('darkroom sequence --device sim: an unattended night across the meridian from the CLI', async (t) => {
  const dir = useTempDir(t);
  // a site where M31 is 16 minutes before the meridian when the virtual clock starts
  const siteLong = ((M31.ra - (16 / 60) * 15 - localSiderealDeg(T0, 0) + 540) % 360) - 180;
  const plan = join(dir, 'night.yaml');
  writeFileSync(
    plan,
    [
      'object: M31',
      'base: M31',
      `target: {ra: ${M31.ra}, dec: ${M31.dec}}`,
      `profile: {focalLength: 530, siteLat: 50.1, siteLong: ${siteLong.toFixed(4)}}`,
      'cooling: {setpoint: -10}',
      'center: {tolerance: 30}',
      'autofocus: {atStart: true}',
      'meridian: {limitMinutes: 10, afterMinutes: 2}',
      'safety: {action: park}',
      'loop: true',
      'until: {frames: 6, altitude: 25}',
      'warmTo: 15',
      'warmRate: 3',
      'groups:',
      '  - {filter: Red, exposure: 300, count: 1, suffix: R}',
      '  - {filter: Green, exposure: 300, count: 1, suffix: G}',
      '',
    ].join('\n'),
  );
  const out = join(dir, 'lights');
  const r = runCli(['sequence', plan, '--device', 'sim', '--out', out, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout) as NightJson;
  assert.equal(j.aborted, false);
  assert.equal(j.saved.length, 6, 'until frames: 6 (the two groups looped three times)');
  assert.equal(j.stop, 'frames');
  assert.equal(readdirSync(out).length, 6);
  assert.equal(j.autofocus, 1, 'autofocus at the start only');
  assert.equal(j.flips, 1);
  assert.equal(j.parked, false);
  assert.equal(j.centered.length, 2, 'before the first light and after the flip');
  for (const c of j.centered) assert.ok(c.centered && c.error <= 30 && c.iterations <= 3, JSON.stringify(c));
  // the frames before the flip end by the limit (10 min past the meridian), those after start 2 min past it
  const ha = (ms: number) => hourAngleHours(ms, siteLong, M31.ra) * 60;
  const starts = j.saved.map(dateObs);
  const flipAt = starts.findIndex((s, i) => i > 0 && s - starts[i - 1]! > 330_000);
  assert.ok(flipAt > 0, `a pause for the flip between frames: ${starts.map((s) => ha(s).toFixed(1)).join(', ')}`);
  for (const [i, s] of starts.entries()) {
    if (i < flipAt) assert.ok(ha(s + 300_000) <= 10, `frame ${i + 1} ends at HA ${ha(s + 300_000).toFixed(2)} min`);
    else assert.ok(ha(s) >= 2, `frame ${i + 1} starts at HA ${ha(s).toFixed(2)} min, after the flip`);
  }
  // solved: the first light and the last are centred on M31, the sky turned by 180 degrees on the sensor after the flip
  const first = await solveFile(j.saved[0]!, { ra: M31.ra, dec: M31.dec, radius: 1, focalLength: 530 });
  const last = await solveFile(j.saved[5]!, { ra: M31.ra, dec: M31.dec, radius: 1, focalLength: 530 });
  for (const s of [first, last]) assert.ok(separationDeg(s.ra, s.dec, M31.ra, M31.dec) * 3600 <= 30, `${s.path}: ${s.ra}, ${s.dec}`);
  const turn = (((last.rotation - first.rotation) % 360) + 360) % 360;
  assert.ok(Math.abs(turn - 180) < 0.5, `rotation ${first.rotation} then ${last.rotation}`);
  // the log: the flip on the east side, then warming from -10 C to 15 C at 3 C per step
  assert.match(r.stderr, /meridian flip at hour angle [\d.]+ min: pier side east/);
  const warm = [...r.stderr.matchAll(/warming: set point (-?[\d.]+) C/g)].map((m) => Number(m[1]));
  assert.deepEqual(warm, [-7, -4, -1, 2, 5, 8, 11, 14, 15]);
});

test('darkroom sequence --device sim --unsafe: the safety monitor parks and ends the night, or waits', (t) => {
  const dir = useTempDir(t);
  const plan = join(dir, 'p.json');
  const groups = [{ filter: 'Luminance', exposure: 300, count: 8 }];
  writeFileSync(plan, JSON.stringify({ base: 'S', safety: { action: 'park' }, groups }));
  const park = runCli(['sequence', plan, '--device', 'sim', '--out', join(dir, 'a'), '--json', '--unsafe', '12-30']);
  assert.equal(park.code, 0, park.stderr);
  const a = JSON.parse(park.stdout) as NightJson;
  // frames of 301 s start at 0, 301 and 602 s; the fourth would start at 903 s, past 12 min: unsafe
  assert.equal(a.saved.length, 3);
  assert.equal(a.parked, true);
  assert.equal(a.stop, 'unsafe');
  writeFileSync(plan, JSON.stringify({ base: 'W', safety: { action: 'wait', pollS: 60 }, groups }));
  const wait = runCli(['sequence', plan, '--device', 'sim', '--out', join(dir, 'b'), '--json', '--unsafe', '12-30']);
  assert.equal(wait.code, 0, wait.stderr);
  const b = JSON.parse(wait.stdout) as NightJson;
  assert.equal(b.saved.length, 8);
  const t0 = dateObs(b.saved[0]!);
  for (const s of b.saved) {
    const m = (dateObs(s) - t0) / 60_000;
    assert.ok(m < 12 || m >= 30, `a frame starts ${m.toFixed(2)} min in, in the unsafe window`);
  }
  assert.match(wait.stderr, /safe again after \d+m\d\ds: resuming/);
  const bad = runCli(['sequence', plan, '--device', 'sim', '--out', join(dir, 'c'), '--unsafe', '30-12']);
  assert.equal(bad.code, 2);
  assert.equal(bad.stderr.trim(), "darkroom: --unsafe must be FROM-TO minutes after the start (e.g. 20-50), got '30-12'");
});

test('darkroom sequence on Alpaca: plan keys needing a device the rig lacks are one line, exit 2', async (t) => {
  // a telescope that only takes guide pulses: no goto mount for centering
  const { proc, port } = await startAlpacaSim(50, ['--no-goto']);
  t.after(() => proc.kill());
  const dir = useTempDir(t);
  const plan = join(dir, 'p.json');
  const run = (p: object) => {
    writeFileSync(plan, JSON.stringify({ base: 'A', groups: [{ filter: 'Luminance', exposure: 1, count: 1 }], ...p }));
    return runCli(['sequence', plan, '--device', `alpaca://127.0.0.1:${port}/0`, '--out', join(dir, 'o')]);
  };
  const center = run({ target: M31, center: {} });
  assert.equal(center.code, 2);
  assert.equal(center.stderr.trim().split('\n').length, 1, center.stderr);
  assert.match(center.stderr, /^darkroom: .*the plan has center but no mount is connected/);
  const safety = run({ safety: { action: 'abort' } });
  assert.equal(safety.code, 2);
  assert.match(safety.stderr, /^darkroom: .*the plan has safety but no safety monitor is connected/);
  const unsafe = runCli(['sequence', plan, '--device', `alpaca://127.0.0.1:${port}/0`, '--unsafe', '1-2']);
  assert.equal(unsafe.code, 2);
  assert.match(unsafe.stderr, /^darkroom: --unsafe is for the simulator/);
  assert.equal(readdirSync(dir).includes('o') ? readdirSync(join(dir, 'o')).length : 0, 0, 'nothing exposed');
});
