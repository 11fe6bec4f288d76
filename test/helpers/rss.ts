/** The CLI run from source in a child process, with its peak resident set size (memory tests). */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from './env.js';

export function runCliMaxRss(args: string[], timeoutMs = 60_000): { code: number; stdout: string; stderr: string; maxRssMB: number } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--import', join(ROOT, 'test/helpers/maxrss.mjs'), join(ROOT, 'src/cli/run.ts'), ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    maxBuffer: 64 << 20,
    timeout: timeoutMs,
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  if (r.error) throw r.error;
  const m = /DARKROOM_MAXRSS_KB (\d+)/.exec(r.stderr);
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr, maxRssMB: m ? Number(m[1]) / 1024 : Infinity };
}
