/**
 * Issue 15, the real night: a CCD at -31 C, bin 2x2, no bias frames, short darks only (1 s and 3 s
 * here: 1.5 s darks would join the 1 s group, 0.5 s exposure tolerance), 60 s lights and 1 s flats. Dividing the raw lights (bias pedestal included) by the flat prints the
 * flat's vignetting into every light; the 1 s dark master must stand in as the bias instead. The
 * stack is compared with the truth (stack = a * truth + b): the large-scale residual must be as small
 * as on the same night shot with bias frames.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { basename, join } from 'node:path';
import { tempDir, runCli } from '../helpers/env.js';
import { NightWriter, sensorModel, simulateSession, type SessionFiles } from '../../src/devices/sim/index.js';
import { readFits } from '../../src/fits/index.js';
import { median } from '../../src/image/stats.js';
import { buildPlan, type Plan } from '../../src/pipeline/plan.js';
import { isDarkroomError } from '../../src/util/errors.js';
import type { RunReport } from '../../src/pipeline/execute.js';

const TEMP = -31;

/** The real night's shape (bias frames only when asked): 256x192 pixels binned 2x2, 15% vignetting, pedestal 1000 ADU. */
function shootNight(night: string, truth: string, withBias: boolean): SessionFiles {
  const sensor = sensorModel('kaf8300', { width: 256, height: 192, vignetting: 0.15, biasLevel: 1000 });
  const sim = simulateSession(night, {
    sensor, seed: 15, binning: 2, ccdTemp: TEMP, filter: 'L', object: 'M27', starCount: 40, dither: 2, sky: 1,
    lights: 6, lightExposure: 60, darks: 5, darkExposure: 1, flats: 5, flatExposure: 1, bias: withBias ? 5 : 0,
  });
  renameSync(join(night, 'truth'), truth);
  // 3 s darks of the same camera (their own frame seeds: no duplicate of the 1 s darks' noise).
  const w = new NightWriter(sim.camera, { start: Date.UTC(2024, 0, 16, 5, 0, 0), gapS: 5, seed: (n) => 5000 + n });
  for (let i = 1; i <= 4; i++) w.shoot('dark', join(night, 'darks-3s', `Dark_3s_00${i}.fits`), TEMP, { exposure: 3, binning: 2 });
  return sim;
}

/** Peak-to-valley of the 16x16 block medians of stack - (a * truth + b), in % of the stack's sky (a * truth sky). */
function largeScaleResidualPct(stack: Float32Array, truth: Float32Array, w: number, h: number, margin: number): number {
  let n = 0, st = 0, ss = 0, stt = 0, sts = 0;
  for (let y = margin; y < h - margin; y++) for (let x = margin; x < w - margin; x++) {
    const t = truth[y * w + x]!, s = stack[y * w + x]!;
    n++; st += t; ss += s; stt += t * t; sts += t * s;
  }
  const a = (n * sts - st * ss) / (n * stt - st * st);
  const b = (ss - a * st) / n;
  const blocks: number[] = [];
  for (let by = margin; by + 16 <= h - margin; by += 16) for (let bx = margin; bx + 16 <= w - margin; bx += 16) {
    const r: number[] = [];
    for (let y = by; y < by + 16; y++) for (let x = bx; x < bx + 16; x++) r.push(stack[y * w + x]! - a * truth[y * w + x]! - b);
    blocks.push(median(r));
  }
  return (100 * (Math.max(...blocks) - Math.min(...blocks))) / (a * median(truth));
}

/** Run the night; the stack's large-scale residual against the truth of its reference light. */
function runAndMeasure(night: string, out: string, truth: string, sim: SessionFiles): { report: RunReport; residualPct: number } {
  const r = runCli(['run', night, '--out', out, '--json']);
  assert.equal(r.code, 0, r.stderr.slice(-3000));
  const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as RunReport;
  assert.equal(report.stacks.length, 1, JSON.stringify(report.stacks));
  const st = report.stacks[0]!;
  const k = sim.lights.findIndex((p) => basename(p) === basename(st.reference!));
  assert.ok(k >= 0, `reference ${st.reference}`);
  const stack = readFits(join(out, st.path));
  const t = readFits(join(truth, basename(sim.truthSignals[k]!)));
  return { report, residualPct: largeScaleResidualPct(stack.data[0]!, t.data[0]!, stack.width, stack.height, 8) };
}

