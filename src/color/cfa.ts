/**
 * Colour filter array (CFA) description: which colour (0 = R, 1 = G, 2 = B) sits on each pixel of a
 * one-shot-colour mosaic, in OUR row order (row 0 = the first row stored in the file).
 *
 * Patterns are written as letters, row after row: a 2x2 Bayer cell ("RGGB" = R at (0,0), G at (1,0),
 * G at (0,1), B at (1,1)) or a 6x6 Fujifilm X-Trans cell (36 letters, or "XTRANS" for the layout of the
 * X-Pro1 family as dcraw describes it).
 *
 * Header convention implemented by {@link cfaFromHeader} (the one N.I.N.A., ASCOM drivers, SharpCap and
 * Siril agree on): BAYERPAT names the colours of the TOP-LEFT corner of the picture seen top-down, and
 * XBAYROFF/YBAYROFF shift that pattern in the same top-down frame (pixel (x, y) has the colour of
 * BAYERPAT at (x + XBAYROFF, y + YBAYROFF)). ROWORDER says which stored row is the top:
 *  - 'TOP-DOWN' (N.I.N.A., most capture software; also assumed when ROWORDER is absent): the first
 *    stored row is the top row, so the pattern applies to our row 0 as written;
 *  - 'BOTTOM-UP' (FITS display convention, Siril's own files): the first stored row is the bottom row,
 *    so stored row y is top-down row (H - 1 - y) and the pattern is flipped vertically (for an even
 *    height RGGB becomes GBRG; for an odd height it is unchanged).
 * This is what Siril does when "use the header's Bayer information" is on (it flips the pattern of
 * TOP-DOWN files because it addresses rows bottom-up internally).
 */
import { DarkroomError } from '../util/errors.js';
import type { FitsHeader } from '../fits/index.js';

export const BAYER_PATTERNS = ['RGGB', 'BGGR', 'GRBG', 'GBRG'] as const;
export type BayerName = (typeof BAYER_PATTERNS)[number];

/** Fujifilm X-Trans (X-Pro1, X-T1, ...), rows top-down, as dcraw's `xtrans` table. */
export const XTRANS_DEFAULT = 'GGRGGB' + 'GGBGGR' + 'BRGRBG' + 'GGBGGR' + 'GGRGGB' + 'RBGBRG';

export const RED = 0;
export const GREEN = 1;
export const BLUE = 2;

export interface Cfa {
  /** 2 for Bayer, 6 for X-Trans. */
  size: number;
  /** size*size colours (0 R, 1 G, 2 B), row-major, row 0 = first stored row. */
  colors: Uint8Array;
}

const LETTER: Record<string, number> = { R: RED, G: GREEN, B: BLUE };

/** Letters of a pattern: "RGGB", or 36 letters for X-Trans. */
export function cfaName(cfa: Cfa): string {
  let s = '';
  for (const c of cfa.colors) s += 'RGB'[c];
  return s;
}

export function isBayer(cfa: Cfa): boolean {
  return cfa.size === 2;
}

/**
 * Parse a pattern name; undefined when it is not a known layout. Accepts the four Bayer names,
 * "XTRANS", or 36 letters of R/G/B forming a valid X-Trans cell (20 G, 8 R, 8 B, every row and
 * column holding all three colours). Separators ('/', spaces) are ignored, case-insensitive.
 */
export function parseCfa(name: string): Cfa | undefined {
  let s = name.toUpperCase().replace(/[\s/,_-]/g, '');
  if (s === 'XTRANS') s = XTRANS_DEFAULT;
  if ((BAYER_PATTERNS as readonly string[]).includes(s)) {
    return { size: 2, colors: Uint8Array.from([...s].map((ch) => LETTER[ch]!)) };
  }
  if (s.length === 36 && /^[RGB]+$/.test(s)) {
    const colors = Uint8Array.from([...s].map((ch) => LETTER[ch]!));
    const count = [0, 0, 0];
    for (const c of colors) count[c]!++;
    if (count[0] !== 8 || count[1] !== 20 || count[2] !== 8) return undefined;
    for (let i = 0; i < 6; i++) {
      const row = new Set<number>();
      const col = new Set<number>();
      for (let j = 0; j < 6; j++) {
        row.add(colors[i * 6 + j]!);
        col.add(colors[j * 6 + i]!);
      }
      if (row.size !== 3 || col.size !== 3) return undefined;
    }
    return { size: 6, colors };
  }
  return undefined;
}

/** Like parseCfa, but a user error naming the bad value. */
export function requireCfa(name: string, what = 'CFA pattern', file?: string): Cfa {
  const cfa = parseCfa(name);
  if (!cfa) {
    throw new DarkroomError(
      'BAD_HEADER',
      `${what} '${name}' is not a known CFA pattern (RGGB, BGGR, GRBG, GBRG, XTRANS or a 36-letter X-Trans layout)`,
      file,
    );
  }
  return cfa;
}

/**
 * Colour (0 R, 1 G, 2 B) of pixel (x, y) of a 2x2 Bayer pattern given by its letters ("RGGB"), for
 * loops that hold the pattern as a header string; letters other than R and B count as G.
 */
export function bayerColor(pattern: string, x: number, y: number): number {
  return LETTER[pattern[(y & 1) * 2 + (x & 1)]!] ?? GREEN;
}

