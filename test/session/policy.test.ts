/**
 * The calibration policy of issue 15 on synthetic groups: which master removes each light's (and
 * each flat's) pedestal, in order: exact dark; a longer dark optimized over the bias or over a
 * stand-in bias; the bias; the shortest dark standing in as the bias; nothing (no flat, loud).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Frame } from '../../src/session/scan.js';
import type { FrameKind } from '../../src/session/metadata.js';
import { darkRate, groupCalibration, groupLights, groupNight, matchFlat, matchLight, sameExposure, standInBias, STANDIN_MIN_RATIO, type CalGroup, type LightGroup } from '../../src/session/group.js';
import { groupTargets } from '../../src/session/targets.js';

let n = 0;
/** A frame as the scanner describes it (no file needed): kind, exposure, temperature, pixel median. */
function fr(kind: FrameKind, exposure: number, temperature: number | undefined, o: { level?: number; filter?: string; egain?: number } = {}): Frame {
  n++;
  return {
    path: `/n/p${n}.fits`,
    rel: `p${n}.fits`,
    kind,
    meta: { kind, exposure, temperature, filter: o.filter, binning: { x: 2, y: 2 }, egain: o.egain ?? 0.37, object: kind === 'light' ? 'M27' : undefined },
    width: 100,
    height: 80,
    channels: 1,
    bitpix: 16,
    hdu: 0,
    camera: 'SBIG STXL-6303',
    pixels: o.level === undefined ? undefined : { median: o.level, sigma: 5, stars: 0, rows: 80, fullScale: 65535, class: 'unexposed' },
    bytes: 16000,
  };
}

const many = (k: number, f: () => Frame): Frame[] => Array.from({ length: k }, f);
const cal = (frames: Frame[]): CalGroup[] => groupCalibration(frames);
const flats = (exposure = 1, temp = -31, k = 3): Frame[] => many(k, () => fr('flat', exposure, temp, { filter: 'L', level: 21000 }));

function light(exposure: number, temp = -31, level = 1600): LightGroup {
  return groupLights(groupTargets(many(3, () => fr('light', exposure, temp, { filter: 'L', level }))))[0]!;
}

test('1. a dark of the same exposure and temperature: exact, no bias needed, flat applied', () => {
  const c = cal([...many(3, () => fr('dark', 60, -31, { level: 1010 })), ...flats(), ...many(3, () => fr('dark', 1, -31, { level: 1000 }))]);
  const m = matchLight(light(60), c);
  assert.equal(m.dark?.mode, 'exact');
  assert.equal(m.bias, undefined);
  assert.ok(m.flat);
  assert.deepEqual(m.warnings, []);
});

test('2. a longer dark with a bias: dark optimization over the bias', () => {
  const c = cal([...many(3, () => fr('dark', 300, -31, { level: 1030 })), ...many(3, () => fr('bias', 0, -31, { level: 1000 })), ...flats()]);
  const m = matchLight(light(60), c);
  assert.equal(m.dark?.mode, 'optimize');
  assert.equal(m.bias?.group, 'bias_0s_-30C_bin2x2_100x80');
  assert.equal(m.bias?.standIn, undefined);
  assert.equal(m.bias?.reason, 'master bias for dark optimization');
});

