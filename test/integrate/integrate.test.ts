import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runPython, fileTempDir } from '../helpers/env.js';
import { makeStack } from './stackdata.js';
import { integrateFiles, type Reject } from '../../src/integrate/index.js';
import { writeFits } from '../../src/fits/index.js';
import { ikss } from '../../src/image/stats.js';

const tmp = fileTempDir();

/** Read a raw little-endian float32 file written by the Python reference. */
function readF32(path: string): Float32Array {
  const b = readFileSync(path);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
}

function stdOf(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]!;
  const m = s / a.length;
  let ss = 0;
  for (let i = 0; i < a.length; i++) ss += (a[i]! - m) ** 2;
  return Math.sqrt(ss / a.length);
}

const PY_REF = `
import sys, numpy as np
from astropy.io import fits
from astropy.stats import sigma_clip
mode, out, kl, kh = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
d = np.stack([fits.getdata(p).astype(np.float64) for p in sys.argv[5:]])
if mode == 'mean':
    r = d.mean(axis=0)
elif mode == 'median':
    r = np.median(d, axis=0)
else:
    c = sigma_clip(d, axis=0, sigma_lower=kl, sigma_upper=kh, cenfunc='median', stdfunc=('std' if mode == 'sigma' else 'mad_std'), maxiters=None)
    r = c.mean(axis=0).filled(np.nan)
r.astype('<f4').tofile(out)
`;

const outl = makeStack(tmp, { n: 15, width: 40, height: 32, outlierFraction: 0.04, hot: 400, cold: 300, seed: 7 }, 'o');

for (const [mode, kl, kh] of [['sigma', 3, 2.5], ['mad', 4, 3]] as const) {
  test(`--reject ${mode} matches astropy sigma_clip(stdfunc=${mode === 'sigma' ? 'std' : 'mad_std'}) + mean pixel for pixel`, async () => {
    const out = join(tmp, `ref-${mode}.f32`);
    runPython(PY_REF, [mode, out, String(kl), String(kh), ...outl.paths]);
    const ref = readF32(out);
    const r = await integrateFiles(outl.paths, { normalize: 'none', weights: 'none', reject: mode as Reject, sigmaLow: kl, sigmaHigh: kh, workers: 1 });
    const got = r.image.data[0]!;
    assert.equal(got.length, ref.length);
    for (let p = 0; p < ref.length; p++) {
      assert.ok(Math.abs(got[p]! - ref[p]!) <= 1e-5 * Math.abs(ref[p]!), `pixel ${p}: ${got[p]} vs astropy ${ref[p]}`);
    }
    // the test data really exercises rejection
    const plain = await integrateFiles(outl.paths, { normalize: 'none', weights: 'none', reject: 'none', workers: 1 });
    let differ = 0;
    for (let p = 0; p < ref.length; p++) if (Math.abs(plain.image.data[0]![p]! - ref[p]!) > 1) differ++;
    assert.ok(differ > 100, `only ${differ} pixels affected by rejection`);
    const rej = r.frames.reduce((s, f) => s + f.rejectedLowPct + f.rejectedHighPct, 0);
    assert.ok(rej > 0);
  });
}

for (const mode of ['mean', 'median'] as const) {
  test(`plain ${mode} equals numpy exactly (float64 accumulation then float32)`, async () => {
    const out = join(tmp, `ref-${mode}.f32`);
    runPython(PY_REF, [mode, out, '0', '0', ...outl.paths]);
    const ref = readF32(out);
    const r = await integrateFiles(outl.paths, { normalize: 'none', weights: 'none', reject: 'none', combine: mode === 'mean' ? 'average' : 'median', workers: 1 });
    assert.deepEqual(Buffer.from(r.image.data[0]!.buffer), Buffer.from(ref.buffer));
  });
}

