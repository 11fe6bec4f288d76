// AssemblyScript (0.28) source of the WASM-SIMD kernel of the MRS noise transform (src/image/noise.ts).
// Built by `node scripts/build-wasm.mjs` (copied to a .ts name for asc; the .as extension keeps tsc off it).
//
// One a-trous B3 layer (`layer`): row pass cur -> tmp, then column pass tmp -> next with the
// multiresolution-support ratio max(ratio, |cur - next| * inv) and, on the last layer, the residual
// I - c_J written over next. Two neighbouring pixels per f64x2 vector: every value is computed in
// float64 in the plain-TS reference's order ((H0 a + H1 (b + c)) + H2 (d + e), no fused multiply-add)
// and rounded to float32 where the reference stores into a Float32Array, so the results are
// bit-identical to noise.ts's layerPass. Boundaries are mirrored as there.
//
// Memory: planes of width * height f32 at byte offsets given by the caller; resid = 0 means none.

const H0: f64 = 3.0 / 8.0;
const H1: f64 = 1.0 / 4.0;
const H2: f64 = 1.0 / 16.0;

@inline function mirror(i: i32, n: i32): i32 {
  if (n == 1) return 0;
  const p = 2 * n - 2;
  i %= p;
  if (i < 0) i += p;
  return i < n ? i : p - i;
}

@inline function ld(base: usize, i: i32): f64 {
  return <f64>load<f32>(base + (<usize>i << 2));
}

/** Two f32 at byte address a, promoted to f64x2. */
@inline function ld2(a: usize): v128 {
  return f64x2.promote_low_f32x4(v128.load64_zero(a));
}

/** f64x2 rounded to two f32, stored at byte address a. */
@inline function st2(a: usize, v: v128): void {
  v128.store64_lane(a, f32x4.demote_f64x2_zero(v), 0);
}

/** f64x2 rounded to float32 and back (the value a Float32Array would hold). */
@inline function round2(v: v128): v128 {
  return f64x2.promote_low_f32x4(f32x4.demote_f64x2_zero(v));
}

@inline function taps(a: v128, b: v128, c: v128, d: v128, e: v128): v128 {
  return f64x2.add(f64x2.add(f64x2.mul(f64x2.splat(H0), a), f64x2.mul(f64x2.splat(H1), f64x2.add(b, c))), f64x2.mul(f64x2.splat(H2), f64x2.add(d, e)));
}

function rowPass(src: usize, tmp: usize, width: i32, height: i32, d: i32): void {
  const d2 = 2 * d;
  const x0 = min(d2, width);
  const x1 = max(x0, width - d2);
  const bd = <usize>d << 2;
  const bd2 = <usize>d2 << 2;
  for (let y = 0; y < height; y++) {
    const b = y * width;
    for (let x = 0; x < width; x++) {
      if (x == x0) {
        // Interior: two pixels per vector, then at most one scalar.
        let i = b + x0;
        const e = b + x1;
        for (; i + 1 < e; i += 2) {
          const a = src + (<usize>i << 2);
          st2(tmp + (<usize>i << 2), taps(ld2(a), ld2(a - bd), ld2(a + bd), ld2(a - bd2), ld2(a + bd2)));
        }
        if (i < e) {
          store<f32>(tmp + (<usize>i << 2), <f32>(H0 * ld(src, i) + H1 * (ld(src, i - d) + ld(src, i + d)) + H2 * (ld(src, i - d2) + ld(src, i + d2))));
        }
        x = x1;
        if (x >= width) break;
      }
      const v = H0 * ld(src, b + x) + H1 * (ld(src, b + mirror(x - d, width)) + ld(src, b + mirror(x + d, width))) + H2 * (ld(src, b + mirror(x - d2, width)) + ld(src, b + mirror(x + d2, width)));
      store<f32>(tmp + (<usize>(b + x) << 2), <f32>v);
    }
  }
}

/** Scalar column-pass pixel i (row offsets m1, p1, m2, p2 relative to i). */
@inline function colPixel(cur: usize, next: usize, tmp: usize, ratio: usize, resid: usize, i: i32, m1: i32, p1: i32, m2: i32, p2: i32, inv: f64, first: bool): void {
  const c = <f32>(H0 * ld(tmp, i) + H1 * (ld(tmp, i + m1) + ld(tmp, i + p1)) + H2 * (ld(tmp, i + m2) + ld(tmp, i + p2)));
  const r = abs<f64>(ld(cur, i) - <f64>c) * inv;
  const ra = ratio + (<usize>i << 2);
  if (first || r > <f64>load<f32>(ra)) store<f32>(ra, <f32>r);
  const na = next + (<usize>i << 2);
  if (resid != 0) store<f32>(na, <f32>(ld(resid, i) - <f64>c));
  else store<f32>(na, c);
}

