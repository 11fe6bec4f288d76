// AssemblyScript (0.28) source of the WASM-SIMD band kernel. Built by `node scripts/build-wasm.mjs`
// (the file is copied to a .ts name for asc; it has the .as extension so that tsc leaves it alone).
//
// Lane-per-pixel SIMD: two neighbouring pixels are processed together in f64x2 vectors, so every
// sum is accumulated in the same order and in the same precision as the plain-TS reference
// (`band.ts` / `reject.ts`): the results are bit-identical. Masked-out slots add +0, which does
// not change a sum (a sum that starts at +0 is never -0). Pixel pairs with a non-finite or a
// range-rejected value are flagged for the caller, which runs the TS reference on them (so the
// rejection chosen by the number of values is the reference's); so are median-combined pairs
// whose result is zero (the sign of a zero median depends on the order of equal values).
//
// Rejection codes as reject.ts: 0 none, 1 minmax, 2 percentile, 3 sigma, 4 winsorized,
// 5 averaged-sigma, 6 linear-fit, 7 gesd, 8 mad. Threshold algorithms (0, 2, 3, 4, 5, 8) reject
// all values beyond a bound, so equal values share a fate and a value-only sorting network does;
// rank algorithms (1, 6, 7) sort (value, frame) pairs, which is exactly the reference's stable
// insertion order, and reject by slot. Combine: 0 average, 1 median, 2 sum, 3 min, 4 max.
//
// Memory (byte offsets given by the caller):
//   params (f64): [sigmaLow, sigmaHigh, winsorCutoff, clipLow, clipHigh, rangeLow, rangeHigh,
//                  percentileLow, percentileHigh, minmaxLow, minmaxHigh, linearLow, linearHigh,
//                  gesdKmax, ra[n], rb[n], ca[n], cb[n], w[n], gesdLambda[n],
//                  winsorK[2 (n + 1)]: winsorized low/high multipliers by count]
//   data (f32):   frame-major chunk, data[i * P + p]
//   out, rejLo, rejHi (f32, P each), flags (u8, P), counts (f64): frameLow[n], frameHigh[n]
//   pairs (i32):  compare-exchange pairs of a sorting network for n values
//   scratch:      13 * n * 16 bytes (SCRATCH_VECS in wasm.ts): PAIR_VECS, a mask, two counters

const PRM_FIX: i32 = 14;
/** Scratch vectors (n f64x2 each) of the pixel pair; `band` puts the mask and the counters after them. */
const PAIR_VECS: i32 = 10;

@inline function ldv(base: usize, k: i32): v128 {
  return v128.load(base + (<usize>k << 4));
}
@inline function stv(base: usize, k: i32, x: v128): void {
  v128.store(base + (<usize>k << 4), x);
}
@inline function lane(base: usize, k: i32, j: i32): f64 {
  return load<f64>(base + (<usize>k << 4) + (<usize>j << 3));
}
@inline function setLane(base: usize, k: i32, j: i32, x: f64): void {
  store<f64>(base + (<usize>k << 4) + (<usize>j << 3), x);
}
@inline function ilane(base: usize, k: i32, j: i32): i64 {
  return load<i64>(base + (<usize>k << 4) + (<usize>j << 3));
}
@inline function setILane(base: usize, k: i32, j: i32, x: i64): void {
  store<i64>(base + (<usize>k << 4) + (<usize>j << 3), x);
}
@inline function prmAt(prm: usize, k: i32): f64 {
  return load<f64>(prm + (<usize>k << 3));
}

// scratch vectors (n f64x2 each), set by `band`
let X: usize = 0; // raw values, frame order
let R: usize = 0; // rejection-normalized, frame order
let V: usize = 0; // sorted rejection values
let FI: usize = 0; // frame of each sorted slot (i64 lanes; rank algorithms)
let Wb: usize = 0; // winsorized work / median combine
let KL: usize = 0; // per frame: rejected low (lane mask)
let KH: usize = 0; // per frame: rejected high (lane mask)
let SD: usize = 0; // linear fit: side of each slot beyond hi (i64 lanes)
let TV: usize = 0; // linear fit temp (scalar f64 / i64 / i64, n each)
let TF: usize = 0;
let TS: usize = 0;

// per-lane state (two lanes)
let lo0: i32 = 0, hi0: i32 = 0, lo1: i32 = 0, hi1: i32 = 0;

