// AssemblyScript (0.28) source of the WASM-SIMD band kernel. Built by `node scripts/build-wasm.mjs`
// (the file is copied to a .ts name for asc; it has the .as extension so that tsc leaves it alone).
//
// Lane-per-pixel SIMD: two neighbouring pixels are processed together in f64x2 vectors, so every
// sum is accumulated in the same order and in the same precision as the plain-TS reference
// (`band.ts` / `reject.ts`): the results are bit-identical. Masked-out slots add +0, which does
// not change a sum. Pixel pairs with a NaN or a range-rejected value are flagged for the caller,
// which runs the TS reference on them.
//
// Memory (byte offsets given by the caller):
//   params (f64): [sigmaLow, sigmaHigh, winsorCutoff, clipLow, clipHigh, rangeLow, rangeHigh,
//                  ra[n], rb[n], ca[n], cb[n], w[n]]
//   data (f32):   frame-major chunk, data[i * P + p]
//   out, rejLo, rejHi (f32, P each), flags (u8, P), counts (f64): frameLow[n], frameHigh[n]
//   pairs (i32):  compare-exchange pairs of a sorting network for n values
//   scratch:      5 * n * 16 bytes

const PRM_FIX: i32 = 7;

@inline function ldv(base: usize, k: i32): v128 {
  return v128.load(base + (<usize>k << 4));
}
@inline function stv(base: usize, k: i32, x: v128): void {
  v128.store(base + (<usize>k << 4), x);
}
@inline function lane(base: usize, k: i32, j: i32): f64 {
  return load<f64>(base + (<usize>k << 4) + (<usize>j << 3));
}

function sortNet(base: usize, pairs: usize, npairs: i32): void {
  for (let q = 0; q < npairs; q++) {
    const a = load<i32>(pairs + (<usize>q << 3));
    const b = load<i32>(pairs + (<usize>q << 3) + 4);
    const x = ldv(base, a);
    const y = ldv(base, b);
    stv(base, a, f64x2.pmin(x, y));
    stv(base, b, f64x2.pmax(x, y));
  }
}

@inline function rangeMask(k: i32, LO: v128, HI: v128): v128 {
  const K = i64x2.splat(<i64>k);
  return v128.and(i64x2.ge_s(K, LO), i64x2.lt_s(K, HI));
}

/** Per-lane std of base[lo_j..hi_j) with ddof, summed in index order (as stdOf in reject.ts). */
function stdMasked(base: usize, n: i32, LO: v128, HI: v128, ddof: f64): v128 {
  let s = f64x2.splat(0);
  for (let k = 0; k < n; k++) s = f64x2.add(s, v128.and(ldv(base, k), rangeMask(k, LO, HI)));
  const c = f64x2.convert_low_i32x4_s(i32x4.shuffle(HI, HI, 0, 2, 0, 2));
  const c2 = f64x2.convert_low_i32x4_s(i32x4.shuffle(LO, LO, 0, 2, 0, 2));
  const cnt = f64x2.sub(c, c2);
  const m = f64x2.div(s, cnt);
  let ss = f64x2.splat(0);
  for (let k = 0; k < n; k++) {
    const d = f64x2.sub(ldv(base, k), m);
    ss = f64x2.add(ss, v128.and(f64x2.mul(d, d), rangeMask(k, LO, HI)));
  }
  return f64x2.sqrt(f64x2.div(ss, f64x2.sub(cnt, f64x2.splat(ddof))));
}

@inline function medLane(base: usize, lo: i32, hi: i32, j: i32): f64 {
  const c = hi - lo;
  const mid = lo + (c >> 1);
  return c & 1 ? lane(base, mid, j) : 0.5 * (lane(base, mid - 1, j) + lane(base, mid, j));
}

// per-lane state (two lanes)
let lo0: i32 = 0, hi0: i32 = 0, lo1: i32 = 0, hi1: i32 = 0;

