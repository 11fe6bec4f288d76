/**
 * Reading an Alpaca response body as a stream, with progress: the bytes are counted against the size
 * expected (Content-Length when the server sends it, else for ImageBytes the header's dimensions times
 * the transmission element size plus DataStart) and copied into one buffer allocated once when that
 * size is known (grown by doubling only when it is not: a JSON body sent chunked). Progress is
 * reported as `{bytes, total, fraction}`, throttled: at the start, then each time the fraction has
 * advanced by `step` or `intervalMs` has passed, and once at the end (fraction 1), so that a body
 * arriving in thousands of tiny chunks makes a few dozen reports, not thousands. A body that stops
 * arriving for `idleMs` fails with a DarkroomError naming how far it got.
 */
import { constants } from 'node:buffer';
import { DarkroomError } from '../../util/errors.js';
import type { DownloadProgress } from '../types.js';
import { ELEMENT_TYPE, IMAGEBYTES_HEADER } from './protocol.js';

export interface ReadOptions {
  /** Called with the progress (throttled); the last call has fraction 1. */
  onProgress?: (p: DownloadProgress) => void;
  /** ImageBytes: the expected size may be read from the header when there is no Content-Length. */
  imageBytes?: boolean;
  /** Report when the fraction has grown by this much since the last report (default 0.01). */
  step?: number;
  /** ... or when this long has passed since the last report (default 250 ms). */
  intervalMs?: number;
  /** Fail when no bytes arrive for this long (default 30 s); the timer is restarted by each chunk. */
  idleMs?: number;
  /** Aborted when the body stalls (the request's controller: it tears the connection down). */
  abort?: AbortController;
  /** Names the device in errors. */
  label?: string;
}

/** The largest body held in one buffer. */
const MAX_BODY = Math.min(constants.MAX_LENGTH, 2 ** 32);

/** Bytes per element of each ImageBytes transmission element type. */
export const ELEMENT_BYTES: Record<number, number> = {
  [ELEMENT_TYPE.int16]: 2,
  [ELEMENT_TYPE.uint16]: 2,
  [ELEMENT_TYPE.int32]: 4,
  [ELEMENT_TYPE.uint32]: 4,
  [ELEMENT_TYPE.byte]: 1,
  [ELEMENT_TYPE.double]: 8,
  [ELEMENT_TYPE.single]: 4,
  [ELEMENT_TYPE.int64]: 8,
  [ELEMENT_TYPE.uint64]: 8,
};

/**
 * The whole size of an ImageBytes body from its first 44 bytes: DataStart + dims x element size
 * (undefined for an error answer, whose message length the header does not give, or an unknown type).
 */
export function imageBytesSize(head: Buffer): number | undefined {
  if (head.length < IMAGEBYTES_HEADER) return undefined;
  const r = (i: number): number => head.readInt32LE(i * 4);
  if (r(1) !== 0) return undefined;
  const bpe = ELEMENT_BYTES[r(6)];
  const rank = r(7);
  if (!bpe || rank < 1 || rank > 3) return undefined;
  let n = 1;
  for (let i = 0; i < rank; i++) n *= Math.max(0, r(8 + i));
  return r(4) + n * bpe;
}

/**
 * Throttles the reports: first, then each `step` of the fraction or `intervalMs`, and the final one
 * (also the INDI camera's, for its BLOBs).
 */
export class Reporter {
  private lastFraction = -1;
  private lastBytes = -1;
  private lastAt = 0;
  constructor(
    private readonly cb: ((p: DownloadProgress) => void) | undefined,
    private readonly step: number,
    private readonly intervalMs: number,
  ) {}
  report(bytes: number, total: number | undefined, final = false): void {
    if (!this.cb) return;
    const now = Date.now();
    if (final) {
      this.cb({ bytes, total: bytes, fraction: 1 });
      return;
    }
    // all there: the final report follows (after the end of the body is seen)
    if (total !== undefined && bytes >= total) return;
    // never 1 before the end (a body longer than announced), never going back
    const fraction = total ? Math.min(bytes / total, 0.999) : 0;
    if (this.lastBytes >= 0) {
      const due = (total !== undefined && fraction - this.lastFraction >= this.step) || now - this.lastAt >= this.intervalMs;
      if (!due || bytes === this.lastBytes || fraction < this.lastFraction) return;
    }
    this.lastFraction = fraction;
    this.lastBytes = bytes;
    this.lastAt = now;
    this.cb({ bytes, total, fraction });
  }
}

