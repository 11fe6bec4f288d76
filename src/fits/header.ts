/**
 * FITS header cards (FITS Standard 4.0, section 4): parsing of 80-character card images and
 * writing in the fixed format, with the CONTINUE long-string convention.
 */
import { DarkroomError } from '../util/errors.js';

export const BLOCK = 2880;
export const CARD = 80;

export type CardValue = string | number | boolean | bigint | null;

export interface Card {
  /** Upper-case keyword ('' for blank cards); for HIERARCH cards the part after "HIERARCH ". */
  key: string;
  /** Parsed value: undefined for commentary cards and keywords with no value. */
  value?: CardValue;
  /** Comment text after '/' for valued cards, or the text of COMMENT/HISTORY/blank cards. */
  comment?: string;
  /** The original card images (more than one with CONTINUE); re-emitted verbatim if unmodified. */
  raw?: string[];
  /** True for integer values written as integers. */
  isInt?: boolean;
  hierarch?: boolean;
}

const COMMENTARY = new Set(['COMMENT', 'HISTORY', '']);

/** Keywords that describe the data layout: never copied from one file's header into another. */
export const STRUCTURAL = new Set([
  'SIMPLE', 'XTENSION', 'BITPIX', 'NAXIS', 'NAXIS1', 'NAXIS2', 'NAXIS3', 'NAXIS4', 'EXTEND',
  'PCOUNT', 'GCOUNT', 'BZERO', 'BSCALE', 'BLANK', 'END', 'CHECKSUM', 'DATASUM', 'LONGSTRN',
  'ZIMAGE', 'ZBITPIX', 'ZNAXIS', 'ZNAXIS1', 'ZNAXIS2', 'ZNAXIS3', 'ZTILE1', 'ZTILE2', 'ZTILE3',
  'ZCMPTYPE', 'ZQUANTIZ', 'ZDITHER0', 'ZSIMPLE', 'ZEXTEND', 'ZBLOCKED', 'ZPCOUNT', 'ZGCOUNT',
  'ZHECKSUM', 'ZDATASUM', 'TFIELDS', 'THEAP',
]);

export class FitsHeader {
  cards: Card[];
  constructor(cards: Card[] = []) {
    this.cards = cards;
  }

  clone(): FitsHeader {
    return new FitsHeader(this.cards.map((c) => ({ ...c, raw: c.raw ? [...c.raw] : undefined })));
  }

  private find(key: string): Card | undefined {
    const k = key.toUpperCase();
    return this.cards.find((c) => c.key === k && c.value !== undefined);
  }

  has(key: string): boolean {
    return this.find(key) !== undefined;
  }

  get(key: string): CardValue | undefined {
    return this.find(key)?.value;
  }

  /** A numeric value; numeric strings ('300', '-10.5') are accepted as written by some software. */
  getNumber(key: string): number | undefined {
    const v = this.get(key);
    if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
    if (typeof v === 'bigint') return Number(v);
    if (typeof v === 'string') {
      const t = v.trim();
      if (t !== '' && /^[+-]?(\d+\.?\d*|\.\d+)([eEdD][+-]?\d+)?$/.test(t)) return Number(t.replace(/[dD]/, 'e'));
    }
    return undefined;
  }

  getString(key: string): string | undefined {
    const v = this.get(key);
    if (v === undefined || v === null) return undefined;
    if (typeof v === 'string') return v;
    return String(v);
  }

  getBool(key: string): boolean | undefined {
    const v = this.get(key);
    return typeof v === 'boolean' ? v : undefined;
  }

  comment(key: string): string | undefined {
    return this.find(key)?.comment;
  }

  /** Set (replace the first or append) a valued keyword. */
  set(key: string, value: CardValue, comment?: string, opts: { float?: boolean } = {}): this {
    const k = key.toUpperCase();
    if (COMMENTARY.has(k)) throw new Error(`use addHistory/addComment for ${k}`);
    const isInt = typeof value === 'bigint' || (typeof value === 'number' && Number.isSafeInteger(value) && !opts.float);
    const card: Card = { key: k, value, comment, isInt, hierarch: k.length > 8 || /[^A-Z0-9_-]/.test(k) };
    const i = this.cards.findIndex((c) => c.key === k && c.value !== undefined);
    if (i >= 0) {
      if (comment === undefined) card.comment = this.cards[i]!.comment;
      this.cards[i] = card;
    } else this.cards.push(card);
    return this;
  }

