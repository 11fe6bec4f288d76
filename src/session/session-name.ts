/**
 * OBJECT values that name an observing session rather than a target ("Brutus_10292022": a date
 * token; or one value used over the whole night's pointings), and catalogue-like target names
 * (M 31, NGC 7000, Sh2-155, SN2022yid, C/2022 E3, 12P, ...) read from a frame's folders and file
 * name. Pure string functions; the grouping (targets.ts) decides what to do with them.
 */

const SEP = String.raw`[\s_-]*`;

/** Catalogue designations, each matching a whole token (prefix, optional separators, number). */
const CATALOGUE = [
  String.raw`M${SEP}(?:110|10\d|[1-9]\d?)`,
  String.raw`(?:NGC|IC)${SEP}\d{1,4}[A-Z]?`,
  String.raw`Sh${SEP}2${SEP}\d{1,3}`,
  String.raw`(?:Abell|ACO|Arp|Caldwell|Barnard|B|vdB|LDN|LBN|Mel|Melotte|Cr|Collinder|UGC|PGC)${SEP}\d{1,7}`,
  // Supernovae and transients: SN2022yid, AT 2022abc.
  String.raw`(?:SN|AT)${SEP}\d{4}[A-Z]{1,3}`,
  // Comets: C/2022 E3 (a folder cannot hold the '/': C_2022_E3, C2022E3), 12P, 12P/Pons-Brooks.
  String.raw`[CPDX](?:/|${SEP})\d{4}${SEP}[A-Z]{1,2}\d{0,3}`,
  String.raw`\d{1,3}P(?:[/_-][A-Z][A-Za-z]+(?:-[A-Z][A-Za-z]+)?)?`,
].join('|');

const WHOLE = new RegExp(`^(?:${CATALOGUE})$`, 'i');

/** Comparison key of a name: lower case, spaces, underscores and hyphens removed. */
export function nameKey(s: string): string {
  return s.toLowerCase().replace(/[\s_-]+/g, '');
}

/** True when the whole string is a catalogue-like designation ("M 31", "SN2022yid", "Sh2-155"). */
export function isCatalogueName(s: string): boolean {
  return WHOLE.test(s.trim());
}

/**
 * True when `fileName` starts with the name whose key is `key` (case, spaces, underscores and
 * hyphens ignored), followed by a separator, a dot or the end: "SN_2022yid_L_001.fits" starts
 * with "sn2022yid", "M310_001.fits" does not start with "m31".
 */
export function startsWithName(fileName: string, key: string): boolean {
  let i = 0;
  for (const ch of key) {
    while (i < fileName.length && /[\s_-]/.test(fileName[i]!)) i++;
    if (i >= fileName.length || fileName[i]!.toLowerCase() !== ch) return false;
    i++;
  }
  return key !== '' && (i === fileName.length || /[\s_.-]/.test(fileName[i]!));
}

const YEAR = (y: number): boolean => y >= 1990 && y <= 2099;
const MONTH = (m: number): boolean => m >= 1 && m <= 12;
const DAY = (d: number): boolean => d >= 1 && d <= 31;

/** An 8- or 6-digit run read as YYYYMMDD, MMDDYYYY, DDMMYYYY, YYMMDD, MMDDYY or DDMMYY. */
function digitsAreDate(s: string): boolean {
  const n = (a: number, b: number): number => Number(s.slice(a, b));
  if (s.length === 8) {
    if (YEAR(n(0, 4)) && MONTH(n(4, 6)) && DAY(n(6, 8))) return true;
    if (YEAR(n(4, 8)) && ((MONTH(n(0, 2)) && DAY(n(2, 4))) || (DAY(n(0, 2)) && MONTH(n(2, 4))))) return true;
    return false;
  }
  if (s.length === 6) {
    const [a, b, c] = [n(0, 2), n(2, 4), n(4, 6)];
    return (MONTH(b) && DAY(c)) || (MONTH(a) && DAY(b)) || (DAY(a) && MONTH(b));
  }
  return false;
}

/**
 * The date or time token in an OBJECT value, if any: 6-8 digit dates (10292022, 20221029, 221029),
 * separated dates (2022-10-29, 29-10-2022, 10.29.2022) and clock times (21-30-15, 21:30:15).
 * Digit runs are taken whole (PGC 1234567 is not read as a date from its middle).
 */
export function dateToken(s: string): string | undefined {
  for (const m of s.matchAll(/(?<!\d)(\d{4})[-_.](\d{1,2})[-_.](\d{1,2})(?!\d)/g)) {
    if (YEAR(Number(m[1])) && MONTH(Number(m[2])) && DAY(Number(m[3]))) return m[0];
  }
  for (const m of s.matchAll(/(?<!\d)(\d{1,2})[-_.](\d{1,2})[-_.](\d{4})(?!\d)/g)) {
    const [a, b] = [Number(m[1]), Number(m[2])];
    if (YEAR(Number(m[3])) && ((MONTH(a) && DAY(b)) || (DAY(a) && MONTH(b)))) return m[0];
  }
  for (const m of s.matchAll(/(?<!\d)(\d{2})[-:_](\d{2})[-:_](\d{2})(?!\d)/g)) {
    if (Number(m[1]) <= 23 && Number(m[2]) <= 59 && Number(m[3]) <= 59) return m[0];
  }
  for (const m of s.matchAll(/(?<!\d)\d{6,8}(?!\d)/g)) if (digitsAreDate(m[0])) return m[0];
  return undefined;
}

/**
 * The catalogue-like target a frame's path agrees on: a folder that is a catalogue name and a file
 * name that starts with the same name (case, spaces, underscores and hyphens ignored). The folder's
 * spelling is returned, nearest folder first. Undefined when they do not agree.
 */
export function pathTarget(path: string): string | undefined {
  const parts = path.split(/[\\/]+/).filter((p) => p !== '');
  const file = parts.pop();
  if (!file) return undefined;
  for (const dir of parts.reverse()) if (isCatalogueName(dir) && startsWithName(file, nameKey(dir))) return dir.trim();
  return undefined;
}
