// AssemblyScript (0.28) source of the WASM-SIMD resampling kernel (src/register/resample.ts).
// Built by `node scripts/build-wasm.mjs` (copied to a .ts name for asc; the .as extension keeps tsc off it).
//
// Two paths. The general map of unclamped Lanczos-3 (registration) and of bicubic runs in float32, one output
// pixel per iteration with the taps of a source row as f32x4 lanes (stepped32, at the end of this file,
// bit-identical to resample.ts warpRowsStepped32). Clamped Lanczos-3 (stepped) and the axis-aligned map
// (sepH, sepV) run in float64: two neighbouring output pixels per f64x2 vector (lane 0: column ox, lane 1:
// ox + 1). Each lane follows the plain-TS reference's float64 arithmetic in its order (no fused multiply-add; the
// branches of the clamped 1-D pass become lane selects of the same sums; `if (v < m) m = v` is
// f64x2.pmin), and rounds to float32 only where the reference stores into a Float32Array, so the
// results are bit-identical to resample.ts's warpRowsStepped and warpSeparable. Positions along a
// row are stepped in scalar (X += inv[0] per pixel), as the reference does.
//
// Memory (byte offsets given by the driver, src/kernels/resample.ts): source rows ra..rb (f32, width
// w) at `src`; output rows at `out` (f32, width outW); lut: the reference's Lanczos-3 table as pairs (see lutK).

const LUT_RES: f64 = 4096.0;
const L3: i32 = 3 * 4096;

// Scratch: six f64x2 each (values of a 1-D pass, x weights, y weights, column results).
const VAL = memory.data(96, 16);
const WX = memory.data(96, 16);
const WY = memory.data(96, 16);
const COL = memory.data(96, 16);

@inline function zero(): v128 {
  return f64x2.splat(0.0);
}

/** Two f32 at byte addresses a and b, as f64x2 (lane 0 from a). */
@inline function pair(a: usize, b: usize): v128 {
  return f64x2.replace_lane(f64x2.splat(<f64>load<f32>(a)), 1, <f64>load<f32>(b));
}

/** Two consecutive f32 at byte address a, as f64x2 in reverse order (lane 0 from a + 4). */
@inline function ld2r(a: usize): v128 {
  return f64x2.promote_low_f32x4(i32x4.shuffle(v128.load64_zero(a), v128.load64_zero(a), 1, 0, 2, 3));
}

/** Two consecutive f32 at byte address a, as f64x2. */
@inline function ld2(a: usize): v128 {
  return f64x2.promote_low_f32x4(v128.load64_zero(a));
}

@inline function clampi(v: i32, lo: i32, hi: i32): i32 {
  return v < lo ? lo : v > hi ? hi : v;
}

/**
 * resample.ts clampedPass on n values at `vals` and n weights at `ws` (f64x2 each): m = min(0, v),
 * then the positive and negative contributions; clamped (m + sp / wp) where sp > 0 and sn / sp > cl.
 */
@inline function clampedPass(vals: usize, ws: usize, n: i32, cl: v128): v128 {
  let m = zero();
  for (let i = 0; i < n; i++) m = f64x2.pmin(m, v128.load(vals + (<usize>i << 4)));
  let sp = zero();
  let sn = zero();
  let wp = zero();
  for (let i = 0; i < n; i++) {
    const w = v128.load(ws + (<usize>i << 4));
    const t = f64x2.mul(f64x2.sub(v128.load(vals + (<usize>i << 4)), m), w);
    const neg = f64x2.lt(w, zero());
    sn = v128.bitselect(f64x2.sub(sn, t), sn, neg);
    sp = v128.bitselect(sp, f64x2.add(sp, t), neg);
    wp = v128.bitselect(wp, f64x2.add(wp, w), neg);
  }
  const clamped = v128.and(f64x2.gt(sp, zero()), f64x2.gt(f64x2.div(sn, sp), cl));
  const plain = f64x2.sub(f64x2.add(m, sp), sn);
  return v128.any_true(clamped) ? v128.bitselect(f64x2.add(m, f64x2.div(sp, wp)), plain, clamped) : plain;
}

/** Plain weighted sum s = 0; s += v[i] w[i] (both lanes). */
@inline function plainSum(vals: usize, ws: usize, n: i32): v128 {
  let s = zero();
  for (let i = 0; i < n; i++) s = f64x2.add(s, f64x2.mul(v128.load(vals + (<usize>i << 4)), v128.load(ws + (<usize>i << 4))));
  return s;
}

/**
 * The interpolated Lanczos-3 table at a = |d| * LUT_RES, per lane: L[li] + (a - li) (L[li + 1] - L[li]).
 * `lut` holds the pairs (L[i], L[i + 1] - L[i]) for i = 0 .. L3 (the differences are the same float64
 * the reference subtracts). From L3 on (|d| = 3, reached at most) both entries are +0, so the value is
 * +0 as the reference's `li >= L3 ? 0` gives; the index is kept <= L3 for memory safety.
 */
