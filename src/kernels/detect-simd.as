// AssemblyScript (0.28) source of the WASM-SIMD kernel of star detection's whole-frame passes (src/stars/detect.ts,
// src/stars/background.ts). Built by `node scripts/build-wasm.mjs` (copied to a .ts name for asc; the .as extension
// keeps tsc off it). Every result is the TS reference's bit for bit: the same float64 operations in the same order,
// two pixels per f64x2 vector (lanes never mix), float32 rounding where the reference stores to a Float32Array.
//
// cellStats: per mesh cell, the finite values gathered, sorted (radix sort of the order-preserving keys of the
//   float32 bits; the sorted order of keys is unique, so any correct sort gives the reference's array), then
//   background.ts clippedLocationScaleSorted (prefix sums in float64, binary searches).
// interpRows / interpCols: the two passes of background.ts interpolateMesh (Catmull-Rom weights and clamped
//   indices computed by the caller, the sums here).
// subtract: detect.ts subtractBackground (plane - background, NaN as 0).
// convolve: detect.ts convolve (separable, edge replication; rows in float64, columns rounded to float32 per tap in
//   the interior, float64 at the edges).
// above: the pixels whose filtered value exceeds kn x noise (detect.ts labelComponents' threshold), their indices.
//
// The caller loops over rows, cells and chunks, calling a function per row (per cell, per chunk): V8 runs a long call
// of a wasm function in its baseline tier (no tier-up within a call), a function called many times moves to the
// optimizing tier after its first calls.
//
// Memory: the caller's byte offsets.

@inline function f32at(p: usize, i: i32): f64 {
  return <f64>load<f32>(p + (<usize>i << 2));
}

/**
 * Sort the n keys at a (passes between a and b) on their offset from kmin, less the tz low bits every key has zero
 * (integer ADU: the low mantissa bits), in as few digits of at most 11 bits as the range needs; returns the offset
 * of the sorted keys.
 */
function sortKeys(a: usize, b: usize, n: i32, kmin: u32, kmax: u32, tz: u32, hist: usize): usize {
  const range = (kmax - kmin) >>> tz;
  const nbits: i32 = range == 0 ? 0 : 32 - <i32>clz(range);
  const passes: i32 = (nbits + 10) / 11;
  const w: i32 = passes > 0 ? (nbits + passes - 1) / passes : 0;
  const size: i32 = 1 << w;
  const mask: u32 = <u32>size - 1;
  memory.fill(hist, 0, <usize>(3 * size) << 2);
  // the histograms of every pass in one loop (three always: a pass beyond `passes` counts digit 0, unused)
  const h1 = hist + (<usize>size << 2);
  const h2 = h1 + (<usize>size << 2);
  const w1 = <u32>w;
  const w2 = <u32>(2 * w);
  for (let i = 0; i < n; i++) {
    const r = (load<u32>(a + (<usize>i << 2)) - kmin) >>> tz;
    const q0 = hist + (<usize>(r & mask) << 2);
    store<u32>(q0, load<u32>(q0) + 1);
    const q1 = h1 + (<usize>((r >>> w1) & mask) << 2);
    store<u32>(q1, load<u32>(q1) + 1);
    const q2 = h2 + (<usize>((r >>> w2) & mask) << 2);
    store<u32>(q2, load<u32>(q2) + 1);
  }
  let keys = a;
  let tmp = b;
  for (let p = 0; p < passes; p++) {
    const shift = <u32>(p * w) + tz;
    const hp = hist + (<usize>(p * size) << 2);
    if (load<u32>(hp + (<usize>(((load<u32>(keys) - kmin) >>> shift) & mask) << 2)) == <u32>n) continue;
    let cum: u32 = 0;
    for (let d = 0; d < size; d++) {
      const q = hp + (<usize>d << 2);
      const c = load<u32>(q);
      store<u32>(q, cum);
      cum += c;
    }
    for (let i = 0; i < n; i++) {
      const k = load<u32>(keys + (<usize>i << 2));
      const q = hp + (<usize>(((k - kmin) >>> shift) & mask) << 2);
      const j = load<u32>(q);
      store<u32>(q, j + 1);
      store<u32>(tmp + (<usize>j << 2), k);
    }
    const t = keys;
    keys = tmp;
    tmp = t;
  }
  return keys;
}

