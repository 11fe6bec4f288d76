import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileTempDir, runCli, fitsverify } from '../helpers/env.js';
import { simulatedNight } from '../helpers/night.js';
import { parseRedisUrl } from '../../src/pipeline/executors/index.js';
import { cli, pixels, startRedis, startWorkers, stopAll, waitFor, type Proc } from './harness.js';

// A small simulated night (masters, 6 lights, registration) run once with the local executor: the reference.
const dir = fileTempDir('darkroom-dist-');
const night = join(dir, 'night');
const local = join(dir, 'local');
let redis: Awaited<ReturnType<typeof startRedis>>;

before(async () => {
  simulatedNight(night, { width: 96, height: 80, lights: 6, darks: 4, bias: 4, flats: 4, dither: 3, lightExposure: 60, seed: 11, starCount: 35, object: 'M13', filter: 'L' }, join(dir, 'truth'));
  const r = runCli(['run', night, '--out', local]);
  assert.equal(r.code, 0, r.stderr);
  redis = await startRedis();
});

after(async () => {
  await redis?.stop();
});

function assertSameAsLocal(out: string): void {
  for (const sub of ['masters', 'stacks']) {
    const a = pixels(local, sub);
    const b = pixels(out, sub);
    assert.deepEqual([...b.keys()], [...a.keys()], `${sub}: same files`);
    assert.ok(a.size > 0);
    for (const [k, v] of a) assert.ok(v.equals(b.get(k)!), `${sub}/${k}: pixel data byte-identical to the local executor's`);
  }
  const rl = JSON.parse(readFileSync(join(local, 'report.json'), 'utf8'));
  const rd = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
  assert.deepEqual(rd.stacks, rl.stacks, 'same report of the stacks (frames, rejected, noise, reference)');
}

test('3 workers and a coordinator: per-frame and per-tile jobs on several workers, stacks byte-identical to the local run, status', async () => {
  const q = `${redis.url}?queue=t1&tileRows=16`;
  const ws = await startWorkers(`${redis.url}?queue=t1`, 3);
  try {
    const out = join(dir, 'dist1');
    const co = cli(['run', night, '--out', out, '--json', '--executor', q]);
    assert.equal(await co.exited, 0, co.out());
    assertSameAsLocal(out);
    const stack = join(out, 'stacks', 'M13_L.fits');
    assert.equal(fitsverify(stack).errors, 0);
    assert.match(readFileSync(stack).toString('latin1'), /distributed: 5 row tile\(s\) of 16 rows/);
    // The work was spread: 5 tiles (80 rows / 16) and 6 frames, across more than one worker.
    const tileWorkers = ws.filter((w) => /start \S+ tile integrate:M13_L/.test(w.out()));
    const tiles = ws.reduce((s, w) => s + (w.out().match(/start \S+ tile /g)?.length ?? 0), 0);
    assert.equal(tiles, 5);
    assert.ok(tileWorkers.length >= 2, `tiles on ${tileWorkers.length} worker(s)`);
    const frameJobs = ws.reduce((s, w) => s + (w.out().match(/start \S+ frames integrate|start \S+ frames calibrate:/g)?.length ?? 0), 0);
    assert.equal(frameJobs, 6, 'one calibration job per light frame');
    assert.ok(!existsSync(join(out, '.darkroom', 'dist')), 'scratch tiles removed after the run');
    // Progress: the run is recorded as done, the workers are listed.
    const st = runCli(['status', '--redis', `${redis.url}?queue=t1`, '--json']);
    assert.equal(st.code, 0, st.stderr);
    const s = JSON.parse(st.stdout);
    assert.equal(s.queue, 't1');
    assert.equal(s.workers.length, 3);
    assert.equal(s.counts.failed, 0);
    assert.ok(s.counts.completed >= 6 + 5 + 1);
    assert.equal(s.runs.length, 1);
    assert.equal(s.runs[0].state, 'done');
    assert.equal(s.runs[0].out, out);
    assert.equal(s.runs[0].jobsDone, s.runs[0].jobsAdded);
    const txt = runCli(['status', '--redis', `${redis.url}?queue=t1`]);
    assert.match(txt.stdout, /queue t1: 0 waiting, 0 active, .* 0 failed/);
    assert.match(txt.stdout, /3 worker\(s\)/);
    assert.match(txt.stdout, /run \w+ done: \d+ step\(s\) done/);
  } finally {
    await stopAll(ws);
  }
});

