/**
 * The image viewer: float32 pixels in R32F textures (one per channel), the screen stretch (STF) in
 * the fragment shader; auto STF computed here from a subsample, or manual black/midtones/white with
 * the histogram; zoom (wheel) and pan (drag); pixel value under the cursor; FITS header; stars.
 */
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { get, getPixels, type Pixels } from './api';
import { autoStf, histogram, range, type Range, type Stf } from './stf';

export interface Source {
  label: string;
  pixels: string;
  info: string;
  stars: string;
}

interface Info {
  width: number;
  height: number;
  channels: number;
  header: Array<{ key: string; value: string | number | boolean | null; comment?: string }>;
  stats: Array<{ median: number; noise: number; min: number; max: number; mean: number }>;
}

interface StarsView {
  count: number;
  medianFwhm: number | null;
  medianHfr: number | null;
  stars: Array<{ x: number; y: number; fwhm: number; hfr: number }>;
}

const VS = `#version 300 es
void main() {
  vec2 p = vec2(float((gl_VertexID << 1) & 2), float(gl_VertexID & 2));
  gl_Position = vec4(p * 2.0 - 1.0, 0.0, 1.0);
}`;

const FS = `#version 300 es
precision highp float;
precision highp sampler2D;
uniform sampler2D t0, t1, t2;
uniform vec2 uView, uOffset, uSize;
uniform float uScale, uLow, uSpan;
uniform vec3 uC0, uM, uC1;
uniform int uColor;
out vec4 outColor;
float mtf(float m, float x) {
  if (x <= 0.0) return 0.0;
  if (x >= 1.0) return 1.0;
  return ((m - 1.0) * x) / ((2.0 * m - 1.0) * x - m);
}
float stretch(float v, float c0, float m, float c1) {
  if (v != v) return 0.0;
  float x = (v - uLow) / uSpan;
  x = clamp((x - c0) / max(c1 - c0, 1e-9), 0.0, 1.0);
  return mtf(m, x);
}
void main() {
  vec2 screen = vec2(gl_FragCoord.x, uView.y - gl_FragCoord.y);
  vec2 img = uOffset + screen / uScale;
  if (img.x < 0.0 || img.y < 0.0 || img.x >= uSize.x || img.y >= uSize.y) { outColor = vec4(0.04, 0.04, 0.05, 1.0); return; }
  ivec2 p = ivec2(floor(img));
  float r = stretch(texelFetch(t0, p, 0).r, uC0.r, uM.r, uC1.r);
  if (uColor == 0) { outColor = vec4(r, r, r, 1.0); return; }
  float g = stretch(texelFetch(t1, p, 0).r, uC0.g, uM.g, uC1.g);
  float b = stretch(texelFetch(t2, p, 0).r, uC0.b, uM.b, uC1.b);
  outColor = vec4(r, g, b, 1.0);
}`;

interface Gl {
  gl: WebGL2RenderingContext;
  prog: WebGLProgram;
  tex: WebGLTexture[];
  u: Record<string, WebGLUniformLocation | null>;
}

function initGl(canvas: HTMLCanvasElement): Gl | string {
  const gl = canvas.getContext('webgl2', { preserveDrawingBuffer: true, antialias: false });
  if (!gl) return 'WebGL2 is not available in this browser';
  const sh = (type: number, src: string): WebGLShader => {
    const s = gl.createShader(type)!;
    gl.shaderSource(s, src);
    gl.compileShader(s);
    if (!gl.getShaderParameter(s, gl.COMPILE_STATUS)) throw new Error(gl.getShaderInfoLog(s) ?? 'shader');
    return s;
  };
  const prog = gl.createProgram()!;
  gl.attachShader(prog, sh(gl.VERTEX_SHADER, VS));
  gl.attachShader(prog, sh(gl.FRAGMENT_SHADER, FS));
  gl.linkProgram(prog);
  if (!gl.getProgramParameter(prog, gl.LINK_STATUS)) return gl.getProgramInfoLog(prog) ?? 'link failed';
  const u: Gl['u'] = {};
  for (const n of ['t0', 't1', 't2', 'uView', 'uOffset', 'uSize', 'uScale', 'uLow', 'uSpan', 'uC0', 'uM', 'uC1', 'uColor']) u[n] = gl.getUniformLocation(prog, n);
  const tex = [0, 1, 2].map(() => gl.createTexture()!);
  return { gl, prog, tex, u };
}

