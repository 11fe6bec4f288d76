/** Sequence editor (like MaxIm's Autosave): up to 16 groups, order, base name, live duration estimate, run control. */
import { useEffect, useState } from 'react';
import { get, onEvent, post } from './api';
import { fileSource } from './ProcessingPanel';
import type { Source } from './Viewer';

const TYPES = ['light', 'dark', 'bias', 'flat', 'flatdark'];
const MAX_GROUPS = 16;

interface Group {
  type: string;
  filter: string;
  exposure: number;
  binning: number;
  count: number;
  suffix: string;
  delay: number;
  active: boolean;
}

const newGroup = (filter = ''): Group => ({ type: 'light', filter, exposure: 60, binning: 1, count: 5, suffix: '', delay: 0, active: true });

function fmt(s: number): string {
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = Math.round(s % 60);
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m${String(sec).padStart(2, '0')}s` : `${m}m${String(sec).padStart(2, '0')}s`;
}

export function SequencePanel({ onOpen }: { onOpen: (s: Source) => void }) {
  const [base, setBase] = useState('frame');
  const [object, setObject] = useState('');
  const [order, setOrder] = useState<'cycle' | 'group'>('cycle');
  const [out, setOut] = useState('sequence');
  const [groups, setGroups] = useState<Group[]>([newGroup()]);
  const [filters, setFilters] = useState<string[]>([]);
  const [estimate, setEstimate] = useState<any>(null);
  const [estError, setEstError] = useState<string | null>(null);
  const [status, setStatus] = useState<any>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    const load = () => get('/api/camera/status').then((s) => setFilters(s.filters ?? [])).catch(() => undefined);
    void load();
    void get('/api/sequence/status').then(setStatus).catch(() => undefined);
    return onEvent((ev) => {
      if (ev.type === 'sequence') setStatus({ ...ev.status });
      if (ev.type === 'hello' && ev.sequence) setStatus(ev.sequence);
      if (ev.type === 'connected' || ev.type === 'disconnected') void load();
    });
  }, []);

  const plan = () => ({
    base,
    object,
    order,
    groups: groups.map((g) => ({ type: g.type, ...(g.filter ? { filter: g.filter } : {}), exposure: g.exposure, binning: g.binning, count: g.count, suffix: g.suffix, delay: g.delay, active: g.active })),
  });

  // live estimate from the server
  useEffect(() => {
    const id = setTimeout(() => {
      post('/api/sequence/estimate', { plan: plan() })
        .then((e) => {
          setEstimate(e);
          setEstError(null);
        })
        .catch((e: Error) => {
          setEstimate(null);
          setEstError(e.message);
        });
    }, 150);
    return () => clearTimeout(id);
  }, [base, object, order, groups, filters]);

  const set = (i: number, patch: Partial<Group>) => setGroups((gs) => gs.map((g, k) => (k === i ? { ...g, ...patch } : g)));
  const num = (v: string) => (v === '' ? 0 : Number(v));
  const act = (f: () => Promise<any>) => {
    setError(null);
    f().then((s) => s && setStatus(s)).catch((e: Error) => setError(e.message));
  };
  const running = status && ['cooling', 'running', 'paused'].includes(status.state);

  return (
    <div className="panel">
      <h2>Sequence</h2>
      <div className="grid2">
        <label>Base name</label>
        <input value={base} onChange={(e) => setBase(e.target.value)} data-testid="seq-base" />
        <label>Object</label>
        <input value={object} onChange={(e) => setObject(e.target.value)} data-testid="seq-object" />
        <label>Order</label>
        <select value={order} onChange={(e) => setOrder(e.target.value as 'cycle' | 'group')} data-testid="seq-order">
          <option value="cycle">cycle through groups</option>
          <option value="group">group after group</option>
        </select>
        <label>Output folder</label>
        <input value={out} onChange={(e) => setOut(e.target.value)} data-testid="seq-out" />
      </div>
      <h3>Groups ({groups.length} of {MAX_GROUPS})</h3>
      <table className="seq-groups">
        <thead>
          <tr className="muted">
            <td>on</td><td>type</td><td>filter</td><td>exp s</td><td>bin</td><td>n</td><td>suffix</td><td>delay</td><td />
          </tr>
        </thead>
        <tbody>
          {groups.map((g, i) => (
            <tr key={i} data-testid={`seq-group-${i}`}>
              <td><input type="checkbox" checked={g.active} onChange={(e) => set(i, { active: e.target.checked })} data-testid={`g-active-${i}`} /></td>
              <td>
                <select value={g.type} onChange={(e) => set(i, { type: e.target.value })} data-testid={`g-type-${i}`}>
                  {TYPES.map((t) => <option key={t}>{t}</option>)}
                </select>
              </td>
              <td>
                <select value={g.filter} onChange={(e) => set(i, { filter: e.target.value })} data-testid={`g-filter-${i}`}>
                  <option value="">-</option>
                  {filters.map((f) => <option key={f}>{f}</option>)}
                </select>
              </td>
              <td><input className="num" type="number" min={0} value={g.exposure} onChange={(e) => set(i, { exposure: num(e.target.value) })} data-testid={`g-exposure-${i}`} /></td>
              <td>
                <select value={g.binning} onChange={(e) => set(i, { binning: Number(e.target.value) })} data-testid={`g-binning-${i}`}>
                  {[1, 2, 3, 4].map((b) => <option key={b} value={b}>{b}</option>)}
                </select>
              </td>
              <td><input className="num" type="number" min={0} value={g.count} onChange={(e) => set(i, { count: num(e.target.value) })} data-testid={`g-count-${i}`} /></td>
              <td><input className="short" value={g.suffix} onChange={(e) => set(i, { suffix: e.target.value })} data-testid={`g-suffix-${i}`} /></td>
              <td><input className="num" type="number" min={0} value={g.delay} onChange={(e) => set(i, { delay: num(e.target.value) })} data-testid={`g-delay-${i}`} /></td>
              <td><button onClick={() => setGroups((gs) => gs.filter((_, k) => k !== i))} disabled={groups.length <= 1} title="remove">×</button></td>
            </tr>
          ))}
        </tbody>
      </table>
      <div className="row">
        <button onClick={() => setGroups((gs) => [...gs, newGroup(filters[gs.length % Math.max(1, filters.length)] ?? '')])} disabled={groups.length >= MAX_GROUPS} data-testid="seq-add-group">
          + group
        </button>
        <span className="spacer" />
        <span data-testid="seq-estimate" className={estError ? 'error-text' : 'muted'}>
          {estError ? estError : estimate ? `${estimate.frames} frames · ${fmt(estimate.estimate.totalS)} (exposures ${fmt(estimate.estimate.exposureS)}, downloads ${fmt(estimate.estimate.downloadS)}, filters ${fmt(estimate.estimate.filterS)})` : '…'}
        </span>
      </div>
      <div className="row">
        <button className="primary" disabled={!!running || !!estError} onClick={() => act(() => post('/api/sequence/start', { plan: plan(), out }))} data-testid="seq-start">Start</button>
        <button disabled={!running || status?.state === 'paused'} onClick={() => act(() => post('/api/sequence/pause'))} data-testid="seq-pause">Pause</button>
        <button disabled={status?.state !== 'paused'} onClick={() => act(() => post('/api/sequence/resume'))} data-testid="seq-resume">Resume</button>
        <button disabled={!running} onClick={() => act(() => post('/api/sequence/abort'))} data-testid="seq-abort">Abort</button>
      </div>
      {error && <div className="banner error" data-testid="seq-error">{error}</div>}
      {status && status.state !== 'idle' && (
        <>
          <div className="progress" data-testid="seq-progress">
            <div className="bar" style={{ width: `${status.total ? (100 * status.saved.length) / status.total : 0}%` }} />
            <span>
              {status.state} · frame {status.current} of {status.total} · {status.phase}
            </span>
          </div>
          {status.error && <div className="banner error">{status.error}</div>}
          {status.currentFile && <div className="muted status-line" data-testid="seq-current-file">last saved: {status.currentFile.split('/').pop()}</div>}
          <h3>Saved frames ({status.saved.length})</h3>
          <ul className="files" data-testid="seq-frames">
            {status.saved.map((f: any) => (
              <li key={f.path}>
                <a onClick={() => onOpen(fileSource(f.path))} data-testid="seq-frame">{f.path.split('/').pop()}</a>{' '}
                <span className="muted">
                  {f.type} {f.filter ?? ''} {f.exposure} s
                </span>
              </li>
            ))}
          </ul>
        </>
      )}
    </div>
  );
}
