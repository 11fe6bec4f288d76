// AssemblyScript (0.28) source of the WASM-SIMD kernel of IKSS's two passes over all values (src/kernels/ikss.ts).
// Built by `node scripts/build-wasm.mjs` (copied to a .ts name for asc; the .as extension keeps tsc off it).
//
// sortKeys: an LSD radix sort as ikss.ts's sortFinite (order-preserving keys of the float32 bits), on the keys'
// offsets from the smallest in as few digits as their range needs; the sorted float32 bits replace the keys.
// biweight: ikss.ts's biweightSums, the same float64 arithmetic; the terms of two values per f64x2 vector, added
// to the sums one value after the other (the sums are not split into lanes, so they are the reference's bit for
// bit); a value left out adds +0, which leaves a sum that is never -0 (it starts at +0) unchanged.
//
// Memory: the caller's byte offsets; hist holds 3 * 2048 u32.

/** Histogram slot of digit `d` of pass `p`. */
@inline function slot(hist: usize, p: i32, size: i32, d: u32): usize {
  return hist + (<usize>(p * size + <i32>d) << 2);
}

/**
 * Sort the n float32 at src (finite): keys into a, passes between a and b; returns the offset (a or b) of the sorted
 * values. The keys are sorted on their offset from the smallest key, in as few digits of at most 11 bits as its
 * range needs (sky values with stars: 3 of 9 bits; without: 2 of at most 11), a digit every key shares skipped.
 */
export function sortKeys(src: usize, n: i32, a: usize, b: usize, hist: usize): usize {
  let kmin: u32 = 0xffffffff;
  let kmax: u32 = 0;
  for (let i = 0; i < n; i++) {
    const bits = load<u32>(src + (<usize>i << 2));
    const k = bits ^ ((<u32>(<i32>bits >> 31)) | 0x80000000);
    store<u32>(a + (<usize>i << 2), k);
    kmin = min(kmin, k);
    kmax = max(kmax, k);
  }
  if (n == 0) return a;
  const range = kmax - kmin;
  const nbits: i32 = range == 0 ? 0 : 32 - <i32>clz(range);
  const passes: i32 = (nbits + 10) / 11;
  const w: i32 = passes > 0 ? (nbits + passes - 1) / passes : 0;
  const size: i32 = 1 << w;
  const mask: u32 = <u32>size - 1;
  memory.fill(hist, 0, <usize>(passes * size) << 2);
  for (let i = 0; i < n; i++) {
    const r = load<u32>(a + (<usize>i << 2)) - kmin;
    for (let p = 0; p < passes; p++) {
      const q = slot(hist, p, size, (r >>> <u32>(p * w)) & mask);
      store<u32>(q, load<u32>(q) + 1);
    }
  }
  let keys = a;
  let tmp = b;
  for (let p = 0; p < passes; p++) {
    const shift = <u32>(p * w);
    if (load<u32>(slot(hist, p, size, ((load<u32>(keys) - kmin) >>> shift) & mask)) == <u32>n) continue; // every key has this digit
    let cum: u32 = 0;
    for (let d = 0; d < size; d++) {
      const q = slot(hist, p, size, <u32>d);
      const c = load<u32>(q);
      store<u32>(q, cum);
      cum += c;
    }
    for (let i = 0; i < n; i++) {
      const k = load<u32>(keys + (<usize>i << 2));
      const q = slot(hist, p, size, ((k - kmin) >>> shift) & mask);
      const j = load<u32>(q);
      store<u32>(q, j + 1);
      store<u32>(tmp + (<usize>j << 2), k);
    }
    const t = keys;
    keys = tmp;
    tmp = t;
  }
  for (let i = 0; i < n; i++) {
    const q = keys + (<usize>i << 2);
    const k = load<u32>(q);
    store<u32>(q, k & 0x80000000 ? k & 0x7fffffff : ~k);
  }
  return keys;
}