  delete(key: string): void {
    const k = key.toUpperCase();
    this.cards = this.cards.filter((c) => !(c.key === k && c.value !== undefined));
  }

  addHistory(text: string): this {
    for (const line of wrapText(text, 72)) this.cards.push({ key: 'HISTORY', comment: line });
    return this;
  }

  addComment(text: string): this {
    for (const line of wrapText(text, 72)) this.cards.push({ key: 'COMMENT', comment: line });
    return this;
  }

  history(): string[] {
    return this.cards.filter((c) => c.key === 'HISTORY').map((c) => c.comment ?? '');
  }

  /** Cards that are not structural: what travels from an input file to an output file. */
  userCards(): Card[] {
    return this.cards.filter((c) => !STRUCTURAL.has(c.key) && !/^NAXIS\d+$/.test(c.key));
  }

  /** Keyword/value pairs as a plain object (first occurrence wins). */
  toObject(): Record<string, CardValue> {
    const o: Record<string, CardValue> = {};
    for (const c of this.cards) {
      if (c.value !== undefined && !(c.key in o)) o[c.key] = typeof c.value === 'bigint' ? Number(c.value) : c.value;
    }
    return o;
  }
}

function wrapText(text: string, width: number): string[] {
  const out: string[] = [];
  for (const para of text.split('\n')) {
    let s = para.replace(/[^\x20-\x7e]/g, '?');
    if (s.length === 0) out.push('');
    while (s.length > 0) {
      let cut = s.length <= width ? s.length : s.lastIndexOf(' ', width);
      if (cut <= 0) cut = Math.min(width, s.length);
      out.push(s.slice(0, cut));
      s = s.slice(cut).replace(/^ /, '');
    }
  }
  return out;
}

// ---------------------------------------------------------------- parsing

function parseString(body: string): { value: string; rest: string } | null {
  // body starts with a quote; '' inside the string is one quote; trailing blanks are not significant
  let i = 1;
  let s = '';
  while (i < body.length) {
    const q = body.indexOf("'", i);
    if (q < 0) return null; // unterminated
    s += body.slice(i, q);
    if (body[q + 1] === "'") {
      s += "'";
      i = q + 2;
      continue;
    }
    return { value: s.replace(/ +$/, ''), rest: body.slice(q + 1) };
  }
  return null;
}

const INT_RE = /^[+-]?\d+$/;
const FLOAT_RE = /^[+-]?(\d+\.?\d*|\.\d+)([eEdD][+-]?\d+)?$/;
const COMPLEX_RE = /^\(\s*[+-]?(\d+\.?\d*|\.\d+)([eEdD][+-]?\d+)?\s*,\s*[+-]?(\d+\.?\d*|\.\d+)([eEdD][+-]?\d+)?\s*\)$/;

interface ParsedValue {
  value: CardValue | undefined;
  comment?: string;
  isInt?: boolean;
  /** False when the value field does not follow the standard (unquoted or unterminated string...). */
  valid: boolean;
}

function parseValue(text: string): ParsedValue {
  const t = text.replace(/^ +/, '');
  if (t.startsWith("'")) {
    const p = parseString(t);
    // Tolerate an unterminated string (seen in real files): the rest of the card is the value.
    if (!p) return { value: t.slice(1).replace(/ +$/, ''), valid: false };
    const rest = p.rest.replace(/^ +/, '');
    if (rest === '') return { value: p.value, valid: true };
    if (rest.startsWith('/')) return { value: p.value, comment: rest.slice(1).trim(), valid: true };
    // Text after the closing quote that is not a comment.
    return { value: p.value, comment: rest.trim(), valid: false };
  }
  const slash = t.indexOf('/');
  const v = (slash >= 0 ? t.slice(0, slash) : t).trim();
  const comment = slash >= 0 ? t.slice(slash + 1).trim() : undefined;
  if (v === '') return { value: null, comment, valid: true };
  if (v === 'T') return { value: true, comment, valid: true };
  if (v === 'F') return { value: false, comment, valid: true };
  if (INT_RE.test(v)) {
    const n = Number(v);
    if (Number.isSafeInteger(n)) return { value: n, comment, isInt: true, valid: true };
    return { value: BigInt(v), comment, isInt: true, valid: true };
  }
  if (FLOAT_RE.test(v)) return { value: Number(v.replace(/[dD]/, 'e')), comment, valid: true };
  // A complex "(re, im)" is kept as its text (and written back verbatim).
  if (COMPLEX_RE.test(v)) return { value: v, comment, valid: true };
  // Non-standard: an unquoted string (some camera software writes these). Keep the whole text,
  // slashes included (a date or a path is more likely than a comment), as a string value.
  return { value: t.trim(), valid: false };
}

