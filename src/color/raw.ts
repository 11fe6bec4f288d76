/**
 * DSLR / mirrorless camera raw files (CR2, CR3, NEF, ARW, DNG, RAF, ORF, ...) read as pure raw CFA
 * mosaics through Debian's `dcraw` run as a subprocess:
 *   `dcraw -i -v FILE`  metadata: camera, ISO, shutter, image size, filter pattern;
 *   `dcraw -D -4 -c FILE`  the raw sensor values (no scaling, no black subtraction, no white balance,
 *                          no interpolation) as a 16-bit PGM on stdout, rows top-down.
 * The mosaic is returned with the CFA pattern of its first row (dcraw's "Filter pattern", which
 * describes the same cropped area `-D` writes) and written as FITS with BAYERPAT and ROWORDER
 * 'TOP-DOWN'.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { type Cfa, cfaName, parseCfa } from './cfa.js';
import { createImage, type Image } from '../image/image.js';
import { FitsHeader } from '../fits/index.js';
import { DarkroomError } from '../util/errors.js';

/** File extensions treated as camera raw files. */
export const RAW_EXTENSIONS = [
  '.cr2', '.cr3', '.crw', '.nef', '.nrw', '.arw', '.srf', '.sr2', '.dng', '.raf', '.orf', '.rw2', '.pef', '.srw', '.erf', '.kdc', '.dcr', '.mos', '.mrw', '.x3f', '.3fr', '.fff', '.iiq', '.rwl',
];
const FITS_EXTENSIONS = ['.fits', '.fit', '.fts', '.fits.fz', '.fit.fz', '.fz'];

export function isRawFileName(path: string): boolean {
  return RAW_EXTENSIONS.includes(extname(path).toLowerCase());
}
export function isFitsFileName(path: string): boolean {
  const p = path.toLowerCase();
  return FITS_EXTENSIONS.some((e) => p.endsWith(e));
}

/** The dcraw executable: $DARKROOM_DCRAW or `dcraw` on PATH. */
export function dcrawPath(): string {
  return process.env.DARKROOM_DCRAW ?? 'dcraw';
}

export interface RawInfo {
  camera?: string;
  iso?: number;
  /** Exposure in seconds. */
  exposure?: number;
  aperture?: number;
  focalLength?: number;
  /** dcraw's "Timestamp:" text (camera local time, ctime format). */
  timestamp?: string;
  /** Size of the image `dcraw -D` writes. */
  width?: number;
  height?: number;
  rawColors?: number;
  /** The pattern text as printed, e.g. "RG/GB". */
  filterText?: string;
  /** The CFA of the first output row; undefined when dcraw printed no filter pattern (not a mosaic). */
  cfa?: Cfa;
}

/**
 * Parse the text of `dcraw -i -v FILE`. The filter pattern is printed as rows separated by '/'
 * (2 or 4... rows of 2 for Bayer, 6 rows of 6 for X-Trans); the smallest repeating cell is kept.
 */
