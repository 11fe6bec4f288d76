/** Time left: the exposure countdown of the camera panel and the sequence's elapsed / left / ETA line. */
import { useEffect, useState } from 'react';
import { fmt } from './sequenceModel';

/** Re-render every `ms` while `on`. */
function useTick(on: boolean, ms = 200): void {
  const [, setT] = useState(0);
  useEffect(() => {
    if (!on) return;
    const id = setInterval(() => setT((t) => t + 1), ms);
    return () => clearInterval(id);
  }, [on, ms]);
}

/** Seconds of an exposure still to go, in the camera's clock (its rate: simulated ms per real ms). */
export function secondsLeft(job: any, now = Date.now()): number | null {
  if (!job?.exposing || job.phase !== 'exposing') return null;
  return Math.max(0, job.params.exposure - ((now - job.exposing.since) * job.exposing.rate) / 1000);
}

export function ExposureCountdown({ job }: { job: any }) {
  const left = secondsLeft(job);
  useTick(left !== null);
  if (left === null) return null;
  const total = job.params.exposure || 1;
  return (
    <div className="progress" data-testid="exposure-countdown">
      <div className="bar" style={{ width: `${(100 * (total - left)) / total}%` }} />
      <span>exposing · {left.toFixed(1)} s left of {job.params.exposure} s</span>
    </div>
  );
}

const clockTime = (ms: number): string => new Date(ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });

export function SequenceTimes({ status }: { status: any }) {
  if (status.elapsedS === undefined) return null;
  return (
    <>
      <div className="muted status-line" data-testid="seq-times">
        elapsed {fmt(status.elapsedS)} · left {fmt(status.remainingS ?? 0)} · ETA {clockTime(status.eta)}
      </div>
      {status.groups?.length > 1 && (
        <ul className="files group-times" data-testid="seq-group-times">
          {status.groups.map((g: any) => (
            <li key={g.group} className="muted" data-testid="seq-group-eta" data-group={g.group}>
              group {g.group}{g.filter ? ` ${g.filter}` : ''}: {g.done}/{g.total} · left {fmt(g.remainingS)} · ETA {clockTime(g.eta)}
            </li>
          ))}
        </ul>
      )}
    </>
  );
}
