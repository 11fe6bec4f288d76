/**
 * The I/O edge of plate solving: runs astrometry.net's solve-field on a FITS file in a temp folder
 * with a time limit, reads its answer, and (only when asked) writes the WCS into the file.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { BLOCK, CARD, headerBytes, parseHeaderText, readFitsHeader } from '../fits/index.js';
import { writeFileAtomic } from '../util/atomic.js';
import { DarkroomError } from '../util/errors.js';
import { VERSION } from '../version.js';
import { configPaths, parseSolution, solveFieldArgs, solveHints, type SolveHints } from './hints.js';
import { SOLVE_DEFAULTS, type SolveOptions } from './options.js';
import { summarizeWcs, writeWcs, type TanWcs, type WcsSummary } from './wcs.js';

export interface SolveResult extends WcsSummary {
  path: string;
  width: number;
  height: number;
  wcs: TanWcs;
  /** The astrometry.net index (e.g. 4107) that solved it. */
  index?: string;
  /** Which hints were used. */
  hints: SolveHints;
  /** Whether the WCS was written into the file. */
  written: boolean;
}

const SYSTEM_CONFIG = '/etc/astrometry.cfg';

/** The index files solve-field would use: those of `indexDir`, or of the add_path folders of the system config. */
export function indexFiles(indexDir?: string): { dirs: string[]; files: string[] } {
  const dirs = indexDir ? [indexDir] : existsSync(SYSTEM_CONFIG) ? configPaths(readFileSync(SYSTEM_CONFIG, 'utf8')) : ['/usr/share/astrometry'];
  const files: string[] = [];
  for (const d of dirs) {
    try {
      for (const f of readdirSync(d)) if (/^index.*\.fits$/.test(f)) files.push(join(d, f));
    } catch {
      /* a missing folder has no index files */
    }
  }
  return { dirs, files };
}

function run(cmd: string, args: string[], limitMs: number): Promise<{ code: number | null; output: string; timedOut: boolean }> {
  return new Promise((res, rej) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const keep = (b: Buffer): void => {
      output = (output + b.toString()).slice(-8000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, limitMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      rej(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      res({ code, output, timedOut });
    });
  });
}

/** Solve one FITS file with solve-field. Throws a one-line DarkroomError when the engine or its index files are missing, or on no solution. */
export async function solveFile(path: string, options: Partial<SolveOptions> = {}): Promise<SolveResult> {
  const o = { ...SOLVE_DEFAULTS, ...options };
  const { header, width, height } = readFitsHeader(path);
  const hints = solveHints(header, o);
  const idx = indexFiles(o.indexDir);
  if (idx.files.length === 0) {
    throw new DarkroomError('UNSUPPORTED', `no astrometry.net index files in ${idx.dirs.join(', ') || '(no folder configured)'}: install astrometry-data-tycho2-10-19-littleendian (and -07 for fields under a degree)`, path);
  }
  const dir = mkdtempSync(join(tmpdir(), 'darkroom-solve-'));
  try {
    let config: string | undefined;
    if (o.indexDir) {
      config = join(dir, 'astrometry.cfg');
      writeFileSync(config, `cpulimit ${Math.ceil(o.timeout)}\nadd_path ${resolve(o.indexDir)}\nautoindex\n`);
    }
    const args = solveFieldArgs(resolve(path), dir, hints, { timeout: o.timeout, downsample: o.downsample, width, config });
    let r: Awaited<ReturnType<typeof run>>;
    try {
      r = await run(o.engine, args, (o.timeout + 30) * 1000);
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      if (err.code === 'ENOENT') throw new DarkroomError('UNSUPPORTED', `plate solving needs astrometry.net's ${o.engine}, which was not found: install Debian's astrometry.net (apt-get install astrometry.net astrometry-data-tycho2-10-19-littleendian)`, path);
      throw new DarkroomError('IO', `cannot run ${o.engine}: ${err.message}`, path);
    }
    const wcsPath = join(dir, 'field.wcs');
    if (!existsSync(wcsPath)) {
      if (r.timedOut) throw new DarkroomError('NO_SOLUTION', `no solution within ${o.timeout} s`, path);
      if (r.code !== 0) throw new DarkroomError('NO_SOLUTION', `${o.engine} failed (exit ${r.code}): ${lastLine(r.output)}`, path);
      throw new DarkroomError('NO_SOLUTION', `no solution (${describeHints(hints)}, ${idx.files.length} index files)`, path);
    }
    const sol = parseSolution(parseHeaderText(readFileSync(wcsPath, 'latin1')));
    if (!sol) throw new DarkroomError('NO_SOLUTION', `${o.engine} wrote no TAN WCS`, path);
    const summary = summarizeWcs(sol.wcs, width, height);
    if (o.write) writeSolution(path, sol.wcs, sol.index);
    return { path, width, height, ...summary, wcs: sol.wcs, index: sol.index, hints, written: o.write };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function lastLine(text: string): string {
  const lines = text.split('\n').map((l) => l.trim()).filter(Boolean);
  return lines[lines.length - 1] ?? 'no output';
}

/** Words for the hints used ('blind' when none). */
export function describeHints(h: SolveHints): string {
  const parts: string[] = [];
  if (h.position) parts.push(`within ${h.position.radius} deg of ${h.position.ra.toFixed(3)} ${h.position.dec.toFixed(3)}`);
  if (h.scale) parts.push(`scale ${h.scale.low.toFixed(2)}-${h.scale.high.toFixed(2)}"/px`);
  return parts.length ? parts.join(', ') : 'blind';
}

/**
 * Write the WCS into the primary header of `path`: the header is rewritten with the WCS cards and a
 * HISTORY line, everything after it (pixels, extensions) is copied byte for byte; temp file + rename.
 */
export function writeSolution(path: string, wcs: TanWcs, index?: string): void {
  const buf = readFileSync(path);
  let end = -1;
  for (let off = 0; off + CARD <= buf.length && end < 0; off += CARD) {
    if (buf.toString('latin1', off, off + 3) === 'END' && buf.toString('latin1', off + 3, off + CARD).trim() === '') end = off;
  }
  if (end < 0) throw new DarkroomError('BAD_HEADER', 'no END card in the primary header', path);
  const dataStart = Math.ceil((end + CARD) / BLOCK) * BLOCK;
  const h = parseHeaderText(buf.toString('latin1', 0, end + CARD), path);
  if ((h.getNumber('NAXIS') ?? 0) < 2) throw new DarkroomError('UNSUPPORTED', '--write needs the image in the primary HDU', path);
  writeWcs(h, wcs);
  h.addHistory(`WCS: plate solved by astrometry.net solve-field${index ? ` (index ${index})` : ''}, written by Darkroom ${VERSION}`);
  writeFileAtomic(path, [headerBytes(h.cards), buf.subarray(dataStart)]);
}
