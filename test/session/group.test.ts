import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileTempDir } from '../helpers/env.js';
import { messyNight, scannedFrame } from './night-fixture.js';
import { scanNight, type Frame } from '../../src/session/scan.js';
import { groupCalibration, groupNight, matchFlat, matchLight, groupLights, type CalGroup } from '../../src/session/group.js';
import { groupTargets } from '../../src/session/targets.js';
import type { FrameKind } from '../../src/session/metadata.js';

let n = 0;
/** A frame as the scanner would describe it (no file needed for grouping logic). */
function fr(kind: FrameKind, exposure: number, temperature: number | undefined, o: { filter?: string; bin?: number; gain?: number; level?: number; object?: string; ra?: number; dec?: number; w?: number } = {}): Frame {
  n++;
  const pixels = o.level === undefined ? undefined : { median: o.level, sigma: 5, stars: 0, rows: 80, fullScale: 65535, class: 'unexposed' as const };
  return scannedFrame('/n', `f${n}.fits`, { kind, exposure, temperature, filter: o.filter, binning: { x: o.bin ?? 1, y: o.bin ?? 1 }, gain: o.gain, object: o.object }, { width: o.w, ra: o.ra, dec: o.dec, pixels });
}

test('calibration groups: exposure within 2% (flats 0.5 s), 2 C temperature buckets, binning, gain, size, filter for flats only', () => {
  const frames = [
    fr('dark', 300, -10.1), fr('dark', 300.3, -9.6), fr('dark', 310, -10), // 310 is > 2% (6 s) from 300 -> own group
    fr('dark', 300, -15.5), // other bucket
    fr('dark', 300, -10, { bin: 2 }), fr('dark', 300, -10, { gain: 139 }), fr('dark', 300, -10, { w: 50 }),
    fr('flat', 2, -10, { filter: 'R' }), fr('flat', 2, -10, { filter: 'G' }), fr('flat', 2.2, -10, { filter: 'R' }),
    fr('flatdark', 2, -10, { filter: 'R' }), fr('flatdark', 2, -10, { filter: 'G' }),
    fr('bias', 0, -10), fr('bias', 0.001, -10), fr('light', 300, -10),
  ];
  const g = groupCalibration(frames);
  const sizes = Object.fromEntries(g.map((x) => [x.id, x.frames.length]));
  assert.deepEqual(sizes, {
    'bias_0s_-10C_bin1x1_100x80': 2,
    'dark_300s_-10C_bin1x1_100x80': 2,
    'dark_310s_-10C_bin1x1_100x80': 1,
    'dark_300s_-16C_bin1x1_100x80': 1,
    'dark_300s_-10C_bin2x2_100x80': 1,
    'dark_300s_-10C_bin1x1_g139_100x80': 1,
    'dark_300s_-10C_bin1x1_50x80': 1,
    'flat_2s_-10C_bin1x1_100x80_R': 2,
    'flat_2s_-10C_bin1x1_100x80_G': 1,
    'flatdark_2s_-10C_bin1x1_100x80': 2,
  });
  const d = g.find((x) => x.id === 'dark_300s_-10C_bin1x1_100x80')!;
  assert.ok(Math.abs(d.temperature! + 9.85) < 1e-9);
  assert.equal(d.exposure, 300); // nominal: the most common, the smaller on ties
});

test('targets: OBJECT when consistent; same pointing with missing/differing OBJECT joins, named by the most common', () => {
  const lights = [
    fr('light', 300, -10, { object: 'M42', ra: 83.82, dec: -5.39 }),
    fr('light', 300, -10, { object: 'M42', ra: 83.83, dec: -5.38 }),
    fr('light', 300, -10, { object: 'Orion Nebula', ra: 83.9, dec: -5.2 }),
    fr('light', 300, -10, { ra: 83.7, dec: -5.5 }),
    fr('light', 300, -10, { object: 'M31', ra: 10.68, dec: 41.27 }),
    fr('light', 300, -10, { object: 'M31' }), // no coordinates: joins M31 by name
    fr('light', 300, -10, { ra: 180.0, dec: 10.0 }), // no OBJECT: named by position
    fr('light', 300, -10, { object: 'M42', ra: 90.0, dec: -5.39 }), // same OBJECT, 6 deg away
    fr('light', 300, -10, {}), // nothing
  ];
  const t = groupTargets(lights, 0.5);
  const by = Object.fromEntries(t.map((x) => [x.name, x.frames.length]));
  assert.deepEqual(by, { M42: 4, M31: 2, 'field_12h00+10d00': 1, 'M42 (2)': 1, unknown: 1 });
  const m42 = t.find((x) => x.name === 'M42')!;
  assert.match(m42.notes.join(' '), /OBJECT differs at the same pointing \(M42: 2, Orion Nebula: 1\)/);
  assert.match(m42.notes.join(' '), /1 light\(s\) without OBJECT joined M42/);
  assert.equal(t.find((x) => x.name === 'M42 (2)')!.slug, 'M42_2');
  // 0.5 deg is the limit: 0.6 deg apart are two targets.
  const t2 = groupTargets([fr('light', 60, 0, { ra: 10, dec: 0 }), fr('light', 60, 0, { ra: 10.6, dec: 0 })], 0.5);
  assert.equal(t2.length, 2);
});

