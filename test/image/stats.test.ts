/**
 * src/image/stats.ts against numpy / astropy (Debian python3) on random and real-shaped data,
 * relative 1e-6; IKSS against the true values of a contaminated Gaussian and a numpy transcription
 * of its definition; edge cases (empty, all NaN, constant) and input immutability.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileTempDir, runPython } from '../helpers/env.js';
import { Rng } from '../../src/util/random.js';
import {
  biweightLocation,
  biweightMidvariance,
  ikss,
  mad,
  madStd,
  mean,
  median,
  minMax,
  planeStats,
  sigmaClippedStats,
  stdev,
} from '../../src/image/stats.js';

function close(actual: number, expected: number, rel: number, what: string): void {
  const tol = rel * Math.max(Math.abs(expected), 1e-300);
  assert.ok(Math.abs(actual - expected) <= tol, `${what}: got ${actual}, expected ${expected} (rel ${rel})`);
}

/** Named data sets; every one is also handed to Python as float64 little-endian. */
function datasets(): Record<string, Float64Array | Float32Array> {
  const rng = new Rng(20240611);
  const sets: Record<string, Float64Array | Float32Array> = {};
  const gauss = (n: number, mu: number, s: number): Float64Array => {
    const a = new Float64Array(n);
    for (let i = 0; i < n; i++) a[i] = mu + s * rng.gauss();
    return a;
  };
  sets.gaussOdd = gauss(10001, 100, 5);
  sets.gaussEven = gauss(10000, -3, 0.25);
  const out = gauss(8000, 1000, 20);
  for (let i = 0; i < out.length; i++) {
    const u = rng.uniform();
    if (u < 0.04) out[i] = 1000 + 20 * (10 + 200 * rng.uniform()); // hot pixels, cosmic rays
    else if (u < 0.05) out[i] = 1000 - 20 * (10 + 30 * rng.uniform()); // dead/cold pixels
  }
  sets.outliers = out;
  const nan = gauss(6000, 50, 3);
  for (let i = 0; i < nan.length; i++) if (rng.uniform() < 0.03) nan[i] = NaN;
  nan[0] = NaN;
  sets.withNaN = nan;
  const nanOdd = gauss(4001, 7, 1);
  for (let i = 0; i < nanOdd.length; i += 17) nanOdd[i] = NaN;
  sets.withNaNOdd = nanOdd;
  // Integer counts with many ties.
  const pois = new Float64Array(5001);
  for (let i = 0; i < pois.length; i++) pois[i] = rng.poisson(4);
  sets.poissonTies = pois;
  sets.tiny = Float64Array.from([3, -1, 2]);
  sets.pair = Float64Array.from([5, 1]);
  // A sky: background with a gradient, Gaussian noise, a few bright stars; as float32 like a plane.
  const W = 160;
  const H = 120;
  const sky = new Float32Array(W * H);
  const stars: Array<[number, number, number]> = [];
  for (let s = 0; s < 12; s++) stars.push([5 + rng.uniform() * (W - 10), 5 + rng.uniform() * (H - 10), 500 + 30000 * rng.uniform()]);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      let v = 800 + 0.8 * x + 0.3 * y;
      for (const [sx, sy, f] of stars) {
        const r2 = (x - sx) ** 2 + (y - sy) ** 2;
        if (r2 < 100) v += f * Math.exp(-r2 / (2 * 1.5 * 1.5));
      }
      sky[y * W + x] = v + 12 * rng.gauss();
    }
  }
  sets.sky = sky;
  return sets;
}

