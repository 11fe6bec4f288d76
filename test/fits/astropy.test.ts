/**
 * Round trips against Astropy (the reference FITS implementation), both ways, for every BITPIX:
 * - files written by Astropy are read by Darkroom with identical pixels and header values;
 * - files written by Darkroom are read by Astropy with identical pixels and header values, and
 *   pass fitsverify with 0 errors and 0 warnings.
 * Pixels travel as little-endian float64 files next to the FITS files.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FitsFile, FitsHeader, readFits, writeFits, type WriteBitpix } from '../../src/fits/index.js';
import { createImage, type Image } from '../../src/image/image.js';
import { Rng } from '../../src/util/random.js';
import { fileTempDir, fitsverify, runPython } from '../helpers/env.js';

const W = 37; // odd sizes: odd pixel counts exercise the tails of the 2-pixels-at-a-time paths
const H = 23;

function f64(path: string): Float64Array {
  const b = readFileSync(path);
  return new Float64Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
}

/** Equal pixels: exact for integers representable in float32, else relative 1e-7 (of float32 rounding). */
function assertPixels(actual: Float32Array, expected: Float64Array, exact: boolean, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: pixel count`);
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i]!;
    const a = actual[i]!;
    if (Number.isNaN(e)) {
      assert.ok(Number.isNaN(a), `${what}: pixel ${i} should be NaN, is ${a}`);
      continue;
    }
    if (exact) assert.equal(a, e, `${what}: pixel ${i}`);
    else assert.ok(Math.abs(a - e) <= 1e-7 * Math.abs(e), `${what}: pixel ${i}: ${a} vs ${e}`);
  }
}

const LONG =
  "A long string that O'Brien's camera wrote: ''quoted'' parts, a path C:\\data\\M31\\light_0001.fits, " +
  'and more words to go well past two hundred characters so that it needs three or four CONTINUE cards; ' +
  "end with a quote '";

// ------------------------------------------------------------------ Astropy writes, Darkroom reads

const OGIP = String.raw`
import re
def ogip(path, key):
    """Independent decoder of an OGIP long string from the raw card images of the primary header
    (Astropy 5.2.1 un-doubles quotes twice in CONTINUE strings, so its value cannot be the reference)."""
    raw = open(path, 'rb').read()
    cards = [raw[i:i + 80].decode('ascii') for i in range(0, raw.index(b'END' + b' ' * 77) + 80, 80)]
    val, com, on = None, [], False
    for c in cards:
        if not on and c[:8].rstrip() == key and c[8:10] == '= ':
            body, on = c[10:], True
        elif on and c[:8] == 'CONTINUE':
            body = c[10:]
        elif on:
            break
        else:
            continue
        m = re.match(r" *'((?:[^']|'')*)' *(?:/ ?(.*))?$", body)
        piece = m.group(1).replace("''", "'").rstrip()
        if m.group(2) and m.group(2).strip(): com.append(m.group(2).rstrip())
        if val is not None and not val.endswith('&'): break
        val = (val[:-1] if val is not None else '') + piece
        if not piece.endswith('&'): on = False
    return [val, ' '.join(com)]
`;

const ASTROPY_WRITE = String.raw`
import sys, json, numpy as np
from astropy.io import fits
out = sys.argv[1]; W = int(sys.argv[2]); H = int(sys.argv[3]); LONG = sys.argv[4]
rng = np.random.default_rng(7)
cases = {}
def save(name, hdul, phys, hdu_index=0, exact=True):
    path = f'{out}/{name}.fits'
    hdul.writeto(path, overwrite=True)
    np.asarray(phys, dtype='<f8').tofile(f'{out}/{name}.f64')
    h = fits.getheader(path, hdu_index)
    vals = {c.keyword: c.value for c in h.cards if c.keyword not in ('COMMENT', 'HISTORY', '', 'LONGSTR') and not isinstance(c.value, fits.card.Undefined)}
    cases[name] = {'hdu': hdu_index, 'exact': exact, 'bitpix': h['BITPIX'], 'values': vals,
                   'history': [str(v) for v in h.get('HISTORY', [])], 'comment': [str(v) for v in h.get('COMMENT', [])]}
def hdr(h):
    h['OBJECT'] = "M 31 'Andromeda'"
    h['EXPTIME'] = (300.5, 'exposure in seconds')
    h['CCD-TEMP'] = -10.25
    h['XBINNING'] = 2
    h['FLIPPED'] = True
    h['SHUTTER'] = False
    h['TINY'] = 1.5e-30
    h['HUGE'] = -6.02214076e+23
    h['EMPTYSTR'] = ''
    h['LONGSTR'] = LONG
    h.append(fits.Card.fromstring('DEXP    =             1.5D+03 / D exponent, as old writers do'))
    h['HISTORY'] = 'calibrated with bias_master.fits'
    h['HISTORY'] = "second history line with 'quotes'"
    h['COMMENT'] = 'a comment card'
    return h
def prim(data, **kw):
    h = hdr(fits.Header())
    return fits.HDUList([fits.PrimaryHDU(data, header=h, **kw)])

u8 = rng.integers(0, 256, (H, W)).astype(np.uint8); u8[0, 0] = 0; u8[0, 1] = 255
save('u8', prim(u8), u8)
i8 = rng.integers(-128, 128, (H, W)).astype(np.int8); i8[0, 0] = -128; i8[0, 1] = 127
save('i8', prim(i8), i8)                        # BITPIX 8 + BZERO -128
i16 = rng.integers(-32768, 32768, (H, W)).astype(np.int16); i16[0, 0] = -32768; i16[0, 1] = 32767
save('i16', prim(i16), i16)
u16 = rng.integers(0, 65536, (H, W)).astype(np.uint16); u16[0, 0] = 0; u16[0, 1] = 65535
save('u16', prim(u16), u16)                     # BITPIX 16 + BZERO 32768
i32 = rng.integers(-2**24, 2**24, (H, W)).astype(np.int32); i32[0, 0] = -2**24; i32[0, 1] = 2**24
save('i32', prim(i32), i32)
i32big = rng.integers(-2**31, 2**31, (H, W)).astype(np.int32); i32big[0, 0] = -2**31; i32big[0, 1] = 2**31 - 1
save('i32big', prim(i32big), i32big, exact=False)
u32 = rng.integers(0, 2**32, (H, W), dtype=np.uint64).astype(np.uint32); u32[0, 0] = 0; u32[0, 1] = 2**32 - 1
save('u32', prim(u32), u32, exact=False)        # BITPIX 32 + BZERO 2^31
i64 = rng.integers(-2**62, 2**62, (H, W)).astype(np.int64); i64[0, 0] = -2**63; i64[0, 1] = 2**63 - 1; i64[0, 2] = -1; i64[0, 3] = 12345
save('i64', prim(i64), i64.astype(np.float64), exact=False)
u64 = rng.integers(0, 2**63, (H, W), dtype=np.uint64) * np.uint64(2) + np.uint64(1); u64[0, 0] = 0; u64[0, 1] = 2**64 - 1; u64[0, 2] = 7
save('u64', prim(u64), u64.astype(np.float64), exact=False)  # BITPIX 64 + BZERO 2^63
f32 = (rng.normal(1000, 300, (H, W))).astype(np.float32); f32[0, 0] = np.nan; f32[0, 1] = np.inf; f32[0, 2] = -0.0
save('f32', prim(f32), f32)
f64 = rng.normal(0, 1e10, (H, W)); f64[0, 0] = np.nan; f64[0, 1] = 1e-300
save('f64', prim(f64), f64.astype(np.float32).astype(np.float64), exact=False)
# scaled 16-bit: physical = raw * 0.5 + 100
sc = prim(rng.integers(-30000, 30000, (H, W)).astype(np.float64) * 0.5 + 100)
sc[0].scale('int16', bscale=0.5, bzero=100)
save('scaled16', sc, np.zeros((H, W)))
with fits.open(f'{out}/scaled16.fits', do_not_scale_image_data=True) as t:
    assert t[0].header['BSCALE'] == 0.5 and t[0].header['BZERO'] == 100 and t[0].data.dtype.kind == 'i'
    (t[0].data.astype(np.float64) * 0.5 + 100).astype('<f8').tofile(f'{out}/scaled16.f64')
# BLANK: raw int16 with BLANK, no scaling -> Darkroom gives NaN where raw == BLANK
bl = rng.integers(-1000, 1000, (H, W)).astype(np.int16); bl[1, :5] = -32768
hb = prim(bl); hb[0].header['BLANK'] = -32768
save('blank16', hb, np.where(bl == -32768, np.nan, bl.astype(np.float64)))
# BLANK with BZERO 32768 (unsigned): raw value 0 is blank -> physical 32768 positions are NaN
ub = rng.integers(0, 65536, (H, W)).astype(np.uint16); ub[2, 3:9] = 32768
hub = prim(ub); hub[0].header['BLANK'] = 0
save('blanku16', hub, np.where(ub == 32768, np.nan, ub.astype(np.float64)))
# colour cube, NAXIS3 = 3
cube = rng.normal(500, 50, (3, H, W)).astype(np.float32)
save('cube', prim(cube), cube)
# primary NAXIS=0, then a binary table, then the image in an extension
tab = fits.BinTableHDU.from_columns([fits.Column(name='x', format='J', array=np.arange(5))])
ext = rng.integers(0, 65536, (H, W)).astype(np.uint16)
eh = fits.ImageHDU(ext, header=hdr(fits.Header()), name='SCI')
save('ext', fits.HDUList([fits.PrimaryHDU(), tab, eh]), ext, hdu_index=2)
print(json.dumps(cases))
`;

const EXPECT_BITPIX: Record<string, number> = {
  u8: 8, i8: 8, i16: 16, u16: 16, i32: 32, i32big: 32, u32: 32, i64: 64, u64: 64, f32: -32, f64: -64,
  scaled16: 16, blank16: 16, blanku16: 16, cube: -32, ext: 16,
};

interface PyCase {
  hdu: number;
  exact: boolean;
  bitpix: number;
  values: Record<string, string | number | boolean>;
  history: string[];
  comment: string[];
}

const dir = fileTempDir('darkroom-fits-astropy-');

describe('files written by Astropy: Darkroom reads identical pixels and header values, every BITPIX', () => {
  let cases: Record<string, PyCase> = {};
  before(() => {
    cases = JSON.parse(runPython(ASTROPY_WRITE, [dir, String(W), String(H), LONG]));
  });
  /** Run `check` on the image HDU of every file astropy wrote. */
  const each = (check: (name: string, c: PyCase, f: FitsFile) => void): void => {
    for (const [name, c] of Object.entries(cases)) {
      const f = new FitsFile(join(dir, `${name}.fits`));
      try {
        check(name, c, f);
      } finally {
        f.close();
      }
    }
  };

  test('one file per BITPIX, the image in the expected HDU', () => {
    assert.deepEqual(Object.keys(cases).sort(), Object.keys(EXPECT_BITPIX).sort());
    each((name, c, f) => {
      assert.equal(c.bitpix, EXPECT_BITPIX[name], `${name}: astropy wrote BITPIX ${c.bitpix}`);
      assert.equal(f.imageHdu().index, c.hdu, `${name}: image HDU`);
    });
  });

  test('identical pixels and sizes', () => each((name, c, f) => {
    const img = f.readImage();
    const expected = f64(join(dir, `${name}.f64`));
    const planes = name === 'cube' ? 3 : 1;
    assert.equal(img.channels, planes);
    assert.equal(img.width, W);
    assert.equal(img.height, H);
    const all = new Float32Array(W * H * planes);
    img.data.forEach((p, k) => all.set(p, k * W * H));
    assertPixels(all, expected, c.exact, name);
  }));

  test('every valued keyword astropy sees, with the same value; LONGSTR, HISTORY and COMMENT', () => each((name, c, f) => {
    const img = f.readImage();
    for (const [k, v] of Object.entries(c.values)) {
      const got = img.header.get(k);
      const g = typeof got === 'bigint' ? Number(got) : got;
      assert.deepEqual(g, v, `${name}: ${k}`);
    }
    // Astropy 5.2.1 mangles quotes in CONTINUE strings when it reads them back (it un-doubles
    // '' twice), so the long string is checked against what was written.
    assert.equal(img.header.get('LONGSTR'), LONG, `${name}: LONGSTR`);
    assert.deepEqual(img.header.history(), c.history, `${name}: HISTORY`);
    assert.deepEqual(
      img.header.cards.filter((x) => x.key === 'COMMENT').map((x) => x.comment),
      c.comment,
      `${name}: COMMENT`,
    );
  }));

  test('the specific conventions, spelled out: unsigned 16 and signed 8 bit ranges, strings, D exponents, comments', () => {
    // (a regression in the values above would also show here)
    const u16 = readFits(join(dir, 'u16.fits'));
    assert.equal(u16.data[0]![0], 0);
    assert.equal(u16.data[0]![1], 65535);
    const i8 = readFits(join(dir, 'i8.fits'));
    assert.equal(i8.data[0]![0], -128);
    assert.equal(i8.data[0]![1], 127);
    const hdr = readFits(join(dir, 'f32.fits')).header;
    assert.equal(hdr.get('LONGSTR'), LONG);
    assert.equal(hdr.get('OBJECT'), "M 31 'Andromeda'");
    assert.equal(hdr.get('DEXP'), 1500);
    assert.equal(hdr.get('EMPTYSTR'), '');
    assert.equal(hdr.comment('EXPTIME'), 'exposure in seconds');
  });
});

// ------------------------------------------------------------------ Darkroom writes, Astropy reads

const ASTROPY_READ = String.raw`
import sys, json, numpy as np
from astropy.io import fits
${OGIP}res = {}
for path in sys.argv[1:]:
    with fits.open(path) as h:
        d = h[0].data
        np.asarray(d, dtype='<f8').tofile(path + '.f64')
        hd = h[0].header
        vals = {c.keyword: c.value for c in hd.cards if c.keyword not in ('COMMENT', 'HISTORY', '')}
        vals['LONGSTR'] = ogip(path, 'LONGSTR')
        res[path] = {'dtype': str(d.dtype), 'shape': list(d.shape), 'values': vals,
                     'history': [str(v) for v in hd.get('HISTORY', [])]}
print(json.dumps(res))
`;

function testImage(channels: number, fill: (i: number, c: number) => number): Image {
  const img = createImage(W, H, channels, new FitsHeader());
  for (let c = 0; c < channels; c++) for (let i = 0; i < W * H; i++) img.data[c]![i] = fill(i, c);
  const h = img.header;
  h.set('OBJECT', "NGC 7000 'North America'", 'target');
  h.set('EXPTIME', 120, 'exposure [s]');
  h.set('GAIN', 1.25);
  h.set('CCD-TEMP', -15.5);
  h.set('TINY', 2.5e-12);
  h.set('BIG', 6.02e23);
  h.set('SIMPLEX', true);
  h.set('NOPE', false);
  h.set('LONGSTR', LONG, 'a comment after the long string');
  h.set('EMPTY', '');
  h.addHistory("an input history line with 'quotes'");
  return img;
}

interface DarkroomCase { name: string; bitpix: WriteBitpix; img: Image; expect: (v: number) => number; dtype: string; exact: boolean }

/** One image per BITPIX (and two cubes) with edge values: NaN, -0, the limits, out-of-range values to clamp. */
function darkroomCases(): DarkroomCase[] {
  const rng = new Rng(11);
  const cases: DarkroomCase[] = [];
  const clamp = (lo: number, hi: number) => (v: number): number => (Number.isNaN(v) ? 0 : Math.min(hi, Math.max(lo, Math.round(v))));
  cases.push({
    name: 'f32', bitpix: -32, dtype: '>f4', exact: true, expect: (v) => v,
    img: testImage(1, (i) => (i === 0 ? NaN : i === 1 ? -0 : i === 2 ? 3.4e38 : 1000 + 300 * rng.gauss())),
  });
  cases.push({
    name: 'f64', bitpix: -64, dtype: '>f8', exact: true, expect: (v) => v,
    img: testImage(1, (i) => (i === 0 ? NaN : 1e-20 * rng.gauss())),
  });
  cases.push({
    name: 'u16', bitpix: 16, dtype: 'uint16', exact: true, expect: clamp(0, 65535),
    img: testImage(1, (i) => (i === 0 ? 0 : i === 1 ? 65535 : i === 2 ? -5 : i === 3 ? 70000 : i === 4 ? NaN : i === 5 ? 2.5 : rng.uniform() * 65535)),
  });
  cases.push({
    name: 'u8', bitpix: 8, dtype: 'uint8', exact: true, expect: clamp(0, 255),
    img: testImage(1, (i) => (i === 0 ? 0 : i === 1 ? 255 : i === 2 ? 300 : rng.int(256))),
  });
  cases.push({
    name: 'i32', bitpix: 32, dtype: '>i4', exact: true, expect: clamp(-2147483648, 2147483647),
    img: testImage(1, (i) => (i === 0 ? -16777216 : i === 1 ? 16777216 : rng.int(1 << 24) - (1 << 23))),
  });
  cases.push({
    name: 'cube16', bitpix: 16, dtype: 'uint16', exact: true, expect: clamp(0, 65535),
    img: testImage(3, (i, c) => c * 20000 + rng.int(20000)),
  });
  cases.push({
    name: 'cube32f', bitpix: -32, dtype: '>f4', exact: true, expect: (v) => v,
    img: testImage(3, (i, c) => c + rng.gauss()),
  });
  return cases;
}

/** The pixels a case should read back as: its image through the case's conversion (clamping, rounding). */
function expectedPixels(c: DarkroomCase): Float64Array {
  const expected = new Float64Array(W * H * c.img.channels);
  c.img.data.forEach((p, ch) => p.forEach((v, i) => (expected[ch * W * H + i] = c.expect(v))));
  return expected;
}

describe('files written by Darkroom: Astropy reads identical pixels and header values; fitsverify clean', () => {
  const cases = darkroomCases();
  const paths = cases.map((c) => join(dir, `dr-${c.name}.fits`));
  let res: Record<string, { dtype: string; shape: number[]; values: Record<string, unknown>; history: string[] }> = {};
  before(() => {
    cases.forEach((c, k) => writeFits(paths[k]!, c.img, { bitpix: c.bitpix, history: ['test: astropy round trip', `bitpix=${c.bitpix}`] }));
    res = JSON.parse(runPython(ASTROPY_READ, paths));
  });

  test('fitsverify: 0 errors and 0 warnings', () => {
    cases.forEach((c, k) => {
      const v = fitsverify(paths[k]!);
      assert.equal(v.errors, 0, `${c.name}: fitsverify errors\n${v.text}`);
      assert.equal(v.warnings, 0, `${c.name}: fitsverify warnings\n${v.text}`);
    });
  });

  test('astropy sees the dtype and shape written', () => {
    cases.forEach((c, k) => {
      const r = res[paths[k]!]!;
      assert.equal(r.dtype, c.dtype, `${c.name}: dtype`);
      assert.deepEqual(r.shape, c.img.channels > 1 ? [c.img.channels, H, W] : [H, W], `${c.name}: shape`);
    });
  });

  test('astropy reads identical pixels', () => {
    cases.forEach((c, k) => {
      const got = f64(`${paths[k]}.f64`);
      const expected = expectedPixels(c);
      assertPixels(new Float32Array(got), expected, c.exact, c.name);
      // Float64 written from float32 must also be exact as float64 (no float32 detour in astropy).
      if (c.bitpix === -64) for (let i = 1; i < 5; i++) assert.equal(got[i], expected[i]);
    });
  });

  test('astropy reads the header values, the long string from the raw cards, BITPIX and BZERO', () => {
    cases.forEach((c, k) => {
      const r = res[paths[k]!]!;
      const h = c.img.header;
      for (const key of ['OBJECT', 'EXPTIME', 'GAIN', 'CCD-TEMP', 'TINY', 'BIG', 'SIMPLEX', 'NOPE', 'LONGSTR', 'EMPTY']) {
        if (key !== 'LONGSTR') assert.deepEqual(r.values[key], h.get(key), `${c.name}: ${key}`);
      }
      assert.deepEqual(r.values.LONGSTR, [LONG, 'a comment after the long string'], `${c.name}: LONGSTR from the raw cards`);
      assert.equal(r.values.BITPIX, c.bitpix);
      if (c.bitpix === 16) assert.equal(r.values.BZERO, 32768);
    });
  });

  test('HISTORY: the input lines kept, the provenance and the version added', () => {
    cases.forEach((c, k) => {
      const r = res[paths[k]!]!;
      assert.ok(r.history.includes("an input history line with 'quotes'"), `${c.name}: input HISTORY kept`);
      assert.ok(r.history.includes('test: astropy round trip'), `${c.name}: provenance HISTORY`);
      assert.ok(r.history.some((x) => /^Written by Darkroom /.test(x)), `${c.name}: version HISTORY`);
    });
  });

  test('Darkroom reads its own files back to the same values', () => {
    cases.forEach((c, k) => {
      const back = readFits(paths[k]!);
      const all = new Float32Array(W * H * c.img.channels);
      back.data.forEach((p, ch) => all.set(p, ch * W * H));
      assertPixels(all, expectedPixels(c), c.exact, `${c.name} (darkroom read back)`);
      assert.equal(back.header.get('LONGSTR'), LONG);
      assert.equal(back.header.comment('LONGSTR'), 'a comment after the long string');
    });
  });
});

describe('CONTINUE strings > 200 characters with quotes and a long comment survive both ways', () => {
  const long2 = `${"'".repeat(70)}${LONG}${"x'".repeat(40)}`;
  const longComment = 'a comment that is far too long to fit on the last card of the string, so it has to go on CONTINUE cards of its own, split at blanks';
  const longNoQuotes = Array.from({ length: 40 }, (_, i) => `word${i}`).join(' ');
  const p = join(dir, 'dr-continue.fits');
  before(() => {
    const img = createImage(4, 3);
    img.header.set('LONGQ', long2, longComment);
    img.header.set('LONGNQ', longNoQuotes);
    img.header.set('SHORT', 'after');
    writeFits(p, img, { history: ['continue test'] });
  });

  test('fitsverify clean', () => {
    const v = fitsverify(p);
    assert.equal(v.errors + v.warnings, 0, v.text);
  });

  test('Astropy reads the value and the comment', () => {
    const py = runPython(
      String.raw`
import sys, json
from astropy.io import fits
${OGIP}
h = fits.getheader(sys.argv[1])
v, c = ogip(sys.argv[1], 'LONGQ')
print(json.dumps({'v': v, 'c': c, 'ac': h.comments['LONGQ'], 'nq': h['LONGNQ'], 's': h['SHORT'], 'l': h.get('LONGSTRN')}))
`,
      [p],
    );
    const r = JSON.parse(py) as { v: string; c: string; ac: string; nq: string; s: string; l: string };
    assert.equal(r.v, long2, 'value decoded from the raw cards');
    assert.equal(r.c, longComment, 'comment decoded from the raw cards');
    assert.equal(r.ac, longComment, 'comment as Astropy reads it');
    assert.equal(r.nq, longNoQuotes, 'a long string without quotes as Astropy reads it');
    assert.equal(r.s, 'after');
    assert.equal(r.l, 'OGIP 1.0');
  });

  test('Darkroom reads them back', () => {
    const back = readFits(p).header;
    assert.equal(back.get('LONGQ'), long2);
    assert.equal(back.comment('LONGQ'), longComment);
    assert.equal(back.get('LONGNQ'), longNoQuotes);
    assert.equal(back.get('SHORT'), 'after');
  });
});
