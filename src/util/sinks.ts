/**
 * What file-level drivers (`calibrateFiles`, `registerFiles`, `debayerFiles`, ...) report while they
 * run, besides their result: structured warnings and per-frame progress. The CLI prints them, the
 * pipeline collects them, the server forwards them; library code never writes to stderr.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DarkroomError } from './errors.js';
import type { WarningEvent } from './warnings.js';

export interface ProgressEvent<F = unknown> {
  /** Frames finished so far (written or left out). */
  done: number;
  total: number;
  /** The input frame just finished. */
  file: string;
  /** Its result, as the driver's result lists it. */
  frame?: F;
}

export interface Sinks<F = unknown> {
  onWarning?: (w: WarningEvent) => void;
  onProgress?: (e: ProgressEvent<F>) => void;
}

/** The output path of each input: a list (same length and order) or a function of the input. */
export type OutputPaths = readonly string[] | ((input: string, index: number) => string);

export function resolveOutputs(inputs: readonly string[], outputs: OutputPaths): string[] {
  if (typeof outputs === 'function') return inputs.map((p, i) => outputs(p, i));
  if (outputs.length !== inputs.length) throw new DarkroomError('BAD_ARGUMENT', `${inputs.length} input(s) but ${outputs.length} output path(s)`);
  return [...outputs];
}

/** What a driver does with a user error (DarkroomError) of one frame: stop ('throw') or leave the frame out ('reject'). */
export type FrameErrors = 'throw' | 'reject';

/** Create the folders of `outputs` (after the overwrite check, before any work). */
export function makeOutputDirs(outputs: readonly string[]): void {
  for (const d of new Set(outputs.map((p) => dirname(p)))) {
    try {
      mkdirSync(d, { recursive: true });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new DarkroomError('IO', code === 'EEXIST' || code === 'ENOTDIR' ? 'output is not a folder' : `cannot create the output folder: ${(e as Error).message}`, d);
    }
  }
}
