/** Focus (loop with an HFR chart, autofocus with the V-curve and its fitted minimum) and guiding (calibration, error graph, RMS). */
import { useEffect, useRef, useState } from 'react';
import { post, q, token } from './api';
import { useStatusAction } from './actions';
import { useCanvas2d } from './canvas';
import { NEEDS_CAMERA, useConnected } from './connection';
import { useFocusStatus, useGuide, vCurve, type Pt } from './focusGuideHooks';
interface Series {
  pts: Pt[];
  color: string;
  dots?: boolean;
}

/** A vertical line across a chart at x (dashed). */
interface Mark {
  x: number;
  color: string;
}

/** A small 2D chart: series of points (lines or dots), optional vertical marker and marks, axis labels. */
function Plot({ series, marker, marks = [], testid, xLabel, yLabel, symmetric, data }: { series: Series[]; marker?: number; marks?: Mark[]; testid: string; xLabel: string; yLabel: string; symmetric?: boolean; data?: Record<string, string | number> }) {
  const ref = useCanvas2d((ctx, W, H) => {
    const all = series.flatMap((s) => s.pts).filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y));
    ctx.fillStyle = '#7a6666';
    ctx.font = '10px system-ui';
    ctx.fillText(yLabel, 4, 10);
    ctx.fillText(xLabel, W - 6 - ctx.measureText(xLabel).width, H - 4);
    if (all.length === 0) return;
    let x0 = Math.min(...all.map((p) => p.x));
    let x1 = Math.max(...all.map((p) => p.x));
    let y0 = Math.min(...all.map((p) => p.y));
    let y1 = Math.max(...all.map((p) => p.y));
    if (symmetric) {
      const m = Math.max(0.5, Math.abs(y0), Math.abs(y1));
      y0 = -m;
      y1 = m;
    } else {
      y0 = Math.min(0, y0);
      y1 = y1 * 1.1 || 1;
    }
    if (x1 - x0 < 1e-9) {
      x0 -= 1;
      x1 += 1;
    }
    const X = (x: number) => 30 + ((x - x0) / (x1 - x0)) * (W - 40);
    const Y = (y: number) => H - 14 - ((y - y0) / (y1 - y0)) * (H - 28);
    ctx.strokeStyle = '#2a2228';
    ctx.beginPath();
    ctx.moveTo(30, Y(0));
    ctx.lineTo(W - 10, Y(0));
    ctx.stroke();
    ctx.fillStyle = '#7a6666';
    ctx.fillText(y1.toFixed(1), 2, Y(y1) + 8);
    ctx.fillText(y0.toFixed(1), 2, Y(y0));
    const vline = (x: number, color: string): void => {
      ctx.strokeStyle = color;
      ctx.setLineDash([4, 3]);
      ctx.beginPath();
      ctx.moveTo(X(x), 12);
      ctx.lineTo(X(x), H - 14);
      ctx.stroke();
      ctx.setLineDash([]);
    };
    if (marker !== undefined && Number.isFinite(marker)) vline(marker, '#e0b050');
    for (const m of marks) vline(m.x, m.color);
    for (const s of series) {
      ctx.strokeStyle = s.color;
      ctx.fillStyle = s.color;
      const pts = s.pts.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y));
      if (s.dots) for (const p of pts) ctx.fillRect(X(p.x) - 2.5, Y(p.y) - 2.5, 5, 5);
      else {
        ctx.beginPath();
        pts.forEach((p, i) => (i ? ctx.lineTo(X(p.x), Y(p.y)) : ctx.moveTo(X(p.x), Y(p.y))));
        ctx.stroke();
      }
    }
  }, [series, marker, marks, xLabel, yLabel, symmetric]);
  return <canvas ref={ref} width={340} height={150} className="chart plot" data-testid={testid} {...data} />;
}

