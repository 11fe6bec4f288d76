/**
 * Structured progress of a run: one event when a step starts, and one when it is done, reused or
 * failed. `index` counts the steps finished so far (a start event: the one about to finish);
 * `total` is the number of steps that can run (every step but the report, which is always written).
 * A warning raised while the run goes (by a step, or at the run's end) is sent as it is raised, as a
 * 'warning' event with its step, not only in the report. Callers print lines (runEventLine) or
 * drive a progress bar from them; nobody parses the lines.
 */
import { warningLine, type WarningEvent } from '../util/warnings.js';
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

/** A warning of the run as it is raised: the step's driver's {code, message, file?}, and the step. */
export interface WarningRunEvent extends WarningEvent {
  type: 'warning';
  /** The step that raised it (absent: the run's own, after the steps: a stack not produced, an output kept). */
  step?: string;
}

export type RunEvent = StepEvent | WarningRunEvent;

export type RunEventSink = (e: RunEvent) => void;

/** The warning of a run event, without the event's own fields. */
export function warningOf(e: WarningRunEvent): WarningEvent {
  const { type: _type, step: _step, ...w } = e;
  return w;
}

/** A plain line of any run event: a step's progress line, or `warning: STEP: FILE: message`. */
export function runEventLine(e: RunEvent): string {
  if (e.type === 'warning') return `warning: ${e.step ? `${e.step}: ` : ''}${warningLine(e)}`;
  return stepEventLine(e);
}

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
