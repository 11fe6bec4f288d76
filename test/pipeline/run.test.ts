import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { correlation } from '../helpers/image.js';
import { fileTempDir, runCli, fitsverify, useTempDir } from '../helpers/env.js';
import { hashTree, simulatedNight } from '../helpers/night.js';
import { sensorModel, type SessionFiles } from '../../src/devices/sim/index.js';
import { messyNight, writeFrame } from '../session/night-fixture.js';
import { readFits } from '../../src/fits/index.js';
import { buildPlan } from '../../src/pipeline/plan.js';
import { executePlan, type RunReport } from '../../src/pipeline/execute.js';
import { listFitsFiles } from '../../src/session/scan.js';

function median(a: Float32Array): number {
  const s = Float32Array.from(a).sort();
  return s[s.length >> 1]!;
}

describe('darkroom run on a simulated night', () => {
  const dir = fileTempDir();
  const night = join(dir, 'night');
  const out = join(dir, 'out');
  let sim: SessionFiles;
  let inputs: Record<string, string>;
  let r: ReturnType<typeof runCli>;
  let report: RunReport;
  let st: RunReport['stacks'][number];
  let stackPath: string;
  before(() => {
    sim = simulatedNight(night, { width: 128, height: 96, lights: 5, darks: 5, bias: 5, flats: 5, dither: 3, lightExposure: 120, seed: 7, starCount: 40, object: 'M42', filter: 'L' }, join(dir, 'truth'));
    inputs = hashTree(night);
    r = runCli(['run', night, '--out', out, '--json']);
    assert.equal(r.code, 0, r.stderr);
    report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as RunReport;
    st = report.stacks[0]!;
    stackPath = join(out, st.path);
  });

  test('report.json: printed by --json; one stack, the masters as valid FITS, timing and warnings', () => {
    assert.deepEqual(JSON.parse(r.stdout), report);
    assert.equal(report.version, 1);
    assert.equal(report.stacks.length, 1);
    assert.equal(st.path, 'stacks/M42_L.fits');
    assert.equal(st.object, 'M42');
    assert.equal(st.filter, 'L');
    assert.equal(st.frames, 5);
    assert.deepEqual(st.rejected_frames, []);
    assert.equal(st.exposure_total_s, 600);
    assert.deepEqual(report.masters.map((m) => [m.kind, m.frames, m.exposure]).sort(), [['bias', 5, 0], ['dark', 5, 120], ['flat', 5, 2]]);
    for (const m of report.masters) {
      assert.ok(!m.path.startsWith('/') && existsSync(join(out, m.path)), m.path);
      assert.equal(fitsverify(join(out, m.path)).errors, 0);
    }
    assert.equal(typeof report.timing_s.total, 'number');
    assert.ok(report.timing_s.total > 0 && typeof report.timing_s.integrate === 'number');
    assert.ok(Array.isArray(report.warnings));
  });

  test('report.html shows the preview PNG', () => {
    assert.ok(readFileSync(join(out, 'report.html'), 'utf8').includes('<img src="previews/M42_L.png"'));
    assert.deepEqual([...readFileSync(join(out, 'previews/M42_L.png')).subarray(1, 4)], [0x50, 0x4e, 0x47]);
  });

  test('progress as plain log lines (stderr is not a TTY here); intermediates removed by default', () => {
    assert.match(r.stderr, /\[\d+\/\d+\] integrate:M42_L: done in/);
    assert.ok(!existsSync(join(out, 'calibrated')) && !existsSync(join(out, 'registered')));
  });

  test('the stack: valid FITS with provenance, registered onto the reference, flux-calibrated like the truth', () => {
    assert.equal(fitsverify(stackPath).errors, 0);
    const stack = readFits(stackPath);
    assert.ok(stack.header.history().some((l) => l.includes('winsorized')), 'HISTORY records the recipe');
    assert.equal(stack.header.getNumber('NCOMBINE'), 5);
    const refIndex = sim.lights.indexOf(join(out, st.reference!));
    assert.ok(refIndex >= 0, `reference ${st.reference}`);
    const truth = readFits(join(dir, 'truth', basename(sim.truthSignals[refIndex]!)));
    const s = stack.data[0]!;
    const t = truth.data[0]!;
    const ratio = median(s) / median(t);
    assert.ok(Math.abs(ratio - 1) < 0.03, `stack background / truth = ${ratio}`);
    const c = correlation(s, t, stack.width, stack.height, 6);
    assert.ok(c > 0.98, `correlation with the reference truth ${c}`);
    // A misregistered stack would not correlate: shifting the truth by 3 px drops it.
    const shifted = new Float32Array(t.length);
    for (let y = 0; y < stack.height; y++) for (let x = 3; x < stack.width; x++) shifted[y * stack.width + x] = t[y * stack.width + x - 3]!;
    assert.ok(correlation(s, shifted, stack.width, stack.height, 6) < c - 0.1);
  });

  test('inputs never modified', () => {
    assert.deepEqual(hashTree(night), inputs);
  });

  test('a re-run reuses every step and leaves the stack untouched; a real run keeps the scan cache', () => {
    const mtime = statSync(stackPath).mtimeMs;
    const r2 = runCli(['run', night, '--out', out, '--json']);
    assert.equal(r2.code, 0, r2.stderr);
    const rep2 = JSON.parse(r2.stdout) as RunReport;
    assert.ok(rep2.steps.length > 0 && rep2.steps.every((x) => x.status === 'reused'), JSON.stringify(rep2.steps));
    assert.equal(statSync(stackPath).mtimeMs, mtime);
    assert.deepEqual(rep2.stacks[0]!.reference, st.reference);
    assert.ok(existsSync(join(out, '.darkroom', 'scan-cache.json')), 'a real run keeps the scan cache');
  });
});

