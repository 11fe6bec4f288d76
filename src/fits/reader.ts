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

  /**
   * Opens and checks every header (see validate.ts): a header that does not define its data is a
   * DarkroomError; problems that leave the data well defined go to `opts.onWarning`.
   */
  constructor(path: string, opts: FitsReadOptions = {}) {
    this.path = path;
    this.onWarning = opts.onWarning;
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
   * BLANK -> NaN). Reads only those bytes. `out` may be given to avoid allocation.
   */
  readRows(plane: number, y0: number, y1: number, hdu?: Hdu, out?: Float32Array): Float32Array {
    const h = hdu ?? this.imageHdu();
    const { width, height, channels } = this.geometry(h);
    if (plane < 0 || plane >= channels || y0 < 0 || y1 > height || y1 < y0) {
      throw new RangeError(`readRows(${plane}, ${y0}, ${y1}) outside ${width}x${height}x${channels}`);
    }
    const bpp = Math.abs(h.bitpix) / 8;
    const n = (y1 - y0) * width;
    const res = out ?? new Float32Array(n);
    if (res.length < n) throw new RangeError('output buffer too small');
    const pos = h.dataOffset + (plane * height * width + y0 * width) * bpp;
    // Read in chunks of whole rows, ~1 MB (they stay in cache through read, swap and convert),
    // into a reused scratch buffer.
    const chunkPix = Math.min(n, Math.max(width, Math.floor((1 << 20) / bpp / width) * width));
    const buf = scratch(chunkPix * bpp);
    for (let done = 0; done < n; ) {
      const m = Math.min(chunkPix, n - done);
      const b = buf.subarray(0, m * bpp);
      const got = this.read(b, pos + done * bpp);
      if (got < b.length) {
        throw new DarkroomError('TRUNCATED', `truncated: HDU ${h.index} data ends at byte ${this.size}, before the end of row ${y0 + Math.floor((done + got / bpp) / width)}`, this.path);
      }
      decode(b, h, res, done, m);
      done += m;
    }
    return res;
  }

  /** The whole image (all planes) of an HDU. */
  readImage(hduIndex?: number): Image {
    const h = this.imageHdu(hduIndex);
    const { width, height, channels } = this.geometry(h);
    const data: Float32Array[] = [];
    for (let c = 0; c < channels; c++) data.push(this.readRows(c, 0, height, h));
    const header = h.header.clone();
    const bayer = header.getString('BAYERPAT')?.trim().toUpperCase();
    return { width, height, channels, data, header, cfa: channels === 1 && bayer ? bayer : undefined };
  }
}

let scratchBuf: Buffer | undefined;
/**
 * A reused Buffer at offset 0 of its own ArrayBuffer (typed-array views of any element size are
 * aligned). Reads are synchronous, so one per thread is enough.
 */
function scratch(bytes: number): Buffer {
  if (!scratchBuf || scratchBuf.length < bytes) scratchBuf = Buffer.from(new ArrayBuffer(Math.max(8, bytes)));
  return scratchBuf.subarray(0, bytes);
}

/** XOR the sign bit of two 16-bit integers per 32-bit word (int16 + 32768 == uint16). Kept small so it optimizes. */
function flipSign16(w: Int32Array): void {
  const m = -2147450880; // 0x80008000 as int32
  const len = w.length;
  let i = 0;
  for (; i + 4 <= len; i += 4) {
    w[i] = w[i]! ^ m;
    w[i + 1] = w[i + 1]! ^ m;
    w[i + 2] = w[i + 2]! ^ m;
    w[i + 3] = w[i + 3]! ^ m;
  }
  for (; i < len; i++) w[i] = w[i]! ^ m;
}

/**
 * Big-endian FITS bytes -> float32 physical values (BZERO/BSCALE applied, BLANK -> NaN).
 * `b` starts at offset 0 of its ArrayBuffer and is consumed (byte-swapped in place).
 */
function decode(b: Buffer, h: Hdu, out: Float32Array, off: number, n: number): void {
  const { bitpix, bzero, bscale } = h;
  const blank = h.blank;
  const plain = bzero === 0 && bscale === 1;
  const dst = out.subarray(off, off + n);
  switch (bitpix) {
    case 8: {
      const a = new Uint8Array(b.buffer, b.byteOffset, n);
      if (plain && blank === undefined) dst.set(a);
      else if (bscale === 1 && blank === undefined) for (let i = 0; i < n; i++) dst[i] = a[i]! + bzero;
      else for (let i = 0; i < n; i++) {
        const v = a[i]!;
        dst[i] = v === blank ? NaN : v * bscale + bzero;
      }
      return;
    }
    case 16: {
      b.swap16();
      if (bzero === 32768 && bscale === 1 && blank === undefined) {
        // Unsigned 16-bit: flipping the sign bit of the two's complement value adds 32768 exactly;
        // then one native int -> float conversion.
        flipSign16(new Int32Array(b.buffer, b.byteOffset, n >> 1));
        const u = new Uint16Array(b.buffer, b.byteOffset, n);
        if (n & 1) u[n - 1] = u[n - 1]! ^ 0x8000;
        dst.set(u);
        return;
      }
      const a = new Int16Array(b.buffer, b.byteOffset, n);
      if (plain && blank === undefined) dst.set(a);
      else if (bscale === 1 && blank === undefined) for (let i = 0; i < n; i++) dst[i] = a[i]! + bzero;
      else for (let i = 0; i < n; i++) {
        const v = a[i]!;
        dst[i] = v === blank ? NaN : v * bscale + bzero;
      }
      return;
    }
    case 32: {
      b.swap32();
      const a = new Int32Array(b.buffer, b.byteOffset, n);
      if (plain && blank === undefined) dst.set(a);
      else for (let i = 0; i < n; i++) {
        const v = a[i]!;
        dst[i] = v === blank ? NaN : v * bscale + bzero;
      }
      return;
    }
    case 64: {
      // Big-endian int64 as two 32-bit halves (no BigInt per pixel): v = hi * 2^32 + lo.
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
      return;
    }
    case -32: {
      b.swap32();
      const a = new Float32Array(b.buffer, b.byteOffset, n);
      if (plain) dst.set(a);
      else for (let i = 0; i < n; i++) dst[i] = a[i]! * bscale + bzero;
      return;
    }
    case -64: {
      b.swap64();
      const a = new Float64Array(b.buffer, b.byteOffset, n);
      if (plain) dst.set(a);
      else for (let i = 0; i < n; i++) dst[i] = a[i]! * bscale + bzero;
      return;
    }
  }
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