export function FocusPanel() {
  const { st, setSt } = useFocusStatus();
  const { error, act } = useStatusAction<any>(setSt);
  const [exp, setExp] = useState(10);
  const [count, setCount] = useState(5);
  const [step, setStep] = useState(40);
  const [pos, setPos] = useState('');
  const connected = useConnected();
  const busy = st.state === 'loop' || st.state === 'autofocus' || !connected;
  const fit = st.fit;
  const curve = vCurve(st.points, fit);
  return (
    <div className="panel">
      <h2>Focus</h2>
      {!connected && <div className="muted" data-testid="focus-needs-camera">{NEEDS_CAMERA} (with a focuser) to focus.</div>}
      <div className="row">
        <span>Position</span>
        <span className="big" data-testid="focus-position">{st.position ?? '–'}</span>
        <input className="num" value={pos} placeholder="steps" onChange={(e) => setPos(e.target.value)} data-testid="focus-target" />
        <button disabled={busy || pos === ''} onClick={() => act(() => post('/api/focus/move', { position: Number(pos) }))} data-testid="focus-move">Move</button>
      </div>
      <div className="row">
        <label>Exposure s</label>
        <input className="num" type="number" value={exp} onChange={(e) => setExp(Number(e.target.value))} data-testid="focus-exposure" />
        <label>Frames</label>
        <input className="num" type="number" value={count} onChange={(e) => setCount(Number(e.target.value))} data-testid="focus-count" />
        <button disabled={busy} onClick={() => act(() => post('/api/focus/loop', { exposure: exp, count }))} data-testid="focus-loop">Loop</button>
      </div>
      <Plot testid="hfr-chart" xLabel="frame" yLabel="HFR px" series={[{ pts: st.loop.map((m: any) => ({ x: m.i, y: m.hfr })), color: '#e05050' }, { pts: st.loop.map((m: any) => ({ x: m.i, y: m.hfr })), color: '#e05050', dots: true }]} />
      <div className="row">
        <label>Step</label>
        <input className="num" type="number" value={step} onChange={(e) => setStep(Number(e.target.value))} data-testid="af-step" />
        <button className="primary" disabled={busy} onClick={() => act(() => post('/api/focus/autofocus', { exposure: exp, step, points: 4, metric: 'fwhm' }))} data-testid="autofocus">
          Autofocus
        </button>
        <button disabled={st.state !== 'loop' && st.state !== 'autofocus'} onClick={() => act(() => post('/api/focus/abort'))} data-testid="focus-abort">Abort</button>
        <span className="muted" data-testid="focus-state">{st.state}</span>
      </div>
      <Plot
        testid="vcurve"
        xLabel="position"
        yLabel={`${(st.metric ?? 'fwhm').toUpperCase()} px`}
        marker={fit?.best}
        series={[
          { pts: curve, color: '#a05050' },
          { pts: st.points.map((p: any) => ({ x: p.position, y: p.value })), color: '#e0a0a0', dots: true },
        ]}
      />
      {st.state === 'done' && st.best !== undefined && fit && (
        <div className="status-line" data-testid="af-result">
          best focus {st.best} · minimum {st.metric?.toUpperCase()} {fit.min.toFixed(2)} px · fit RMS {(100 * fit.rms).toFixed(1)} %
        </div>
      )}
      {st.error && <div className="banner error">{st.error}</div>}
      {error && <div className="banner error" data-testid="focus-error">{error}</div>}
    </div>
  );
}

const DITHER = '#e0b050';
const SETTLED = '#50b080';

/** Dither and settle on the guide graph: a line where the settling samples start (the dither) and one where they end (settled). */
function ditherMarks(samples: any[], t0: number): Mark[] {
  const out: Mark[] = [];
  samples.forEach((x, i) => {
    const prev = samples[i - 1]?.settling ?? false;
    if (x.settling && !prev) out.push({ x: (x.t - t0) / 1000, color: DITHER });
    if (!x.settling && prev) out.push({ x: (x.t - t0) / 1000, color: SETTLED });
  });
  return out;
}

