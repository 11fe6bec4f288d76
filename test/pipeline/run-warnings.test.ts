/**
 * A step's warnings leave the run as they are raised: executePlan sends each as a 'warning' event
 * naming its step, before that step's step-done and the later steps' (so before the run's promise
 * resolves), and the report holds the plan's warnings followed by exactly the warnings sent, once each.
 * The night has 3 bias frames: the master bias step falls back from winsorized rejection (it needs 4).
 * `darkroom run` (no terminal) prints it once, as a `warning:` line when it comes, not again at the end.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { runCli, useTempDir } from '../helpers/env.js';
import { simulatedNight } from '../helpers/night.js';
import { buildPlan } from '../../src/pipeline/plan.js';
import { executePlan, type RunEvent, type WarningRunEvent } from '../../src/pipeline/execute.js';
import type { WarningEvent } from '../../src/util/warnings.js';

/** The warning an event carries (without its type and step). */
const warningOf = ({ type: _t, step: _s, ...w }: WarningRunEvent): WarningEvent => w;

test('executePlan: a step\'s warning is sent as an event with its step while the run goes, once, and the report has the same', async (t) => {
  const dir = useTempDir(t);
  const night = join(dir, 'night');
  simulatedNight(night, { width: 64, height: 48, lights: 5, darks: 5, bias: 3, flats: 5, dither: 2, lightExposure: 60, seed: 5, starCount: 25, object: 'M1', filter: 'L' }, join(dir, 'truth'));
  const plan = buildPlan(night, join(dir, 'out'), { solve: false });
  const bias = plan.steps.find((s) => s.kind === 'master' && /master_bias/.test(s.outputs[0]!))!;
  const integrate = plan.steps.find((s) => s.kind === 'integrate')!;
  assert.ok(bias && integrate, plan.steps.map((s) => s.id).join(' '));

  const events: Array<{ e: RunEvent }> = [];
  const lines: string[] = [];
  const report = await executePlan(plan, { onEvent: (e) => events.push({ e }), log: (l) => lines.push(l) });

  const warnings = events.map((x) => x.e).filter((e): e is WarningRunEvent => e.type === 'warning');
  const at = (pred: (e: RunEvent) => boolean): number => events.findIndex((x) => pred(x.e));
  const w = at((e) => e.type === 'warning' && e.step === bias.id);
  assert.ok(w >= 0, `no warning event of ${bias.id}: ${JSON.stringify(warnings)}`);
  const ev = events[w]!.e as WarningRunEvent;
  assert.deepEqual({ code: ev.code, file: ev.file }, { code: 'STEP_WARNING', file: bias.outputs[0] });
  assert.match(ev.message, /^winsorized rejection needs at least 4 frames \(got 3\)/);
  // while the step runs: after its start, before its own end and before the stack's
  const biasStart = at((e) => e.type === 'step-start' && e.id === bias.id);
  const biasDone = at((e) => e.type === 'step-done' && e.id === bias.id);
  const stackDone = at((e) => e.type === 'step-done' && e.id === integrate.id);
  assert.ok(biasStart >= 0 && biasStart < w && w < biasDone && biasDone < stackDone, `start ${biasStart}, warning ${w}, done ${biasDone}, stack done ${stackDone}`);
  // each warning a step raised names a step of the plan, and a step warning about an output names the step that writes it
  for (const x of warnings) {
    const s = plan.steps.find((p) => p.id === x.step);
    assert.ok(s, `warning without its step: ${JSON.stringify(x)}`);
    if (x.code === 'STEP_WARNING' && x.file && !x.file.startsWith('/')) assert.ok(s.outputs.includes(x.file), JSON.stringify(x));
  }
  // the report: the plan's warnings, then the ones sent, in the order sent, each once
  assert.deepEqual(report.warning_events, [...(plan.warningEvents ?? []), ...warnings.map(warningOf)]);
  assert.deepEqual(warnings.map((x) => [x.step, x.code]), [[bias.id, 'STEP_WARNING']], 'the only warning of the run: 5 darks, flats and lights are enough');
  // the log has a line for each event, where it came: the warning's names the step and the file
  assert.equal(lines[w], `warning: ${bias.id}: ${bias.outputs[0]}: ${ev.message}`);
  assert.match(lines[biasDone]!, new RegExp(`^\\[\\d+/\\d+\\] ${bias.id.replace(/[^\w]/g, '.')}: done in`));
});

test('darkroom run prints a step\'s warning once, between the step\'s progress lines, and not again in the summary', (t) => {
  const dir = useTempDir(t);
  const night = join(dir, 'night');
  simulatedNight(night, { width: 64, height: 48, lights: 5, darks: 5, bias: 3, flats: 5, dither: 2, lightExposure: 60, seed: 5, starCount: 25, object: 'M1', filter: 'L' }, join(dir, 'truth'));
  const r = runCli(['run', night, '--out', join(dir, 'out'), '--no-solve']);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stderr.split('\n');
  const w = lines.findIndex((l) => /^warning: master:bias_\S+: masters\/master_bias_\S+\.fits: winsorized rejection needs at least 4 frames \(got 3\)/.test(l));
  assert.ok(w > 0, r.stderr);
  assert.match(lines[w - 1]!, /^\[1\/\d+\] master:bias_\S+: master \(3 input\(s\)\)$/);
  assert.match(lines[w + 1]!, /^\[1\/\d+\] master:bias_\S+: done in/);
  assert.equal(`${r.stderr}${r.stdout}`.split('winsorized rejection').length - 1, 1, `printed more than once:\n${r.stderr}${r.stdout}`);
  assert.match(r.stdout, /^1 stack\(s\) in /);
});
