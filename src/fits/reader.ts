/**
 * FITS reading: header scan of every HDU without touching the data, whole images, and row bands
 * (rows y0..y1 of one plane) read straight from the file for streaming integration.
 */
import { closeSync, constants, fstatSync, openSync, readSync, statSync, type Stats } from 'node:fs';
import { BLOCK, FitsHeader, parseHeaderText } from './header.js';
import { validateHeader, type FitsReadOptions, type FitsWarningCode } from './validate.js';
import { DarkroomError } from '../util/errors.js';
import type { Image } from '../image/image.js';

export type HduType = 'image' | 'table' | 'bintable' | 'compressed-image' | 'empty' | 'other';

export interface Hdu {
  index: number;
  type: HduType;
  header: FitsHeader;
  bitpix: number;
  naxes: number[];
  /** Byte offset of the data unit in the file. */
  dataOffset: number;
  /** Bytes of data (without the padding to 2880). */
  dataBytes: number;
  bzero: number;
  bscale: number;
  blank?: number;
  /** BLANK exactly, for BITPIX 64. */
  blank64?: bigint;
  extname?: string;
}

const VALID_BITPIX = new Set([8, 16, 32, 64, -32, -64]);

/** Options of a FitsFile: the warning sink, and the size of each pixel read. */
export interface FitsFileOptions extends FitsReadOptions {
  /**
   * Bytes of pixels per read system call (default 256 KiB, whole pixels, at least one): each chunk
   * stays in the CPU cache through the read, the byte swap and the conversion to float32.
   */
  chunkBytes?: number;
}

const DEFAULT_CHUNK_BYTES = 1 << 18;

/** What a path is when it is not a regular file, or undefined for a regular file. */
function notRegular(st: Stats): string | undefined {
  if (st.isFile()) return undefined;
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  return 'not a file';
}

function openError(e: unknown, path: string): DarkroomError {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT' || code === 'ENOTDIR') return new DarkroomError('ENOENT', 'no such file', path);
  if (code === 'EACCES' || code === 'EPERM') return new DarkroomError('IO', 'permission denied', path);
  return new DarkroomError('IO', `cannot open: ${(e as Error).message}`, path);
}

/**
 * Open a regular file for reading. Stat first and never open anything else: opening a FIFO
 * blocks until a writer comes. O_NONBLOCK (where the platform has it) keeps the open itself from
 * blocking if the path is swapped between the stat and the open; fstat then checks what was opened.
 */
function openRegular(path: string): { fd: number; size: number } {
  let st: Stats;
  try {
    st = statSync(path);
  } catch (e) {
    throw openError(e, path);
  }
  const what = notRegular(st);
  if (what) throw new DarkroomError('NOT_FITS', `not a regular file (${what})`, path);
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (e) {
    throw openError(e, path);
  }
  try {
    const st2 = fstatSync(fd);
    const what2 = notRegular(st2);
    if (what2) throw new DarkroomError('NOT_FITS', `not a regular file (${what2})`, path);
    return { fd, size: st2.size };
  } catch (e) {
    closeSync(fd);
    throw e;
  }
}

function readExactly(fd: number, buf: Buffer, pos: number): number {
  let got = 0;
  while (got < buf.length) {
    const n = readSync(fd, buf, got, buf.length - got, pos + got);
    if (n === 0) break;
    got += n;
  }
  return got;
}

/** An open FITS file: HDU list from the headers; pixel reads on demand. */
export class FitsFile {
  readonly path: string;
  readonly size: number;
  readonly hdus: Hdu[] = [];
  /** Bytes read from the file so far (headers and data): lets tests prove that a band read reads only the band. */
  bytesRead = 0;
  private fd: number;
  private readonly onWarning: FitsReadOptions['onWarning'];
  private readonly chunkBytes: number;

