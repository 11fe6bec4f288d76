/** Processing: choose a night folder, see the plan, run it with live progress per step, open the results. */
import { useEffect, useState } from 'react';
import { get, onEvent, post, q } from './api';
import type { Source } from './Viewer';

export const fileSource = (path: string): Source => ({
  label: path.split('/').slice(-2).join('/'),
  pixels: q('/api/images/pixels', { path }),
  info: q('/api/images/info', { path }),
  stars: q('/api/images/stars', { path }),
});

export function ProcessingPanel({ night, setNight, onOpen }: { night: string; setNight: (s: string) => void; onOpen: (s: Source) => void }) {
  const [out, setOut] = useState('');
  const [plan, setPlan] = useState<any>(null);
  const [run, setRun] = useState<any>(null);
  const [done, setDone] = useState<Set<string>>(new Set());
  const [res, setRes] = useState<any>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const loadResults = async (o: string): Promise<void> => {
    try {
      setRes(await get(q('/api/processing/results', { out: o })));
    } catch (e) {
      setError((e as Error).message);
    }
  };

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
  }, []);

  const body = () => ({ night, ...(out ? { out } : {}) });
  const doPlan = async (): Promise<void> => {
    setBusy(true);
    setError(null);
    try {
      const p = await post('/api/processing/plan', body());
      setPlan(p);
      setOut(p.out);
    } catch (e) {
      setError((e as Error).message);
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
      setError((e as Error).message);
    }
  };

  const running = run?.state === 'running';
  return (
    <div className="panel" data-testid="processing-panel">
      <h2>Processing</h2>
      {error && <div className="banner error" data-testid="processing-error">{error}</div>}
      <div className="grid2">
        <label>Night folder</label>
        <input value={night} onChange={(e) => setNight(e.target.value)} placeholder="path under a root" data-testid="night" />
        <label>Output</label>
        <input value={out} onChange={(e) => setOut(e.target.value)} placeholder="(default: NIGHT-darkroom)" data-testid="out" />
      </div>
      <div className="row">
        <button onClick={doPlan} disabled={busy || !night} data-testid="plan">Scan &amp; plan</button>
        <button className="primary" onClick={doRun} disabled={!plan || running} data-testid="run">Run</button>
        {out && <button onClick={() => loadResults(out)}>Results</button>}
      </div>
      {plan && (
        <div className="plan" data-testid="plan-view">
          <div className="muted">
            {plan.frames.unique} frames ({Object.entries(plan.frames.byKind).map(([k, v]) => `${v} ${k}`).join(', ')}) · {plan.steps.length} steps · reject {plan.options.reject}, normalize {plan.options.normalize}, weights {plan.options.weights}
          </div>
          <h3>Light groups</h3>
          <table>
            <tbody>
              {plan.groups.lights.map((g: any) => (
                <tr key={g.id}>
                  <td>{g.target}</td>
                  <td>{g.filter ?? '—'}</td>
                  <td>{g.frames}×{g.exposure}s</td>
                  <td className="muted">{[g.bias && 'bias', g.dark && `dark (${g.darkMode ?? 'dark'})`, g.flat && 'flat'].filter(Boolean).join(' + ') || 'no calibration'}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <h3>Masters</h3>
          <table>
            <tbody>
              {plan.masters.map((m: any) => (
                <tr key={m.id}>
                  <td>{m.kind}</td>
                  <td>{m.filter ?? ''}</td>
                  <td>{m.frames} frames</td>
                  <td className="muted">{m.path}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {plan.warnings.length > 0 && <div className="banner warn">{plan.warnings.join(' · ')}</div>}
          <h3>Steps</h3>
          {run && (
            <div className="progress" data-testid="run-progress">
              <div className="bar" style={{ width: `${run.total ? (100 * run.done) / run.total : 0}%` }} />
              <span>
                {run.state} · {run.done}/{run.total} {run.step ?? ''}
              </span>
            </div>
          )}
          <ol className="steps">
            {plan.steps.map((s: any) => (
              <li key={s.id} className={done.has(s.id) || run?.state === 'done' ? 'done' : run?.step === s.id ? 'current' : ''} title={s.reason}>
                {done.has(s.id) || run?.state === 'done' ? '✓ ' : ''}
                {s.id}
              </li>
            ))}
          </ol>
        </div>
      )}
      {res && (
        <div className="results" data-testid="results">
          <h3>Stacks</h3>
          {res.stacks.map((p: string) => (
            <div key={p} className="row">
              <button onClick={() => onOpen(fileSource(p))} data-testid="open-stack">Open</button>
              <span>{p.split('/').pop()}</span>
            </div>
          ))}
          <h3>Masters</h3>
          {res.masters.map((p: string) => (
            <div key={p} className="row">
              <button onClick={() => onOpen(fileSource(p))}>Open</button>
              <span>{p.split('/').pop()}</span>
            </div>
          ))}
          {res.report && (
            <>
              <h3>Report</h3>
              <table>
                <tbody>
                  {res.report.stacks.map((s: any) => (
                    <tr key={s.path}>
                      <td>{s.object}</td>
                      <td>{s.filter}</td>
                      <td>{s.frames} frames</td>
                      <td>{s.exposure_total_s}s</td>
                      <td className="muted">{s.rejected_frames.length} rejected</td>
                    </tr>
                  ))}
                </tbody>
              </table>
              {res.report.warnings.length > 0 && <div className="banner warn">{res.report.warnings.join(' · ')}</div>}
            </>
          )}
        </div>
      )}
    </div>
  );
}
