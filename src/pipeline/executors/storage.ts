/**
 * Where distributed jobs find and leave their files. Jobs carry keys (paths relative to the run's
 * output folder), never pixels. The default is a shared filesystem (NFS, SMB, a local disk when
 * every worker runs on one machine): a key is a path under the root, written atomically.
 *
 * An S3-compatible adapter would implement the same interface (get/put objects, with a local
 * cache for the row reads of FitsFile); it is not written yet (@aws-sdk/client-s3 is not a
 * dependency).
 */
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { writeFileAtomic } from '../../util/atomic.js';
import { DarkroomError } from '../../util/errors.js';

export interface Storage {
  /** Human-readable location, e.g. file:///data/out. */
  readonly url: string;
  /** A local path for the key, for readers that stream from disk (FITS row bands). */
  localPath(key: string): string;
  read(key: string): Buffer;
  /** Atomic: readers see the old object or the whole new one. */
  write(key: string, chunks: Iterable<Uint8Array>): void;
  exists(key: string): boolean;
  remove(prefix: string): void;
}

export class FsStorage implements Storage {
  readonly root: string;
  constructor(root: string) {
    this.root = resolve(root);
  }
  get url(): string {
    return `file://${this.root}`;
  }
  localPath(key: string): string {
    if (isAbsolute(key)) return key;
    const p = resolve(join(this.root, key));
    if (p !== this.root && !p.startsWith(`${this.root}/`)) throw new DarkroomError('BAD_ARGUMENT', `storage key '${key}' leaves the storage root`, this.root);
    return p;
  }
  read(key: string): Buffer {
    const p = this.localPath(key);
    if (!existsSync(p)) throw new DarkroomError('ENOENT', 'no such file in the shared storage (is the output folder shared with every worker?)', p);
    return readFileSync(p);
  }
  write(key: string, chunks: Iterable<Uint8Array>): void {
    const p = this.localPath(key);
    mkdirSync(dirname(p), { recursive: true });
    writeFileAtomic(p, chunks);
  }
  exists(key: string): boolean {
    return existsSync(this.localPath(key));
  }
  remove(prefix: string): void {
    rmSync(this.localPath(prefix), { recursive: true, force: true });
  }
}
