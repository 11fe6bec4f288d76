/**
 * Data safety of `darkroom run` (issue 21): Darkroom deletes only files it created and recorded
 * in OUT/.darkroom/manifest.json, never a folder wholesale, never anything inside the night; it
 * refuses OUT == night, OUT inside the night and a night inside one of OUT's own folders (CLI and
 * API alike); a re-run checks its outputs' content; temp files live in OUT/.darkroom/tmp; a stack's
 * EXPTIME counts only the frames integrated.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { runCli, useTempDir } from '../helpers/env.js';
import { hashTree, simulatedNight } from '../helpers/night.js';
import { writeFrame } from '../session/night-fixture.js';
import { readFits } from '../../src/fits/index.js';
import { buildPlan } from '../../src/pipeline/plan.js';
import { executePlan } from '../../src/pipeline/execute.js';
import { listFitsFiles } from '../../src/session/scan.js';

/** A small simulated night (3 of each kind, flats calibrated with the bias), truth moved out. */
function smallNight(night: string, seed = 11): void {
  simulatedNight(night, { width: 96, height: 72, lights: 3, darks: 3, bias: 3, flats: 3, dither: 2, lightExposure: 60, seed, starCount: 30 }, join(night, '..', `truth-${basename(night)}`));
}

/** `mkdir -p D/<sub>; cp night/*.fits D/<sub>/`: a night kept in a folder named like an intermediate. */
function nightIn(dir: string, sub: string): string {
  const src = join(dir, `src-${sub}`);
  smallNight(src);
  const night = join(dir, 'D', sub);
  mkdirSync(night, { recursive: true });
  for (const p of listFitsFiles(src)) copyFileSync(p, join(night, basename(p)));
  return night;
}

/** `darkroom run NIGHT --out OUT` for each OUT is refused: exit 2 and one line matching `re`. */
function assertRefused(night: string, outs: string[], re: RegExp, dryToo = false): void {
  // OUT == night: a dry run is refused as the run is (not "no light frames found" from a scan that skipped OUT)
  for (const out of outs) {
    for (const dry of dryToo ? [[], ['--dry-run']] : [[]]) {
      const r = runCli(['run', night, '--out', out, ...dry]);
      assert.equal(r.code, 2, `${dry.join('')} ${r.stderr}${r.stdout}`);
      assert.match(r.stderr.trim(), re);
      assert.equal(r.stderr.trim().split('\n').length, 1);
    }
  }
}

/**
 * A small night at `night` and a symlink `link` to it: a run into each of `outs(link)` is refused
 * (exit 2, one line matching `re`) and the night stays byte-identical.
 */
function refusedThroughLink(night: string, link: string, outs: (link: string) => string[], re: RegExp, message?: string, dryToo = false): void {
  smallNight(night);
  const before = hashTree(night);
  symlinkSync(night, link);
  assertRefused(night, outs(link), re, dryToo);
  assert.deepEqual(hashTree(night), before, message);
}

test('a night in D/calibrated or D/registered with --out D is refused (exit 2, one line) and stays byte-identical', (t) => {
  const dir = useTempDir(t);
  for (const sub of ['calibrated', 'registered']) {
    const night = nightIn(dir, sub);
    const before = hashTree(night);
    assert.equal(Object.keys(before).length, 12);
    const r = runCli(['run', night, '--out', join(dir, 'D')]);
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`^darkroom: .*${sub}.*inside .*folder Darkroom writes`));
    assert.deepEqual(hashTree(night), before, `${sub}: raw frames untouched`);
    assert.ok(!existsSync(join(dir, 'D', '.darkroom')), 'nothing written to OUT');
  }
});

test('the API refuses the same: night D/registered with out D (400), nothing deleted', async (t) => {
  const dir = useTempDir(t, 'darkroom-safety-api-');
  const { buildServer } = await import('../../src/server/app.js');
  const s = await buildServer({ roots: [dir], webDir: null, simSpeed: 600 });
  t.after(() => s.app.close());
  const night = nightIn(dir, 'registered');
  const before = hashTree(night);
  const r = await s.app.inject({ method: 'POST', url: '/api/processing/run', payload: { night: 'D/registered', out: 'D' } });
  assert.equal(r.statusCode, 400, r.body);
  assert.match(r.json().message, /inside .*folder Darkroom writes/);
  assert.equal(s.processing.status(), null, 'no run was started');
  assert.deepEqual(hashTree(night), before);
});

test('OUT == night is refused, also through a symlink; nothing is written in the night', (t) => {
  const dir = useTempDir(t);
  const night = join(dir, 'a');
  refusedThroughLink(night, join(dir, 'link'), (link) => [night, link], /^darkroom: .*a: the output folder is the night folder/, 'nothing written or deleted in the night', true);
});

test('OUT inside the night is refused (also through a symlink); a dry run scans the night without OUT', (t) => {
  const dir = useTempDir(t);
  const night = join(dir, 'night');
  refusedThroughLink(night, join(dir, 'alias'), (alias) => [join(night, 'out'), join(alias, 'deep', 'out')], /^darkroom: .*: the output folder .* is inside the night folder/);
  // An OUT inside the night (allowed for a dry run, which writes nothing) is never scanned.
  const out = join(night, 'out');
  mkdirSync(join(out, 'stacks'), { recursive: true });
  copyFileSync(listFitsFiles(night).find((p) => /Light_/.test(p))!, join(out, 'stacks', 'M42_L.fits'));
  const plan = buildPlan(night, out);
  assert.equal(plan.frames.found, 12);
  assert.equal(plan.groups.lights[0]!.frames, 3);
});

