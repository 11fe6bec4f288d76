/**
 * The fast FITS decoders (byte swaps on typed arrays, sign-bit flips, direct reads into the output,
 * chunked reads into a reused scratch buffer) against a simple reference decoder written here
 * (DataView, one pixel at a time): bit-identical for every BITPIX with BZERO/BSCALE/BLANK variants,
 * odd sizes, cubes, row bands, chunk boundaries inside rows and pixels, and decoding into caller
 * buffers (readFitsInto).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FitsFile, readFits, readFitsInto } from '../../src/fits/index.js';
import { DarkroomError } from '../../src/util/errors.js';
import { Rng } from '../../src/util/random.js';
import { useTempDir } from '../helpers/env.js';

interface Case {
  bitpix: 8 | 16 | 32 | 64 | -32 | -64;
  bzero?: string;
  bscale?: string;
  blank?: string;
}

/** Per BITPIX, the BZERO / BSCALE / BLANK variants tested. */
const VARIANTS: [Case['bitpix'], Omit<Case, 'bitpix'>[]][] = [
  [8, [{}, { bzero: '-128' }, { bzero: '-128', blank: '0' }, { bzero: '10', bscale: '0.5' }, { blank: '255' }]],
  [16, [{}, { bzero: '32768' }, { bzero: '32768', bscale: '1', blank: '-32768' }, { bzero: '-1000' }, { bzero: '3', bscale: '0.25' }, { blank: '7' }]],
  [32, [{}, { bzero: '2147483648' }, { bzero: '2147483648', blank: '-2147483648' }, { bzero: '5', bscale: '0.001' }, { blank: '12345' }]],
  [64, [{}, { bzero: '9223372036854775808' }, { bscale: '0.5', bzero: '-3', blank: '-9223372036854775808' }]],
  [-32, [{}, { bzero: '-1', bscale: '2' }]],
  [-64, [{}, { bzero: '0.5', bscale: '3' }]],
];
const CASES: Case[] = VARIANTS.flatMap(([bitpix, variants]) => variants.map((v) => ({ bitpix, ...v })));

const card = (k: string, v: string): string => `${k.padEnd(8)}= ${v.padStart(20)}`.padEnd(80);

/** A FITS file of random raw pixels (every bit pattern; some set to BLANK), and the raw data bytes. */
function makeFits(c: Case, dims: number[], rng: Rng): { file: Buffer; raw: Buffer } {
  let h = card('SIMPLE', 'T') + card('BITPIX', String(c.bitpix)) + card('NAXIS', String(dims.length));
  dims.forEach((d, i) => (h += card(`NAXIS${i + 1}`, String(d))));
  if (c.bzero !== undefined) h += card('BZERO', c.bzero);
  if (c.bscale !== undefined) h += card('BSCALE', c.bscale);
  if (c.blank !== undefined) h += card('BLANK', c.blank);
  h += 'END'.padEnd(80);
  const header = Buffer.from(h.padEnd(Math.ceil(h.length / 2880) * 2880), 'latin1');
  const bpp = Math.abs(c.bitpix) / 8;
  const n = dims.reduce((a, b) => a * b, 1);
  const raw = Buffer.alloc(n * bpp);
  for (let i = 0; i < raw.length; i++) raw[i] = rng.int(256);
  if (c.blank !== undefined) {
    const dv = new DataView(raw.buffer, raw.byteOffset, raw.length);
    const b = BigInt(c.blank);
    for (let k = 0; k < Math.max(1, n >> 6); k++) {
      const i = rng.int(n);
      if (c.bitpix === 8) dv.setUint8(i, Number(b));
      else if (c.bitpix === 16) dv.setInt16(2 * i, Number(b));
      else if (c.bitpix === 32) dv.setInt32(4 * i, Number(b));
      else dv.setBigInt64(8 * i, b);
    }
  }
  const data = Buffer.alloc(Math.ceil(raw.length / 2880) * 2880);
  raw.copy(data);
  return { file: Buffer.concat([header, data]), raw };
}

