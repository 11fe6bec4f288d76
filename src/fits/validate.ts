/**
 * Header checks before any pixel is trusted. What fitsverify calls an error in the keywords that
 * define the data (SIMPLE/XTENSION, BITPIX, NAXIS, NAXISn, PCOUNT, GCOUNT, BZERO, BSCALE, BLANK)
 * is refused with a one-line DarkroomError naming the file and the keyword; what does not change
 * how the pixels read (non-standard cards elsewhere, duplicated descriptive keywords, free-format
 * mandatory values, bytes after END...) is reported through a warning sink and the file is read.
 * Pure: works on the header text of one HDU (latin1, whole 2880-byte blocks up to the END block).
 */
import { CARD, parseCard, type Card } from './header.js';
import { DarkroomError } from '../util/errors.js';

export type FitsWarningCode =
  | 'NON_ASCII'
  | 'NONSTANDARD_CARDS'
  | 'DUPLICATE_KEYWORD'
  | 'IGNORED_KEYWORD'
  | 'FREE_FORMAT'
  | 'HEADER_FILL'
  | 'DATA_FILL'
  | 'EXTRA_BYTES';

/** A structured warning about a file that is still read (`{code, message, file}`). */
export interface FitsWarning {
  code: FitsWarningCode;
  message: string;
  file: string;
}

export interface FitsReadOptions {
  /** Called for each problem that does not stop the file from being read. Default: ignored. */
  onWarning?: (w: FitsWarning) => void;
}

export type Warn = (code: FitsWarningCode, message: string) => void;

const VALID_BITPIX = new Set([8, 16, 32, 64, -32, -64]);
/** Keywords whose cards define how the data unit reads. */
const DATA_KEYS = new Set(['SIMPLE', 'XTENSION', 'BITPIX', 'NAXIS', 'PCOUNT', 'GCOUNT', 'BZERO', 'BSCALE', 'BLANK', 'GROUPS']);
const isDataKey = (k: string): boolean => DATA_KEYS.has(k) || /^NAXIS\d{1,3}$/.test(k);
const PRINTABLE = /^[\x20-\x7e]*$/;
/** Largest finite float32 (pixels are float32). */
const FLT_MAX = 3.4028234663852886e38;

/** One card of the header with its position (1-based, as fitsverify counts). */
interface Numbered {
  n: number;
  card: Card;
  line: string;
}

function show(v: Card['value']): string {
  if (typeof v === 'string') return `'${v}'`;
  if (v === null || v === undefined) return '(no value)';
  if (typeof v === 'boolean') return v ? 'T' : 'F';
  return String(v);
}

/** The value field as written (a string with its quotes), for messages. */
function written(c: Numbered): string {
  if (c.card.value === undefined) return '(no value)';
  const t = c.line.slice(10).trim();
  const v = t.startsWith("'") ? (/^'(?:[^']|'')*'?/.exec(t)?.[0] ?? t) : (t.split('/')[0] ?? '').trim();
  return v === '' ? '(no value)' : v;
}

/** The card images before END (non-ASCII bytes kept, so they can be told apart). */
function splitCards(text: string): { lines: string[]; end: number } {
  const lines: string[] = [];
  for (let off = 0; off + CARD <= text.length; off += CARD) {
    const line = text.slice(off, off + CARD);
    if (line.startsWith('END') && line.slice(3).trim() === '') return { lines, end: off };
    lines.push(line);
  }
  return { lines, end: text.length };
}

/** Bytes outside 0x20-0x7E: refused in a card that defines the data, a warning elsewhere. */
function checkBytes(lines: string[], index: number, file: string, warn: Warn): Numbered[] {
  const out: Numbered[] = [];
  const bad: string[] = [];
  lines.forEach((raw, i) => {
    const line = PRINTABLE.test(raw) ? raw : raw.replace(/[^\x20-\x7e]/g, '?');
    const card = parseCard(line);
    if (line !== raw) {
      const at = raw.search(/[^\x20-\x7e]/);
      const code = raw.charCodeAt(at).toString(16).padStart(2, '0');
      if (isDataKey(card.key)) {
        throw new DarkroomError('BAD_HEADER', `HDU ${index}: card ${i + 1} (${card.key}) has a byte outside printable ASCII (0x${code} at column ${at + 1})`, file);
      }
      bad.push(card.key || `card ${i + 1}`);
    }
    out.push({ n: i + 1, card, line });
  });
  if (bad.length > 0) warn('NON_ASCII', `HDU ${index}: bytes outside printable ASCII in ${list(bad)} (read as '?')`);
  return out;
}

