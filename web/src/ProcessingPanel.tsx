/** Processing: choose a night folder, see the plan, run it with live progress per step, open the results. */
import { useProcessing } from './processingHooks';
import { PlanView, ResultsView } from './ProcessingParts';
import type { Source } from './Viewer';

export { fileSource } from './sources';

export function ProcessingPanel({ night, setNight, onOpen }: { night: string; setNight: (s: string) => void; onOpen: (s: Source) => void }) {
  const { out, setOut, plan, run, done, res, error, busy, loadResults, doPlan, doRun } = useProcessing(night);
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
      {plan && <PlanView plan={plan} run={run} done={done} />}
      {res && <ResultsView res={res} onOpen={onOpen} />}
    </div>
  );
}