export function parseDcrawInfo(text: string, file?: string): RawInfo {
  const info: RawInfo = {};
  const line = (re: RegExp) => re.exec(text)?.[1]?.trim();
  info.camera = line(/^Camera:\s*(.+)$/m);
  const iso = line(/^ISO speed:\s*([\d.]+)/m);
  if (iso !== undefined && Number(iso) > 0) info.iso = Number(iso); // 0: unknown
  const sh = /^Shutter:\s*(1\/)?([\d.]+)\s*sec/m.exec(text);
  if (sh) info.exposure = sh[1] ? 1 / Number(sh[2]) : Number(sh[2]);
  const ap = line(/^Aperture:\s*f\/([\d.]+)/m);
  if (ap !== undefined) info.aperture = Number(ap);
  const fl = line(/^Focal length:\s*([\d.]+)\s*mm/m);
  if (fl !== undefined) info.focalLength = Number(fl);
  info.timestamp = line(/^Timestamp:\s*(.+)$/m);
  if (info.timestamp && /\b1970$/.test(info.timestamp)) info.timestamp = undefined; // epoch 0: no date in the file
  const size = /^Image size:\s*(\d+)\s*x\s*(\d+)/m.exec(text);
  if (size) {
    info.width = Number(size[1]);
    info.height = Number(size[2]);
  }
  const rc = line(/^Raw colors:\s*(\d+)/m);
  if (rc !== undefined) info.rawColors = Number(rc);
  const fp = line(/^Filter pattern:\s*(\S+)/m);
  if (fp !== undefined) {
    info.filterText = fp;
    const rows = fp.split('/').filter((r) => r.length > 0);
    const t = rows.map((r) => r.toUpperCase());
    let cfa: Cfa | undefined;
    if (t.every((r) => r.length === 2) && t.length % 2 === 0 && t.every((r, i) => r === t[i % 2])) cfa = parseCfa(t[0]! + t[1]!);
    else if (t.length === 6 && t.every((r) => r.length === 6)) cfa = parseCfa(t.join(''));
    if (!cfa) {
      throw new DarkroomError('UNSUPPORTED', `camera CFA '${fp}' is not an RGB Bayer or X-Trans pattern (dcraw filter pattern)`, file);
    }
    info.cfa = cfa;
  }
  return info;
}

function runDcraw(args: string[], file: string, binary: boolean): { stdout: Buffer; stderr: string; status: number } {
  const exe = dcrawPath();
  const r = spawnSync(exe, args, { maxBuffer: 1 << 30, encoding: binary ? 'buffer' : 'buffer' });
  if (r.error) {
    const code = (r.error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      throw new DarkroomError('UNSUPPORTED', `cannot read camera raw files: '${exe}' not found (install the Debian package dcraw)`, file);
    }
    throw new DarkroomError('IO', `running ${exe} failed: ${r.error.message}`, file);
  }
  return { stdout: r.stdout as Buffer, stderr: (r.stderr as Buffer).toString('utf8'), status: r.status ?? -1 };
}

/** Parse a binary PGM (P5, maxval <= 65535; 16-bit big-endian when maxval > 255). */
export function parsePgm(buf: Buffer, file?: string): { width: number; height: number; maxval: number; data: Float32Array } {
  let pos = 0;
  const token = (): string => {
    for (;;) {
      while (pos < buf.length && /\s/.test(String.fromCharCode(buf[pos]!))) pos++;
      if (buf[pos] === 0x23) {
        while (pos < buf.length && buf[pos] !== 0x0a) pos++;
        continue;
      }
      break;
    }
    const start = pos;
    while (pos < buf.length && !/\s/.test(String.fromCharCode(buf[pos]!))) pos++;
    return buf.subarray(start, pos).toString('latin1');
  };
  const magic = token();
  if (magic !== 'P5') {
    throw new DarkroomError('UNSUPPORTED', magic === 'P6' ? 'dcraw produced a 3-colour image, not a CFA mosaic (not supported)' : 'dcraw output is not a PGM image', file);
  }
  const width = Number(token());
  const height = Number(token());
  const maxval = Number(token());
  pos++; // single whitespace after maxval
  if (!(width > 0 && height > 0 && maxval > 0 && maxval < 65536)) throw new DarkroomError('UNSUPPORTED', 'dcraw output has a bad PGM header', file);
  const bpp = maxval > 255 ? 2 : 1;
  const n = width * height;
  if (buf.length - pos < n * bpp) throw new DarkroomError('TRUNCATED', `dcraw output is truncated (${buf.length - pos} of ${n * bpp} bytes)`, file);
  const data = new Float32Array(n);
  if (bpp === 2) for (let i = 0; i < n; i++) data[i] = buf.readUInt16BE(pos + 2 * i);
  else for (let i = 0; i < n; i++) data[i] = buf[pos + i]!;
  return { width, height, maxval, data };
}

/** `dcraw -i -v` on a file: its metadata, or a DarkroomError when it is not a raw file dcraw can decode. */
export function readRawInfo(path: string): RawInfo {
  if (!existsSync(path)) throw new DarkroomError('ENOENT', 'no such file', path);
  const r = runDcraw(['-i', '-v', path], path, false);
  const text = r.stdout.toString('utf8');
  if (r.status !== 0 || !/^Filter pattern:|^Raw colors:/m.test(text)) {
    throw new DarkroomError('UNSUPPORTED', 'not a camera raw file dcraw can decode', path);
  }
  return parseDcrawInfo(text, path);
}

