/**
 * Refusing outputs that would overwrite inputs. Raw inputs are never modified: before any work, a
 * command that writes files derived from input files lists every path it will write and calls
 * `assertOutputsAreNotInputs`. Paths are compared by their physical location (symlinks and `..`
 * resolved as the filesystem resolves them) and, for files that exist, by (device, inode), so a
 * symlink, a hard link or `./x/../L1.fits` of an input is caught as well as the same spelling.
 */
import { realpathSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, resolve, sep } from 'node:path';
import { DarkroomError } from './errors.js';

/** Where a path lands on disk: the real path of its longest existing ancestor plus the rest. */
export function physicalPath(path: string): string {
  // no lexical normalization before the walk: `link/..` must go through the link, as open() does
  let head = isAbsolute(path) ? path : `${process.cwd()}${sep}${path}`;
  const tail: string[] = [];
  for (;;) {
    try {
      return resolve(realpathSync.native(head), ...tail);
    } catch {
      const parent = dirname(head);
      if (parent === head) return resolve(path);
      tail.unshift(basename(head));
      head = parent;
    }
  }
}

interface Identity {
  real: string;
  inode?: string;
}

/** stat, or undefined when nothing is there: no entry, or a path through a file (ENOTDIR, a file given as an output folder; refused later as not a folder). */
function statIfAny(path: string): ReturnType<typeof statSync> {
  try {
    return statSync(path, { bigint: true, throwIfNoEntry: false });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined;
    throw e;
  }
}

function identity(path: string): Identity {
  const st = statIfAny(path);
  return { real: physicalPath(path), inode: st && st.isFile() ? `${st.dev}:${st.ino}` : undefined };
}

/** Identities by real path and by (device, inode): lookups stay linear in the number of files. */
class IdentitySet {
  private readonly byReal = new Map<string, number>();
  private readonly byInode = new Map<string, number>();
  add(id: Identity, index: number): void {
    if (!this.byReal.has(id.real)) this.byReal.set(id.real, index);
    if (id.inode !== undefined && !this.byInode.has(id.inode)) this.byInode.set(id.inode, index);
  }
  /** Index of an identity added earlier that is the same file as `id`, or -1. */
  find(id: Identity): number {
    return this.byReal.get(id.real) ?? (id.inode !== undefined ? this.byInode.get(id.inode) : undefined) ?? -1;
  }
}

/**
 * Throw a DarkroomError (exit 2, one line naming the output) when an output is an input (same
 * path, symlink, hard link) or when two outputs land on the same file. `sources[i]`, when given, is
 * the input that `outputs[i]` is made from (named in the message about two outputs).
 */
export function assertOutputsAreNotInputs(outputs: readonly string[], inputs: readonly string[], sources?: readonly string[]): void {
  const ins = new IdentitySet();
  inputs.forEach((p, i) => ins.add(identity(p), i));
  const outs = new IdentitySet();
  outputs.forEach((o, i) => {
    const id = identity(o);
    const k = ins.find(id);
    if (k >= 0) throw new DarkroomError('BAD_ARGUMENT', `output would overwrite input ${inputs[k]}; choose another output path`, o);
    const j = outs.find(id);
    if (j >= 0) {
      const from = sources ? ` (from ${sources[j]} and from ${sources[i]})` : '';
      throw new DarkroomError('BAD_ARGUMENT', `output would be written twice${from}; choose another output path`, o);
    }
    outs.add(id, i);
  });
}
