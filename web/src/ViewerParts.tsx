/** The pieces of the viewer around the image: tool bar, FITS header, star overlay, histogram, stretch sliders, readout. */
import { useEffect, useMemo, useRef, useState } from 'react';
import type { Pixels } from './api';
import { useCanvas2d } from './canvas';
import { histogram, type Range, type Stf } from './stf';
import type { Size, View } from './viewerGl';
import type { Info, Source, StarsView, Stretch } from './viewerHooks';

export function ViewerBar(p: { source: Source | null; px: Pixels | null; info: Info | null; view: View; showStars: boolean; onFit: () => void; onOneToOne: () => void; onStars: () => void; onHeader: () => void }) {
  const { source, px, view } = p;
  return (
    <div className="viewer-bar">
      <span className="viewer-title" data-testid="viewer-title">{source ? source.label : 'no image'}</span>
      {px && (
        <span className="muted" data-testid="viewer-zoom">
          {px.width}x{px.height}
          {px.channels > 1 ? ` x${px.channels}` : ''} · zoom {(view.scale * 100).toFixed(0)}%
        </span>
      )}
      <span className="spacer" />
      <button onClick={p.onFit} disabled={!px}>Fit</button>
      <button onClick={p.onOneToOne} disabled={!px}>1:1</button>
      <button onClick={p.onStars} disabled={!px} data-testid="stars-toggle">{p.showStars ? 'Hide stars' : 'Stars'}</button>
      <button onClick={p.onHeader} disabled={!p.info} data-testid="header-toggle">Header</button>
    </div>
  );
}

