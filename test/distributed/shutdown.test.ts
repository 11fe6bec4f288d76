import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { Queue } from 'bullmq';
import { parseRedisUrl, type JobData } from '../../src/pipeline/executors/index.js';
import { cli, sleep, startRedis, waitFor, type Proc } from './harness.js';

// Worker shutdown and lock expiry (issue 21 item 13). Every process is hard-killed at the end, so a
// failure cannot hang the suite. The jobs refer to a plan that does not exist: they end at once with
// a "plan not found" result, which is all these tests need (who ran a job, when, how often). The
// three tests run at once (each has its own redis-server): most of their time is waiting.
const procs: Proc[] = [];
const redises: Awaited<ReturnType<typeof startRedis>>[] = [];

after(async () => {
  for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
  await Promise.all(procs.map((p) => p.exited));
  await Promise.all(redises.map((r) => r.stop()));
});

function worker(url: string, args: string[] = [], env: Record<string, string> = {}): Proc {
  const p = cli(['worker', '--redis', url, ...args], env);
  procs.push(p);
  return p;
}

async function redis(): Promise<Awaited<ReturnType<typeof startRedis>>> {
  const r = await startRedis();
  redises.push(r);
  return r;
}

/** Wait until every worker says it is ready; fail at once (with its output) if one exits. */
async function ready(ws: Proc[]): Promise<void> {
  const gone = (): Proc | undefined => ws.find((w) => w.child.exitCode !== null || w.child.signalCode !== null);
  await waitFor('workers ready', () => !!gone() || ws.every((w) => w.out().includes(': ready on ')), 60_000).catch((e: Error) => {
    throw new Error(`${e.message}:\n${ws.map((w) => w.out()).join('\n')}`);
  });
  const g = gone();
  if (g) throw new Error(`worker exited before it was ready:\n${g.out()}`);
}
const job = (id: string): JobData => ({ plan: `/nonexistent/darkroom-${id}/plan.json`, step: 'x', op: 'step' });
const pid = (p: Proc): string => `${p.child.pid}`;

/** Resolves with the exit codes, or with 'timeout' after ms. */
async function exitWithin(ps: Proc[], ms: number): Promise<(number | null)[] | 'timeout'> {
  return Promise.race([Promise.all(ps.map((p) => p.exited)), sleep(ms).then(() => 'timeout' as const)]);
}

describe('worker shutdown and locks', { concurrency: true }, () => {
  test('Redis gone: SIGTERM stops a worker (holding a job) within 10 s', async (t) => {
    const r = await redis();
    const w = worker(`${r.url}?queue=b`, [], { DARKROOM_WORKER_HOLD_MS: '120000' });
    await ready([w]);
    const q = new Queue<JobData>('b', { connection: parseRedisUrl(r.url).connection });
    await q.add('step', job('b1'), { jobId: 'b1' });
    await q.close();
    await waitFor('the job in hand', () => w.out().includes('start b1 '), 20_000);
    await r.stop();
    // Long enough for the clients to be reconnecting (before the fix, close() then waited forever).
    await sleep(3000);
    const t0 = Date.now();
    w.child.kill('SIGTERM');
    const codes = await exitWithin([w], 10_000);
    assert.notEqual(codes, 'timeout', `still alive 10 s after SIGTERM:\n${w.out()}`);
    t.diagnostic(`exited ${((Date.now() - t0) / 1000).toFixed(1)} s after SIGTERM`);
    assert.ok(Date.now() - t0 < 10_000);
    assert.deepEqual(codes, [1], 'exit code 1: a job in hand was dropped');
    assert.match(w.out(), /: stopping/);
    assert.match(w.out(), /stopped: Redis is unreachable; abandoned 1 job\(s\) in hand/, w.out());
    assert.ok(!w.out().includes('done b1 '), 'the job in hand was not reported done');
  });

  test('a worker SIGKILLed while it holds a long job: another worker (default lock settings) runs it well before 80 s', async (t) => {
    const r = await redis();
    const url = `${r.url}?queue=k`;
    const victim = worker(url, [], { DARKROOM_WORKER_HOLD_MS: '120000' });
    await ready([victim]);
    const q = new Queue<JobData>('k', { connection: parseRedisUrl(r.url).connection });
    try {
      await q.add('step', job('k1'), { jobId: 'k1', attempts: 5 });
      await waitFor('the victim holds the job', () => victim.out().includes('start k1 '), 20_000);
      const rescuer = worker(url);
      await ready([rescuer]);
      victim.child.kill('SIGKILL');
      await victim.exited;
      const t0 = Date.now();
      await waitFor('another worker to run the job', () => rescuer.out().includes('done k1 '), 30_000);
      const took = (Date.now() - t0) / 1000;
      t.diagnostic(`picked up ${took.toFixed(1)} s after the kill`);
      assert.ok(took < 30, `picked up ${took.toFixed(1)} s after the kill`);
      const j = await q.getJob('k1');
      assert.equal(j?.returnvalue?.worker?.split(':').pop(), pid(rescuer));
    } finally {
      await q.close();
    }
  });

  test('a CPU-bound step longer than the lock keeps its lock: the job runs once', async () => {
    const r = await redis();
    const url = `${r.url}?queue=c`;
    // Lock 3 s (renewed every second), stalled-job check every 0.5 s; the step keeps its thread busy
    // for 6 s. On the main thread that starved the renewal: the job ran again and again, then failed.
    const flags = ['--lock-duration', '3000', '--stalled-interval', '500'];
    const env = { DARKROOM_WORKER_BUSY_MS: '6000' };
    const ws = [worker(url, flags, env), worker(url, flags, env)];
    await ready(ws);
    const q = new Queue<JobData>('c', { connection: parseRedisUrl(r.url).connection });
    try {
      await q.add('step', job('c1'), { jobId: 'c1', attempts: 5 });
      const done = (): boolean => ws.some((w) => w.out().includes('done c1 '));
      await waitFor('the job done', done, 25_000).catch(() => undefined);
      await sleep(500);
      const starts = ws.reduce((n, w) => n + (w.out().match(/start c1 /g)?.length ?? 0), 0);
      assert.equal(starts, 1, `started ${starts} times:\n${ws.map((w) => w.out()).join('\n')}`);
      assert.ok(done());
      const j = await q.getJob('c1');
      assert.equal(j?.attemptsStarted, 1);
      assert.equal(await j?.getState(), 'completed');
    } finally {
      await q.close();
    }
  });
});