@inline function lutK(a: v128, lut: usize): v128 {
  const li = i32x4.trunc_sat_f64x2_s_zero(a);
  const va = v128.load(lut + (<usize>min(i32x4.extract_lane(li, 0), L3) << 4));
  const vb = v128.load(lut + (<usize>min(i32x4.extract_lane(li, 1), L3) << 4));
  return f64x2.add(v128.shuffle<i64>(va, vb, 0, 2), f64x2.mul(f64x2.sub(a, f64x2.convert_low_i32x4_s(li)), v128.shuffle<i64>(va, vb, 1, 3)));
}

/** Byte offset of source row yy (edge replicated, then kept inside the rows held, ra..rb). */
@inline function rowOff(yy: i32, h: i32, ra: i32, rb: i32, w: i32): usize {
  return <usize>((clampi(clampi(yy, 0, h - 1), ra, rb) - ra) * w) << 2;
}

/** Weight of tap x0 + i at position s (Lanczos-3 table), per lane. */
@inline function lw(s: v128, x0: v128, i: f64, lut: usize): v128 {
  return lutK(f64x2.mul(f64x2.abs(f64x2.sub(s, f64x2.add(x0, f64x2.splat(i)))), f64x2.splat(LUT_RES)), lut);
}

/**
 * clampedPass on six values with weights w0..w5, their sign masks n0..n5 (w < 0) and wp (the sum of the
 * non-negative weights, in order). A branch not taken adds nothing: sp, sn and wp start at +0 and never
 * become -0, so adding or subtracting a masked +0 leaves them as the reference's branches do.
 */
@inline function pass6(v0: v128, v1: v128, v2: v128, v3: v128, v4: v128, v5: v128, w0: v128, w1: v128, w2: v128, w3: v128, w4: v128, w5: v128,
  n0: v128, n1: v128, n2: v128, n3: v128, n4: v128, n5: v128, wp: v128, cl: v128): v128 {
  let m = f64x2.pmin(zero(), v0);
  m = f64x2.pmin(m, v1); m = f64x2.pmin(m, v2); m = f64x2.pmin(m, v3); m = f64x2.pmin(m, v4); m = f64x2.pmin(m, v5);
  if (!v128.any_true(m)) {
    // every value >= 0 (m = +0 in both lanes, the usual case): v - m = v and m + x = x (x is never -0
    // here), so the reference's numbers come without the shift
    const u0 = f64x2.mul(v0, w0), u1 = f64x2.mul(v1, w1), u2 = f64x2.mul(v2, w2), u3 = f64x2.mul(v3, w3), u4 = f64x2.mul(v4, w4), u5 = f64x2.mul(v5, w5);
    let p = f64x2.add(zero(), v128.andnot(u0, n0));
    p = f64x2.add(p, v128.andnot(u1, n1)); p = f64x2.add(p, v128.andnot(u2, n2)); p = f64x2.add(p, v128.andnot(u3, n3));
    p = f64x2.add(p, v128.andnot(u4, n4)); p = f64x2.add(p, v128.andnot(u5, n5));
    let q = f64x2.sub(zero(), v128.and(u0, n0));
    q = f64x2.sub(q, v128.and(u1, n1)); q = f64x2.sub(q, v128.and(u2, n2)); q = f64x2.sub(q, v128.and(u3, n3));
    q = f64x2.sub(q, v128.and(u4, n4)); q = f64x2.sub(q, v128.and(u5, n5));
    const cq = v128.and(f64x2.gt(p, zero()), f64x2.gt(f64x2.div(q, p), cl));
    const pl = f64x2.sub(p, q);
    return v128.any_true(cq) ? v128.bitselect(f64x2.div(p, wp), pl, cq) : pl;
  }
  const t0 = f64x2.mul(f64x2.sub(v0, m), w0), t1 = f64x2.mul(f64x2.sub(v1, m), w1), t2 = f64x2.mul(f64x2.sub(v2, m), w2);
  const t3 = f64x2.mul(f64x2.sub(v3, m), w3), t4 = f64x2.mul(f64x2.sub(v4, m), w4), t5 = f64x2.mul(f64x2.sub(v5, m), w5);
  let sp = f64x2.add(zero(), v128.andnot(t0, n0));
  sp = f64x2.add(sp, v128.andnot(t1, n1)); sp = f64x2.add(sp, v128.andnot(t2, n2)); sp = f64x2.add(sp, v128.andnot(t3, n3));
  sp = f64x2.add(sp, v128.andnot(t4, n4)); sp = f64x2.add(sp, v128.andnot(t5, n5));
  let sn = f64x2.sub(zero(), v128.and(t0, n0));
  sn = f64x2.sub(sn, v128.and(t1, n1)); sn = f64x2.sub(sn, v128.and(t2, n2)); sn = f64x2.sub(sn, v128.and(t3, n3));
  sn = f64x2.sub(sn, v128.and(t4, n4)); sn = f64x2.sub(sn, v128.and(t5, n5));
  const clamped = v128.and(f64x2.gt(sp, zero()), f64x2.gt(f64x2.div(sn, sp), cl));
  const plain = f64x2.sub(f64x2.add(m, sp), sn);
  return v128.any_true(clamped) ? v128.bitselect(f64x2.add(m, f64x2.div(sp, wp)), plain, clamped) : plain;
}

