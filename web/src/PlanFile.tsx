/** Save the sequence editor's plan to a file, or load one: the YAML or JSON that `darkroom sequence --plan` reads. */
import { useState } from 'react';
import { get, post, q } from './api';
import type { SequenceForm } from './sequenceHooks';
import { toPlan } from './sequenceModel';

export function PlanFile({ form }: { form: SequenceForm }) {
  const [path, setPath] = useState('plans/plan.yaml');
  const [note, setNote] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const run = (f: () => Promise<string>): void => {
    setError(null);
    setNote(null);
    f().then(setNote).catch((e: Error) => setError(e.message));
  };
  const save = () => run(async () => `saved ${(await post('/api/sequence/plan', { path, plan: toPlan(form, form.groups), overwrite: true })).path}`);
  const load = () =>
    run(async () => {
      const r = await get(q('/api/sequence/plan', { path }));
      form.load(r.plan);
      return `loaded ${r.path}`;
    });
  return (
    <>
      <div className="row">
        <span>Plan file</span>
        <input value={path} onChange={(e) => setPath(e.target.value)} className="grow" placeholder="plans/m42.yaml" data-testid="plan-path" />
        <button onClick={save} data-testid="plan-save">Save</button>
        <button onClick={load} data-testid="plan-load">Load</button>
      </div>
      {note && <div className="muted" data-testid="plan-note">{note}</div>}
      {error && <div className="banner error" data-testid="plan-error">{error}</div>}
    </>
  );
}
