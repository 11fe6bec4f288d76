/** The pieces of the camera console: device row, status line, cooler with its chart, exposure form and controls. */
import { post } from './api';
import { useCanvas2d } from './canvas';
import type { Act, Sample } from './cameraHooks';

export interface Exposure {
  type: string;
  exposure: number;
  binning: number;
  filter: string;
  delay: number;
}

export const DEFAULT_EXPOSURE: Exposure = { type: 'light', exposure: 10, binning: 1, filter: '', delay: 0 };

const specKind = (spec: string): string => (spec.startsWith('indi') ? 'indi' : spec.startsWith('alpaca') ? 'alpaca' : 'sim');
const kindSpec = (kind: string): string => (kind === 'sim' ? 'sim' : kind === 'indi' ? 'indi://127.0.0.1:7624' : 'alpaca://127.0.0.1:11111/0');

/** Time-axis ticks (every 10 s, 15 s, 30 s, 1, 2, 5 ... 120 minutes: the first at least 60 px apart) between t0 and t1 (ms). */
export function timeTicks(t0: number, t1: number, width: number): number[] {
  const span = Math.max(1, t1 - t0);
  const step = [1 / 6, 0.25, 0.5, 1, 2, 5, 10, 15, 30, 60, 120].map((m) => m * 60_000).find((s) => (s / span) * width >= 60) ?? 240 * 60_000;
  const out: number[] = [];
  for (let t = Math.ceil(t0 / step) * step; t <= t1; t += step) out.push(t);
  return out;
}

/** A tick's clock time: HH:MM, with seconds when the ticks are under a minute apart. */
const clockLabel = (t: number, ticks: number[]): string => {
  const secs = ticks.length > 1 && ticks[1]! - ticks[0]! < 60_000;
  return new Date(t).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', ...(secs ? { second: '2-digit' } : {}), hour12: false });
};

/** CCD temperature (red), cooler power (amber, 0-100 %) and, only while the cooler is on, its set point; a clock-time axis below. */
export function Chart({ samples }: { samples: Sample[] }) {
  const on = samples.filter((s) => s.on);
  const t0 = samples[0]?.t ?? 0;
  const t1 = Math.max(samples[samples.length - 1]?.t ?? 0, t0 + 1);
  const ticks = timeTicks(t0, t1, 270);
  const ref = useCanvas2d((ctx, W, H) => {
    if (samples.length < 2) return;
    const temps = [...samples.map((s) => s.ccdTemp), ...on.map((s) => s.setpoint)];
    let lo = Math.floor(Math.min(...temps) - 1);
    let hi = Math.ceil(Math.max(...temps) + 1);
    if (hi - lo < 4) hi = lo + 4;
    const B = H - 14;
    const X = (t: number): number => ((t - t0) / (t1 - t0)) * (W - 30) + 28;
    const Y = (v: number): number => B - 2 - ((v - lo) / (hi - lo)) * (B - 6);
    ctx.fillStyle = '#7a6666';
    ctx.font = '10px system-ui';
    ctx.fillText(`${hi}°`, 2, 10);
    ctx.fillText(`${lo}°`, 2, B - 2);
    ctx.strokeStyle = '#2a2228';
    for (const t of ticks) {
      ctx.beginPath();
      ctx.moveTo(X(t), 2);
      ctx.lineTo(X(t), B);
      ctx.stroke();
      const label = clockLabel(t, ticks);
      ctx.fillText(label, Math.min(W - ctx.measureText(label).width - 2, Math.max(28, X(t) - ctx.measureText(label).width / 2)), H - 2);
    }
    const line = (f: (s: Sample) => number, y: (v: number) => number, color: string, draw: (s: Sample) => boolean = () => true): void => {
      ctx.strokeStyle = color;
      ctx.beginPath();
      let pen = false;
      for (const s of samples) {
        if (!draw(s)) {
          pen = false;
          continue;
        }
        if (pen) ctx.lineTo(X(s.t), y(f(s)));
        else ctx.moveTo(X(s.t), y(f(s)));
        pen = true;
      }
      ctx.stroke();
    };
    line((s) => s.power, (v) => B - 2 - (v / 100) * (B - 6), '#5a4a2a');
    line((s) => s.setpoint, Y, '#6a3030', (s) => s.on);
    line((s) => s.ccdTemp, Y, '#e05050');
  }, [samples]);
  return <canvas ref={ref} width={300} height={124} className="chart cooler" data-testid="cooler-chart" data-setpoint-samples={on.length} data-time-axis={ticks.map((t) => clockLabel(t, ticks)).join(' ')} />;
}

/** Device kind, address and the connect / disconnect button. */
export function DeviceRow({ spec, setSpec, connected, busy, act }: { spec: string; setSpec: (s: string) => void; connected: boolean; busy: boolean; act: Act }) {
  return (
    <div className="row">
      <select value={specKind(spec)} onChange={(e) => setSpec(kindSpec(e.target.value))} disabled={connected} data-testid="device-kind">
        <option value="sim">Simulator</option>
        <option value="indi">INDI</option>
        <option value="alpaca">Alpaca</option>
      </select>
      <input value={spec} onChange={(e) => setSpec(e.target.value)} disabled={connected || spec === 'sim'} className="grow" />
      {connected ? (
        <button onClick={() => act(() => post('/api/devices/disconnect'))} disabled={busy} data-testid="disconnect">Disconnect</button>
      ) : (
        <button onClick={() => act(() => post('/api/devices/connect', { spec }))} disabled={busy} data-testid="connect">Connect</button>
      )}
    </div>
  );
}