export function HeaderPanel({ info }: { info: Info }) {
  return (
    <div className="header-panel" data-testid="header-panel">
      <table>
        <tbody>
          {info.header.map((c, i) => (
            <tr key={i}>
              <td className="key">{c.key}</td>
              <td>{c.value === null ? '' : String(c.value)}</td>
              <td className="muted">{c.comment ?? ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** Circles of 1.5 FWHM around the detected stars (FWHM printed for the first 25), over the image. */
export function StarsOverlay({ stars, show, view, size }: { stars: StarsView | null; show: boolean; view: View; size: Size }) {
  const overlay = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const o = overlay.current;
    if (!o) return;
    o.width = size.w;
    o.height = size.h;
    const ctx = o.getContext('2d')!;
    ctx.clearRect(0, 0, o.width, o.height);
    if (!show || !stars) return;
    ctx.strokeStyle = '#3fe08a';
    ctx.fillStyle = '#3fe08a';
    ctx.font = '11px system-ui';
    stars.stars.forEach((s, i) => {
      const x = (s.x + 0.5 - view.ox) * view.scale;
      const y = (s.y + 0.5 - view.oy) * view.scale;
      const r = Math.max(4, 1.5 * s.fwhm * view.scale);
      ctx.beginPath();
      ctx.arc(x, y, r, 0, 2 * Math.PI);
      ctx.stroke();
      if (i < 25) ctx.fillText(s.fwhm.toFixed(2), x + r + 2, y - 2);
    });
  }, [stars, show, view, size]);
  return <canvas ref={overlay} className="overlay" />;
}

/** Vertical lines at c0, c1 (red) and at the midtones point (amber) of the first channel's STF, in the shown part [a, b] of the range. */
function drawStfMarks(ctx: CanvasRenderingContext2D, w: number, h: number, s: Stf, a = 0, b = 1): void {
  const X = (v: number): number => ((v - a) / (b - a)) * w;
  ctx.strokeStyle = '#e05050';
  ctx.beginPath();
  ctx.moveTo(X(s.c0), 0);
  ctx.lineTo(X(s.c0), h);
  ctx.moveTo(X(s.c1), 0);
  ctx.lineTo(X(s.c1), h);
  ctx.stroke();
  ctx.strokeStyle = '#e0b050';
  ctx.beginPath();
  ctx.moveTo(X(s.c0 + s.m * (s.c1 - s.c0)), 0);
  ctx.lineTo(X(s.c0 + s.m * (s.c1 - s.c0)), h);
  ctx.stroke();
}

/** The part [a, b] (fractions of the image's range) the histogram shows after zooming by `k` around the fraction `at` of its width. */
export function zoomSpan(v: { a: number; b: number }, at: number, k: number): { a: number; b: number } {
  const w = Math.min(1, Math.max(1 / 4096, (v.b - v.a) * k));
  const c = v.a + at * (v.b - v.a);
  const a = Math.min(1 - w, Math.max(0, c - at * w));
  return { a, b: a + w };
}

/**
 * The log histogram of the image over its range, with the STF's points. The wheel zooms it around the
 * cursor (down to 1/4096 of the range, so a linear stack's sky peak spreads over the bins), a double
 * click shows the whole range again; the shown range is written under it in ADU.
 */
export function Histogram({ px, rng, stfs }: { px: Pixels | null; rng: Range; stfs: Stf[] }) {
  const [v, setV] = useState({ a: 0, b: 1 });
  useEffect(() => setV({ a: 0, b: 1 }), [rng]);
  const span = rng.high - rng.low;
  const shown = useMemo(() => ({ low: rng.low + v.a * span, high: rng.low + v.b * span }), [rng, v, span]);
  const zoomed = v.b - v.a < 1;
  const hist = useMemo(() => (px ? histogram(px.planes, shown, 256, zoomed) : null), [px, shown, zoomed]);
  const ref = useCanvas2d(
    (ctx, w, h) => {
      if (!hist) return;
      const max = Math.max(...hist) || 1;
      ctx.fillStyle = '#8a6d6d';
      for (let i = 0; i < hist.length; i++) {
        const bh = (hist[i]! / max) * (h - 4);
        ctx.fillRect((i * w) / hist.length, h - bh, w / hist.length + 0.5, bh);
      }
      drawStfMarks(ctx, w, h, stfs[0]!, v.a, v.b);
    },
    [hist, stfs, v],
  );
  const onWheel = (e: React.WheelEvent<HTMLCanvasElement>): void => {
    const r = e.currentTarget.getBoundingClientRect();
    setV((cur) => zoomSpan(cur, Math.min(1, Math.max(0, (e.clientX - r.left) / r.width)), e.deltaY < 0 ? 0.8 : 1.25));
  };
  const filled = hist ? hist.reduce((n, x) => n + (x > 0 ? 1 : 0), 0) : 0;
  return (
    <div className="histogram-box">
      <canvas ref={ref} width={256} height={64} className="histogram" data-testid="histogram" data-bins={filled} onWheel={onWheel} onDoubleClick={() => setV({ a: 0, b: 1 })} title="wheel: zoom, double click: whole range" />
      <div className="muted histogram-range" data-testid="histogram-range">
        {shown.low.toFixed(1)} – {shown.high.toFixed(1)} ADU{zoomed ? ` · zoom ${(1 / (v.b - v.a)).toFixed(1)}x` : ''}
      </div>
    </div>
  );
}

/** Slider resolution of black and white: 1/65536 of the range (one ADU of a 16-bit camera). */
const FINE = 1 / 65536;

/** Arrow keys on a slider: one fine step, ten with Shift, a hundred with Ctrl (the browser's own step is ignored). */
function fineKeys(v: number, set: (v: number) => void, step = FINE): (e: React.KeyboardEvent) => void {
  return (e) => {
    const dir = e.key === 'ArrowRight' || e.key === 'ArrowUp' ? 1 : e.key === 'ArrowLeft' || e.key === 'ArrowDown' ? -1 : 0;
    if (!dir) return;
    e.preventDefault();
    set(Math.min(1, Math.max(0, v + dir * step * (e.ctrlKey ? 100 : e.shiftKey ? 10 : 1))));
  };
}

/** A number box that edits a value (set on Enter or when it loses focus). */
function ValueBox({ value, step, testid, onSet }: { value: number; step: number; testid: string; onSet: (v: number) => void }) {
  return (
    <input
      key={value}
      className="num"
      type="number"
      step={step}
      defaultValue={value}
      onKeyDown={(e) => e.key === 'Enter' && Number.isFinite(Number(e.currentTarget.value)) && onSet(Number(e.currentTarget.value))}
      onBlur={(e) => Number(e.currentTarget.value) !== value && Number.isFinite(Number(e.currentTarget.value)) && onSet(Number(e.currentTarget.value))}
      data-testid={testid}
    />
  );
}

/** Auto/linked switches and the black, midtones and white sliders with their values to type (first channel's values shown). */
export function StretchControls({ stretch, rng, channels }: { stretch: Stretch; rng: Range; channels: number }) {
  const s0 = stretch.stfs[0]!;
  const adu = (v: number): string => (rng.low + v * (rng.high - rng.low)).toFixed(1);
  const toUnit = (a: number): number => (a - rng.low) / (rng.high - rng.low || 1);
  return (
    <div className="stretch">
      <div className="row">
        <label>
          <input type="checkbox" checked={stretch.auto} onChange={(e) => stretch.setAuto(e.target.checked)} data-testid="auto-stf" /> Auto STF
        </label>
        {channels > 1 && (
          <label>
            <input type="checkbox" checked={stretch.linked} onChange={(e) => stretch.setLinked(e.target.checked)} data-testid="linked" /> Linked
          </label>
        )}
      </div>
      <label className="slider">
        Black <input type="range" min={0} max={1} step={FINE} value={s0.c0} onChange={(e) => stretch.setManual('c0', Number(e.target.value))} onKeyDown={fineKeys(s0.c0, (v) => stretch.setManual('c0', v))} data-testid="black" />
        <ValueBox value={Number(adu(s0.c0))} step={1} testid="black-adu" onSet={(v) => stretch.setManual('c0', toUnit(v))} />
      </label>
      <label className="slider">
        Mid <input type="range" min={0.0001} max={0.9999} step={0.0001} value={s0.m} onChange={(e) => stretch.setManual('m', Number(e.target.value))} onKeyDown={fineKeys(s0.m, (v) => stretch.setManual('m', v), 0.0001)} data-testid="midtones" />
        <ValueBox value={Number(s0.m.toFixed(5))} step={0.0001} testid="mid-value" onSet={(v) => stretch.setManual('m', v)} />
      </label>
      <label className="slider">
        White <input type="range" min={0} max={1} step={FINE} value={s0.c1} onChange={(e) => stretch.setManual('c1', Number(e.target.value))} onKeyDown={fineKeys(s0.c1, (v) => stretch.setManual('c1', v))} data-testid="white" />
        <ValueBox value={Number(adu(s0.c1))} step={1} testid="white-adu" onSet={(v) => stretch.setManual('c1', toUnit(v))} />
      </label>
    </div>
  );
}

/** Pixel value under the cursor, the image's statistics, the star summary. */
export function Readout({ cursor, info, stars }: { cursor: string; info: Info | null; stars: StarsView | null }) {
  const st = info?.stats[0];
  return (
    <div className="readout">
      <div data-testid="cursor">{cursor || '\u00a0'}</div>
      {st && (
        <div className="muted">
          median {st.median.toFixed(1)} · noise {st.noise.toFixed(2)} · min {st.min.toFixed(0)} · max {st.max.toFixed(0)}
        </div>
      )}
      {stars && (
        <div data-testid="star-summary">
          {stars.count} stars · FWHM {stars.medianFwhm?.toFixed(2) ?? 'n/a'} px · HFR {stars.medianHfr?.toFixed(2) ?? 'n/a'} px
        </div>
      )}
    </div>
  );
}