/** The body of `res` in one buffer, read chunk by chunk with progress (see the file comment). */
export async function readBody(res: Response, o: ReadOptions = {}): Promise<Buffer> {
  const len = Number(res.headers.get('content-length'));
  let total: number | undefined = Number.isFinite(len) && len > 0 && res.headers.get('content-length') !== null ? len : undefined;
  if (total !== undefined && total > MAX_BODY) {
    void res.body?.cancel().catch(() => undefined);
    throw new DarkroomError('IO', `the image answer announces ${total} bytes (more than ${MAX_BODY} cannot be held)`, o.label);
  }
  let buf: Buffer = Buffer.allocUnsafe(total ?? 64 * 1024);
  let n = 0;
  const rep = new Reporter(o.onProgress, o.step ?? 0.01, o.intervalMs ?? 250);
  rep.report(0, total);
  if (!res.body) {
    rep.report(0, total, true);
    return buf.subarray(0, 0);
  }
  const reader = res.body.getReader();
  const idleMs = o.idleMs ?? 30_000;
  let stalled = false;
  let ended = false;
  let timer: NodeJS.Timeout | undefined;
  const arm = (): void => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      stalled = true;
      o.abort?.abort();
      void reader.cancel().catch(() => undefined);
    }, idleMs);
  };
  try {
    arm();
    for (;;) {
      let chunk: { done: boolean; value?: Uint8Array };
      try {
        chunk = await reader.read();
      } catch (e) {
        throw transferError(stalled, idleMs, n, total, e, o.label);
      }
      if (stalled) throw transferError(true, idleMs, n, total, undefined, o.label);
      if (chunk.done) {
        ended = true;
        break;
      }
      arm();
      const c = chunk.value!;
      if (n + c.length > buf.length) buf = grow(buf, n, n + c.length);
      buf.set(c, n);
      n += c.length;
      if (total === undefined && o.imageBytes && n >= IMAGEBYTES_HEADER) {
        total = imageBytesSize(buf.subarray(0, n));
        if (total !== undefined && total > MAX_BODY) throw new DarkroomError('IO', `the ImageBytes header announces ${total} bytes (more than ${MAX_BODY} cannot be held)`, o.label);
        if (total !== undefined && total > buf.length) buf = grow(buf, n, total, true);
      }
      rep.report(n, total);
    }
  } finally {
    clearTimeout(timer);
    // a failure before the end: let go of the rest of the body (and its connection)
    if (!ended) void reader.cancel().catch(() => undefined);
  }
  if (total !== undefined && n < total) throw new DarkroomError('IO', `image transfer ended after ${n} of ${total} bytes`, o.label);
  rep.report(n, n, true);
  return buf.subarray(0, n);
}

/** A bigger buffer holding the `n` bytes so far: exactly `need` when it is the known size, else doubled. */
function grow(buf: Buffer, n: number, need: number, exact = false): Buffer {
  const next = Buffer.allocUnsafe(exact ? need : Math.max(need, buf.length * 2));
  buf.copy(next, 0, 0, n);
  return next;
}

function transferError(stalled: boolean, idleMs: number, n: number, total: number | undefined, e: unknown, label?: string): DarkroomError {
  const got = `${n}${total ? ` of ${total}` : ''} bytes`;
  if (stalled) return new DarkroomError('IO', `image transfer stalled: no data for ${idleMs} ms after ${got}`, label);
  const err = e as Error & { cause?: { code?: string } };
  return new DarkroomError('IO', `image transfer failed after ${got} (${err?.cause?.code ?? err?.message ?? String(e)})`, label);
}
