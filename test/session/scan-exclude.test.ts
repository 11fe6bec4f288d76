/**
 * Exclusion rules of the scan: `darkroom simulate` writes its ground truth under NIGHT/truth/ and a
 * .darkroomignore that keeps it out of the night (issue 20, defect 1: the truth used to come back as
 * an "unknown 0 s" light group, a 1-frame master dark and duplicates); `run --exclude GLOB` and the
 * API's `exclude` option leave out what the user names, and the plan says what was left out.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { fileTempDir, runCli } from '../helpers/env.js';
import { excludeMatcher, scanNight } from '../../src/session/scan.js';
import { buildServer } from '../../src/server/app.js';

const t = { dir: fileTempDir('darkroom-exclude-') };
const SIM = ['--size', '64x48', '--lights', '3', '--darks', '2', '--bias', '2', '--flats', '2', '--exposure', '60'];

test('simulate + run --dry-run: the truth is not scanned, the plan says it was left out, --exclude drops a named light', () => {
  const night = join(t.dir, 'n1');
  const sim = runCli(['simulate', '--out', night, ...SIM]);
  assert.equal(sim.code, 0, sim.stderr);
  const r = runCli(['run', night, '--dry-run', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const plan = JSON.parse(r.stdout);
  // 2 bias + 2 darks + 2 flats + 3 lights, nothing from truth/ (3 signal FITS, flat, dark current)
  assert.equal(plan.frames.found, 9);
  assert.deepEqual(plan.frames.byKind, { bias: 2, dark: 2, flat: 2, light: 3 });
  assert.deepEqual(plan.frames.duplicates, []);
  assert.deepEqual(plan.frames.excluded, [{ path: 'truth/', rule: 'truth/' }]);
  assert.ok(plan.warningEvents.some((w: any) => w.code === 'EXCLUDED_FILES' && /truth\//.test(w.message)), plan.warnings.join('\n'));
  assert.deepEqual(plan.groups.lights.map((g: any) => g.frames), [3]);
  // one master of each kind, none of a "0 s dark" or a "0 s flat" made of truth files
  assert.deepEqual(plan.masters.map((m: any) => `${m.kind} ${m.exposure}`), ['bias 0', 'dark 60', 'flat 2']);
  const r2 = runCli(['run', night, '--dry-run', '--json', '--exclude', 'Light_*_002.fits', '--exclude', 'Flat_*']);
  assert.equal(r2.code, 0, r2.stderr);
  const p2 = JSON.parse(r2.stdout);
  assert.deepEqual(p2.frames.byKind, { bias: 2, dark: 2, light: 2 });
  assert.deepEqual(p2.frames.excluded.map((x: any) => x.path).sort(), ['Flat_Luminance_001.fits', 'Flat_Luminance_002.fits', 'Light_M42_Luminance_60s_002.fits', 'truth/']);
});

test('exclusion rules: names at any depth, paths from the root, ** across folders, folders only with a trailing slash', () => {
  const m = excludeMatcher(['truth/', 'sub/*.fit', '**/bad/*.fits', '*_x.fits']);
  assert.equal(m('truth', true), 'truth/');
  assert.equal(m('a/truth', true), 'truth/');
  assert.equal(m('truth', false), null);
  assert.equal(m('sub/a.fit', false), 'sub/*.fit');
  assert.equal(m('o/sub/a.fit', false), null);
  assert.equal(m('q/r/bad/l.fits', false), '**/bad/*.fits');
  assert.equal(m('bad/l.fits', false), '**/bad/*.fits');
  assert.equal(m('deep/l_x.fits', false), '*_x.fits');
  assert.equal(m('deep/l_y.fits', false), null);
});

test('API: the plan honours the exclude option and the night\'s .darkroomignore', async () => {
  const night = join(t.dir, 'n2');
  const sim = runCli(['simulate', '--out', night, ...SIM]);
  assert.equal(sim.code, 0, sim.stderr);
  assert.equal(scanNight(night).frames.length, 9);
  const s = await buildServer({ roots: [t.dir], webDir: null });
  try {
    const res = await s.app.inject({ method: 'POST', url: '/api/processing/plan', payload: { night, options: { exclude: ['Dark_*'] } } });
    assert.equal(res.statusCode, 200, res.body);
    const plan = res.json();
    assert.deepEqual(plan.frames.byKind, { bias: 2, flat: 2, light: 3 });
    assert.equal(plan.frames.excluded.length, 3);
  } finally {
    await s.app.close();
  }
});