export function CameraStateLine({ status }: { status: any }) {
  return (
    <div className="status-line" data-testid="camera-state">
      <b>{status.name}</b> · {status.state} · bin {status.binning?.x}x{status.binning?.y}
      {status.filter !== undefined && ` · ${status.filter ?? 'moving'}`}
    </div>
  );
}

function CoolerReadout({ c }: { c: any }) {
  return (
    <div className="row">
      <span className={c?.on ? 'pill on' : 'pill'}>{c?.on ? 'ON' : 'OFF'}</span>
      <span className="big" data-testid="ccd-temp">{c ? `${c.ccdTemp.toFixed(2)} °C` : '—'}</span>
      <span className="muted">power {c && Number.isFinite(c.power) ? `${c.power.toFixed(0)}%` : 'n/a'}</span>
      {c?.locked && <span className="pill ok">locked</span>}
      {c?.poorRegulation && <span className="pill warn">poor regulation</span>}
    </div>
  );
}

/** Cooler state, set point with cool / warm-up buttons, and the temperature chart. */
export function CoolerSection(p: { cooler: any; samples: Sample[]; setpoint: number; setSetpoint: (v: number) => void; busy: boolean; act: Act }) {
  const { setpoint, busy, act } = p;
  return (
    <>
      <h3>Cooler</h3>
      <CoolerReadout c={p.cooler} />
      <div className="row">
        <label>
          Set point <input type="number" value={setpoint} step={1} onChange={(e) => p.setSetpoint(Number(e.target.value))} style={{ width: 60 }} data-testid="setpoint" /> °C
        </label>
        <button onClick={() => act(() => post('/api/camera/cooler', { on: true, setpoint }))} disabled={busy} data-testid="cooler-on">Cool</button>
        <button onClick={() => act(() => post('/api/camera/cooler', { on: false }))} disabled={busy} data-testid="cooler-off">Warm up</button>
      </div>
      <Chart samples={p.samples} />
      <div className="legend muted">
        <span style={{ color: '#e05050' }}>CCD</span> · <span style={{ color: '#a05050' }}>set point</span> · <span style={{ color: '#8a7a4a' }}>power</span>
      </div>
    </>
  );
}

/** Type, filter, exposure, binning and delay of the next exposure. */
export function ExposeForm({ exp, setExp, status }: { exp: Exposure; setExp: (e: Exposure) => void; status: any }) {
  return (
    <div className="grid2">
      <label>Type</label>
      <select value={exp.type} onChange={(e) => setExp({ ...exp, type: e.target.value })} data-testid="exp-type">
        {['light', 'dark', 'bias', 'flat', 'flatdark'].map((t) => (
          <option key={t}>{t}</option>
        ))}
      </select>
      <label>Filter</label>
      <select value={exp.filter} onChange={(e) => setExp({ ...exp, filter: e.target.value })} data-testid="exp-filter" disabled={!status.filters?.length}>
        <option value="">(current)</option>
        {(status.filters ?? []).map((f: string) => (
          <option key={f}>{f}</option>
        ))}
      </select>
      <label>Exposure (s)</label>
      <input type="number" min={0} step={0.1} value={exp.exposure} onChange={(e) => setExp({ ...exp, exposure: Number(e.target.value) })} data-testid="exp-seconds" />
      <label>Binning</label>
      <select value={exp.binning} onChange={(e) => setExp({ ...exp, binning: Number(e.target.value) })} data-testid="exp-bin">
        {[1, 2, 3, 4].filter((b) => b <= (status.sensor?.maxBinX ?? 4)).map((b) => (
          <option key={b} value={b}>
            {b}x{b}
          </option>
        ))}
      </select>
      <label>Delay (s)</label>
      <input type="number" min={0} step={1} value={exp.delay} onChange={(e) => setExp({ ...exp, delay: Number(e.target.value) })} />
    </div>
  );
}

const exposeBody = (exp: Exposure) => ({ type: exp.type, exposure: exp.exposure, binning: exp.binning, delay: exp.delay, ...(exp.filter ? { filter: exp.filter } : {}) });

/** Expose / abort buttons and the phase of the last exposure job. */
export function ExposeControls({ exp, job, busy, act }: { exp: Exposure; job: any; busy: boolean; act: Act }) {
  const exposing = job && !['done', 'aborted', 'failed'].includes(job.phase);
  return (
    <div className="row">
      <button className="primary" onClick={() => act(() => post('/api/camera/expose', exposeBody(exp)))} disabled={busy || exposing} data-testid="expose">
        Expose
      </button>
      <button onClick={() => act(() => post('/api/camera/abort'))} disabled={!exposing} data-testid="abort">Abort</button>
      {job && (
        <span className={job.phase === 'failed' ? 'error-text' : 'muted'} data-testid="exposure-phase">
          #{job.id} {job.phase}
          {job.error ? `: ${job.error}` : ''}
        </span>
      )}
    </div>
  );
}
