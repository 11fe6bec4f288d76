/**
 * The CLI entry (start.ts) loads only the module of the command asked for: its table must name
 * every command of the whole program (main.ts buildProgram), each loader registering exactly that
 * command with the same options; --version, --help and unknown commands still answer as before.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildProgram } from '../../src/cli/main.js';
import { baseProgram, COMMAND_MODULES } from '../../src/cli/start.js';
import { VERSION } from '../../src/version.js';
import { runCli } from '../helpers/env.js';

test('COMMAND_MODULES: one loader per command of buildProgram, registering that command with the same options', async () => {
  const full = buildProgram().commands;
  assert.deepEqual(Object.keys(COMMAND_MODULES).sort(), full.map((c) => c.name()).sort());
  for (const c of full) {
    const p = baseProgram();
    (await COMMAND_MODULES[c.name()]!())(p);
    assert.deepEqual(p.commands.map((x) => x.name()), [c.name()], `loader of ${c.name()}`);
    const flags = (x: typeof c): string[] => x.options.map((o) => o.flags);
    assert.deepEqual(flags(p.commands[0]!), flags(c), `options of ${c.name()}`);
  }
});

test('the entry: --version prints the version, --help lists every command, a command its own help, an unknown command exits 2', () => {
  const v = runCli(['--version']);
  assert.equal(v.code, 0);
  assert.equal(v.stdout.trim(), VERSION);
  const h = runCli(['--help']);
  assert.equal(h.code, 0);
  for (const name of Object.keys(COMMAND_MODULES)) assert.match(h.stdout, new RegExp(`^  ${name}\\b`, 'm'), `--help lists ${name}`);
  const r = runCli(['run', '--help']);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^Usage: darkroom run \[options\] <night>/m);
  const u = runCli(['no-such-command']);
  assert.equal(u.code, 2);
  assert.match(u.stderr, /unknown command 'no-such-command'/);
});
