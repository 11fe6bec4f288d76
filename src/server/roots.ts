/**
 * File access for the server, limited to the configured roots: a path is resolved (relative paths
 * against the first root), checked lexically against the roots, then its real path (symlinks
 * followed) is checked again, so neither `..` nor a symlink can lead outside.
 */
import { existsSync, realpathSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import { HttpError } from './errors.js';

function inside(root: string, p: string): boolean {
  if (p === root) return true;
  const rel = relative(root, p);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) && !rel.split(sep).includes('..');
}

export class Roots {
  /** Real paths of the roots. */
  readonly dirs: string[];
  constructor(dirs: string[]) {
    if (dirs.length === 0) throw new HttpError(500, 'BAD_ARGUMENT', 'no roots configured');
    this.dirs = dirs.map((d) => {
      const abs = resolve(d);
      if (!existsSync(abs)) throw new HttpError(500, 'ENOENT', `root folder does not exist: ${abs}`);
      return realpathSync(abs);
    });
  }

  private lexical(p: string): string {
    if (typeof p !== 'string' || p.length === 0) throw new HttpError(400, 'BAD_ARGUMENT', 'path is required');
    if (p.includes('\0')) throw new HttpError(400, 'BAD_ARGUMENT', 'path contains a NUL byte');
    const abs = isAbsolute(p) ? resolve(p) : resolve(this.dirs[0]!, p);
    if (!this.dirs.some((r) => inside(r, abs))) throw new HttpError(403, 'FORBIDDEN', `${p}: outside the served roots`);
    return abs;
  }

  /** An existing file or folder inside the roots (its real path). */
  existing(p: string): string {
    const abs = this.lexical(p);
    if (!existsSync(abs)) throw new HttpError(404, 'ENOENT', `${p}: no such file or folder`);
    const real = realpathSync(abs);
    if (!this.dirs.some((r) => inside(r, real))) throw new HttpError(403, 'FORBIDDEN', `${p}: a symbolic link leads outside the served roots`);
    return real;
  }

  /** A path that may not exist yet (an output folder): its nearest existing ancestor must be inside. */
  writable(p: string): string {
    const abs = this.lexical(p);
    let a = abs;
    while (!existsSync(a)) {
      const up = dirname(a);
      if (up === a) break;
      a = up;
    }
    const real = realpathSync(a);
    if (!this.dirs.some((r) => inside(r, real))) throw new HttpError(403, 'FORBIDDEN', `${p}: a symbolic link leads outside the served roots`);
    return resolve(real, relative(a, abs));
  }

  /** The path to show the client: relative to the root holding it, prefixed with the root's index when there are several. */
  display(real: string): string {
    return real;
  }
}