test('changed parameters redo only the affected steps; --force redoes all; --keep-intermediates keeps frames', async (t) => {
  const dir = useTempDir(t);
  const night = join(dir, 'night');
  const out = join(dir, 'out');
  simulatedNight(night, { width: 96, height: 72, lights: 4, darks: 4, bias: 4, flats: 4, dither: 2, lightExposure: 60, seed: 11, starCount: 30 }, join(dir, 'truth'));
  const st = (rep: RunReport): Record<string, string> => Object.fromEntries(rep.steps.map((s) => [s.id.split(':')[0]!, s.status]));
  const r1 = await executePlan(buildPlan(night, out, { keepIntermediates: true }));
  assert.ok(r1.steps.every((s) => s.status === 'done'));
  assert.equal(listFitsFiles(join(out, 'calibrated')).length, 4);
  assert.equal(listFitsFiles(join(out, 'registered')).length, 4);
  // Another rejection: masters, calibration, registration reused; integration redone.
  const r2 = await executePlan(buildPlan(night, out, { keepIntermediates: true, reject: 'sigma' }));
  const s2 = Object.fromEntries(r2.steps.map((s) => [s.id, s.status]));
  for (const [id, status] of Object.entries(s2)) {
    if (id.startsWith('integrate:') || id.startsWith('preview:')) assert.equal(status, 'done', id);
    else assert.equal(status, 'reused', id);
  }
  assert.ok(readFits(join(out, 'stacks/M_42_Luminance.fits')).header.history().some((l) => /sigma/.test(l)));
  // Another pedestal: calibration and everything after it redone, masters reused.
  const r3 = await executePlan(buildPlan(night, out, { keepIntermediates: true, reject: 'sigma', pedestal: 50 }));
  assert.deepEqual(st(r3), { master: 'reused', calibrate: 'done', register: 'done', integrate: 'done', preview: 'done' });
  // --force: all redone; --reference picks the registration reference; --library stores the masters.
  const lib = join(dir, 'lib');
  const refLight = listFitsFiles(night).filter((p) => /Light_/.test(p))[2]!;
  const r4 = await executePlan(buildPlan(night, out, { keepIntermediates: true, reject: 'sigma', pedestal: 50, force: true, reference: refLight, library: lib }));
  assert.ok(r4.steps.every((s) => s.status === 'done'));
  assert.equal(join(out, r4.stacks[0]!.reference!), refLight);
  assert.deepEqual(readdirSync(lib).sort(), ['master_bias_0s_-10C_bin1x1_96x72.fits', 'master_dark_60s_-10C_bin1x1_96x72.fits', 'master_flat_2s_-10C_bin1x1_96x72_Luminance.fits']);
  // A night of lights only takes its masters from the library.
  const night2 = join(dir, 'night2');
  mkdirSync(night2);
  for (const p of listFitsFiles(night).filter((p) => /Light_/.test(p))) copyFileSync(p, join(night2, basename(p)));
  const plan2 = buildPlan(night2, join(dir, 'out2'), { library: lib });
  // The dark matches exactly and the flat is already calibrated: the library bias is not needed.
  assert.deepEqual(plan2.steps.filter((s) => s.kind === 'reuse-master').map((s) => s.params.kind).sort(), ['dark', 'flat']);
  assert.deepEqual(plan2.warnings, []);
  const r5 = await executePlan(plan2);
  assert.equal(r5.stacks[0]!.frames, 4);
  assert.deepEqual(r5.masters.map((m) => [m.kind, m.frames]).sort(), [['dark', 4], ['flat', 4]]);
});

