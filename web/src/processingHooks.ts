/** The processing panel's state: the plan, the run with its live progress, the results, and the calls that fill them. */
import { useEffect, useState, type Dispatch, type SetStateAction } from 'react';
import { get, onEvent, post, q } from './api';
import { addWarnings } from './warnings';

export interface Processing {
  out: string;
  setOut: (s: string) => void;
  plan: any;
  run: any;
  done: Set<string>;
  res: any;
  error: string | null;
  busy: boolean;
  loadResults: (o: string) => Promise<void>;
  doPlan: () => Promise<void>;
  doRun: () => Promise<void>;
}

/** Follows the run's progress and end through server events, for the life of the panel. */
function useRunEvents(setRun: Dispatch<SetStateAction<any>>, setDone: Dispatch<SetStateAction<Set<string>>>, loadResults: (o: string) => Promise<void>, setError: (e: string) => void): void {
  useEffect(() => {
    const off = onEvent((ev) => {
      if (ev.type === 'run-progress') {
        setRun((r: any) => (r ? { ...r, done: ev.done, total: ev.total, step: ev.step } : r));
        setDone((d) => new Set(d).add(ev.step));
      }
      if (ev.type === 'run') {
        setRun(ev.status);
        if (ev.status.state === 'done') void loadResults(ev.status.out);
        if (ev.status.state === 'failed') setError(ev.status.error);
      }
    });
    return () => {
      off();
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);
}

export function useProcessing(night: string): Processing {
  const [out, setOut] = useState('');
  const [plan, setPlan] = useState<any>(null);
  const [run, setRun] = useState<any>(null);
  const [done, setDone] = useState<Set<string>>(new Set());
  const [res, setRes] = useState<any>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const fail = (e: unknown): void => setError((e as Error).message);
  const loadResults = async (o: string): Promise<void> => {
    try {
      setRes(await get(q('/api/processing/results', { out: o })));
    } catch (e) {
      fail(e);
    }
  };
  useRunEvents(setRun, setDone, loadResults, setError);

  const body = () => ({ night, ...(out ? { out } : {}) });
  const doPlan = async (): Promise<void> => {
    setBusy(true);
    setError(null);
    try {
      const p = await post('/api/processing/plan', body());
      addWarnings('plan', p.warningEvents ?? []);
      setPlan(p);
      setOut(p.out);
    } catch (e) {
      fail(e);
    } finally {
      setBusy(false);
    }
  };
  const doRun = async (): Promise<void> => {
    setError(null);
    setDone(new Set());
    setRes(null);
    try {
      setRun(await post('/api/processing/run', body()));
    } catch (e) {
      fail(e);
    }
  };
  return { out, setOut, plan, run, done, res, error, busy, loadResults, doPlan, doRun };
}