const PY = String.raw`
import json, sys, warnings
import numpy as np
from astropy.stats import mad_std, median_absolute_deviation, biweight_midvariance, biweight_location, sigma_clipped_stats
warnings.simplefilter('ignore')
d = sys.argv[1]
names = sys.argv[2].split(',')
out = {}
def ikss(x):
    x = np.sort(x[np.isfinite(x)])
    s0 = None
    while True:
        m = np.median(x)
        s = np.sqrt(biweight_midvariance(x, c=9.0, M=m))
        if s0 is not None and abs(s - s0) / s < 1e-6:
            return m, 0.991 * s
        s0 = s
        x = x[(x >= m - 4 * s) & (x <= m + 4 * s)]
for n in names:
    x = np.fromfile(d + '/' + n + '.f64', dtype='<f8')
    r = {}
    r['median'] = np.nanmedian(x)
    r['mean'] = np.nanmean(x)
    r['std0'] = np.nanstd(x)
    r['std1'] = np.nanstd(x, ddof=1)
    r['min'] = np.nanmin(x)
    r['max'] = np.nanmax(x)
    r['mad'] = median_absolute_deviation(x, ignore_nan=True)
    r['madStd'] = mad_std(x, ignore_nan=True)
    r['madAt'] = np.nanmedian(np.abs(x - (np.nanmean(x) + 0.1)))
    r['bwmv'] = biweight_midvariance(x, ignore_nan=True)
    r['bwmvM'] = biweight_midvariance(x, c=6.0, M=np.nanmean(x), ignore_nan=True)
    r['bwloc'] = biweight_location(x, ignore_nan=True)
    r['bwlocM'] = biweight_location(x, c=9.0, M=np.nanmean(x), ignore_nan=True)
    m, med, s = sigma_clipped_stats(x)
    r['sc'] = [m, med, s]
    m, med, s = sigma_clipped_stats(x, sigma=2.0, maxiters=None)
    r['sc2'] = [m, med, s]
    r['count'] = int(np.isfinite(x).sum())
    r['ikss'] = list(ikss(x)) if len(x) > 100 else None
    out[n] = {k: (float(v) if isinstance(v, (float, np.floating)) else v) for k, v in r.items()}
print(json.dumps(out))
`;

describe('statistics match numpy/astropy to 1e-6 (Gaussian, outliers, NaN, ties, even/odd, sky)', () => {
  const dir = fileTempDir();
  const sets = datasets();
  const names = Object.keys(sets);
  const copies = new Map(names.map((n) => [n, sets[n]!.slice()]));
  const R = 1e-6;
  let ref: Record<string, Record<string, number & number[]>> = {};
  before(() => {
    for (const n of names) {
      const a = sets[n]!;
      const f64 = a instanceof Float64Array ? a : Float64Array.from(a);
      writeFileSync(join(dir, `${n}.f64`), new Uint8Array(f64.buffer, f64.byteOffset, f64.byteLength));
    }
    ref = JSON.parse(runPython(PY, [dir, names.join(',')]));
  });
  /** Run `check` on every data set with its reference values. */
  const each = (check: (n: string, a: Float64Array | Float32Array, r: Record<string, number & number[]>) => void): void => {
    for (const n of names) check(n, sets[n]!, ref[n]!);
  };

  test('median, mean, standard deviation (ddof 0 and 1), min and max', () => each((n, a, r) => {
    close(median(a), r.median, R, `${n} median`);
    close(mean(a), r.mean, R, `${n} mean`);
    close(stdev(a), r.std0, R, `${n} std ddof 0`);
    close(stdev(a, 1), r.std1, R, `${n} std ddof 1`);
    const mm = minMax(a);
    assert.equal(mm.min, r.min, `${n} min`);
    assert.equal(mm.max, r.max, `${n} max`);
  }));

  test('MAD, MAD standard deviation, MAD about a given centre', () => each((n, a, r) => {
    close(mad(a), r.mad, R, `${n} mad`);
    close(madStd(a), r.madStd, R, `${n} mad_std`);
    close(mad(a, mean(a) + 0.1), r.madAt, R, `${n} mad about a given centre`);
  }));

  test('biweight midvariance and location, default and with c and M given', () => each((n, a, r) => {
    close(biweightMidvariance(a), r.bwmv, R, `${n} biweight_midvariance`);
    close(biweightMidvariance(a, 6, mean(a)), r.bwmvM, R, `${n} biweight_midvariance c=6 M=mean`);
    close(biweightLocation(a), r.bwloc, R, `${n} biweight_location`);
    close(biweightLocation(a, 9, mean(a)), r.bwlocM, R, `${n} biweight_location c=9 M=mean`);
  }));

  test('sigma-clipped statistics (3 sigma, and 2 sigma below / none above)', () => each((n, a, r) => {
    const sc = sigmaClippedStats(a);
    close(sc.mean, r.sc[0]!, R, `${n} sigma_clipped_stats mean`);
    close(sc.median, r.sc[1]!, R, `${n} sigma_clipped_stats median`);
    close(sc.stdev, r.sc[2]!, R, `${n} sigma_clipped_stats std`);
    const sc2 = sigmaClippedStats(a, 2, Infinity);
    close(sc2.mean, r.sc2[0]!, R, `${n} sigma_clipped_stats(2, None) mean`);
    close(sc2.median, r.sc2[1]!, R, `${n} sigma_clipped_stats(2, None) median`);
    close(sc2.stdev, r.sc2[2]!, R, `${n} sigma_clipped_stats(2, None) std`);
  }));

  test('planeStats: count, mean, median, stdev, MAD, min, max', () => each((n, a, r) => {
    const ps = planeStats(a);
    assert.equal(ps.count, r.count, `${n} planeStats count`);
    close(ps.mean, r.mean, R, `${n} planeStats mean`);
    close(ps.median, r.median, R, `${n} planeStats median`);
    close(ps.stdev, r.std0, R, `${n} planeStats stdev`);
    close(ps.mad, r.mad, R, `${n} planeStats mad`);
    assert.equal(ps.min, r.min);
    assert.equal(ps.max, r.max);
  }));

  test('IKSS location and scale equal the numpy transcription (sets over 100 values)', () => each((n, a, r) => {
    if (r.ikss !== null) {
      const k = ikss(a);
      close(k.location, r.ikss[0]!, R, `${n} ikss location vs numpy transcription`);
      close(k.scale, r.ikss[1]!, R, `${n} ikss scale vs numpy transcription`);
    }
  }));

  // after the tests above have run every statistic on the sets
  test('no statistic modifies its input', () => each((n, a) => assert.deepEqual(a, copies.get(n), `${n} input must not be modified`)));

  test('the number[] path gives the same answers as the typed-array path', () => {
    const arr = Array.from(sets.withNaN!);
    close(median(arr), ref.withNaN!.median, R, 'number[] median');
    close(biweightMidvariance(arr), ref.withNaN!.bwmv, R, 'number[] bwmv');
  });
});

