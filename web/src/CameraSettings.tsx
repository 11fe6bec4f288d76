/**
 * The camera's vendor settings (QSI Advanced Setup: fan, gain, shutter priority, anti-blooming,
 * pre-exposure flush, readout, LED, beeper, pixel mask) and its error conditions, from
 * GET /api/camera/settings; a change is POSTed at once and the answer shown. Cameras without these
 * settings show nothing.
 */
import { useCallback, useEffect, useState } from 'react';
import { get, post } from './api';

interface Condition {
  code: string;
  number: number;
  severity: 'soft' | 'hard';
  message: string;
}

interface SettingsState {
  settings: {
    fanMode: string;
    gain: string;
    shutterPriority: string;
    antiBlooming: boolean;
    preFlush: number;
    readout: string;
    led: boolean;
    beeper: boolean;
    pixelMask: { x: number; y: number }[];
  };
  capabilities: { fanModes: string[]; gainModes: string[]; shutterPriorities: string[]; readoutModes: string[]; preFlushCycles: number[]; antiBloomingSelectable: boolean };
  conditions: Condition[];
  fanOverride: boolean;
}

const maskText = (m: { x: number; y: number }[]): string => m.map((p) => `${p.x},${p.y}`).join(';');

function parseMask(text: string): { x: number; y: number }[] | null {
  const t = text.trim();
  if (t === '' || t === 'none') return [];
  const out: { x: number; y: number }[] = [];
  for (const pair of t.split(/[;\s]+/).filter(Boolean)) {
    const m = /^(\d+),(\d+)$/.exec(pair);
    if (!m) return null;
    out.push({ x: Number(m[1]), y: Number(m[2]) });
  }
  return out;
}

function Choice({ label, value, values, onChange, testid }: { label: string; value: string; values: string[]; onChange: (v: string) => void; testid: string }) {
  return (
    <label>
      {label}{' '}
      <select value={value} onChange={(e) => onChange(e.target.value)} disabled={values.length < 2} data-testid={testid}>
        {values.map((v) => (
          <option key={v} value={v}>{v}</option>
        ))}
      </select>
    </label>
  );
}

export function CameraSettings({ connected }: { connected: boolean }) {
  const [st, setSt] = useState<SettingsState | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [mask, setMask] = useState('');
  const load = useCallback(() => {
    get<SettingsState>('/api/camera/settings').then(
      (s) => {
        setSt(s);
        setMask(maskText(s.settings.pixelMask));
      },
      () => setSt(null),
    );
  }, []);
  useEffect(() => {
    if (!connected) return setSt(null);
    load();
    const t = setInterval(load, 5000);
    return () => clearInterval(t);
  }, [connected, load]);
  if (!st) return null;
  const change = (patch: Record<string, unknown>): void => {
    setError(null);
    post<SettingsState>('/api/camera/settings', patch).then(setSt, (e: Error) => setError(e.message));
  };
  const s = st.settings;
  const c = st.capabilities;
  const onOff = (b: boolean): string => (b ? 'on' : 'off');
  return (
    <div data-testid="camera-settings">
      <h3>Settings</h3>
      {error && <div className="banner error" data-testid="settings-error">{error}</div>}
      {st.conditions.map((x) => (
        <div key={x.code} className={`banner ${x.severity === 'hard' ? 'error' : 'warn'}`} data-testid="camera-condition">{x.message}</div>
      ))}
      <div className="row">
        <Choice label="Fan" value={s.fanMode} values={c.fanModes} onChange={(v) => change({ fanMode: v })} testid="set-fan" />
        {st.fanOverride && <span data-testid="fan-override">(full speed: over temperature)</span>}
        <Choice label="Gain" value={s.gain} values={c.gainModes} onChange={(v) => change({ gain: v })} testid="set-gain" />
        <Choice label="Readout" value={s.readout} values={c.readoutModes} onChange={(v) => change({ readout: v })} testid="set-readout" />
      </div>
      <div className="row">
        <Choice label="Shutter" value={s.shutterPriority} values={c.shutterPriorities} onChange={(v) => change({ shutterPriority: v })} testid="set-shutter" />
        <Choice label="Pre-flush" value={String(s.preFlush)} values={c.preFlushCycles.map(String)} onChange={(v) => change({ preFlush: Number(v) })} testid="set-preflush" />
        <Choice label="Anti-blooming" value={onOff(s.antiBlooming)} values={c.antiBloomingSelectable ? ['on', 'off'] : [onOff(s.antiBlooming)]} onChange={(v) => change({ antiBlooming: v })} testid="set-abg" />
      </div>
      <div className="row">
        <Choice label="LED" value={onOff(s.led)} values={['on', 'off']} onChange={(v) => change({ led: v })} testid="set-led" />
        <Choice label="Beeper" value={onOff(s.beeper)} values={['on', 'off']} onChange={(v) => change({ beeper: v })} testid="set-beeper" />
      </div>
      <div className="row">
        <label className="grow">
          Pixel mask (x,y;x,y){' '}
          <input value={mask} onChange={(e) => setMask(e.target.value)} className="grow" data-testid="set-mask" />
        </label>
        <button
          onClick={() => {
            const m = parseMask(mask);
            if (m) change({ pixelMask: m });
            else setError(`pixel mask: '${mask}' is not a list of x,y pixels (e.g. 120,45;300,17)`);
          }}
          data-testid="set-mask-apply"
        >
          Apply mask
        </button>
        <span data-testid="mask-count">{s.pixelMask.length} masked</span>
      </div>
    </div>
  );
}