  /**
   * Opens and checks every header (see validate.ts): a header that does not define its data is a
   * DarkroomError; problems that leave the data well defined go to `opts.onWarning`.
   */
  constructor(path: string, opts: FitsFileOptions = {}) {
    this.path = path;
    this.onWarning = opts.onWarning;
    this.chunkBytes = Math.max(1, Math.floor(opts.chunkBytes ?? DEFAULT_CHUNK_BYTES));
    const { fd, size } = openRegular(path);
    this.fd = fd;
    this.size = size;
    try {
      this.scan();
    } catch (e) {
      this.close();
      throw e;
    }
  }

  private warn(code: FitsWarningCode, message: string): void {
    this.onWarning?.({ code, message, file: this.path });
  }

  /** Bytes after the last HDU: tolerated (some writers leave them), with a warning. */
  private trailing(pos: number): void {
    this.warn('EXTRA_BYTES', `${this.size - pos} byte(s) after the last HDU (from byte ${pos}) ignored`);
  }

  private read(buf: Buffer, pos: number): number {
    if (this.fd < 0) throw new Error(`FitsFile ${this.path} is closed`);
    let got: number;
    try {
      got = readExactly(this.fd, buf, pos);
    } catch (e) {
      throw new DarkroomError('IO', `cannot read: ${(e as Error).message}`, this.path);
    }
    this.bytesRead += got;
    return got;
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }

  private scan(): void {
    let pos = 0;
    const block = Buffer.alloc(BLOCK);
    while (pos < this.size) {
      const start = pos;
      let text = '';
      let ended = false;
      while (!ended) {
        const got = this.read(block, pos);
        if (got < BLOCK) {
          if (this.hdus.length === 0 && text.length === 0 && !block.subarray(0, got).toString('latin1').startsWith('SIMPLE  =')) {
            throw new DarkroomError('NOT_FITS', 'not a FITS file (no SIMPLE card at the start)', this.path);
          }
          if (this.hdus.length > 0 && text.length === 0) {
            this.trailing(pos); // a partial block after the last HDU: padding or junk, not a header
            return;
          }
          throw new DarkroomError('TRUNCATED', `truncated header in HDU ${this.hdus.length}: no END card before the end of the file (byte ${this.size})`, this.path);
        }
        const t = block.toString('latin1');
        if (this.hdus.length === 0 && text.length === 0 && !t.startsWith('SIMPLE  =')) {
          throw new DarkroomError('NOT_FITS', 'not a FITS file (no SIMPLE card at the start)', this.path);
        }
        if (this.hdus.length > 0 && text.length === 0 && !t.startsWith('XTENSION=')) {
          // Bytes after the last HDU that are not an extension: ignore them (common with some writers).
          this.trailing(pos);
          return;
        }
        text += t;
        pos += BLOCK;
        for (let off = 0; off < BLOCK; off += 80) {
          if (t.startsWith('END', off) && t.slice(off + 3, off + 80).trim() === '') {
            ended = true;
            break;
          }
        }
        if (text.length > BLOCK * 2000) throw new DarkroomError('BAD_HEADER', 'header has no END card', this.path);
      }
      validateHeader(text, this.hdus.length, this.path, (code, message) => this.warn(code, message));
      const header = parseHeaderText(text, this.path);
      const hdu = this.describe(header, this.hdus.length, pos);
      this.hdus.push(hdu);
      const padded = Math.ceil(hdu.dataBytes / BLOCK) * BLOCK;
      pos += padded;
      if (pos - padded + hdu.dataBytes > this.size) {
        // Data runs past the end of the file. Keep the HDU so the error is raised when it is read,
        // naming what is missing; header-only use (classification) still works.
        break;
      }
      if (pos > this.size) {
        this.warn('DATA_FILL', `HDU ${hdu.index}: the data unit is not padded to a whole 2880-byte block (file ends at byte ${this.size})`);
        break;
      }
      if (start === pos) break;
    }
    if (this.hdus.length === 0) throw new DarkroomError('NOT_FITS', 'not a FITS file (empty)', this.path);
  }

