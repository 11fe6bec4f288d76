/**
 * Errors a user can cause (bad file, bad option, missing calibration...) are DarkroomErrors:
 * the CLI prints them as one line naming the file and exits with code 2. Anything else is a bug.
 */
export type ErrorCode =
  | 'ENOENT'
  | 'NOT_FITS'
  | 'TRUNCATED'
  | 'BAD_HEADER'
  | 'UNSUPPORTED'
  | 'NO_IMAGE'
  | 'BAD_ARGUMENT'
  | 'MISMATCH'
  | 'TOO_FEW'
  | 'IO'
  | 'NO_SOLUTION';

export class DarkroomError extends Error {
  readonly code: ErrorCode;
  readonly file?: string;
  constructor(code: ErrorCode, message: string, file?: string) {
    super(message);
    this.name = 'DarkroomError';
    this.code = code;
    this.file = file;
  }
  /** One line for the terminal: `FILE: message` or just `message`. */
  oneLine(): string {
    return this.file ? `${this.file}: ${this.message}` : this.message;
  }
}

export function isDarkroomError(e: unknown): e is DarkroomError {
  return e instanceof DarkroomError;
}
