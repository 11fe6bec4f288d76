/**
 * Structured warnings: what drivers report besides their result, for the CLI to print, the
 * pipeline to collect and the server to forward, without anyone parsing prose.
 */
export type WarningCode =
  | 'NON_FINITE'
  | 'NO_VALUE'
  | 'REJECT_FALLBACK'
  // pipeline: planning (what was done with the night's files)
  | 'MISSING_CALIBRATION'
  /** Case 5 of the calibration policy: no dark, no bias, no stand-in, no overscan: the lights keep their pedestal. */
  | 'PEDESTAL_NOT_REMOVED'
  | 'UNKNOWN_KIND'
  | 'SKIPPED_FILES'
  | 'EXCLUDED_FILES'
  | 'DUPLICATES'
  | 'RECLASSIFIED'
  | 'NO_LIGHTS'
  | 'UNUSED_CALIBRATION'
  // pipeline: running the steps
  | 'STEP_WARNING'
  | 'DARK_NOT_SCALED'
  | 'REFERENCE_NOT_FOUND'
  | 'LIBRARY_WRITE'
  | 'STEP_FAILED'
  | 'STACK_NOT_PRODUCED'
  | 'OUTPUT_KEPT'
  // file-level drivers (calibrateFiles, registerFiles, debayerFiles)
  | 'TEMPERATURE_MISMATCH'
  | 'EXPOSURE_MISMATCH'
  | 'DARK_SCALING_FORCED'
  | 'DARK_OPTIMIZATION'
  | 'CLIPPED'
  | 'FRAME_UNREADABLE'
  | 'FRAME_LEFT_OUT'
  | 'FRAME_FAILED';

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
