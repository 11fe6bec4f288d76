import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { integrateBand, type BandParams, type BandOutput } from '../../src/kernels/band.js';
import { integrateBandWasm, sortingNetwork, wasmHandles, wasmModule, wasmLoadError, simdSupported } from '../../src/kernels/wasm.js';
import { selectedKernel } from '../../src/kernels/auto.js';
import { integrateFiles } from '../../src/integrate/index.js';
import { tempDir } from '../helpers/env.js';
import { makeStack } from '../integrate/stackdata.js';
import { Rng } from '../../src/util/random.js';

const tmp = tempDir();
after(() => tmp.cleanup());

test('the WASM-SIMD kernel is built and loads (node scripts/build-wasm.mjs)', () => {
  assert.ok(simdSupported(), 'this Node has no WebAssembly SIMD');
  assert.ok(wasmModule(), `WASM kernel not loaded: ${wasmLoadError()}`);
});

test('the sorting network sorts every 0/1 input (n <= 12) and random inputs (n <= 40)', () => {
  const rng = new Rng(5);
  const sortBy = (v: number[], net: Int32Array): void => {
    for (let q = 0; q < net.length; q += 2) {
      const a = net[q]!;
      const b = net[q + 1]!;
      if (v[a]! > v[b]!) [v[a], v[b]] = [v[b]!, v[a]!];
    }
  };
  for (let n = 1; n <= 12; n++) {
    const net = sortingNetwork(n);
    for (let m = 0; m < 1 << n; m++) {
      const v = Array.from({ length: n }, (_, i) => (m >> i) & 1);
      sortBy(v, net);
      for (let i = 1; i < n; i++) assert.ok(v[i - 1]! <= v[i]!, `n=${n} input ${m.toString(2)}`);
    }
  }
  for (let n = 13; n <= 40; n++) {
    const net = sortingNetwork(n);
    for (let t = 0; t < 50; t++) {
      const v = Array.from({ length: n }, () => rng.int(7));
      const ref = [...v].sort((a, b) => a - b);
      sortBy(v, net);
      assert.deepEqual(v, ref);
    }
  }
});

function params(n: number, reject: number, combine: number, rng: Rng, range: boolean): BandParams {
  const ra = new Float64Array(n);
  const rb = new Float64Array(n);
  const ca = new Float64Array(n);
  const cb = new Float64Array(n);
  const w = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    ra[i] = 0.8 + 0.4 * rng.uniform();
    rb[i] = 50 * rng.gauss();
    ca[i] = 0.9 + 0.2 * rng.uniform();
    cb[i] = 20 * rng.gauss();
    w[i] = 0.5 + rng.uniform();
  }
  return {
    n, combine, reject, sigmaLow: 2.5 + rng.uniform(), sigmaHigh: 2 + rng.uniform(), winsorCutoff: 5,
    linearLow: 5, linearHigh: 4, percentileLow: 0.2, percentileHigh: 0.1, minmaxLow: 1, minmaxHigh: 1,
    gesdFraction: 0.3, gesdAlpha: 0.05, clipLow: rng.uniform() < 0.8, clipHigh: rng.uniform() < 0.8,
    rangeLow: range ? 700 : -Infinity, rangeHigh: range ? 1800 : Infinity, ra, rb, ca, cb, w,
  };
}

function stack(n: number, npix: number, rng: Rng, nanFrac: number): Float32Array {
  const d = new Float32Array(n * npix);
  for (let p = 0; p < npix; p++) {
    const level = 1000 + 200 * rng.uniform();
    const sigma = rng.uniform() < 0.05 ? 0 : 5 + 20 * rng.uniform(); // some constant stacks
    for (let i = 0; i < n; i++) {
      let x = level + sigma * rng.gauss();
      const u = rng.uniform();
      if (u < 0.04) x += 300 + 3000 * rng.uniform();
      else if (u < 0.07) x -= 150 + 500 * rng.uniform();
      else if (u < 0.07 + nanFrac) x = NaN;
      d[i * npix + p] = Math.fround(x);
    }
  }
  return d;
}

function run(fn: typeof integrateBand, data: Float32Array, npix: number, P: BandParams): BandOutput {
  const o: BandOutput = {
    out: new Float32Array(npix), rejLow: new Float32Array(npix), rejHigh: new Float32Array(npix),
    frameLow: new Float64Array(P.n), frameHigh: new Float64Array(P.n),
  };
  fn(data, npix, P, o);
  return o;
}

const bits = (a: Float32Array): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

