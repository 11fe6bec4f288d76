/**
 * Headers that do not define their data are refused with one line naming the file and the
 * keyword (what fitsverify calls an error in SIMPLE, BITPIX, NAXIS, NAXISn, BZERO, BSCALE, BLANK,
 * PCOUNT, GCOUNT, and a lost END or truncated data); the rest is a structured warning and the file
 * reads as before. Only regular files are opened: a FIFO, a directory, a socket or a device is
 * refused before any open, so nothing can block.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { FitsFile, readFits, writeFits, type FitsWarning } from '../../src/fits/index.js';
import { createImage } from '../../src/image/image.js';
import { DarkroomError, type ErrorCode } from '../../src/util/errors.js';
import { ROOT, useTempDir } from '../helpers/env.js';

const pad = (s: string): string => s.padEnd(80).slice(0, 80);

/** A valid 16-bit frame (BZERO 32768) of 8x6 pixels with values 1000 + i. */
function baseFile(dir: string): { path: string; bytes: Buffer } {
  const img = createImage(8, 6);
  img.data[0]!.forEach((_, i, a) => (a[i] = 1000 + i));
  img.header.set('OBJECT', 'M31');
  const path = join(dir, 'base.fits');
  writeFits(path, img, { bitpix: 16 });
  return { path, bytes: readFileSync(path) };
}

function cardAt(b: Buffer, key: string): number {
  for (let i = 0; i < 36; i++) if (b.toString('latin1', i * 80, i * 80 + 8).trimEnd() === key) return i;
  return -1;
}

/** Edits on the header: replace the card of a keyword, insert cards before END, replace END. */
function edit(b: Buffer, e: { set?: Record<string, string>; insert?: string[] }): Buffer {
  const out = Buffer.from(b);
  const at = Object.entries(e.set ?? {}).map(([k, text]) => [cardAt(b, k), text] as const);
  for (const [i, text] of at) {
    assert.ok(i >= 0, text);
    out.write(pad(text), i * 80, 'latin1');
  }
  for (const text of e.insert ?? []) {
    const end = cardAt(out, 'END');
    out.write(pad(text), end * 80, 'latin1');
    out.write(pad('END'), (end + 1) * 80, 'latin1');
  }
  return out;
}

function refused(path: string, code: ErrorCode, message: RegExp): void {
  assert.throws(
    () => readFits(path),
    (e: unknown) => {
      assert.ok(e instanceof DarkroomError, `${path}: expected a DarkroomError, got ${String(e)}`);
      assert.equal(e.code, code, e.message);
      assert.equal(e.file, path);
      assert.match(e.message, message);
      assert.ok(!e.oneLine().includes('\n'));
      return true;
    },
    `${path} must be refused`,
  );
}

test('keywords that define the data: invalid values, order, duplicates and bytes are refused, naming the keyword', (t) => {
  const dir = useTempDir(t);
  const { bytes } = baseFile(dir);
  const cases: [string, Buffer, ErrorCode, RegExp][] = [
    ['bzero-abc', edit(bytes, { set: { BZERO: "BZERO   = 'abc'" } }), 'BAD_HEADER', /BZERO = 'abc' is not a number/],
    ['bzero-nan', edit(bytes, { set: { BZERO: 'BZERO   =                  NaN' } }), 'BAD_HEADER', /BZERO = NaN is not a number/],
    ['bzero-1e400', edit(bytes, { set: { BZERO: 'BZERO   =                1E400' } }), 'BAD_HEADER', /BZERO = 1E400 overflows/],
    ['bzero-empty', edit(bytes, { set: { BZERO: 'BZERO   =' } }), 'BAD_HEADER', /BZERO = \(no value\) is not a number/],
    ['bzero-string-number', edit(bytes, { set: { BZERO: "BZERO   = '32768'" } }), 'BAD_HEADER', /BZERO = '32768' is not a number/],
    ['bzero-no-equals', edit(bytes, { set: { BZERO: 'BZERO   32768' } }), 'BAD_HEADER', /BZERO\) has no value/],
    ['bzero-m1e30', edit(bytes, { set: { BZERO: 'BZERO   =                -1E30' } }), 'BAD_HEADER', /BZERO = -1E30 swamps the BITPIX 16 pixels/],
    ['bscale-0', edit(bytes, { set: { BSCALE: 'BSCALE  =                    0' } }), 'BAD_HEADER', /BSCALE = 0/],
    ['bzero-twice', edit(bytes, { insert: ['BZERO   =                    0'] }), 'BAD_HEADER', /BZERO is given twice with different values/],
    ['simple-f', edit(bytes, { set: { SIMPLE: 'SIMPLE  =                    F' } }), 'NOT_FITS', /SIMPLE = F: not a standard FITS file/],
    ['bitpix-12', edit(bytes, { set: { BITPIX: 'BITPIX  =                   12' } }), 'BAD_HEADER', /invalid or missing BITPIX \(12\)/],
    ['bitpix-float', edit(bytes, { set: { BITPIX: 'BITPIX  =                 16.0' } }), 'BAD_HEADER', /BITPIX \(16\.0\): not an integer/],
    ['naxis-1000', edit(bytes, { set: { NAXIS: 'NAXIS   =                 1000' } }), 'BAD_HEADER', /invalid or missing NAXIS \(1000\)/],
    ['naxis1-string', edit(bytes, { set: { NAXIS1: "NAXIS1  = '8'" } }), 'BAD_HEADER', /NAXIS1 \('8'\): not an integer/],
    ['naxis1-twice', edit(bytes, { insert: ['NAXIS1  =                    8'] }), 'BAD_HEADER', /NAXIS1 is duplicated or out of order/],
    ['bitpix-twice', edit(bytes, { insert: ['BITPIX  =                   16'] }), 'BAD_HEADER', /BITPIX is duplicated or out of order/],
    ['naxis2-first', edit(bytes, { set: { NAXIS1: 'NAXIS2  =                    6', NAXIS2: 'NAXIS1  =                    8' } }), 'BAD_HEADER', /card 4 must be NAXIS1 .* found NAXIS2/],
    ['non-ascii-naxis1', edit(bytes, { set: { NAXIS1: 'NAXIS1  =                    8 / \u00e9' } }), 'BAD_HEADER', /card 4 \(NAXIS1\) has a byte outside printable ASCII \(0xe9/],
    ['gcount-primary', edit(bytes, { insert: ['GCOUNT  =                    2'] }), 'BAD_HEADER', /GCOUNT = 2 is not allowed in a primary array/],
    ['blank-string', edit(bytes, { insert: ["BLANK   = 'none'"] }), 'BAD_HEADER', /BLANK = 'none' is not an integer/],
    ['no-end', edit(bytes, { set: { END: '' } }), 'TRUNCATED', /no END card/],
    ['truncated', bytes.subarray(0, 2880 + 50), 'TRUNCATED', /truncated: HDU 0 needs 96 bytes/],
  ];
  for (const [name, b, code, re] of cases) {
    const p = join(dir, `${name}.fits`);
    writeFileSync(p, b);
    refused(p, code, re);
  }
});