/** wp of pass6: the non-negative weights summed in order from +0. */
@inline function posSum(w0: v128, w1: v128, w2: v128, w3: v128, w4: v128, w5: v128, n0: v128, n1: v128, n2: v128, n3: v128, n4: v128, n5: v128): v128 {
  let wp = f64x2.add(zero(), v128.andnot(w0, n0));
  wp = f64x2.add(wp, v128.andnot(w1, n1)); wp = f64x2.add(wp, v128.andnot(w2, n2)); wp = f64x2.add(wp, v128.andnot(w3, n3));
  wp = f64x2.add(wp, v128.andnot(w4, n4));
  return f64x2.add(wp, v128.andnot(w5, n5));
}

/** One horizontal pass of lanczosPair: the six taps of source rows rA (lane 0) and rB (lane 1). */
@inline function hrow(rA: usize, rB: usize, xa: i32, xb: i32, fast: i32, e: i32, w0: v128, w1: v128, w2: v128, w3: v128, w4: v128, w5: v128,
  n0: v128, n1: v128, n2: v128, n3: v128, n4: v128, n5: v128, wp: v128, cl: v128): v128 {
  let v0: v128, v1: v128, v2: v128, v3: v128, v4: v128, v5: v128;
  if (fast > 0 && rA == rB) {
    const b = rA + (<usize>xa << 2);
    v0 = ld2(b); v1 = ld2(b + 4); v2 = ld2(b + 8); v3 = ld2(b + 12); v4 = ld2(b + 16); v5 = ld2(b + 20);
  } else if (fast < 0 && rA == rB) {
    const b = rA + (<usize>xb << 2);
    v0 = ld2r(b); v1 = ld2r(b + 4); v2 = ld2r(b + 8); v3 = ld2r(b + 12); v4 = ld2r(b + 16); v5 = ld2r(b + 20);
  } else {
    v0 = pair(rA + (<usize>clampi(xa, 0, e) << 2), rB + (<usize>clampi(xb, 0, e) << 2));
    v1 = pair(rA + (<usize>clampi(xa + 1, 0, e) << 2), rB + (<usize>clampi(xb + 1, 0, e) << 2));
    v2 = pair(rA + (<usize>clampi(xa + 2, 0, e) << 2), rB + (<usize>clampi(xb + 2, 0, e) << 2));
    v3 = pair(rA + (<usize>clampi(xa + 3, 0, e) << 2), rB + (<usize>clampi(xb + 3, 0, e) << 2));
    v4 = pair(rA + (<usize>clampi(xa + 4, 0, e) << 2), rB + (<usize>clampi(xb + 4, 0, e) << 2));
    v5 = pair(rA + (<usize>clampi(xa + 5, 0, e) << 2), rB + (<usize>clampi(xb + 5, 0, e) << 2));
  }
  return pass6(v0, v1, v2, v3, v4, v5, w0, w1, w2, w3, w4, w5, n0, n1, n2, n3, n4, n5, wp, cl);
}