for (const [rname, reject] of [['none', 0], ['sigma', 3], ['winsorized', 4]] as const) {
  for (const [cname, combine] of [['average', 0], ['median', 1]] as const) {
    test(`WASM ${rname} + ${cname} is bit-identical to the TS reference (outliers, NaNs, range, odd sizes)`, () => {
      const rng = new Rng(100 + reject * 10 + combine);
      let rejected = 0;
      for (const n of [1, 2, 3, 4, 5, 7, 12, 20, 33]) {
        for (const [npix, nanFrac, range] of [[1001, 0, false], [2000, 0.02, false], [777, 0.01, true], [9000, 0, false]] as const) {
          const P = params(n, reject, combine, rng, range);
          assert.ok(wasmHandles(P));
          const data = stack(n, npix, rng, nanFrac);
          const a = run(integrateBand, data, npix, P);
          const b = run(integrateBandWasm, data, npix, P);
          const ctx = `n=${n} npix=${npix} nan=${nanFrac} range=${range}`;
          if (!bits(a.out).equals(bits(b.out))) {
            let p = 0;
            while (Object.is(a.out[p], b.out[p])) p++;
            assert.fail(`${ctx}: pixel ${p}: wasm ${b.out[p]} vs ts ${a.out[p]}`);
          }
          assert.ok(bits(a.rejLow!).equals(bits(b.rejLow!)), `${ctx}: low rejection map`);
          assert.ok(bits(a.rejHigh!).equals(bits(b.rejHigh!)), `${ctx}: high rejection map`);
          assert.deepEqual(b.frameLow, a.frameLow, `${ctx}: per-frame low counts`);
          assert.deepEqual(b.frameHigh, a.frameHigh, `${ctx}: per-frame high counts`);
          for (let i = 0; i < n; i++) rejected += a.frameLow[i]! + a.frameHigh[i]!;
        }
      }
      if (reject !== 0) assert.ok(rejected > 1000, `rejection hardly exercised (${rejected})`);
    });
  }
}

test('every algorithm and combination runs in the WASM kernel (zero weights go through the TS reference)', () => {
  const rng = new Rng(9);
  for (const [reject, combine] of [[7, 0], [6, 1], [4, 2], [3, 4], [8, 0], [1, 3], [2, 1], [5, 0]] as const) {
    for (const range of [false, true]) {
      const P = params(9, reject, combine, rng, range);
      assert.equal(wasmHandles(P), true);
      const data = stack(9, 500, rng, 0.01);
      const a = run(integrateBand, data, 500, P);
      const b = run(integrateBandWasm, data, 500, P);
      assert.ok(bits(a.out).equals(bits(b.out)), `reject ${reject} combine ${combine} range ${range}`);
      assert.ok(bits(a.rejLow!).equals(bits(b.rejLow!)) && bits(a.rejHigh!).equals(bits(b.rejHigh!)));
      assert.deepEqual([b.frameLow, b.frameHigh], [a.frameLow, a.frameHigh]);
    }
  }
  const P = params(9, 4, 0, rng, false);
  P.w[3] = 0;
  assert.equal(wasmHandles(P), false);
});

test('DARKROOM_KERNEL selects the kernel; whole integrations agree bit for bit (1 and 2 workers)', async () => {
  const s = makeStack(tmp.dir, { n: 11, width: 64, height: 48, outlierFraction: 0.03, seed: 3, level: (i) => 900 + 15 * i, gain: (i) => 1 + 0.03 * i }, 'k');
  const saved = process.env.DARKROOM_KERNEL;
  try {
    for (const opts of [
      { reject: 'winsorized' as const, combine: 'average' as const, normalize: 'additive-scaling' as const, rejectNormalize: 'additive-scaling' as const, weights: 'noise' as const },
      { reject: 'sigma' as const, combine: 'median' as const, normalize: 'multiplicative' as const },
    ]) {
      for (const workers of [1, 2]) {
        process.env.DARKROOM_KERNEL = 'ts';
        assert.equal(selectedKernel(), 'ts');
        const a = await integrateFiles(s.paths, { ...opts, workers, rejectionMaps: true });
        process.env.DARKROOM_KERNEL = 'wasm';
        assert.equal(selectedKernel(), 'wasm-simd');
        const b = await integrateFiles(s.paths, { ...opts, workers, rejectionMaps: true });
        assert.ok(bits(a.image.data[0]!).equals(bits(b.image.data[0]!)), `${opts.reject} workers=${workers}`);
        assert.ok(bits(a.rejectLow!.data[0]!).equals(bits(b.rejectLow!.data[0]!)));
        assert.ok(bits(a.rejectHigh!.data[0]!).equals(bits(b.rejectHigh!.data[0]!)));
        assert.deepEqual(b.frames, a.frames);
        assert.ok(a.frames.some((f) => f.rejectedHighPct > 0));
      }
    }
  } finally {
    if (saved === undefined) delete process.env.DARKROOM_KERNEL;
    else process.env.DARKROOM_KERNEL = saved;
  }
});