test('sum, min and max combine the frames exactly', async () => {
  const s = makeStack(tmp, { n: 4, width: 8, height: 6, seed: 2 }, 'smm');
  const rs = await integrateFiles(s.paths, { normalize: 'none', weights: 'none', reject: 'none', combine: 'sum', workers: 1 });
  const rmin = await integrateFiles(s.paths, { normalize: 'none', weights: 'none', reject: 'none', combine: 'min', workers: 1 });
  const rmax = await integrateFiles(s.paths, { normalize: 'none', weights: 'none', reject: 'none', combine: 'max', workers: 1 });
  for (let p = 0; p < 48; p++) {
    const v = s.images.map((im) => im.data[0]![p]!);
    assert.equal(rs.image.data[0]![p], Math.fround(v.reduce((a, b) => a + b, 0)));
    assert.equal(rmin.image.data[0]![p], Math.min(...v));
    assert.equal(rmax.image.data[0]![p], Math.max(...v));
  }
});

test('N Gaussian frames: noise reduced by sqrt(N) within 3% (measured and reported)', async () => {
  const N = 16;
  const s = makeStack(tmp, { n: N, width: 128, height: 128, sigma: () => 10, seed: 9 }, 'g');
  for (const reject of ['none', 'winsorized'] as const) {
    const r = await integrateFiles(s.paths, { normalize: 'none', weights: 'none', reject, workers: 1 });
    const ratio = stdOf(r.image.data[0]!) / stdOf(s.images[0]!.data[0]!);
    assert.ok(Math.abs(ratio * Math.sqrt(N) - 1) < 0.03, `${reject}: measured ratio ${ratio} vs ${1 / Math.sqrt(N)}`);
    assert.ok(Math.abs(r.noiseRatio * Math.sqrt(N) - 1) < 0.03, `${reject}: reported ratio ${r.noiseRatio}`);
    assert.ok(Math.abs(r.noise / (10 / Math.sqrt(N)) - 1) < 0.03, `${reject}: reported noise ${r.noise}`);
  }
});

// Every rejection: with 20 frames and rare big outliers, each outlier is rejected and clean values kept.
// At most one hot and one cold outlier per pixel (hot +3000 = 300 sigma, cold -2000), in known frames.
const clean = makeStack(tmp, { n: 20, width: 32, height: 32, sigma: () => 10, seed: 21 }, 'r');
let injected = 0;
{
  for (let p = 0; p < 1024; p++) {
    if (p % 3 === 0) {
      const i = (p * 7) % 20;
      clean.images[i]!.data[0]![p] += 3000;
      clean.outliers[i]![0]![p] = 1;
      injected++;
    }
    if (p % 5 === 0) {
      const i = (p * 11 + 3) % 20;
      if (clean.outliers[i]![0]![p] === 0) {
        clean.images[i]!.data[0]![p] -= 2000;
        clean.outliers[i]![0]![p] = -1;
        injected++;
      }
    }
  }
  clean.images.forEach((im, i) => writeFits(clean.paths[i]!, im));
}
// Thresholds where the default would clip Gaussian tails too often on 20 frames: MAD sigma is noisy
// on 20 values, and Siril's linear-fit sigma (mean |residual| of a line through sorted values) is
// small compared with the residuals of the extreme order statistics.
const P_OPTS: Partial<Record<Reject, object>> = {
  percentile: { percentileLow: 0.05, percentileHigh: 0.05 },
  mad: { sigmaLow: 5, sigmaHigh: 4 },
};
/** Pixels allowed to lose a clean value (least-squares linear fit clips tails of 20 Gaussians often). */
const WRONG_MAX: Partial<Record<Reject, number>> = { 'linear-fit': 0.2 };
for (const reject of ['sigma', 'winsorized', 'averaged-sigma', 'linear-fit', 'gesd', 'mad', 'percentile'] as const) {
  test(`${reject}: injected hot/cold outliers rejected per pixel, clean pixels kept`, async () => {
    const r = await integrateFiles(clean.paths, { normalize: 'none', weights: 'none', reject, rejectionMaps: true, workers: 1, ...(P_OPTS[reject] ?? {}) });
    const n = clean.paths.length;
    const lowMap = r.rejectLow!.data[0]!;
    const highMap = r.rejectHigh!.data[0]!;
    let wrong = 0;
    let missed = 0;
    for (let p = 0; p < 32 * 32; p++) {
      let hot = 0;
      let cold = 0;
      for (let i = 0; i < n; i++) {
        const o = clean.outliers[i]![0]![p]!;
        if (o > 0) hot++;
        if (o < 0) cold++;
      }
      const gotHigh = Math.round(highMap[p]! * n);
      const gotLow = Math.round(lowMap[p]! * n);
      if (gotHigh < hot || gotLow < cold) missed++;
      if (gotHigh !== hot || gotLow !== cold) wrong++;
      // result close to the truth whenever every outlier went
      if (gotHigh >= hot && gotLow >= cold) assert.ok(Math.abs(r.image.data[0]![p]! - 1000) < 10, `pixel ${p} = ${r.image.data[0]![p]}`);
    }
    assert.equal(missed, 0, `${missed} pixels kept an outlier`);
    // clean values are kept almost everywhere: a Gaussian tail beyond the clipping threshold may
    // be rejected (GESD's alpha = 0.05 is a 5% false-alarm rate per pixel by design)
    assert.ok(wrong <= 1024 * (WRONG_MAX[reject] ?? 0.1), `${wrong} pixels with clean values rejected`);
    const cleanRejected = r.frames.reduce((s, f) => s + f.rejectedLowPct + f.rejectedHighPct, 0) / 100 * 1024 - injected;
    assert.ok(cleanRejected < 0.015 * 20 * 1024, `${cleanRejected} clean values rejected`);
  });
}