/** Lanczos-3 at the two positions (sx, sy): weights, six clamped horizontal passes, one vertical (warpRowsStepped). */
function lanczosPair(src: usize, w: i32, h: i32, ra: i32, rb: i32, sx: v128, sy: v128, cl: v128, lut: usize): v128 {
  const x0 = f64x2.sub(f64x2.floor(sx), f64x2.splat(2.0));
  const y0 = f64x2.sub(f64x2.floor(sy), f64x2.splat(2.0));
  let a0 = lw(sx, x0, 0, lut), a1 = lw(sx, x0, 1, lut), a2 = lw(sx, x0, 2, lut), a3 = lw(sx, x0, 3, lut), a4 = lw(sx, x0, 4, lut), a5 = lw(sx, x0, 5, lut);
  let b0 = lw(sy, y0, 0, lut), b1 = lw(sy, y0, 1, lut), b2 = lw(sy, y0, 2, lut), b3 = lw(sy, y0, 3, lut), b4 = lw(sy, y0, 4, lut), b5 = lw(sy, y0, 5, lut);
  const sa = f64x2.div(f64x2.splat(1.0), f64x2.add(f64x2.add(f64x2.add(f64x2.add(f64x2.add(f64x2.add(zero(), a0), a1), a2), a3), a4), a5));
  const sb = f64x2.div(f64x2.splat(1.0), f64x2.add(f64x2.add(f64x2.add(f64x2.add(f64x2.add(f64x2.add(zero(), b0), b1), b2), b3), b4), b5));
  a0 = f64x2.mul(a0, sa); a1 = f64x2.mul(a1, sa); a2 = f64x2.mul(a2, sa); a3 = f64x2.mul(a3, sa); a4 = f64x2.mul(a4, sa); a5 = f64x2.mul(a5, sa);
  b0 = f64x2.mul(b0, sb); b1 = f64x2.mul(b1, sb); b2 = f64x2.mul(b2, sb); b3 = f64x2.mul(b3, sb); b4 = f64x2.mul(b4, sb); b5 = f64x2.mul(b5, sb);
  const z = zero();
  const n0 = f64x2.lt(a0, z), n1 = f64x2.lt(a1, z), n2 = f64x2.lt(a2, z), n3 = f64x2.lt(a3, z), n4 = f64x2.lt(a4, z), n5 = f64x2.lt(a5, z);
  const wp = posSum(a0, a1, a2, a3, a4, a5, n0, n1, n2, n3, n4, n5);
  const xa = <i32>f64x2.extract_lane(x0, 0);
  const xb = <i32>f64x2.extract_lane(x0, 1);
  const ya = <i32>f64x2.extract_lane(y0, 0);
  const yb = <i32>f64x2.extract_lane(y0, 1);
  const e = w - 1;
  // 1: lane 1 reads the next column (rotation near 0), -1: the previous one (near 180 degrees), 0: neither
  const fast = xb == xa + 1 && xa >= 0 && xb + 6 <= w ? 1 : xb == xa - 1 && xb >= 0 && xa + 6 <= w ? -1 : 0;
  const c0 = hrow(src + rowOff(ya, h, ra, rb, w), src + rowOff(yb, h, ra, rb, w), xa, xb, fast, e, a0, a1, a2, a3, a4, a5, n0, n1, n2, n3, n4, n5, wp, cl);
  const c1 = hrow(src + rowOff(ya + 1, h, ra, rb, w), src + rowOff(yb + 1, h, ra, rb, w), xa, xb, fast, e, a0, a1, a2, a3, a4, a5, n0, n1, n2, n3, n4, n5, wp, cl);
  const c2 = hrow(src + rowOff(ya + 2, h, ra, rb, w), src + rowOff(yb + 2, h, ra, rb, w), xa, xb, fast, e, a0, a1, a2, a3, a4, a5, n0, n1, n2, n3, n4, n5, wp, cl);
  const c3 = hrow(src + rowOff(ya + 3, h, ra, rb, w), src + rowOff(yb + 3, h, ra, rb, w), xa, xb, fast, e, a0, a1, a2, a3, a4, a5, n0, n1, n2, n3, n4, n5, wp, cl);
  const c4 = hrow(src + rowOff(ya + 4, h, ra, rb, w), src + rowOff(yb + 4, h, ra, rb, w), xa, xb, fast, e, a0, a1, a2, a3, a4, a5, n0, n1, n2, n3, n4, n5, wp, cl);
  const c5 = hrow(src + rowOff(ya + 5, h, ra, rb, w), src + rowOff(yb + 5, h, ra, rb, w), xa, xb, fast, e, a0, a1, a2, a3, a4, a5, n0, n1, n2, n3, n4, n5, wp, cl);
  const m0 = f64x2.lt(b0, z), m1 = f64x2.lt(b1, z), m2 = f64x2.lt(b2, z), m3 = f64x2.lt(b3, z), m4 = f64x2.lt(b4, z), m5 = f64x2.lt(b5, z);
  const wq = posSum(b0, b1, b2, b3, b4, b5, m0, m1, m2, m3, m4, m5);
  return pass6(c0, c1, c2, c3, c4, c5, b0, b1, b2, b3, b4, b5, m0, m1, m2, m3, m4, m5, wq, cl);
}

/** Store lane 0 (and lane 1 when `two`) of v rounded to f32 at byte address a. */
@inline function store2(a: usize, v: v128, two: bool): void {
  const f = f32x4.demote_f64x2_zero(v);
  if (two) v128.store64_lane(a, f, 0);
  else v128.store32_lane(a, f, 0);
}

/**
 * General map, clamped Lanczos-3 (resample.ts warpRowsStepped), output rows oy0..oy1 - 1 into `out` (row oy0 first).
 * inv: the 3 x 3 output -> source map (f64); cl: clamp threshold (Infinity: no clamping, the m + sp - sn form).
 * Unclamped Lanczos-3 and bicubic take the float32 path (stepped32).
 */
