import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ikss } from '../../src/image/stats.js';
import { finiteValues, ikssOfPlane, ikssOfWindow, sortFinite, WINDOW_MIN } from '../../src/kernels/ikss.js';
import { buildWindow, keyOf, OutsideWindow, WINDOW_BUCKETS, windowOf, WindowSorted } from '../../src/kernels/ikss-window.js';
import { ikssKernel } from '../../src/kernels/ikss-wasm.js';
import { Rng } from '../../src/util/random.js';
import { withTS } from '../helpers/kernel.js';

/** Sky: Gaussian noise about `level`, a fraction of bright stars, optionally integer ADU (ties) or some non-finite values. */
function sky(n: number, rng: Rng, o: { level?: number; sigma?: number; stars?: number; integer?: boolean; bad?: number } = {}): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let v = (o.level ?? 1000) + (o.sigma ?? 30) * rng.gauss();
    if (rng.uniform() < (o.stars ?? 0.02)) v += 50000 * rng.uniform() ** 3;
    a[i] = o.integer ? Math.round(v) : v;
    if (rng.uniform() < (o.bad ?? 0)) a[i] = [NaN, Infinity, -Infinity][i % 3]!;
  }
  return a;
}

function sameResult(got: { location: number; scale: number }, want: { location: number; scale: number }, what: string): void {
  assert.ok(Object.is(got.location, want.location), `${what}: location ${got.location} vs ${want.location}`);
  assert.ok(Object.is(got.scale, want.scale), `${what}: scale ${got.scale} vs ${want.scale}`);
}

const sets = (rng: Rng): [string, Float32Array][] => [
  ['sky with stars', sky(300_000, rng)],
  ['integer ADU (ties)', sky(200_000, rng, { level: 650, sigma: 12, integer: true })],
  ['negative values about zero, both zeros', Float32Array.from(sky(200_000, rng, { level: 0, sigma: 3, stars: 0 }), (v, i) => (i % 13 === 0 ? 0 : i % 17 === 0 ? -0 : v))],
  ['flat level, narrow noise', sky(150_001, rng, { level: 22000, sigma: 0.5, stars: 0.001 })],
];

test('the kernel builds the window of buildWindow (bucket starts, values by bucket, key range, count below)', () => {
  const rng = new Rng(21);
  const k = ikssKernel(1 << 20)!;
  assert.ok(k, 'ikss-simd.wasm not loaded');
  for (const [what, a] of sets(rng)) {
    const w = windowOf(a)!;
    assert.ok(w, what);
    const want = buildWindow(a, w.wlo, w.span, w.shift, WINDOW_BUCKETS);
    const cum = Array.from(want.cum);
    const buf = Array.from(want.buf);
    const vals = k.loadPlane(a, WINDOW_BUCKETS)!;
    assert.equal(vals.length, a.length);
    const got = k.window(w.wlo, w.span, w.shift, WINDOW_BUCKETS);
    assert.deepEqual([got.kmin, got.kmax, got.below], [want.kmin, want.kmax, want.below], what);
    assert.deepEqual(Array.from(got.cum), cum, `${what}: bucket starts`);
    assert.equal(got.buf.length, buf.length, what);
    for (let i = 0; i < buf.length; i++) assert.ok(Object.is(got.buf[i], buf[i]), `${what}: window value ${i}: ${got.buf[i]} vs ${buf[i]}`);
  }
  // the finite values of a plane, in order
  const p = sky(100_000, rng, { bad: 0.01 });
  const f = finiteValues(p);
  const kv = k.loadPlane(p, WINDOW_BUCKETS)!;
  assert.ok(f.length < p.length);
  assert.deepEqual(Array.from(kv), Array.from(f));
});

