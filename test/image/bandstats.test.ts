import { test } from 'node:test';
import assert from 'node:assert/strict';
import { arrayScan, rowScan, streamIkss, streamMedian, streamPlaneStats, type BandScan } from '../../src/image/bandstats.js';
import { ikss, planeStats, median, mad } from '../../src/image/stats.js';
import { copyFinite } from '../../src/kernels/select.js';
import { Rng } from '../../src/util/random.js';

function plane(n: number, seed: number, bad: number): Float32Array {
  const rng = new Rng(seed);
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const u = rng.uniform();
    a[i] = u < bad ? [NaN, Infinity, -Infinity][i % 3]! : u < 0.05 ? 5000 * rng.uniform() : 1000 + 20 * rng.gauss();
  }
  return a;
}

/** The plane as width x height rows, scanned `rows` rows at a time. */
function scanOf(a: Float32Array, width: number, rows: number): BandScan {
  const height = a.length / width;
  return rowScan({ width, height, readRows: (_c, y0, y1, out) => out.set(a.subarray(y0 * width, y1 * width)) }, [0], rows);
}

test('streamed plane statistics equal planeStats bit for bit, whatever the band height', () => {
  for (const [n, w, bad] of [[10, 5, 0.2], [5000, 50, 0.1], [40000, 200, 0], [40000, 200, 0.3]] as const) {
    const a = plane(n, n + w, bad);
    const ref = planeStats(a);
    for (const rows of [1, 7, n / w]) {
      const s = streamPlaneStats(scanOf(a, w, rows));
      for (const k of Object.keys(ref) as (keyof typeof ref)[]) assert.ok(Object.is(s[k], ref[k]), `n=${n} rows=${rows} ${k}: ${s[k]} vs ${ref[k]}`);
    }
  }
  const none = streamPlaneStats(arrayScan(new Float32Array([NaN, Infinity])));
  assert.equal(none.count, 0);
  assert.ok(Number.isNaN(none.median));
});

test('streamed IKSS equals ikss bit for bit, streaming some iterations or none', () => {
  for (const [n, bad] of [[30000, 0.05], [60000, 0], [3000, 0.1]] as const) {
    const a = plane(n, 7 + n, bad);
    const ref = ikss(a);
    for (const fit of [0, 10000, 1e9]) {
      const r = streamIkss(scanOf(a, 100, 13), fit);
      assert.ok(Object.is(r.location, ref.location) && Object.is(r.scale, ref.scale), `n=${n} fit=${fit}: ${JSON.stringify(r)} vs ${JSON.stringify(ref)}`);
    }
  }
  assert.ok(Number.isNaN(streamIkss(arrayScan(new Float32Array([NaN])), 0).location));
});

test('streamed median and MAD of the finite values equal the in-memory ones', () => {
  const a = plane(50001, 3, 0.02);
  const { buf, n } = copyFinite(a);
  const fin = buf.subarray(0, n) as Float32Array;
  const m = median(fin);
  const sm = streamMedian(scanOf(a.subarray(0, 50000), 100, 9));
  const fin0 = copyFinite(a.subarray(0, 50000));
  assert.ok(Object.is(sm.median, median(fin0.buf.subarray(0, fin0.n))));
  const whole = streamMedian(arrayScan(a));
  assert.ok(Object.is(whole.median, m));
  const sMad = streamMedian(arrayScan(a), { lo: -Infinity, hi: Infinity, center: m }).median;
  assert.ok(Object.is(sMad, mad(fin, m)));
});