/** A keyword field as the standard allows: upper-case letters, digits, '-' and '_', left-justified. */
const KEY_FIELD_RE = /^([A-Z0-9_-]+ *| {8})$/;

/**
 * Parse one 80-character card image. Cards that follow the standard keep their image in `raw`
 * (written back byte for byte); non-conforming ones (lower-case keyword, unquoted or unterminated
 * string...) keep their parsed value but no `raw`, so a re-write emits a conforming card.
 */
export function parseCard(line: string): Card {
  const key8 = line.slice(0, 8).trimEnd().toUpperCase();
  const keyOk = KEY_FIELD_RE.test(line.slice(0, 8));
  if (key8 === 'HIERARCH') {
    const eq = line.indexOf('=');
    if (eq > 8) {
      const key = line.slice(9, eq).trim().toUpperCase();
      const pv = parseValue(line.slice(eq + 1));
      return { key, value: pv.value ?? null, comment: pv.comment, raw: [line], isInt: pv.isInt, hierarch: true };
    }
  }
  if (COMMENTARY.has(key8) || line.slice(8, 10) !== '= ') {
    if (key8 === 'CONTINUE') return { key: 'CONTINUE', comment: line.slice(8), raw: [line] };
    return { key: key8, comment: line.slice(8).trimEnd(), raw: keyOk ? [line] : undefined };
  }
  const pv = parseValue(line.slice(10));
  const card: Card = { key: key8, value: pv.value ?? null, comment: pv.comment, isInt: pv.isInt };
  if (keyOk && pv.valid) card.raw = [line];
  return card;
}

/**
 * Parse header blocks. `text` is the latin1 text of whole 2880-byte blocks up to and including
 * the block with END. Returns the header; CONTINUE cards are merged into the string before them.
 * Characters outside printable ASCII (not allowed by the standard, but found in real files) are
 * replaced by '?' as Astropy does.
 */
export function parseHeaderText(text: string, file?: string): FitsHeader {
  void file;
  const cards: Card[] = [];
  for (let off = 0; off + CARD <= text.length; off += CARD) {
    let line = text.slice(off, off + CARD);
    if (/[^\x20-\x7e]/.test(line)) line = line.replace(/[^\x20-\x7e]/g, '?');
    if (line.startsWith('END') && line.slice(3).trim() === '') break;
    const card = parseCard(line);
    if (card.key === 'CONTINUE') {
      const prev = cards[cards.length - 1];
      if (prev && typeof prev.value === 'string' && prev.value.endsWith('&')) {
        const pv = parseValue(line.slice(8));
        const part = typeof pv.value === 'string' ? pv.value : '';
        prev.value = prev.value.slice(0, -1) + part;
        if (pv.comment) prev.comment = prev.comment ? `${prev.comment} ${pv.comment}` : pv.comment; // as Astropy joins them
        if (prev.raw && pv.valid && typeof pv.value === 'string') prev.raw.push(line);
        else prev.raw = undefined;
        continue;
      }
    }
    cards.push(card);
  }
  return new FitsHeader(cards);
}

// ---------------------------------------------------------------- formatting

export function formatNumber(v: number, isInt: boolean): string {
  if (!Number.isFinite(v)) throw new Error(`cannot write non-finite value ${v} to a FITS header`);
  if (isInt && Number.isSafeInteger(v)) return v.toFixed(0);
  let s = String(v);
  if (s.includes('e')) {
    const [m, e] = s.split('e') as [string, string];
    const mant = m.includes('.') ? m : `${m}.0`;
    const exp = e.startsWith('-') ? e : e.replace('+', '');
    s = `${mant}E${exp}`;
  } else if (!s.includes('.')) {
    s = `${s}.0`;
  }
  return s;
}