export function stepped(src: usize, w: i32, h: i32, ra: i32, rb: i32, inv: usize, outW: i32, oy0: i32, oy1: i32, out: usize, cl: f64, lut: usize): void {
  const i0 = load<f64>(inv), i1 = load<f64>(inv, 8), i2 = load<f64>(inv, 16), i3 = load<f64>(inv, 24), i4 = load<f64>(inv, 32);
  const i5 = load<f64>(inv, 40), i6 = load<f64>(inv, 48), i7 = load<f64>(inv, 56), i8 = load<f64>(inv, 64);
  const affine = i6 == 0 && i7 == 0;
  const invW = f64x2.splat(1.0 / i8);
  const lo = f64x2.splat(-0.5), xmax = f64x2.splat(<f64>w - 0.5), ymax = f64x2.splat(<f64>h - 0.5);
  const vcl = f64x2.splat(cl);
  const nan = f64x2.splat(NaN);
  for (let oy = oy0; oy < oy1; oy++) {
    let X = i1 * <f64>oy + i2, Y = i4 * <f64>oy + i5, Wd = i7 * <f64>oy + i8;
    const ob = out + (<usize>((oy - oy0) * outW) << 2);
    for (let ox = 0; ox < outW; ox += 2) {
      let vx = f64x2.replace_lane(f64x2.splat(X), 1, X + i0);
      let vy = f64x2.replace_lane(f64x2.splat(Y), 1, Y + i3);
      const vw = f64x2.replace_lane(f64x2.splat(Wd), 1, Wd + i6);
      X = X + i0 + i0; Y = Y + i3 + i3; Wd = Wd + i6 + i6;
      if (affine) { vx = f64x2.mul(vx, invW); vy = f64x2.mul(vy, invW); }
      else { const iw = f64x2.div(f64x2.splat(1.0), vw); vx = f64x2.mul(vx, iw); vy = f64x2.mul(vy, iw); }
      const ok = v128.and(v128.and(f64x2.ge(vx, lo), f64x2.lt(vx, xmax)), v128.and(f64x2.ge(vy, lo), f64x2.lt(vy, ymax)));
      const two = ox + 1 < outW;
      const okA = i64x2.extract_lane(ok, 0) != 0, okB = two && i64x2.extract_lane(ok, 1) != 0;
      const a = ob + (<usize>ox << 2);
      if (!okA && !okB) { store2(a, nan, two); continue; }
      // an out-of-frame lane takes the other lane's position (so every tap is in the rows held); its result is NaN
      if (!okA) { vx = f64x2.splat(f64x2.extract_lane(vx, 1)); vy = f64x2.splat(f64x2.extract_lane(vy, 1)); }
      else if (!okB) { vx = f64x2.splat(f64x2.extract_lane(vx, 0)); vy = f64x2.splat(f64x2.extract_lane(vy, 0)); }
      const r = lanczosPair(src, w, h, ra, rb, vx, vy, vcl, lut);
      store2(a, v128.bitselect(r, nan, ok), two);
    }
  }
}

/**
 * Horizontal pass of the axis-aligned map (resample.ts warpSeparable): nrows source rows at `src`
 * (width w) into `tmp` (f64, width outWp, even). colX0: first tap per column (i32, outWp); colW: per
 * column pair p, n f64x2 weights (lane = column 2p, 2p + 1); doClamp: clamped pass, else plain sum.
 */
export function sepH(src: usize, w: i32, nrows: i32, colX0: usize, colW: usize, n: i32, outWp: i32, tmp: usize, doClamp: i32, cl: f64): void {
  const vcl = f64x2.splat(cl);
  const e = w - 1;
  const pairs = outWp >> 1;
  for (let r = 0; r < nrows; r++) {
    const row = src + (<usize>(r * w) << 2);
    const to = tmp + (<usize>(r * outWp) << 3);
    for (let p = 0; p < pairs; p++) {
      const xa = load<i32>(colX0 + (<usize>p << 3));
      const xb = load<i32>(colX0 + (<usize>p << 3), 4);
      const ws = colW + (<usize>(p * n) << 4);
      if (xb == xa + 1 && xa >= 0 && xb + n <= w) {
        const b = row + (<usize>xa << 2);
        for (let i = 0; i < n; i++) v128.store(VAL + (<usize>i << 4), ld2(b + (<usize>i << 2)));
      } else {
        for (let i = 0; i < n; i++) v128.store(VAL + (<usize>i << 4), pair(row + (<usize>clampi(xa + i, 0, e) << 2), row + (<usize>clampi(xb + i, 0, e) << 2)));
      }
      v128.store(to + (<usize>p << 4), doClamp ? clampedPass(VAL, ws, n, vcl) : plainSum(VAL, ws, n));
    }
  }
}

/**
 * Vertical pass: `rows` output rows into `out` (f32, width outW) from `tmp` (f64, width outWp).
 * Per output row r: rowY (n i32: tmp row of each tap), rowW (n f64 weights), rowOk (i32); colOk: an
 * i64 mask per column (-1 in frame, 0 out: NaN).
 */
