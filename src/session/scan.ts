/**
 * Scan a night: walk the folder tree for FITS files (.fit/.fits/.fts, any case), read headers
 * (never whole images), classify each frame from IMAGETYP, file/folder names and a pixel
 * subsample, hash the data unit (streaming) to find duplicates. Unreadable files are listed
 * and skipped.
 */
import { closeSync, openSync, readFileSync, readSync, readdirSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join, relative, resolve, sep } from 'node:path';
import { FitsFile, type Hdu } from '../fits/reader.js';
import { DarkroomError, isDarkroomError } from '../util/errors.js';
import { frameMeta, kindFromImagetyp, kindFromPath, type FrameKind, type FrameMeta } from './metadata.js';
import { decideKind, pixelEvidence, type PixelEvidence } from './evidence.js';
import { pointing } from './coords.js';

export const FITS_EXT = /\.(fits?|fts)$/i;

export interface Frame {
  /** Absolute path. */
  path: string;
  /** Path relative to the scanned root. */
  rel: string;
  kind?: FrameKind;
  headerKind?: FrameKind;
  nameKind?: FrameKind;
  /** Why the kind differs from the header, when it does (or came from elsewhere). */
  kindNote?: string;
  meta: FrameMeta;
  width: number;
  height: number;
  channels: number;
  bitpix: number;
  hdu: number;
  camera?: string;
  ra?: number;
  dec?: number;
  /** CFA pattern of a one-shot-colour mosaic (BAYERPAT), absent for mono. */
  cfa?: string;
  /** Hex digest of the data unit bytes (with BITPIX/axes/BZERO/BSCALE). */
  hash?: string;
  pixels?: PixelEvidence;
  /** Hex digest of the whole file up to the end of the image data (headers + data): content fingerprint. */
  contentHash?: string;
  /** Set when this frame has the same pixel data as an earlier one (relative path of that one). */
  duplicateOf?: string;
  bytes: number;
}

export interface Skipped {
  path: string;
  reason: string;
}

export interface ScanResult {
  root: string;
  frames: Frame[];
  /** Unique frames (duplicates removed). */
  unique: Frame[];
  duplicates: Array<{ path: string; of: string }>;
  skipped: Skipped[];
  /** Files without a FITS name (.txt, camera RAW, XISF...), relative to the root: not read. */
  ignored: string[];
  /**
   * Folders (with a trailing /) and files left out by an exclusion rule (the `ignore` option or the
   * night's .darkroomignore), relative to the root, each with the rule that matched.
   */
  excluded: Array<{ path: string; rule: string }>;
}

/**
 * Scan results of earlier runs, keyed by absolute path; an entry is reused while the file's size,
 * modification time and inode are unchanged (as make and rsync decide), so a re-run does not
 * re-hash every frame.
 */
export interface ScanCache {
  version: 1;
  entries: Record<string, { key: string; opts: string; frame: Frame }>;
}

export function emptyScanCache(): ScanCache {
  return { version: 1, entries: {} };
}

export interface ScanOptions {
  /** Reuse (and update) earlier results of unchanged files. */
  cache?: ScanCache;
  /** Hash pixel data to find duplicates (default true). */
  hash?: boolean;
  /** Check the pixels against the kind (default true). */
  pixels?: boolean;
  /** Called after each file (progress). */
  onFile?: (done: number, total: number, path: string) => void;
  /** Folders and files never scanned (a run's output folder, the files Darkroom wrote there). */
  exclude?: string[];
  /**
   * Exclusion rules given by the user, as in .gitignore: globs matched against the path relative to
   * the root (`*` within a name, `**` across folders, `?` one character); a rule without a slash
   * matches a name at any depth, a trailing slash matches folders only. Added to the rules of the
   * night's own IGNORE_FILE.
   */
  ignore?: string[];
}

/** The file in a night's top folder whose lines are exclusion rules (blank lines and # comments skipped). */
export const IGNORE_FILE = '.darkroomignore';

