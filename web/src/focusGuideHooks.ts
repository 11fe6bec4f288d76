/** State of the focus and guiding panels: the server's status kept current by its events, and the button actions. */
import { useEffect, useState } from 'react';
import { get, onEvent } from './api';

export interface Pt {
  x: number;
  y: number;
}

/** The fitted V-curve (a hyperbola) sampled at 61 positions across the measured ones; empty without a fit. */
export function vCurve(points: Array<{ position: number }>, fit: { min: number; best: number; b: number } | undefined): Pt[] {
  const curve: Pt[] = [];
  if (fit && points.length) {
    const xs = points.map((p) => p.position);
    const lo = Math.min(...xs);
    const hi = Math.max(...xs);
    for (let k = 0; k <= 60; k++) {
      const p = lo + ((hi - lo) * k) / 60;
      curve.push({ x: p, y: fit.min * Math.sqrt(1 + ((p - fit.best) / fit.b) ** 2) });
    }
  }
  return curve;
}

/** The focuser's status from the server and its events. */
export function useFocusStatus(): { st: any; setSt: (s: any) => void } {
  const [st, setSt] = useState<any>({ state: 'idle', loop: [], points: [] });
  useEffect(() => {
    void get('/api/focus/status').then(setSt).catch(() => undefined);
    return onEvent((ev) => {
      if (ev.type === 'focus') setSt({ ...ev.status });
      if (ev.type === 'hello' && ev.focus) setSt(ev.focus);
    });
  }, []);
  return { st, setSt };
}

/** The guider's status after a guide event: the last 300 samples, cleared when guiding starts. */
function onGuideEvent(o: any, ev: any): any {
  const samples = ev.sample ? [...o.samples, ev.sample].slice(-300) : ev.state === 'guiding' && o.state !== 'guiding' ? [] : o.samples;
  const notices = ev.notice ? [...(o.notices ?? []), ev.notice].slice(-50) : o.notices;
  return { ...o, state: ev.state, stats: ev.stats, calibration: ev.calibration, error: ev.error, samples, notices, star: ev.star ?? o.star, frames: (o.frames ?? 0) + 1 };
}

/** The guider's status, and `act(f)`: run a call with the buttons disabled and merge the status it returns. */
export function useGuide(): { st: any; error: string | null; busy: boolean; act: (f: () => Promise<any>) => void } {
  const [st, setSt] = useState<any>({ state: 'idle', samples: [], stats: null, calibration: null, pixelScale: 1.5, notices: [] });
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    void get('/api/guide/status').then(setSt).catch(() => undefined);
    return onEvent((ev) => {
      if (ev.type === 'hello' && ev.guide) setSt(ev.guide);
      if (ev.type !== 'guide') return;
      setSt((o: any) => onGuideEvent(o, ev));
    });
  }, []);
  const act = (f: () => Promise<any>) => {
    setError(null);
    setBusy(true);
    f()
      .then((s) => s && setSt((o: any) => ({ ...o, ...s })))
      .catch((e: Error) => setError(e.message))
      .finally(() => setBusy(false));
  };
  return { st, error, busy, act };
}
