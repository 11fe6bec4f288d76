import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { existsSync, mkdirSync } from 'node:fs';
import { fileTempDir, runCli, useTempDir } from '../helpers/env.js';
import { writePlane } from '../helpers/fits.js';
import { messyNight, writeFrame } from '../session/night-fixture.js';
import { buildPlan, stepById, type Plan } from '../../src/pipeline/plan.js';
import { isDarkroomError } from '../../src/util/errors.js';

/** Every dependency exists, produced inputs come from a dependency, no cycles. */
function checkDag(plan: Plan): void {
  const ids = new Set(plan.steps.map((s) => s.id));
  assert.equal(ids.size, plan.steps.length, 'step ids are unique');
  const producer = new Map<string, string>();
  for (const s of plan.steps) for (const o of s.outputs) {
    assert.ok(!producer.has(o), `output ${o} produced twice`);
    assert.ok(!o.startsWith('/'), `output ${o} is relative to OUT`);
    producer.set(o, s.id);
  }
  const index = new Map(plan.steps.map((s, i) => [s.id, i]));
  for (const s of plan.steps) {
    for (const d of s.deps) {
      assert.ok(ids.has(d), `${s.id} depends on missing ${d}`);
      assert.ok(index.get(d)! < index.get(s.id)!, `${s.id} listed before its dependency ${d}`);
    }
    for (const i of s.inputs) {
      const p = producer.get(i);
      if (p) assert.ok(s.deps.includes(p), `${s.id} reads ${i} from ${p} without depending on it`);
      else assert.ok(i.startsWith('/'), `raw input ${i} is absolute`);
    }
    assert.ok(s.reason.length > 0, `${s.id} has a reason`);
  }
}

test('the plan of the messy night is a DAG with masters, calibration, registration, integration and reasons', (t) => {
  const dir = useTempDir(t);
  messyNight(dir);
  const plan = buildPlan(dir, join(dir, 'out'));
  checkDag(plan);
  // Plain JSON: survives a round trip unchanged.
  assert.deepEqual(JSON.parse(JSON.stringify(plan)), plan);
  assert.deepEqual(plan.stacks.map((s) => [s.path, s.frames, s.exposure_total_s]), [['stacks/M42_L.fits', 8, 2400], ['stacks/NGC_7000_Ha.fits', 3, 540]]);
  const kinds = plan.steps.map((s) => s.kind);
  assert.deepEqual(kinds.filter((k) => k === 'master').length, 5);
  const cal = stepById(plan, 'calibrate:NGC_7000_Ha_180s_bin1x1', 'calibrate');
  assert.equal(cal.params.darkMode, 'optimize');
  assert.equal(cal.params.dark, 'masters/master_dark_300s_-10C_bin1x1_48x40.fits');
  assert.equal(cal.params.bias, 'masters/master_bias_0s_-10C_bin1x1_48x40.fits');
  assert.match(cal.reason, /longer dark \(300 s for 180 s lights\) with dark optimization/);
  const flatHa = stepById(plan, 'master:flat_5s_-10C_bin1x1_48x40_Ha', 'master');
  assert.equal(flatHa.params.calibrateKind, 'bias');
  assert.ok(flatHa.deps.includes('master:bias_0s_-10C_bin1x1_48x40'));
  const flatL = stepById(plan, 'master:flat_2s_-10C_bin1x1_48x40_L', 'master');
  assert.equal(flatL.params.calibrateKind, 'flatdark');
  // The duplicate is not an input anywhere; the skipped file neither.
  const allInputs = plan.steps.flatMap((s) => s.inputs);
  assert.ok(!allInputs.some((p) => p.includes('copy_of_first') || p.includes('notes.fits')));
  assert.equal(plan.steps.find((s) => s.id === 'calibrate:M42_L_300s_bin1x1')!.inputs.filter((p) => p.endsWith('.fit')).length, 8);
  // Warnings tell what was done with the mess.
  const w = plan.warnings.join('\n');
  assert.match(w, /1 duplicate frame\(s\) \(same pixel data\) used once: backup\/copy_of_first\.fits = M42\/Light\/M42_L_300s_001\.fit/);
  assert.match(w, /skipped .*M42\/notes\.fits/);
  assert.match(w, /Darks\/Dark_300s_004\.fit: header IMAGETYP says light/);
  assert.match(w, /not used by any light: dark_600s/);
  assert.equal(plan.frames.reclassified.length, 3);
});

