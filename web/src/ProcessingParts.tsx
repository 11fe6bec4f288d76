/** The pieces of the processing panel: the plan (groups, masters, steps with the run's progress) and the results. */
import type { ReactNode } from 'react';
import { q, token } from './api';
import { ProgressBar } from './Progress';
import { fileSource } from './sources';
import type { Source } from './Viewer';

const calibrationOf = (g: any): string => [g.bias && 'bias', g.dark && `dark (${g.darkMode ?? 'dark'})`, g.flat && 'flat'].filter(Boolean).join(' + ') || 'no calibration';

function PlanSummary({ plan }: { plan: any }) {
  return (
    <div className="muted">
      {plan.frames.unique} frames ({Object.entries(plan.frames.byKind).map(([k, v]) => `${v} ${k}`).join(', ')}) · {plan.steps.length} steps · reject {plan.options.reject}, normalize {plan.options.normalize}, weights {plan.options.weights}
    </div>
  );
}

/** A table with a row of cells per item, the last cell muted. */
function MutedLastTable<T>({ items, rowKey, cells }: { items: T[]; rowKey: (t: T) => string; cells: (t: T) => ReactNode[] }) {
  return (
    <table>
      <tbody>
        {items.map((t) => {
          const c = cells(t);
          return (
            <tr key={rowKey(t)}>
              {c.slice(0, -1).map((x, k) => (
                <td key={k}>{x}</td>
              ))}
              <td className="muted">{c[c.length - 1]}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

const lightCells = (g: any): ReactNode[] => [g.target, g.filter ?? '—', <>{g.frames}×{g.exposure}s</>, calibrationOf(g)];
const masterCells = (m: any): ReactNode[] => [m.kind, m.filter ?? '', <>{m.frames} frames</>, m.path];
const stackCells = (s: any): ReactNode[] => [s.object, s.filter, <>{s.frames} frames</>, <>{s.exposure_total_s}s</>, <>{s.rejected_frames.length} rejected</>];

/** The plan's steps, ticked as the run finishes them, with the run's progress bar above. */
function Steps({ steps, run, done }: { steps: any[]; run: any; done: Set<string> }) {
  const finished = (id: string): boolean => done.has(id) || run?.state === 'done';
  return (
    <>
      {run && (
        <ProgressBar testid="run-progress" done={run.done} total={run.total}>
          {run.state} · {run.done}/{run.total} {run.step ?? ''}
        </ProgressBar>
      )}
      <ol className="steps">
        {steps.map((s: any) => (
          <li key={s.id} className={finished(s.id) ? 'done' : run?.step === s.id ? 'current' : ''} title={s.reason}>
            {finished(s.id) ? '✓ ' : ''}
            {s.id}
          </li>
        ))}
      </ol>
    </>
  );
}

export function PlanView({ plan, run, done }: { plan: any; run: any; done: Set<string> }) {
  return (
    <div className="plan" data-testid="plan-view">
      <PlanSummary plan={plan} />
      <h3>Light groups</h3>
      <MutedLastTable items={plan.groups.lights} rowKey={(g: any) => g.id} cells={lightCells} />
      <h3>Masters</h3>
      <MutedLastTable items={plan.masters} rowKey={(m: any) => m.id} cells={masterCells} />
      {plan.warnings.length > 0 && <div className="banner warn">{plan.warnings.join(' · ')}</div>}
      <h3>Steps</h3>
      <Steps steps={plan.steps} run={run} done={done} />
    </div>
  );
}

/** Result files, each with a button that opens it in the viewer. */
function OpenList({ paths, onOpen, testid }: { paths: string[]; onOpen: (s: Source) => void; testid?: string }) {
  return (
    <>
      {paths.map((p: string) => (
        <div key={p} className="row">
          <button onClick={() => onOpen(fileSource(p))} data-testid={testid}>Open</button>
          <span>{p.split('/').pop()}</span>
        </div>
      ))}
    </>
  );
}

function Report({ report }: { report: any }) {
  return (
    <>
      <h3>Report</h3>
      <MutedLastTable items={report.stacks} rowKey={(s: any) => s.path} cells={stackCells} />
      {report.warnings.length > 0 && <div className="banner warn">{report.warnings.join(' · ')}</div>}
    </>
  );
}

/** The URL of a run's preview or report.html (served only when the run recorded it). */
const outputUrl = (out: string, path: string): string => q('/api/processing/output', { out, file: path.slice(out.length + 1), ...(token ? { token } : {}) });

/** The PNG previews and report.html, each opened in a new tab. */
function OutputLinks({ res }: { res: any }) {
  return (
    <>
      <h3>Previews</h3>
      {res.previews.map((p: string) => (
        <div key={p} className="row">
          <a href={outputUrl(res.out, p)} target="_blank" rel="noreferrer" data-testid="open-preview">{p.split('/').pop()}</a>
        </div>
      ))}
      {res.reportHtml && (
        <div className="row">
          <a href={outputUrl(res.out, res.reportHtml)} target="_blank" rel="noreferrer" data-testid="open-report">report.html</a>
        </div>
      )}
    </>
  );
}

export function ResultsView({ res, onOpen }: { res: any; onOpen: (s: Source) => void }) {
  return (
    <div className="results" data-testid="results">
      <h3>Stacks</h3>
      <OpenList paths={res.stacks} onOpen={onOpen} testid="open-stack" />
      <h3>Masters</h3>
      <OpenList paths={res.masters} onOpen={onOpen} />
      <OutputLinks res={res} />
      {res.report && <Report report={res.report} />}
    </div>
  );
}