export function layer(cur: usize, next: usize, tmp: usize, ratio: usize, resid: usize, width: i32, height: i32, d: i32, inv: f64, first: i32): void {
  rowPass(cur, tmp, width, height, d);
  const vinv = f64x2.splat(inv);
  const isFirst = first != 0;
  for (let y = 0; y < height; y++) {
    const b = y * width;
    const m1 = (mirror(y - d, height) * width - b);
    const p1 = (mirror(y + d, height) * width - b);
    const m2 = (mirror(y - 2 * d, height) * width - b);
    const p2 = (mirror(y + 2 * d, height) * width - b);
    const e = b + width;
    let i = b;
    for (; i + 1 < e; i += 2) {
      const o = <usize>i << 2;
      const t = tmp + o;
      const c = round2(taps(ld2(t), ld2(t + (<isize>m1 << 2)), ld2(t + (<isize>p1 << 2)), ld2(t + (<isize>m2 << 2)), ld2(t + (<isize>p2 << 2))));
      const r = f64x2.mul(f64x2.abs(f64x2.sub(ld2(cur + o), c)), vinv);
      if (isFirst) st2(ratio + o, r);
      else {
        const old = ld2(ratio + o);
        st2(ratio + o, v128.bitselect(r, old, f64x2.gt(r, old)));
      }
      if (resid != 0) st2(next + o, f64x2.sub(ld2(resid + o), c));
      else st2(next + o, c);
    }
    if (i < e) colPixel(cur, next, tmp, ratio, resid, i, m1, p1, m2, p2, inv, isFirst);
  }
}

// Sums of the noise iterations in the reference's order, so bit-identical: out (f64) = [count, sum, sum of squares].
// Two pixels per f64x2 vector for the loads, the test and the squares; the two running sums take the lanes one
// after the other (index order), so they are the reference's scalar sums. A value not kept adds +0, which leaves a
// sum unchanged (a sum from +0 is never -0); the count is the kept lanes' all-ones masks (-1 each) subtracted.

@inline function addLanes(s: f64, v: v128): f64 {
  return s + f64x2.extract_lane(v, 0) + f64x2.extract_lane(v, 1);
}

@inline function storeSums(out: usize, cnt: i64, sum: f64, ss: f64): void {
  store<f64>(out, <f64>cnt);
  store<f64>(out, sum, 8);
  store<f64>(out, ss, 16);
}

/** Over the values v = src - c1 with |v| < thr (k-sigma clipping of the first layer). */
export function ksigmaSums(src: usize, c1: usize, n: i32, thr: f64, out: usize): void {
  let vcnt = i64x2.splat(0);
  let sum: f64 = 0;
  let ss: f64 = 0;
  const vthr = f64x2.splat(thr);
  let i = 0;
  for (; i + 1 < n; i += 2) {
    const o = <usize>i << 2;
    const v = f64x2.sub(ld2(src + o), ld2(c1 + o));
    const keep = f64x2.lt(f64x2.abs(v), vthr);
    const u = v128.and(v, keep);
    vcnt = i64x2.sub(vcnt, keep);
    sum = addLanes(sum, u);
    ss = addLanes(ss, f64x2.mul(u, u));
  }
  let cnt = i64x2.extract_lane(vcnt, 0) + i64x2.extract_lane(vcnt, 1);
  if (i < n) {
    const v = ld(src, i) - ld(c1, i);
    if (abs<f64>(v) < thr) {
      cnt++;
      sum += v;
      ss += v * v;
    }
  }
  storeSums(out, cnt, sum, ss);
}

/** Over the residuals of the pixels with ratio < thr (outside the multiresolution support; a NaN ratio is kept). */
export function mrsSums(ratio: usize, resid: usize, n: i32, thr: f64, out: usize): void {
  let vcnt = i64x2.splat(0);
  let sum: f64 = 0;
  let ss: f64 = 0;
  const vthr = f64x2.splat(thr);
  let i = 0;
  for (; i + 1 < n; i += 2) {
    const o = <usize>i << 2;
    const keep = v128.not(f64x2.ge(ld2(ratio + o), vthr));
    const u = v128.and(ld2(resid + o), keep);
    vcnt = i64x2.sub(vcnt, keep);
    sum = addLanes(sum, u);
    ss = addLanes(ss, f64x2.mul(u, u));
  }
  let cnt = i64x2.extract_lane(vcnt, 0) + i64x2.extract_lane(vcnt, 1);
  if (i < n && !(ld(ratio, i) >= thr)) {
    const v = ld(resid, i);
    cnt++;
    sum += v;
    ss += v * v;
  }
  storeSums(out, cnt, sum, ss);
}

/** Non-finite values (NaN, +-Infinity: v - v is not 0) among n f32 at src. */
export function nonFinite(src: usize, n: i32): i32 {
  let vc = i32x4.splat(0);
  let i = 0;
  for (; i + 3 < n; i += 4) {
    const v = v128.load(src + (<usize>i << 2));
    vc = i32x4.sub(vc, f32x4.ne(f32x4.sub(v, v), f32x4.splat(0)));
  }
  let c = i32x4.extract_lane(vc, 0) + i32x4.extract_lane(vc, 1) + i32x4.extract_lane(vc, 2) + i32x4.extract_lane(vc, 3);
  for (; i < n; i++) {
    const v = load<f32>(src + (<usize>i << 2));
    if (v - v != 0) c++;
  }
  return c;
}
