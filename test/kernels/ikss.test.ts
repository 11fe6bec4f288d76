import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ikss, RADIX_MIN } from '../../src/image/stats.js';
import { finiteValues, ikssOfFinite, sortFinite } from '../../src/kernels/ikss.js';
import { Rng } from '../../src/util/random.js';

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

function same(plane: Float32Array, what: string): void {
  const want = ikss(plane);
  const got = ikssOfFinite(finiteValues(plane));
  assert.ok(Object.is(got.location, want.location), `${what}: location ${got.location} vs ${want.location}`);
  assert.ok(Object.is(got.scale, want.scale), `${what}: scale ${got.scale} vs ${want.scale}`);
}

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