test('2b. a longer dark and no bias: the shortest dark stands in as the bias for the optimization', () => {
  const c = cal([...many(3, () => fr('dark', 300, -31, { level: 1030 })), ...many(3, () => fr('dark', 1, -31, { level: 1000.1 })), ...flats()]);
  const m = matchLight(light(60), c);
  assert.equal(m.dark?.mode, 'optimize');
  assert.equal(m.dark?.group, 'dark_300s_-30C_bin2x2_100x80');
  assert.equal(m.bias?.group, 'dark_1s_-30C_bin2x2_100x80');
  assert.equal(m.bias?.standIn?.kind, 'dark');
  assert.equal(m.bias?.standIn?.exposure, 1);
  assert.match(m.bias!.reason, /the 1 s dark master dark_1s_\S+ stands in as the bias/);
  assert.match(m.bias!.reason, /dark optimization over the stand-in bias \(300 s dark >= 5x the stand-in's 1 s\)/);
  assert.ok(m.flat);
  // Over a stand-in the optimization is exact too: no missing calibration.
  assert.deepEqual(m.warnings, []);
});

test(`2c. a longer dark under ${STANDIN_MIN_RATIO}x the stand-in's exposure is not scaled over it`, () => {
  const c = cal([...many(3, () => fr('dark', 4, -31, { level: 1001 })), ...many(3, () => fr('dark', 1, -31, { level: 1000 })), ...flats()]);
  const m = matchLight(light(2.5), c);
  assert.equal(m.dark?.mode, 'unscaled');
  assert.equal(m.dark?.group, 'dark_4s_-30C_bin2x2_100x80');
  assert.match(m.warnings.join(' '), /no bias to scale it \(the 1 s stand-in bias \S+ is too close to it: scaling over a stand-in needs a dark of at least 5x its exposure\)/);
});

test('3. no bias and only short darks: the shortest dark stands in as the bias, with its dark signal in ADU, e- and % of the sky', () => {
  // Levels 1000.5 (1 s) and 1002.5 (3 s): 1 ADU/s, so the 1 s stand-in carries 1 ADU = 0.37 e-.
  const c = cal([...many(3, () => fr('dark', 1, -31.05, { level: 1000.5 })), ...many(3, () => fr('dark', 3, -30.95, { level: 1002.5 })), ...flats()]);
  const lg = light(60, -31, 1600.5);
  const m = matchLight(lg, c);
  assert.equal(m.dark, undefined);
  assert.equal(m.bias?.group, 'dark_1s_-32C_bin2x2_100x80');
  const s = m.bias!.standIn!;
  assert.deepEqual({ ...s }, { master: 'dark_1s_-32C_bin2x2_100x80', kind: 'dark', exposure: 1, rateFrom: [1, 3], darkRateAdu: 1, darkSignalAdu: 1, darkSignalE: 0.37, pctOfSignal: 0.167, of: "the lights' sky" });
  assert.match(m.bias!.reason, /^no bias frames: the 1 s dark master dark_1s_\S+ stands in as the bias \(the shortest dark of the same camera, binning, gain\/offset and temperature\)/);
  assert.match(m.bias!.reason, /it carries a dark signal of 1 ADU, 0\.37 e-, 0\.17% of the lights' sky \(dark current 1 ADU\/s from the levels of the darks of 1 s, 3 s\)/);
  assert.ok(m.flat, 'the pedestal is removed: the flat is applied');
  assert.equal(m.reasons[0], m.bias!.reason);
  assert.match(m.warnings.join(' '), /no dark of the lights' exposure \(60 s, -31 C\) and no bias: the 1 s dark master \S+ stands in as the bias; the lights' own dark current \(about 59 ADU\) is not removed/);
  // Darks of one exposure: the stand-in still serves, its dark signal is not estimated.
  const one = cal([...many(3, () => fr('dark', 1, -31, { level: 1000 })), ...flats()]);
  const m1 = matchLight(lg, one);
  assert.equal(m1.bias?.standIn?.darkSignalAdu, undefined);
  assert.match(m1.bias!.reason, /dark signal is not estimated \(darks of one exposure only/);
  // A flat-dark stands in too (the shortest of darks and flat-darks).
  const fd = cal([...many(3, () => fr('flatdark', 0.5, -31, { level: 1000 })), ...many(3, () => fr('dark', 1, -31, { level: 1000 })), ...flats()]);
  assert.equal(matchLight(lg, fd).bias?.standIn?.kind, 'flatdark');
  assert.match(matchLight(lg, fd).bias!.reason, /the 0\.5 s flat-dark master/);
});

test('exposures match within 2% or 0.01 s: darks of 1 s and 1.5 s are two masters, and the 1 s one stands in as the bias', () => {
  // the issue's night: darks of 1 s and 1.5 s only, no bias, 60 s lights
  const frames = [...many(3, () => fr('dark', 1, -31, { level: 1000.5 })), ...many(3, () => fr('dark', 1.5, -31, { level: 1001 })), ...flats()];
  const c = cal(frames);
  const darks = c.filter((g) => g.kind === 'dark').map((g) => [g.id, g.exposure, g.frames.length]);
  assert.deepEqual(darks, [['dark_1.5s_-30C_bin2x2_100x80', 1.5, 3], ['dark_1s_-30C_bin2x2_100x80', 1, 3]]);
  const m = matchLight(light(60, -31, 1600.5), c);
  assert.equal(m.bias?.group, 'dark_1s_-30C_bin2x2_100x80');
  // 1 ADU over 0.5 s between the two masters: 1 ADU/s, so the 1 s stand-in carries 1 ADU (0.37 e-)
  assert.deepEqual({ ...m.bias!.standIn! }, { master: 'dark_1s_-30C_bin2x2_100x80', kind: 'dark', exposure: 1, rateFrom: [1, 1.5], darkRateAdu: 1, darkSignalAdu: 1, darkSignalE: 0.37, pctOfSignal: 0.167, of: "the lights' sky" });
  // a header's rounding is the same exposure; 2% of the longer, at least 0.01 s
  for (const [a, b, same] of [[60, 60.02, true], [300, 306, true], [300, 306.5, false], [1, 1.01, true], [1, 1.02, true], [1, 1.03, false], [0, 0.01, true], [0, 0.011, false], [1, 1.5, false]] as const) {
    assert.equal(sameExposure(a, b), same, `${a} s vs ${b} s`);
  }
  // darks of 60 s and 60.4 s: one group; lights of 60 s match it exactly
  const close = cal([...many(2, () => fr('dark', 60, -31, { level: 1060 })), ...many(2, () => fr('dark', 60.4, -31, { level: 1060 })), ...flats()]);
  assert.equal(close.filter((g) => g.kind === 'dark').length, 1);
  assert.equal(matchLight(light(60), close).dark?.mode, 'exact');
  // flats of 1 s to 1.4 s (sky flats) stay one group: the normalization takes out their level
  assert.equal(cal([...flats(1), ...flats(1.2), ...flats(1.4)]).filter((g) => g.kind === 'flat').length, 1);
});

test('3b. the dark current never comes out negative; the rate needs two exposures at the target temperature', () => {
  const c = cal([...many(2, () => fr('dark', 1, -31, { level: 1001 })), ...many(2, () => fr('dark', 3, -31, { level: 1000 })), ...many(2, () => fr('dark', 10, -10, { level: 1500 }))]);
  const lg = light(60);
  assert.deepEqual(darkRate(lg, c), { rate: 0, exposures: [1, 3] });
  assert.equal(darkRate(lg, c.filter((g) => g.exposure !== 3)), undefined, 'the -10 C dark does not count at -31 C');
});

test('3c. a stand-in must match: same temperature, shorter than the lights, compatible', () => {
  // Only darks at another temperature, or longer than the lights: no stand-in.
  const warm = cal([...many(3, () => fr('dark', 1, -10, { level: 1000 })), ...flats()]);
  assert.equal(standInBias(light(60), warm), undefined);
  assert.equal(matchLight(light(60), warm).bias, undefined);
  const long = cal([...many(3, () => fr('dark', 600, -31, { level: 1100 })), ...flats()]);
  const m = matchLight(light(60), long);
  assert.equal(m.dark?.mode, 'unscaled', 'a longer dark alone is used unscaled (as before), never as a stand-in');
  assert.equal(m.bias, undefined);
});

test('5. nothing removes the pedestal: the flat is not applied, loudly', () => {
  const c = cal([...flats(), ...many(3, () => fr('dark', 1, -10, { level: 1000 }))]);
  const m = matchLight(light(60), c);
  assert.equal(m.dark, undefined);
  assert.equal(m.bias, undefined);
  assert.equal(m.flat, undefined);
  assert.equal(m.warnings.length, 2, m.warnings.join('\n'));
  assert.match(m.warnings[0]!, /no dark and no bias for 60 s lights at -31 C: nothing removes the bias pedestal \(.*overscan is not detected\)/);
  assert.match(m.warnings[1]!, /flat flat_1s_\S+ NOT applied: the lights keep their bias pedestal, and dividing a bias pedestal by the flat would print the flat's vignetting and pixel pattern into every light; vignetting and dust are not corrected/);
  assert.deepEqual(m.reasons, []);
});

test('a flat whose pedestal nothing removes is not used; another flat group of the filter is', () => {
  // 60 s lights with their exact dark; 2 s flats with nothing of their exposure; 5 s flats with their dark.
  const frames = [...many(3, () => fr('dark', 60, -31, { level: 1010 })), ...flats(2, -31, 3)];
  const m = matchLight(light(60), cal(frames));
  assert.equal(m.dark?.mode, 'exact');
  assert.equal(m.flat, undefined);
  assert.match(m.warnings.join(' '), /flat flat_2s_\S+ NOT applied: nothing removes the flats' own bias pedestal/);
  const c2 = cal([...frames, ...flats(5, -31, 2), ...many(2, () => fr('dark', 5, -31, { level: 1000 }))]);
  const m2 = matchLight(light(60), c2);
  assert.equal(m2.flat?.group, 'flat_5s_-30C_bin2x2_100x80_L');
  assert.match(m2.flat!.reason, /largest of 2 flat groups whose pedestal can be removed: not flat_2s_/);
  // A library master flat is already calibrated.
  const lib = cal(flats(2, -31, 1)).map((g) => ({ ...g, id: `lib_${g.key}`, library: `/lib/master_${g.key}.fits` }));
  assert.equal(matchLight(light(60), [...cal(frames.slice(0, 3)), ...lib]).flat?.group, lib[0]!.id);
});

test('flats: flat-dark, else a dark of their exposure, else the bias, else the stand-in, else not used', () => {
  const fl = flats(1.2);
  const pick = (frames: Frame[]) => {
    const c = cal([...fl, ...frames]);
    return matchFlat(c.find((g) => g.kind === 'flat')!, c);
  };
  assert.ok(pick([fr('flatdark', 1.2, -31), fr('dark', 1.2, -31), fr('bias', 0, -31)]).flatdark);
  assert.ok(pick([fr('dark', 1.2, -31), fr('bias', 0, -31)]).dark);
  assert.equal(pick([fr('bias', 0, -31), fr('dark', 0.5, -31)]).bias?.standIn, undefined);
  const s = pick([fr('dark', 0.5, -31, { level: 1000 }), fr('dark', 300, -31, { level: 1030 })]);
  assert.equal(s.bias?.group, 'dark_0.5s_-30C_bin2x2_100x80');
  assert.equal(s.bias?.standIn?.exposure, 0.5);
  assert.match(s.bias!.reason, /^no flat-dark of 1\.2 s and no bias: no bias frames: the 0\.5 s dark master \S+ stands in as the bias/);
  assert.match(s.bias!.reason, /% of the flats' signal/);
  assert.deepEqual(s.warnings, []);
  // A dark far longer than the flats (its hot pixels would dig holes in the flat) does not stand in.
  const none = pick([fr('dark', 300, -31, { level: 1030 })]);
  assert.equal(none.bias, undefined);
  assert.match(none.warnings[0]!, /no flat-dark and no bias \(nor a dark to stand in as the bias\): the flats' bias pedestal cannot be removed, so this flat is not used/);
});

test('the real night: one group per kind at -31 C (no 2 C bucket split), the 1 s darks stand in and calibrate the flats', () => {
  // CCD-TEMP wobbling around -31 C, half of it in the -30 bucket, half in the -32 one.
  const frames = [
    ...[-31.05, -30.95, -31.02, -30.97].map((t) => fr('dark', 1, t, { level: 1000 })),
    ...[-31.04, -30.96, -31.01].map((t) => fr('flat', 1, t, { filter: 'L', level: 21000 })),
    ...[-31.03, -30.98, -31.0].map((t) => fr('light', 60, t, { filter: 'L', level: 1650 })),
  ];
  const g = groupNight(frames);
  assert.deepEqual(g.calibration.map((c) => `${c.id}:${c.frames.length}`), ['dark_1s_-30C_bin2x2_100x80:4', 'flat_1s_-30C_bin2x2_100x80_L:3']);
  const [m] = g.matches;
  assert.equal(m!.bias?.group, 'dark_1s_-30C_bin2x2_100x80');
  assert.equal(m!.flat?.group, 'flat_1s_-30C_bin2x2_100x80_L');
  assert.equal(g.flatCalibration[0]!.dark?.group, 'dark_1s_-30C_bin2x2_100x80');
  assert.ok(g.used.has('dark_1s_-30C_bin2x2_100x80'));
  assert.ok(!g.warnings.some((w) => /no dark and no bias/.test(w)), g.warnings.join('\n'));
});