function list(keys: string[]): string {
  const u = [...new Set(keys)];
  return u.length <= 5 ? u.join(', ') : `${u.slice(0, 5).join(', ')} and ${u.length - 5} more`;
}

/** An integer value as written (not a string, not 16.0), or undefined. */
function intValue(c: Card): number | bigint | undefined {
  if (!c.isInt) return undefined;
  return typeof c.value === 'number' || typeof c.value === 'bigint' ? c.value : undefined;
}

/** Mandatory integer keyword `key` at card `at` (0-based); returns its value. */
function mandatoryInt(cards: Numbered[], at: number, key: string, index: number, file: string, warn: Warn): number {
  const c = cards[at];
  const order = index === 0 ? 'SIMPLE, BITPIX, NAXIS, NAXIS1...NAXISn' : 'XTENSION, BITPIX, NAXIS, NAXIS1...NAXISn, PCOUNT, GCOUNT';
  if (!c || c.card.key !== key) {
    const found = c ? (c.card.key === '' ? 'a blank card' : c.card.key) : 'END';
    throw new DarkroomError('BAD_HEADER', `HDU ${index}: card ${at + 1} must be ${key} (mandatory keywords come first, in the order ${order}), found ${found}`, file);
  }
  const v = intValue(c.card);
  if (v === undefined) throw new DarkroomError('BAD_HEADER', `HDU ${index}: invalid or missing ${key} (${written(c)}): not an integer`, file);
  if (typeof v === 'bigint' || !Number.isSafeInteger(v)) throw new DarkroomError('BAD_HEADER', `HDU ${index}: invalid or missing ${key} (${String(v)}): out of range`, file);
  if (!/^ *[+-]?\d+$/.test(c.line.slice(10, 30))) {
    warn('FREE_FORMAT', `HDU ${index}: ${key} is not in the fixed format (value right-justified in columns 11-30)`);
  }
  return v;
}

/** The first card and the mandatory keywords in order; returns the cards they take and NAXIS. */
function checkMandatory(cards: Numbered[], index: number, file: string, warn: Warn): { count: number; naxis: number; bitpix: number } {
  const first = cards[0]?.card;
  if (index === 0) {
    if (first?.key !== 'SIMPLE') throw new DarkroomError('NOT_FITS', 'not a FITS file (no SIMPLE card at the start)', file);
    if (first.value !== true) {
      throw new DarkroomError('NOT_FITS', `SIMPLE = ${written(cards[0]!)}: not a standard FITS file (a FITS file starts with SIMPLE = T)`, file);
    }
  } else if (first?.key !== 'XTENSION' || typeof first.value !== 'string') {
    throw new DarkroomError('BAD_HEADER', `HDU ${index}: the first card must be XTENSION = '<type>', found ${first?.key ?? 'END'}`, file);
  }
  const bitpix = mandatoryInt(cards, 1, 'BITPIX', index, file, warn);
  if (!VALID_BITPIX.has(bitpix)) throw new DarkroomError('BAD_HEADER', `HDU ${index}: invalid or missing BITPIX (${bitpix}): must be one of 8, 16, 32, 64, -32, -64`, file);
  const naxis = mandatoryInt(cards, 2, 'NAXIS', index, file, warn);
  if (naxis < 0 || naxis > 999) throw new DarkroomError('BAD_HEADER', `HDU ${index}: invalid or missing NAXIS (${naxis}): must be 0 to 999`, file);
  for (let i = 1; i <= naxis; i++) {
    const n = mandatoryInt(cards, 2 + i, `NAXIS${i}`, index, file, warn);
    if (n < 0) throw new DarkroomError('BAD_HEADER', `HDU ${index}: invalid or missing NAXIS${i} (${n}): an axis length cannot be negative`, file);
  }
  let count = 3 + naxis;
  if (index > 0) {
    const pcount = mandatoryInt(cards, count, 'PCOUNT', index, file, warn);
    const gcount = mandatoryInt(cards, count + 1, 'GCOUNT', index, file, warn);
    if (pcount < 0 || gcount < 0) throw new DarkroomError('BAD_HEADER', `HDU ${index}: invalid ${pcount < 0 ? `PCOUNT (${pcount})` : `GCOUNT (${gcount})`}: cannot be negative`, file);
    count += 2;
  }
  return { count, naxis, bitpix };
}

