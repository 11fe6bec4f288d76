import { test } from 'node:test';
import assert from 'node:assert/strict';
import { integrateBand, type BandParams } from '../../src/kernels/band.js';
import { integrateBandWasm, wasmHandles, wasmModule } from '../../src/kernels/wasm.js';
import { REJECT_CODES } from '../../src/kernels/reject.js';
import { rejectByCount, resolveOptions, type Reject } from '../../src/integrate/options.js';
import { Rng } from '../../src/util/random.js';
import { bits, runBand } from '../helpers/band.js';

function params(n: number, reject: Reject, combine: number, rng: Rng): BandParams {
  const o = resolveOptions({ reject });
  const ra = Float64Array.from({ length: n }, () => 0.9 + 0.2 * rng.uniform());
  const rb = Float64Array.from({ length: n }, () => 20 * rng.gauss());
  return {
    n, combine, reject: REJECT_CODES[reject], sigmaLow: 3, sigmaHigh: 2.5, winsorCutoff: 5, linearLow: 5, linearHigh: 4,
    percentileLow: 0.2, percentileHigh: 0.1, minmaxLow: 1, minmaxHigh: 1, gesdFraction: 0.3, gesdAlpha: 0.05,
    clipLow: true, clipHigh: true, rangeLow: -Infinity, rangeHigh: Infinity, ra, rb, ca: ra.slice(), cb: rb.slice(),
    w: Float64Array.from({ length: n }, () => 0.5 + rng.uniform()),
    rejectFor: Int32Array.from(rejectByCount(o, n), (r) => REJECT_CODES[r]),
  };
}

/** Pixel stacks where each value is NaN, +Inf or -Inf with probability `bad` (some pixels all bad). */
function stack(n: number, npix: number, rng: Rng, bad: number): Float32Array {
  const d = new Float32Array(n * npix);
  const nasty = [NaN, Infinity, -Infinity];
  for (let p = 0; p < npix; p++) {
    const allBad = rng.uniform() < 0.01;
    for (let i = 0; i < n; i++) {
      let x = 1000 + 30 * rng.gauss();
      if (rng.uniform() < 0.05) x += 2000 * rng.uniform();
      if (allBad || rng.uniform() < bad) x = nasty[rng.int(3)]!;
      d[i * npix + p] = x;
    }
  }
  return d;
}

const run = runBand;

test('per-pixel fallback and non-finite values: WASM and TS reference agree bit for bit', () => {
  assert.ok(wasmModule(), 'WASM kernel not built');
  const rng = new Rng(21);
  for (const reject of ['winsorized', 'sigma', 'none'] as const) {
    for (const combine of [0, 1]) {
      for (const n of [3, 4, 5, 8]) {
        const P = params(n, reject, combine, rng);
        // with too few frames for the algorithm (winsorized, 3), its fallback (percentile) runs in the kernel too
        assert.equal(wasmHandles(P), true, `${reject} n=${n}`);
        const npix = 3001;
        const data = stack(n, npix, rng, 0.15);
        const a = run(integrateBand, data, npix, P);
        const b = run(integrateBandWasm, data, npix, P);
        const ctx = `${reject} combine=${combine} n=${n}`;
        assert.ok(bits(a.out).equals(bits(b.out)), `${ctx}: result`);
        assert.ok(bits(a.rejLow!).equals(bits(b.rejLow!)) && bits(a.rejHigh!).equals(bits(b.rejHigh!)), `${ctx}: maps`);
        assert.deepEqual([b.frameLow, b.frameHigh, b.nonFinite, b.noValue], [a.frameLow, a.frameHigh, a.nonFinite, a.noValue], ctx);
        // every result is finite except where no frame has a finite value
        let empty = 0;
        for (let p = 0; p < npix; p++) {
          let fin = 0;
          for (let i = 0; i < n; i++) if (Number.isFinite(data[i * npix + p]!)) fin++;
          if (fin === 0) empty++;
          assert.equal(Number.isFinite(a.out[p]!), fin > 0, `${ctx} pixel ${p}: ${a.out[p]} with ${fin} finite values`);
        }
        assert.equal(a.noValue![0], empty);
        let nf = 0;
        for (const x of data) if (!Number.isFinite(x)) nf++;
        assert.equal(a.nonFinite!.reduce((s, x) => s + x, 0), nf);
      }
    }
  }
});

test('a pixel with 2 finite values of 3 frames is their combination under the 3-frame fallback', () => {
  const P = params(3, 'winsorized', 0, new Rng(1));
  P.ra.fill(1); P.rb.fill(0); P.ca.fill(1); P.cb.fill(0); P.w.fill(1);
  P.reject = REJECT_CODES.percentile; // what 3 frames fall back to
  const data = Float32Array.from([100, 100, 200, 200, NaN, Infinity]); // 2 pixels: (100, 200, NaN), (100, 200, Inf)
  for (const fn of [integrateBand, integrateBandWasm]) {
    const o = run(fn, data, 2, P);
    assert.deepEqual([...o.out], [150, 150]);
    assert.deepEqual([...o.nonFinite!], [0, 0, 2]);
  }
});
