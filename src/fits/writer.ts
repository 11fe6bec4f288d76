/**
 * FITS writing: a primary HDU holding a 2-D image or a 3-plane cube, as float32 (BITPIX -32),
 * unsigned 16-bit (BITPIX 16 + BZERO 32768) or another integer type; the header's user cards
 * are kept; HISTORY provenance is appended; the file is written to a temp name and renamed.
 */
import { BLOCK, type Card, FitsHeader, headerBytes } from './header.js';
import { writeFileAtomic } from '../util/atomic.js';
import type { Image } from '../image/image.js';
import { VERSION } from '../version.js';
import { DarkroomError } from '../util/errors.js';

export type WriteBitpix = -32 | -64 | 8 | 16 | 32;

export interface WriteOptions {
  /** -32 (float32, default), 16 (unsigned 16-bit via BZERO 32768), 8, 32 (signed), -64. */
  bitpix?: WriteBitpix;
  /** HISTORY lines to append (provenance: inputs, parameters). */
  history?: string[];
  /** Extra keywords to set. */
  keywords?: Record<string, string | number | boolean>;
  /** Set DATE (UTC, file creation) and add a HISTORY line with the Darkroom version (default true). */
  stamp?: boolean;
}

function structuralCards(img: Image, bitpix: WriteBitpix): Card[] {
  const cards: Card[] = [
    { key: 'SIMPLE', value: true, comment: 'conforms to the FITS standard' },
    { key: 'BITPIX', value: bitpix, isInt: true, comment: bitpix < 0 ? 'IEEE floating point' : 'integer pixels' },
    { key: 'NAXIS', value: img.channels > 1 ? 3 : 2, isInt: true, comment: 'number of axes' },
    { key: 'NAXIS1', value: img.width, isInt: true, comment: 'width (columns)' },
    { key: 'NAXIS2', value: img.height, isInt: true, comment: 'height (rows)' },
  ];
  if (img.channels > 1) cards.push({ key: 'NAXIS3', value: img.channels, isInt: true, comment: 'planes (colour channels)' });
  cards.push({ key: 'EXTEND', value: true, comment: 'extensions may follow' });
  if (bitpix === 16) {
    cards.push({ key: 'BZERO', value: 32768, isInt: true, comment: 'unsigned 16-bit data: physical = raw + 32768' });
    cards.push({ key: 'BSCALE', value: 1, isInt: true, comment: 'no scaling' });
  }
  return cards;
}

/** Encode pixel data as big-endian bytes of the given BITPIX, padded to whole blocks. */
export function encodePixels(img: Image, bitpix: WriteBitpix): Buffer {
  const n = img.width * img.height;
  const bpp = Math.abs(bitpix) / 8;
  const bytes = n * img.channels * bpp;
  const out = Buffer.alloc(Math.ceil(bytes / BLOCK) * BLOCK);
  for (let c = 0; c < img.channels; c++) {
    const src = img.data[c]!;
    const base = c * n * bpp;
    switch (bitpix) {
      case -32: {
        const a = new Float32Array(out.buffer, out.byteOffset + base, n);
        a.set(src);
        break;
      }
      case -64: {
        const a = new Float64Array(out.buffer, out.byteOffset + base, n);
        for (let i = 0; i < n; i++) a[i] = src[i]!;
        break;
      }
      case 16: {
        const a = new Int16Array(out.buffer, out.byteOffset + base, n);
        for (let i = 0; i < n; i++) {
          const v = src[i]!;
          // NaN -> 0; clamp to the unsigned 16-bit range; round to nearest.
          const r = v !== v ? 0 : v <= 0 ? 0 : v >= 65535 ? 65535 : Math.round(v);
          a[i] = r - 32768;
        }
        break;
      }
      case 32: {
        const a = new Int32Array(out.buffer, out.byteOffset + base, n);
        for (let i = 0; i < n; i++) {
          const v = src[i]!;
          a[i] = v !== v ? 0 : v <= -2147483648 ? -2147483648 : v >= 2147483647 ? 2147483647 : Math.round(v);
        }
        break;
      }
      case 8: {
        for (let i = 0; i < n; i++) {
          const v = src[i]!;
          out[base + i] = v !== v ? 0 : v <= 0 ? 0 : v >= 255 ? 255 : Math.round(v);
        }
        break;
      }
    }
  }
  // In-place to big-endian (the buffer starts at a 2880 multiple, so views above were aligned).
  const body = out.subarray(0, bytes);
  if (bpp === 2) body.swap16();
  else if (bpp === 4) body.swap32();
  else if (bpp === 8) body.swap64();
  return out;
}

/** Reserved keywords whose value must be a character string (FITS Standard 4.0, appendix C). */
const STRING_KEYS = new Set([
  'DATE', 'DATE-OBS', 'DATE-BEG', 'DATE-END', 'ORIGIN', 'TELESCOP', 'INSTRUME', 'OBSERVER', 'OBJECT',
  'AUTHOR', 'REFERENC', 'BUNIT', 'EXTNAME', 'RADESYS', 'TIMESYS', 'TIMEUNIT', 'SPECSYS',
]);

