/**
 * Shared test utilities: temp dirs, running Debian's Python (astropy, numpy, ccdproc...) as a
 * reference implementation, fitsverify, and the CLI.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

export const ROOT = new URL('../..', import.meta.url).pathname;

/** Debian's interpreter, where python3-astropy & co. are installed (not a pyenv python on PATH). */
export const PYTHON = process.env.DARKROOM_PYTHON ?? '/usr/bin/python3';

export function tempDir(prefix = 'darkroom-test-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Run a Python script with Debian's python3; throws with stderr on failure; returns stdout. */
export function runPython(script: string, args: string[] = []): string {
  const r = spawnSync(PYTHON, ['-c', script, ...args], { encoding: 'utf8', maxBuffer: 256 << 20 });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`python failed (${r.status}):\n${r.stderr}`);
  return r.stdout;
}

/** Run fitsverify on a file; returns counts of errors and warnings and the full text. */
export function fitsverify(path: string): { errors: number; warnings: number; text: string } {
  const r = spawnSync('fitsverify', [path], { encoding: 'utf8' });
  if (r.error) throw new Error(`fitsverify not runnable (install Debian package fitsverify): ${r.error.message}`);
  const text = `${r.stdout}${r.stderr}`;
  const m = /(\d+) warning\(s\) and (\d+) error\(s\)/.exec(text);
  if (!m) throw new Error(`cannot parse fitsverify output:\n${text}`);
  return { warnings: Number(m[1]), errors: Number(m[2]), text };
}

/** Run the CLI from source (tsx), return exit code, stdout, stderr. */
export function runCli(args: string[], opts: { cwd?: string; input?: string } = {}): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/run.ts'), ...args], {
    cwd: opts.cwd ?? ROOT,
    encoding: 'utf8',
    input: opts.input,
    maxBuffer: 256 << 20,
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  if (r.error) throw r.error;
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}