function winsorized(V: usize, Wb: usize, n: i32, prm: usize, clipLow: bool, clipHigh: bool): void {
  const kl = load<f64>(prm);
  const kh = load<f64>(prm, 8);
  const cut = load<f64>(prm, 16);
  let act0 = hi0 - lo0 > 3;
  let act1 = hi1 - lo1 > 3;
  while (act0 || act1) {
    const med0 = act0 ? medLane(V, lo0, hi0, 0) : 0.0;
    const med1 = act1 ? medLane(V, lo1, hi1, 1) : 0.0;
    let LO = i64x2(<i64>lo0, <i64>lo1);
    let HI = i64x2(<i64>hi0, <i64>hi1);
    let S = stdMasked(V, n, LO, HI, 1);
    if (act0 && !(f64x2.extract_lane(S, 0) > 0)) act0 = false;
    if (act1 && !(f64x2.extract_lane(S, 1) > 0)) act1 = false;
    if (!act0 && !act1) break;
    const MED = f64x2(med0, med1);
    const C0 = f64x2.sub(MED, f64x2.mul(f64x2.splat(cut), S));
    const C1 = f64x2.add(MED, f64x2.mul(f64x2.splat(cut), S));
    for (let k = 0; k < n; k++) {
      const x = ldv(V, k);
      stv(Wb, k, v128.bitselect(MED, x, v128.or(f64x2.lt(x, C0), f64x2.gt(x, C1))));
    }
    let done0 = !act0;
    let done1 = !act1;
    for (let it = 0; it < 100; it++) {
      const M0 = f64x2.sub(MED, f64x2.mul(f64x2.splat(1.5), S));
      const M1 = f64x2.add(MED, f64x2.mul(f64x2.splat(1.5), S));
      for (let k = 0; k < n; k++) stv(Wb, k, f64x2.pmin(f64x2.pmax(ldv(Wb, k), M0), M1));
      const S0 = S;
      const SN = f64x2.mul(f64x2.splat(1.134), stdMasked(Wb, n, LO, HI, 1));
      const keep = i64x2(done0 ? -1 : 0, done1 ? -1 : 0);
      S = v128.bitselect(S0, SN, keep);
      if (!done0) {
        const a = f64x2.extract_lane(SN, 0), b = f64x2.extract_lane(S0, 0);
        if (!(Math.abs(a - b) > b * 0.0005)) done0 = true;
      }
      if (!done1) {
        const a = f64x2.extract_lane(SN, 1), b = f64x2.extract_lane(S0, 1);
        if (!(Math.abs(a - b) > b * 0.0005)) done1 = true;
      }
      if (done0 && done1) break;
    }
    if (act0) {
      const sg = f64x2.extract_lane(S, 0);
      const minV = med0 - kl * sg, maxV = med0 + kh * sg;
      let nlo = lo0, nhi = hi0;
      if (clipLow) while (nlo < nhi && lane(V, nlo, 0) < minV) nlo++;
      if (clipHigh) while (nhi > nlo && lane(V, nhi - 1, 0) > maxV) nhi--;
      if (nlo == lo0 && nhi == hi0) act0 = false;
      else {
        lo0 = nlo;
        hi0 = nhi;
        act0 = hi0 - lo0 > 3;
      }
    }
    if (act1) {
      const sg = f64x2.extract_lane(S, 1);
      const minV = med1 - kl * sg, maxV = med1 + kh * sg;
      let nlo = lo1, nhi = hi1;
      if (clipLow) while (nlo < nhi && lane(V, nlo, 1) < minV) nlo++;
      if (clipHigh) while (nhi > nlo && lane(V, nhi - 1, 1) > maxV) nhi--;
      if (nlo == lo1 && nhi == hi1) act1 = false;
      else {
        lo1 = nlo;
        hi1 = nhi;
        act1 = hi1 - lo1 > 3;
      }
    }
  }
}

