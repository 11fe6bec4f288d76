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

function countInliers(h: Mat3, src: Point[], refIdx: KDBush, ref: Point[], tol: number, out?: Pair[]): number {
  let n = 0;
  const used = new Set<number>();
  for (const p of src) {
    const [u, v] = apply(h, p.x, p.y);
    if (!Number.isFinite(u) || !Number.isFinite(v)) continue;
    const cand = refIdx.within(u, v, tol);
    let best = -1, bd = Infinity;
    for (const c of cand) {
      const d = (ref[c]!.x - u) ** 2 + (ref[c]!.y - v) ** 2;
      if (d < bd) { bd = d; best = c; }
    }
    if (best >= 0 && !used.has(best)) {
      used.add(best);
      n++;
      if (out) out.push({ x: p.x, y: p.y, u: ref[best]!.x, v: ref[best]!.y });
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
  const refIdx = new KDBush(rs.length);
  for (const p of rs) refIdx.add(p.x, p.y);
  refIdx.finish();
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
          const n = countInliers(h, fs, refIdx, rs, tol);
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
    countInliers(h, fs, refIdx, rs, tolR, pairs);
    const need = model === 'homography' ? 5 : model === 'affine' ? 3 : model === 'similarity' ? 2 : 1;
    if (pairs.length < Math.max(need, minIn)) break;
    h = fitModel(pairs, model, best.mirror);
    const r = residuals(h, pairs);
    tolR = Math.min(tol, Math.max(0.5, 4 * rms(r)));
  }
  pairs = [];
  countInliers(h, fs, refIdx, rs, tolR, pairs);
  if (pairs.length < minIn) return fail(`too few common stars after refinement (${pairs.length}, need ${minIn})`);
  h = fitModel(pairs, model, best.mirror);
  return { ok: true, transform: h, inliers: pairs.length, rms: rms(residuals(h, pairs)), mirrored: isMirrored(h), pairs };
}
