/** HTTP errors of the API: a status, a code and one clear line. DarkroomErrors map onto statuses. */
import { isDarkroomError } from '../util/errors.js';
import type { ZodError } from 'zod';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

const STATUS: Record<string, number> = {
  ENOENT: 404,
  BAD_ARGUMENT: 400,
  NOT_FITS: 422,
  TRUNCATED: 422,
  BAD_HEADER: 422,
  UNSUPPORTED: 422,
  NO_IMAGE: 422,
  MISMATCH: 422,
  TOO_FEW: 422,
  IO: 409,
};

/** The status and body for any thrown value (internal errors: 500). */
export function toHttp(e: unknown): { status: number; body: { error: string; message: string } } {
  if (e instanceof HttpError) return { status: e.status, body: { error: e.code, message: e.message } };
  if (isDarkroomError(e)) return { status: STATUS[e.code] ?? 400, body: { error: e.code, message: e.oneLine() } };
  const fe = e as { statusCode?: number; code?: string; message?: string };
  if (fe && typeof fe.statusCode === 'number' && fe.statusCode < 500) {
    return { status: fe.statusCode, body: { error: fe.code ?? 'BAD_REQUEST', message: fe.message ?? 'bad request' } };
  }
  return { status: 500, body: { error: 'INTERNAL', message: `internal error: ${(e as Error)?.message ?? String(e)}` } };
}

/** One line from a zod error: `field: problem; field: problem`. */
export function zodMessage(err: ZodError, where: string): string {
  return `invalid ${where}: ${err.issues.map((i) => `${i.path.length ? i.path.join('.') : '(value)'}: ${i.message}`).join('; ')}`;
}
