/**
 * What the acquisition runners of the server session share: the device session (the connected camera,
 * which a long job holds), the file roots, the event sink (WebSocket broadcast), and how a job that holds
 * the camera runs in the background.
 */
import type { Camera, DownloadProgress } from '../../devices/types.js';
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

/** The camera as a runner uses it, each downloaded frame also published as the last image (for the viewer), marked with `source`. */
export function publishingCamera(core: SessionCore, camera: Camera, source: string): Camera {
  return new Proxy(camera, {
    get(target, key) {
      const v = Reflect.get(target, key, target) as unknown;
      if (typeof v !== 'function') return v;
      if (key !== 'download') return v.bind(target);
      // the download's progress goes to the status and the events too (a caller's own sink still hears it)
      return async (timeoutMs?: number, onProgress?: (p: DownloadProgress) => void) => {
        const sink = core.devices.downloadProgress(source);
        try {
          const img = await (v as Camera['download']).call(target, timeoutMs, (p) => (sink.onProgress(p), onProgress?.(p)));
          core.devices.publish(img, source);
          return img;
        } finally {
          sink.done();
        }
      };
    },
  });
}
