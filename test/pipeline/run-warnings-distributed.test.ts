/**
 * The distributed executor (BullMQ on a real redis-server, 2 workers) sends a step's warning as soon
 * as the job that raised it is done: `darkroom run --executor redis://..` prints the master bias
 * step's warning (3 bias frames) once, before that step's done line; its masters and stacks are
 * byte-identical to the local run's and its report has the same warnings.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileTempDir, runCli } from '../helpers/env.js';
import { simulatedNight } from '../helpers/night.js';
import { cli, pixels, startRedis, startWorkers, stopAll } from '../distributed/harness.js';

const dir = fileTempDir('darkroom-warn-dist-');
const night = join(dir, 'night');
let redis: Awaited<ReturnType<typeof startRedis>>;

before(async () => {
  simulatedNight(night, { width: 64, height: 48, lights: 5, darks: 5, bias: 3, flats: 5, dither: 2, lightExposure: 60, seed: 5, starCount: 25, object: 'M1', filter: 'L' }, join(dir, 'truth'));
  redis = await startRedis();
});

after(async () => {
  await redis?.stop();
});

test('distributed run: the step\'s warning is printed once as its job ends, before the step is done; outputs as the local run\'s', async () => {
  const local = join(dir, 'local');
  const l = runCli(['run', night, '--out', local, '--no-solve']);
  assert.equal(l.code, 0, l.stderr);
  const ws = await startWorkers(`${redis.url}?queue=w1`, 2);
  const out = join(dir, 'dist');
  let text: string;
  try {
    const co = cli(['run', night, '--out', out, '--no-solve', '--executor', `${redis.url}?queue=w1`]);
    assert.equal(await co.exited, 0, co.out());
    text = co.out();
  } finally {
    await stopAll(ws);
  }
  const lines = text.split('\n');
  const w = lines.findIndex((x) => /^warning: master:bias_\S+: masters\/master_bias_\S+\.fits: winsorized rejection needs at least 4 frames \(got 3\)/.test(x));
  const done = lines.findIndex((x) => /^\[\d+\/\d+\] master:bias_\S+: done in/.test(x));
  const stack = lines.findIndex((x) => /^\[\d+\/\d+\] integrate:M1_L: done in/.test(x));
  assert.ok(w >= 0 && w < done && done < stack, `warning line ${w}, bias done ${done}, stack done ${stack}:\n${text}`);
  assert.equal(text.split('winsorized rejection').length - 1, 1, `printed more than once:\n${text}`);
  for (const sub of ['masters', 'stacks']) {
    const a = pixels(local, sub);
    const b = pixels(out, sub);
    assert.deepEqual([...b.keys()], [...a.keys()], sub);
    for (const [k, v] of a) assert.ok(v.equals(b.get(k)!), `${sub}/${k}: byte-identical to the local run's`);
  }
  const rl = JSON.parse(readFileSync(join(local, 'report.json'), 'utf8'));
  const rd = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
  assert.deepEqual(rd.warning_events, rl.warning_events);
});
