/**
 * What the acquisition runners of the server session share: the device session (the connected camera,
 * which a long job holds), the file roots, the event sink (WebSocket broadcast), and how a job that holds
 * the camera runs in the background.
 */
import { isDarkroomError } from '../../util/errors.js';
import type { DeviceSession } from '../devices.js';
import type { Roots } from '../roots.js';

export type Emit = (ev: Record<string, unknown>) => void;

export interface SessionCore {
  readonly devices: DeviceSession;
  readonly roots: Roots;
  readonly emit: Emit;
}

/** One line for any thrown value. */
export const errorMessage = (e: unknown): string => (isDarkroomError(e) ? e.message : (e as Error)?.message ?? String(e));

export interface Outcome<T> {
  done: (result: T) => void;
  failed: (message: string) => void;
  /** After done or failed, once the camera is released (the runner sends its final event). */
  ended: () => void;
}

/** Follow a job that holds the camera: report its outcome, release the camera when it ends; never rejects. */
export function releaseWhenDone<T>(core: SessionCore, job: Promise<T>, o: Outcome<T>): Promise<void> {
  return job
    .then((r) => o.done(r))
    .catch((e: unknown) => o.failed(errorMessage(e)))
    .finally(() => {
      core.devices.hold(null);
      o.ended();
    });
}