/**
 * After the mandatory cards: a repeated mandatory keyword is refused; a repeated BZERO, BSCALE
 * or BLANK with another value is refused (which one applies is ambiguous), with the same value a
 * warning, like any other repeated keyword.
 */
function checkRepeats(cards: Numbered[], start: number, naxis: number, index: number, file: string, warn: Warn): void {
  const mandatory = new Set(['SIMPLE', 'XTENSION', 'BITPIX', 'NAXIS']);
  for (let i = 1; i <= naxis; i++) mandatory.add(`NAXIS${i}`);
  if (index > 0) ['PCOUNT', 'GCOUNT'].forEach((k) => mandatory.add(k));
  const seen = new Map<string, Numbered>();
  for (const c of cards.slice(0, start)) seen.set(c.card.key, c);
  const dups: string[] = [];
  for (const c of cards.slice(start)) {
    const k = c.card.key;
    if (c.card.value === undefined && isDataKey(k)) {
      throw new DarkroomError('BAD_HEADER', `HDU ${index}: card ${c.n} (${k}) has no value: columns 9-10 must be '= '`, file);
    }
    if (c.card.value === undefined || k === '' || k === 'CONTINUE') continue;
    if (mandatory.has(k) && (k !== 'XTENSION' || index > 0)) {
      throw new DarkroomError('BAD_HEADER', `HDU ${index}: ${k} is duplicated or out of order (card ${c.n})`, file);
    }
    const prev = seen.get(k);
    if (!prev) {
      seen.set(k, c);
      continue;
    }
    if ((k === 'BZERO' || k === 'BSCALE' || k === 'BLANK') && show(prev.card.value) !== show(c.card.value)) {
      throw new DarkroomError('BAD_HEADER', `HDU ${index}: ${k} is given twice with different values (${show(prev.card.value)} in card ${prev.n}, ${show(c.card.value)} in card ${c.n})`, file);
    }
    dups.push(k);
  }
  if (dups.length > 0) warn('DUPLICATE_KEYWORD', `HDU ${index}: keyword(s) given more than once: ${list(dups)} (the first is used)`);
}

/** A valued card's number, when it is a finite number as the standard writes it. */
function finiteNumber(c: Card): number | undefined {
  const v = c.value;
  const n = typeof v === 'bigint' ? Number(v) : typeof v === 'number' ? v : NaN;
  return Number.isFinite(n) ? n : undefined;
}

function findCard(cards: Numbered[], key: string): Numbered | undefined {
  return cards.find((c) => c.card.key === key && c.card.value !== undefined);
}

/** BZERO, BSCALE and BLANK: finite numbers, BSCALE not 0, BLANK an integer; scaled pixels that stay finite and distinct. */
function checkScaling(cards: Numbered[], bitpix: number, index: number, file: string, warn: Warn): void {
  const shown = (key: string): string => {
    const c = findCard(cards, key);
    return c ? written(c) : key === 'BZERO' ? '0' : '1';
  };
  const num = (key: string, dflt: number): number => {
    const c = findCard(cards, key);
    if (!c) return dflt;
    const v = finiteNumber(c.card);
    if (v === undefined) {
      const why = typeof c.card.value === 'number' ? 'overflows' : 'is not a number';
      throw new DarkroomError('BAD_HEADER', `HDU ${index}: ${key} = ${written(c)} ${why} (card ${c.n})`, file);
    }
    return v;
  };
  const bzero = num('BZERO', 0);
  const bscale = num('BSCALE', 1);
  if (bscale === 0) throw new DarkroomError('BAD_HEADER', `HDU ${index}: BSCALE = 0 would make every pixel equal to BZERO`, file);
  const blank = findCard(cards, 'BLANK');
  if (blank && bitpix < 0) warn('IGNORED_KEYWORD', `HDU ${index}: BLANK is not used with floating-point data (BITPIX ${bitpix}); ignored`);
  else if (blank && intValue(blank.card) === undefined) {
    throw new DarkroomError('BAD_HEADER', `HDU ${index}: BLANK = ${written(blank)} is not an integer (card ${blank.n})`, file);
  }
  if (bitpix > 0) {
    // Raw integers span 2^bitpix; as float32 physical values they must stay finite and not all collapse onto BZERO.
    const span = Math.abs(bscale) * 2 ** bitpix;
    if (Math.abs(bzero) + span / 2 > FLT_MAX) {
      throw new DarkroomError('BAD_HEADER', `HDU ${index}: BZERO = ${shown('BZERO')}, BSCALE = ${shown('BSCALE')} take BITPIX ${bitpix} pixels beyond the float32 range`, file);
    }
    if (span < Math.abs(bzero) * 2 ** -23) {
      throw new DarkroomError('BAD_HEADER', `HDU ${index}: BZERO = ${shown('BZERO')} swamps the BITPIX ${bitpix} pixels (BSCALE = ${shown('BSCALE')}): every pixel would read as ${Math.fround(bzero).toPrecision(7)}`, file);
    }
  }
}