function cal(frames: Frame[]): CalGroup[] {
  return groupCalibration(frames);
}

function light(exposure: number, temperature: number, o: { filter?: string } = {}) {
  const lf = [fr('light', exposure, temperature, { object: 'X', filter: o.filter ?? 'L' }), fr('light', exposure, temperature, { object: 'X', filter: o.filter ?? 'L' })];
  return groupLights(groupTargets(lf))[0]!;
}

test('matching: exact dark; else longer dark with optimization and bias; flat by filter', () => {
  const c = cal([
    fr('dark', 300, -10, { level: 520 }), fr('dark', 600, -10, { level: 540 }), fr('dark', 900, -10, { level: 560 }), fr('dark', 120, -10, { level: 510 }),
    fr('bias', 0, -10, { level: 500 }),
    fr('flat', 2, -10, { filter: 'L' }), fr('flat', 2, -10, { filter: 'L' }), fr('flat', 3, -10, { filter: 'L' }), fr('flat', 2, -10, { filter: 'R' }),
  ]);
  const m1 = matchLight(light(300, -9.5), c);
  assert.equal(m1.dark?.mode, 'exact');
  assert.equal(m1.dark?.group, 'dark_300s_-10C_bin1x1_100x80');
  assert.equal(m1.bias, undefined);
  assert.equal(m1.flat?.group, 'flat_2s_-10C_bin1x1_100x80_L');
  assert.match(m1.flat!.reason, /largest of 2 flat groups/);
  assert.deepEqual(m1.warnings, []);
  // 450 s lights: the shortest longer dark (600 s), optimized, with the bias.
  const m2 = matchLight(light(450, -10), c);
  assert.equal(m2.dark?.mode, 'optimize');
  assert.equal(m2.dark?.group, 'dark_600s_-10C_bin1x1_100x80');
  assert.equal(m2.bias?.group, 'bias_0s_-10C_bin1x1_100x80');
  assert.match(m2.reasons.join(' '), /longer dark \(600 s for 450 s lights\) with dark optimization/);
  // Same exposure at another temperature: optimization too.
  const m3 = matchLight(light(300, -20), c);
  assert.equal(m3.dark?.mode, 'optimize');
  assert.match(m3.dark!.reason, /same exposure at another temperature/);
  // Longer than every dark: bias only, with a warning.
  const m4 = matchLight(light(1200, -10, { filter: 'Ha' }), c);
  assert.equal(m4.dark, undefined);
  assert.equal(m4.bias?.group, 'bias_0s_-10C_bin1x1_100x80');
  assert.ok(m4.warnings.some((w) => /no matching dark/.test(w)));
  assert.ok(m4.warnings.some((w) => /no flat for filter Ha/.test(w)));
});

