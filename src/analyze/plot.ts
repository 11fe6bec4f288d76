/**
 * Minimal charts for the analysis reports: points and lines on linear or log axes, drawn into an
 * RGB buffer and encoded as PNG. Axis end values are labelled with a built-in 3x5 digit font.
 */
import { encodePng } from '../render/png.js';

export interface Series {
  points: [number, number][];
  color: [number, number, number];
  mode: 'points' | 'line';
}

export interface ChartOptions {
  width?: number;
  height?: number;
  xLog?: boolean;
  yLog?: boolean;
  series: Series[];
}

const FONT: Record<string, string> = {
  '0': '111101101101111',
  '1': '010110010010111',
  '2': '111001111100111',
  '3': '111001111001111',
  '4': '101101111001001',
  '5': '111100111001111',
  '6': '111100111101111',
  '7': '111001001001001',
  '8': '111101111101111',
  '9': '111101111001111',
  '.': '000000000000010',
  '-': '000000111000000',
  e: '000111101110111',
  '+': '000010111010000',
};

export interface Raster {
  width: number;
  height: number;
  pixels: Uint8Array;
}

function setPx(r: Raster, x: number, y: number, c: [number, number, number]): void {
  x = Math.round(x);
  y = Math.round(y);
  if (x < 0 || y < 0 || x >= r.width || y >= r.height) return;
  const i = 3 * (y * r.width + x);
  r.pixels[i] = c[0];
  r.pixels[i + 1] = c[1];
  r.pixels[i + 2] = c[2];
}

function line(r: Raster, x0: number, y0: number, x1: number, y1: number, c: [number, number, number]): void {
  const n = Math.max(1, Math.ceil(Math.max(Math.abs(x1 - x0), Math.abs(y1 - y0))));
  for (let i = 0; i <= n; i++) setPx(r, x0 + ((x1 - x0) * i) / n, y0 + ((y1 - y0) * i) / n, c);
}

function text(r: Raster, x: number, y: number, s: string, c: [number, number, number], scale = 2): void {
  for (const ch of s) {
    const g = FONT[ch];
    if (g) {
      for (let gy = 0; gy < 5; gy++) for (let gx = 0; gx < 3; gx++) if (g[gy * 3 + gx] === '1') for (let a = 0; a < scale; a++) for (let b = 0; b < scale; b++) setPx(r, x + gx * scale + a, y + gy * scale + b, c);
    }
    x += 4 * scale;
  }
}

function label(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  return a >= 1e4 || a < 1e-2 ? v.toExponential(1).replace('e+', 'e') : Number(v.toPrecision(3)).toString();
}

/** Render a chart; returns the raster (for tests) and the PNG bytes. */
export function renderChart(o: ChartOptions): { raster: Raster; png: Buffer } {
  const W = o.width ?? 640;
  const H = o.height ?? 420;
  const r: Raster = { width: W, height: H, pixels: new Uint8Array(W * H * 3).fill(255) };
  const m = { l: 70, r: 20, t: 20, b: 40 };
  const tx = (v: number): number => (o.xLog ? Math.log10(v) : v);
  const ty = (v: number): number => (o.yLog ? Math.log10(v) : v);
  const all = o.series.flatMap((s) => s.points).filter(([x, y]) => Number.isFinite(tx(x)) && Number.isFinite(ty(y)));
  let x0 = Math.min(...all.map((p) => tx(p[0])));
  let x1 = Math.max(...all.map((p) => tx(p[0])));
  let y0 = Math.min(...all.map((p) => ty(p[1])));
  let y1 = Math.max(...all.map((p) => ty(p[1])));
  if (!(x1 > x0)) [x0, x1] = [x0 - 1, x0 + 1];
  if (!(y1 > y0)) [y0, y1] = [y0 - 1, y0 + 1];
  const px = (v: number): number => m.l + ((tx(v) - x0) / (x1 - x0)) * (W - m.l - m.r);
  const py = (v: number): number => H - m.b - ((ty(v) - y0) / (y1 - y0)) * (H - m.t - m.b);
  const axis: [number, number, number] = [0, 0, 0];
  line(r, m.l, H - m.b, W - m.r, H - m.b, axis);
  line(r, m.l, m.t, m.l, H - m.b, axis);
  for (let i = 0; i <= 4; i++) {
    const gx = m.l + (i / 4) * (W - m.l - m.r);
    const gy = m.t + (i / 4) * (H - m.t - m.b);
    line(r, gx, H - m.b, gx, H - m.b + 5, axis);
    line(r, m.l - 5, gy, m.l, gy, axis);
  }
  const inv = (v: number, log?: boolean): number => (log ? Math.pow(10, v) : v);
  text(r, m.l, H - m.b + 10, label(inv(x0, o.xLog)), axis);
  const xl = label(inv(x1, o.xLog));
  text(r, W - m.r - xl.length * 8, H - m.b + 10, xl, axis);
  text(r, 4, H - m.b - 10, label(inv(y0, o.yLog)), axis);
  text(r, 4, m.t, label(inv(y1, o.yLog)), axis);
  for (const s of o.series) {
    const pts = s.points.filter(([x, y]) => Number.isFinite(tx(x)) && Number.isFinite(ty(y)));
    if (s.mode === 'line') {
      for (let i = 1; i < pts.length; i++) line(r, px(pts[i - 1]![0]), py(pts[i - 1]![1]), px(pts[i]![0]), py(pts[i]![1]), s.color);
    } else {
      for (const [x, y] of pts) for (let a = -3; a <= 3; a++) for (let b = -3; b <= 3; b++) if (a * a + b * b <= 9) setPx(r, px(x) + a, py(y) + b, s.color);
    }
  }
  return { raster: r, png: encodePng(W, H, 3, r.pixels) };
}
