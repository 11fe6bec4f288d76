#!/usr/bin/env node
// Runs every test/**/*.test.ts with node:test (through tsx), so the runner's summary is printed.
// Usage: npm test [-- PATTERN...]  (PATTERN filters file paths by substring)
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';

const root = new URL('..', import.meta.url).pathname;
const filters = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const passThrough = process.argv.slice(2).filter((a) => a.startsWith('--'));

function walk(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'fixtures') continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

let files = walk(join(root, 'test')).map((p) => relative(root, p)).sort();
if (filters.length) files = files.filter((f) => filters.some((x) => f.includes(x)));
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}
// The simulated camera keeps its settings in a file (~/.config/darkroom/sim-camera.json by default):
// tests never read or write the user's, each run starts from the defaults.
const simHome = mkdtempSync(join(tmpdir(), 'darkroom-test-sim-'));
const env = { ...process.env, DARKROOM_SIM_SETTINGS: process.env.DARKROOM_SIM_SETTINGS ?? join(simHome, 'sim-camera.json') };
const r = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-reporter=spec', `--test-concurrency=${process.env.TEST_CONCURRENCY ?? 2}`, ...passThrough, ...files],
  { cwd: root, stdio: 'inherit', env },
);
rmSync(simHome, { recursive: true, force: true });
process.exit(r.status ?? 1);