test('minmax drops exactly n low and n high per pixel', async () => {
  const r = await integrateFiles(clean.paths, { normalize: 'none', weights: 'none', reject: 'minmax', minmaxLow: 2, minmaxHigh: 1, rejectionMaps: true, workers: 1 });
  for (let p = 0; p < 1024; p++) {
    assert.equal(Math.round(r.rejectLow!.data[0]![p]! * 20), 2);
    assert.equal(Math.round(r.rejectHigh!.data[0]![p]! * 20), 1);
    const v = clean.images.map((im) => im.data[0]![p]!).sort((a, b) => a - b).slice(2, 19);
    const m = v.reduce((a, b) => a + b, 0) / v.length;
    assert.ok(Math.abs(r.image.data[0]![p]! - m) < 1e-3);
  }
});

test('range rejection drops values <= range-low or >= range-high', async () => {
  const r = await integrateFiles(clean.paths, { normalize: 'none', weights: 'none', reject: 'none', rangeLow: 0, rangeHigh: 2000, rejectionMaps: true, workers: 1 });
  for (let p = 0; p < 1024; p++) {
    const v = clean.images.map((im) => im.data[0]![p]!);
    const lo = v.filter((x) => x <= 0).length;
    const hi = v.filter((x) => x >= 2000).length;
    assert.equal(Math.round(r.rejectLow!.data[0]![p]! * 20), lo);
    assert.equal(Math.round(r.rejectHigh!.data[0]![p]! * 20), hi);
    assert.ok(Math.abs(r.image.data[0]![p]! - 1000) < 10);
  }
});

