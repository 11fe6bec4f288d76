/** The shared test scaffold itself: temp dirs are removed after their test, runCli works from any cwd. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, useTempDir, withTempDir } from './env.js';

test('runCli runs the CLI from a cwd outside the repository (tsx resolved from the repository)', () => {
  const r = runCli(['--version'], { cwd: tmpdir() });
  assert.equal(r.stderr, '');
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^\d+\.\d+\.\d+\n$/);
});

test('useTempDir: a fresh dir for the test, removed when it ends', async (t) => {
  let dir = '';
  await t.test('inner', (tt) => {
    dir = useTempDir(tt);
    writeFileSync(join(dir, 'a.txt'), 'x');
    assert.ok(existsSync(join(dir, 'a.txt')));
  });
  assert.ok(dir !== '' && !existsSync(dir));
});

test('withTempDir: removes the dir after the callback, also when it throws', async () => {
  let dir = '';
  assert.equal(await withTempDir((d) => { dir = d; return 7; }), 7);
  assert.ok(!existsSync(dir));
  await assert.rejects(withTempDir(async (d) => { dir = d; throw new Error('boom'); }), /boom/);
  assert.ok(!existsSync(dir));
});
