/**
 * Asterism matching of two star lists (astroalign-like; docs/algorithms.md#registration): triangles from each star and its 4 nearest
 * neighbours, rotation/scale/mirror-invariant descriptors (L2/L1, L1/L0 of the sorted sides, L0 the
 * longest), candidate triangle pairs from a kd-tree (kdbush) query in invariant space, then RANSAC:
 * each candidate gives a similarity (plain or mirrored) from its 3 vertex pairs, scored by how many
 * stars it brings within `tolerance` px of a reference star. The best hypothesis is refined by
 * least squares on all inliers with the requested model, iterating the matching with the refined transform.
 */
import KDBush from 'kdbush';
import { apply, fitModel, isMirrored, residuals, rms, type Mat3, type Model, type Pair } from './transform.js';

export interface Point { x: number; y: number; flux?: number }

export interface MatchOptions {
  model?: Model;
  /** Inlier tolerance in px (default 2, as astroalign). */
  tolerance?: number;
  /** Brightest stars used to build triangles (default 50). */
  controlPoints?: number;
  /** Stars used when scoring and refining (default 500). */
  maxStars?: number;
  /** Minimum inliers for success (default 6). */
  minInliers?: number;
}

export interface MatchResult {
  ok: boolean;
  /** frame -> reference. */
  transform: Mat3;
  inliers: number;
  rms: number;
  mirrored: boolean;
  pairs: Pair[];
  reason?: string;
}

interface Tri { a: number; b: number; c: number; i1: number; i2: number }

/** Triangles with vertices ordered: a opposite the longest side, b opposite the middle, c opposite the shortest. */
function triangles(pts: Point[], nn: number): Tri[] {
  const n = pts.length;
  const idx = new KDBush(n);
  for (const p of pts) idx.add(p.x, p.y);
  idx.finish();
  const seen = new Set<string>();
  const out: Tri[] = [];
  for (let i = 0; i < n; i++) {
    // nearest neighbours by brute force over the control points (n <= a few hundred)
    const d = pts.map((p, j) => ({ j, d: (p.x - pts[i]!.x) ** 2 + (p.y - pts[i]!.y) ** 2 })).sort((a, b) => a.d - b.d).slice(0, nn + 1).map((e) => e.j);
    for (let p = 0; p < d.length; p++) for (let q = p + 1; q < d.length; q++) for (let r = q + 1; r < d.length; r++) {
      const v = [d[p]!, d[q]!, d[r]!].sort((x, y) => x - y);
      const key = v.join(',');
      if (seen.has(key)) continue;
      seen.add(key);
      const t = describeTri(pts, v[0]!, v[1]!, v[2]!);
      if (t) out.push(t);
    }
  }
  return out;
}

function describeTri(pts: Point[], i: number, j: number, k: number): Tri | null {
  const P = pts;
  const side = (u: number, w: number): number => Math.hypot(P[u]!.x - P[w]!.x, P[u]!.y - P[w]!.y);
  // side opposite each vertex
  const s = [
    { v: i, l: side(j, k) },
    { v: j, l: side(i, k) },
    { v: k, l: side(i, j) },
  ].sort((x, y) => y.l - x.l);
  const L0 = s[0]!.l, L1 = s[1]!.l, L2 = s[2]!.l;
  if (!(L2 > 1)) return null;
  return { a: s[0]!.v, b: s[1]!.v, c: s[2]!.v, i1: L1 / L0, i2: L2 / L1 };
}

function sortBright(pts: Point[]): Point[] {
  return pts.slice().sort((a, b) => (b.flux ?? 0) - (a.flux ?? 0));
}

/**
 * The reference stars in a uniform grid (CSR cells of at least `minCell` px, at most ~1024 cells a side): a query of
 * radius <= the cell size looks at the 3 x 3 cells around the point. Replaces a kd-tree for the many fixed-radius
 * queries of the scoring (the same neighbours, no allocation per query).
 */
