import { test } from 'node:test';
import assert from 'node:assert/strict';
import { integrateBand, COMBINE_CODES, type BandParams } from '../../src/kernels/band.js';
import { integrateBandWasm, wasmHandles, wasmModule } from '../../src/kernels/wasm.js';
import { REJECT_CODES, type RejectName } from '../../src/kernels/reject.js';
import { rejectByCount, resolveOptions, type Normalize } from '../../src/integrate/options.js';
import { normalizationCoefficients } from '../../src/integrate/frames.js';
import { Rng } from '../../src/util/random.js';
import { bits, runBand } from '../helpers/band.js';

const REJECTS = Object.keys(REJECT_CODES) as RejectName[];
const COMBINES = Object.keys(COMBINE_CODES) as (keyof typeof COMBINE_CODES)[];
const NORMS: Normalize[] = ['none', 'additive', 'multiplicative', 'additive-scaling'];

/** Kernel parameters as prepareIntegration makes them: normalization from random frame levels and scales. */
function params(n: number, reject: RejectName, combine: number, norm: Normalize, rng: Rng): BandParams {
  const o = resolveOptions({ reject, minmaxLow: rng.int(3), minmaxHigh: rng.int(3), clipLow: rng.uniform() < 0.85, clipHigh: rng.uniform() < 0.85 });
  const loc = Array.from({ length: n }, () => 900 + 200 * rng.uniform());
  const sc = Array.from({ length: n }, () => 8 + 8 * rng.uniform());
  const coef = loc.map((l, i) => normalizationCoefficients(norm, l, sc[i]!, loc[0]!, sc[0]!));
  const ra = Float64Array.from(coef, (c) => c.a);
  // an offset of -0 keeps the sign of zero values (x + 0 would make every zero +0)
  const rb = Float64Array.from(coef, (c) => (c.b === 0 && rng.uniform() < 0.5 ? -0 : c.b));
  return {
    n, combine, reject: REJECT_CODES[reject], sigmaLow: 2 + 2 * rng.uniform(), sigmaHigh: 1.5 + 2 * rng.uniform(), winsorCutoff: 3 + 3 * rng.uniform(),
    linearLow: 1 + 3 * rng.uniform(), linearHigh: 1 + 3 * rng.uniform(), percentileLow: 0.01 + 0.2 * rng.uniform(), percentileHigh: 0.01 + 0.2 * rng.uniform(),
    minmaxLow: o.minmaxLow, minmaxHigh: o.minmaxHigh, gesdFraction: 0.1 + 0.5 * rng.uniform(), gesdAlpha: [0.05, 0.01, 0.3][rng.int(3)]!,
    clipLow: o.clipLow, clipHigh: o.clipHigh, ...(rng.uniform() < 0.25 ? { rangeLow: 700, rangeHigh: 1800 } : { rangeLow: -Infinity, rangeHigh: Infinity }), ra, rb, ca: ra.slice(), cb: rb.slice(),
    w: Float64Array.from({ length: n }, () => 0.5 + rng.uniform()),
    rejectFor: Int32Array.from(rejectByCount(o, n), (r) => REJECT_CODES[r]),
  };
}

/**
 * Pixel stacks of several kinds: gaussian with outliers; integers with few levels (ties, also
 * across the normalization, and +-0); constant; a slope (linear fit); a few NaN.
 */
function stack(n: number, npix: number, rng: Rng): Float32Array {
  const d = new Float32Array(n * npix);
  for (let p = 0; p < npix; p++) {
    const kind = rng.int(5);
    const level = 1000 + 100 * rng.uniform();
    for (let i = 0; i < n; i++) {
      let x: number;
      if (kind === 1) x = level + rng.int(4) - 1;
      else if (kind === 2) x = [0, -0, 1, 2][rng.int(4)]!;
      else if (kind === 3) x = level + 3 * i + rng.gauss();
      else x = kind === 4 ? 7 : level + 10 * rng.gauss();
      const u = rng.uniform();
      if (u < 0.06) x += 200 + 2000 * rng.uniform();
      else if (u < 0.1) x -= 100 + 500 * rng.uniform();
      else if (u < 0.105) x = NaN;
      d[i * npix + p] = Math.fround(x);
    }
  }
  return d;
}

const run = runBand;

function firstDiff(a: Float32Array, b: Float32Array): string {
  let p = 0;
  while (Object.is(a[p], b[p])) p++;
  return `pixel ${p}: wasm ${b[p]} vs ts ${a[p]}`;
}

