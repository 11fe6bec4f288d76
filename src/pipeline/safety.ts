/**
 * Refusals of a run's folders, before anything is scanned or written: the output folder must not
 * be the night, nor lie inside it (Darkroom never writes inside the night), and the night must not
 * lie inside a folder Darkroom writes in OUT (calibrated/, registered/, ...: their files are
 * Darkroom's and some are removed at the end of a run). Real paths are compared, so a symlink
 * cannot hide one folder inside the other. Every driver of a run (CLI, API, executePlan) calls these.
 */
import { join, sep } from 'node:path';
import { OptionError } from './option-error.js';
import { physicalPath } from '../util/paths.js';

/** Folders of OUT that intermediate steps write (removed file by file at the end of a run). */
export const INTERMEDIATE_DIRS = ['calibrated', 'debayered', 'registered'] as const;
/** Every folder Darkroom writes in OUT. */
export const OUTPUT_DIRS = ['masters', ...INTERMEDIATE_DIRS, 'stacks', 'previews', '.darkroom'] as const;

/** `inner` is `outer` or lies below it (real paths). */
export function isWithin(inner: string, outer: string): boolean {
  return inner === outer || inner.startsWith(outer.endsWith(sep) ? outer : outer + sep);
}

/**
 * Refuse a run whose output folder would write into the night or whose night lies in a folder
 * Darkroom writes. `dirs`: OUT's top-level folders the run writes (default OUTPUT_DIRS).
 */
export function checkRunPaths(night: string, out: string, opts: { library?: string; dirs?: readonly string[] } = {}): void {
  const rn = physicalPath(night);
  const ro = physicalPath(out);
  if (ro === rn) throw new OptionError('BAD_ARGUMENT', 'out', 'the output folder is the night folder (Darkroom never writes in the night, and would scan its own outputs as frames)', 'another', night);
  if (isWithin(ro, rn)) throw new OptionError('BAD_ARGUMENT', 'out', `the output folder ${out} is inside the night folder (Darkroom never writes in the night)`, 'outside', night);
  for (const d of opts.dirs ?? OUTPUT_DIRS) {
    if (isWithin(rn, physicalPath(join(out, d)))) throw new OptionError('BAD_ARGUMENT', 'out', `the night folder is inside ${join(out, d)}, a folder Darkroom writes in the output folder`, 'another', night);
  }
  if (opts.library && isWithin(physicalPath(opts.library), rn)) throw new OptionError('BAD_ARGUMENT', 'library', `the master library ${opts.library} is inside the night folder (Darkroom never writes in the night)`, 'outside', night);
}

/** A dry run's refusal: OUT == night (the scan skips OUT, so it would find nothing); OUT inside the night is allowed. */
export function checkDryRunPaths(night: string, out: string): void {
  if (physicalPath(out) === physicalPath(night)) checkRunPaths(night, out);
}

/** The top-level folders of OUT that a set of output paths (relative to OUT) lies in, plus .darkroom. */
export function topDirs(outputs: Iterable<string>): string[] {
  const s = new Set<string>(['.darkroom']);
  for (const o of outputs) {
    const i = o.indexOf('/');
    if (i > 0) s.add(o.slice(0, i));
  }
  return [...s];
}