class StarGrid {
  private readonly x0: number; private readonly y0: number; readonly cell: number;
  private readonly gw: number; private readonly gh: number;
  private readonly start: Int32Array; private readonly items: Int32Array;
  constructor(readonly xs: Float64Array, readonly ys: Float64Array, minCell: number) {
    const n = xs.length;
    let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
    const ok = (i: number): boolean => Number.isFinite(xs[i]!) && Number.isFinite(ys[i]!);
    for (let i = 0; i < n; i++) if (ok(i)) { x0 = Math.min(x0, xs[i]!); x1 = Math.max(x1, xs[i]!); y0 = Math.min(y0, ys[i]!); y1 = Math.max(y1, ys[i]!); }
    if (!(x1 >= x0)) { x0 = y0 = 0; x1 = y1 = 1; }
    this.cell = Math.max(minCell, (x1 - x0) / 1024, (y1 - y0) / 1024, 1e-9);
    this.x0 = x0; this.y0 = y0;
    this.gw = Math.floor((x1 - x0) / this.cell) + 1; this.gh = Math.floor((y1 - y0) / this.cell) + 1;
    const cellOf = new Int32Array(n);
    this.start = new Int32Array(this.gw * this.gh + 1);
    for (let i = 0; i < n; i++) {
      cellOf[i] = ok(i) ? Math.floor((ys[i]! - y0) / this.cell) * this.gw + Math.floor((xs[i]! - x0) / this.cell) : -1; // -1: not placed
      if (cellOf[i]! >= 0) this.start[cellOf[i]! + 1]!++;
    }
    for (let c = 0; c < this.gw * this.gh; c++) this.start[c + 1]! += this.start[c]!;
    const fill = this.start.slice(0, -1);
    this.items = new Int32Array(this.start[this.gw * this.gh]!);
    for (let i = 0; i < n; i++) if (cellOf[i]! >= 0) this.items[fill[cellOf[i]!]!++] = i;
  }

  /** Index of the star nearest (u, v) within radius r (<= cell), -1 when none; ties: the lowest index. */
  nearest(u: number, v: number, r: number): number {
    const cx = Math.floor((u - this.x0) / this.cell), cy = Math.floor((v - this.y0) / this.cell);
    const r2 = r * r;
    let best = -1, bd = Infinity;
    for (let gy = Math.max(0, cy - 1); gy <= Math.min(this.gh - 1, cy + 1); gy++) {
      for (let gx = Math.max(0, cx - 1); gx <= Math.min(this.gw - 1, cx + 1); gx++) {
        const c = gy * this.gw + gx;
        for (let k = this.start[c]!; k < this.start[c + 1]!; k++) {
          const i = this.items[k]!;
          const dx = this.xs[i]! - u, dy = this.ys[i]! - v, d = dx * dx + dy * dy;
          if (d <= r2 && (d < bd || (d === bd && i < best))) { bd = d; best = i; }
        }
      }
    }
    return best;
  }
}

/**
 * Stars of `src` that `h` brings within `tol` of a distinct reference star (pairs into `out`). With `need`, counting
 * stops as soon as `need` can no longer be reached (the count returned is then below `need`, not exact).
 */
function countInliers(h: Mat3, src: Point[], grid: StarGrid, tol: number, out?: Pair[], need = 0): number {
  let n = 0, left = src.length;
  const used = new Uint8Array(grid.xs.length);
  const h0 = h[0]!, h1 = h[1]!, h2 = h[2]!, h3 = h[3]!, h4 = h[4]!, h5 = h[5]!, h6 = h[6]!, h7 = h[7]!, h8 = h[8]!;
  for (const p of src) {
    if (n + left-- < need) break;
    const w = h6 * p.x + h7 * p.y + h8;
    const u = (h0 * p.x + h1 * p.y + h2) / w, v = (h3 * p.x + h4 * p.y + h5) / w;
    if (!Number.isFinite(u) || !Number.isFinite(v)) continue;
    const best = grid.nearest(u, v, tol);
    if (best >= 0 && !used[best]) {
      used[best] = 1;
      n++;
      if (out) out.push({ x: p.x, y: p.y, u: grid.xs[best]!, v: grid.ys[best]! });
    }
  }
  return n;
}