/** Astropy sigma_clip(cenfunc=median, stdfunc=std) per lane, final bounds applied to all values. */
function sigmaClip(V: usize, n: i32, prm: usize, clipLow: bool, clipHigh: bool): void {
  const kl = load<f64>(prm);
  const kh = load<f64>(prm, 8);
  let act0 = hi0 - lo0 >= 1;
  let act1 = hi1 - lo1 >= 1;
  while (act0 || act1) {
    const S = stdMasked(V, n, i64x2(<i64>lo0, <i64>lo1), i64x2(<i64>hi0, <i64>hi1), 0);
    for (let j = 0; j < 2; j++) {
      if (j == 0 ? !act0 : !act1) continue;
      let lo = j == 0 ? lo0 : lo1;
      let hi = j == 0 ? hi0 : hi1;
      const med = medLane(V, lo, hi, j);
      const sd = j == 0 ? f64x2.extract_lane(S, 0) : f64x2.extract_lane(S, 1);
      const minV = med - kl * sd, maxV = med + kh * sd;
      let nlo = lo, nhi = hi;
      if (clipLow) while (nlo < nhi && lane(V, nlo, j) < minV) nlo++;
      if (clipHigh) while (nhi > nlo && lane(V, nhi - 1, j) > maxV) nhi--;
      let act = true;
      if (nlo == lo && nhi == hi) {
        lo = 0;
        hi = n;
        if (clipLow) while (lo < hi && lane(V, lo, j) < minV) lo++;
        if (clipHigh) while (hi > lo && lane(V, hi - 1, j) > maxV) hi--;
        act = false;
      } else {
        lo = nlo;
        hi = nhi;
        act = hi - lo >= 1;
      }
      if (j == 0) {
        lo0 = lo;
        hi0 = hi;
        act0 = act;
      } else {
        lo1 = lo;
        hi1 = hi;
        act1 = act;
      }
    }
  }
}

/**
 * Integrate P pixels (P even). reject: 0 none, 3 sigma, 4 winsorized; combine: 0 average, 1 median.
 * Returns the number of flagged pixels (left for the caller).
 */