export function GuidePanel() {
  const { st, error, busy, act } = useGuide();
  const s = st.stats;
  const cal = st.calibration;
  const t0 = st.samples[0]?.t ?? 0;
  const ok = st.samples.filter((x: any) => !x.lost);
  const marks = ditherMarks(st.samples, t0);
  const connected = useConnected();
  return (
    <div className="panel">
      <h2>Guiding</h2>
      {!connected && <div className="muted" data-testid="guide-needs-camera">{NEEDS_CAMERA} to calibrate and guide.</div>}
      <div className="muted">{st.source ?? 'simulated mount and guide camera'} ({st.pixelScale}″/px)</div>
      <div className="row">
        <button disabled={busy || !connected || st.state === 'guiding' || st.state === 'calibrating'} onClick={() => act(() => post('/api/guide/calibrate'))} data-testid="guide-calibrate">Calibrate</button>
        <button className="primary" disabled={busy || !connected || !cal || st.state === 'guiding' || st.state === 'calibrating'} onClick={() => act(() => post('/api/guide/start', { exposure: 2 }))} data-testid="guide-start">Guide</button>
        <button disabled={st.state !== 'guiding'} onClick={() => act(() => post('/api/guide/stop'))} data-testid="guide-stop">Stop</button>
        <button disabled={st.state !== 'guiding'} onClick={() => act(() => post('/api/guide/dither'))} data-testid="guide-dither">Dither</button>
        <span className="muted" data-testid="guide-state">{st.state}</span>
      </div>
      {cal && (
        <div className="status-line muted" data-testid="guide-calibration">
          RA {cal.raRate.toFixed(2)} px/s · Dec {cal.decRate.toFixed(2)} px/s · angle {cal.cameraAngle.toFixed(1)}° · orthogonality {cal.orthogonalityError.toFixed(1)}°
        </div>
      )}
      {st.star && <GuideFrame star={st.star} n={st.frames ?? 0} />}
      <Plot
        testid="guide-chart"
        xLabel="s"
        yLabel="px"
        symmetric
        marks={marks}
        data={{ 'data-dithers': marks.filter((m) => m.color === DITHER).length, 'data-settles': marks.filter((m) => m.color === SETTLED).length }}
        series={[
          { pts: ok.map((x: any) => ({ x: (x.t - t0) / 1000, y: x.ra })), color: '#e05050' },
          { pts: ok.map((x: any) => ({ x: (x.t - t0) / 1000, y: x.dec })), color: '#5080d0' },
        ]}
      />
      <div className="legend"><span style={{ color: '#e05050' }}>RA</span> · <span style={{ color: '#5080d0' }}>Dec</span>{marks.length > 0 && <> · <span style={{ color: DITHER }}>dither</span> · <span style={{ color: SETTLED }}>settled</span></>}</div>
      {s && (
        <div className="status-line" data-testid="guide-rms">
          RMS RA {s.rmsRa.toFixed(2)} px ({s.rmsRaArcsec.toFixed(2)}″) · Dec {s.rmsDec.toFixed(2)} px ({s.rmsDecArcsec.toFixed(2)}″) · total {s.rmsTotal.toFixed(2)} px ({s.rmsTotalArcsec.toFixed(2)}″)
        </div>
      )}
      <GuideNotices notices={st.notices ?? []} />
      {st.error && <div className="banner error">{st.error}</div>}
      {error && <div className="banner error" data-testid="guide-error">{error}</div>}
    </div>
  );
}

/** Star lost / re-acquired / re-centred events of the guider, newest first (the last 8). */
function GuideNotices({ notices }: { notices: Array<{ at: number; kind: string; message: string }> }) {
  if (!notices.length) return null;
  return (
    <ul className="notices" data-testid="guide-notices">
      {notices
        .slice(-8)
        .reverse()
        .map((n, i) => (
          <li key={`${n.at}-${i}`} className={`notice ${n.kind}`} data-kind={n.kind}>
            <span className="muted">{new Date(n.at).toLocaleTimeString([], { hour12: false })}</span> {n.message}
          </li>
        ))}
    </ul>
  );
}

/** The last guide frame (2x, pixelated) with a box around the guide star at its lock position. */
function GuideFrame({ star, n }: { star: { x: number; y: number; width: number; height: number }; n: number }) {
  const k = 2;
  // a new frame at most every 700 ms, however fast the guide events come
  const latest = useRef(n);
  latest.current = n;
  const [shown, setShown] = useState(n);
  useEffect(() => {
    const t = setInterval(() => setShown(latest.current), 700);
    return () => clearInterval(t);
  }, []);
  return (
    <div className="guide-frame" style={{ width: star.width * k, height: star.height * k }} data-testid="guide-frame">
      <img src={q('/api/guide/frame', { n: shown, ...(token ? { token } : {}) })} width={star.width * k} height={star.height * k} alt="guide frame" />
      <div className="guide-star" style={{ left: (star.x + 0.5) * k - 10, top: (star.y + 0.5) * k - 10 }} data-testid="guide-star" data-x={star.x.toFixed(1)} data-y={star.y.toFixed(1)} />
    </div>
  );
}
