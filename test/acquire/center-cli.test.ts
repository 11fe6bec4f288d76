// `darkroom center` on the simulator: the goto lands arcminutes off (seeded pointing model), real
// solve-field on the catalogue sky finds where it points, sync and re-slew bring the target within the
// tolerance in at most 3 frames; checked against the simulated mount's true pointing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCli } from '../helpers/env.js';

interface CenterJson {
  target: { name?: string; ra: number; dec: number };
  centered: boolean;
  error: number;
  trueError: number;
  steps: { iteration: number; error: number; synced: boolean }[];
}

test('darkroom center --target M31 and --ra/--dec: converges within the tolerance in at most 3 frames', () => {
  for (const args of [['--target', 'm31'], ['--ra', '56.75', '--dec', '24.1167', '--pointing-error', '6', '--seed', '5', '--tolerance', '10']]) {
    const r = runCli(['center', '--device', 'sim', ...args, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout) as CenterJson;
    const tol = args.includes('--tolerance') ? 10 : 30;
    assert.ok(j.centered && j.error <= tol && j.steps.length <= 3, JSON.stringify(j));
    assert.ok(j.steps[0]!.error > 60 && j.steps[0]!.synced, `the first goto is off by ${j.steps[0]!.error}"`);
    // the solved distance is the true one (solve-field within 2")
    assert.ok(j.trueError <= tol && Math.abs(j.trueError - j.error) <= 2, `solved ${j.error}", true ${j.trueError}"`);
  }
});

test('darkroom center: not converging, bad targets and devices are one line, exit 2', () => {
  const one = runCli(['center', '--target', 'M45', '--max-iterations', '1']);
  assert.equal(one.code, 2);
  assert.match(one.stderr, /^darkroom: not centered: \d+\.\d" from the target after 1 frame \(tolerance 30"\)\n$/);
  const bad = runCli(['center', '--target', 'Vega']);
  assert.equal(bad.code, 2);
  assert.equal(bad.stderr, "darkroom: --target: unknown target 'Vega' (the simulator's catalogue has M31, M45, M42, M51, M13, M27, NGC7000)\n");
  const both = runCli(['center', '--target', 'M31', '--ra', '10']);
  assert.equal(both.stderr, 'darkroom: give --target or --ra/--dec, not both\n');
  const dev = runCli(['center', '--device', 'alpaca://127.0.0.1:1/0', '--target', 'M31']);
  assert.equal(dev.code, 2);
  assert.match(dev.stderr, /^darkroom: .*cannot reach Alpaca server at 127\.0\.0\.1:1/);
});