export function sepV(tmp: usize, outW: i32, outWp: i32, n: i32, rows: i32, rowY: usize, rowW: usize, rowOk: usize, colOk: usize, doClamp: i32, cl: f64, out: usize): void {
  const vcl = f64x2.splat(cl);
  const nan = f64x2.splat(NaN);
  for (let r = 0; r < rows; r++) {
    const ob = out + (<usize>(r * outW) << 2);
    const ok = load<i32>(rowOk + (<usize>r << 2)) != 0;
    for (let j = 0; j < n; j++) {
      v128.store(WY + (<usize>j << 4), f64x2.splat(load<f64>(rowW + (<usize>(r * n + j) << 3))));
      store<usize>(COL + (<usize>j << 3), tmp + (<usize>(load<i32>(rowY + (<usize>(r * n + j) << 2)) * outWp) << 3));
    }
    for (let ox = 0; ox < outW; ox += 2) {
      const two = ox + 1 < outW;
      const a = ob + (<usize>ox << 2);
      if (!ok) { store2(a, nan, two); continue; }
      const o = <usize>ox << 3;
      let res: v128;
      if (doClamp) {
        for (let j = 0; j < n; j++) v128.store(VAL + (<usize>j << 4), v128.load(load<usize>(COL + (<usize>j << 3)) + o));
        res = clampedPass(VAL, WY, n, vcl);
      } else {
        res = zero();
        for (let j = 0; j < n; j++) res = f64x2.add(res, f64x2.mul(v128.load(load<usize>(COL + (<usize>j << 3)) + o), v128.load(WY + (<usize>j << 4))));
      }
      store2(a, v128.bitselect(res, nan, v128.load(colOk + o)), two);
    }
  }
}

// ---- Float32 path: unclamped Lanczos-3 and bicubic (resample.ts warpRowsStepped32, bit-identical) ----
// One output pixel per iteration, the taps as lanes: the 6 (4) taps of a source row are contiguous, so each row is
// one f32x4 load (Lanczos-3: plus a 2-lane load64_zero for taps 4, 5). Columns first: c = sum_j b_j row_j (f32x4,
// in row order, first term b_0 row_0), then p_i = c_i a_i and the result ((p0 + p2) + p4) + ((p1 + p3) + p5)
// (bicubic: (p0 + p2) + (p1 + p3)). No fused multiply-add: every f32 operation rounds as Math.fround does.
// Weights: phase tables at `tab` (driver: resample.ts PHASE_TABLES): for phase k = 0 .. 4095 of the fraction
// t = s - floor(s), Lanczos-3 16 f32 at tab + 64 k (normalized weights of taps floor(s) - 2 + i zero-padded to 8,
// then their differences to phase k + 1), bicubic 8 f32 at tab + CUBIC_AT + 32 k (taps floor(s) - 1 + i);
// the weight is W + g D with g = f32(4096 t - k).
// Source: the rectangle of columns xa..xb, rows ra..rb at `src`, row stride sw (f32).

const PHASES: f64 = 4096.0;
const CUBIC_AT: usize = 4096 * 64;

/** Byte address of source row yy (edge replicated, then kept inside the rows held) at column xa. */
@inline function rowAt(src: usize, yy: i32, h: i32, ra: i32, rb: i32, sw: i32): usize {
  return src + (<usize>((clampi(clampi(yy, 0, h - 1), ra, rb) - ra) * sw) << 2);
}

/** Tap rows 0..n-1 at x0 of an edge pixel, gathered into scr (8 f32 per row), columns replicated then kept inside xa..xb. */
@inline function gather(src: usize, sw: i32, w: i32, h: i32, xa: i32, xb: i32, ra: i32, rb: i32, x0: i32, y0: i32, n: i32, scr: usize): void {
  for (let j = 0; j < n; j++) {
    const r = rowAt(src, y0 + j, h, ra, rb, sw);
    for (let i = 0; i < n; i++) store<f32>(scr + (<usize>(j * 8 + i) << 2), load<f32>(r + (<usize>(clampi(clampi(x0 + i, 0, w - 1), xa, xb) - xa) << 2)));
  }
}

/**
 * The position (sx, sy) (f64x2) split per axis: floor(s) (i32 lanes 0, 1 of `fi`), the phase k = trunc(4096 (s - floor(s)))
 * (`ki`, at most 4095) and g = f32(4096 (s - floor(s)) - k) (`g`, f32 lanes 0, 1): the reference's scalar float64 steps, both axes at once.
 */
// s - floor(s) is 1 (not < 1) for s a tiny negative number: that phase is 4095 with g = 1
const KMAX: v128 = i32x4(4095, 4095, 4095, 4095);

@inline function phaseOf(pos: v128): v128 {
  return f64x2.mul(f64x2.sub(pos, f64x2.floor(pos)), f64x2.splat(PHASES));
}