test('normalization makes frames with different offsets and scales agree', async () => {
  // x_i = g_i * (1000 + noise) + o_i
  const gains = [1, 1.5, 0.7, 2, 1.2, 0.9];
  const offs = [0, 300, -150, 500, 80, 40];
  const s = makeStack(tmp, { n: 6, width: 96, height: 96, sigma: () => 10, gain: (i) => gains[i]!, offset: (i) => offs[i]!, seed: 4 }, 'n');
  const loc0 = ikss(s.images[0]!.data[0]!);
  const noNorm = await integrateFiles(s.paths, { normalize: 'none', weights: 'none', reject: 'none', workers: 1 });
  const add = await integrateFiles(s.paths, { weights: 'none', reject: 'none', normalize: 'additive', workers: 1 });
  const adds = await integrateFiles(s.paths, { weights: 'none', reject: 'winsorized', normalize: 'additive-scaling', rejectNormalize: 'additive-scaling', workers: 1 });
  const mads = await integrateFiles(s.paths, { weights: 'none', reject: 'none', normalize: 'additive-scaling', estimator: 'mad', workers: 1 });
  const mean = (a: Float32Array): number => a.reduce((x, y) => x + y, 0) / a.length;
  // without normalization the level is the average of the frames' levels
  assert.ok(Math.abs(mean(noNorm.image.data[0]!) - loc0.location) > 100);
  // with it, the reference frame's level, and (scaling) sigma0/sqrt(N) noise
  for (const r of [add, adds, mads]) assert.ok(Math.abs(mean(r.image.data[0]!) - loc0.location) < 1, `${mean(r.image.data[0]!)} vs ${loc0.location}`);
  assert.ok(Math.abs((stdOf(adds.image.data[0]!) * Math.sqrt(6)) / 10 - 1) < 0.05, `noise ${stdOf(adds.image.data[0]!)}`);
  // no pixel is rejected as an outlier merely because its frame has another level
  for (const f of adds.frames) assert.ok(f.rejectedLowPct + f.rejectedHighPct < 3, `${f.path} ${f.rejectedLowPct} ${f.rejectedHighPct}`);
  // unnormalized, the noisier (higher gain) frames weigh in with their own scale
  assert.ok(stdOf(noNorm.image.data[0]!) > 1.2 * stdOf(adds.image.data[0]!));
  // reported location/scale per frame are the IKSS estimates
  for (let i = 0; i < 6; i++) {
    const k = ikss(s.images[i]!.data[0]!);
    assert.ok(Math.abs(adds.frames[i]!.location - k.location) < 1e-6 * Math.abs(k.location));
    assert.ok(Math.abs(adds.frames[i]!.scale - k.scale) < 1e-6 * k.scale);
  }
});

test('multiplicative normalization and equalize-fluxes for frames with different gains (flats)', async () => {
  const gains = [1, 1.3, 0.8, 1.1, 0.95];
  const s = makeStack(tmp, { n: 5, width: 64, height: 64, level: () => 20000, sigma: () => 100, gain: (i) => gains[i]!, seed: 5 }, 'm');
  const r = await integrateFiles(s.paths, { weights: 'none', reject: 'winsorized', normalize: 'multiplicative', rejectNormalize: 'equalize-fluxes', workers: 1 });
  const m = r.image.data[0]!.reduce((x, y) => x + y, 0) / 4096;
  assert.ok(Math.abs(m / r.frames[0]!.location - 1) < 1e-3);
  for (const f of r.frames) assert.ok(f.rejectedLowPct + f.rejectedHighPct < 2);
});

test('weights: exposure, keyword and inverse noise variance', async () => {
  const s = makeStack(tmp, { n: 2, width: 16, height: 16, level: (i) => (i === 0 ? 100 : 200), sigma: () => 0.001, keywords: (i) => ({ EXPTIME: i === 0 ? 1 : 3, MYWT: i === 0 ? 2 : 1 }), seed: 6 }, 'w');
  const ex = await integrateFiles(s.paths, { normalize: 'none', reject: 'none', weights: 'exposure', workers: 1 });
  assert.deepEqual(ex.frames.map((f) => f.weight), [0.5, 1.5]);
  assert.ok(Math.abs(ex.image.data[0]![0]! - 175) < 0.01);
  const kw = await integrateFiles(s.paths, { normalize: 'none', reject: 'none', weights: { keyword: 'MYWT' }, workers: 1 });
  assert.ok(Math.abs(kw.image.data[0]![0]! - (2 * 100 + 200) / 3) < 0.01);
  const nz = makeStack(tmp, { n: 3, width: 128, height: 128, sigma: (i) => [5, 10, 10][i]!, seed: 8 }, 'nw');
  const r = await integrateFiles(nz.paths, { normalize: 'none', reject: 'none', weights: 'noise', workers: 1 });
  const w = r.frames.map((f) => f.weight);
  assert.ok(Math.abs(w[0]! / w[1]! - 4) < 0.2, `weights ${w}`);
  assert.ok(Math.abs(w.reduce((a, b) => a + b, 0) / 3 - 1) < 1e-12);
  // optimal weighting: noise sigma = 1/sqrt(sum 1/s^2) = 1/sqrt(0.04 + 0.02) = 4.08
  assert.ok(Math.abs(stdOf(r.image.data[0]!) / 4.082 - 1) < 0.03, `noise ${stdOf(r.image.data[0]!)}`);
});