/** Match `frame` stars to `reference` stars; the transform maps frame coordinates to reference coordinates. */
export function matchStars(frame: Point[], reference: Point[], opts: MatchOptions = {}): MatchResult {
  const model = opts.model ?? 'homography';
  const tol = opts.tolerance ?? 2;
  const minIn = Math.max(opts.minInliers ?? 6, model === 'homography' ? 5 : 3);
  const fail = (reason: string): MatchResult => ({ ok: false, transform: new Float64Array(9), inliers: 0, rms: NaN, mirrored: false, pairs: [], reason });
  if (frame.length < 3 || reference.length < 3) return fail(`too few stars (${frame.length} in the frame, ${reference.length} in the reference)`);
  const fs = sortBright(frame).slice(0, opts.maxStars ?? 500);
  const rs = sortBright(reference).slice(0, opts.maxStars ?? 500);
  const refGrid = new StarGrid(Float64Array.from(rs, (p) => p.x), Float64Array.from(rs, (p) => p.y), tol);
  let best = null as { h: Mat3; n: number; mirror: boolean } | null;
  for (const ncp of [opts.controlPoints ?? 50, 150]) {
    const fc = fs.slice(0, ncp);
    const rc = rs.slice(0, ncp);
    const ft = triangles(fc, 4);
    const rt = triangles(rc, 4);
    if (ft.length === 0 || rt.length === 0) break;
    const tIdx = new KDBush(rt.length);
    for (const t of rt) tIdx.add(t.i1, t.i2);
    tIdx.finish();
    const tried = new Set<string>();
    for (const t of ft) {
      for (const ci of tIdx.within(t.i1, t.i2, 0.02)) {
        const r = rt[ci]!;
        const pairs: Pair[] = [
          { x: fc[t.a]!.x, y: fc[t.a]!.y, u: rc[r.a]!.x, v: rc[r.a]!.y },
          { x: fc[t.b]!.x, y: fc[t.b]!.y, u: rc[r.b]!.x, v: rc[r.b]!.y },
          { x: fc[t.c]!.x, y: fc[t.c]!.y, u: rc[r.c]!.x, v: rc[r.c]!.y },
        ];
        for (const mirror of [false, true]) {
          const h = fitModel(pairs, 'similarity', mirror);
          if (rms(residuals(h, pairs)) > tol) continue;
          const key = `${Math.round(h[2]! / 2)},${Math.round(h[5]! / 2)},${Math.round(h[0]! * 50)},${Math.round(h[3]! * 50)},${mirror}`;
          if (tried.has(key)) continue;
          tried.add(key);
          const n = countInliers(h, fs, refGrid, tol, undefined, best ? best.n + 1 : 0); // below best.n + 1: not kept
          if (!best || n > best.n) best = { h, n, mirror };
        }
      }
    }
    if (best && best.n >= Math.max(minIn, Math.min(fs.length, rs.length) * 0.2)) break;
  }
  if (!best || best.n < minIn) return fail(`no asterism match (best ${best?.n ?? 0} common stars, need ${minIn})`);
  // refinement with the requested model
  let h = best.h;
  let pairs: Pair[] = [];
  let tolR = tol;
  for (let it = 0; it < 4; it++) {
    pairs = [];
    countInliers(h, fs, refGrid, tolR, pairs);
    const need = model === 'homography' ? 5 : model === 'affine' ? 3 : model === 'similarity' ? 2 : 1;
    if (pairs.length < Math.max(need, minIn)) break;
    h = fitModel(pairs, model, best.mirror);
    const r = residuals(h, pairs);
    tolR = Math.min(tol, Math.max(0.5, 4 * rms(r)));
  }
  pairs = [];
  countInliers(h, fs, refGrid, tolR, pairs);
  if (pairs.length < minIn) return fail(`too few common stars after refinement (${pairs.length}, need ${minIn})`);
  h = fitModel(pairs, model, best.mirror);
  return { ok: true, transform: h, inliers: pairs.length, rms: rms(residuals(h, pairs)), mirrored: isMirrored(h), pairs };
}
