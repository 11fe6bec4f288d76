/**
 * The download bar: how much of the camera's image has arrived (percent and MB), for a manual exposure
 * (the camera job's `download`) and for a runner's frames (the 'download' events of a source).
 */
import { useEffect, useState } from 'react';
import { onEvent } from './api';

export interface Transfer {
  bytes: number;
  total: number | null;
  fraction: number;
}

const mb = (bytes: number): string => (bytes / 1e6).toFixed(bytes < 10e6 ? 2 : 1);

/** '42 % · 1.30 of 3.10 MB' (or '1.30 MB' when the camera does not say how much is coming). */
export function transferText(d: Transfer): string {
  if (d.total === null || d.total === undefined) return d.fraction >= 1 ? `100 % · ${mb(d.bytes)} MB` : `${mb(d.bytes)} MB`;
  return `${Math.floor(100 * d.fraction)} % · ${mb(d.bytes)} of ${mb(d.total)} MB`;
}

/** The bar (red theme, no native <progress>); `d` undefined: downloading, nothing arrived yet. */
export function DownloadBar({ d, label, testid = 'download-progress' }: { d?: Transfer | null; label?: string; testid?: string }) {
  const pct = d ? Math.max(0, Math.min(100, 100 * d.fraction)) : 0;
  return (
    <div className="progress download" data-testid={testid} role="progressbar" aria-valuemin={0} aria-valuemax={100} aria-valuenow={Math.floor(pct)} data-fraction={d ? d.fraction : 0}>
      <div className="bar" style={{ width: `${pct}%` }} />
      <span>
        downloading{label ? ` ${label} frame` : ''} · {d ? transferText(d) : 'waiting for the image'}
      </span>
    </div>
  );
}

/** The latest download of a runner's frames (`source`: 'sequence', 'focus', ...) while one is under way, else null. */
export function useSourceDownload(source: string): Transfer | null {
  const [d, setD] = useState<Transfer | null>(null);
  useEffect(
    () =>
      onEvent((ev) => {
        if (ev.type === 'download' && ev.source === source) setD(ev.fraction >= 1 ? null : { bytes: ev.bytes, total: ev.total, fraction: ev.fraction });
        if (ev.type === 'image' && ev.source === source) setD(null);
      }),
    [source],
  );
  return d;
}