  private describe(h: FitsHeader, index: number, dataOffset: number): Hdu {
    const bitpix = h.getNumber('BITPIX');
    if (bitpix === undefined || !VALID_BITPIX.has(bitpix)) {
      throw new DarkroomError('BAD_HEADER', `HDU ${index}: invalid or missing BITPIX (${h.get('BITPIX')})`, this.path);
    }
    const naxis = h.getNumber('NAXIS');
    if (naxis === undefined || naxis < 0 || naxis > 999 || !Number.isInteger(naxis)) {
      throw new DarkroomError('BAD_HEADER', `HDU ${index}: invalid or missing NAXIS`, this.path);
    }
    const naxes: number[] = [];
    for (let i = 1; i <= naxis; i++) {
      const n = h.getNumber(`NAXIS${i}`);
      if (n === undefined || n < 0 || !Number.isInteger(n)) {
        throw new DarkroomError('BAD_HEADER', `HDU ${index}: invalid or missing NAXIS${i}`, this.path);
      }
      naxes.push(n);
    }
    const random = index === 0 && naxis > 0 && naxes[0] === 0 && h.getBool('GROUPS') === true;
    // PCOUNT/GCOUNT size the data of extensions and random groups only (validate.ts checks them).
    const counted = index > 0 || random;
    const pcount = counted ? (h.getNumber('PCOUNT') ?? 0) : 0;
    const gcount = counted ? (h.getNumber('GCOUNT') ?? 1) : 1;
    const prod = naxis === 0 ? 0 : (random ? naxes.slice(1) : naxes).reduce((a, b) => a * b, 1);
    const dataBytes = naxis === 0 ? 0 : (Math.abs(bitpix) / 8) * gcount * (pcount + prod);
    const xt = index === 0 ? 'PRIMARY' : (h.getString('XTENSION') ?? '').trim().toUpperCase();
    let type: HduType;
    if (xt === 'BINTABLE' && h.getBool('ZIMAGE') === true) type = 'compressed-image';
    else if (xt === 'BINTABLE') type = 'bintable';
    else if (xt === 'TABLE') type = 'table';
    else if (xt === 'PRIMARY' || xt === 'IMAGE' || xt === 'IUEIMAGE') type = random ? 'other' : prod === 0 ? 'empty' : 'image';
    else type = 'other';
    const blank = h.getNumber('BLANK');
    const blankRaw = h.get('BLANK');
    const blank64 = bitpix !== 64 ? undefined : typeof blankRaw === 'bigint' ? blankRaw : typeof blankRaw === 'number' && Number.isInteger(blankRaw) ? BigInt(blankRaw) : undefined;
    return {
      index,
      type,
      header: h,
      bitpix,
      naxes,
      dataOffset,
      dataBytes,
      bzero: h.getNumber('BZERO') ?? 0,
      bscale: h.getNumber('BSCALE') ?? 1,
      blank: bitpix > 0 && blank !== undefined ? blank : undefined,
      blank64,
      extname: h.getString('EXTNAME')?.trim(),
    };
  }

  /**
   * The HDU holding the image: `index` if given, else the first image HDU with 2 or 3 axes
   * (primary first, then IMAGE extensions), as astrophotography files put it.
   */
  imageHdu(index?: number): Hdu {
    if (index !== undefined) {
      const h = this.hdus[index];
      if (!h) throw new DarkroomError('NO_IMAGE', `no HDU ${index} (file has ${this.hdus.length})`, this.path);
      this.checkImage(h);
      return h;
    }
    const img = this.hdus.find((h) => h.type === 'image' && h.naxes.length >= 2) ?? this.hdus.find((h) => h.type === 'image');
    if (img) {
      this.checkImage(img);
      return img;
    }
    const comp = this.hdus.find((h) => h.type === 'compressed-image');
    if (comp) {
      throw new DarkroomError('UNSUPPORTED', `HDU ${comp.index} is a tile-compressed image (fpack); decompress it with funpack first`, this.path);
    }
    throw new DarkroomError('NO_IMAGE', 'no image data in any HDU (only tables or empty HDUs)', this.path);
  }