/** The exclusion rules of `ignore` plus those of the night's IGNORE_FILE (when there is one). */
export function ignoreRules(root: string, ignore: string[] = []): string[] {
  let lines: string[] = [];
  try {
    lines = readFileSync(join(root, IGNORE_FILE), 'utf8').split(/\r?\n/);
  } catch {
    // no ignore file
  }
  return [...ignore, ...lines].map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
}

/** A regular expression for one glob (no slashes handled specially but `**`). */
function globRegex(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*' && glob[i + 1] === '*') {
      const slash = glob[i + 2] === '/';
      re += slash ? '(?:.*/)?' : '.*';
      i += slash ? 2 : 1;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** A matcher of relative paths (with / separators) against exclusion rules: the rule that matches, or null. */
export function excludeMatcher(rules: string[]): (rel: string, isDir: boolean) => string | null {
  const compiled = rules.map((rule) => {
    const dirOnly = rule.endsWith('/');
    const body = rule.replace(/^\.\//, '').replace(/^\//, '').replace(/\/$/, '');
    return { rule, dirOnly, anyDepth: !body.includes('/'), re: globRegex(body) };
  });
  return (rel, isDir) => {
    const name = rel.slice(rel.lastIndexOf('/') + 1);
    for (const c of compiled) if ((!c.dirOnly || isDir) && c.re.test(c.anyDepth ? name : rel)) return c.rule;
    return null;
  };
}

/** Identities (device:inode) of the paths that exist: how the walk recognizes them under any name. */
export function fileIds(paths: Iterable<string>): Set<string> {
  const ids = new Set<string>();
  for (const p of paths) {
    try {
      const st = statSync(p);
      ids.add(`${st.dev}:${st.ino}`);
    } catch {
      // not there: nothing to skip
    }
  }
  return ids;
}

/**
 * All FITS files under `root`, sorted, following no symlinked directories twice; other files go to
 * `others`; folders and files whose identity is in `exclude` (see fileIds) are skipped.
 */
export function listFitsFiles(root: string, others?: string[], exclude?: ReadonlySet<string>, rules?: { match: (rel: string, isDir: boolean) => string | null; excluded: Array<{ path: string; rule: string }> }): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  const walk = (dir: string): void => {
    let st;
    try {
      st = statSync(dir);
    } catch {
      return;
    }
    const id = `${st.dev}:${st.ino}`;
    if (seen.has(id) || exclude?.has(id)) return;
    seen.add(id);
    let names: string[];
    try {
      names = readdirSync(dir).sort();
    } catch {
      return;
    }
    for (const name of names) {
      if (name.startsWith('.')) continue;
      const p = join(dir, name);
      let s;
      try {
        s = statSync(p);
      } catch {
        continue;
      }
      const rule = rules?.match(relative(root, p).split(sep).join('/'), s.isDirectory());
      if (rule) rules!.excluded.push({ path: relative(root, p) + (s.isDirectory() ? '/' : ''), rule });
      else if (s.isDirectory()) walk(p);
      else if (exclude?.has(`${s.dev}:${s.ino}`)) continue;
      else if (s.isFile() && FITS_EXT.test(name)) out.push(p);
      else if (s.isFile()) others?.push(p);
    }
  };
  walk(root);
  return out;
}

/** Stream the data unit of an HDU through a hash (1 MB at a time). */
export function hashDataUnit(path: string, hdu: Hdu): string {
  const h = createHash('sha1');
  h.update(`${hdu.bitpix}|${hdu.naxes.join('x')}|${hdu.bzero}|${hdu.bscale}|`);
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    let pos = hdu.dataOffset;
    const end = hdu.dataOffset + hdu.dataBytes;
    while (pos < end) {
      const n = readSync(fd, buf, 0, Math.min(buf.length, end - pos), pos);
      if (n <= 0) throw new DarkroomError('TRUNCATED', `truncated: data ends before byte ${end}`, path);
      h.update(buf.subarray(0, n));
      pos += n;
    }
  } finally {
    closeSync(fd);
  }
  return h.digest('hex');
}

function headerBytes(path: string, n: number): Buffer {
  const fd = openSync(path, 'r');
  try {
    const b = Buffer.alloc(n);
    readSync(fd, b, 0, n, 0);
    return b;
  } finally {
    closeSync(fd);
  }
}

