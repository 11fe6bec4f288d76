/**
 * Runs many `darkroom` command lines in one process (one tsx start instead of one per command):
 * `node --import tsx test/fits/cli-driver.ts CASES.json RESULTS.json`, CASES.json an array of
 * `{id, args}`. For each case it calls `main` from src/cli/main.ts as bin/darkroom does, and records
 * the exit code and what the user would see on stdout and stderr. RESULTS.json is rewritten after
 * every case, so if the whole run is killed by its timeout the last entry shows where it stopped.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { main } from '../../src/cli/main.js';

interface Case {
  id: string;
  args: string[];
}

export interface CaseResult {
  id: string;
  /** Exit code, or 'timeout' / 'threw' (main itself rejected: it never should). */
  code: number | 'timeout' | 'threw';
  stdout: string;
  stderr: string;
  ms: number;
}

const PER_CASE_MS = 15_000;

type Write = typeof process.stdout.write;

async function runOne(c: Case): Promise<CaseResult> {
  let stdout = '';
  let stderr = '';
  const out = process.stdout.write;
  const err = process.stderr.write;
  process.stdout.write = ((chunk: string | Uint8Array) => ((stdout += String(chunk)), true)) as Write;
  process.stderr.write = ((chunk: string | Uint8Array) => ((stderr += String(chunk)), true)) as Write;
  process.exitCode = undefined;
  const t0 = Date.now();
  let timer: NodeJS.Timeout | undefined;
  let code: CaseResult['code'];
  try {
    const timeout = new Promise<'timeout'>((res) => (timer = setTimeout(() => res('timeout'), PER_CASE_MS)));
    code = await Promise.race([main(['node', 'darkroom', ...c.args]), timeout]);
  } catch (e) {
    code = 'threw';
    stderr += `${(e as Error)?.stack ?? String(e)}\n`;
  } finally {
    clearTimeout(timer);
    process.stdout.write = out;
    process.stderr.write = err;
    process.exitCode = undefined;
  }
  return { id: c.id, code, stdout, stderr, ms: Date.now() - t0 };
}

const [casesFile, resultsFile] = process.argv.slice(2) as [string, string];
const cases = JSON.parse(readFileSync(casesFile, 'utf8')) as Case[];
const results: CaseResult[] = [];
for (const c of cases) {
  writeFileSync(resultsFile, JSON.stringify([...results, { id: c.id, code: 'timeout', stdout: '', stderr: '', ms: -1 }]));
  results.push(await runOne(c));
}
writeFileSync(resultsFile, JSON.stringify(results));
process.exit(0);
