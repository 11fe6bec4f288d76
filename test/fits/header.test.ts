/**
 * Header cards (FITS Standard 4.0 section 4): parsing of values, strings with quotes, CONTINUE,
 * logical/integer/float (D exponents), commentary and blank cards, keyword case; the fixed
 * format on writing; unknown and non-standard cards kept.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { formatCard, headerBytes, parseCard, parseHeaderText, FitsHeader } from '../../src/fits/index.js';

const card = (s: string): string => s.padEnd(80, ' ');
const header = (...lines: string[]): FitsHeader => parseHeaderText(lines.map(card).join('') + card('END'));
/** Each [index, text, message?]: the card image at that index is the text padded to 80 columns. */
function assertCards(lines: string[], expected: [number, string, string?][]): void {
  for (const [i, text, msg] of expected) assert.equal(lines[i], card(text), msg);
}

test('values: strings, logicals, integers, floats with E and D exponents, undefined', () => {
  const h = header(
    "OBJECT  = 'M 31    '           / target",
    "QUOTES  = 'O''Brien''s ''x'''",
    "EMPTY   = ''",
    "BLANKS  = '   '",
    "LEAD    = '  lead'",
    "SLASH   = 'a/b / c' / real comment",
    'FLAG    =                    T / yes',
    'NOFLAG  =                    F',
    'INT     =                 -42',
    'BIGINT  = 12345678901234567890',
    'FLT     =           -1.25E-03',
    'DEXP    =             1.5D+03',
    'DEXP2   =               2.0d-2',
    'NOEXP   =                 3.',
    'FREE    = 17 / free format, not in column 30',
    'UNDEF   =                      / no value',
    'CPLX    = (1.5, -2.0)',
    'lower   =                    5',
  );
  assert.equal(h.get('OBJECT'), 'M 31', 'trailing blanks are not significant');
  assert.equal(h.comment('OBJECT'), 'target');
  assert.equal(h.get('QUOTES'), "O'Brien's 'x'");
  assert.equal(h.get('EMPTY'), '');
  assert.equal(h.get('BLANKS'), '');
  assert.equal(h.get('LEAD'), '  lead', 'leading blanks are significant');
  assert.equal(h.get('SLASH'), 'a/b / c');
  assert.equal(h.comment('SLASH'), 'real comment');
  assert.equal(h.get('FLAG'), true);
  assert.equal(h.getBool('NOFLAG'), false);
  assert.equal(h.get('INT'), -42);
  assert.equal(h.get('BIGINT'), 12345678901234567890n);
  assert.equal(h.get('FLT'), -0.00125);
  assert.equal(h.get('DEXP'), 1500);
  assert.equal(h.get('DEXP2'), 0.02);
  assert.equal(h.get('NOEXP'), 3);
  assert.equal(h.get('FREE'), 17);
  assert.equal(h.get('UNDEF'), null);
  assert.equal(h.has('UNDEF'), true);
  assert.equal(h.get('CPLX'), '(1.5, -2.0)');
  assert.equal(h.get('lower'), 5, 'keyword lookups ignore case');
  assert.equal(h.get('LOWER'), 5);
  assert.equal(h.getNumber('OBJECT'), undefined);
});

