/**
 * One night as imagers really have them: a mono CCD with two filters (L with matching darks; R with
 * shorter lights and no darks of its own, so the 120 s darks are scaled by optimization), plus a
 * one-shot-colour CMOS camera on the same target. `darkroom run` must build the right masters for
 * each group, explain its choices, and produce stacks that agree with the simulator's truth.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, renameSync } from 'node:fs';
import { basename, join } from 'node:path';
import { correlation } from '../helpers/image.js';
import { fileTempDir, runCli } from '../helpers/env.js';
import { simulateSession, sensorModel, type SessionFiles } from '../../src/devices/sim/index.js';
import { readFits } from '../../src/fits/index.js';
import { median } from '../../src/image/stats.js';
import type { RunReport } from '../../src/pipeline/execute.js';

describe('a mixed night: two filters, darks at another exposure, an OSC subset', () => {
  const dir = fileTempDir();
  const night = join(dir, 'night');
  const out = join(dir, 'out');
  let L: SessionFiles, R: SessionFiles;
  let dry: ReturnType<typeof runCli>, r: ReturnType<typeof runCli>;
  let report: RunReport;
  before(() => {
    const common = { width: 160, height: 120, seed: 21, starCount: 50, dither: 3, object: 'M42', sky: 3 };
    // Same seed and sensor: the same camera instance (bias pattern, hot pixels, dust) in both folders.
    L = simulateSession(join(night, 'ccd-L'), { ...common, filter: 'L', lights: 5, darks: 5, bias: 5, flats: 5, lightExposure: 120 });
    R = simulateSession(join(night, 'ccd-R'), { ...common, filter: 'R', lights: 5, darks: 0, bias: 0, flats: 5, lightExposure: 60 });
    simulateSession(join(night, 'osc'), { sensor: sensorModel('cmos', { bayer: 'RGGB' }), width: 128, height: 96, seed: 5, starCount: 40, dither: 2, filter: 'None', object: 'M42', lights: 4, darks: 4, bias: 4, flats: 4, lightExposure: 120 });
    for (const sub of ['ccd-L', 'ccd-R', 'osc']) renameSync(join(night, sub, 'truth'), join(dir, `truth-${sub}`));
    dry = runCli(['run', night, '--out', join(dir, 'out'), '--dry-run', '--json']);
    r = runCli(['run', night, '--out', out, '--json']);
    assert.equal(r.code, 0, r.stderr.slice(-3000));
    report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as RunReport;
  }, { timeout: 300_000 });

  test('the plan: one dark used exactly for L, the same dark optimized for R, the CMOS camera\'s own masters', () => {
    assert.equal(dry.code, 0, dry.stderr);
    const plan = JSON.parse(dry.stdout) as { groups: { lights: Array<{ filter?: string; exposure: number; cfa?: string; dark?: string; darkMode?: string; bias?: string; flat?: string; reasons: string[] }> } };
    const lights = plan.groups.lights;
    assert.equal(lights.length, 3, JSON.stringify(lights));
    const gL = lights.find((g) => g.filter === 'L')!;
    const gR = lights.find((g) => g.filter === 'R')!;
    const gO = lights.find((g) => g.cfa === 'RGGB')!;
    assert.ok(gL && gR && gO, 'groups for L, R and the OSC camera');
    assert.match(gL.darkMode ?? '', /exact/);
    assert.equal(gR.dark, gL.dark, 'R uses the 120 s dark of the same camera');
    assert.match(gR.darkMode ?? '', /optimi/);
    assert.ok(gR.bias, 'dark optimization needs the bias');
    assert.match(gR.reasons.join(' '), /120 s/);
    assert.notEqual(gO.dark, gL.dark, 'the CMOS camera gets its own dark');
    assert.notEqual(gR.flat, gL.flat, 'flats per filter');
  });

  test('the right masters: bias + dark + flat L + flat R (CCD), bias + dark + flat (CMOS)', () => {
    assert.equal(report.stacks.length, 3, JSON.stringify(report.stacks.map((s) => s.path)));
    const kinds = report.masters.map((m) => `${m.kind}:${m.exposure}`).sort();
    // bias + dark + flat L + flat R (CCD), bias + dark + flat (CMOS)
    assert.equal(kinds.filter((k) => k.startsWith('flat:')).length, 3, kinds.join(' '));
    assert.equal(kinds.filter((k) => k.startsWith('dark:')).length, 2, kinds.join(' '));
  });

  test('the mono stacks agree with the truth of their reference frame (background level and structure)', () => {
    for (const [filter, sim, sub] of [['L', L, 'ccd-L'], ['R', R, 'ccd-R']] as const) {
      const st = report.stacks.find((s) => s.filter === filter)!;
      const stack = readFits(join(out, st.path));
      const refName = basename(st.reference!);
      const k = sim.lights.findIndex((p) => basename(p) === refName);
      assert.ok(k >= 0, `${filter} reference ${st.reference}`);
      const truth = readFits(join(dir, `truth-${sub}`, basename(sim.truthSignals[k]!)));
      const ratio = median(stack.data[0]!) / median(truth.data[0]!);
      assert.ok(Math.abs(ratio - 1) < 0.04, `${filter}: stack background / truth = ${ratio}`);
      const c = correlation(stack.data[0]!, truth.data[0]!, stack.width, stack.height, 8);
      assert.ok(c > 0.97, `${filter}: correlation with the truth ${c}`);
    }
  });

  test('the OSC stack is RGB', () => {
    const osc = readFits(join(out, report.stacks.find((s) => !['L', 'R'].includes(String(s.filter)))!.path));
    assert.equal(osc.channels, 3);
  });
});