test('one-shot-colour CMOS night with clamped darks: no dark scaling, debayer, cosmetic, drizzled RGB stack', async (t) => {
  const dir = useTempDir(t);
  const night = join(dir, 'night');
  const out = join(dir, 'out');
  simulatedNight(night, { sensor: sensorModel('cmos', { bayer: 'RGGB' }), width: 128, height: 96, lights: 4, darks: 4, bias: 4, flats: 4, dither: 2, lightExposure: 120, darkExposure: 180, seed: 5, starCount: 40, filter: 'None' }, join(dir, 'truth'));
  const plan = buildPlan(night, out, { drizzle: 2, cosmetic: true });
  // Amp glow and hot pixels in the darks are not stars: every frame keeps its header kind.
  assert.deepEqual(plan.frames.byKind, { bias: 4, dark: 4, flat: 4, light: 4 });
  assert.equal(plan.frames.reclassified.length, 0);
  const lg = plan.groups.lights[0]!;
  assert.equal(lg.cfa, 'RGGB');
  assert.equal(lg.darkMode, 'unscaled');
  assert.equal(lg.bias, undefined);
  assert.match(lg.reasons.join(' '), /dark-darker-than-bias .* nearest dark \(180 s for 120 s lights\) without scaling|nearest dark \(180 s for 120 s lights\) without scaling: the sensor shows dark-darker-than-bias/);
  const deb = plan.steps.find((s) => s.kind === 'debayer')!;
  assert.deepEqual(deb.params, { method: 'rcd', pattern: 'RGGB' });
  const rep = await executePlan(plan);
  assert.equal(rep.stacks.length, 1);
  assert.equal(rep.stacks[0]!.frames, 4);
  const stack = readFits(join(out, rep.stacks[0]!.path));
  assert.equal(stack.channels, 3);
  assert.deepEqual([stack.width, stack.height], [256, 192], 'drizzled at 2x');
  assert.equal(fitsverify(join(out, rep.stacks[0]!.path)).errors, 0);
  // Calibrated with the unscaled dark: no pixel clipping warnings, positive background in each channel.
  for (const c of stack.data) assert.ok(median(c) > 0);
});

test('a stack that cannot be made is reported and the others are still made; none at all is an error', (t) => {
  const dir = useTempDir(t);
  const night = join(dir, 'night');
  for (let i = 0; i < 3; i++) writeFrame(night, { path: `A/a_${i}.fits`, pixels: 'sky', seed: 40 + i, keywords: { IMAGETYP: 'LIGHT', EXPTIME: 60, OBJECT: 'A', FILTER: 'R', RA: 10, DEC: 10 } });
  // Lights with no stars at all (clouds): kept as lights, but no registration reference.
  for (let i = 0; i < 3; i++) writeFrame(night, { path: `B/b_${i}.fits`, pixels: 'bias', level: 900, seed: 50 + i, keywords: { IMAGETYP: 'LIGHT', EXPTIME: 60, OBJECT: 'B', FILTER: 'R', RA: 100, DEC: 10 } });
  const r = runCli(['run', night, '--out', join(dir, 'out'), '--json']);
  assert.equal(r.code, 0, r.stderr);
  const rep = JSON.parse(r.stdout) as RunReport;
  assert.deepEqual(rep.stacks.map((s) => s.path), ['stacks/A_R.fits']);
  assert.ok(rep.warnings.some((w) => /^stacks\/B_R\.fits not produced: .*no frame has enough stars/.test(w)), rep.warnings.join('\n'));
  assert.ok(rep.steps.some((s) => s.id === 'register:B_R' && s.status === 'failed'));
  const onlyB = runCli(['run', join(night, 'B'), '--out', join(dir, 'out2')]);
  assert.equal(onlyB.code, 2);
  assert.match(onlyB.stderr, /darkroom: .*B: no stack could be made .*no frame has enough stars/);
});

test('the messy night runs end to end: duplicates used once, reclassified frames in the right masters', async (t) => {
  const dir = useTempDir(t);
  const night = join(dir, 'night');
  messyNight(night);
  const rep = await executePlan(buildPlan(night, join(dir, 'out')));
  assert.deepEqual(rep.stacks.map((s) => [s.path, s.frames, s.exposure_total_s]), [['stacks/M42_L.fits', 8, 2400], ['stacks/NGC_7000_Ha.fits', 3, 540]]);
  const m = Object.fromEntries(rep.masters.map((x) => [x.path, x.frames]));
  assert.equal(m['masters/master_dark_300s_-10C_bin1x1_48x40.fits'], 4, 'the dark typed "Light Frame" is in the master dark');
  assert.equal(m['masters/master_flat_2s_-10C_bin1x1_48x40_L.fits'], 4, 'the "light" with flat pixels is in the master flat');
  const flat = readFits(join(dir, 'out/masters/master_flat_2s_-10C_bin1x1_48x40_L.fits'));
  assert.ok(flat.header.history().some((l) => l.includes('frame_099.fit')));
  const stack = readFits(join(dir, 'out/stacks/M42_L.fits'));
  assert.equal(stack.header.getNumber('NCOMBINE'), 8);
  assert.ok(rep.warnings.some((w) => /duplicate frame/.test(w)));
});