test('no bias and only short darks: the 1 s dark master stands in as the bias; the stack has no vignetting imprint', { timeout: 120_000 }, (t) => {
  const { dir, cleanup } = tempDir();
  try {
    const night = join(dir, 'night');
    const sim = shootNight(night, join(dir, 'truth'), false);

    // The plan says which master removes the pedestal and why.
    const dry = runCli(['run', night, '--out', join(dir, 'out'), '--dry-run', '--json']);
    assert.equal(dry.code, 0, dry.stderr);
    const plan = JSON.parse(dry.stdout) as Plan;
    const lg = plan.groups.lights[0]!;
    assert.equal(plan.groups.lights.length, 1);
    const dark1 = plan.groups.calibration.find((g) => g.kind === 'dark' && g.exposure === 1)!;
    assert.ok(dark1, JSON.stringify(plan.groups.calibration));
    assert.equal(lg.bias, dark1.id, 'the 1 s dark master is the lights\' bias');
    assert.equal(lg.dark, undefined, 'no dark of 60 s, and the 3 s darks are not scaled up 20x');
    assert.ok(lg.flat, 'the flat is applied');
    const why = lg.reasons.join(' ');
    assert.match(why, /1 s dark .*stands in as the bias/);
    assert.match(why, /dark signal/);
    assert.match(why, /e-/);
    assert.match(why, /% of the lights' sky/);
    const cal = plan.steps.find((s) => s.kind === 'calibrate')!;
    assert.ok(cal.kind === 'calibrate' && cal.params.bias?.includes(dark1.id), JSON.stringify(cal.params));
    assert.match(cal.reason, /stands in as the bias/);
    assert.ok(!plan.warnings.some((x) => /no dark and no bias/.test(x)), plan.warnings.join('\n'));

    const out = join(dir, 'out');
    const { report, residualPct } = runAndMeasure(night, out, join(dir, 'truth'), sim);
    assert.ok(report.warnings.some((x) => /stands in as the bias/.test(x)), report.warnings.join('\n'));
    assert.match(readFileSync(join(out, 'report.html'), 'utf8'), /stands in as the bias/);

    // The same night with bias frames: the residual of the stand-in night is in its range.
    const night2 = join(dir, 'night-bias');
    const sim2 = shootNight(night2, join(dir, 'truth2'), true);
    const withBias = runAndMeasure(night2, join(dir, 'out2'), join(dir, 'truth2'), sim2);
    t.diagnostic(`large-scale residual: ${residualPct.toFixed(2)}% of the sky with the stand-in bias, ${withBias.residualPct.toFixed(2)}% with bias frames`);
    assert.ok(residualPct < Math.max(1.5 * withBias.residualPct, withBias.residualPct + 1), `large-scale residual ${residualPct.toFixed(2)}% of the sky (with bias frames: ${withBias.residualPct.toFixed(2)}%)`);
    assert.ok(residualPct < 3, `large-scale residual ${residualPct.toFixed(2)}% of the sky`);

    // Without the darks nothing removes the pedestal: the flat is not applied, loudly; --strict refuses.
    const bare = join(dir, 'bare');
    mkdirSync(bare);
    for (const f of [...sim.lights, ...sim.flats]) copyFileSync(f, join(bare, basename(f)));
    const p = buildPlan(bare, join(dir, 'out3'));
    assert.equal(p.groups.lights[0]!.flat, undefined, 'no flat for lights with their pedestal in');
    assert.match(p.warnings.join('\n'), /no dark and no bias for 60 s lights at -31 C: nothing removes the bias pedestal/);
    assert.match(p.warnings.join('\n'), /flat flat_1s_\S+ NOT applied: the lights keep their bias pedestal, and dividing a bias pedestal by the flat would print the flat's vignetting/);
    assert.throws(() => buildPlan(bare, join(dir, 'out3'), { strict: true }), (e: unknown) => isDarkroomError(e) && /missing calibration \(--strict\): .*NOT applied/.test(e.message));
  } finally {
    cleanup();
  }
});
