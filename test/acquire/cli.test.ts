import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, useTempDir } from '../helpers/env.js';
import { closedPort } from '../devices/ports.js';

test('darkroom sequence: dry run lists and estimates; a run writes the frames; bad plans exit 2 naming the file', (t) => {
  const dir = useTempDir(t);
  const plan = join(dir, 'plan.json');
  writeFileSync(plan, JSON.stringify({ object: 'M42', base: 'M42', groups: [{ filter: 'Red', exposure: 10, count: 2, suffix: 'R' }, { filter: 'Blue', exposure: 5, count: 1, suffix: 'B' }] }));
  const dry = runCli(['sequence', plan, '--device', 'sim', '--out', join(dir, 'o'), '--dry-run']);
  assert.equal(dry.code, 0, dry.stderr);
  // 25 s exposures + 3 x 1 s downloads + moves L->R 2 slots, R->B 2, B->R 2 (0.4 s each)
  assert.match(dry.stdout, /3 frames/);
  assert.match(dry.stdout, /estimated duration 0m30s/);
  const out = join(dir, 'o');
  const run = runCli(['sequence', plan, '--device', 'sim', '--out', out, '--json']);
  assert.equal(run.code, 0, run.stderr);
  const j = JSON.parse(run.stdout) as { saved: string[]; simulatedS: number; estimateS: number };
  assert.equal(j.saved.length, 3);
  assert.ok(Math.abs(j.simulatedS - j.estimateS) / j.simulatedS < 0.05);
  assert.deepEqual(readdirSync(out).sort(), ['M42-001-R10.fit', 'M42-002-B5.fit', 'M42-003-R10.fit']);
  writeFileSync(plan, JSON.stringify({ groups: [{ exposure: 1, count: 1, binning: 9 }] }));
  const bad = runCli(['sequence', plan, '--device', 'sim', '--dry-run']);
  assert.equal(bad.code, 2);
  assert.equal(bad.stderr.trim(), `darkroom: ${plan}: invalid plan: groups.0.binning: Too big: expected number to be <=4`);
});

test('darkroom guide and focus on the simulator', async () => {
  const g = runCli(['guide', '--device', 'sim', '--duration', '120', '--json']);
  assert.equal(g.code, 0, g.stderr);
  const j = JSON.parse(g.stdout) as { calibration: { cameraAngle: number }; stats: { rmsTotalArcsec: number; samples: number } };
  assert.ok(Math.abs(j.calibration.cameraAngle - 33) < 2);
  assert.ok(j.stats.samples > 40 && j.stats.rmsTotalArcsec < 1);
  const bad = runCli(['guide', '--device', 'sim', '--duration', '-5']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /^darkroom: --duration must be 0..86400 s, got '-5'/);
  const f = runCli(['focus', '--device', 'sim', '--count', '2', '--json']);
  assert.equal(f.code, 0, f.stderr);
  const m = JSON.parse(f.stdout) as { fwhm: number; stars: number }[];
  assert.equal(m.length, 2);
  assert.ok(m.every((x) => x.stars > 3 && x.fwhm > 2));
  // other devices are opened (not refused as before): an unreachable one is one line, exit 2
  const port = await closedPort();
  const u = runCli(['focus', '--device', `alpaca://127.0.0.1:${port}/0`]);
  assert.equal(u.code, 2);
  assert.equal(u.stderr.trim(), `darkroom: alpaca://127.0.0.1:${port}/camera/0: cannot reach Alpaca server at 127.0.0.1:${port} (connection refused)`);
  const sim = runCli(['guide', '--device', 'sim', '--mount', `indi://127.0.0.1:${port}`]);
  assert.equal(sim.code, 2);
  assert.equal(sim.stderr.trim(), 'darkroom: --mount needs an INDI or Alpaca --device (with --device sim every part is simulated)');
});