test('missing calibration is a warning, and an error naming what is missing with --strict', (t) => {
  const dir = useTempDir(t);
  for (let i = 0; i < 3; i++) writeFrame(dir, { path: `lights/L_${i}.fits`, pixels: 'sky', seed: 10 + i, keywords: { IMAGETYP: 'LIGHT', EXPTIME: 60, OBJECT: 'M27', FILTER: 'R', 'CCD-TEMP': -5 } });
  const plan = buildPlan(dir, join(dir, 'out'));
  assert.match(plan.warnings.join('\n'), /no dark and no bias for 60 s lights/);
  assert.match(plan.warnings.join('\n'), /no flat for filter R/);
  assert.equal(plan.steps.find((s) => s.kind === 'calibrate')!.reason, 'no calibration masters: frames copied as float');
  assert.throws(
    () => buildPlan(dir, join(dir, 'out'), { strict: true }),
    (e: unknown) => isDarkroomError(e) && e.code === 'TOO_FEW' && /missing calibration \(--strict\): .*no dark and no bias.*no flat for filter R/.test(e.message),
  );
});

test('--library: masters the night lacks come from the library by group key; new masters are stored there', (t) => {
  const dir = useTempDir(t);
  const night = join(dir, 'night');
  const lib = join(dir, 'lib');
  for (let i = 0; i < 3; i++) writeFrame(night, { path: `L_${i}.fits`, pixels: 'sky', seed: 20 + i, keywords: { IMAGETYP: 'LIGHT', EXPTIME: 300, OBJECT: 'M27', FILTER: 'R', 'CCD-TEMP': -10 } });
  for (let i = 0; i < 3; i++) writeFrame(night, { path: `flats/F_${i}.fits`, pixels: 'flat', seed: 30 + i, keywords: { IMAGETYP: 'FLAT', EXPTIME: 1, FILTER: 'R', 'CCD-TEMP': -10 } });
  // A master dark and bias in the library, as Darkroom writes them.
  mkdirSync(lib, { recursive: true });
  writePlane(join(lib, 'master_dark_300s_-10C_bin1x1_48x40.fits'), new Float32Array(48 * 40).fill(520), 48, 40, { keywords: { IMAGETYP: 'Master Dark', EXPTIME: 300, 'CCD-TEMP': -10, XBINNING: 1, YBINNING: 1, NCOMBINE: 20, INSTRUME: 'QSI 683 wsg-8' } });
  writePlane(join(lib, 'master_bias_0s_-10C_bin1x1_48x40.fits'), new Float32Array(48 * 40).fill(500), 48, 40, { keywords: { IMAGETYP: 'Master Bias', EXPTIME: 0, 'CCD-TEMP': -10, XBINNING: 1, YBINNING: 1, NCOMBINE: 50, INSTRUME: 'QSI 683 wsg-8' } });
  const plan = buildPlan(night, join(dir, 'out'), { library: lib });
  checkDag(plan);
  const reuse = plan.steps.filter((s) => s.kind === 'reuse-master');
  assert.deepEqual(reuse.map((s) => s.params.kind).sort(), ['bias', 'dark']);
  const lg = plan.groups.lights[0]!;
  assert.equal(lg.darkMode, 'exact');
  assert.equal(lg.dark, 'lib_dark_300s_-10C_bin1x1_48x40');
  assert.equal(plan.masters.find((m) => m.kind === 'dark')!.frames, 20);
  // The flat master is built from the night (calibrated with the library bias) and stored in the library.
  const flat = plan.steps.find((s) => s.kind === 'master')!;
  assert.equal(flat.params.kind, 'flat');
  assert.equal(flat.params.calibrateKind, 'bias');
  assert.equal(flat.params.library, join(lib, 'master_flat_1s_-10C_bin1x1_48x40_R.fits'));
  // Without the library: the same night has no dark.
  assert.equal(buildPlan(night, join(dir, 'out')).groups.lights[0]!.dark, undefined);
});

