/**
 * Structured warnings: what drivers report besides their result, for the CLI to print, the
 * pipeline to collect and the server to forward, without anyone parsing prose.
 */
export type WarningCode = 'NON_FINITE' | 'NO_VALUE' | 'REJECT_FALLBACK';

export interface WarningEvent {
  code: WarningCode;
  message: string;
  /** The file the warning is about (absent when it is about the whole operation). */
  file?: string;
  /** How many pixels (or values) it concerns. */
  count?: number;
}

/** `FILE: message` or `message`, as the CLI prints it. */
export function warningLine(w: WarningEvent): string {
  return w.file ? `${w.file}: ${w.message}` : w.message;
}