test('commentary, blank and non-value cards; CONTINUE long strings', () => {
  const h = header(
    'COMMENT   This is a comment with leading blanks',
    'HISTORY = not a value: HISTORY never has one',
    '',
    '        blank keyword text',
    'NOEQUALS  no value indicator here',
    "LONG    = 'first part, with a quote '' and &'",
    "CONTINUE  'second part&'",
    "CONTINUE  ' and the end' / the comment",
    "AFTER   = 'x'",
    "CONTINUE  'orphan'",
  );
  const keys = h.cards.map((c) => c.key);
  assert.deepEqual(keys, ['COMMENT', 'HISTORY', '', '', 'NOEQUALS', 'LONG', 'AFTER', 'CONTINUE']);
  assert.equal(h.cards[0]!.comment, '  This is a comment with leading blanks');
  assert.deepEqual(h.history(), ['= not a value: HISTORY never has one']);
  assert.equal(h.cards[2]!.comment, '');
  assert.equal(h.cards[3]!.comment, 'blank keyword text');
  assert.equal(h.get('NOEQUALS'), undefined);
  assert.equal(h.get('LONG'), "first part, with a quote ' and second part and the end");
  assert.equal(h.comment('LONG'), 'the comment');
  assert.equal(h.get('AFTER'), 'x', 'a CONTINUE after a string without & is not merged');
  // Standard cards are written back byte for byte.
  const out = h.cards.flatMap(formatCard);
  assertCards(out, [
    [5, "LONG    = 'first part, with a quote '' and &'"],
    [7, "CONTINUE  ' and the end' / the comment"],
  ]);
  assert.equal(out.length, 10, "every card image written back, CONTINUE cards included");
});

/** A header of every value kind the writer formats, and a commentary card longer than one card. */
function writtenHeader(): FitsHeader {
  const h = new FitsHeader();
  h.set('EXPTIME', 300, 'seconds');
  h.set('GAIN', 1.5);
  h.set('TINY', 1e-30);
  h.set('HUGE', 6.02e23);
  h.set('WHOLE', 5, undefined, { float: true });
  h.set('FLAG', true);
  h.set('NAME', "it's");
  h.set('ESO DET CHIP', 'x');
  h.addHistory('h'.repeat(100));
  return h;
}

test('fixed format on writing', () => {
  const lines = writtenHeader().cards.flatMap(formatCard);
  assert.ok(lines.every((l) => l.length === 80));
  assertCards(lines, [
    [0, 'EXPTIME =                  300 / seconds'],
    [1, 'GAIN    =                  1.5'],
    [2, 'TINY    =              1.0E-30'],
    [3, 'HUGE    =              6.02E23'],
    [4, 'WHOLE   =                  5.0'],
    [5, 'FLAG    =                    T'],
    [6, "NAME    = 'it''s    '", 'strings padded to 8 characters, quotes doubled'],
    [7, "HIERARCH ESO DET CHIP = 'x       '"],
    [8, `HISTORY ${'h'.repeat(72)}`],
    [9, `HISTORY ${'h'.repeat(28)}`],
  ]);
});

test('written values survive format -> parse', () => {
  const h = writtenHeader();
  const back = parseHeaderText(h.cards.flatMap(formatCard).join('') + card('END'));
  for (const k of ['EXPTIME', 'GAIN', 'TINY', 'HUGE', 'WHOLE', 'FLAG', 'NAME', 'ESO DET CHIP']) assert.deepEqual(back.get(k), h.get(k), k);
});

describe('non-standard cards: unquoted and unterminated strings, lower-case keys, non-ASCII', () => {
  const bad = header('OBSERVER=    Mabula Haverkamp', "ORGNAME = 'C:\\path\\without\\end", 'lower   =                    5', 'TEMP    =                 -10 / \u00b0C');

  test('are read as meant, non-ASCII replaced by ?', () => {
    assert.equal(bad.get('OBSERVER'), 'Mabula Haverkamp');
    assert.equal(bad.get('ORGNAME'), 'C:\\path\\without\\end');
    assert.equal(bad.comment('TEMP'), '?C', 'non-ASCII replaced by ?');
  });

  test('are re-written in the standard form', () => {
    assertCards(bad.cards.flatMap(formatCard), [
      [0, "OBSERVER= 'Mabula Haverkamp'"],
      [1, "ORGNAME = 'C:\\path\\without\\end'"],
      [2, 'LOWER   =                    5'],
    ]);
  });

  test('headerBytes: one 2880-byte block ending with END', () => {
    const bytes = headerBytes(bad.cards);
    assert.equal(bytes.length, 2880);
    assert.equal(bytes.toString('latin1', 4 * 80, 5 * 80), card('END'));
  });
});

test('parseCard reads one card image', () => {
  assert.equal(parseCard(card('SIMPLE  =                    T')).value, true);
});
