/** The viewer's state, one hook per concern: WebGL canvas, image loading, stretch, view, stars. */
import { useCallback, useEffect, useMemo, useRef, useState, type RefObject } from 'react';
import { get, getPixels, type Pixels } from './api';
import { autoStf, range, type Range, type Stf } from './stf';
import { drawGl, initGl, upload, type Gl, type Size, type View } from './viewerGl';

export interface Source {
  label: string;
  pixels: string;
  info: string;
  stars: string;
}

export interface Info {
  width: number;
  height: number;
  channels: number;
  header: Array<{ key: string; value: string | number | boolean | null; comment?: string }>;
  stats: Array<{ median: number; noise: number; min: number; max: number; mean: number }>;
}

export interface StarsView {
  count: number;
  medianFwhm: number | null;
  medianHfr: number | null;
  stars: Array<{ x: number; y: number; fwhm: number; hfr: number }>;
}

/** The WebGL2 program on the viewer canvas, and the size of the canvas's container. */
export function useGlCanvas(): { canvas: RefObject<HTMLCanvasElement | null>; gl: RefObject<Gl | null>; glError: string | null; size: Size } {
  const canvas = useRef<HTMLCanvasElement>(null);
  const gl = useRef<Gl | null>(null);
  const [glError, setGlError] = useState<string | null>(null);
  const [size, setSize] = useState<Size>({ w: 800, h: 560 });
  useEffect(() => {
    if (!canvas.current) return;
    try {
      const g = initGl(canvas.current);
      if (typeof g === 'string') setGlError(g);
      else gl.current = g;
    } catch (e) {
      setGlError(String((e as Error).message));
    }
    const el = canvas.current.parentElement!;
    const ro = new ResizeObserver(() => setSize({ w: Math.max(200, Math.floor(el.clientWidth)), h: Math.max(200, Math.floor(el.clientHeight)) }));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);
  return { canvas, gl, glError, size };
}

/** Redraw the GL canvas whenever the image, the view, the stretch or the size changes. */
export function useGlDraw(canvas: RefObject<HTMLCanvasElement | null>, gl: RefObject<Gl | null>, size: Size, px: Pixels | null, view: View, rng: Range, stfs: Stf[]): void {
  useEffect(() => {
    const g = gl.current;
    const c = canvas.current;
    if (!g || !c) return;
    drawGl(g, c, { size, px, view, rng, stfs });
  }, [px, view, stfs, rng, size]);
}

export interface LoadedImage {
  px: Pixels | null;
  info: Info | null;
  rng: Range;
  err: string | null;
  setErr: (e: string | null) => void;
}

/**
 * Fetch the pixels and the info of `source` when its pixels URL changes: `onStart` when a load
 * begins, `onLoad(pixels)` once the textures hold the new image.
 */
export function useImage(source: Source | null, gl: RefObject<Gl | null>, onStart: () => void, onLoad: (p: Pixels) => void): LoadedImage {
  const [px, setPx] = useState<Pixels | null>(null);
  const [info, setInfo] = useState<Info | null>(null);
  const [err, setErr] = useState<string | null>(null);
  const [rng, setRng] = useState<Range>({ low: 0, high: 1 });
  useEffect(() => {
    if (!source) return;
    let cancelled = false;
    setErr(null);
    onStart();
    Promise.all([getPixels(source.pixels), get<Info>(source.info)])
      .then(([p, i]) => {
        if (cancelled) return;
        setRng(range(p.planes));
        setPx(p);
        setInfo(i);
        if (gl.current) upload(gl.current, p);
        onLoad(p);
      })
      .catch((e: Error) => !cancelled && setErr(e.message));
    return () => {
      cancelled = true;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [source?.pixels]);
  return { px, info, rng, err, setErr };
}

export interface Stretch {
  stfs: Stf[];
  auto: boolean;
  linked: boolean;
  setAuto: (on: boolean) => void;
  setLinked: (on: boolean) => void;
  /** Move one of black (c0), midtones (m), white (c1) by hand: leaves auto mode. */
  setManual: (k: keyof Stf, v: number) => void;
}

/** Keeps c0 < c1 and 0 < m < 1 after `k` was set to `v`. */
function adjusted(s: Stf, k: keyof Stf, v: number): Stf {
  const n = { ...s, [k]: v };
  if (n.c1 <= n.c0 + 1e-4) {
    if (k === 'c0') n.c0 = n.c1 - 1e-4;
    else n.c1 = n.c0 + 1e-4;
  }
  n.m = Math.min(0.9999, Math.max(0.0001, n.m));
  return n;
}

/** The STFs shown: the auto STF of the image (linked or not), or the manual ones. */
export function useStretch(px: Pixels | null): Stretch {
  const [linked, setLinked] = useState(true);
  const [auto, setAutoFlag] = useState(true);
  const [manual, setManualStfs] = useState<Stf[]>([{ c0: 0, m: 0.5, c1: 1 }]);
  const computed = useMemo(() => (px ? autoStf(px.planes, linked) : null), [px, linked]);
  const stfs = auto && computed ? computed : manual;
  const setAuto = (on: boolean): void => {
    if (!on) setManualStfs(stfs);
    setAutoFlag(on);
  };
  const setManual = (k: keyof Stf, v: number): void => {
    setAutoFlag(false);
    setManualStfs(stfs.map((s) => adjusted(s, k, v)));
  };
  return { stfs, auto, linked, setAuto, setLinked, setManual };
}

/** Zoom/pan state and the canvas's mouse handlers (wheel zoom about the cursor, drag to pan, readout). */
export function useViewControls(canvas: RefObject<HTMLCanvasElement | null>, size: Size, px: Pixels | null) {
  const [view, setView] = useState<View>({ scale: 1, ox: 0, oy: 0 });
  const [cursor, setCursor] = useState<string>('');
  const drag = useRef<{ x: number; y: number; ox: number; oy: number } | null>(null);
  // while the image is fitted (after a load or Fit, until a zoom or a pan), a resize fits it again
  const fitted = useRef(true);
  const fit = useCallback(
    (p: Pixels | null = px) => {
      if (!p) return;
      fitted.current = true;
      const scale = Math.min(size.w / p.width, size.h / p.height);
      setView({ scale, ox: (p.width - size.w / scale) / 2, oy: (p.height - size.h / scale) / 2 });
    },
    [px, size],
  );
  useEffect(() => {
    if (fitted.current) fit();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [size.w, size.h]);
  const oneToOne = (): void => {
    fitted.current = false;
    setViewOneToOne();
  };
  const setViewOneToOne = (): void => setView((v) => ({ scale: 1, ox: v.ox + size.w / v.scale / 2 - size.w / 2, oy: v.oy + size.h / v.scale / 2 - size.h / 2 }));
  const at = (e: React.MouseEvent): { sx: number; sy: number } => {
    const rect = canvas.current!.getBoundingClientRect();
    return { sx: e.clientX - rect.left, sy: e.clientY - rect.top };
  };
  const onWheel = (e: React.WheelEvent): void => {
    if (!px) return;
    const { sx, sy } = at(e);
    const f = e.deltaY < 0 ? 1.25 : 0.8;
    fitted.current = false;
    setView((v) => {
      const scale = Math.min(64, Math.max(0.02, v.scale * f));
      return { scale, ox: v.ox + sx / v.scale - sx / scale, oy: v.oy + sy / v.scale - sy / scale };
    });
  };
  const onMouseMove = (e: React.MouseEvent): void => {
    const { sx, sy } = at(e);
    const d = drag.current;
    if (d && (sx !== d.x || sy !== d.y)) fitted.current = false;
    if (d) return setView((v) => ({ ...v, ox: d.ox - (sx - d.x) / v.scale, oy: d.oy - (sy - d.y) / v.scale }));
    if (px) setCursor(readout(px, Math.floor(view.ox + sx / view.scale), Math.floor(view.oy + sy / view.scale)) ?? '');
  };
  const onMouseDown = (e: React.MouseEvent): void => {
    const { sx, sy } = at(e);
    drag.current = { x: sx, y: sy, ox: view.ox, oy: view.oy };
  };
  const endDrag = (): void => {
    drag.current = null;
  };
  const handlers = { onWheel, onMouseMove, onMouseDown, onMouseUp: endDrag, onMouseLeave: endDrag };
  return { view, cursor, setCursor, fit, oneToOne, handlers };
}

/** "x X  y Y  v1 / v2 / v3" for the pixel (x, y), or null outside the image. */
function readout(px: Pixels, x: number, y: number): string | null {
  if (x < 0 || y < 0 || x >= px.width || y >= px.height) return null;
  const vals = px.planes.map((p) => p[y * px.width + x]!);
  return `x ${x}  y ${y}  ${vals.map((v) => (Math.abs(v) >= 100 ? v.toFixed(1) : v.toPrecision(5))).join(' / ')}`;
}

/** The star list of the source, fetched on the first "Stars" click, and whether it is shown. */
export function useStars(source: Source | null, setErr: (e: string) => void) {
  const [stars, setStars] = useState<StarsView | null>(null);
  const [showStars, setShowStars] = useState(false);
  const reset = (): void => {
    setStars(null);
    setShowStars(false);
  };
  const toggle = async (): Promise<void> => {
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
  return { stars, showStars, reset, toggle };
}