describe('darkroom run --dry-run', () => {
  const dir = fileTempDir();
  before(() => messyNight(dir));

  test('prints the plan as tables', () => {
    const r = runCli(['run', dir, '--out', join(dir, 'out'), '--dry-run']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Frames: 31 found, 30 unique \(.*\), 1 duplicate\(s\), 1 skipped, 1 non-FITS file\(s\) ignored \(readme\.txt\)/);
    assert.match(r.stdout, /Light groups and their masters:/);
    assert.match(r.stdout, /NGC_7000_Ha_180s_bin1x1 +3 +180 +-10 +dark_300s_-10C_bin1x1_48x40 \(optimize\) +bias_0s_-10C_bin1x1_48x40 +flat_5s_-10C_bin1x1_48x40_Ha/);
    assert.match(r.stdout, /stacks\/M42_L\.fits: M42 L, 8 frame\(s\), 2400 s/);
    assert.match(r.stdout, /! .*Dark_300s_004\.fit: header IMAGETYP says light but pixels are unexposed/);
  });

  test('--json prints the plan as JSON with every option; nothing is written', () => {
    const j = runCli(['run', dir, '--out', join(dir, 'out'), '--dry-run', '--json', '--reject', 'sigma', '--normalize', 'multiplicative', '--weights', 'exposure', '--drizzle', '2', '--debayer', 'vng', '--cosmetic', '--pedestal', '100', '--no-register', '--keep-intermediates', '--force']);
    assert.equal(j.code, 0, j.stderr);
    const plan = JSON.parse(j.stdout) as Plan;
    assert.equal(plan.version, 1);
    checkDag(plan);
    assert.deepEqual(
      { reject: plan.options.reject, normalize: plan.options.normalize, weights: plan.options.weights, drizzle: plan.options.drizzle, debayer: plan.options.debayer, cosmetic: plan.options.cosmetic, pedestal: plan.options.pedestal, register: plan.options.register, keep: plan.options.keepIntermediates, force: plan.options.force },
      { reject: 'sigma', normalize: 'multiplicative', weights: 'exposure', drizzle: 2, debayer: 'vng', cosmetic: true, pedestal: 100, register: false, keep: true, force: true },
    );
    assert.ok(!plan.steps.some((s) => s.kind === 'register'), '--no-register leaves registration out');
    assert.equal(stepById(plan, 'integrate:M42_L', 'integrate').params.rejection, 'sigma');
    assert.equal(stepById(plan, 'calibrate:M42_L_300s_bin1x1', 'calibrate').params.pedestal, 100);
    // Nothing was written by a dry run.
    assert.ok(!existsSync(join(dir, 'out')));
  });

  test('bad options are one-line errors, exit 2', () => {
    const bad = runCli(['run', dir, '--out', join(dir, 'o'), '--reject', 'bogus', '--dry-run']);
    assert.equal(bad.code, 2);
    // the catalogue's message and list (integrate/options.ts): the same as darkroom stack's, averaged-sigma included
    assert.equal(bad.stderr.trim(), "darkroom: --reject: unknown value 'bogus' (choose none, minmax, percentile, sigma, winsorized, averaged-sigma, linear-fit, gesd, mad)");
    const noOut = runCli(['run', dir]);
    assert.equal(noOut.code, 2);
    assert.equal(noOut.stderr.trim(), 'darkroom: --out DIR is required (or use --dry-run)');
    const missing = runCli(['run', join(dir, 'nope'), '--dry-run']);
    assert.equal(missing.code, 2);
    assert.equal(missing.stderr.trim(), `darkroom: ${join(dir, 'nope')}: no such file or directory`);
    const drz = runCli(['run', dir, '--dry-run', '--drizzle', '5']);
    assert.equal(drz.stderr.trim(), "darkroom: --drizzle must be a scale from 1 to 3, got '5'");
    const strict = runCli(['run', join(dir, 'NGC7000'), '--dry-run', '--strict']);
    assert.equal(strict.code, 2);
    assert.match(strict.stderr, /^darkroom: .*NGC7000: missing calibration \(--strict\): .*no dark and no bias/);
    assert.equal(strict.stderr.trim().split('\n').length, 1);
  });
});
