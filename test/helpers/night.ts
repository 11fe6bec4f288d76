/** Fixtures for whole-night tests: a simulated night without its truth folder, and a tree's content hashes. */
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, renameSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { simulateSession, type SessionFiles, type SessionSpec } from '../../src/devices/sim/index.js';

/**
 * Simulate a night into `night` and move its `truth` folder to `truth` (the truth is not part of the
 * night, so a run must not see it); returns the simulator's files (truth paths still name `night/truth`).
 */
export function simulatedNight(night: string, spec: SessionSpec, truth: string): SessionFiles {
  const sim = simulateSession(night, spec);
  renameSync(join(night, 'truth'), truth);
  return sim;
}

/** Every file below `dir` by its path relative to `dir`, with the SHA-1 of its content. */
export function hashTree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string): void => {
    for (const n of readdirSync(d)) {
      const p = join(d, n);
      if (statSync(p).isDirectory()) walk(p);
      else out[relative(dir, p)] = createHash('sha1').update(readFileSync(p)).digest('hex');
    }
  };
  walk(dir);
  return out;
}
