import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ikss, RADIX_MIN } from '../../src/image/stats.js';
import { finiteValues, ikssOfFinite, ikssOfPlane, sortFinite } from '../../src/kernels/ikss.js';
import { IKSS_KEEP_BYTES, ikssKernel } from '../../src/kernels/ikss-wasm.js';
import { Rng } from '../../src/util/random.js';
import { withTS } from '../helpers/kernel.js';

/** A sky plane: Gaussian noise about `level`, `stars` bright outliers, optionally integer ADU (many ties). */
function sky(n: number, rng: Rng, o: { level?: number; sigma?: number; stars?: number; integer?: boolean; bad?: number } = {}): Float32Array {
  const a = new Float32Array(n);
  const level = o.level ?? 1000;
  const sigma = o.sigma ?? 30;
  for (let i = 0; i < n; i++) {
    let v = level + sigma * rng.gauss();
    if (rng.uniform() < (o.stars ?? 0)) v += 5000 * rng.uniform() ** 3 * 10;
    a[i] = o.integer ? Math.round(v) : v;
    if (rng.uniform() < (o.bad ?? 0)) a[i] = [NaN, Infinity, -Infinity][i % 3]!;
  }
  return a;
}

/** ikssOfFinite (the WASM kernel, and the TS reference with DARKROOM_KERNEL=ts) is image/stats.ts's ikss bit for bit. */
function same(plane: Float32Array, what: string): void {
  const want = ikss(plane);
  for (const [how, got] of [['kernel', ikssOfFinite(finiteValues(plane))], ['ts', withTS(() => ikssOfFinite(finiteValues(plane)))]] as const) {
    assert.ok(Object.is(got.location, want.location), `${what} (${how}): location ${got.location} vs ${want.location}`);
    assert.ok(Object.is(got.scale, want.scale), `${what} (${how}): scale ${got.scale} vs ${want.scale}`);
  }
}

test('the IKSS kernel (ikss-simd.wasm) is built and loaded; DARKROOM_KERNEL=ts selects the TS reference', () => {
  assert.ok(ikssKernel(1000), 'ikss-simd.wasm not loaded (node scripts/build-wasm.mjs)');
  assert.equal(withTS(() => ikssKernel(1000)), null);
});

test('the kernel sorts as sortFinite, bit for bit (wide and narrow ranges, negative values, -0 and +0, ties, one value; values kept or not)', () => {
  const rng = new Rng(9);
  const sets: [string, Float32Array][] = [
    ['sky with stars (3 digits)', Float32Array.from({ length: 200_001 }, () => 650 + 48 * rng.gauss() + (rng.uniform() < 0.01 ? 50000 * rng.uniform() ** 3 : 0))],
    ['narrow (2 digits)', Float32Array.from({ length: 100_000 }, () => 1000 + rng.gauss())],
    ['signs, zeros, ties', Float32Array.from({ length: 50_000 }, (_, i) => (i % 7 === 0 ? 0 : i % 11 === 0 ? -0 : Math.round(rng.gauss() * 1e4) / 8))],
    ['extremes', Float32Array.from({ length: 30_000 }, (_, i) => [3.4e38, -3.4e38, 1e-45, -1e-45, 0][i % 5]! * (1 + (i % 3)) / 3)],
    ['constant', new Float32Array(5000).fill(-2.5)],
    ['one value', new Float32Array([42])],
  ];
  for (const [what, a] of sets) {
    const k = ikssKernel(a.length)!;
    const before = a.slice();
    const want = sortFinite(a);
    // with the values kept for the biweight sums, and sorted in place of their copy (the largest sets)
    for (const keep of [true, false]) {
      const got = k.load(a, keep)!;
      assert.equal(got.length, a.length);
      for (let i = 0; i < a.length; i++) assert.ok(Object.is(got[i], want[i]), `${what} (keep ${keep}), index ${i}: ${got[i]} vs ${want[i]}`);
    }
    assert.throws(() => k.biweight(0, 1, 0, 1, new Float64Array(2)), /not kept/);
    assert.deepEqual(a, before, 'the input is not modified');
  }
});

test('a kernel grown past IKSS_KEEP_BYTES is dropped after an estimate; a small one is kept', () => {
  const rng = new Rng(4);
  const small = sky(100_000, rng, { stars: 0.01 });
  ikssOfFinite(small);
  const k0 = ikssKernel(1);
  ikssOfFinite(small);
  assert.equal(ikssKernel(1), k0, 'a small kernel is kept');
  // the kernel's memory holds two arrays of the plane (its finite values and the window's)
  const big = sky(Math.ceil(IKSS_KEEP_BYTES / 8) + 1000, rng, { stars: 0.01 });
  same(big, 'past the kept size');
  assert.notEqual(ikssKernel(1), k0, 'the grown kernel was dropped');
  const k1 = ikssKernel(1)!;
  ikssOfPlane(big);
  assert.notEqual(ikssKernel(1), k1, 'dropped again after an estimate of a plane');
});

test('sortFinite sorts float32 values ascending (negative, zero, ties), as a numeric sort', () => {
  const rng = new Rng(5);
  const a = Float32Array.from({ length: 50_000 }, (_, i) => (i % 7 === 0 ? 0 : i % 11 === 0 ? -0 : Math.round(rng.gauss() * 1e4) / 8));
  const want = a.slice().sort();
  const got = sortFinite(a);
  assert.equal(got.length, a.length);
  for (let i = 0; i < a.length; i++) assert.ok(got[i] === want[i], `index ${i}: ${got[i]} vs ${want[i]}`);
});

test('ikssOfFinite: the IKSS of image/stats.ts bit for bit (sky with stars, integer ADU, non-finite, small and tiny sets)', () => {
  const rng = new Rng(11);
  same(sky(300_000, rng, { stars: 0.01 }), 'sky with stars');
  same(sky(300_001, rng, { stars: 0.01 }), 'odd count (the kernel\'s last value alone)');
  same(sky(300_000, rng, { stars: 0.02, integer: true, level: 650, sigma: 12 }), 'integer ADU');
  same(sky(200_000, rng, { stars: 0.01, bad: 0.001 }), 'non-finite values');
  same(sky(RADIX_MIN + 300, rng, { stars: 0.2 }), 'clipped below RADIX_MIN on the way');
  same(sky(RADIX_MIN - 1, rng, { stars: 0.05 }), 'below RADIX_MIN from the start');
  same(sky(200_000, rng, { level: -40, sigma: 3 }), 'negative values about zero');
  same(new Float32Array(10_000).fill(7), 'constant (MAD 0)');
  same(Float32Array.from({ length: 10_000 }, (_, i) => (i % 2 ? 1 : 2)), 'two values');
  same(new Float32Array([NaN, Infinity]), 'no finite value');
});

test('ikssOfFinite of Gaussian noise: location and scale of the distribution', () => {
  const rng = new Rng(3);
  const r = ikssOfFinite(sky(1_000_000, rng, { level: 1000, sigma: 30 }));
  // 1e6 samples: standard errors of about 0.04 (location) and 0.03 (scale)
  assert.ok(Math.abs(r.location - 1000) < 0.2, `location ${r.location}`);
  assert.ok(Math.abs(r.scale - 30) < 0.3, `scale ${r.scale}`);
});