function upload(g: Gl, px: Pixels): void {
  const { gl } = g;
  gl.pixelStorei(gl.UNPACK_ALIGNMENT, 1);
  for (let c = 0; c < 3; c++) {
    gl.activeTexture(gl.TEXTURE0 + c);
    gl.bindTexture(gl.TEXTURE_2D, g.tex[c]!);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MIN_FILTER, gl.NEAREST);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MAG_FILTER, gl.NEAREST);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_WRAP_S, gl.CLAMP_TO_EDGE);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_WRAP_T, gl.CLAMP_TO_EDGE);
    const plane = px.planes[Math.min(c, px.channels - 1)]!;
    gl.texImage2D(gl.TEXTURE_2D, 0, gl.R32F, px.width, px.height, 0, gl.RED, gl.FLOAT, plane);
  }
}

export function Viewer({ source }: { source: Source | null }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const overlay = useRef<HTMLCanvasElement>(null);
  const histo = useRef<HTMLCanvasElement>(null);
  const glRef = useRef<Gl | null>(null);
  const [glError, setGlError] = useState<string | null>(null);
  const [px, setPx] = useState<Pixels | null>(null);
  const [info, setInfo] = useState<Info | null>(null);
  const [err, setErr] = useState<string | null>(null);
  const [rng, setRng] = useState<Range>({ low: 0, high: 1 });
  const [linked, setLinked] = useState(true);
  const [auto, setAuto] = useState(true);
  const [stfs, setStfs] = useState<Stf[]>([{ c0: 0, m: 0.5, c1: 1 }]);
  const [view, setView] = useState({ scale: 1, ox: 0, oy: 0 });
  const [cursor, setCursor] = useState<string>('');
  const [stars, setStars] = useState<StarsView | null>(null);
  const [showStars, setShowStars] = useState(false);
  const [showHeader, setShowHeader] = useState(false);
  const [size, setSize] = useState({ w: 800, h: 560 });
  const drag = useRef<{ x: number; y: number; ox: number; oy: number } | null>(null);

  useEffect(() => {
    if (!canvas.current) return;
    try {
      const g = initGl(canvas.current);
      if (typeof g === 'string') setGlError(g);
      else glRef.current = g;
    } catch (e) {
      setGlError(String((e as Error).message));
    }
    const el = canvas.current.parentElement!;
    const ro = new ResizeObserver(() => setSize({ w: Math.max(200, Math.floor(el.clientWidth)), h: Math.max(200, Math.floor(el.clientHeight)) }));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);

  const fit = useCallback(
    (p: Pixels | null = px) => {
      if (!p) return;
      const scale = Math.min(size.w / p.width, size.h / p.height);
      setView({ scale, ox: (p.width - size.w / scale) / 2, oy: (p.height - size.h / scale) / 2 });
    },
    [px, size],
  );

  useEffect(() => {
    if (!source) return;
    let cancelled = false;
    setErr(null);
    setCursor('');
    setStars(null);
    setShowStars(false);
    Promise.all([getPixels(source.pixels), get<Info>(source.info)])
      .then(([p, i]) => {
        if (cancelled) return;
        const r = range(p.planes);
        setRng(r);
        setPx(p);
        setInfo(i);
        if (glRef.current) upload(glRef.current, p);
        setStfs(autoStf(p.planes, r, linked));
        setAuto(true);
        fit(p);
      })
      .catch((e: Error) => !cancelled && setErr(e.message));
    return () => {
      cancelled = true;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [source?.pixels]);

  useEffect(() => {
    if (px && auto) setStfs(autoStf(px.planes, rng, linked));
  }, [linked, auto, px, rng]);

  // draw
  useEffect(() => {
    const g = glRef.current;
    const c = canvas.current;
    if (!g || !c) return;
    c.width = size.w;
    c.height = size.h;
    const { gl, u } = g;
    gl.viewport(0, 0, size.w, size.h);
    gl.clearColor(0.04, 0.04, 0.05, 1);
    gl.clear(gl.COLOR_BUFFER_BIT);
    if (!px) return;
    gl.useProgram(g.prog);
    gl.uniform1i(u.t0!, 0);
    gl.uniform1i(u.t1!, 1);
    gl.uniform1i(u.t2!, 2);
    gl.uniform2f(u.uView!, size.w, size.h);
    gl.uniform2f(u.uOffset!, view.ox, view.oy);
    gl.uniform2f(u.uSize!, px.width, px.height);
    gl.uniform1f(u.uScale!, view.scale);
    gl.uniform1f(u.uLow!, rng.low);
    gl.uniform1f(u.uSpan!, rng.high - rng.low);
    const s = (i: number): Stf => stfs[Math.min(i, stfs.length - 1)]!;
    gl.uniform3f(u.uC0!, s(0).c0, s(1).c0, s(2).c0);
    gl.uniform3f(u.uM!, s(0).m, s(1).m, s(2).m);
    gl.uniform3f(u.uC1!, s(0).c1, s(1).c1, s(2).c1);
    gl.uniform1i(u.uColor!, px.channels >= 3 ? 1 : 0);
    gl.drawArrays(gl.TRIANGLES, 0, 3);
  }, [px, view, stfs, rng, size]);

  // stars overlay
  useEffect(() => {
    const o = overlay.current;
    if (!o) return;
    o.width = size.w;
    o.height = size.h;
    const ctx = o.getContext('2d')!;
    ctx.clearRect(0, 0, o.width, o.height);
    if (!showStars || !stars) return;
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
  }, [stars, showStars, view, size]);

  // histogram
  const hist = useMemo(() => (px ? histogram(px.planes, rng) : null), [px, rng]);
  useEffect(() => {
    const h = histo.current;
    if (!h) return;
    const ctx = h.getContext('2d')!;
    ctx.fillStyle = '#0b0b0e';
    ctx.fillRect(0, 0, h.width, h.height);
    if (!hist) return;
    const max = Math.max(...hist) || 1;
    ctx.fillStyle = '#8a6d6d';
    for (let i = 0; i < hist.length; i++) {
      const bh = (hist[i]! / max) * (h.height - 4);
      ctx.fillRect((i * h.width) / hist.length, h.height - bh, h.width / hist.length + 0.5, bh);
    }
    const s = stfs[0]!;
    const X = (v: number): number => v * h.width;
    ctx.strokeStyle = '#e05050';
    ctx.beginPath();
    ctx.moveTo(X(s.c0), 0);
    ctx.lineTo(X(s.c0), h.height);
    ctx.moveTo(X(s.c1), 0);
    ctx.lineTo(X(s.c1), h.height);
    ctx.stroke();
    ctx.strokeStyle = '#e0b050';
    ctx.beginPath();
    ctx.moveTo(X(s.c0 + s.m * (s.c1 - s.c0)), 0);
    ctx.lineTo(X(s.c0 + s.m * (s.c1 - s.c0)), h.height);
    ctx.stroke();
  }, [hist, stfs]);

  const setManual = (k: keyof Stf, v: number): void => {
    setAuto(false);
    setStfs((cur) =>
      cur.map((s) => {
        const n = { ...s, [k]: v };
        if (n.c1 <= n.c0 + 1e-4) {
          if (k === 'c0') n.c0 = n.c1 - 1e-4;
          else n.c1 = n.c0 + 1e-4;
        }
        n.m = Math.min(0.9999, Math.max(0.0001, n.m));
        return n;
      }),
    );
  };

  const onWheel = (e: React.WheelEvent): void => {
    if (!px) return;
    const rect = canvas.current!.getBoundingClientRect();
    const sx = e.clientX - rect.left;
    const sy = e.clientY - rect.top;
    const f = e.deltaY < 0 ? 1.25 : 0.8;
    setView((v) => {
      const scale = Math.min(64, Math.max(0.02, v.scale * f));
      const ix = v.ox + sx / v.scale;
      const iy = v.oy + sy / v.scale;
      return { scale, ox: ix - sx / scale, oy: iy - sy / scale };
    });
  };
  const onMove = (e: React.MouseEvent): void => {
    const rect = canvas.current!.getBoundingClientRect();
    const sx = e.clientX - rect.left;
    const sy = e.clientY - rect.top;
    if (drag.current) {
      const d = drag.current;
      setView((v) => ({ ...v, ox: d.ox - (sx - d.x) / v.scale, oy: d.oy - (sy - d.y) / v.scale }));
      return;
    }
    if (!px) return;
    const x = Math.floor(view.ox + sx / view.scale);
    const y = Math.floor(view.oy + sy / view.scale);
    if (x < 0 || y < 0 || x >= px.width || y >= px.height) return setCursor('');
    const vals = px.planes.map((p) => p[y * px.width + x]!);
    setCursor(`x ${x}  y ${y}  ${vals.map((v) => (Math.abs(v) >= 100 ? v.toFixed(1) : v.toPrecision(5))).join(' / ')}`);
  };
  const onDown = (e: React.MouseEvent): void => {
    const rect = canvas.current!.getBoundingClientRect();
    drag.current = { x: e.clientX - rect.left, y: e.clientY - rect.top, ox: view.ox, oy: view.oy };
  };

  const loadStars = async (): Promise<void> => {
    if (!source) return;
    if (!showStars && !stars) {
      try {
        setStars(await get<StarsView>(source.stars));
      } catch (e) {
        setErr((e as Error).message);
        return;
      }
    }
    setShowStars((s) => !s);
  };

  const s0 = stfs[0]!;
  return (
    <div className="viewer">
      <div className="viewer-bar">
        <span className="viewer-title" data-testid="viewer-title">{source ? source.label : 'no image'}</span>
        {px && (
          <span className="muted">
            {px.width}x{px.height}
            {px.channels > 1 ? ` x${px.channels}` : ''} · zoom {(view.scale * 100).toFixed(0)}%
          </span>
        )}
        <span className="spacer" />
        <button onClick={() => fit()} disabled={!px}>Fit</button>
        <button onClick={() => setView((v) => ({ scale: 1, ox: v.ox + size.w / v.scale / 2 - size.w / 2, oy: v.oy + size.h / v.scale / 2 - size.h / 2 }))} disabled={!px}>1:1</button>
        <button onClick={loadStars} disabled={!px} data-testid="stars-toggle">{showStars ? 'Hide stars' : 'Stars'}</button>
        <button onClick={() => setShowHeader((h) => !h)} disabled={!info}>Header</button>
      </div>
      {(err || glError) && <div className="banner error" data-testid="viewer-error">{glError ?? err}</div>}
      <div className="viewer-main">
        <div className="canvas-wrap" onWheel={onWheel} onMouseMove={onMove} onMouseDown={onDown} onMouseUp={() => (drag.current = null)} onMouseLeave={() => (drag.current = null)}>
          <canvas ref={canvas} id="viewer-canvas" data-testid="viewer-canvas" />
          <canvas ref={overlay} className="overlay" />
        </div>
        {showHeader && info && (
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
        )}
      </div>
      <div className="viewer-foot">
        <canvas ref={histo} width={256} height={64} className="histogram" data-testid="histogram" />
        <div className="stretch">
          <div className="row">
            <label>
              <input type="checkbox" checked={auto} onChange={(e) => setAuto(e.target.checked)} data-testid="auto-stf" /> Auto STF
            </label>
            {px && px.channels > 1 && (
              <label>
                <input type="checkbox" checked={linked} onChange={(e) => setLinked(e.target.checked)} data-testid="linked" /> Linked
              </label>
            )}
          </div>
          <label className="slider">
            Black <input type="range" min={0} max={1} step={0.0005} value={s0.c0} onChange={(e) => setManual('c0', Number(e.target.value))} data-testid="black" />
            <span>{(rng.low + s0.c0 * (rng.high - rng.low)).toFixed(1)}</span>
          </label>
          <label className="slider">
            Mid <input type="range" min={0.0005} max={0.9995} step={0.0005} value={s0.m} onChange={(e) => setManual('m', Number(e.target.value))} data-testid="midtones" />
            <span>{s0.m.toFixed(4)}</span>
          </label>
          <label className="slider">
            White <input type="range" min={0} max={1} step={0.0005} value={s0.c1} onChange={(e) => setManual('c1', Number(e.target.value))} data-testid="white" />
            <span>{(rng.low + s0.c1 * (rng.high - rng.low)).toFixed(1)}</span>
          </label>
        </div>
        <div className="readout">
          <div data-testid="cursor">{cursor || '\u00a0'}</div>
          {info && info.stats[0] && (
            <div className="muted">
              median {info.stats[0].median.toFixed(1)} · noise {info.stats[0].noise.toFixed(2)} · min {info.stats[0].min.toFixed(0)} · max {info.stats[0].max.toFixed(0)}
            </div>
          )}
          {stars && showStars && (
            <div data-testid="star-summary">
              {stars.count} stars · FWHM {stars.medianFwhm?.toFixed(2) ?? 'n/a'} px · HFR {stars.medianHfr?.toFixed(2) ?? 'n/a'} px
            </div>
          )}
        </div>
      </div>
    </div>
  );
}
