/**
 * `darkroom alpaca-sim` in its own process (a blocking runCli would freeze an in-process server), on a free port.
 * Its camera keeps its settings in a fresh file of its own (removed when it exits), so no two servers, and
 * no `--device sim` command, share them; pass `--settings FILE` (or DARKROOM_SIM_SETTINGS in `env`) to choose it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './env.js';

export async function startAlpacaSim(speed: number, args: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<{ proc: ChildProcess; port: number }> {
  const own = mkdtempSync(join(tmpdir(), 'darkroom-alpaca-sim-'));
  const proc = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/run.ts'), 'alpaca-sim', '--port', '0', '--discovery-port', 'off', '--speed', String(speed), ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, DARKROOM_SIM_SETTINGS: join(own, 'sim-camera.json'), ...env, NODE_OPTIONS: '' },
  });
  proc.once('exit', () => rmSync(own, { recursive: true, force: true }));
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    proc.once('exit', (code) => reject(new Error(`alpaca-sim exited (${code}): ${out}`)));
  });
  return { proc, port };
}

/** Stop an alpaca-sim process (SIGTERM) and wait until it has exited. */
export async function stopAlpacaSim(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  proc.kill('SIGTERM');
  await exited;
}