/** Read one file's header, metadata, pixel evidence and hash. Throws DarkroomError for bad files. */
export function scanFile(path: string, root: string, opts: ScanOptions = {}): Frame {
  const f = new FitsFile(path);
  try {
    const hdu = f.imageHdu();
    const { width, height, channels } = f.geometry(hdu);
    const h = hdu.header;
    const meta = frameMeta(h, path);
    const headerKind = kindFromImagetyp(h.getString('IMAGETYP') ?? h.getString('FRAME') ?? h.getString('FRAMETYP'));
    const nameKind = kindFromPath(path);
    const pixels = opts.pixels === false ? undefined : pixelEvidence(f, hdu);
    const decision = decideKind(headerKind, nameKind, pixels, meta.exposure);
    const pos = pointing(h);
    const hash = opts.hash === false ? undefined : hashDataUnit(path, hdu);
    const contentHash = hash === undefined ? undefined : createHash('sha1').update(hash).update(headerBytes(path, hdu.dataOffset)).digest('hex');
    const camera = h.getString('INSTRUME')?.trim() || h.getString('CAMERA')?.trim() || undefined;
    return {
      path,
      rel: relative(root, path),
      kind: decision.kind,
      headerKind,
      nameKind,
      kindNote: decision.note,
      meta: { ...meta, kind: decision.kind },
      width,
      height,
      channels,
      bitpix: hdu.bitpix,
      hdu: hdu.index,
      camera,
      ra: pos?.ra,
      dec: pos?.dec,
      cfa: channels === 1 ? meta.bayer : undefined,
      hash,
      contentHash,
      pixels,
      bytes: hdu.dataBytes,
    };
  } finally {
    f.close();
  }
}

/** Scan a folder tree (or a single file). */
export function scanNight(rootIn: string, opts: ScanOptions = {}): ScanResult {
  const root = resolve(rootIn);
  let st;
  try {
    st = statSync(root);
  } catch {
    throw new DarkroomError('ENOENT', 'no such file or directory', rootIn);
  }
  const others: string[] = [];
  const rules = st.isDirectory() ? { match: excludeMatcher(ignoreRules(root, opts.ignore)), excluded: [] as Array<{ path: string; rule: string }> } : undefined;
  const files = st.isDirectory() ? listFitsFiles(root, others, opts.exclude ? fileIds(opts.exclude) : undefined, rules) : [root];
  const base = st.isDirectory() ? root : resolve(root, '..');
  const frames: Frame[] = [];
  const skipped: Skipped[] = [];
  // Files in the tree that are not FITS by name are not listed; FITS-named files that fail are.
  const optKey = `${opts.hash !== false}|${opts.pixels !== false}`;
  files.forEach((p, i) => {
    try {
      let fr: Frame | undefined;
      let key = '';
      if (opts.cache) {
        const st = statSync(p);
        key = `${st.size}:${Math.floor(st.mtimeMs)}:${st.ino}`;
        const c = opts.cache.entries[p];
        if (c && c.key === key && c.opts === optKey) fr = { ...c.frame, rel: relative(base, p), duplicateOf: undefined };
      }
      if (!fr) {
        fr = scanFile(p, base, opts);
        if (opts.cache) opts.cache.entries[p] = { key, opts: optKey, frame: fr };
      }
      frames.push(fr);
    } catch (e) {
      if (!isDarkroomError(e)) throw e;
      skipped.push({ path: relative(base, p), reason: e.message });
    }
    opts.onFile?.(i + 1, files.length, p);
  });
  const byHash = new Map<string, Frame>();
  const duplicates: Array<{ path: string; of: string }> = [];
  const unique: Frame[] = [];
  for (const fr of frames) {
    if (fr.hash) {
      const first = byHash.get(fr.hash);
      if (first) {
        fr.duplicateOf = first.rel;
        duplicates.push({ path: fr.rel, of: first.rel });
        continue;
      }
      byHash.set(fr.hash, fr);
    }
    unique.push(fr);
  }
  return { root: base, frames, unique, duplicates, skipped, ignored: others.map((p) => relative(base, p)), excluded: rules?.excluded ?? [] };
}
