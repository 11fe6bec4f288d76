/**
 * Structured progress of a run: one event when a step starts, and one when it is done, reused or
 * failed. `index` counts the steps finished so far (a start event: the one about to finish);
 * `total` is the number of steps that can run (every step but the report, which is always written).
 * Callers print lines (stepEventLine) or drive a progress bar from them; nobody parses the lines.
 */
import type { StepKind } from './plan.js';

export type StepEventType = 'step-start' | 'step-done' | 'step-reused' | 'step-failed';

export interface StepEvent {
  type: StepEventType;
  id: string;
  kind: StepKind;
  index: number;
  total: number;
  /** step-done, step-failed: how long the step ran. */
  seconds?: number;
  /** step-start: how many inputs the step has. */
  inputs?: number;
  /** step-failed: why (the error, or which dependency failed). */
  message?: string;
  /** step-failed without running: the dependency that failed. */
  dependency?: string;
}

export type RunEventSink = (e: StepEvent) => void;

/** A plain progress line of an event (logs, pipes, the server's run log). */
export function stepEventLine(e: StepEvent): string {
  const head = `[${e.index}/${e.total}] ${e.id}:`;
  switch (e.type) {
    case 'step-start':
      return `${head} ${e.kind} (${e.inputs ?? 0} input(s))`;
    case 'step-done':
      return `${head} done in ${(e.seconds ?? 0).toFixed(1)} s`;
    case 'step-reused':
      return `${head} unchanged, reused`;
    case 'step-failed':
      return e.dependency ? `${head} ${e.message}` : `${head} FAILED: ${e.message}`;
  }
}
