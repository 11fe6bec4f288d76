/**
 * Calibration policy in the plan (issue 15): the stand-in bias's details as structured fields of
 * the plan (groups) and of report.json, the reason's words made from them; case 5 (nothing removes
 * the pedestal) under its own warning code, refused by --strict by that code; the integrate step's
 * reason names the combination actually used.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { useTempDir } from '../helpers/env.js';
import { writeFrame } from '../session/night-fixture.js';
import { buildPlan } from '../../src/pipeline/plan.js';
import { checkStrict } from '../../src/pipeline/plan-summary.js';
import { buildRunReport } from '../../src/pipeline/report.js';
import { newRunState } from '../../src/pipeline/scheduler.js';
import { standInText } from '../../src/session/group.js';
import { isDarkroomError } from '../../src/util/errors.js';

const kw = (type: string, exp: number, extra: Record<string, string | number> = {}): Record<string, string | number> => ({ IMAGETYP: type, EXPTIME: exp, 'CCD-TEMP': -10, EGAIN: 0.5, ...extra });

test('the stand-in bias: which dark, its exposure and its dark signal (ADU, e-, % of the sky) as fields of the plan and report.json', (t) => {
  const dir = useTempDir(t);
  // darks of 1 s at 500 ADU and 3 s at 504 ADU (+20 each, the fixture's dark): 2 ADU/s; no bias, no 60 s dark
  for (let i = 0; i < 3; i++) writeFrame(dir, { path: `darks/D1_${i}.fits`, pixels: 'dark', level: 500, seed: 40 + i, keywords: kw('DARK', 1) });
  for (let i = 0; i < 3; i++) writeFrame(dir, { path: `darks/D3_${i}.fits`, pixels: 'dark', level: 504, seed: 50 + i, keywords: kw('DARK', 3) });
  for (let i = 0; i < 3; i++) writeFrame(dir, { path: `lights/L_${i}.fits`, pixels: 'sky', seed: 60 + i, keywords: kw('LIGHT', 60, { OBJECT: 'M27', FILTER: 'R' }) });
  const plan = buildPlan(dir, join(dir, 'out'));
  const lg = plan.groups.lights[0]!;
  const s = lg.standIn!;
  assert.ok(s, JSON.stringify(lg));
  assert.equal(s.master, lg.bias);
  assert.match(s.master, /^dark_1s_/);
  assert.equal(s.kind, 'dark');
  assert.equal(s.exposure, 1);
  assert.deepEqual(s.rateFrom, [1, 3]);
  // the medians of 48x40 pixels of noise 5: the rate within 0.3 ADU/s of the 2 ADU/s put in
  assert.ok(Math.abs(s.darkRateAdu! - 2) < 0.3, `rate ${s.darkRateAdu}`);
  assert.ok(Math.abs(s.darkSignalAdu! - s.darkRateAdu! * 1) < 0.01);
  assert.ok(Math.abs(s.darkSignalE! - 0.5 * s.darkSignalAdu!) < 0.01, 'e- = ADU x EGAIN 0.5');
  assert.ok(s.pctOfSignal! > 0 && s.pctOfSignal! < 10, `pct ${s.pctOfSignal}`);
  assert.equal(s.of, "the lights' sky");
  // the reason's words are made from these fields
  const cal = plan.steps.find((x) => x.kind === 'calibrate')!;
  assert.ok(cal.reason.includes(standInText(s)), cal.reason);
  assert.ok(lg.reasons[0]!.includes(`the 1 s dark master ${s.master} stands in as the bias`));
  // report.json carries the same fields
  const report = buildRunReport(plan, newRunState(plan.warningEvents));
  assert.deepEqual(report.stand_in_bias, [{ group: lg.id, ...s }]);
});

test('case 5, nothing removes the pedestal: its own warning code, refused by --strict by that code', (t) => {
  const dir = useTempDir(t);
  for (let i = 0; i < 3; i++) writeFrame(dir, { path: `lights/L_${i}.fits`, pixels: 'sky', seed: 10 + i, keywords: kw('LIGHT', 60, { OBJECT: 'M27', FILTER: 'R' }) });
  const plan = buildPlan(dir, join(dir, 'out'));
  const nothing = plan.warningEvents.filter((w) => w.code === 'PEDESTAL_NOT_REMOVED');
  assert.equal(nothing.length, 1);
  assert.match(nothing[0]!.message, /no dark and no bias for 60 s lights at -10 C: nothing removes the bias pedestal/);
  // the other warning (no flat) keeps its code; the pedestal one is not also MISSING_CALIBRATION
  assert.deepEqual(plan.warningEvents.filter((w) => w.code === 'MISSING_CALIBRATION').map((w) => /no flat for filter R/.test(w.message)), [true]);
  assert.throws(
    () => checkStrict(nothing, dir),
    (e: unknown) => isDarkroomError(e) && e.code === 'TOO_FEW' && /^missing calibration \(--strict\): .*nothing removes the bias pedestal/.test(e.message),
  );
  assert.throws(() => buildPlan(dir, join(dir, 'out'), { strict: true }), (e: unknown) => isDarkroomError(e) && /nothing removes the bias pedestal/.test(e.message));
});

test('the integrate step says the combination used: median with --combine median, average by default', (t) => {
  const dir = useTempDir(t);
  for (let i = 0; i < 3; i++) writeFrame(dir, { path: `darks/D_${i}.fits`, pixels: 'dark', seed: 70 + i, keywords: kw('DARK', 60) });
  for (let i = 0; i < 3; i++) writeFrame(dir, { path: `lights/L_${i}.fits`, pixels: 'sky', seed: 80 + i, keywords: kw('LIGHT', 60, { OBJECT: 'M27', FILTER: 'R' }) });
  const reason = (o: Parameters<typeof buildPlan>[2]): string => buildPlan(dir, join(dir, 'out'), o).steps.find((x) => x.kind === 'integrate')!.reason;
  assert.match(reason({ integration: { combine: 'median' } }), /^3 frame\(s\), 180 s total: median with winsorized rejection, additive-scaling normalization, noise weights$/);
  assert.match(reason({}), /: average with winsorized rejection/);
});
