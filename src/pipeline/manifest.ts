/**
 * The manifest of an output folder (OUT/.darkroom/manifest.json): the files and folders Darkroom
 * created there. Darkroom deletes only what it recorded here, file by file; a folder goes only
 * when it is empty and Darkroom created it. A file is claimed before the step that writes it
 * runs, and only when it does not exist yet (a user's file of the same name is never claimed);
 * once written, its size, mtime and sha256 are recorded.
 */
import { closeSync, existsSync, openSync, readFileSync, readSync, readdirSync, rmdirSync, statSync, unlinkSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { dirname, join } from 'node:path';
import { writeFileAtomic } from '../util/atomic.js';

export interface ManifestFile {
  /** The step that writes it. */
  step: string;
  /** An intermediate (calibrated, debayered, registered frame): removed at the end of a run. */
  intermediate?: boolean;
  /** Claimed before its step ran; not written (or not recorded) yet. */
  pending?: boolean;
  size?: number;
  mtimeMs?: number;
  sha256?: string;
}

export interface Manifest {
  version: 1;
  /** Paths relative to OUT. */
  files: Record<string, ManifestFile>;
  /** Folders Darkroom created, relative to OUT. */
  dirs: string[];
}

export const manifestPath = (out: string): string => join(out, '.darkroom', 'manifest.json');

export function loadManifest(out: string): Manifest {
  try {
    const m = JSON.parse(readFileSync(manifestPath(out), 'utf8')) as Manifest;
    if (m && m.version === 1 && m.files && typeof m.files === 'object' && Array.isArray(m.dirs)) return m;
  } catch {
    // none yet (or unreadable): Darkroom owns nothing in OUT besides .darkroom
  }
  return { version: 1, files: {}, dirs: [] };
}

export function saveManifest(out: string, m: Manifest): void {
  writeFileAtomic(manifestPath(out), [Buffer.from(JSON.stringify(m))]);
}

/** Size and sha256 of a file, read 1 MB at a time. */
export function fileDigest(path: string): { size: number; sha256: string } {
  const h = createHash('sha256');
  const fd = openSync(path, 'r');
  let size = 0;
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    for (let n; (n = readSync(fd, buf, 0, buf.length, null)) > 0; size += n) h.update(buf.subarray(0, n));
  } finally {
    closeSync(fd);
  }
  return { size, sha256: h.digest('hex') };
}

/** Record the folders (below OUT) of these outputs that do not exist yet: Darkroom is about to create them. */
export function claimDirs(out: string, m: Manifest, outputs: Iterable<string>): void {
  const dirs = new Set(m.dirs);
  for (const o of outputs) {
    for (let d = dirname(o); d !== '.' && d !== '/' && d !== ''; d = dirname(d)) {
      if (dirs.has(d)) continue;
      if (!existsSync(join(out, d))) dirs.add(d);
    }
  }
  m.dirs = [...dirs].sort();
}

/** Claim a step's outputs that do not exist yet (before the step writes them). */
export function claimFiles(out: string, m: Manifest, step: string, outputs: string[], intermediate: boolean): void {
  for (const o of outputs) {
    if (m.files[o] || existsSync(join(out, o))) continue;
    m.files[o] = { step, pending: true, ...(intermediate ? { intermediate } : {}) };
  }
}

/**
 * After a step: record what it wrote (claimed files only; `digests` of the produced ones) and drop
 * claims of outputs it did not write.
 */
export function recordFiles(out: string, m: Manifest, outputs: string[], digests: Record<string, { size: number; sha256: string }>): void {
  for (const o of outputs) {
    const e = m.files[o];
    if (!e) continue;
    const p = join(out, o);
    const d = digests[o];
    if (!existsSync(p)) {
      delete m.files[o];
      continue;
    }
    if (!d) continue;
    m.files[o] = { step: e.step, ...(e.intermediate ? { intermediate: true } : {}), size: d.size, mtimeMs: statSync(p).mtimeMs, sha256: d.sha256 };
  }
}

/** A recorded file is still the one Darkroom wrote (same size and mtime), or a claim whose step never finished. */
function stillOurs(p: string, e: ManifestFile): boolean {
  if (e.pending) return true;
  const st = statSync(p);
  return st.size === e.size && st.mtimeMs === e.mtimeMs;
}

/**
 * Remove the recorded files chosen by `pick` (file by file), then the folders Darkroom created that
 * are empty afterwards. A file changed since Darkroom wrote it is kept (and reported).
 */
export function removeRecorded(out: string, m: Manifest, pick: (rel: string, e: ManifestFile) => boolean, warn: (w: string) => void): string[] {
  const removed: string[] = [];
  for (const [rel, e] of Object.entries(m.files)) {
    if (!pick(rel, e)) continue;
    const p = join(out, rel);
    try {
      if (!existsSync(p)) {
        delete m.files[rel];
        continue;
      }
      if (!stillOurs(p, e)) {
        warn(`${rel}: changed since Darkroom wrote it: kept`);
        delete m.files[rel];
        continue;
      }
      unlinkSync(p);
      delete m.files[rel];
      removed.push(rel);
    } catch (err) {
      warn(`${rel}: cannot remove: ${(err as Error).message}`);
    }
  }
  removeEmptyDirs(out, m);
  return removed;
}

/** Remove the folders Darkroom created that are empty (deepest first); forget those that are gone. */
export function removeEmptyDirs(out: string, m: Manifest): void {
  const keep: string[] = [];
  for (const d of [...m.dirs].sort((a, b) => b.split('/').length - a.split('/').length || b.localeCompare(a))) {
    const p = join(out, d);
    if (!existsSync(p)) continue;
    try {
      if (readdirSync(p).length === 0) {
        rmdirSync(p);
        continue;
      }
    } catch {
      // not a folder any more, or unreadable: leave it
    }
    keep.push(d);
  }
  m.dirs = keep.sort();
}