  private checkImage(h: Hdu): void {
    if (h.type === 'compressed-image') {
      throw new DarkroomError('UNSUPPORTED', `HDU ${h.index} is a tile-compressed image (fpack); decompress it with funpack first`, this.path);
    }
    if (h.type !== 'image') throw new DarkroomError('UNSUPPORTED', `HDU ${h.index} is not an image (${h.type})`, this.path);
    const n = h.naxes.length;
    const extra = h.naxes.slice(3).some((v) => v !== 1);
    if (n < 2 || extra || (n >= 3 && h.naxes[2]! > 4)) {
      throw new DarkroomError('UNSUPPORTED', `HDU ${h.index}: image with axes [${h.naxes.join(', ')}] is not a 2-D image or a cube of up to 4 planes`, this.path);
    }
    if (h.dataOffset + h.dataBytes > this.size) {
      throw new DarkroomError(
        'TRUNCATED',
        `truncated: HDU ${h.index} needs ${h.dataBytes} bytes of data from byte ${h.dataOffset}, file has ${this.size} bytes`,
        this.path,
      );
    }
  }

  /** Width, height, planes of an image HDU. */
  geometry(hdu?: Hdu): { width: number; height: number; channels: number } {
    const h = hdu ?? this.imageHdu();
    return { width: h.naxes[0]!, height: h.naxes[1]!, channels: h.naxes.length >= 3 ? h.naxes[2]! : 1 };
  }

  /**
   * Rows y0 (inclusive) to y1 (exclusive) of one plane, as float32 ADU (BZERO/BSCALE applied,
   * BLANK -> NaN). Reads only those bytes. `out` may be given to avoid allocation (and the page
   * faults of a fresh array): the band goes to its first (y1 - y0) * width elements.
   */
  readRows(plane: number, y0: number, y1: number, hdu?: Hdu, out?: Float32Array): Float32Array {
    const h = hdu ?? this.imageHdu();
    const { width, height, channels } = this.geometry(h);
    if (plane < 0 || plane >= channels || y0 < 0 || y1 > height || y1 < y0) {
      throw new RangeError(`readRows(${plane}, ${y0}, ${y1}) outside ${width}x${height}x${channels}`);
    }
    const n = (y1 - y0) * width;
    const res = out ?? new Float32Array(n);
    if (res.length < n) throw new RangeError('output buffer too small');
    this.readPixels(h, plane * height * width + y0 * width, res.subarray(0, n), (i) => y0 + Math.floor(i / width));
    return res;
  }

  /**
   * Pixels first.. of an HDU's data into `dst`, in chunks of `chunkBytes`: BITPIX -32 straight into
   * dst's own bytes (swapped in place), the others into the reused scratch buffer, then decoded.
   * `rowOf(i)` names the row of dst's pixel i in a truncation error.
   */
  private readPixels(h: Hdu, first: number, dst: Float32Array, rowOf: (i: number) => number): void {
    const bpp = Math.abs(h.bitpix) / 8;
    const n = dst.length;
    const chunk = Math.max(1, Math.min(n, Math.floor(this.chunkBytes / bpp)));
    const direct = h.bitpix === -32;
    const buf = direct ? undefined : scratch(chunk * bpp);
    const decode = DECODERS[h.bitpix]!;
    const pos = h.dataOffset + first * bpp;
    for (let done = 0; done < n; ) {
      const m = Math.min(chunk, n - done);
      const d = dst.subarray(done, done + m);
      const b = buf ? buf.subarray(0, m * bpp) : Buffer.from(d.buffer, d.byteOffset, m * 4);
      const got = this.read(b, pos + done * bpp);
      if (got < b.length) {
        throw new DarkroomError('TRUNCATED', `truncated: HDU ${h.index} data ends at byte ${this.size}, before the end of row ${rowOf(done + got / bpp)}`, this.path);
      }
      decode(b, h, d);
      done += m;
    }
  }

  /**
   * The whole image (all planes) of an HDU. With `into` (one buffer for all planes one after the
   * other, or one buffer per plane), the pixels are decoded into the caller's memory and the
   * image's planes are views of it: reusing frame buffers saves the page faults of fresh arrays.
   */
  readImage(hduIndex?: number, into?: Float32Array | Float32Array[]): Image {
    const h = this.imageHdu(hduIndex);
    const { width, height, channels } = this.geometry(h);
    const planes = outputPlanes(into, width * height, channels, this.path);
    const data = planes.map((p, c) => this.readRows(c, 0, height, h, p));
    const header = h.header.clone();
    const bayer = header.getString('BAYERPAT')?.trim().toUpperCase();
    return { width, height, channels, data, header, cfa: channels === 1 && bayer ? bayer : undefined };
  }
}