/** Colour (0 R, 1 G, 2 B) of pixel (x, y). */
export function cfaColor(cfa: Cfa, x: number, y: number): number {
  const n = cfa.size;
  return cfa.colors[(((y % n) + n) % n) * n + (((x % n) + n) % n)]!;
}

/** The pattern seen from a new origin: new pixel (x, y) is old pixel (x + dx, y + dy). */
export function shiftCfa(cfa: Cfa, dx: number, dy: number): Cfa {
  const n = cfa.size;
  const colors = new Uint8Array(n * n);
  for (let y = 0; y < n; y++) for (let x = 0; x < n; x++) colors[y * n + x] = cfaColor(cfa, x + dx, y + dy);
  return { size: n, colors };
}

/** Pattern of the crop whose top-left corner (first stored row) is old pixel (x0, y0). */
export function cropCfa(cfa: Cfa, x0: number, y0: number): Cfa {
  if (!Number.isInteger(x0) || !Number.isInteger(y0) || x0 < 0 || y0 < 0) {
    throw new DarkroomError('BAD_ARGUMENT', `crop origin (${x0}, ${y0}) must be non-negative integers`);
  }
  return shiftCfa(cfa, x0, y0);
}

/**
 * Pattern after mirroring an image of width x height: 'vertical' reverses the row order (top <-> bottom),
 * 'horizontal' reverses columns. New pixel (x, y) is old (x, H-1-y) or (W-1-x, y).
 */
export function flipCfa(cfa: Cfa, axis: 'vertical' | 'horizontal', width: number, height: number): Cfa {
  const n = cfa.size;
  const colors = new Uint8Array(n * n);
  for (let y = 0; y < n; y++) {
    for (let x = 0; x < n; x++) {
      colors[y * n + x] = axis === 'vertical' ? cfaColor(cfa, x, height - 1 - y) : cfaColor(cfa, width - 1 - x, y);
    }
  }
  return { size: n, colors };
}

/**
 * Pattern after rotating an image of width x height clockwise by 90, 180 or 270 degrees (as displayed
 * with row 0 on top). 90: new (x, y) = old (y, H-1-x); 180: old (W-1-x, H-1-y); 270: old (W-1-y, x).
 */
export function rotateCfa(cfa: Cfa, degrees: 90 | 180 | 270, width: number, height: number): Cfa {
  const n = cfa.size;
  const colors = new Uint8Array(n * n);
  for (let y = 0; y < n; y++) {
    for (let x = 0; x < n; x++) {
      let c: number;
      if (degrees === 90) c = cfaColor(cfa, y, height - 1 - x);
      else if (degrees === 180) c = cfaColor(cfa, width - 1 - x, height - 1 - y);
      else c = cfaColor(cfa, width - 1 - y, x);
      colors[y * n + x] = c;
    }
  }
  return { size: n, colors };
}

export interface CfaFromHeader {
  cfa: Cfa;
  /** How it was decided, for HISTORY. */
  note: string;
}

/**
 * The CFA of a mosaic in stored row order, from BAYERPAT / XBAYROFF / YBAYROFF / ROWORDER (see the
 * module comment for the convention) or from a user pattern, which is taken as-is in stored order
 * (row 0 = first stored row) and overrides the header. Undefined when neither gives one.
 */
export function cfaFromHeader(header: FitsHeader, height: number, userPattern?: string, file?: string): CfaFromHeader | undefined {
  if (userPattern !== undefined && userPattern.toLowerCase() !== 'auto') {
    const cfa = requireCfa(userPattern, 'pattern', file);
    return { cfa, note: `CFA ${cfaName(cfa)} given by the user (first stored row)` };
  }
  const pat = header.getString('BAYERPAT') ?? header.getString('CFAPAT') ?? header.getString('COLORTYP');
  if (pat === undefined || pat.trim() === '' || /^(NONE|MONO)$/i.test(pat.trim())) return undefined;
  const base = requireCfa(pat.trim(), 'BAYERPAT', file);
  const xoff = header.getNumber('XBAYROFF') ?? 0;
  const yoff = header.getNumber('YBAYROFF') ?? 0;
  if (!Number.isInteger(xoff) || !Number.isInteger(yoff)) {
    throw new DarkroomError('BAD_HEADER', `XBAYROFF/YBAYROFF must be integers (got ${xoff}, ${yoff})`, file);
  }
  let cfa = shiftCfa(base, xoff, yoff);
  const order = (header.getString('ROWORDER') ?? 'TOP-DOWN').trim().toUpperCase();
  if (order !== 'TOP-DOWN' && order !== 'BOTTOM-UP') {
    throw new DarkroomError('BAD_HEADER', `ROWORDER '${order}' is neither TOP-DOWN nor BOTTOM-UP`, file);
  }
  if (order === 'BOTTOM-UP') cfa = flipCfa(cfa, 'vertical', 1, height);
  const note =
    `CFA ${cfaName(cfa)} (first stored row) from BAYERPAT=${pat.trim()} XBAYROFF=${xoff} YBAYROFF=${yoff} ` +
    `ROWORDER=${order}${header.has('ROWORDER') ? '' : ' (absent: TOP-DOWN assumed)'}`;
  return { cfa, note };
}
