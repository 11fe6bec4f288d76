/**
 * The imaging view's night strip, below the viewer: a quality graph of the night (HFR, star count,
 * background, temperature and, while guiding, guide RMS, each on its own scale, over clock time, as
 * N.I.N.A.'s image history) and a thumbnail of every frame, newest last. Fed by the server's frame
 * history (GET /api/history, then 'frame' events).
 */
import { useEffect, useRef, useState } from 'react';
import { get, onEvent, q, token } from './api';
import { useCanvas2d } from './canvas';
import type { FrameRecord } from '../../src/server/runners/frame-record.js';


function useHistory(): FrameRecord[] {
  const [frames, setFrames] = useState<FrameRecord[]>([]);
  useEffect(() => {
    void get('/api/history').then((h) => setFrames((f) => (f.length ? f : h.frames))).catch(() => undefined);
    return onEvent((ev) => {
      if (ev.type === 'frame') setFrames((f) => [...f.filter((x) => x.id !== ev.frame.id), ev.frame].slice(-1000));
    });
  }, []);
  return frames;
}

interface Metric {
  key: 'hfr' | 'stars' | 'background' | 'temperature' | 'guideRms';
  label: string;
  unit: string;
  color: string;
  digits: number;
}

export const METRICS: Metric[] = [
  { key: 'hfr', label: 'HFR', unit: 'px', color: '#e05050', digits: 2 },
  { key: 'stars', label: 'stars', unit: '', color: '#e0b050', digits: 0 },
  { key: 'background', label: 'background', unit: 'ADU', color: '#8080c0', digits: 0 },
  { key: 'temperature', label: 'temperature', unit: '°C', color: '#60a0a0', digits: 1 },
  { key: 'guideRms', label: 'guide RMS', unit: '″', color: '#a070c0', digits: 2 },
];

const value = (f: FrameRecord, m: Metric): number | null => {
  const v = f[m.key];
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
};

/** The night quality graph: every metric scaled to its own min..max (the legend gives the last value and the range). */
function QualityGraph({ frames }: { frames: FrameRecord[] }) {
  const shown = METRICS.filter((m) => frames.some((f) => value(f, m) !== null));
  const ref = useCanvas2d((ctx, W, H) => {
    if (!frames.length) return;
    const t0 = frames[0]!.at;
    const t1 = Math.max(frames[frames.length - 1]!.at, t0 + 1);
    const X = (t: number): number => (frames.length === 1 ? W / 2 : 6 + ((t - t0) / (t1 - t0)) * (W - 12));
    ctx.fillStyle = '#7a6666';
    ctx.font = '10px system-ui';
    const clock = (t: number): string => new Date(t).toLocaleTimeString([], { hour12: false });
    ctx.fillText(clock(t0), 4, H - 3);
    if (frames.length > 1) ctx.fillText(clock(t1), W - 4 - ctx.measureText(clock(t1)).width, H - 3);
    for (const m of shown) {
      const vs = frames.map((f) => value(f, m)).filter((v): v is number => v !== null);
      let lo = Math.min(...vs);
      let hi = Math.max(...vs);
      if (hi - lo < 1e-9) {
        lo -= 1;
        hi += 1;
      }
      const Y = (v: number): number => H - 16 - ((v - lo) / (hi - lo)) * (H - 24);
      ctx.strokeStyle = m.color;
      ctx.fillStyle = m.color;
      ctx.beginPath();
      let pen = false;
      for (const f of frames) {
        const v = value(f, m);
        if (v === null) {
          pen = false;
          continue;
        }
        if (pen) ctx.lineTo(X(f.at), Y(v));
        else ctx.moveTo(X(f.at), Y(v));
        pen = true;
        ctx.fillRect(X(f.at) - 1.5, Y(v) - 1.5, 3, 3);
      }
      ctx.stroke();
    }
  }, [frames]);
  const last = frames[frames.length - 1];
  return (
    <div className="quality">
      <canvas ref={ref} width={420} height={110} className="chart quality-graph" data-testid="quality-graph" data-points={frames.length} />
      <div className="legend" data-testid="quality-legend">
        {shown.map((m) => {
          const v = last ? value(last, m) : null;
          return (
            <span key={m.key} style={{ color: m.color }} data-metric={m.key}>
              {m.label} {v === null ? '–' : v.toFixed(m.digits)}
              {m.unit}{' '}
            </span>
          );
        })}
      </div>
    </div>
  );
}

const describe = (f: FrameRecord): string =>
  `#${f.id} ${f.source}${f.exposure !== null ? ` ${f.exposure}s` : ''}${f.filter ? ` ${f.filter}` : ''} · ${f.stars} stars · HFR ${f.hfr === null ? '–' : f.hfr.toFixed(2)} px · bkg ${f.background.toFixed(0)}${f.temperature !== null ? ` · ${f.temperature.toFixed(1)}°C` : ''}${f.guideRms !== null ? ` · guide ${f.guideRms.toFixed(2)}″` : ''}`;

/** Thumbnails of the night's frames, scrolled to the newest. */
function ThumbStrip({ frames, selected, select }: { frames: FrameRecord[]; selected: number | null; select: (id: number) => void }) {
  const strip = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = strip.current;
    if (el) el.scrollLeft = el.scrollWidth;
  }, [frames.length]);
  return (
    <div className="thumbs" ref={strip} data-testid="thumb-strip">
      {frames.map((f) => (
        <button key={f.id} className={f.id === selected ? 'thumb selected' : 'thumb'} title={describe(f)} onClick={() => select(f.id)} data-testid="thumb">
          <img src={q('/api/history/thumb', { id: f.id, ...(token ? { token } : {}) })} alt={`frame ${f.id}`} />
          <span>{f.hfr === null ? '–' : f.hfr.toFixed(2)}</span>
        </button>
      ))}
    </div>
  );
}

export function NightView() {
  const frames = useHistory();
  const [selected, setSelected] = useState<number | null>(null);
  const sel = frames.find((f) => f.id === selected) ?? frames[frames.length - 1];
  return (
    <div className="night" data-testid="night-view">
      <QualityGraph frames={frames} />
      <div className="night-right">
        <div className="muted night-line" data-testid="night-selected">{sel ? describe(sel) : 'The night’s frames appear here as they arrive.'}</div>
        <ThumbStrip frames={frames} selected={selected} select={setSelected} />
      </div>
    </div>
  );
}