let scratchBuf: Buffer | undefined;
/**
 * A reused Buffer at offset 0 of its own ArrayBuffer (typed-array views of any element size are
 * aligned), grown on demand. Reads are synchronous, so one per thread is enough.
 */
function scratch(bytes: number): Buffer {
  if (!scratchBuf || scratchBuf.length < bytes) scratchBuf = Buffer.from(new ArrayBuffer(Math.max(8, bytes)));
  return scratchBuf.subarray(0, bytes);
}

// Sign bits of the little-endian integers in a 64-bit word: 8 bytes, 4 shorts, 2 ints.
const SIGN8 = 0x8080808080808080n;
const SIGN16 = 0x8000800080008000n;
const SIGN32 = 0x8000000080000000n;

/** XOR `mask` into every word (optimized code does it on 64-bit integers, without BigInt objects). */
function xorWords(w: BigUint64Array, mask: bigint): void {
  const len = w.length;
  for (let i = 0; i < len; i++) w[i] = w[i]! ^ mask;
}

/**
 * Flip the sign bit of every native (little-endian) 8, 16 or 32-bit integer in `b` (at offset 0 mod
 * 8 of its buffer): signed + 2^(bits-1) == the same bits read unsigned, and unsigned - 2^(bits-1)
 * == the same bits read signed. Whole 64-bit words at a time, then the tail bytes.
 */
function flipSigns(b: Buffer, mask: bigint): void {
  const words = b.length >> 3;
  xorWords(new BigUint64Array(b.buffer, b.byteOffset, words), mask);
  for (let k = words * 8; k < b.length; k++) b[k] = b[k]! ^ Number((mask >> BigInt(8 * (k & 7))) & 0xffn);
}

/** dst = dst * bscale + bzero, in float64 then rounded once (dst holds the exact raw integers or floats). */
function scaleInPlace(dst: Float32Array, bscale: number, bzero: number): void {
  if (bscale === 1 && bzero === 0) return;
  const n = dst.length;
  for (let i = 0; i < n; i++) dst[i] = dst[i]! * bscale + bzero;
}

/** NaN where the raw integer is BLANK. */
function markBlanks(raw: Uint8Array | Int16Array | Int32Array, blank: number, dst: Float32Array): void {
  const n = dst.length;
  for (let i = 0; i < n; i++) if (raw[i] === blank) dst[i] = NaN;
}

/** NaN where the physical value is `v` (for exact, one-to-one conversions only: 8 and 16-bit shifted by BZERO). */
function markValue(dst: Float32Array, v: number): void {
  const n = dst.length;
  for (let i = 0; i < n; i++) if (dst[i] === v) dst[i] = NaN;
}

/** Raw integers (not exact in float32) -> raw * bscale + bzero, BLANK -> NaN. */
function scaleInts(a: Int32Array, h: Hdu, dst: Float32Array): void {
  const { bscale, bzero, blank } = h;
  const n = dst.length;
  if (blank === undefined) for (let i = 0; i < n; i++) dst[i] = a[i]! * bscale + bzero;
  else for (let i = 0; i < n; i++) {
    const v = a[i]!;
    dst[i] = v === blank ? NaN : v * bscale + bzero;
  }
}

/*
 * Decoders: big-endian FITS bytes `b` (at offset 0 mod 8 of its ArrayBuffer; consumed: swapped
 * and flipped in place) -> float32 physical values in `dst` (BZERO/BSCALE applied, BLANK -> NaN).
 * The conversions are typed-array copies (`set`, native code) wherever the result is exact or
 * rounded once, as raw * BSCALE + BZERO in float64 then rounded to float32 would be.
 */

type IntView = Int8Array | Uint8Array | Int16Array | Uint16Array;

