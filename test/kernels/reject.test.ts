import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runPython } from '../helpers/env.js';
import {
  studentTQuantile,
  gesdCritical,
  medianSorted,
  madSorted,
  rejectValues,
  REJECT_CODES,
  type RejectParams,
  type RejectName,
} from '../../src/kernels/index.js';
import { Rng } from '../../src/util/random.js';

const BASE: RejectParams = {
  reject: 0,
  sigmaLow: 4,
  sigmaHigh: 3,
  winsorCutoff: 5,
  linearLow: 5,
  linearHigh: 4,
  percentileLow: 0.2,
  percentileHigh: 0.1,
  minmaxLow: 1,
  minmaxHigh: 1,
  gesdFraction: 0.3,
  gesdAlpha: 0.05,
  clipLow: true,
  clipHigh: true,
};
const P = (name: RejectName, extra: Partial<RejectParams> = {}): RejectParams => ({ ...BASE, reject: REJECT_CODES[name], ...extra });

test('Student t quantile matches scipy.stats.t.ppf', () => {
  const cases: [number, number][] = [
    [0.975, 1], [0.975, 2], [0.995, 3], [0.9, 7], [0.99875, 17], [0.05, 5], [0.999, 30], [0.6, 100], [0.9999, 4],
  ];
  const ref = JSON.parse(
    runPython(`import json,sys; from scipy.stats import t; c=json.loads(sys.argv[1]); print(json.dumps([t.ppf(p,d) for p,d in c]))`, [JSON.stringify(cases)]),
  ) as number[];
  cases.forEach(([p, df], k) => {
    const got = studentTQuantile(p, df);
    assert.ok(Math.abs(got - ref[k]!) <= 1e-8 * Math.max(1, Math.abs(ref[k]!)), `t(${p}, ${df}) = ${got}, scipy ${ref[k]}`);
  });
});

test('GESD critical values match Rosner formula with scipy quantiles', () => {
  const ref = JSON.parse(
    runPython(`
import json
from scipy.stats import t
out=[]
for n in (10, 20, 35):
  for i in range(0, 5):
    p = 1 - 0.05/(2*(n-i)); q = t.ppf(p, n-i-2)
    out.append(q*(n-i-1)/((n-i-2+q*q)*(n-i))**0.5)
print(json.dumps(out))`),
  ) as number[];
  let k = 0;
  for (const n of [10, 20, 35]) for (let i = 0; i < 5; i++) {
    const got = gesdCritical(n, i, 0.05);
    assert.ok(Math.abs(got - ref[k]!) < 1e-8, `lambda(${n},${i}) = ${got}, ref ${ref[k]}`);
    k++;
  }
});

test('median and MAD of sorted slices agree with brute force', () => {
  const rng = new Rng(3);
  for (let trial = 0; trial < 200; trial++) {
    const n = 1 + rng.int(25);
    const a = Array.from({ length: n }, () => Math.round(rng.gauss() * 10));
    a.sort((x, y) => x - y);
    const v = Float64Array.from(a);
    const med = n % 2 ? a[(n - 1) / 2]! : (a[n / 2 - 1]! + a[n / 2]!) / 2;
    assert.equal(medianSorted(v, 0, n), med);
    const d = a.map((x) => Math.abs(x - med)).sort((x, y) => x - y);
    const mad = n % 2 ? d[(n - 1) / 2]! : (d[n / 2 - 1]! + d[n / 2]!) / 2;
    assert.equal(madSorted(v, 0, n, med), mad);
  }
});

/** 20 clean values ~ N(1000, 10) (fixed), plus one hot and one cold outlier at the end. */
function stackWithOutliers(hot: number | null = 2000, cold: number | null = 500): number[] {
  // evenly spread clean values (std ~10.4, all within 1.7 sigma), shuffled
  const rng = new Rng(11);
  const v = Array.from({ length: 20 }, (_, k) => 1000 + (k - 9.5) * 1.8);
  for (let k = v.length - 1; k > 0; k--) {
    const j = rng.int(k + 1);
    [v[k], v[j]] = [v[j]!, v[k]!];
  }
  v.push(hot ?? NaN, cold ?? NaN);
  return v;
}