for (const reject of REJECTS) {
  test(`WASM ${reject}: bit-identical to the TS reference for every combine and normalization (ties, +-0, small n)`, () => {
    assert.ok(wasmModule(), 'WASM kernel not built (node scripts/build-wasm.mjs)');
    const rng = new Rng(1000 + REJECT_CODES[reject]);
    let rejected = 0;
    for (const cname of COMBINES) {
      for (const norm of NORMS) {
        for (const n of [1, 2, 3, 4, 5, 6, 9, 16, 25]) {
          const P = params(n, reject, COMBINE_CODES[cname], norm, rng);
          assert.ok(wasmHandles(P), `${reject} n=${n} handled`);
          const npix = 301 + rng.int(200);
          const data = stack(n, npix, rng);
          const a = run(integrateBand, data, npix, P);
          const b = run(integrateBandWasm, data, npix, P);
          const ctx = `${reject}/${cname}/${norm} n=${n} clip=${P.clipLow},${P.clipHigh} minmax=${P.minmaxLow},${P.minmaxHigh}`;
          if (!bits(a.out).equals(bits(b.out))) assert.fail(`${ctx}: ${firstDiff(a.out, b.out)}`);
          if (!bits(a.rejLow!).equals(bits(b.rejLow!))) assert.fail(`${ctx}: low map ${firstDiff(a.rejLow!, b.rejLow!)}`);
          if (!bits(a.rejHigh!).equals(bits(b.rejHigh!))) assert.fail(`${ctx}: high map ${firstDiff(a.rejHigh!, b.rejHigh!)}`);
          assert.deepEqual([b.frameLow, b.frameHigh, b.nonFinite, b.noValue], [a.frameLow, a.frameHigh, a.nonFinite, a.noValue], ctx);
          for (let i = 0; i < n; i++) rejected += a.frameLow[i]! + a.frameHigh[i]!;
        }
      }
    }
    if (reject !== 'none') assert.ok(rejected > 1000, `rejection hardly exercised (${rejected})`);
  });
}

test('zero weights and non-integer min/max counts still go through the TS reference', () => {
  const rng = new Rng(3);
  const P = params(7, 'minmax', 0, 'none', rng);
  P.minmaxLow = 1.5;
  assert.equal(wasmHandles(P), false);
  const data = stack(7, 300, rng);
  assert.ok(bits(run(integrateBand, data, 300, P).out).equals(bits(run(integrateBandWasm, data, 300, P).out)));
  const Q = params(7, 'gesd', 1, 'additive', rng);
  Q.w[2] = 0;
  assert.equal(wasmHandles(Q), false);
  assert.ok(bits(run(integrateBand, data, 300, Q).out).equals(bits(run(integrateBandWasm, data, 300, Q).out)));
});

test('WASM winsorized and sigma on master-like stacks (n = 8..32, integer ties, hot pixels, mixed pair bounds): bit-identical with the same counts', () => {
  assert.ok(wasmModule(), 'WASM kernel not built (node scripts/build-wasm.mjs)');
  const rng = new Rng(77);
  for (const reject of ['winsorized', 'sigma'] as const) {
    for (const n of [8, 13, 22, 32]) {
      const o = resolveOptions({ reject, sigmaLow: 3, sigmaHigh: 3 });
      const ones = new Float64Array(n).fill(1);
      const P: BandParams = {
        ...o, n, combine: 0, reject: REJECT_CODES[reject], rangeLow: -Infinity, rangeHigh: Infinity,
        ra: ones, rb: new Float64Array(n), ca: ones, cb: new Float64Array(n), w: ones,
        rejectFor: Int32Array.from(rejectByCount(o, n), (r) => REJECT_CODES[r]),
      };
      const npix = 2000;
      const data = new Float32Array(n * npix);
      // bias-like integers (many ties); hot and cold pixels so that the two pixels of a pair often keep different slots
      for (let i = 0; i < n; i++) {
        for (let p = 0; p < npix; p++) {
          let x = Math.round(1000 + 8 * rng.gauss());
          const u = rng.uniform();
          if (u < 0.03) x += 100 + rng.int(3000);
          else if (u < 0.05) x -= 40 + rng.int(200);
          data[i * npix + p] = x;
        }
      }
      const a = run(integrateBand, data, npix, P);
      const b = run(integrateBandWasm, data, npix, P);
      const ctx = `${reject} n=${n}`;
      if (!bits(a.out).equals(bits(b.out))) assert.fail(`${ctx}: ${firstDiff(a.out, b.out)}`);
      assert.ok(bits(a.rejLow!).equals(bits(b.rejLow!)) && bits(a.rejHigh!).equals(bits(b.rejHigh!)), `${ctx}: rejection maps`);
      assert.deepEqual([b.frameLow, b.frameHigh], [a.frameLow, a.frameHigh], ctx);
      const rejected = a.frameLow.reduce((s, x) => s + x, 0) + a.frameHigh.reduce((s, x) => s + x, 0);
      assert.ok(rejected > 0.01 * n * npix, `${ctx}: rejection exercised (${rejected})`);
    }
  }
});