/** A BITPIX 8 or 16 layout: the BZERO that makes it the other signedness, and the views for each. */
interface IntLayout {
  zero: number;
  sign: bigint;
  shifted: (buf: ArrayBufferLike, off: number, n: number) => IntView;
  plain: (buf: ArrayBufferLike, off: number, n: number) => Uint8Array | Int16Array;
}

const INT8: IntLayout = {
  zero: -128, // signed bytes
  sign: SIGN8,
  shifted: (buf, off, n) => new Int8Array(buf, off, n),
  plain: (buf, off, n) => new Uint8Array(buf, off, n),
};
const INT16: IntLayout = {
  zero: 32768, // unsigned 16-bit: the common camera format
  sign: SIGN16,
  shifted: (buf, off, n) => new Uint16Array(buf, off, n),
  plain: (buf, off, n) => new Int16Array(buf, off, n),
};

/** Decode big-endian-swapped integers: a sign flip for the BZERO of the other signedness, else scaled. */
function decodeInt(b: Buffer, h: Hdu, dst: Float32Array, L: IntLayout): void {
  const n = dst.length;
  if (h.bzero === L.zero && h.bscale === 1) {
    flipSigns(b, L.sign);
    dst.set(L.shifted(b.buffer, b.byteOffset, n));
    if (h.blank !== undefined) markValue(dst, h.blank + L.zero);
    return;
  }
  const a = L.plain(b.buffer, b.byteOffset, n);
  dst.set(a);
  scaleInPlace(dst, h.bscale, h.bzero);
  if (h.blank !== undefined) markBlanks(a, h.blank, dst);
}

function decode8(b: Buffer, h: Hdu, dst: Float32Array): void {
  decodeInt(b, h, dst, INT8);
}

function decode16(b: Buffer, h: Hdu, dst: Float32Array): void {
  b.swap16();
  decodeInt(b, h, dst, INT16);
}

function decode32(b: Buffer, h: Hdu, dst: Float32Array): void {
  const n = dst.length;
  b.swap32();
  if (h.bzero === 2147483648 && h.bscale === 1 && h.blank === undefined) {
    flipSigns(b, SIGN32); // unsigned 32-bit
    dst.set(new Uint32Array(b.buffer, b.byteOffset, n));
    return;
  }
  const a = new Int32Array(b.buffer, b.byteOffset, n);
  if (h.bzero !== 0 || h.bscale !== 1) return scaleInts(a, h, dst);
  dst.set(a);
  if (h.blank !== undefined) markBlanks(a, h.blank, dst);
}

/** Big-endian int64 as two 32-bit halves (no BigInt per pixel): v = hi * 2^32 + lo. */
function decode64(b: Buffer, h: Hdu, dst: Float32Array): void {
  const n = dst.length;
  const { bzero, bscale } = h;
  b.swap32();
  const a = new Int32Array(b.buffer, b.byteOffset, 2 * n);
  const u = new Uint32Array(b.buffer, b.byteOffset, 2 * n);
  const bl = h.blank64 === undefined ? undefined : BigInt.asIntN(64, h.blank64);
  const blHi = bl === undefined ? 0 : Number(bl >> 32n);
  const blLo = bl === undefined ? 0 : Number(BigInt.asUintN(32, bl));
  // 2^63 (uint64 convention): hi ^ 0x80000000 as unsigned, exact in float64 up to rounding.
  const unsigned = bzero === 9223372036854775808 && bscale === 1;
  for (let i = 0; i < n; i++) {
    const hi = a[2 * i]!;
    const lo = u[2 * i + 1]!;
    if (bl !== undefined && hi === blHi && lo === blLo) dst[i] = NaN;
    else if (unsigned) dst[i] = ((hi ^ 0x80000000) >>> 0) * 4294967296 + lo;
    else dst[i] = (hi * 4294967296 + lo) * bscale + bzero;
  }
}

/** BITPIX -32 read straight into `dst` (b is a view of dst's bytes): swap in place, no copy. */
function decodeF32InPlace(b: Buffer, h: Hdu, dst: Float32Array): void {
  b.swap32();
  scaleInPlace(dst, h.bscale, h.bzero);
}