/** The reference: per pixel through a DataView, physical = raw * BSCALE + BZERO in float64, BLANK -> NaN. */
function reference(c: Case, raw: Buffer): Float32Array {
  const bpp = Math.abs(c.bitpix) / 8;
  const n = raw.length / bpp;
  const dv = new DataView(raw.buffer, raw.byteOffset, raw.length);
  const bzero = Number(c.bzero ?? '0');
  const bscale = Number(c.bscale ?? '1');
  const plain = bzero === 0 && bscale === 1;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    if (c.bitpix === 64) {
      const v = dv.getBigInt64(8 * i);
      if (c.blank !== undefined && v === BigInt(c.blank)) out[i] = NaN;
      else if (c.bzero === '9223372036854775808' && bscale === 1) out[i] = Number(v + (1n << 63n)); // exact, then rounded once
      else out[i] = Number(v) * bscale + bzero;
      continue;
    }
    const v =
      c.bitpix === 8 ? dv.getUint8(i)
      : c.bitpix === 16 ? dv.getInt16(2 * i)
      : c.bitpix === 32 ? dv.getInt32(4 * i)
      : c.bitpix === -32 ? dv.getFloat32(4 * i)
      : dv.getFloat64(8 * i);
    if (c.bitpix > 0 && c.blank !== undefined && v === Number(c.blank)) out[i] = NaN;
    else out[i] = plain ? v : v * bscale + bzero;
  }
  return out;
}

/** Same bits, except that any NaN equals any NaN (payloads may differ). */
function assertSame(actual: Float32Array, expected: Float32Array, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  const a = new Uint32Array(actual.buffer, actual.byteOffset, actual.length);
  const e = new Uint32Array(expected.buffer, expected.byteOffset, expected.length);
  for (let i = 0; i < e.length; i++) {
    if (a[i] === e[i] || (Number.isNaN(actual[i]) && Number.isNaN(expected[i]))) continue;
    assert.fail(`${what}: pixel ${i} is ${actual[i]} (0x${a[i]!.toString(16)}), reference ${expected[i]} (0x${e[i]!.toString(16)})`);
  }
}

const label = (c: Case): string =>
  `BITPIX ${c.bitpix}${c.bzero ? ` BZERO ${c.bzero}` : ''}${c.bscale ? ` BSCALE ${c.bscale}` : ''}${c.blank ? ` BLANK ${c.blank}` : ''}`;

test('whole images and row bands decode bit-identically to a per-pixel reference for every BITPIX', (t) => {
  const dir = useTempDir(t);
  const rng = new Rng(16);
  for (const c of CASES) {
    for (const dims of [[37, 23], [1, 1], [13, 7, 3]]) {
      const [W, H] = dims as [number, number];
      const planes = dims[2] ?? 1;
      const { file, raw } = makeFits(c, dims, rng);
      const p = join(dir, 'case.fits');
      writeFileSync(p, file);
      const ref = reference(c, raw);
      const what = `${label(c)} ${dims.join('x')}`;
      const img = readFits(p);
      assert.equal(img.data.length, planes);
      for (let k = 0; k < planes; k++) assertSame(img.data[k]!, ref.subarray(k * W * H, (k + 1) * W * H), `${what} plane ${k}`);
      // row bands, and small chunks that end inside rows (odd pixel counts) and inside multi-byte pixels' runs
      for (const chunkBytes of [undefined, 8, 100]) {
        const f = new FitsFile(p, { chunkBytes });
        try {
          const plane = planes - 1;
          const y0 = Math.min(1, H - 1);
          const band = f.readRows(plane, y0, H);
          assertSame(band, ref.subarray((plane * H + y0) * W, (plane + 1) * H * W), `${what} rows ${y0}..${H} chunk ${chunkBytes}`);
        } finally {
          f.close();
        }
      }
    }
  }
});

test('images larger than one read chunk decode bit-identically (chunk boundaries inside rows)', (t) => {
  const dir = useTempDir(t);
  const rng = new Rng(17);
  for (const c of CASES.filter((x) => x.bzero === undefined || x.bitpix === 16 || x.bitpix === 32)) {
    const dims = [301, 157];
    const { file, raw } = makeFits(c, dims, rng);
    const p = join(dir, 'big.fits');
    writeFileSync(p, file);
    const ref = reference(c, raw);
    // 4097 bytes per chunk: many chunks, each ending at a whole pixel but not at a whole row
    const f = new FitsFile(p, { chunkBytes: 4097 });
    try {
      assertSame(f.readRows(0, 0, 157), ref, `${label(c)} chunked`);
      assertSame(f.readRows(0, 50, 51), ref.subarray(50 * 301, 51 * 301), `${label(c)} one row`);
    } finally {
      f.close();
    }
    assertSame(readFits(p).data[0]!, ref, `${label(c)} whole`);
  }
});