for (const name of ['sigma', 'winsorized', 'mad', 'gesd', 'linear-fit', 'averaged-sigma', 'percentile'] as const) {
  test(`${name}: the hot and the cold outlier are rejected, the 20 clean values kept`, () => {
    const v = stackWithOutliers();
    const r = rejectValues(v, P(name));
    assert.equal(r[20], 1, 'hot rejected high');
    assert.equal(r[21], -1, 'cold rejected low');
    for (let k = 0; k < 20; k++) assert.equal(r[k], 0, `clean value ${k} (${v[k]}) kept`);
  });
  test(`${name}: clip-low off keeps the cold outlier, clip-high off keeps the hot one`, () => {
    const a = rejectValues(stackWithOutliers(), P(name, { clipLow: false }));
    assert.equal(a[21], 0, 'cold kept');
    assert.equal(a[20], 1, 'hot still rejected');
    const onlyCold = rejectValues(stackWithOutliers(null, 500), P(name, { clipLow: false }));
    assert.equal(onlyCold.filter((x) => x !== 0).length, 0);
    const onlyHot = rejectValues(stackWithOutliers(2000, null), P(name, { clipHigh: false }));
    assert.equal(onlyHot.filter((x) => x !== 0).length, 0);
    const hotOn = rejectValues(stackWithOutliers(2000, null), P(name, { clipLow: false }));
    assert.equal(hotOn[20], 1);
  });
}

test('sigma clipping follows the definition: bounds from median and std of what remains, iterated', () => {
  // 1..9 and 30: median 5.5, std(all) = 7.74 -> 30 - 5.5 = 24.5 > 3*7.74=23.2: rejected;
  // then 1..9: median 5, std 2.58, bounds [5-4*2.58, 5+3*2.58] = [-5.3, 12.7]: nothing more.
  const r = rejectValues([1, 2, 3, 4, 5, 6, 7, 8, 9, 30], P('sigma'));
  assert.deepEqual([...r], [0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
  // with kh = 3.2 the first pass keeps 30 (24.5 < 24.8)
  const r2 = rejectValues([1, 2, 3, 4, 5, 6, 7, 8, 9, 30], P('sigma', { sigmaHigh: 3.2 }));
  assert.deepEqual([...r2], [0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
});

test('min/max drops exactly the n lowest and n highest', () => {
  const r = rejectValues([5, 1, 9, 3, 7, 2, 8], P('minmax', { minmaxLow: 2, minmaxHigh: 1 }));
  assert.deepEqual([...r], [0, -1, 1, 0, 0, -1, 0]);
  // not enough values: nothing dropped
  assert.deepEqual([...rejectValues([1, 2, 3], P('minmax', { minmaxLow: 2, minmaxHigh: 1 }))], [0, 0, 0]);
});

test('percentile clipping uses relative distance from the median', () => {
  // median 100; low bound 100*(1-0.2)=80 (strict), high 100*(1+0.1)=110 (strict)
  const r = rejectValues([79, 80, 100, 100, 100, 110, 111], P('percentile'));
  assert.deepEqual([...r], [-1, 0, 0, 0, 0, 0, 1]);
});

test('range-free: NaN values are ignored, not rejected', () => {
  const r = rejectValues([1, NaN, 2, 3, NaN], P('sigma'));
  assert.deepEqual([...r], [0, 0, 0, 0, 0]);
});

test('GESD rejects several outliers on one side up to the fraction', () => {
  const rng = new Rng(5);
  const v = Array.from({ length: 20 }, () => 100 + rng.gauss());
  v.push(150, 160, 170);
  const r = rejectValues(v, P('gesd'));
  assert.deepEqual([...r.slice(20)], [1, 1, 1]);
  assert.equal(r.slice(0, 20).filter((x) => x !== 0).length, 0);
  // a fraction too small for 3 outliers tests only 2 removals: masking keeps the 3rd from being significant
  const r2 = rejectValues(v, P('gesd', { gesdFraction: 0.05 }));
  assert.equal(r2.filter((x) => x !== 0).length <= 1, true);
});

test('linear fit rejects an outlier even in a steep sorted sequence', () => {
  const v = Array.from({ length: 15 }, (_, j) => 100 + 10 * j + (j % 3) - 1);
  v.push(1000);
  const r = rejectValues(v, P('linear-fit'));
  assert.equal(r[15], 1);
  assert.equal(r.slice(0, 15).filter((x) => x !== 0).length, 0);
});
