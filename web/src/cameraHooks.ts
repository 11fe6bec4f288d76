/** The camera console's state: the polled device status, the cooler history, and the button actions. */
import { useEffect, useRef, useState, type Dispatch, type SetStateAction } from 'react';
import { get, onEvent } from './api';
import type { Source } from './Viewer';

export interface Sample {
  t: number;
  ccdTemp: number;
  power: number;
  setpoint: number;
  on: boolean;
}

/** Runs a server call with the buttons disabled, then refreshes the status; a failure becomes the error. */
export type Act = (f: () => Promise<unknown>) => Promise<void>;

const STATUS_EVENTS = ['exposure', 'image', 'connected', 'disconnected', 'cooler', 'error'];

/** The last image of the camera, from a manual exposure or a runner (sequence, focus loop, autofocus). */
const cameraImage = (id: number, source?: string): Source => ({
  label: `${source ?? 'camera'} #${id}`,
  pixels: `/api/camera/image?id=${id}`,
  info: `/api/camera/image/info?id=${id}`,
  stars: `/api/camera/image/stars?id=${id}`,
});

/** The status with a 'download' event's progress: on the exposure job it names (by id), or as a runner's transfer (by source); no refetch. */
function withDownload(s: any, ev: any): any {
  const d = { bytes: ev.bytes, total: ev.total, fraction: ev.fraction };
  if (ev.id !== undefined) return s.exposure?.id === ev.id ? { ...s, exposure: { ...s.exposure, phase: 'downloading', download: d } } : s;
  return { ...s, transfer: ev.fraction >= 1 ? null : { ...d, source: ev.source } };
}

/**
 * A fetched status, but with the download progress the events have already carried further: a status
 * asked for before the last 'download' event may answer after it, and a bar must not go back.
 */
function keepNewerDownload(prev: any, s: any): any {
  const p = prev.exposure;
  const n = s.exposure;
  let out = s;
  if (p?.download && n && p.id === n.id && n.phase === 'downloading' && p.download.fraction > (n.download?.fraction ?? -1)) out = { ...out, exposure: { ...n, download: p.download } };
  if (prev.transfer && s.transfer && prev.transfer.source === s.transfer.source && prev.transfer.fraction > s.transfer.fraction) out = { ...out, transfer: prev.transfer };
  return out;
}

/** Loads the cooler history, then refreshes on mount, on camera events and every 2 s; cooler events extend the history; download events patch the status. */
function useCameraEvents(refresh: () => Promise<void>, setSamples: Dispatch<SetStateAction<Sample[]>>, setStatus: Dispatch<SetStateAction<any>>): void {
  useEffect(() => {
    void refresh();
    void get('/api/camera/cooler/history').then((h) => setSamples(h.samples)).catch(() => undefined);
    const off = onEvent((ev) => {
      if (ev.type === 'cooler') setSamples((s) => [...s.slice(-899), ev.sample]);
      if (ev.type === 'download') setStatus((s: any) => withDownload(s, ev));
      if (STATUS_EVENTS.includes(ev.type)) void refresh();
    });
    const t = setInterval(refresh, 2000);
    return () => {
      off();
      clearInterval(t);
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);
}

/** The camera's status and cooler samples; each new last image is handed to `onImage`. */
export function useCamera(onImage: (s: Source) => void): { status: any; samples: Sample[]; error: string | null; busy: boolean; act: Act } {
  const [status, setStatus] = useState<any>({ connected: false });
  const [samples, setSamples] = useState<Sample[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const lastImage = useRef<number>(0);

  const refresh = async (): Promise<void> => {
    try {
      const s = await get('/api/camera/status');
      setStatus((prev: any) => keepNewerDownload(prev, s));
      if (s.lastImage && s.lastImage.id !== lastImage.current) {
        lastImage.current = s.lastImage.id;
        onImage(cameraImage(s.lastImage.id, s.lastImage.source));
      }
    } catch (e) {
      setError((e as Error).message);
    }
  };
  useCameraEvents(refresh, setSamples, setStatus);

  const act: Act = async (f) => {
    setBusy(true);
    setError(null);
    try {
      await f();
      await refresh();
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return { status, samples, error, busy, act };
}