test('an existing OUT/calibrated with the user\'s files survives the run; only Darkroom\'s intermediates go', async (t) => {
  const dir = useTempDir(t);
  const night = join(dir, 'night');
  const out = join(dir, 'out');
  smallNight(night);
  mkdirSync(join(out, 'calibrated'), { recursive: true });
  const mine = listFitsFiles(night).find((p) => /Light_/.test(p))!;
  copyFileSync(mine, join(out, 'calibrated', 'my_own.fits'));
  writeFileSync(join(out, 'calibrated', 'notes.txt'), 'my notes\n');
  const before = hashTree(join(out, 'calibrated'));
  const rep = await executePlan(buildPlan(night, out, {}, { saveCache: true }));
  assert.equal(rep.stacks[0]!.frames, 3);
  assert.deepEqual(hashTree(join(out, 'calibrated')), before, 'user files byte-identical, Darkroom\'s calibrated frames removed');
  assert.ok(!existsSync(join(out, 'registered')), 'a folder Darkroom created is removed once empty');
  const manifest = JSON.parse(readFileSync(join(out, '.darkroom', 'manifest.json'), 'utf8')) as { files: Record<string, unknown>; dirs: string[] };
  assert.ok(!Object.keys(manifest.files).some((p) => p.startsWith('calibrated/') || p.startsWith('registered/')));
  assert.ok(manifest.files['stacks/M_42_Luminance.fits'] && !manifest.dirs.includes('calibrated'));
});

test('a truncated master is redone on re-run and so is the stack built on it; an unchanged re-run reuses all', async (t) => {
  const dir = useTempDir(t);
  const night = join(dir, 'night');
  const out = join(dir, 'out');
  smallNight(night);
  const r1 = await executePlan(buildPlan(night, out));
  assert.ok(r1.steps.every((s) => s.status === 'done'));
  const bias = join(out, r1.masters.find((m) => m.kind === 'bias')!.path);
  const size = statSync(bias).size;
  truncateSync(bias, size - 2880);
  const r2 = await executePlan(buildPlan(night, out));
  const st = Object.fromEntries(r2.steps.map((s) => [s.id.split(':')[0] === 'master' ? s.id : s.id.split(':')[0]!, s.status]));
  assert.equal(st['master:bias_0s_-10C_bin1x1_96x72'], 'done', JSON.stringify(r2.steps));
  assert.equal(st.integrate, 'done', 'the stack built on the master is redone');
  assert.equal(st.preview, 'done');
  assert.equal(statSync(bias).size, size);
  assert.equal(readFits(bias).width, 96);
  // Same size, other bytes: the content hash catches it.
  const stack = join(out, r2.stacks[0]!.path);
  const buf = readFileSync(stack);
  buf[buf.length - 100] ^= 0xff;
  writeFileSync(stack, buf);
  const r3 = await executePlan(buildPlan(night, out));
  assert.equal(r3.steps.find((s) => s.id.startsWith('integrate:'))!.status, 'done');
  const r4 = await executePlan(buildPlan(night, out));
  assert.ok(r4.steps.every((s) => s.status === 'reused'), JSON.stringify(r4.steps));
});

test('temp files live in OUT/.darkroom/tmp (never $TMPDIR) and leftovers there are cleaned at the next start', async (t) => {
  const dir = useTempDir(t);
  const saved = process.env.TMPDIR;
  const restore = (): void => {
  if (saved === undefined) delete process.env.TMPDIR;
  else process.env.TMPDIR = saved;
  };
  t.after(restore);
  const night = join(dir, 'night');
  const out = join(dir, 'out');
  smallNight(night);
  // A leftover of a killed run (a master flat's calibrated flats).
  const left = join(out, '.darkroom', 'tmp', 'master-killed');
  mkdirSync(left, { recursive: true });
  writeFileSync(join(left, '0000_Flat_Luminance_001.fits'), Buffer.alloc(2880));
  // $TMPDIR is not usable: the master flat (calibrated flats on disk) must not need it.
  process.env.TMPDIR = join(dir, 'no-such-tmp');
  const rep = await executePlan(buildPlan(night, out));
  restore();
  assert.equal(rep.masters.find((m) => m.kind === 'flat')!.frames, 3);
  assert.ok(!existsSync(left), 'the leftover is gone');
  assert.deepEqual(readdirSync(join(out, '.darkroom', 'tmp')), [], 'and the run left nothing behind');
  assert.ok(!existsSync(join(dir, 'no-such-tmp')));
});

test('EXPTIME of a stack with a frame rejected at registration counts only the integrated frames', async (t) => {
  const dir = useTempDir(t);
  const night = join(dir, 'night');
  const kw = { IMAGETYP: 'LIGHT', EXPTIME: 60, OBJECT: 'A', FILTER: 'R', RA: 10, DEC: 10 };
  for (let i = 0; i < 4; i++) writeFrame(night, { path: `a_${i}.fits`, pixels: 'sky', seed: 40 + i, keywords: kw });
  // Clouds: no stars, so registration leaves this frame out.
  writeFrame(night, { path: 'a_9.fits', pixels: 'bias', level: 1200, seed: 49, keywords: kw });
  const out = join(dir, 'out');
  const rep = await executePlan(buildPlan(night, out));
  const st = rep.stacks[0]!;
  assert.deepEqual(st.rejected_frames.map((r) => basename(r.path)), ['a_9.fits']);
  assert.equal(st.frames, 4);
  assert.equal(st.exposure_total_s, 240);
  const h = readFits(join(out, st.path)).header;
  assert.equal(h.getNumber('NCOMBINE'), 4);
  assert.equal(h.getNumber('EXPTIME'), 240);
});