test('undefined pixels (NaN) are excluded; a pixel with no defined value is NaN', async () => {
  const s = makeStack(tmp, { n: 3, width: 8, height: 8, level: (i) => 100 * (i + 1), sigma: () => 0, seed: 1 }, 'nan');
  const imgs = s.images;
  imgs[0]!.data[0]![5] = NaN;
  imgs[0]!.data[0]![9] = NaN;
  imgs[1]!.data[0]![9] = NaN;
  imgs[2]!.data[0]![9] = NaN;
  imgs.forEach((im, i) => writeFits(s.paths[i]!, im));
  const r = await integrateFiles(s.paths, { normalize: 'none', weights: 'none', reject: 'none', workers: 1 });
  assert.equal(r.image.data[0]![0], 200);
  assert.equal(r.image.data[0]![5], 250);
  assert.ok(Number.isNaN(r.image.data[0]![9]));
});

test('streaming: a tiny memory budget (one row per band) is bit-identical to one band; workers 2 equal workers 1', async () => {
  const s = makeStack(tmp, { n: 9, width: 50, height: 41, channels: 3, outlierFraction: 0.02, seed: 12 }, 'st');
  const base = await integrateFiles(s.paths, { rejectionMaps: true, workers: 1, memory: 1 << 30 });
  assert.ok(base.history.some((h) => h.includes('bands=3 ')), base.history.join('\n'));
  const tiny = await integrateFiles(s.paths, { rejectionMaps: true, workers: 1, memory: 1 });
  assert.ok(tiny.history.some((h) => h.includes('bands=123 ')));
  const par = await integrateFiles(s.paths, { rejectionMaps: true, workers: 2, memory: 200_000 });
  for (const r of [tiny, par]) {
    for (let c = 0; c < 3; c++) {
      assert.deepEqual(Buffer.from(r.image.data[c]!.buffer), Buffer.from(base.image.data[c]!.buffer));
      assert.deepEqual(Buffer.from(r.rejectLow!.data[c]!.buffer), Buffer.from(base.rejectLow!.data[c]!.buffer));
      assert.deepEqual(Buffer.from(r.rejectHigh!.data[c]!.buffer), Buffer.from(base.rejectHigh!.data[c]!.buffer));
    }
    assert.deepEqual(r.frames, base.frames);
  }
});

test('too few frames for the algorithm: a warning naming the fallback', async () => {
  const s = makeStack(tmp, { n: 3, width: 8, height: 8, seed: 13 }, 'few');
  const r = await integrateFiles(s.paths, { reject: 'linear-fit', workers: 1 });
  assert.deepEqual(r.warnings, ['linear-fit rejection needs at least 5 frames (got 3): using percentile clipping instead']);
  assert.ok(r.history.some((h) => h.includes('reject=percentile (requested linear-fit)')));
  const two = await integrateFiles(s.paths.slice(0, 2), { reject: 'sigma', workers: 1 });
  assert.deepEqual(two.warnings, ['sigma rejection needs at least 3 frames (got 2): using no rejection instead']);
});