/** EXTEND says whether extensions follow: a malformed value is refused (Astropy cannot open such a file), another type is a warning. */
function extend(c: Numbered, index: number, file: string, warn: Warn): void {
  if (!c.card.raw) throw new DarkroomError('BAD_HEADER', `HDU ${index}: EXTEND = ${written(c)} is not a FITS value (card ${c.n}); T or F expected`, file);
  warn('NONSTANDARD_CARDS', `HDU ${index}: EXTEND = ${written(c)} is not T or F`);
}

/** Keywords that are wrong but do not change how the data reads (fitsverify errors or warnings): warnings. */
function checkOthers(cards: Numbered[], start: number, naxis: number, index: number, file: string, warn: Warn): void {
  for (const c of cards.slice(start)) {
    const k = c.card.key;
    const m = /^NAXIS(\d+)$/.exec(k);
    if (m && Number(m[1]) > naxis && c.card.value !== undefined) warn('IGNORED_KEYWORD', `HDU ${index}: ${k} is not allowed with NAXIS = ${naxis}; ignored`);
    if (k === 'XTENSION' && index === 0) warn('IGNORED_KEYWORD', `HDU ${index}: XTENSION is not allowed in a primary HDU; ignored`);
    if (k === 'EXTEND' && typeof c.card.value !== 'boolean') extend(c, index, file, warn);
  }
  const odd = cards.slice(start).filter((c) => !c.card.raw && c.card.key !== '').map((c) => c.card.key);
  if (odd.length > 0) warn('NONSTANDARD_CARDS', `HDU ${index}: card(s) not following the FITS standard (unquoted or unterminated strings, lower-case keywords...): ${list(odd)}`);
}

/**
 * PCOUNT and GCOUNT belong to extensions (and random groups). In a plain primary array the values
 * 0 and 1 change nothing (a warning); others would change the data size: refused.
 */
function checkPrimaryCounts(cards: Numbered[], file: string, warn: Warn): void {
  if (findCard(cards, 'GROUPS')?.card.value === true) return;
  for (const [k, harmless] of [['PCOUNT', 0], ['GCOUNT', 1]] as const) {
    const c = findCard(cards, k);
    if (!c) continue;
    if (intValue(c.card) !== harmless) throw new DarkroomError('BAD_HEADER', `HDU 0: ${k} = ${written(c)} is not allowed in a primary array (card ${c.n})`, file);
    warn('IGNORED_KEYWORD', `HDU 0: ${k} is not allowed in a primary array; ignored`);
  }
}

/**
 * Check the header of HDU `index` (text: its blocks, END included). Throws a DarkroomError for
 * what makes the data undefined or ambiguous; reports the rest through `warn`.
 */
export function validateHeader(text: string, index: number, file: string, warn: Warn): void {
  const { lines, end } = splitCards(text);
  const cards = checkBytes(lines, index, file, warn);
  const { count, naxis, bitpix } = checkMandatory(cards, index, file, warn);
  checkRepeats(cards, count, naxis, index, file, warn);
  const xt = index === 0 ? 'PRIMARY' : String(cards[0]!.card.value).trim().toUpperCase();
  // BZERO/BSCALE/BLANK scale the pixels of images only (tables have TZEROn/TSCALn).
  if (xt === 'PRIMARY' || xt === 'IMAGE' || xt === 'IUEIMAGE') checkScaling(cards, bitpix, index, file, warn);
  if (index === 0) checkPrimaryCounts(cards, file, warn);
  checkOthers(cards, count, naxis, index, file, warn);
  if (text.slice(end + 3).trim() !== '') warn('HEADER_FILL', `HDU ${index}: the header after END is not all blanks`);
}