test('fault tolerance: the coordinator killed and restarted resumes its run; a worker SIGKILLed mid-job loses nothing; results identical', async () => {
  const q = `${redis.url}?queue=t2&tileRows=16`;
  // Every job is held 400 ms before it works, so the kills land in the middle of jobs.
  const env = { DARKROOM_WORKER_HOLD_MS: '400' };
  const ws = await startWorkers(`${redis.url}?queue=t2`, 3, env);
  const extra: Proc[] = [];
  try {
    const out = join(dir, 'dist2');
    const co1 = cli(['run', night, '--out', out, '--executor', q]);
    await waitFor('a calibration job', () => ws.some((w) => /start \S+ frames calibrate:/.test(w.out())), 60_000);
    co1.child.kill('SIGKILL');
    await co1.exited;
    const runId = /distributed run (\w+) on/.exec(co1.out())?.[1];
    assert.ok(runId, co1.out());

    const co2 = cli(['run', night, '--out', out, '--executor', q]);
    extra.push(co2);
    // Kill the worker that starts the first tile, while it holds the job.
    let victim: Proc | undefined;
    let tileJob = '';
    await waitFor('a tile job', () => {
      for (const w of ws) {
        const m = /start (\S+) tile /.exec(w.out());
        if (m) {
          victim = w;
          tileJob = m[1]!;
          return true;
        }
      }
      return false;
    }, 60_000);
    victim!.child.kill('SIGKILL');
    await victim!.exited;
    assert.equal(await co2.exited, 0, co2.out());
    assert.match(co2.out(), new RegExp(`resuming distributed run ${runId}`));
    // The killed job was finished by another worker (stalled-job detection), not lost.
    assert.ok(!victim!.out().includes(`done ${tileJob} `), 'the victim did not finish it');
    const finisher = ws.filter((w) => w !== victim).find((w) => w.out().includes(`done ${tileJob} `));
    assert.ok(finisher, `another worker completed ${tileJob}`);
    assertSameAsLocal(out);
    const st = JSON.parse(runCli(['status', '--redis', `${redis.url}?queue=t2`, '--json']).stdout);
    assert.equal(st.counts.failed, 0);
    assert.equal(st.runs.length, 1, 'the restarted coordinator continued the same run');
    assert.equal(st.runs[0].state, 'done');
  } finally {
    await stopAll([...ws, ...extra]);
  }
});

test('bad executor and redis URLs are one-line errors with exit code 2', async () => {
  const r1 = runCli(['run', night, '--out', join(dir, 'x'), '--executor', 'http://example.org']);
  assert.equal(r1.code, 2);
  assert.match(r1.stderr, /^darkroom: --executor must be 'local' or a redis:\/\/HOST:PORT URL, got 'http:\/\/example.org'\n$/);
  const r2 = runCli(['worker', '--redis', 'redis://127.0.0.1:1', '--concurrency', '0']);
  assert.equal(r2.code, 2);
  assert.match(r2.stderr, /--concurrency must be a positive integer, got '0'/);
  const r3 = runCli(['status', '--redis', 'localhost:6379']);
  assert.equal(r3.code, 2);
  assert.match(r3.stderr, /not a redis URL: 'localhost:6379' \(expected redis:\/\/HOST:PORT\)/);
  const port = redis.port;
  await redis.stop();
  const r4 = runCli(['status', '--redis', `redis://127.0.0.1:${port}`]);
  assert.equal(r4.code, 2);
  assert.match(r4.stderr, /cannot read the queue at 127\.0\.0\.1:\d+/);
  assert.throws(() => parseRedisUrl('redis://h:1?tileRows=0'), /tileRows must be a positive integer/);
  const t = parseRedisUrl('redis://:secret@db.example:6380/2?queue=night1&tileRows=64');
  const c = t.connection as unknown as Record<string, unknown>;
  assert.deepEqual([c.host, c.port, c.db, c.password, t.queue, t.tileRows], ['db.example', 6380, 2, 'secret', 'night1', 64]);
});
