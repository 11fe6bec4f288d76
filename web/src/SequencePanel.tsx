/** Sequence editor (like MaxIm's Autosave): up to 16 groups, order, base name, live duration estimate, run control. */
import { post } from './api';
import { useStatusAction } from './actions';
import { NEEDS_CAMERA, useConnected } from './connection';
import { useEstimate, useSequenceForm, useSequenceStatus } from './sequenceHooks';
import { estimateText, MAX_GROUPS, toPlan } from './sequenceModel';
import { GroupsTable, SequenceControls, SequenceProgress, SequenceSettings } from './SequenceParts';
import { PlanFile } from './PlanFile';
import { DownloadBar, useSourceDownload } from './Download';
import { AutomationForm } from './AutomationForm';
import type { Source } from './Viewer';

export function SequencePanel({ onOpen }: { onOpen: (s: Source) => void }) {
  const form = useSequenceForm();
  const { groups } = form;
  const { status, setStatus, filters, maxBin } = useSequenceStatus();
  const { estimate, estError } = useEstimate(form, groups, filters);
  const { error, act } = useStatusAction<any>(setStatus);
  const running = !!status && ['cooling', 'running', 'paused'].includes(status.state);
  const connected = useConnected();
  const download = useSourceDownload('sequence');

  return (
    <div className="panel">
      <h2>Sequence</h2>
      <SequenceSettings form={form} />
      <AutomationForm edit={form} />
      <PlanFile form={form} />
      <h3>Groups ({groups.length} of {MAX_GROUPS})</h3>
      <GroupsTable form={form} filters={filters} maxBin={maxBin} />
      <div className="row">
        <button onClick={() => form.addGroup(filters)} disabled={groups.length >= MAX_GROUPS} data-testid="seq-add-group">
          + group
        </button>
        <span className="spacer" />
        <span data-testid="seq-estimate" className={estError ? 'error-text' : 'muted'}>
          {estimateText(estimate, estError)}
        </span>
      </div>
      <SequenceControls status={status} running={running} canStart={!estError && connected} act={act} start={() => post('/api/sequence/start', { plan: toPlan(form, groups), out: form.out })} />
      {!connected && <div className="muted" data-testid="seq-needs-camera">{NEEDS_CAMERA} to start the sequence.</div>}
      {error && <div className="banner error" data-testid="seq-error">{error}</div>}
      {running && download && <DownloadBar d={download} testid="seq-download-progress" />}
      {status && status.state !== 'idle' && <SequenceProgress status={status} onOpen={onOpen} />}
    </div>
  );
}