/** Split text at blanks into parts of at most `width` characters (the blank at each cut is dropped). */
function splitWords(text: string, width: number): string[] {
  const out: string[] = [];
  let s = text;
  while (s.length > width) {
    let cut = s.lastIndexOf(' ', width);
    if (cut <= 0) cut = width;
    out.push(s.slice(0, cut));
    s = s.slice(cut).replace(/^ /, '');
  }
  out.push(s);
  return out;
}

function quote(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

function padCard(s: string): string {
  return s.length >= CARD ? s.slice(0, CARD) : s + ' '.repeat(CARD - s.length);
}

function withComment(head: string, comment: string | undefined): string {
  if (!comment) return padCard(head);
  const room = CARD - head.length - 3;
  if (room <= 0) return padCard(head);
  return padCard(`${head} / ${comment.replace(/[^\x20-\x7e]/g, '?').slice(0, room)}`);
}

/** Card images (80 chars each) for one card, in the fixed format; long strings use CONTINUE. */
export function formatCard(card: Card): string[] {
  if (card.raw && card.raw.length > 0) return card.raw;
  const key = card.key;
  if (card.value === undefined) {
    const text = (card.comment ?? '').replace(/[^\x20-\x7e]/g, '?');
    return [padCard(key.padEnd(8) + text.slice(0, 72))];
  }
  const v = card.value;
  const prefix = card.hierarch ? `HIERARCH ${key} = ` : `${key.padEnd(8)}= `;
  if (typeof v === 'string') {
    const clean = v.replace(/[^\x20-\x7e]/g, '?');
    const q = quote(clean.length < 8 ? clean.padEnd(8) : clean);
    if (prefix.length + q.length <= CARD) return [withComment(prefix + q, card.comment)];
    // Long string (OGIP CONTINUE convention): pieces of at most 67 characters (quotes doubled),
    // each but the last ending in '&'. A comment that does not fit on the last card goes on
    // further CONTINUE cards with an empty string, split at blanks (readers join the parts with one blank).
    const out: string[] = [];
    let rest = clean;
    let first = true;
    const comment = card.comment ? card.comment.replace(/[^\x20-\x7e]/g, '?') : '';
    while (rest.length > 0) {
      const avail = (first ? CARD - prefix.length : CARD - 10) - 3; // two quotes and the '&'
      let n = 0;
      let used = 0;
      while (n < rest.length) {
        const w = rest[n] === "'" ? 2 : 1;
        if (used + w > avail) break;
        used += w;
        n++;
      }
      const piece = rest.slice(0, n);
      rest = rest.slice(n);
      const lead = first ? prefix : 'CONTINUE  ';
      first = false;
      if (rest.length === 0) {
        const end = lead + quote(piece);
        if (!comment) {
          out.push(padCard(end));
          return out;
        }
        if (end.length + 3 + comment.length <= CARD) {
          out.push(withComment(end, comment));
          return out;
        }
      }
      out.push(padCard(lead + quote(`${piece}&`)));
    }
    if (comment) {
      const parts = splitWords(comment, CARD - 15); // "CONTINUE  '&' / " is 15 characters
      parts.forEach((part, i) => {
        out.push(padCard(`CONTINUE  ${i === parts.length - 1 ? "''" : "'&'"} / ${part}`));
      });
    }
    return out;
  }
  let text: string;
  if (typeof v === 'boolean') text = (v ? 'T' : 'F').padStart(20);
  else if (typeof v === 'bigint') text = v.toString().padStart(20);
  else if (v === null) text = '';
  else text = formatNumber(v, card.isInt ?? Number.isSafeInteger(v)).padStart(20);
  return [withComment(prefix + text, card.comment)];
}

/** Cards + END, padded with blanks to whole 2880-byte blocks, as bytes. */
export function headerBytes(cards: Card[]): Buffer {
  const lines: string[] = [];
  for (const c of cards) lines.push(...formatCard(c));
  lines.push(padCard('END'));
  const text = lines.join('');
  const len = Math.ceil(text.length / BLOCK) * BLOCK;
  return Buffer.from(text.padEnd(len, ' '), 'latin1');
}