/** Build the full header card list for writing `img`. */
export function headerFor(img: Image, opts: WriteOptions = {}): Card[] {
  const bitpix = opts.bitpix ?? -32;
  const h: FitsHeader = img.header.clone();
  // Drop structural cards from the source header; keep everything else in order.
  h.cards = h.userCards();
  if (opts.keywords) for (const [k, v] of Object.entries(opts.keywords)) h.set(k, v);
  if (img.cfa && img.channels === 1 && !h.has('BAYERPAT')) h.set('BAYERPAT', img.cfa, 'CFA pattern, first row first');
  // Keywords the standard defines as strings may not be written without a value (fitsverify
  // error); some camera software writes them empty: write an empty string instead.
  for (const c of h.cards) {
    if (c.value === null && STRING_KEYS.has(c.key)) {
      c.value = '';
      c.raw = undefined;
    }
  }
  if (opts.stamp !== false) {
    h.set('DATE', new Date().toISOString().slice(0, 19), 'UTC date this file was written');
    h.addHistory(`Written by Darkroom ${VERSION}`);
  }
  for (const line of opts.history ?? []) h.addHistory(line);
  const cards = [...structuralCards(img, bitpix), ...h.cards];
  if (cards.some((c) => typeof c.value === 'string' && (c.value.length > 68 || (c.raw?.length ?? 0) > 1))) {
    cards.splice(structuralCards(img, bitpix).length, 0, {
      key: 'LONGSTRN',
      value: 'OGIP 1.0',
      comment: 'the CONTINUE long string convention is used',
    });
  }
  return cards;
}

/** Serialize an image to FITS bytes (header + data). */
export function fitsBytes(img: Image, opts: WriteOptions = {}): Buffer[] {
  const bitpix = opts.bitpix ?? -32;
  if (![8, 16, 32, -32, -64].includes(bitpix)) {
    throw new DarkroomError('BAD_ARGUMENT', `cannot write BITPIX ${String(bitpix)} (choose 8, 16, 32, -32 or -64)`);
  }
  if (!(Number.isInteger(img.width) && Number.isInteger(img.height) && img.width > 0 && img.height > 0)) {
    throw new Error(`invalid image size ${img.width}x${img.height}`);
  }
  if (img.channels < 1 || img.data.length !== img.channels) throw new Error('image has no planes');
  for (const d of img.data) if (d.length !== img.width * img.height) throw new Error('plane size does not match width*height');
  return [headerBytes(headerFor(img, opts)), encodePixels(img, opts.bitpix ?? -32)];
}

/** Write `img` to `path` atomically (temp file + rename). */
export function writeFits(path: string, img: Image, opts: WriteOptions = {}): void {
  const chunks = fitsBytes(img, opts);
  try {
    writeFileAtomic(path, chunks);
  } catch (e) {
    throw writeError(e, path);
  }
}

/**
 * Write `img` as float32 FITS, temp file + rename: the bytes writeFits(path, img, { ...opts, bitpix: -32 }) writes. A
 * single plane, or planes one after the other in one buffer (readFitsReusing's), are swapped to big-endian in place and
 * written from there (no copy of the pixels: the image is unusable afterwards); other planes are encoded as writeFits does.
 */
export function writeFitsConsuming(path: string, img: Image, opts: Omit<WriteOptions, 'bitpix'> = {}, fsync = true): void {
  const o = { ...opts, bitpix: -32 as const };
  const n = img.width * img.height * img.channels;
  const first = img.data[0]!;
  const contiguous = img.data.every((p, c) => p.length === img.width * img.height && p.buffer === first.buffer && p.byteOffset === first.byteOffset + c * first.byteLength);
  let chunks: Buffer[];
  if (contiguous) {
    const pixels = Buffer.from(first.buffer, first.byteOffset, n * 4);
    chunks = [headerBytes(headerFor(img, o)), pixels.swap32(), Buffer.alloc((BLOCK - ((n * 4) % BLOCK)) % BLOCK)];
  } else chunks = fitsBytes(img, o);
  try {
    writeFileAtomic(path, chunks, { fsync });
  } catch (e) {
    throw writeError(e, path);
  }
}

/** The one-line DarkroomError for a failed write of `path` (missing folder, permission, full disk...). */
export function writeError(e: unknown, path: string): DarkroomError {
  const err = e as NodeJS.ErrnoException;
  const why =
    err.code === 'ENOENT' ? 'cannot write: the folder does not exist'
    : err.code === 'EACCES' || err.code === 'EPERM' ? 'cannot write: permission denied'
    : err.code === 'ENOSPC' ? 'cannot write: no space left on the device'
    : err.code === 'EISDIR' ? 'cannot write: is a directory'
    : `cannot write: ${err.message}`;
  return new DarkroomError('IO', why, path);
}