test('what does not change the data is a warning (onWarning) and the file reads as before', (t) => {
  const dir = useTempDir(t);
  const { path, bytes } = baseFile(dir);
  const want = readFits(path).data[0]!;
  assert.equal(want[5], 1005);
  const read = (name: string, b: Buffer): FitsWarning[] => {
    const p = join(dir, `${name}.fits`);
    writeFileSync(p, b);
    const w: FitsWarning[] = [];
    assert.deepEqual(readFits(p, undefined, { onWarning: (x) => w.push(x) }).data[0], want, name);
    assert.ok(w.every((x) => x.file === p && !x.message.includes('\n')));
    return w;
  };
  assert.deepEqual(read('clean', bytes), []);
  const codes = (w: FitsWarning[]): string[] => w.map((x) => x.code);
  assert.deepEqual(codes(read('object-twice', edit(bytes, { insert: ["OBJECT  = 'M33'"] }))), ['DUPLICATE_KEYWORD']);
  assert.deepEqual(codes(read('bzero-twice-same', edit(bytes, { insert: ['BZERO   =                32768'] }))), ['DUPLICATE_KEYWORD']);
  const deg = read('degree-comment', edit(bytes, { insert: ['CCD-TEMP=                -10.0 / \u00b0C'] }));
  assert.deepEqual(codes(deg), ['NON_ASCII']);
  assert.match(deg[0]!.message, /CCD-TEMP/);
  assert.deepEqual(codes(read('unquoted', edit(bytes, { insert: ['OBSERVER=    Mabula Haverkamp'] }))), ['NONSTANDARD_CARDS']);
  assert.deepEqual(codes(read('free-format', edit(bytes, { set: { NAXIS1: 'NAXIS1  = 8' } }))), ['FREE_FORMAT']);
  assert.deepEqual(codes(read('naxis3', edit(bytes, { insert: ['NAXIS3  =                    1'] }))), ['IGNORED_KEYWORD']);
  assert.deepEqual(codes(read('pcount-0', edit(bytes, { insert: ['PCOUNT  =                    0'] }))), ['IGNORED_KEYWORD']);
  assert.deepEqual(codes(read('no-padding', bytes.subarray(0, 2880 + 96))), ['DATA_FILL']);
  assert.deepEqual(codes(read('extra-bytes', Buffer.concat([bytes, Buffer.from('junk')]))), ['EXTRA_BYTES']);
  // without a sink, warnings are dropped
  assert.deepEqual(readFits(join(dir, 'object-twice.fits')).data[0], want);
});

test('only regular files are opened: a directory, a FIFO, a socket, a device are refused in one line', async (t) => {
  const dir = useTempDir(t);
  const sock = join(dir, 'socket.fits');
  const server = createServer();
  await new Promise<void>((res) => server.listen(sock, res));
  t.after(() => server.close());
  const fifo = join(dir, 'x.fits');
  assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
  const folder = join(dir, 'folder.fits');
  mkdirSync(folder);
  // In a child process with a timeout: a reader that opened the FIFO would block forever.
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/run.ts'), 'info', fifo, folder, sock, '/dev/null'], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 30_000,
    killSignal: 'SIGKILL',
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  assert.equal(r.signal, null, 'info on a FIFO must not hang');
  assert.equal(r.status, 2, r.stderr);
  assert.deepEqual(r.stderr.trim().split('\n'), [
    `darkroom: ${fifo}: not a regular file (a FIFO)`,
    `darkroom: ${folder}: not a regular file (a directory)`,
    `darkroom: ${sock}: not a regular file (a socket)`,
    'darkroom: /dev/null: not a regular file (a device)',
  ]);
  // and in-process (stat first, never an open): returns at once
  assert.throws(() => new FitsFile(fifo), /not a regular file \(a FIFO\)/);
});
