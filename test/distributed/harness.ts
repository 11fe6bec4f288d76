/** Test harness for distributed runs: a private redis-server, worker and coordinator processes. */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, connect } from 'node:net';
import { join } from 'node:path';
import { readdirSync } from 'node:fs';
import { ROOT } from '../helpers/env.js';
import { readFits } from '../../src/fits/index.js';

export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => res(port));
    });
  });
}

async function ping(port: number): Promise<boolean> {
  return new Promise((res) => {
    const c = connect(port, '127.0.0.1');
    let buf = '';
    c.on('data', (d) => {
      buf += d.toString();
      if (buf.includes('PONG')) (c.destroy(), res(true));
    });
    c.on('error', () => res(false));
    c.on('connect', () => c.write('PING\r\n'));
    setTimeout(() => (c.destroy(), res(false)), 500);
  });
}

export interface Proc {
  child: ChildProcess;
  out: () => string;
  exited: Promise<number | null>;
}

export function spawnProc(cmd: string, args: string[], env: Record<string, string> = {}): Proc {
  const child = spawn(cmd, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  child.stdout!.on('data', (d: Buffer) => (text += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (text += d.toString()));
  const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
  return { child, out: () => text, exited };
}

export function cli(args: string[], env: Record<string, string> = {}): Proc {
  return spawnProc(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/run.ts'), ...args], env);
}

export async function startRedis(): Promise<{ port: number; url: string; stop: () => Promise<void> }> {
  const port = await freePort();
  const p = spawnProc('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no']);
  for (let i = 0; i < 100 && !(await ping(port)); i++) await sleep(100);
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    stop: async () => {
      p.child.kill('SIGKILL');
      await p.exited;
    },
  };
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function waitFor(what: string, cond: () => boolean, timeoutMs: number): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

export async function startWorkers(url: string, n: number, env: Record<string, string> = {}): Promise<Proc[]> {
  const ws: Proc[] = [];
  for (let i = 0; i < n; i++) ws.push(cli(['worker', '--redis', url, '--lock-duration', '5000', '--stalled-interval', '1000'], env));
  await waitFor('workers ready', () => ws.every((w) => w.out().includes(': ready on ')), 30_000);
  return ws;
}

export async function stopAll(ps: Proc[]): Promise<void> {
  for (const p of ps) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGTERM');
  await Promise.all(ps.map((p) => Promise.race([p.exited, sleep(5000)])));
  for (const p of ps) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
}

/** Pixel data of every FITS under dir/sub (file name -> raw float32 bytes per plane). */
export function pixels(dir: string, sub: string): Map<string, Buffer> {
  const m = new Map<string, Buffer>();
  for (const f of readdirSync(join(dir, sub)).sort()) {
    const img = readFits(join(dir, sub, f));
    m.set(f, Buffer.concat(img.data.map((p) => Buffer.from(p.buffer, p.byteOffset, p.byteLength))));
  }
  return m;
}