/**
 * Read a camera raw file as a one-plane CFA mosaic of raw sensor values (ADU, no black level
 * subtracted). Header: BAYERPAT (first row), ROWORDER 'TOP-DOWN', EXPTIME, ISOSPEED, INSTRUME,
 * FOCALLEN, RAWFILE; HISTORY records the dcraw commands.
 */
export function readRaw(path: string): { image: Image; info: RawInfo } {
  const info = readRawInfo(path);
  if (!info.cfa) throw new DarkroomError('UNSUPPORTED', 'dcraw reports no colour filter pattern: not a CFA mosaic (e.g. Foveon or a linear DNG)', path);
  const r = runDcraw(['-D', '-4', '-c', path], path, true);
  if (r.status !== 0 || r.stdout.length === 0) {
    throw new DarkroomError('UNSUPPORTED', `dcraw could not decode the pixels${r.stderr.trim() ? `: ${r.stderr.trim().split('\n')[0]}` : ''}`, path);
  }
  const pgm = parsePgm(r.stdout, path);
  const header = new FitsHeader();
  const name = cfaName(info.cfa);
  header.set('BAYERPAT', name, 'CFA pattern of the first stored row');
  header.set('XBAYROFF', 0, 'Bayer pattern x offset');
  header.set('YBAYROFF', 0, 'Bayer pattern y offset');
  header.set('ROWORDER', 'TOP-DOWN', 'first stored row is the top of the sensor');
  header.set('IMAGETYP', 'Light Frame', 'frame kind (change for calibration frames)');
  if (info.exposure !== undefined) header.set('EXPTIME', info.exposure, '[s] exposure time (camera raw)', { float: true });
  if (info.iso !== undefined) header.set('ISOSPEED', info.iso, 'ISO speed (camera raw)');
  if (info.camera) header.set('INSTRUME', info.camera, 'camera');
  if (info.focalLength) header.set('FOCALLEN', info.focalLength, '[mm] focal length (camera raw)', { float: true });
  if (info.aperture) header.set('APTDIA', info.aperture, 'f-number (camera raw)', { float: true });
  if (info.timestamp) header.set('DATE-LOC', info.timestamp, 'camera local time (dcraw)');
  header.set('RAWFILE', basename(path), 'camera raw file this came from');
  header.addHistory(`raw mosaic read with dcraw -D -4 -c ${basename(path)}; CFA ${name} (dcraw filter pattern ${info.filterText ?? '?'})`);
  const image = createImage(pgm.width, pgm.height, 1, header);
  image.data = [pgm.data];
  image.cfa = name;
  return { image, info };
}

/**
 * Refuse a group mixing camera raw files and FITS (called by the pipeline on each group of frames
 * from one camera). They must not be combined: dcraw's mosaic is the full raw sensor readout of the
 * area dcraw crops, with the camera's black level kept, while FITS files written by capture software
 * for the same camera may be cropped differently, black-level shifted or scaled, so pixels and the
 * CFA phase do not line up. Convert the raw files with `darkroom convert` and use only those FITS.
 */
export function assertNotMixedRawAndFits(files: string[]): void {
  const raws = files.filter(isRawFileName);
  const fits = files.filter((f) => !isRawFileName(f));
  if (raws.length > 0 && fits.length > 0) {
    throw new DarkroomError(
      'MISMATCH',
      `group mixes ${raws.length} camera raw file(s) (e.g. ${basename(raws[0]!)}) with ${fits.length} FITS file(s) (e.g. ${basename(fits[0]!)}): ` +
        'raw mosaics read by dcraw and FITS written by capture software may differ in crop, black level and scale, so they cannot be calibrated or stacked together; ' +
        'convert all raw files with `darkroom convert` (or use only one kind)',
      raws[0],
    );
  }
}
