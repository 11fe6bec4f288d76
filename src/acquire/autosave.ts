/**
 * Autosave file names. Default pattern `{base}-{seq:3}-{suffix}{exposure}` gives MaxIm-style names like
 * `M78 QSI 0C-001-R360.fit`. Tokens: {base} {object} {filter} {suffix} {exposure} {temp} {seq} {seq:N}
 * {type} {bin} {date}. Existing files are never overwritten: the sequence number moves on to a free name.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DarkroomError } from '../util/errors.js';

export const DEFAULT_PATTERN = '{base}-{seq:3}-{suffix}{exposure}';
const TOKENS = ['base', 'object', 'filter', 'suffix', 'exposure', 'temp', 'seq', 'type', 'bin', 'date'];

export interface NameFields {
  base: string;
  object?: string;
  filter?: string;
  suffix?: string;
  exposure: number;
  /** Set point or CCD temperature, C. */
  temp?: number;
  seq: number;
  type: string;
  binning: number;
  date: Date;
}

/** Check a pattern's tokens (throws BAD_ARGUMENT on an unknown token). */
export function checkPattern(pattern: string): void {
  for (const m of pattern.matchAll(/\{([^}]*)\}/g)) {
    const name = m[1]!.split(':')[0]!;
    if (!TOKENS.includes(name)) throw new DarkroomError('BAD_ARGUMENT', `unknown token {${m[1]}} in file name pattern (known: ${TOKENS.map((t) => `{${t}}`).join(' ')})`);
    if (m[1]!.includes(':') && !/^seq:\d$/.test(m[1]!)) throw new DarkroomError('BAD_ARGUMENT', `bad token {${m[1]}}: only {seq:N} takes a width`);
  }
}

function num(v: number): string {
  return String(Math.round(v * 1000) / 1000);
}

/** Expand the pattern (no extension). Characters unsafe in file names become '_'. */
export function formatName(pattern: string, f: NameFields): string {
  checkPattern(pattern);
  const s = pattern.replace(/\{([^}]*)\}/g, (_, tok: string) => {
    const [name, width] = tok.split(':');
    switch (name) {
      case 'base':
        return f.base;
      case 'object':
        return f.object ?? '';
      case 'filter':
        return f.filter ?? '';
      case 'suffix':
        return f.suffix ?? '';
      case 'exposure':
        return num(f.exposure);
      case 'temp':
        return f.temp === undefined ? '' : `${Math.round(f.temp)}C`;
      case 'seq':
        return String(f.seq).padStart(width ? Number(width) : 1, '0');
      case 'type':
        return f.type;
      case 'bin':
        return `${f.binning}x${f.binning}`;
      case 'date':
        return f.date.toISOString().slice(0, 10).replace(/-/g, '');
      default:
        return '';
    }
  });
  return s.replace(/[/\\\x00-\x1f:*?"<>|]/g, '_');
}

/**
 * A free path in dir for the fields: the pattern with f.seq, or the next sequence number whose name is free
 * (patterns without {seq} get `_2`, `_3`... appended). Returns the path and the sequence number used.
 */
export function freeName(dir: string, pattern: string, f: NameFields, ext = '.fit'): { path: string; seq: number } {
  const hasSeq = /\{seq(:\d)?\}/.test(pattern);
  let seq = f.seq;
  for (let k = 0; k < 1_000_000; k++) {
    const stem = formatName(pattern, { ...f, seq });
    const name = hasSeq || k === 0 ? stem : `${stem}_${k + 1}`;
    const path = join(dir, name + ext);
    if (!existsSync(path)) return { path, seq };
    if (hasSeq) seq++;
  }
  throw new DarkroomError('IO', 'no free file name', dir);
}