@inline function lanczos32(src: usize, sw: i32, w: i32, h: i32, xa: i32, xb: i32, ra: i32, rb: i32, pos: v128, tab: usize, scr: usize): f32 {
  const fi = i32x4.trunc_sat_f64x2_s_zero(f64x2.floor(pos));
  const a = phaseOf(pos);
  const ki = i32x4.min_s(i32x4.trunc_sat_f64x2_s_zero(a), KMAX);
  const g = f32x4.demote_f64x2_zero(f64x2.sub(a, f64x2.convert_low_i32x4_s(ki)));
  const gx = i32x4.shuffle(g, g, 0, 0, 0, 0), gy = i32x4.shuffle(g, g, 1, 1, 1, 1);
  const px = tab + (<usize>i32x4.extract_lane(ki, 0) << 6), py = tab + (<usize>i32x4.extract_lane(ki, 1) << 6);
  const wxl = f32x4.add(v128.load(px), f32x4.mul(gx, v128.load(px, 32)));
  const wxh = f32x4.add(v128.load(px, 16), f32x4.mul(gx, v128.load(px, 48)));
  const wyl = f32x4.add(v128.load(py), f32x4.mul(gy, v128.load(py, 32)));
  const wyh = f32x4.add(v128.load(py, 16), f32x4.mul(gy, v128.load(py, 48)));
  const x0 = i32x4.extract_lane(fi, 0) - 2, y0 = i32x4.extract_lane(fi, 1) - 2;
  let p0: usize, p1: usize, p2: usize, p3: usize, p4: usize, p5: usize;
  if (x0 >= xa && x0 + 6 <= xb + 1 && y0 >= ra && y0 + 5 <= rb) {
    const st = <usize>sw << 2;
    p0 = src + (<usize>((y0 - ra) * sw + x0 - xa) << 2); p1 = p0 + st; p2 = p1 + st; p3 = p2 + st; p4 = p3 + st; p5 = p4 + st;
  } else if (x0 >= xa && x0 + 6 <= xb + 1) {
    const o = <usize>(x0 - xa) << 2;
    p0 = rowAt(src, y0, h, ra, rb, sw) + o; p1 = rowAt(src, y0 + 1, h, ra, rb, sw) + o; p2 = rowAt(src, y0 + 2, h, ra, rb, sw) + o;
    p3 = rowAt(src, y0 + 3, h, ra, rb, sw) + o; p4 = rowAt(src, y0 + 4, h, ra, rb, sw) + o; p5 = rowAt(src, y0 + 5, h, ra, rb, sw) + o;
  } else {
    gather(src, sw, w, h, xa, xb, ra, rb, x0, y0, 6, scr);
    p0 = scr; p1 = scr + 32; p2 = scr + 64; p3 = scr + 96; p4 = scr + 128; p5 = scr + 160;
  }
  let b = i32x4.shuffle(wyl, wyl, 0, 0, 0, 0);
  let lo = f32x4.mul(b, v128.load(p0)), hi = f32x4.mul(b, v128.load64_zero(p0 + 16));
  b = i32x4.shuffle(wyl, wyl, 1, 1, 1, 1);
  lo = f32x4.add(lo, f32x4.mul(b, v128.load(p1))); hi = f32x4.add(hi, f32x4.mul(b, v128.load64_zero(p1 + 16)));
  b = i32x4.shuffle(wyl, wyl, 2, 2, 2, 2);
  lo = f32x4.add(lo, f32x4.mul(b, v128.load(p2))); hi = f32x4.add(hi, f32x4.mul(b, v128.load64_zero(p2 + 16)));
  b = i32x4.shuffle(wyl, wyl, 3, 3, 3, 3);
  lo = f32x4.add(lo, f32x4.mul(b, v128.load(p3))); hi = f32x4.add(hi, f32x4.mul(b, v128.load64_zero(p3 + 16)));
  b = i32x4.shuffle(wyh, wyh, 0, 0, 0, 0);
  lo = f32x4.add(lo, f32x4.mul(b, v128.load(p4))); hi = f32x4.add(hi, f32x4.mul(b, v128.load64_zero(p4 + 16)));
  b = i32x4.shuffle(wyh, wyh, 1, 1, 1, 1);
  lo = f32x4.add(lo, f32x4.mul(b, v128.load(p5))); hi = f32x4.add(hi, f32x4.mul(b, v128.load64_zero(p5 + 16)));
  const pl = f32x4.mul(lo, wxl);
  const q = f32x4.add(f32x4.add(pl, i32x4.shuffle(pl, pl, 2, 3, 2, 3)), f32x4.mul(hi, wxh));
  return f32x4.extract_lane(q, 0) + f32x4.extract_lane(q, 1);
}