test('readFitsInto decodes into caller buffers, reused across files, and refuses buffers that are too small', (t) => {
  const dir = useTempDir(t);
  const rng = new Rng(18);
  const mono: Case = { bitpix: 16, bzero: '32768' };
  const cube: Case = { bitpix: -32 };
  const pa = join(dir, 'a.fits');
  const pb = join(dir, 'b.fits');
  const pc = join(dir, 'c.fits');
  const a = makeFits(mono, [41, 29], rng);
  const b = makeFits(mono, [41, 29], rng);
  const c = makeFits(cube, [41, 29, 3], rng);
  writeFileSync(pa, a.file);
  writeFileSync(pb, b.file);
  writeFileSync(pc, c.file);
  const n = 41 * 29;
  const buf = new Float32Array(n + 5).fill(-7);
  const ia = readFitsInto(pa, [buf]);
  assert.equal(ia.data[0]!.buffer, buf.buffer, 'the image data is a view of the caller buffer');
  assert.equal(ia.data[0]!.length, n);
  assertSame(ia.data[0]!, reference(mono, a.raw), 'into, first file');
  assert.deepEqual([...buf.subarray(n)], [-7, -7, -7, -7, -7], 'nothing written past the image');
  assert.equal(ia.width, 41);
  assert.equal(ia.header.getNumber('BZERO'), 32768);
  const ib = readFitsInto(pb, [buf]);
  assertSame(ib.data[0]!, reference(mono, b.raw), 'into, second file in the same buffer');
  assertSame(ib.data[0]!, readFits(pb).data[0]!, 'into equals readFits');
  // one flat buffer for all planes, or one per plane
  const flat = new Float32Array(3 * n);
  const ic = readFitsInto(pc, flat);
  assert.equal(ic.channels, 3);
  assertSame(flat, reference(cube, c.raw), 'cube into one flat buffer');
  assert.equal(ic.data[2]!.byteOffset, 2 * n * 4);
  const planes = [new Float32Array(n), new Float32Array(n), new Float32Array(n)];
  readFitsInto(pc, planes);
  for (let k = 0; k < 3; k++) assertSame(planes[k]!, flat.subarray(k * n, (k + 1) * n), `cube plane ${k} into its own buffer`);
  assert.throws(() => readFitsInto(pa, [new Float32Array(n - 1)]), RangeError);
  assert.throws(() => readFitsInto(pc, [flat]), RangeError, 'three planes need three buffers or one of 3*n');
  assert.throws(() => readFitsInto(pc, new Float32Array(3 * n - 1)), RangeError);
});

test('a file cut short after it was opened is a TRUNCATED error naming the row, on the scratch and the direct paths', (t) => {
  const dir = useTempDir(t);
  const rng = new Rng(19);
  for (const c of [{ bitpix: 16, bzero: '32768' }, { bitpix: -32 }] as Case[]) {
    const p = join(dir, 'cut.fits');
    writeFileSync(p, makeFits(c, [37, 23], rng).file);
    for (const chunkBytes of [undefined, 64]) {
      const f = new FitsFile(p, { chunkBytes });
      try {
        const h = f.imageHdu();
        const bpp = Math.abs(c.bitpix) / 8;
        truncateSync(p, h.dataOffset + 37 * 5 * bpp + 3); // rows 0-4 and part of row 5 remain
        assert.throws(
          () => f.readRows(0, 0, 23, h),
          (e: unknown) => e instanceof DarkroomError && e.code === 'TRUNCATED' && /before the end of row 5\b/.test(e.message),
          `${label(c)} chunk ${chunkBytes}`,
        );
        assert.throws(() => f.readRows(0, 2, 23, h), /before the end of row 5\b/, 'rows counted from the top of the plane');
      } finally {
        f.close();
      }
      writeFileSync(p, makeFits(c, [37, 23], rng).file);
    }
  }
});