/** First index in [lo, hi) of the ascending float32 at a whose value is >= v (strict: > v), or hi. */
function bound(a: usize, lo: i32, hi: i32, v: f64, strict: bool): i32 {
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    const x = f32at(a, mid);
    if (strict ? x <= v : x < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** clippedLocationScaleSorted of the n sorted float32 at buf: location and scale at out (two f64). */
function clipped(buf: usize, n: i32, sigma: f64, iterations: i32, p1: usize, p2: usize, out: usize): void {
  const c: f64 = n > 0 ? f32at(buf, n >> 1) : 0;
  store<f64>(p1, 0);
  store<f64>(p2, 0);
  let t1: f64 = 0;
  let t2: f64 = 0;
  for (let i = 0; i < n; i++) {
    const d = f32at(buf, i) - c;
    const q = (<usize>i << 3) + 8;
    t1 = t1 + d;
    t2 = t2 + d * d;
    store<f64>(p1 + q, t1);
    store<f64>(p2 + q, t2);
  }
  let lo = 0;
  let hi = n;
  let med: f64 = NaN;
  let std: f64 = NaN;
  let mean: f64 = NaN;
  for (let it = 0; it <= iterations; it++) {
    const m = hi - lo;
    if (m == 0) break;
    const h = m >> 1;
    med = m % 2 == 1 ? f32at(buf, lo + h) : 0.5 * (f32at(buf, lo + h - 1) + f32at(buf, lo + h));
    const s1 = (load<f64>(p1 + (<usize>hi << 3)) - load<f64>(p1 + (<usize>lo << 3))) / <f64>m;
    const s2 = (load<f64>(p2 + (<usize>hi << 3)) - load<f64>(p2 + (<usize>lo << 3))) / <f64>m;
    mean = c + s1;
    std = Math.sqrt(Math.max(0, s2 - s1 * s1));
    if (it == iterations) break;
    const a = bound(buf, lo, hi, med - sigma * std, false);
    const b = bound(buf, a, hi, med + sigma * std, true);
    if (b - a == m) break;
    lo = a;
    hi = b;
  }
  const location = std > 0 && Math.abs(mean - med) / std < 0.3 ? 2.5 * med - 1.5 * mean : med;
  store<f64>(out, location);
  store<f64>(out + 8, std);
}

/**
 * Location and scale of one cell of the mesh (columns x0..x1-1 of rows y0..y1-1 of the width-wide float32 plane)
 * at out (two f64). Scratch: a, b (keys), p1, p2 (prefix sums, n + 1 f64 each), hist (3 * 2048 u32), for up to the
 * cell's pixels.
 */
export function cellStats(plane: usize, width: i32, x0: i32, x1: i32, y0: i32, y1: i32, sigma: f64, iterations: i32, a: usize, b: usize, p1: usize, p2: usize, hist: usize, out: usize): void {
  {
    {
      let n = 0;
      let kmin: u32 = 0xffffffff;
      let kmax: u32 = 0;
      let kor: u32 = 0;
      for (let y = y0; y < y1; y++) {
        const row = plane + (<usize>(y * width) << 2);
        for (let x = x0; x < x1; x++) {
          const bits = load<u32>(row + (<usize>x << 2));
          if ((bits & 0x7fffffff) > 0x7f800000) continue; // NaN
          const k = bits ^ ((<u32>(<i32>bits >> 31)) | 0x80000000);
          store<u32>(a + (<usize>n << 2), k);
          kmin = min(kmin, k);
          kmax = max(kmax, k);
          kor |= k;
          n++;
        }
      }
      let buf = a;
      if (n > 0) {
        buf = sortKeys(a, b, n, kmin, kmax, kor == 0 ? 0 : min<u32>(ctz(kor), 31), hist);
        for (let q = 0; q < n; q++) {
          const p = buf + (<usize>q << 2);
          const k = load<u32>(p);
          store<u32>(p, k & 0x80000000 ? k & 0x7fffffff : ~k);
        }
      }
      clipped(buf, n, sigma, iterations, p1, p2, out);
    }
  }
}

/**
 * Pass 1 of the mesh interpolation: rows[r nx + x] = sum over k of wx[4 x + k] mesh[(j0 + r) mw + ix[4 x + k]]
 * (from 0, k = 0..3), for the mesh rows j0..j1 and the nx columns of the tables.
 */
export function interpRows(mesh: usize, mw: i32, j0: i32, j1: i32, ix: usize, wx: usize, nx: i32, rows: usize): void {
  for (let j = j0; j <= j1; j++) {
    const m = mesh + (<usize>(j * mw) << 3);
    const r = rows + (<usize>((j - j0) * nx) << 3);
    for (let x = 0; x < nx; x++) {
      const t = <usize>(x << 2);
      let s: f64 = 0;
      s += load<f64>(wx + (t << 3)) * load<f64>(m + (<usize>load<i32>(ix + (t << 2)) << 3));
      s += load<f64>(wx + ((t + 1) << 3)) * load<f64>(m + (<usize>load<i32>(ix + ((t + 1) << 2)) << 3));
      s += load<f64>(wx + ((t + 2) << 3)) * load<f64>(m + (<usize>load<i32>(ix + ((t + 2) << 2)) << 3));
      s += load<f64>(wx + ((t + 3) << 3)) * load<f64>(m + (<usize>load<i32>(ix + ((t + 3) << 2)) << 3));
      store<f64>(r + (<usize>x << 3), s);
    }
  }
}

/**
 * Pass 2: out[y outStride + i] = f32(w0 r0[i] + w1 r1[i] + w2 r2[i] + w3 r3[i]) for y < ny, i < nx, where rk is the
 * row ry[4 y + k] of `rows` (rowStride f64 apart) and wk = wy[4 y + k].
 */
export function interpCols(rows: usize, rowStride: i32, ry: usize, wy: usize, ny: i32, nx: i32, out: usize, outStride: i32): void {
  for (let y = 0; y < ny; y++) interpColsRow(rows, rowStride, ry, wy, y, nx, out, outStride);
}

/** Row y of interpCols. */
export function interpColsRow(rows: usize, rowStride: i32, ry: usize, wy: usize, y: i32, nx: i32, out: usize, outStride: i32): void {
  {
    const t = <usize>(y << 2);
    const r0 = rows + (<usize>(load<i32>(ry + (t << 2)) * rowStride) << 3);
    const r1 = rows + (<usize>(load<i32>(ry + ((t + 1) << 2)) * rowStride) << 3);
    const r2 = rows + (<usize>(load<i32>(ry + ((t + 2) << 2)) * rowStride) << 3);
    const r3 = rows + (<usize>(load<i32>(ry + ((t + 3) << 2)) * rowStride) << 3);
    const w0 = load<f64>(wy + (t << 3));
    const w1 = load<f64>(wy + ((t + 1) << 3));
    const w2 = load<f64>(wy + ((t + 2) << 3));
    const w3 = load<f64>(wy + ((t + 3) << 3));
    const v0 = f64x2.splat(w0);
    const v1 = f64x2.splat(w1);
    const v2 = f64x2.splat(w2);
    const v3 = f64x2.splat(w3);
    const o = out + (<usize>(y * outStride) << 2);
    let i = 0;
    for (; i + 1 < nx; i += 2) {
      const q = <usize>i << 3;
      let s = f64x2.mul(v0, v128.load(r0 + q));
      s = f64x2.add(s, f64x2.mul(v1, v128.load(r1 + q)));
      s = f64x2.add(s, f64x2.mul(v2, v128.load(r2 + q)));
      s = f64x2.add(s, f64x2.mul(v3, v128.load(r3 + q)));
      v128.store64_lane(o + (<usize>i << 2), f32x4.demote_f64x2_zero(s), 0);
    }
    for (; i < nx; i++) {
      const q = <usize>i << 3;
      store<f32>(o + (<usize>i << 2), <f32>(w0 * load<f64>(r0 + q) + w1 * load<f64>(r1 + q) + w2 * load<f64>(r2 + q) + w3 * load<f64>(r3 + q)));
    }
  }
}

/** sub[i] = plane[i] - bkg[i] (float32), NaN as +0, for i < n. */
export function subtract(plane: usize, bkg: usize, sub: usize, n: i32): void {
  let i = 0;
  for (; i + 3 < n; i += 4) {
    const q = <usize>i << 2;
    const v = f32x4.sub(v128.load(plane + q), v128.load(bkg + q));
    v128.store(sub + q, v128.and(v, f32x4.eq(v, v)));
  }
  for (; i < n; i++) {
    const q = <usize>i << 2;
    const v = load<f32>(plane + q) - load<f32>(bkg + q);
    store<f32>(sub + q, v == v ? v : 0);
  }
}

/** One output pixel of the row pass near the edges: the taps' sum from 0, indices clamped to the row. */
@inline function rowEdge(src: usize, o: i32, width: i32, x: i32, k: usize, n: i32, r: i32): f64 {
  let s: f64 = 0;
  for (let i = 0; i < n; i++) {
    let xx = x + i - r;
    xx = xx < 0 ? 0 : xx >= width ? width - 1 : xx;
    s += load<f64>(k + (<usize>i << 3)) * f32at(src, o + xx);
  }
  return s;
}

/**
 * detect.ts convolve (out = src (*) k, n f64 taps, n odd, separably with edge replication; tmp: width x height
 * float32): convolveRow for every row (pixel offset o = y width) into tmp, then convolveCol for every row of out.
 */
export function convolveRow(src: usize, width: i32, o: i32, k: usize, n: i32, tmp: usize): void {
  const r = (n - 1) >> 1;
  const xa = min(r, width);
  const xb = max(xa, width - r);
  const k0 = f64x2.splat(load<f64>(k));
  {
    let x = xa;
    for (; x + 1 < xb; x += 2) {
      const b = src + (<usize>(o + x - r) << 2);
      let s = f64x2.mul(k0, f64x2.promote_low_f32x4(v128.load64_zero(b)));
      for (let i = 1; i < n; i++) {
        s = f64x2.add(s, f64x2.mul(f64x2.splat(load<f64>(k + (<usize>i << 3))), f64x2.promote_low_f32x4(v128.load64_zero(b + (<usize>i << 2)))));
      }
      v128.store64_lane(tmp + (<usize>(o + x) << 2), f32x4.demote_f64x2_zero(s), 0);
    }
    for (; x < xb; x++) {
      const b = src + (<usize>(o + x - r) << 2);
      let s: f64 = load<f64>(k) * f32at(b, 0);
      for (let i = 1; i < n; i++) s = s + load<f64>(k + (<usize>i << 3)) * f32at(b, i);
      store<f32>(tmp + (<usize>(o + x) << 2), <f32>s);
    }
    for (let e = 0; e < xa; e++) store<f32>(tmp + (<usize>(o + e) << 2), <f32>rowEdge(src, o, width, e, k, n, r));
    for (let e = xb; e < width; e++) store<f32>(tmp + (<usize>(o + e) << 2), <f32>rowEdge(src, o, width, e, k, n, r));
  }
}

/** Row y of the column pass: out = tmp (*) k along y. */
export function convolveCol(tmp: usize, width: i32, height: i32, y: i32, k: usize, n: i32, out: usize): void {
  const r = (n - 1) >> 1;
  if (y >= r && y + r < height) colInterior(tmp + (<usize>((y - r) * width) << 2), width, k, n, out + (<usize>(y * width) << 2));
  else colEdge(tmp, width, height, y, k, n, out + (<usize>(y * width) << 2));
}

/** An interior output row o of the column pass from the n rows from b: each partial sum rounded to float32 (the reference stores it in the output array). */
function colInterior(b: usize, width: i32, k: usize, n: i32, o: usize): void {
  const k0s = load<f64>(k);
  const k0 = f64x2.splat(k0s);
  let x = 0;
      for (; x + 1 < width; x += 2) {
        const q = <usize>x << 2;
        let v = f64x2.promote_low_f32x4(f32x4.demote_f64x2_zero(f64x2.mul(k0, f64x2.promote_low_f32x4(v128.load64_zero(b + q)))));
        for (let i = 1; i < n; i++) {
          const t = f64x2.promote_low_f32x4(v128.load64_zero(b + (<usize>(i * width) << 2) + q));
          v = f64x2.promote_low_f32x4(f32x4.demote_f64x2_zero(f64x2.add(v, f64x2.mul(f64x2.splat(load<f64>(k + (<usize>i << 3))), t))));
        }
        v128.store64_lane(o + q, f32x4.demote_f64x2_zero(v), 0);
      }
      for (; x < width; x++) {
        const q = <usize>x << 2;
        let v = <f64><f32>(k0s * <f64>load<f32>(b + q));
        for (let i = 1; i < n; i++) v = <f64><f32>(v + load<f64>(k + (<usize>i << 3)) * <f64>load<f32>(b + (<usize>(i * width) << 2) + q));
        store<f32>(o + q, <f32>v);
      }
}

/** An output row y (at o) of the column pass near the top or bottom: sums from 0 in float64, rows clamped. */
function colEdge(tmp: usize, width: i32, height: i32, y: i32, k: usize, n: i32, o: usize): void {
  const r = (n - 1) >> 1;
  for (let x = 0; x < width; x++) {
    let s: f64 = 0;
    for (let i = 0; i < n; i++) {
      let yy = y + i - r;
      yy = yy < 0 ? 0 : yy >= height ? height - 1 : yy;
      s += load<f64>(k + (<usize>i << 3)) * f32at(tmp, yy * width + x);
    }
    store<f32>(o + (<usize>x << 2), <f32>s);
  }
}

/** The indices i in [i0, i1) (ascending) with filt[i] > kn noise[i] (float64), appended to idx from c; the new count. */
export function above(filt: usize, noise: usize, i0: i32, i1: i32, kn: f64, idx: usize, c: i32): i32 {
  const kv = f64x2.splat(kn);
  const n = i1;
  let i = i0;
  for (; i + 1 < n; i += 2) {
    const q = <usize>i << 2;
    const f = f64x2.promote_low_f32x4(v128.load64_zero(filt + q));
    const t = f64x2.mul(kv, f64x2.promote_low_f32x4(v128.load64_zero(noise + q)));
    const m = f64x2.gt(f, t);
    if (!v128.any_true(m)) continue;
    if (i64x2.extract_lane(m, 0) != 0) { store<i32>(idx + (<usize>c << 2), i); c++; }
    if (i64x2.extract_lane(m, 1) != 0) { store<i32>(idx + (<usize>c << 2), i + 1); c++; }
  }
  for (; i < n; i++) {
    if (f32at(filt, i) > kn * f32at(noise, i)) { store<i32>(idx + (<usize>c << 2), i); c++; }
  }
  return c;
}