test('WindowSorted reads the sorted values inside its window, -/+Infinity outside, min and max exactly; bounds as a sorted array', () => {
  const rng = new Rng(22);
  for (const [what, a] of sets(rng)) {
    const s = sortFinite(a.slice());
    const n = s.length;
    // a window about the median: a quarter of the values on each side
    const lo = s[n >> 2]!;
    const hi = s[(3 * n) >> 2]!;
    const wlo = keyOf(lo);
    const span = keyOf(hi) - wlo;
    let shift = 0;
    while (span >>> shift >= WINDOW_BUCKETS) shift++;
    const w = new WindowSorted(a, { wlo, span, shift }, buildWindow(a, wlo, span, shift, WINDOW_BUCKETS));
    const first = s.findIndex((v) => keyOf(v) >= wlo);
    const last = n - 1 - [...s].reverse().findIndex((v) => keyOf(v) <= wlo + span);
    for (let i = 0; i < n; i += 97) {
      const want = i === 0 || i === n - 1 || (i >= first && i <= last) ? s[i]! : i < first ? -Infinity : Infinity;
      assert.ok(Object.is(w.at(i), want), `${what}: at(${i}) ${w.at(i)} vs ${want}`);
    }
    assert.ok(Object.is(w.at(0), s[0]) && Object.is(w.at(n - 1), s[n - 1]));
    const lb = (x: number): number => s.findIndex((v) => v >= x);
    const ub = (x: number): number => s.findIndex((v) => v > x);
    // thresholds inside the window: values themselves, between values, a float64 between two float32
    for (const x of [s[n >> 1]!, s[(n >> 1) + 7]! + 1e-9, (s[n >> 1]! + s[(n >> 1) + 1]!) / 2, lo, hi]) {
      assert.equal(w.lowerBound(0, n, x), lb(x), `${what}: lowerBound(${x})`);
      assert.equal(w.upperBound(0, n, x), ub(x), `${what}: upperBound(${x})`);
      assert.equal(w.lowerBound(10, 20, x), Math.min(20, Math.max(10, lb(x))));
    }
    // beyond the extremes: exact; between the extremes outside the window: thrown
    assert.equal(w.lowerBound(0, n, s[0]! - 1), 0);
    assert.equal(w.upperBound(0, n, s[n - 1]!), n);
    assert.throws(() => w.lowerBound(0, n, s[n >> 4]!), OutsideWindow, what);
    assert.throws(() => w.upperBound(0, n, s[n - 1 - (n >> 4)]!), OutsideWindow, what);
  }
  // zeros: -0 and +0 compare equal, as in a sorted array (-0 first)
  const z = Float32Array.from({ length: 1000 }, (_, i) => [-1, -0, 0, 1][i % 4]!);
  const wz = new WindowSorted(z, { wlo: keyOf(-1), span: keyOf(1) - keyOf(-1), shift: 20 }, buildWindow(z, keyOf(-1), keyOf(1) - keyOf(-1), 20, WINDOW_BUCKETS));
  for (const x of [0, -0, -1e-50, 1e-50, -1e-45, 1e-45]) {
    // sorted: 250 x -1, 250 x -0, 250 x +0, 250 x 1
    assert.equal(wz.lowerBound(0, 1000, x), x > 0 ? 750 : 250, `lowerBound(${x})`);
    assert.equal(wz.upperBound(0, 1000, x), x < 0 ? 250 : 750, `upperBound(${x})`);
  }
  assert.ok(Object.is(wz.at(250), -0) && Object.is(wz.at(499), -0) && Object.is(wz.at(500), 0));
});

test('IKSS through the window is image/stats.ts ikss bit for bit; a window too narrow throws, and ikssOfPlane then sorts all values', () => {
  const rng = new Rng(23);
  for (const [what, a] of sets(rng)) {
    const want = ikss(a);
    const w = windowOf(a)!;
    sameResult(ikssOfWindow(a, w), want, `${what} (TS window)`);
    sameResult(ikssOfPlane(a), want, `${what} (kernel)`);
    sameResult(withTS(() => ikssOfPlane(a)), want, `${what} (TS)`);
    // a window of the middle 2% of the values: the clipping bounds leave it
    const s = sortFinite(a.slice());
    const wlo = keyOf(s[Math.floor(0.49 * s.length)]!);
    const span = keyOf(s[Math.floor(0.51 * s.length)]!) - wlo;
    let shift = 0;
    while (span >>> shift >= WINDOW_BUCKETS) shift++;
    assert.throws(() => ikssOfWindow(a, { wlo, span, shift }), OutsideWindow, what);
  }
  // non-finite values (the kernel keeps the finite ones of its copy), and a bimodal set whose window leaves the values
  const bad = sky(WINDOW_MIN * 3, rng, { bad: 0.01 });
  sameResult(ikssOfPlane(bad), ikss(bad), 'non-finite values');
  sameResult(withTS(() => ikssOfPlane(bad)), ikss(bad), 'non-finite values (TS)');
  const two = Float32Array.from(sky(WINDOW_MIN * 2, rng, { sigma: 1, stars: 0 }), (v, i) => (i % 2 ? v : v + 1e5));
  sameResult(ikssOfPlane(two), ikss(two), 'bimodal');
});

test('a kernel under IKSS_KEEP_BYTES is kept between estimates of the same size: its memory does not grow again', () => {
  const rng = new Rng(24);
  const a = sky(1 << 19, rng);
  ikssOfPlane(a);
  const k = ikssKernel(1);
  const bytes = k!.bytes();
  const b = sky(1 << 19, rng, { level: 300 });
  sameResult(ikssOfPlane(b), ikss(b), 'second plane');
  assert.equal(ikssKernel(1), k);
  assert.equal(k!.bytes(), bytes);
});
