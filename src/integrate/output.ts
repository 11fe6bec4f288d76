/**
 * A float32 FITS image written band by band, for results too big to hold whole: the bands go (in
 * any order) at their place in a temp data file beside the output; `finish` writes the header,
 * which is only known at the end (HISTORY holds the result's statistics), and the data into a
 * second temp file and renames it into place, so a reader never sees a partial file. Memory: a
 * fixed 1 MB conversion buffer.
 */
import { closeSync, fsyncSync, openSync, readSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { BLOCK, FitsHeader, headerBytes, headerFor, writeError } from '../fits/index.js';
import { tempPathFor } from '../util/atomic.js';
import { DarkroomError } from '../util/errors.js';

const CHUNK_VALUES = 1 << 18;

function writeAll(fd: number, buf: Uint8Array, len: number, pos: number | null): void {
  let off = 0;
  while (off < len) off += writeSync(fd, buf, off, len - off, pos === null ? null : pos + off);
}

export class StreamedFits {
  private readonly dataPath: string;
  private fd: number;
  private readonly scratch = Buffer.alloc(CHUNK_VALUES * 4);

  constructor(readonly path: string, readonly width: number, readonly height: number, readonly channels: number) {
    this.dataPath = `${tempPathFor(path)}.data`;
    try {
      this.fd = openSync(this.dataPath, 'w+');
    } catch (e) {
      throw writeError(e, path);
    }
  }

  /** Rows y0.. of plane c (`data` holds whole rows). */
  write(c: number, y0: number, data: Float32Array): void {
    const f = new Float32Array(this.scratch.buffer, this.scratch.byteOffset, CHUNK_VALUES);
    const base = (c * this.height * this.width + y0 * this.width) * 4;
    try {
      for (let done = 0; done < data.length; done += CHUNK_VALUES) {
        const m = Math.min(CHUNK_VALUES, data.length - done);
        f.set(data.subarray(done, done + m));
        const b = this.scratch.subarray(0, m * 4);
        b.swap32();
        writeAll(this.fd, b, b.length, base + done * 4);
      }
    } catch (e) {
      throw writeError(e, this.path);
    }
  }

  /** Write the final file: `header` (structural keys are set here) with `history`, then the data. */
  finish(header: FitsHeader, history: string[], cfa?: string): void {
    const img = { width: this.width, height: this.height, channels: this.channels, data: [], header, cfa };
    const hdr = headerBytes(headerFor(img, { bitpix: -32, history }));
    const dataBytes = this.width * this.height * this.channels * 4;
    const tmp = tempPathFor(this.path);
    let out = -1;
    try {
      out = openSync(tmp, 'w');
      writeAll(out, hdr, hdr.length, null);
      for (let pos = 0; pos < dataBytes; ) {
        const got = readSync(this.fd, this.scratch, 0, Math.min(this.scratch.length, dataBytes - pos), pos);
        if (got === 0) throw new Error('streamed data ended early');
        writeAll(out, this.scratch, got, null);
        pos += got;
      }
      const pad = (BLOCK - (dataBytes % BLOCK)) % BLOCK;
      writeAll(out, Buffer.alloc(pad), pad, null);
      fsyncSync(out);
      closeSync(out);
      out = -1;
      renameSync(tmp, this.path);
    } catch (e) {
      if (out >= 0) closeSync(out);
      try { unlinkSync(tmp); } catch { /* ignore */ }
      this.abort();
      throw e instanceof DarkroomError ? e : writeError(e, this.path);
    }
    this.abort();
  }

  /** Remove the temp data (after `finish`, or when the result is abandoned). */
  abort(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
    try { unlinkSync(this.dataPath); } catch { /* ignore */ }
  }
}
