/**
 * The warnings panel: the structured warnings ({code, message, file}) the server sends (a plan's, a
 * run's steps' as they are raised, with the step, a run's report, any 'warning' event), kept for the
 * session, newest first, with a count in the header. The same code, message and file is listed once.
 */
import { useEffect, useState } from 'react';
import { onEvent } from './api';

export interface Warning {
  code: string;
  message: string;
  file?: string;
  /** Where it came from: plan, processing, camera ... */
  source: string;
  /** The processing step that raised it. */
  step?: string;
}

let all: Warning[] = [];
const subscribers = new Set<(w: Warning[]) => void>();

/** Add warnings (the same code, message and file as one already listed is not repeated). */
export function addWarnings(source: string, list: Array<{ code: string; message: string; file?: string; step?: string }>): void {
  const key = (w: { code: string; message: string; file?: string }): string => `${w.code}|${w.message}|${w.file ?? ''}`;
  const seen = new Set(all.map(key));
  const fresh = list.filter((w) => !seen.has(key(w))).map((w) => ({ code: w.code, message: w.message, file: w.file, source, ...(typeof w.step === 'string' ? { step: w.step } : {}) }));
  if (!fresh.length) return;
  all = [...fresh.reverse(), ...all].slice(0, 200);
  for (const s of subscribers) s(all);
}

function useWarnings(): Warning[] {
  const [w, setW] = useState(all);
  useEffect(() => {
    subscribers.add(setW);
    const off = onEvent((ev) => {
      if (ev.type === 'warning' && typeof ev.message === 'string') addWarnings(ev.source ?? 'server', [ev]);
    });
    return () => {
      subscribers.delete(setW);
      off();
    };
  }, []);
  return w;
}

/** The header's warning count; a click opens the list. */
export function WarningsTray() {
  const list = useWarnings();
  const [open, setOpen] = useState(false);
  return (
    <div className="warnings">
      <button className={list.length ? 'pill warn' : 'pill'} onClick={() => setOpen(!open)} data-testid="warnings-toggle">
        {list.length} warning{list.length === 1 ? '' : 's'}
      </button>
      {open && (
        <ul className="warnings-list" data-testid="warnings-panel">
          {list.length === 0 && <li className="muted">No warnings.</li>}
          {list.map((w, i) => (
            <li key={i} data-code={w.code}>
              <span className="code">{w.code}</span> {w.message}
              {w.file && <div className="muted file">{w.file}</div>}
              <span className="muted">
                {' '}
                · {w.source}
                {w.step ? ` · ${w.step}` : ''}
              </span>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
