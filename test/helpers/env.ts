/**
 * Shared test utilities: temp dirs, running Debian's Python (astropy, numpy, ccdproc...) as a
 * reference implementation, fitsverify, and the CLI.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { after, type TestContext } from 'node:test';

export const ROOT = new URL('../..', import.meta.url).pathname;

/** Debian's interpreter, where python3-astropy & co. are installed (not a pyenv python on PATH). */
export const PYTHON = process.env.DARKROOM_PYTHON ?? '/usr/bin/python3';

/** tsx's loader as a file URL, so that `--import` finds it whatever the child's cwd. */
const TSX_LOADER = import.meta.resolve('tsx');

/** A fresh temp dir and the function that removes it (prefer useTempDir, fileTempDir or withTempDir). */
export function tempDir(prefix = 'darkroom-test-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A fresh temp dir for one test, removed when that test ends: `test('x', (t) => { const dir = useTempDir(t); ... })`. */
export function useTempDir(t: Pick<TestContext, 'after'>, prefix?: string): string {
  const { dir, cleanup } = tempDir(prefix);
  t.after(cleanup);
  return dir;
}

/** A fresh temp dir shared by the tests of one file (or suite), removed after the last of them. */
export function fileTempDir(prefix?: string): string {
  const { dir, cleanup } = tempDir(prefix);
  after(cleanup);
  return dir;
}

/** Run `fn` in a fresh temp dir and remove the dir afterwards, also when `fn` throws or rejects. */
export async function withTempDir<T>(fn: (dir: string) => T | Promise<T>, prefix?: string): Promise<T> {
  const { dir, cleanup } = tempDir(prefix);
  try {
    return await fn(dir);
  } finally {
    cleanup();
  }
}

/** A temp dir shared by the tests of one file, and a function that makes a fresh numbered folder in it (run1, run2...). */
export function fileRunDirs(prefix?: string): () => string {
  const root = fileTempDir(prefix);
  let n = 0;
  return () => subdir(root, `run${++n}`);
}

/** Make the folder `name` (default `out`) in `dir`; returns its path. */
export function subdir(dir: string, name = 'out'): string {
  const p = join(dir, name);
  mkdirSync(p, { recursive: true });
  return p;
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

/** Run the CLI from source (tsx), from any cwd (default the repository); return exit code, stdout, stderr. */
export function runCli(args: string[], opts: { cwd?: string; input?: string } = {}): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', TSX_LOADER, join(ROOT, 'src/cli/run.ts'), ...args], {
    cwd: opts.cwd ?? ROOT,
    encoding: 'utf8',
    input: opts.input,
    maxBuffer: 256 << 20,
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  if (r.error) throw r.error;
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}
