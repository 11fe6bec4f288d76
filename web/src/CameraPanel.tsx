/** Camera console (like MaxIm's Camera Control): device, cooler with a live chart, exposure. */
import { useState } from 'react';
import { useCamera } from './cameraHooks';
import { CameraStateLine, CoolerSection, DEFAULT_EXPOSURE, DeviceRow, ExposeControls, ExposeForm } from './CameraParts';
import { SaveImage } from './SaveImage';
import { ExposureCountdown } from './Countdown';
import { DownloadBar } from './Download';
import { CameraSettings } from './CameraSettings';
import type { Source } from './Viewer';

export function CameraPanel({ onImage }: { onImage: (s: Source) => void }) {
  const { status, samples, error, busy, act } = useCamera(onImage);
  const [spec, setSpec] = useState('sim');
  const [setpoint, setSetpoint] = useState(-10);
  const [exp, setExp] = useState(DEFAULT_EXPOSURE);
  return (
    <div className="panel" data-testid="camera-panel">
      <h2>Camera</h2>
      {(error || status.error) && <div className="banner error" data-testid="camera-error">{error ?? status.error}</div>}
      <DeviceRow spec={spec} setSpec={setSpec} connected={status.connected} busy={busy} act={act} />
      {status.connected && (
        <>
          <CameraStateLine status={status} />
          <CoolerSection cooler={status.cooler} samples={samples} setpoint={setpoint} setSetpoint={setSetpoint} busy={busy} act={act} />
          <h3>Expose</h3>
          <ExposeForm exp={exp} setExp={setExp} status={status} />
          <ExposeControls exp={exp} job={status.exposure} busy={busy} act={act} />
          <ExposureCountdown job={status.exposure} />
          {status.exposure?.phase === 'downloading' && <DownloadBar d={status.exposure.download} />}
          {status.transfer && status.exposure?.phase !== 'downloading' && <DownloadBar d={status.transfer} label={status.transfer.source} testid="runner-download-progress" />}
          <SaveImage lastImage={status.lastImage} job={status.exposure} />
          <CameraSettings connected={status.connected} />
        </>
      )}
    </div>
  );
}