@inline function cubic32(src: usize, sw: i32, w: i32, h: i32, xa: i32, xb: i32, ra: i32, rb: i32, pos: v128, tab: usize, scr: usize): f32 {
  const fi = i32x4.trunc_sat_f64x2_s_zero(f64x2.floor(pos));
  const a = phaseOf(pos);
  const ki = i32x4.min_s(i32x4.trunc_sat_f64x2_s_zero(a), KMAX);
  const g = f32x4.demote_f64x2_zero(f64x2.sub(a, f64x2.convert_low_i32x4_s(ki)));
  const px = tab + CUBIC_AT + (<usize>i32x4.extract_lane(ki, 0) << 5), py = tab + CUBIC_AT + (<usize>i32x4.extract_lane(ki, 1) << 5);
  const wx = f32x4.add(v128.load(px), f32x4.mul(i32x4.shuffle(g, g, 0, 0, 0, 0), v128.load(px, 16)));
  const wy = f32x4.add(v128.load(py), f32x4.mul(i32x4.shuffle(g, g, 1, 1, 1, 1), v128.load(py, 16)));
  const x0 = i32x4.extract_lane(fi, 0) - 1, y0 = i32x4.extract_lane(fi, 1) - 1;
  let p0: usize, p1: usize, p2: usize, p3: usize;
  if (x0 >= xa && x0 + 4 <= xb + 1 && y0 >= ra && y0 + 3 <= rb) {
    const st = <usize>sw << 2;
    p0 = src + (<usize>((y0 - ra) * sw + x0 - xa) << 2); p1 = p0 + st; p2 = p1 + st; p3 = p2 + st;
  } else if (x0 >= xa && x0 + 4 <= xb + 1) {
    const o = <usize>(x0 - xa) << 2;
    p0 = rowAt(src, y0, h, ra, rb, sw) + o; p1 = rowAt(src, y0 + 1, h, ra, rb, sw) + o;
    p2 = rowAt(src, y0 + 2, h, ra, rb, sw) + o; p3 = rowAt(src, y0 + 3, h, ra, rb, sw) + o;
  } else {
    gather(src, sw, w, h, xa, xb, ra, rb, x0, y0, 4, scr);
    p0 = scr; p1 = scr + 32; p2 = scr + 64; p3 = scr + 96;
  }
  let acc = f32x4.mul(i32x4.shuffle(wy, wy, 0, 0, 0, 0), v128.load(p0));
  acc = f32x4.add(acc, f32x4.mul(i32x4.shuffle(wy, wy, 1, 1, 1, 1), v128.load(p1)));
  acc = f32x4.add(acc, f32x4.mul(i32x4.shuffle(wy, wy, 2, 2, 2, 2), v128.load(p2)));
  acc = f32x4.add(acc, f32x4.mul(i32x4.shuffle(wy, wy, 3, 3, 3, 3), v128.load(p3)));
  const p = f32x4.mul(acc, wx);
  const q = f32x4.add(p, i32x4.shuffle(p, p, 2, 3, 2, 3));
  return f32x4.extract_lane(q, 0) + f32x4.extract_lane(q, 1);
}

/**
 * General map, float32 path (resample.ts warpRowsStepped32): output rows oy0..oy1 - 1 into `out` (row oy0 first);
 * the source position is stepped along each row as the reference does (X += inv[0] per pixel). isL: Lanczos-3 (else
 * bicubic); scr: 192 bytes of scratch (edge pixels).
 */
export function stepped32(src: usize, sw: i32, w: i32, h: i32, xa: i32, xb: i32, ra: i32, rb: i32, inv: usize, outW: i32, oy0: i32, oy1: i32, out: usize, isL: i32, tab: usize, scr: usize): void {
  const i0 = load<f64>(inv), i1 = load<f64>(inv, 8), i2 = load<f64>(inv, 16), i3 = load<f64>(inv, 24), i4 = load<f64>(inv, 32);
  const i5 = load<f64>(inv, 40), i6 = load<f64>(inv, 48), i7 = load<f64>(inv, 56), i8 = load<f64>(inv, 64);
  const affine = i6 == 0 && i7 == 0;
  const invW = f64x2.splat(1.0 / i8);
  const lo = f64x2.splat(-0.5), hi = f64x2.replace_lane(f64x2.splat(<f64>w - 0.5), 1, <f64>h - 0.5);
  const step = f64x2.replace_lane(f64x2.splat(i0), 1, i3);
  for (let oy = oy0; oy < oy1; oy++) {
    // (X, Y) in one f64x2: the same float64 sums as the reference's scalars
    let XY = f64x2.replace_lane(f64x2.splat(i1 * <f64>oy + i2), 1, i4 * <f64>oy + i5), Wd = i7 * <f64>oy + i8;
    const ob = out + (<usize>((oy - oy0) * outW) << 2);
    for (let ox = 0; ox < outW; ox++) {
      const pos = affine ? f64x2.mul(XY, invW) : f64x2.mul(XY, f64x2.splat(1.0 / Wd));
      XY = f64x2.add(XY, step); Wd += i6;
      const a = ob + (<usize>ox << 2);
      if (!i64x2.all_true(v128.and(f64x2.ge(pos, lo), f64x2.lt(pos, hi)))) { store<f32>(a, NaN); continue; }
      store<f32>(a, isL ? lanczos32(src, sw, w, h, xa, xb, ra, rb, pos, tab, scr) : cubic32(src, sw, w, h, xa, xb, ra, rb, pos, tab, scr));
    }
  }
}
