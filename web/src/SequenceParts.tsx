/** The pieces of the sequence editor: plan settings, the groups table, run controls and the run's progress. */
import { post } from './api';
import { ProgressBar } from './Progress';
import { SequenceTimes } from './Countdown';
import type { SequenceForm } from './sequenceHooks';
import { TYPES, type Group, type Order } from './sequenceModel';
import { fileSource } from './sources';
import type { Source } from './Viewer';

const num = (v: string) => (v === '' ? 0 : Number(v));

export function SequenceSettings({ form }: { form: SequenceForm }) {
  return (
    <div className="grid2">
      <label>Base name</label>
      <input value={form.base} onChange={(e) => form.setBase(e.target.value)} data-testid="seq-base" />
      <label>Object</label>
      <input value={form.object} onChange={(e) => form.setObject(e.target.value)} data-testid="seq-object" />
      <label>Order</label>
      <select value={form.order} onChange={(e) => form.setOrder(e.target.value as Order)} data-testid="seq-order">
        <option value="cycle">cycle through groups</option>
        <option value="group">group after group</option>
      </select>
      <label>Output folder</label>
      <input value={form.out} onChange={(e) => form.setOut(e.target.value)} data-testid="seq-out" />
    </div>
  );
}

function GroupRow({ g, i, filters, maxBin, set, onRemove, canRemove }: { g: Group; i: number; filters: string[]; maxBin: number; set: (patch: Partial<Group>) => void; onRemove: () => void; canRemove: boolean }) {
  return (
    <tr data-testid={`seq-group-${i}`}>
      <td><input type="checkbox" checked={g.active} onChange={(e) => set({ active: e.target.checked })} data-testid={`g-active-${i}`} /></td>
      <td>
        <select value={g.type} onChange={(e) => set({ type: e.target.value })} data-testid={`g-type-${i}`}>
          {TYPES.map((t) => <option key={t}>{t}</option>)}
        </select>
      </td>
      <td>
        <select value={g.filter} onChange={(e) => set({ filter: e.target.value })} data-testid={`g-filter-${i}`}>
          <option value="">-</option>
          {filters.map((f) => <option key={f}>{f}</option>)}
        </select>
      </td>
      <td><input className="num" type="number" min={0} value={g.exposure} onChange={(e) => set({ exposure: num(e.target.value) })} data-testid={`g-exposure-${i}`} /></td>
      <td>
        <select value={g.binning} onChange={(e) => set({ binning: Number(e.target.value) })} data-testid={`g-binning-${i}`}>
          {binnings(maxBin, g.binning).map((b) => <option key={b} value={b} disabled={b > maxBin}>{b}</option>)}
        </select>
      </td>
      <td><input className="num" type="number" min={0} value={g.count} onChange={(e) => set({ count: num(e.target.value) })} data-testid={`g-count-${i}`} /></td>
      <td><input className="short" value={g.suffix} onChange={(e) => set({ suffix: e.target.value })} data-testid={`g-suffix-${i}`} /></td>
      <td><input className="num" type="number" min={0} value={g.delay} onChange={(e) => set({ delay: num(e.target.value) })} data-testid={`g-delay-${i}`} /></td>
      <td><button onClick={onRemove} disabled={!canRemove} title="remove">×</button></td>
    </tr>
  );
}

/** The binnings the camera has (1..maxBin), plus the group's own when it is larger (a loaded plan), shown disabled. */
export const binnings = (maxBin: number, current: number): number[] => Array.from({ length: Math.max(maxBin, current) }, (_, k) => k + 1);

export function GroupsTable({ form, filters, maxBin }: { form: SequenceForm; filters: string[]; maxBin: number }) {
  const { groups } = form;
  return (
    <table className="seq-groups">
      <thead>
        <tr className="muted">
          <td>on</td><td>type</td><td>filter</td><td>exp s</td><td>bin</td><td>n</td><td>suffix</td><td>delay</td><td />
        </tr>
      </thead>
      <tbody>
        {groups.map((g, i) => (
          <GroupRow key={i} g={g} i={i} filters={filters} maxBin={maxBin} set={(patch) => form.setGroup(i, patch)} onRemove={() => form.removeGroup(i)} canRemove={groups.length > 1} />
        ))}
      </tbody>
    </table>
  );
}

/** Start, pause, resume and abort, each enabled in the states where it applies. */
export function SequenceControls({ status, running, canStart, act, start }: { status: any; running: boolean; canStart: boolean; act: (f: () => Promise<any>) => void; start: () => Promise<any> }) {
  return (
    <div className="row">
      <button className="primary" disabled={running || !canStart} onClick={() => act(start)} data-testid="seq-start">Start</button>
      <button disabled={!running || status?.state === 'paused'} onClick={() => act(() => post('/api/sequence/pause'))} data-testid="seq-pause">Pause</button>
      <button disabled={status?.state !== 'paused'} onClick={() => act(() => post('/api/sequence/resume'))} data-testid="seq-resume">Resume</button>
      <button disabled={!running} onClick={() => act(() => post('/api/sequence/abort'))} data-testid="seq-abort">Abort</button>
    </div>
  );
}

/** The running (or finished) sequence: progress, errors, the last file and the saved frames to open. */
export function SequenceProgress({ status, onOpen }: { status: any; onOpen: (s: Source) => void }) {
  return (
    <>
      <ProgressBar testid="seq-progress" done={status.saved.length} total={status.total}>
        {status.state} · frame {status.current} of {status.total} · {status.phase}
      </ProgressBar>
      <SequenceTimes status={status} />
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
  );
}