test('IKSS recovers location and scale of a Gaussian with 5% outliers within 1%', () => {
  const rng = new Rng(7);
  const mu = 1000;
  const sigma = 20;
  const n = 100000;
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const u = rng.uniform();
    if (u < 0.035) a[i] = mu + sigma * (8 + 500 * rng.uniform()); // stars, hot pixels
    else if (u < 0.05) a[i] = mu - sigma * (8 + 40 * rng.uniform()); // cold pixels
    else a[i] = mu + sigma * rng.gauss();
  }
  const k = ikss(a);
  assert.ok(Math.abs(k.location - mu) < 0.01 * sigma, `location ${k.location} vs ${mu}`);
  assert.ok(Math.abs(k.scale / sigma - 1) < 0.01, `scale ${k.scale} vs ${sigma}`);
  // The contamination is strong enough to ruin the plain estimators the test is meant to beat.
  assert.ok(Math.abs(stdev(a) / sigma - 1) > 1, `stdev ${stdev(a)} should be far off`);
  assert.ok(Math.abs(mean(a) - mu) > sigma, `mean ${mean(a)} should be far off`);
});

test('edge cases: empty, all NaN, constant, infinities, single value', () => {
  for (const a of [new Float32Array(0), Float64Array.from([NaN, NaN]), [] as number[]]) {
    assert.ok(Number.isNaN(median(a)));
    assert.ok(Number.isNaN(mean(a)));
    assert.ok(Number.isNaN(stdev(a)));
    assert.ok(Number.isNaN(mad(a)));
    assert.ok(Number.isNaN(biweightLocation(a)));
    assert.ok(Number.isNaN(biweightMidvariance(a)));
    assert.ok(Number.isNaN(minMax(a).min) && Number.isNaN(minMax(a).max));
    assert.ok(Number.isNaN(ikss(a).location));
    assert.ok(Number.isNaN(sigmaClippedStats(a).median));
    const ps = planeStats(a);
    assert.equal(ps.count, 0);
    assert.ok(Number.isNaN(ps.median));
  }
  const c = new Float32Array(101).fill(42);
  assert.equal(median(c), 42);
  assert.equal(mad(c), 0);
  assert.equal(biweightMidvariance(c), 0);
  assert.equal(biweightLocation(c), 42);
  assert.equal(biweightLocation(c, 6, 40), 40); // astropy returns M when MAD = 0
  assert.deepEqual(ikss(c), { location: 42, scale: 0 });
  assert.deepEqual(sigmaClippedStats(c), { mean: 42, median: 42, stdev: 0 });
  assert.equal(stdev([5]), 0);
  assert.ok(Number.isNaN(stdev([5], 1)), 'ddof 1 of one value is NaN (numpy)');
  // planeStats and sigmaClippedStats skip +-Infinity; median keeps them (numpy nanmedian does).
  const inf = Float64Array.from([1, 2, 3, Infinity, -Infinity, NaN, 4]);
  const ps = planeStats(inf);
  assert.deepEqual([ps.count, ps.min, ps.max, ps.median, ps.mean], [4, 1, 4, 2.5, 2.5]);
  assert.equal(median(inf), 2.5);
  assert.equal(sigmaClippedStats(inf).median, 2.5);
});