/** Biweight sums about m (inv = 1 / (9 MAD)) over the n float32 at vals within [lo, hi], in order: [num, den] at out. */
export function biweight(vals: usize, n: i32, lo: f64, hi: f64, m: f64, inv: f64, out: usize): void {
  let num: f64 = 0;
  let den: f64 = 0;
  // two values per f64x2 for the terms (a value left out masked to +0), added to the sums one lane after the other
  const vlo = f64x2.splat(lo);
  const vhi = f64x2.splat(hi);
  const vm = f64x2.splat(m);
  const vinv = f64x2.splat(inv);
  const one = f64x2.splat(1);
  const five = f64x2.splat(5);
  let i = 0;
  for (; i + 1 < n; i += 2) {
    const v = f64x2.promote_low_f32x4(v128.load64_zero(vals + (<usize>i << 2)));
    const d = f64x2.sub(v, vm);
    const u = f64x2.mul(d, vinv);
    const u2 = f64x2.mul(u, u);
    const t = f64x2.sub(one, u2);
    const t2 = f64x2.mul(t, t);
    const keep = v128.and(v128.and(f64x2.ge(v, vlo), f64x2.le(v, vhi)), f64x2.lt(u2, one));
    const tn = v128.and(f64x2.mul(f64x2.mul(f64x2.mul(d, d), t2), t2), keep);
    const td = v128.and(f64x2.mul(t, f64x2.sub(one, f64x2.mul(five, u2))), keep);
    num += f64x2.extract_lane(tn, 0);
    den += f64x2.extract_lane(td, 0);
    num += f64x2.extract_lane(tn, 1);
    den += f64x2.extract_lane(td, 1);
  }
  for (; i < n; i++) {
    const v = <f64>load<f32>(vals + (<usize>i << 2));
    const d = v - m;
    const u = d * inv;
    const u2 = u * u;
    if (v >= lo && v <= hi && u2 < 1) {
      const t = 1 - u2;
      const t2 = t * t;
      num += d * d * t2 * t2;
      den += t * (1 - 5 * u2);
    }
  }
  store<f64>(out, num);
  store<f64>(out + 8, den);
}

/**
 * The window of ikss-window.ts (its TS reference `buildWindow`): over the n float32 at src (finite), the keys' minimum
 * and maximum and the count below wlo into stats (3 u32), the values whose key k has wlo <= k <= wlo + span counted by
 * bucket (k - wlo) >>> shift into cum (buckets + 1 u32: the start of each bucket, the total last) and scattered into
 * dst by bucket, in their order within a bucket.
 */
export function window(src: usize, n: i32, wlo: u32, span: u32, shift: u32, buckets: i32, cum: usize, dst: usize, stats: usize): void {
  let kmin: u32 = 0xffffffff;
  let kmax: u32 = 0;
  let below: u32 = 0;
  memory.fill(cum, 0, <usize>(buckets + 1) << 2);
  for (let i = 0; i < n; i++) {
    const bits = load<u32>(src + (<usize>i << 2));
    const k = bits ^ ((<u32>(<i32>bits >> 31)) | 0x80000000);
    kmin = min(kmin, k);
    kmax = max(kmax, k);
    if (k < wlo) below++;
    else {
      const d = k - wlo;
      if (d <= span) {
        const q = cum + ((<usize>(d >>> shift) + 1) << 2);
        store<u32>(q, load<u32>(q) + 1);
      }
    }
  }
  let acc: u32 = 0;
  for (let c = 0; c <= buckets; c++) {
    const q = cum + (<usize>c << 2);
    acc += load<u32>(q);
    store<u32>(q, acc);
  }
  for (let i = 0; i < n; i++) {
    const bits = load<u32>(src + (<usize>i << 2));
    const k = bits ^ ((<u32>(<i32>bits >> 31)) | 0x80000000);
    if (k >= wlo && k - wlo <= span) {
      const q = cum + (<usize>((k - wlo) >>> shift) << 2);
      const j = load<u32>(q);
      store<u32>(q, j + 1);
      store<u32>(dst + (<usize>j << 2), bits);
    }
  }
  for (let c = buckets; c > 0; c--) store<u32>(cum + (<usize>c << 2), load<u32>(cum + (<usize>(c - 1) << 2)));
  store<u32>(cum, 0);
  store<u32>(stats, kmin);
  store<u32>(stats + 4, kmax);
  store<u32>(stats + 8, below);
}

/** Move the finite float32 of the n at src to its start, in order (in place): returns their count. */
export function compactFinite(src: usize, n: i32): i32 {
  let k = 0;
  for (let i = 0; i < n; i++) {
    const bits = load<u32>(src + (<usize>i << 2));
    if ((bits & 0x7f800000) != 0x7f800000) {
      store<u32>(src + (<usize>k << 2), bits);
      k++;
    }
  }
  return k;
}
