/** `darkroom alpaca-sim` in its own process (a blocking runCli would freeze an in-process server), on a free port. */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from './env.js';

export async function startAlpacaSim(speed: number): Promise<{ proc: ChildProcess; port: number }> {
  const proc = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/run.ts'), 'alpaca-sim', '--port', '0', '--discovery-port', 'off', '--speed', String(speed)], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, NODE_OPTIONS: '' },
  });
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
