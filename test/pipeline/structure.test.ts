import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { useTempDir } from '../helpers/env.js';
import { simulatedNight } from '../helpers/night.js';
import { writeFrame } from '../session/night-fixture.js';
import { buildPlan } from '../../src/pipeline/plan.js';
import { checkStrict } from '../../src/pipeline/plan-summary.js';
import { executePlan, runEventLine, stepEventLine, type RunEvent, type StepEvent } from '../../src/pipeline/execute.js';
import { checkRunPaths } from '../../src/pipeline/safety.js';
import { checkExecutorSpec } from '../../src/pipeline/executors/index.js';
import { OptionError } from '../../src/pipeline/option-error.js';
import { buildMaster, MASTER_DEFAULTS } from '../../src/calibrate/masters.js';
import { isDarkroomError } from '../../src/util/errors.js';

test('plan warnings carry codes, and --strict decides by code, not by the words of a warning', (t) => {
  const dir = useTempDir(t);
  for (let i = 0; i < 3; i++) writeFrame(dir, { path: `lights/L_${i}.fits`, pixels: 'sky', seed: 10 + i, keywords: { IMAGETYP: 'LIGHT', EXPTIME: 60, OBJECT: 'M27', FILTER: 'R', 'CCD-TEMP': -5 } });
  const plan = buildPlan(dir, join(dir, 'out'));
  // nothing removes the lights' pedestal (its own code, issue 15 case 5), and no flat
  assert.deepEqual(plan.warningEvents.map((w) => w.code), ['PEDESTAL_NOT_REMOVED', 'MISSING_CALIBRATION']);
  assert.deepEqual(plan.warnings, plan.warningEvents.map((w) => w.message));
  // A warning of another kind whose text reads like missing calibration (a file named so) is not an error.
  assert.doesNotThrow(() => checkStrict([{ code: 'UNKNOWN_KIND', message: '1 frame(s) of unknown kind: not calibrated/does not match.fits' }], dir));
  assert.throws(() => checkStrict(plan.warningEvents, dir), (e: unknown) => isDarkroomError(e) && e.code === 'TOO_FEW');
});

test('master steps carry exactly the settings the master builder takes, and the builder uses them', async (t) => {
  const dir = useTempDir(t);
  const bias: string[] = [];
  for (let i = 0; i < 3; i++) writeFrame(dir, { path: `L_${i}.fits`, pixels: 'sky', seed: 20 + i, keywords: { IMAGETYP: 'LIGHT', EXPTIME: 60, OBJECT: 'M27', FILTER: 'R', 'CCD-TEMP': -10 } });
  for (let i = 0; i < 3; i++) writeFrame(dir, { path: `darks/D_${i}.fits`, pixels: 'dark', seed: 30 + i, keywords: { IMAGETYP: 'DARK', EXPTIME: 60, 'CCD-TEMP': -10 } });
  for (let i = 0; i < 3; i++) writeFrame(dir, { path: `flats/F_${i}.fits`, pixels: 'flat', seed: 40 + i, keywords: { IMAGETYP: 'FLAT', EXPTIME: 1, FILTER: 'R', 'CCD-TEMP': -10 } });
  for (let i = 0; i < 3; i++) bias.push(writeFrame(dir, { path: `bias/B_${i}.fits`, pixels: 'bias', seed: 50 + i, keywords: { IMAGETYP: 'BIAS', EXPTIME: 0, 'CCD-TEMP': -10 } }));
  const plan = buildPlan(dir, join(dir, 'out'));
  const masters = plan.steps.filter((s) => s.kind === 'master');
  assert.deepEqual(masters.map((s) => s.params.kind).sort(), ['bias', 'dark', 'flat']);
  for (const s of masters) assert.deepEqual(s.params.settings, MASTER_DEFAULTS[s.params.kind], s.id);
  // The settings are what the builder integrates with: another combine gives another master.
  const dflt = await buildMaster('bias', bias);
  const median = await buildMaster('bias', bias, { settings: { ...MASTER_DEFAULTS.bias, combine: 'median', reject: 'none' } });
  assert.notDeepEqual(Array.from(median.image.data[0]!), Array.from(dflt.image.data[0]!));
});

test('executePlan reports structured progress events; the log lines are made from them', async (t) => {
  const dir = useTempDir(t);
  const night = join(dir, 'night');
  const out = join(dir, 'out');
  simulatedNight(night, { width: 64, height: 48, lights: 3, darks: 3, bias: 3, flats: 3, dither: 2, lightExposure: 60, seed: 3, starCount: 25 }, join(dir, 'truth'));
  const all: RunEvent[] = [];
  const lines: string[] = [];
  const plan = buildPlan(night, out);
  await executePlan(plan, { onEvent: (e) => all.push(e), log: (l) => lines.push(l) });
  const events = all.filter((e): e is StepEvent => e.type !== 'warning');
  const total = plan.steps.filter((s) => s.kind !== 'report').length;
  const ends = events.filter((e) => e.type !== 'step-start');
  assert.deepEqual(ends.map((e) => e.index), ends.map((_e, i) => i + 1), 'finished steps counted one by one');
  assert.ok(ends.every((e) => e.type === 'step-done' && e.total === total && typeof e.seconds === 'number'), JSON.stringify(ends));
  assert.equal(events.filter((e) => e.type === 'step-start').length, ends.length);
  assert.deepEqual(lines.slice(0, all.length), all.map(runEventLine));
  assert.deepEqual(events.map(stepEventLine), events.map(runEventLine));
  assert.match(lines.at(-1)!, /^report: .*report\.json/);
  const again: RunEvent[] = [];
  await executePlan(buildPlan(night, out), { onEvent: (e) => again.push(e) });
  assert.ok(again.length > 0 && again.every((e) => e.type === 'step-reused'), JSON.stringify(again));
});

test('option errors of the pipeline name the option in words; a CLI spells its flag', (t) => {
  const dir = useTempDir(t);
  let err: unknown;
  try {
    checkRunPaths(dir, dir);
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof OptionError && err.option === 'out');
  assert.doesNotMatch(err.message, /--/);
  assert.match(err.message, /the output folder is the night folder .*: choose another output folder$/);
  assert.match(err.phrase('--out'), /: choose another --out$/);
  assert.throws(() => checkExecutorSpec('http://example.org'), (e: unknown) => e instanceof OptionError && e.message === "executor must be 'local' or a redis://HOST:PORT URL, got 'http://example.org'" && e.phrase('--executor').startsWith('--executor must be'));
});
