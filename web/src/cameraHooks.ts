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

/** Loads the cooler history, then refreshes on mount, on camera events and every 2 s; cooler events extend the history. */
function useCameraEvents(refresh: () => Promise<void>, setSamples: Dispatch<SetStateAction<Sample[]>>): void {
  useEffect(() => {
    void refresh();
    void get('/api/camera/cooler/history').then((h) => setSamples(h.samples)).catch(() => undefined);
    const off = onEvent((ev) => {
      if (ev.type === 'cooler') setSamples((s) => [...s.slice(-899), ev.sample]);
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
      setStatus(s);
      if (s.lastImage && s.lastImage.id !== lastImage.current) {
        lastImage.current = s.lastImage.id;
        onImage(cameraImage(s.lastImage.id, s.lastImage.source));
      }
    } catch (e) {
      setError((e as Error).message);
    }
  };
  useCameraEvents(refresh, setSamples);

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