export function band(
  n: i32, P: i32, reject: i32, combine: i32,
  data: usize, out: usize, rejLo: usize, rejHi: usize, flags: usize,
  prm: usize, counts: usize, pairs: usize, npairs: i32, scratch: usize,
): i32 {
  const clipLow = load<f64>(prm, 24) != 0;
  const clipHigh = load<f64>(prm, 32) != 0;
  const RL = f64x2.splat(load<f64>(prm, 40));
  const RH = f64x2.splat(load<f64>(prm, 48));
  const ra = prm + (<usize>PRM_FIX << 3);
  const rb = ra + (<usize>n << 3);
  const ca = rb + (<usize>n << 3);
  const cb = ca + (<usize>n << 3);
  const wt = cb + (<usize>n << 3);
  const X = scratch; // raw values (f64x2) in frame order
  const R = X + (<usize>n << 4); // rejection-normalized, frame order
  const V = R + (<usize>n << 4); // sorted
  const Wb = V + (<usize>n << 4); // winsorized work / median combine
  const fLow = counts;
  const fHigh = counts + (<usize>n << 3);
  const invN = 1.0 / <f64>n;
  let flagged = 0;
  for (let p = 0; p < P; p += 2) {
    let ok = true;
    for (let i = 0; i < n; i++) {
      const x = f64x2.promote_low_f32x4(v128.load64_zero(data + ((<usize>i * <usize>P + <usize>p) << 2)));
      const good = v128.and(f64x2.gt(x, RL), f64x2.lt(x, RH));
      if (!i64x2.all_true(good)) {
        ok = false;
        break;
      }
      stv(X, i, x);
      const r = f64x2.add(f64x2.mul(f64x2.splat(load<f64>(ra + (<usize>i << 3))), x), f64x2.splat(load<f64>(rb + (<usize>i << 3))));
      stv(R, i, r);
      stv(V, i, r);
    }
    if (!ok) {
      store<u8>(flags + p, 1);
      store<u8>(flags + p + 1, 1);
      flagged += 2;
      continue;
    }
    lo0 = 0;
    hi0 = n;
    lo1 = 0;
    hi1 = n;
    if (reject != 0) {
      sortNet(V, pairs, npairs);
      if (reject == 4) winsorized(V, Wb, n, prm, clipLow, clipHigh);
      else if (reject == 3) sigmaClip(V, n, prm, clipLow, clipHigh);
    }
    if (hi0 - lo0 <= 0 || hi1 - lo1 <= 0) {
      store<u8>(flags + p, 1);
      store<u8>(flags + p + 1, 1);
      flagged += 2;
      continue;
    }
    store<u8>(flags + p, 0);
    store<u8>(flags + p + 1, 0);
    let LOWV = f64x2.splat(-Infinity);
    let HIGHV = f64x2.splat(Infinity);
    if (reject != 0) {
      LOWV = f64x2(lane(V, lo0, 0), lane(V, lo1, 1));
      HIGHV = f64x2(lane(V, hi0 - 1, 0), lane(V, hi1 - 1, 1));
    }
    let RLC = i64x2.splat(0);
    let RHC = i64x2.splat(0);
    let s = f64x2.splat(0);
    let sw = f64x2.splat(0);
    const INF = f64x2.splat(Infinity);
    for (let i = 0; i < n; i++) {
      const r = ldv(R, i);
      const lowM = f64x2.lt(r, LOWV);
      const highM = f64x2.gt(r, HIGHV);
      const kept = v128.not(v128.or(lowM, highM));
      RLC = i64x2.sub(RLC, lowM);
      RHC = i64x2.sub(RHC, highM);
      const nl = i64x2.extract_lane(lowM, 0) + i64x2.extract_lane(lowM, 1);
      const nh = i64x2.extract_lane(highM, 0) + i64x2.extract_lane(highM, 1);
      if (nl != 0) store<f64>(fLow + (<usize>i << 3), load<f64>(fLow + (<usize>i << 3)) - <f64>nl);
      if (nh != 0) store<f64>(fHigh + (<usize>i << 3), load<f64>(fHigh + (<usize>i << 3)) - <f64>nh);
      const c = f64x2.add(f64x2.mul(f64x2.splat(load<f64>(ca + (<usize>i << 3))), ldv(X, i)), f64x2.splat(load<f64>(cb + (<usize>i << 3))));
      if (combine == 0) {
        const w = f64x2.splat(load<f64>(wt + (<usize>i << 3)));
        s = f64x2.add(s, v128.and(f64x2.mul(w, c), kept));
        sw = f64x2.add(sw, v128.and(w, kept));
      } else {
        stv(Wb, i, v128.bitselect(c, INF, kept));
      }
    }
    let res: v128;
    if (combine == 0) {
      res = f64x2.div(s, sw);
    } else {
      sortNet(Wb, pairs, npairs);
      const m0 = hi0 - lo0;
      const m1 = hi1 - lo1;
      res = f64x2(medLane(Wb, 0, m0, 0), medLane(Wb, 0, m1, 1));
    }
    v128.store64_lane(out + (<usize>p << 2), f32x4.demote_f64x2_zero(res), 0);
    const N = f64x2.splat(invN);
    const rl = f64x2.mul(f64x2.convert_low_i32x4_s(i32x4.shuffle(RLC, RLC, 0, 2, 0, 2)), N);
    const rh = f64x2.mul(f64x2.convert_low_i32x4_s(i32x4.shuffle(RHC, RHC, 0, 2, 0, 2)), N);
    v128.store64_lane(rejLo + (<usize>p << 2), f32x4.demote_f64x2_zero(rl), 0);
    v128.store64_lane(rejHi + (<usize>p << 2), f32x4.demote_f64x2_zero(rh), 0);
  }
  return flagged;
}