@inline function getLo(j: i32): i32 {
  return j == 0 ? lo0 : lo1;
}
@inline function getHi(j: i32): i32 {
  return j == 0 ? hi0 : hi1;
}
@inline function setBounds(j: i32, lo: i32, hi: i32): void {
  if (j == 0) {
    lo0 = lo;
    hi0 = hi;
  } else {
    lo1 = lo;
    hi1 = hi;
  }
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

/** Sorting network on (value, frame) pairs: the stable order of the reference's insertion sort. */
function sortNetPairs(pairs: usize, npairs: i32): void {
  for (let q = 0; q < npairs; q++) {
    const a = load<i32>(pairs + (<usize>q << 3));
    const b = load<i32>(pairs + (<usize>q << 3) + 4);
    const va = ldv(V, a);
    const vb = ldv(V, b);
    const fa = ldv(FI, a);
    const fb = ldv(FI, b);
    const sw = v128.or(f64x2.gt(va, vb), v128.and(f64x2.eq(va, vb), i64x2.gt_s(fa, fb)));
    stv(V, a, v128.bitselect(vb, va, sw));
    stv(V, b, v128.bitselect(va, vb, sw));
    stv(FI, a, v128.bitselect(fb, fa, sw));
    stv(FI, b, v128.bitselect(fa, fb, sw));
  }
}

@inline function rangeMask(k: i32, LO: v128, HI: v128): v128 {
  const K = i64x2.splat(<i64>k);
  return v128.and(i64x2.ge_s(K, LO), i64x2.lt_s(K, HI));
}

@inline function curLO(): v128 {
  return i64x2(<i64>lo0, <i64>lo1);
}
@inline function curHI(): v128 {
  return i64x2(<i64>hi0, <i64>hi1);
}

@inline function countOf(LO: v128, HI: v128): v128 {
  const c = f64x2.convert_low_i32x4_s(i32x4.shuffle(HI, HI, 0, 2, 0, 2));
  const c2 = f64x2.convert_low_i32x4_s(i32x4.shuffle(LO, LO, 0, 2, 0, 2));
  return f64x2.sub(c, c2);
}

/** Per-lane mean of base[lo_j..hi_j), summed in index order (as meanOf in reject.ts). */
function meanMasked(base: usize, n: i32, LO: v128, HI: v128): v128 {
  let s = f64x2.splat(0);
  const lo = <i32>i64x2.extract_lane(LO, 0);
  const hi = <i32>i64x2.extract_lane(HI, 0);
  // both lanes on the same slots: no masks (a sum from +0 is the same with or without the +0 terms)
  if (lo == <i32>i64x2.extract_lane(LO, 1) && hi == <i32>i64x2.extract_lane(HI, 1)) {
    for (let k = lo; k < hi; k++) s = f64x2.add(s, ldv(base, k));
  } else {
    for (let k = 0; k < n; k++) s = f64x2.add(s, v128.and(ldv(base, k), rangeMask(k, LO, HI)));
  }
  return f64x2.div(s, countOf(LO, HI));
}

/** Per-lane std of base[lo_j..hi_j) with ddof, summed in index order (as stdOf in reject.ts). */
function stdAbout(base: usize, n: i32, LO: v128, HI: v128, ddof: f64, m: v128): v128 {
  let ss = f64x2.splat(0);
  const lo = <i32>i64x2.extract_lane(LO, 0);
  const hi = <i32>i64x2.extract_lane(HI, 0);
  if (lo == <i32>i64x2.extract_lane(LO, 1) && hi == <i32>i64x2.extract_lane(HI, 1)) {
    for (let k = lo; k < hi; k++) {
      const d = f64x2.sub(ldv(base, k), m);
      ss = f64x2.add(ss, f64x2.mul(d, d));
    }
  } else {
    for (let k = 0; k < n; k++) {
      const d = f64x2.sub(ldv(base, k), m);
      ss = f64x2.add(ss, v128.and(f64x2.mul(d, d), rangeMask(k, LO, HI)));
    }
  }
  return f64x2.sqrt(f64x2.div(ss, f64x2.sub(countOf(LO, HI), f64x2.splat(ddof))));
}

function stdMasked(base: usize, n: i32, LO: v128, HI: v128, ddof: f64): v128 {
  return stdAbout(base, n, LO, HI, ddof, meanMasked(base, n, LO, HI));
}

@inline function medLane(base: usize, lo: i32, hi: i32, j: i32): f64 {
  const c = hi - lo;
  const mid = lo + (c >> 1);
  return c & 1 ? lane(base, mid, j) : 0.5 * (lane(base, mid - 1, j) + lane(base, mid, j));
}

/** madSorted of reject.ts on lane j of the sorted values. */
function madLane(lo: i32, hi: i32, med: f64, j: i32): f64 {
  const c = hi - lo;
  if (c == 0) return NaN;
  let jr = lo;
  while (jr < hi && lane(V, jr, j) < med) jr++;
  let il = jr - 1;
  const k1 = (c - 1) >> 1;
  const need = c & 1 ? k1 : k1 + 1;
  let a: f64 = 0;
  let b: f64 = 0;
  for (let r = 0; r <= need; r++) {
    let d: f64;
    const dl = il >= lo ? med - lane(V, il, j) : Infinity;
    const dr = jr < hi ? lane(V, jr, j) - med : Infinity;
    if (dl <= dr) {
      d = dl;
      il--;
    } else {
      d = dr;
      jr++;
    }
    if (r == k1) a = d;
    if (r == need) b = d;
  }
  return c & 1 ? a : 0.5 * (a + b);
}

/**
 * Clip lane j's [lo, hi) to [minV, maxV] (the enabled sides); stores the new bounds and returns
 * whether they changed.
 */
function clipLane(j: i32, minV: f64, maxV: f64, clipLow: bool, clipHigh: bool): bool {
  const lo = getLo(j);
  const hi = getHi(j);
  let nlo = lo, nhi = hi;
  if (clipLow) while (nlo < nhi && lane(V, nlo, j) < minV) nlo++;
  if (clipHigh) while (nhi > nlo && lane(V, nhi - 1, j) > maxV) nhi--;
  setBounds(j, nlo, nhi);
  return nlo != lo || nhi != hi;
}

/**
 * One winsorization of both lanes (sigma S, centres MED) until the relative change is small; the
 * winsorized values are left in Wb. The values after t clamps are the cut values clamped once to
 * the intersection of the t bounds (the bounds all hold the median, and a clamp only selects), so
 * only the bounds are carried. The sign of a zero may differ, which no sum sees (x + -0 = x + +0).
 */
function winsorSigma(n: i32, MED: v128, S0: v128, act0: bool, act1: bool, cut: f64): v128 {
  let S = S0;
  const LO = curLO();
  const HI = curHI();
  const C0 = f64x2.sub(MED, f64x2.mul(f64x2.splat(cut), S));
  const C1 = f64x2.add(MED, f64x2.mul(f64x2.splat(cut), S));
  for (let k = 0; k < n; k++) {
    const x = ldv(V, k);
    stv(Wb, k, v128.bitselect(MED, x, v128.or(f64x2.lt(x, C0), f64x2.gt(x, C1))));
  }
  // both lanes on the same slots: sums over [lo, hi) without masks
  const same = lo0 == lo1 && hi0 == hi1;
  if (!same) fillMasks(n, MKA, LO, HI);
  const k0 = same ? lo0 : 0;
  const k1 = same ? hi0 : n;
  const C = countOf(LO, HI);
  const C1n = f64x2.sub(C, f64x2.splat(1));
  const H = f64x2.splat(1.5);
  let A = f64x2.splat(-Infinity);
  let B = f64x2.splat(Infinity);
  let done0 = !act0;
  let done1 = !act1;
  for (let it = 0; it < 100; it++) {
    // a lane that has converged keeps its winsorized values (their mean is the clipping centre)
    const DONE = i64x2(done0 ? -1 : 0, done1 ? -1 : 0);
    A = v128.bitselect(A, f64x2.pmax(A, f64x2.sub(MED, f64x2.mul(H, S))), DONE);
    B = v128.bitselect(B, f64x2.pmin(B, f64x2.add(MED, f64x2.mul(H, S))), DONE);
    let s = f64x2.splat(0);
    let q = f64x2.splat(0);
    if (same) {
      for (let k = k0; k < k1; k++) s = f64x2.add(s, clampAt(Wb, k, A, B));
      const m = f64x2.div(s, C);
      for (let k = k0; k < k1; k++) {
        const d = f64x2.sub(clampAt(Wb, k, A, B), m);
        q = f64x2.add(q, f64x2.mul(d, d));
      }
    } else {
      for (let k = 0; k < n; k++) s = f64x2.add(s, v128.and(clampAt(Wb, k, A, B), ldv(MKA, k)));
      const m = f64x2.div(s, C);
      for (let k = 0; k < n; k++) {
        const d = f64x2.sub(clampAt(Wb, k, A, B), m);
        q = f64x2.add(q, v128.and(f64x2.mul(d, d), ldv(MKA, k)));
      }
    }
    const SP = S;
    const SN = f64x2.mul(f64x2.splat(1.134), f64x2.sqrt(f64x2.div(q, C1n)));
    S = v128.bitselect(SP, SN, DONE);
    if (!done0) {
      const a = f64x2.extract_lane(SN, 0), b = f64x2.extract_lane(SP, 0);
      if (!(Math.abs(a - b) > b * 0.0005)) done0 = true;
    }
    if (!done1) {
      const a = f64x2.extract_lane(SN, 1), b = f64x2.extract_lane(SP, 1);
      if (!(Math.abs(a - b) > b * 0.0005)) done1 = true;
    }
    if (done0 && done1) break;
  }
  for (let k = 0; k < n; k++) stv(Wb, k, clampAt(Wb, k, A, B));
  return S;
}

function winsorized(n: i32, prm: usize, clipLow: bool, clipHigh: bool): void {
  const K = prm + (<usize>(PRM_FIX + 6 * n) << 3);
  const cut = prmAt(prm, 2);
  let act0 = hi0 - lo0 > 3;
  let act1 = hi1 - lo1 > 3;
  while (act0 || act1) {
    const med0 = act0 ? medLane(V, lo0, hi0, 0) : 0.0;
    const med1 = act1 ? medLane(V, lo1, hi1, 1) : 0.0;
    let S = stdMasked(V, n, curLO(), curHI(), 1);
    if (act0 && !(f64x2.extract_lane(S, 0) > 0)) act0 = false;
    if (act1 && !(f64x2.extract_lane(S, 1) > 0)) act1 = false;
    if (!act0 && !act1) break;
    S = winsorSigma(n, f64x2(med0, med1), S, act0, act1, cut);
    // bounds about the winsorized mean, multipliers by count (winsorThresholds in reject.ts)
    const WM = meanMasked(Wb, n, curLO(), curHI());
    if (act0) {
      const sg = f64x2.extract_lane(S, 0);
      const wm = f64x2.extract_lane(WM, 0);
      const c = hi0 - lo0;
      act0 = clipLane(0, wm - prmAt(K, 2 * c) * sg, wm + prmAt(K, 2 * c + 1) * sg, clipLow, clipHigh) && hi0 - lo0 > 3;
    }
    if (act1) {
      const sg = f64x2.extract_lane(S, 1);
      const wm = f64x2.extract_lane(WM, 1);
      const c = hi1 - lo1;
      act1 = clipLane(1, wm - prmAt(K, 2 * c) * sg, wm + prmAt(K, 2 * c + 1) * sg, clipLow, clipHigh) && hi1 - lo1 > 3;
    }
  }
}

let MKA: usize = 0; // per slot, the lanes inside [lo, hi) (mask; winsorSigma with unequal bounds)
let CL: usize = 0; // per frame: pixels rejected low so far (i64 lanes)
let CH: usize = 0; // per frame: pixels rejected high so far

function fillMasks(n: i32, MK: usize, LO: v128, HI: v128): void {
  for (let k = 0; k < n; k++) stv(MK, k, rangeMask(k, LO, HI));
}

@inline function clampAt(W: usize, k: i32, A: v128, B: v128): v128 {
  return f64x2.pmin(f64x2.pmax(ldv(W, k), A), B);
}

/**
 * Astropy sigma_clip(cenfunc=median, stdfunc=std or mad_std) per lane, the final bounds applied to
 * all values.
 */
function sigmaClip(n: i32, prm: usize, clipLow: bool, clipHigh: bool, useMad: bool): void {
  const kl = prmAt(prm, 0);
  const kh = prmAt(prm, 1);
  let act0 = hi0 - lo0 >= 1;
  let act1 = hi1 - lo1 >= 1;
  while (act0 || act1) {
    const S = useMad ? f64x2.splat(0) : stdMasked(V, n, curLO(), curHI(), 0);
    for (let j = 0; j < 2; j++) {
      if (j == 0 ? !act0 : !act1) continue;
      const lo = getLo(j);
      const hi = getHi(j);
      const med = medLane(V, lo, hi, j);
      const sd = useMad ? 1.482602218505602 * madLane(lo, hi, med, j) : j == 0 ? f64x2.extract_lane(S, 0) : f64x2.extract_lane(S, 1);
      const minV = med - kl * sd, maxV = med + kh * sd;
      let act = clipLane(j, minV, maxV, clipLow, clipHigh);
      if (!act) {
        setBounds(j, 0, n);
        clipLane(j, minV, maxV, clipLow, clipHigh);
      } else act = getHi(j) - getLo(j) >= 1;
      if (j == 0) act0 = act;
      else act1 = act;
    }
  }
}

/** Per-lane sqrt(sum (x - m)^2 / m / (c - 1)) * sqrt(m) over [lo_j, hi_j) (averagedSigma in reject.ts). */
function avgSigmaOf(n: i32, MED: v128): v128 {
  const LO = curLO();
  const HI = curHI();
  let s2 = f64x2.splat(0);
  for (let k = 0; k < n; k++) {
    const d = f64x2.sub(ldv(V, k), MED);
    s2 = f64x2.add(s2, v128.and(f64x2.div(f64x2.mul(d, d), MED), rangeMask(k, LO, HI)));
  }
  const c1 = f64x2.sub(countOf(LO, HI), f64x2.splat(1));
  return f64x2.mul(f64x2.sqrt(f64x2.div(s2, c1)), f64x2.sqrt(MED));
}

function averagedSigma(n: i32, prm: usize, clipLow: bool, clipHigh: bool): void {
  const kl = prmAt(prm, 0);
  const kh = prmAt(prm, 1);
  let act0 = hi0 - lo0 >= 3;
  let act1 = hi1 - lo1 >= 3;
  while (act0 || act1) {
    const med0 = act0 ? medLane(V, lo0, hi0, 0) : 1.0;
    const med1 = act1 ? medLane(V, lo1, hi1, 1) : 1.0;
    if (act0 && !(med0 > 0)) act0 = false;
    if (act1 && !(med1 > 0)) act1 = false;
    if (!act0 && !act1) break;
    // (an inactive lane computes with a median of 1, and its result is not used)
    const S = avgSigmaOf(n, f64x2(act0 ? med0 : 1.0, act1 ? med1 : 1.0));
    if (act0) {
      const sg = f64x2.extract_lane(S, 0);
      act0 = clipLane(0, med0 - kl * sg, med0 + kh * sg, clipLow, clipHigh) && hi0 - lo0 >= 3;
    }
    if (act1) {
      const sg = f64x2.extract_lane(S, 1);
      act1 = clipLane(1, med1 - kl * sg, med1 + kh * sg, clipLow, clipHigh) && hi1 - lo1 >= 3;
    }
  }
}

function percentile(prm: usize, clipLow: bool, clipHigh: bool): void {
  const pl = prmAt(prm, 7);
  const ph = prmAt(prm, 8);
  for (let j = 0; j < 2; j++) {
    let lo = getLo(j);
    let hi = getHi(j);
    if (hi - lo < 2) continue;
    const med = medLane(V, lo, hi, j);
    if (!(med > 0)) continue;
    if (clipLow) while (lo < hi && (med - lane(V, lo, j)) / med > pl) lo++;
    if (clipHigh) while (hi > lo && (lane(V, hi - 1, j) - med) / med > ph) hi--;
    setBounds(j, lo, hi);
  }
}

function minmax(prm: usize, clipLow: bool, clipHigh: bool): void {
  const nl = clipLow ? <i32>prmAt(prm, 9) : 0;
  const nh = clipHigh ? <i32>prmAt(prm, 10) : 0;
  for (let j = 0; j < 2; j++) {
    const lo = getLo(j);
    const hi = getHi(j);
    if (hi - lo <= nl + nh) continue;
    setBounds(j, lo + nl, hi - nh);
  }
}

/** One GESD step of lane j on [tl, th) with its mean and std. */
function gesdStep(j: i32, i: i32, tl: i32, th: i32, mean: f64, sd: f64, lambda: usize, clipLow: bool, clipHigh: bool): i32 {
  // returns: 0 stop, 1 removed low, 2 removed high, +4 when G exceeds lambda_i
  if (!(sd > 0)) return 0;
  const dl = clipLow ? mean - lane(V, tl, j) : -1.0;
  const dh = clipHigh ? lane(V, th - 1, j) - mean : -1.0;
  if (dl < 0 && dh < 0) return 0;
  let G: f64;
  let r: i32;
  if (dh >= dl) {
    G = dh / sd;
    r = 2;
  } else {
    G = dl / sd;
    r = 1;
  }
  if (G > load<f64>(lambda + (<usize>i << 3))) r += 4;
  return r;
}

function gesd(n: i32, prm: usize, clipLow: bool, clipHigh: bool): void {
  const kmax = <i32>prmAt(prm, 13);
  const lambda = prm + (<usize>(PRM_FIX + 5 * n) << 3);
  let tl0 = lo0, th0 = hi0, tl1 = lo1, th1 = hi1;
  let act0 = true, act1 = true;
  for (let i = 0; i < kmax; i++) {
    if (act0 && th0 - tl0 < 3) act0 = false;
    if (act1 && th1 - tl1 < 3) act1 = false;
    if (!act0 && !act1) break;
    const LO = i64x2(<i64>tl0, <i64>tl1);
    const HI = i64x2(<i64>th0, <i64>th1);
    const M = meanMasked(V, n, LO, HI);
    const S = stdAbout(V, n, LO, HI, 1, M);
    if (act0) {
      const r = gesdStep(0, i, tl0, th0, f64x2.extract_lane(M, 0), f64x2.extract_lane(S, 0), lambda, clipLow, clipHigh);
      if (r == 0) act0 = false;
      else {
        if ((r & 3) == 2) th0--;
        else tl0++;
        if (r & 4) setBounds(0, tl0, th0);
      }
    }
    if (act1) {
      const r = gesdStep(1, i, tl1, th1, f64x2.extract_lane(M, 1), f64x2.extract_lane(S, 1), lambda, clipLow, clipHigh);
      if (r == 0) act1 = false;
      else {
        if ((r & 3) == 2) th1--;
        else tl1++;
        if (r & 4) setBounds(1, tl1, th1);
      }
    }
  }
}

/** One least-squares pass of lane j over [lo, hi): moves the rejected slots behind the kept ones. Returns the new hi. */
function linearPass(j: i32, lo: i32, hi: i32, kl: f64, kh: f64, clipLow: bool, clipHigh: bool): i32 {
  const c = hi - lo;
  const jm = <f64>(c - 1) / 2;
  let ym: f64 = 0;
  for (let k = lo; k < hi; k++) ym += lane(V, k, j);
  ym /= <f64>c;
  let sxy: f64 = 0;
  let sxx: f64 = 0;
  for (let k = lo; k < hi; k++) {
    const dj = <f64>(k - lo) - jm;
    sxy += dj * (lane(V, k, j) - ym);
    sxx += dj * dj;
  }
  const b = sxy / sxx;
  const a = ym - b * jm;
  let sigma: f64 = 0;
  for (let k = lo; k < hi; k++) sigma += Math.abs(lane(V, k, j) - (a + b * <f64>(k - lo)));
  sigma /= <f64>c;
  let wpos = lo;
  let nrej = 0;
  for (let k = lo; k < hi; k++) {
    const v = lane(V, k, j);
    const f = ilane(FI, k, j);
    const r = v - (a + b * <f64>(k - lo));
    let s: i64 = 0;
    if (clipLow && -r > kl * sigma) s = -1;
    else if (clipHigh && r > kh * sigma) s = 1;
    if (s == 0) {
      setLane(V, wpos, j, v);
      setILane(FI, wpos, j, f);
      wpos++;
    } else {
      store<f64>(TV + (<usize>nrej << 3), v);
      store<i64>(TF + (<usize>nrej << 3), f);
      store<i64>(TS + (<usize>nrej << 3), s);
      nrej++;
    }
  }
  for (let q = 0; q < nrej; q++) {
    setLane(V, wpos + q, j, load<f64>(TV + (<usize>q << 3)));
    setILane(FI, wpos + q, j, load<i64>(TF + (<usize>q << 3)));
    setILane(SD, wpos + q, j, load<i64>(TS + (<usize>q << 3)));
  }
  return wpos;
}

function linearFit(n: i32, prm: usize, clipLow: bool, clipHigh: bool): void {
  const kl = prmAt(prm, 11);
  const kh = prmAt(prm, 12);
  for (let k = 0; k < n; k++) stv(SD, k, i64x2.splat(1));
  for (let j = 0; j < 2; j++) {
    const lo = getLo(j);
    let hi = getHi(j);
    while (hi - lo >= 5) {
      const nh = linearPass(j, lo, hi, kl, kh, clipLow, clipHigh);
      if (nh == hi) break;
      hi = nh;
    }
    setBounds(j, lo, hi);
  }
}

@inline function rankBased(reject: i32): bool {
  return reject == 1 || reject == 6 || reject == 7;
}

function reject_(reject: i32, n: i32, prm: usize, pairs: usize, npairs: i32, clipLow: bool, clipHigh: bool): void {
  if (rankBased(reject)) sortNetPairs(pairs, npairs);
  else sortNet(V, pairs, npairs);
  if (reject == 4) winsorized(n, prm, clipLow, clipHigh);
  else if (reject == 3) sigmaClip(n, prm, clipLow, clipHigh, false);
  else if (reject == 8) sigmaClip(n, prm, clipLow, clipHigh, true);
  else if (reject == 5) averagedSigma(n, prm, clipLow, clipHigh);
  else if (reject == 2) percentile(prm, clipLow, clipHigh);
  else if (reject == 1) minmax(prm, clipLow, clipHigh);
  else if (reject == 7) gesd(n, prm, clipLow, clipHigh);
  else if (reject == 6) linearFit(n, prm, clipLow, clipHigh);
}

/** KL/KH by value: kept are the values between the lowest and the highest kept value. */
function masksByValue(n: i32, reject: i32): void {
  let LOWV = f64x2.splat(-Infinity);
  let HIGHV = f64x2.splat(Infinity);
  if (reject != 0) {
    LOWV = f64x2(lane(V, lo0, 0), lane(V, lo1, 1));
    HIGHV = f64x2(lane(V, hi0 - 1, 0), lane(V, hi1 - 1, 1));
  }
  for (let i = 0; i < n; i++) {
    const r = ldv(R, i);
    stv(KL, i, f64x2.lt(r, LOWV));
    stv(KH, i, f64x2.gt(r, HIGHV));
  }
}

/** KL/KH by slot: below lo low, at or above hi high (or low where the linear fit said so). */
function masksBySlot(n: i32, useSide: bool): void {
  const Z = i64x2.splat(0);
  for (let i = 0; i < n; i++) {
    stv(KL, i, Z);
    stv(KH, i, Z);
  }
  for (let j = 0; j < 2; j++) {
    const lo = getLo(j);
    const hi = getHi(j);
    for (let k = 0; k < lo; k++) setILane(KL, <i32>ilane(FI, k, j), j, -1);
    for (let k = hi; k < n; k++) {
      const low = useSide && ilane(SD, k, j) == -1;
      setILane(low ? KL : KH, <i32>ilane(FI, k, j), j, -1);
    }
  }
}

/** The combination of the kept values of both lanes (frame order, as band.ts). */
function combinePair(n: i32, combine: i32, ca: usize, cb: usize, wt: usize, pairs: usize, npairs: i32): v128 {
  let s = f64x2.splat(0);
  let sw = f64x2.splat(0);
  let mn = f64x2.splat(Infinity);
  let mx = f64x2.splat(-Infinity);
  const INF = f64x2.splat(Infinity);
  for (let i = 0; i < n; i++) {
    const kept = v128.not(v128.or(ldv(KL, i), ldv(KH, i)));
    const c = f64x2.add(f64x2.mul(f64x2.splat(load<f64>(ca + (<usize>i << 3))), ldv(X, i)), f64x2.splat(load<f64>(cb + (<usize>i << 3))));
    if (combine == 0) {
      const w = f64x2.splat(load<f64>(wt + (<usize>i << 3)));
      s = f64x2.add(s, v128.and(f64x2.mul(w, c), kept));
      sw = f64x2.add(sw, v128.and(w, kept));
    } else if (combine == 2) s = f64x2.add(s, v128.and(c, kept));
    else if (combine == 3) mn = v128.bitselect(c, mn, v128.and(kept, f64x2.lt(c, mn)));
    else if (combine == 4) mx = v128.bitselect(c, mx, v128.and(kept, f64x2.gt(c, mx)));
    else stv(Wb, i, v128.bitselect(c, INF, kept));
  }
  if (combine == 0) return f64x2.div(s, sw);
  if (combine == 2) return s;
  if (combine == 3) return mn;
  if (combine == 4) return mx;
  sortNet(Wb, pairs, npairs);
  return f64x2(medLane(Wb, 0, hi0 - lo0, 0), medLane(Wb, 0, hi1 - lo1, 1));
}

/** Adds the pair's rejections to the per-frame counts (lane counters CL, CH) and stores its rejection fractions. */
function countPair(n: i32, invN: f64, rejLo: usize, rejHi: usize, p: i32): void {
  let RLC = i64x2.splat(0);
  let RHC = i64x2.splat(0);
  for (let i = 0; i < n; i++) {
    const lowM = ldv(KL, i);
    const highM = ldv(KH, i);
    RLC = i64x2.sub(RLC, lowM);
    RHC = i64x2.sub(RHC, highM);
    stv(CL, i, i64x2.sub(ldv(CL, i), lowM));
    stv(CH, i, i64x2.sub(ldv(CH, i), highM));
  }
  storeFractions(RLC, RHC, invN, rejLo, rejHi, p);
}

@inline function storeFractions(RLC: v128, RHC: v128, invN: f64, rejLo: usize, rejHi: usize, p: i32): void {
  const N = f64x2.splat(invN);
  const rl = f64x2.mul(f64x2.convert_low_i32x4_s(i32x4.shuffle(RLC, RLC, 0, 2, 0, 2)), N);
  const rh = f64x2.mul(f64x2.convert_low_i32x4_s(i32x4.shuffle(RHC, RHC, 0, 2, 0, 2)), N);
  v128.store64_lane(rejLo + (<usize>p << 2), f32x4.demote_f64x2_zero(rl), 0);
  v128.store64_lane(rejHi + (<usize>p << 2), f32x4.demote_f64x2_zero(rh), 0);
}

/**
 * Average combination of a pair rejected by value (masksByValue, combinePair and countPair in one
 * pass, the same sums in the same order); returns the result.
 */
function averageByValue(n: i32, reject: i32, ca: usize, cb: usize, wt: usize, invN: f64, rejLo: usize, rejHi: usize, p: i32): v128 {
  let LOWV = f64x2.splat(-Infinity);
  let HIGHV = f64x2.splat(Infinity);
  if (reject != 0) {
    LOWV = f64x2(lane(V, lo0, 0), lane(V, lo1, 1));
    HIGHV = f64x2(lane(V, hi0 - 1, 0), lane(V, hi1 - 1, 1));
  }
  let s = f64x2.splat(0);
  let sw = f64x2.splat(0);
  let RLC = i64x2.splat(0);
  let RHC = i64x2.splat(0);
  for (let i = 0; i < n; i++) {
    const r = ldv(R, i);
    const lowM = f64x2.lt(r, LOWV);
    const highM = f64x2.gt(r, HIGHV);
    const kept = v128.not(v128.or(lowM, highM));
    const c = f64x2.add(f64x2.mul(f64x2.splat(load<f64>(ca + (<usize>i << 3))), ldv(X, i)), f64x2.splat(load<f64>(cb + (<usize>i << 3))));
    const w = f64x2.splat(load<f64>(wt + (<usize>i << 3)));
    s = f64x2.add(s, v128.and(f64x2.mul(w, c), kept));
    sw = f64x2.add(sw, v128.and(w, kept));
    RLC = i64x2.sub(RLC, lowM);
    RHC = i64x2.sub(RHC, highM);
    stv(CL, i, i64x2.sub(ldv(CL, i), lowM));
    stv(CH, i, i64x2.sub(ldv(CH, i), highM));
  }
  storeFractions(RLC, RHC, invN, rejLo, rejHi, p);
  return f64x2.div(s, sw);
}

/** Loads pixel pair p of every frame into X, R (and V, FI); false when a value is non-finite or range-rejected. */
function gather(n: i32, P: i32, p: i32, data: usize, ra: usize, rb: usize, RL: v128, RH: v128, withFrames: bool): bool {
  for (let i = 0; i < n; i++) {
    const x = f64x2.promote_low_f32x4(v128.load64_zero(data + ((<usize>i * <usize>P + <usize>p) << 2)));
    // NaN fails both comparisons, and -/+Inf fails them too (rangeLow >= -Inf, rangeHigh <= +Inf)
    const good = v128.and(f64x2.gt(x, RL), f64x2.lt(x, RH));
    if (!i64x2.all_true(good)) return false;
    stv(X, i, x);
    const r = f64x2.add(f64x2.mul(f64x2.splat(load<f64>(ra + (<usize>i << 3))), x), f64x2.splat(load<f64>(rb + (<usize>i << 3))));
    stv(R, i, r);
    stv(V, i, r);
    if (withFrames) stv(FI, i, i64x2.splat(<i64>i));
  }
  return true;
}

@inline function flagPair(flags: usize, p: i32): i32 {
  store<u8>(flags + p, 1);
  store<u8>(flags + p + 1, 1);
  return 2;
}

/** Reject (bounds from the whole stack) and finish a gathered pair; returns the pixels flagged. */
function onePair(
  n: i32, reject: i32, combine: i32, prm: usize, pairs: usize, npairs: i32, clipLow: bool, clipHigh: bool,
  ca: usize, cb: usize, wt: usize, invN: f64, out: usize, rejLo: usize, rejHi: usize, flags: usize, p: i32,
): i32 {
  lo0 = 0;
  hi0 = n;
  lo1 = 0;
  hi1 = n;
  if (reject != 0) reject_(reject, n, prm, pairs, npairs, clipLow, clipHigh);
  return finishPair(n, reject, combine, ca, cb, wt, pairs, npairs, invN, out, rejLo, rejHi, flags, p);
}

/** Masks, combination, counts and output of a rejected pair (bounds lo0..hi1); returns the pixels flagged. */
function finishPair(
  n: i32, reject: i32, combine: i32, ca: usize, cb: usize, wt: usize, pairs: usize, npairs: i32,
  invN: f64, out: usize, rejLo: usize, rejHi: usize, flags: usize, p: i32,
): i32 {
  if (hi0 - lo0 <= 0 || hi1 - lo1 <= 0) return flagPair(flags, p);
  let res: v128;
  if (combine == 0 && !rankBased(reject)) res = averageByValue(n, reject, ca, cb, wt, invN, rejLo, rejHi, p);
  else {
    if (rankBased(reject)) masksBySlot(n, reject == 6);
    else masksByValue(n, reject);
    res = combinePair(n, combine, ca, cb, wt, pairs, npairs);
    if (combine == 1 && !i64x2.all_true(f64x2.ne(res, f64x2.splat(0)))) return flagPair(flags, p);
    countPair(n, invN, rejLo, rejHi, p);
  }
  store<u8>(flags + p, 0);
  store<u8>(flags + p + 1, 0);
  v128.store64_lane(out + (<usize>p << 2), f32x4.demote_f64x2_zero(res), 0);
  return 0;
}

function setScratch(scratch: usize, n: i32): void {
  const vec = <usize>n << 4;
  X = scratch;
  R = X + vec;
  V = R + vec;
  FI = V + vec;
  Wb = FI + vec;
  KL = Wb + vec;
  KH = KL + vec;
  SD = KH + vec;
  TV = SD + vec;
  TF = TV + (<usize>n << 3);
  TS = TF + (<usize>n << 3);
}

/**
 * Integrate P pixels (P even) with rejection `reject` and combination `combine` (codes above).
 * Returns the number of flagged pixels (left for the caller).
 */
export function band(
  n: i32, P: i32, reject: i32, combine: i32,
  data: usize, out: usize, rejLo: usize, rejHi: usize, flags: usize,
  prm: usize, counts: usize, pairs: usize, npairs: i32, scratch: usize,
): i32 {
  const clipLow = prmAt(prm, 3) != 0;
  const clipHigh = prmAt(prm, 4) != 0;
  const RL = f64x2.splat(prmAt(prm, 5));
  const RH = f64x2.splat(prmAt(prm, 6));
  const ra = prm + (<usize>PRM_FIX << 3);
  const rb = ra + (<usize>n << 3);
  const ca = rb + (<usize>n << 3);
  const cb = ca + (<usize>n << 3);
  const wt = cb + (<usize>n << 3);
  setScratch(scratch, n);
  const fLow = counts;
  const fHigh = counts + (<usize>n << 3);
  const invN = 1.0 / <f64>n;
  const ranks = rankBased(reject);
  MKA = scratch + (<usize>PAIR_VECS * (<usize>n << 4));
  CL = MKA + (<usize>n << 4);
  CH = CL + (<usize>n << 4);
  for (let i = 0; i < n; i++) {
    stv(CL, i, i64x2.splat(0));
    stv(CH, i, i64x2.splat(0));
  }
  let flagged = 0;
  for (let p = 0; p < P; p += 2) {
    if (!gather(n, P, p, data, ra, rb, RL, RH, ranks)) {
      flagged += flagPair(flags, p);
      continue;
    }
    flagged += onePair(n, reject, combine, prm, pairs, npairs, clipLow, clipHigh, ca, cb, wt, invN, out, rejLo, rejHi, flags, p);
  }
  for (let i = 0; i < n; i++) {
    const l = ldv(CL, i);
    const h = ldv(CH, i);
    store<f64>(fLow + (<usize>i << 3), load<f64>(fLow + (<usize>i << 3)) + <f64>(i64x2.extract_lane(l, 0) + i64x2.extract_lane(l, 1)));
    store<f64>(fHigh + (<usize>i << 3), load<f64>(fHigh + (<usize>i << 3)) + <f64>(i64x2.extract_lane(h, 0) + i64x2.extract_lane(h, 1)));
  }
  return flagged;
}