test('dark-darker-than-bias sensors: no scaling; nearest dark unscaled within a factor 2, else bias only', () => {
  // CMOS with dark current suppression: darks at about (here below) the bias level.
  const c = cal([fr('dark', 600, -10, { level: 499 }), fr('bias', 0, -10, { level: 500 })]);
  const near = matchLight(light(400, -10), c);
  assert.equal(near.dark?.mode, 'unscaled');
  assert.equal(near.dark?.group, 'dark_600s_-10C_bin1x1_100x80');
  assert.equal(near.bias, undefined);
  assert.match(near.reasons.join(' '), /dark-darker-than-bias \(dark .* median 499 <= bias median 500 ADU/);
  const far = matchLight(light(60, -10), c);
  assert.equal(far.dark, undefined);
  assert.equal(far.bias?.group, 'bias_0s_-10C_bin1x1_100x80');
  assert.match(far.bias!.reason, /bias only: the sensor shows dark-darker-than-bias/);
  // A normal sensor (dark above bias) with the same exposures is optimized.
  const c2 = cal([fr('dark', 600, -10, { level: 530 }), fr('bias', 0, -10, { level: 500 })]);
  assert.equal(matchLight(light(60, -10), c2).dark?.mode, 'optimize');
  // No bias: a mismatched dark is used unscaled with a warning.
  const c3 = cal([fr('dark', 600, -10, { level: 530 })]);
  const m = matchLight(light(60, -10), c3);
  assert.equal(m.dark?.mode, 'unscaled');
  assert.match(m.warnings.join(' '), /does not match the lights .* no bias to scale it/);
});

test('flat calibration: flat-dark of the same exposure, else a dark of that exposure, else bias', () => {
  const flat = fr('flat', 2, -10, { filter: 'L' });
  const fd = fr('flatdark', 2.3, -10);
  const d2 = fr('dark', 2, -10);
  const b = fr('bias', 0, -10);
  let c = cal([flat, fd, d2, b]);
  const fg = c.find((g) => g.kind === 'flat')!;
  assert.equal(matchFlat(fg, c).flatdark?.group, 'flatdark_2.3s_-10C_bin1x1_100x80');
  c = cal([flat, d2, b]);
  assert.match(matchFlat(c.find((g) => g.kind === 'flat')!, c).dark!.reason, /dark of the same exposure \(2 s\) used as flat-dark/);
  c = cal([flat, fr('flatdark', 5, -10), b]);
  assert.equal(matchFlat(c.find((g) => g.kind === 'flat')!, c).bias?.group, 'bias_0s_-10C_bin1x1_100x80');
  c = cal([flat]);
  assert.match(matchFlat(c[0]!, c).warnings[0]!, /no flat-dark and no bias/);
});

describe('the messy night groups and matches as expected', () => {
  const dir = fileTempDir();
  let g: ReturnType<typeof groupNight>;
  before(() => {
    messyNight(dir);
    g = groupNight(scanNight(dir).unique);
  });

  test('targets with their frames', () => {
    assert.deepEqual(g.targets.map((t) => [t.name, t.frames.length]), [['M42', 8], ['NGC 7000', 3]]);
  });

  test('calibration groups by kind, exposure, temperature, binning, size and filter', () => {
    const ids = g.calibration.map((x) => `${x.id}:${x.frames.length}`).sort();
    assert.deepEqual(ids, [
      'bias_0s_-10C_bin1x1_48x40:3',
      'dark_300s_-10C_bin1x1_48x40:4',
      'dark_600s_-10C_bin1x1_48x40:3',
      'flat_2s_-10C_bin1x1_48x40_L:4',
      'flat_5s_-10C_bin1x1_48x40_Ha:3',
      'flatdark_2s_-10C_bin1x1_48x40:2',
    ]);
  });

  test('light groups', () => {
    assert.deepEqual(g.lights.map((l) => `${l.id}:${l.frames.length}`), ['M42_L_300s_bin1x1:8', 'NGC_7000_Ha_180s_bin1x1:3']);
  });

  test('lights matched to darks (exact, or optimized from another exposure) and flats', () => {
    const [m42, ngc] = g.matches;
    assert.equal(m42!.dark?.mode, 'exact');
    assert.equal(ngc!.dark?.mode, 'optimize');
    assert.equal(ngc!.dark?.group, 'dark_300s_-10C_bin1x1_48x40');
    assert.equal(ngc!.flat?.group, 'flat_5s_-10C_bin1x1_48x40_Ha');
  });

  test('flats matched to a bias or a flat-dark', () => {
    const fcHa = g.flatCalibration.find((f) => f.flat === 'flat_5s_-10C_bin1x1_48x40_Ha')!;
    assert.equal(fcHa.bias?.group, 'bias_0s_-10C_bin1x1_48x40');
    assert.equal(g.flatCalibration.find((f) => f.flat === 'flat_2s_-10C_bin1x1_48x40_L')!.flatdark?.group, 'flatdark_2s_-10C_bin1x1_48x40');
  });

  test('a dark group no light needs is not used', () => {
    assert.ok(!g.used.has('dark_600s_-10C_bin1x1_48x40'));
  });
});