function decodeF64(b: Buffer, h: Hdu, dst: Float32Array): void {
  const n = dst.length;
  const { bzero, bscale } = h;
  b.swap64();
  const a = new Float64Array(b.buffer, b.byteOffset, n);
  if (bzero === 0 && bscale === 1) dst.set(a);
  else for (let i = 0; i < n; i++) dst[i] = a[i]! * bscale + bzero;
}

const DECODERS: Record<number, (b: Buffer, h: Hdu, dst: Float32Array) => void> = {
  8: decode8,
  16: decode16,
  32: decode32,
  64: decode64,
  [-32]: decodeF32InPlace,
  [-64]: decodeF64,
};

/**
 * The output planes of readImage: one subarray of `into` per plane (one buffer holding the planes
 * one after the other, or one buffer per plane), or fresh arrays when `into` is not given.
 */
function outputPlanes(into: Float32Array | Float32Array[] | undefined, n: number, channels: number, path: string): (Float32Array | undefined)[] {
  if (into === undefined) return new Array<undefined>(channels).fill(undefined);
  if (!Array.isArray(into)) {
    if (into.length < n * channels) throw new RangeError(`${path}: ${channels} plane(s) of ${n} pixels do not fit a buffer of ${into.length}`);
    return Array.from({ length: channels }, (_, c) => into.subarray(c * n, (c + 1) * n));
  }
  if (into.length !== channels) throw new RangeError(`${path}: ${channels} plane(s) need ${channels} buffer(s), got ${into.length}`);
  return into.map((b, c) => {
    if (b.length < n) throw new RangeError(`${path}: plane ${c} of ${n} pixels does not fit a buffer of ${b.length}`);
    return b.subarray(0, n);
  });
}

/** Read the image of a FITS file (first image HDU unless `hdu` is given). */
export function readFits(path: string, hdu?: number, opts: FitsReadOptions = {}): Image {
  const f = new FitsFile(path, opts);
  try {
    return f.readImage(hdu);
  } finally {
    f.close();
  }
}

/**
 * The buffer this thread reads its frames into (readFitsReusing), reused from frame to frame while the garbage collector
 * keeps it (a weak reference: no page faults of a fresh frame for each one, and no frame held once the thread does
 * other work).
 */
let frameRef: WeakRef<Float32Array> | undefined;

function frameBuffer(pixels: number): Float32Array {
  const b = frameRef?.deref();
  if (b !== undefined && b.length >= pixels) return b.subarray(0, pixels);
  const f = new Float32Array(pixels);
  frameRef = new WeakRef(f);
  return f;
}

/**
 * Read the image of a FITS file (its first image HDU) into this thread's frame buffer, its planes one after the other:
 * valid until the thread's next readFitsReusing (for code that is done with a frame before it reads the next).
 */
export function readFitsReusing(path: string): Image {
  const f = new FitsFile(path);
  try {
    const { width, height, channels } = f.geometry();
    return f.readImage(undefined, frameBuffer(width * height * channels));
  } finally {
    f.close();
  }
}

/**
 * Read the image of a FITS file into caller buffers (see FitsFile.readImage): `into` is one
 * Float32Array of at least width*height*channels pixels (planes one after the other) or one of at
 * least width*height per plane. The returned image's planes are views of `into`. A buffer too
 * small is a RangeError (check the size with readFitsHeader first).
 */
export function readFitsInto(path: string, into: Float32Array | Float32Array[], hdu?: number, opts: FitsReadOptions = {}): Image {
  const f = new FitsFile(path, opts);
  try {
    return f.readImage(hdu, into);
  } finally {
    f.close();
  }
}

/** Header of the image HDU only (fast: reads header blocks, never pixels). */
export function readFitsHeader(
  path: string,
  opts: FitsReadOptions = {},
): { header: FitsHeader; width: number; height: number; channels: number; bitpix: number } {
  const f = new FitsFile(path, opts);
  try {
    const h = f.imageHdu();
    return { header: h.header, ...f.geometry(h), bitpix: h.bitpix };
  } finally {
    f.close();
  }
}
