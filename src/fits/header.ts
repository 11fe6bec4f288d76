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
    const isInt = typeof value === 'bigint' || (typeof value === 'number' && Number.isInteger(value) && !opts.float);
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
  // body starts with a quote
  let i = 1;
  let s = '';
  while (i < body.length) {
    const ch = body[i]!;
    if (ch === "'") {
      if (body[i + 1] === "'") {
        s += "'";
        i += 2;
        continue;
      }
      return { value: s.replace(/ +$/, ''), rest: body.slice(i + 1) };
    }
    s += ch;
    i++;
  }
  return null; // unterminated
}

function parseValue(text: string): { value: CardValue | undefined; comment?: string; isInt?: boolean } {
  const t = text.replace(/^ +/, '');
  if (t.startsWith("'")) {
    const p = parseString(t);
    if (!p) return { value: t.slice(1).replace(/ +$/, '') }; // tolerate an unterminated string
    const slash = p.rest.indexOf('/');
    return { value: p.value, comment: slash >= 0 ? p.rest.slice(slash + 1).trim() : undefined };
  }
  const slash = t.indexOf('/');
  const v = (slash >= 0 ? t.slice(0, slash) : t).trim();
  const comment = slash >= 0 ? t.slice(slash + 1).trim() : undefined;
  if (v === '') return { value: null, comment };
  if (v === 'T') return { value: true, comment };
  if (v === 'F') return { value: false, comment };
  if (/^[+-]?\d+$/.test(v)) {
    const n = Number(v);
    if (Number.isSafeInteger(n)) return { value: n, comment, isInt: true };
    return { value: BigInt(v), comment, isInt: true };
  }
  if (/^[+-]?(\d+\.?\d*|\.\d+)([eEdD][+-]?\d+)?$/.test(v)) {
    return { value: Number(v.replace(/[dD]/, 'e')), comment };
  }
  // complex "(re, im)" or something non-standard: keep the text
  return { value: v, comment };
}

/** Parse one 80-character card image. */
export function parseCard(line: string): Card {
  const key8 = line.slice(0, 8).trimEnd().toUpperCase();
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
    return { key: key8, comment: line.slice(8).trimEnd(), raw: [line] };
  }
  const pv = parseValue(line.slice(10));
  return { key: key8, value: pv.value ?? null, comment: pv.comment, raw: [line], isInt: pv.isInt };
}

/**
 * Parse header blocks. `text` is the latin1 text of whole 2880-byte blocks up to and including
 * the block with END. Returns the header; CONTINUE cards are merged into the string before them.
 */
export function parseHeaderText(text: string, file?: string): FitsHeader {
  const cards: Card[] = [];
  for (let off = 0; off + CARD <= text.length; off += CARD) {
    const line = text.slice(off, off + CARD);
    if (/[^\x20-\x7e]/.test(line)) {
      throw new DarkroomError('BAD_HEADER', `header card ${off / CARD + 1} contains non-ASCII characters`, file);
    }
    if (line.startsWith('END') && line.slice(3).trim() === '') break;
    const card = parseCard(line);
    if (card.key === 'CONTINUE') {
      const prev = cards[cards.length - 1];
      if (prev && typeof prev.value === 'string' && prev.value.endsWith('&')) {
        const pv = parseValue(line.slice(8));
        const part = typeof pv.value === 'string' ? pv.value : '';
        prev.value = prev.value.slice(0, -1) + part;
        if (pv.comment) prev.comment = (prev.comment ? prev.comment + ' ' : '') + pv.comment;
        prev.raw?.push(line);
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
  if (isInt && Number.isInteger(v)) return v.toFixed(0);
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
    // Long string: split into pieces of at most 67 characters (quotes doubled), each ending in '&'.
    const out: string[] = [];
    let rest = clean;
    let first = true;
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
      const body = quote(piece + (rest.length > 0 ? '&' : ''));
      const head = first ? prefix + body : `CONTINUE  ${body}`;
      out.push(rest.length > 0 ? padCard(head) : withComment(head, card.comment));
      first = false;
    }
    return out;
  }
  let text: string;
  if (typeof v === 'boolean') text = (v ? 'T' : 'F').padStart(20);
  else if (typeof v === 'bigint') text = v.toString().padStart(20);
  else if (v === null) text = '';
  else text = formatNumber(v, card.isInt ?? Number.isInteger(v)).padStart(20);
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
