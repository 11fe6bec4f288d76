import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeSensor, frame, darkCurrentAtT } from './synth.js';
import { centralRegion, clippedStats, truncatedSigmaFactor, erf } from '../../src/analyze/robust.js';
import { measureReadNoise, measureGain, photonTransferCurve } from '../../src/analyze/gain.js';
import { darkCurrentDifference, checkDarkSet } from '../../src/analyze/darkcurrent.js';
import { fitDarkVsTemperature, groupDarksByTemperature } from '../../src/analyze/temperature.js';
import { ampGlowMap, glowGrowth } from '../../src/analyze/ampglow.js';
import { Rng } from '../../src/util/random.js';
import { DarkroomError } from '../../src/util/errors.js';

const W = 256;
const H = 256;
const REGION = centralRegion(W, H, 0.9);

function rel(a: number, b: number): number {
  return Math.abs(a - b) / Math.abs(b);
}

test('erf and the truncated-Gaussian correction match known values', () => {
  assert.ok(Math.abs(erf(1) - 0.8427007929497149) < 3e-7);
  assert.ok(Math.abs(erf(0.3) - 0.3286267594591112) < 1e-9);
  assert.ok(Math.abs(erf(-2) + 0.9953222650189527) < 3e-7);
  // Var of N(0,1) truncated at +-3: 1 - 6 phi(3) / (2 Phi(3) - 1) = 0.97333...
  assert.ok(Math.abs(truncatedSigmaFactor(3) ** 2 - 0.9733369246625415) < 1e-6);
});

test('clipped statistics recover sigma of a contaminated Gaussian without clipping bias', () => {
  const rng = new Rng(5);
  const a = new Float64Array(200000);
  for (let i = 0; i < a.length; i++) a[i] = 100 + 7 * rng.gauss() + (i % 500 === 0 ? 400 * rng.uniform() + 60 : 0);
  const s = clippedStats(a, 3);
  assert.ok(rel(s.sigma, 7) < 0.006, `sigma ${s.sigma}`);
  assert.ok(Math.abs(s.mean - 100) < 0.05, `mean ${s.mean}`);
  assert.ok(s.sigmaClipped < s.sigma, 'the raw clipped sigma is biased low');
  assert.ok(s.rejected >= 390, `rejected ${s.rejected}`);
});

for (const variant of [
  { name: 'CCD-like', gain: 1.5, ron: 9, bias: 1000, clamp: false },
  { name: 'CMOS-like clamped', gain: 0.8, ron: 1.8, bias: 200, clamp: true },
]) {
  test(`read noise and gain (${variant.name}): within 3% with a drifting flat panel and hot pixels`, () => {
    const s = makeSensor({ width: W, height: H, gain: variant.gain, readNoiseE: variant.ron, biasLevel: variant.bias, clamp: variant.clamp, hotFraction: 0.002, vignetting: 0.4, seed: 11 });
    const b1 = { data: frame(s, { exposure: 0, seed: 1 }) };
    const b2 = { data: frame(s, { exposure: 0, seed: 2 }) };
    // ~20000 e- vignetted flats; the panel is 5% brighter for the second flat; 2 s exposures add a little dark.
    const f1 = { data: frame(s, { exposure: 2, flux: 10000, seed: 3 }) };
    const f2 = { data: frame(s, { exposure: 2, flux: 10500, seed: 4 }) };
    const rn = measureReadNoise(b1, b2, W, H, REGION, variant.gain);
    // Measured read noise includes the 1/12 ADU^2 quantization noise of a real ADC.
    const ronTrueAdu = Math.sqrt((variant.ron / variant.gain) ** 2 + 1 / 12);
    assert.ok(rel(rn.readNoiseAdu, ronTrueAdu) < 0.03, `read noise ${rn.readNoiseAdu} ADU vs ${ronTrueAdu}`);
    assert.ok(rel(rn.readNoiseE!, variant.ron) < 0.03, `read noise ${rn.readNoiseE} e- vs ${variant.ron}`);
    const g = measureGain(f1, f2, b1, b2, W, H, REGION);
    assert.ok(rel(g.gain, variant.gain) < 0.03, `gain ${g.gain} vs ${variant.gain}`);
    assert.ok(rel(g.readNoiseE, variant.ron) < 0.03 + (variant.clamp ? 0.02 : 0), `read noise (gain) ${g.readNoiseE} vs ${variant.ron}`);
    assert.ok(Math.abs(g.scale - 1 / 1.05) < 0.003, `panel drift scale ${g.scale}`);
    // Without the drift correction (plain Janesick with k = 1), the 5% level difference leaves
    // vignetting and PRNU in the difference image and the gain comes out far off: the test can fail.
    const m = [0, 0, 0, 0];
    const r = REGION;
    const planes = [f1.data, f2.data, b1.data, b2.data];
    for (let j = 0; j < 4; j++) {
      let sum = 0;
      for (let y = r.y0; y < r.y0 + r.height; y++) for (let x = r.x0; x < r.x0 + r.width; x++) sum += planes[j]![y * W + x]!;
      m[j] = sum / (r.width * r.height);
    }
    const diffVar = (a: Float32Array, b: Float32Array): number => {
      const d = new Float64Array(r.width * r.height);
      let k = 0;
      for (let y = r.y0; y < r.y0 + r.height; y++) for (let x = r.x0; x < r.x0 + r.width; x++) d[k++] = a[y * W + x]! - b[y * W + x]!;
      return clippedStats(d, 3.5).sigma ** 2;
    };
    const naiveGain = (m[0]! + m[1]! - m[2]! - m[3]!) / (diffVar(f1.data, f2.data) - diffVar(b1.data, b2.data));
    assert.ok(rel(naiveGain, variant.gain) > 0.05, `uncorrected gain ${naiveGain} should be off`);
  });
}

test('dark current, CCD-like: difference methods within 10%, naive agrees, progression and hot pixels', () => {
  const s = makeSensor({ width: W, height: H, gain: 1.5, readNoiseE: 9, darkCurrent: 0.5, hotFraction: 0.001, seed: 21 });
  const t = 300;
  const darks = [0, 1, 2, 3, 4, 5].map((i) => ({ data: frame(s, { exposure: t, temperature: 0, seed: 100 + i }), exposure: t, temperature: 0 }));
  const biases = [0, 1].map((i) => ({ data: frame(s, { exposure: 0, seed: 200 + i }) }));
  const ronE = measureReadNoise(biases[0]!, biases[1]!, W, H, REGION, s.gain).readNoiseE!;
  const two = darkCurrentDifference(darks.slice(0, 2), { gain: s.gain, readNoiseE: ronE, region: REGION, width: W, height: H, biases });
  assert.equal(two.method, 'difference-2');
  assert.ok(rel(two.darkCurrent, 0.5) < 0.1, `2-frame Dc ${two.darkCurrent}`);
  const six = darkCurrentDifference(darks, { gain: s.gain, readNoiseE: ronE, region: REGION, width: W, height: H, biases });
  assert.equal(six.method, 'difference-n');
  assert.equal(six.frames, 6);
  assert.deepEqual(six.progression.map((p) => p.frames), [2, 4, 6]);
  assert.ok(rel(six.darkCurrent, 0.5) < 0.1, `6-frame Dc ${six.darkCurrent}`);
  assert.ok(rel(six.darkCurrent, 0.5) < 0.05, `6-frame Dc (tighter) ${six.darkCurrent}`);
  assert.equal(six.pairEstimates.length, 3);
  assert.ok(six.pairStdev! > 0 && six.pairStdev! < 0.05, `pair spread ${six.pairStdev}`);
  // The all-pixel mean includes hot pixels: truth = Dc * mean(darkMap) over the region.
  let sum = 0;
  for (let y = REGION.y0; y < REGION.y0 + REGION.height; y++) for (let x = REGION.x0; x < REGION.x0 + REGION.width; x++) sum += s.darkMap[y * W + x]!;
  const meanTruth = (0.5 * sum) / (REGION.width * REGION.height);
  assert.ok(meanTruth > 0.55, `hot pixels raise the mean (${meanTruth})`);
  assert.ok(rel(six.darkCurrentMean, meanTruth) < 0.1, `mean Dc ${six.darkCurrentMean} vs ${meanTruth}`);
  assert.ok(six.rejected > 0, 'hot pixels rejected by clipping');
  // CCD: the naive method works and agrees.
  assert.ok(six.naive && six.naive.reliable, JSON.stringify(six.naive));
  assert.ok(rel(six.naive.darkCurrent, meanTruth) < 0.1, `naive ${six.naive.darkCurrent}`);
});

test('dark current, CMOS-like clamped: difference methods within 10% where the naive method fails', () => {
  const s = makeSensor({ width: W, height: H, gain: 0.8, readNoiseE: 1.8, biasLevel: 200, darkCurrent: 0.05, clamp: true, hotFraction: 0.001, seed: 31 });
  const t = 300;
  const darks = [0, 1, 2, 3].map((i) => ({ data: frame(s, { exposure: t, temperature: 0, seed: 300 + i }), exposure: t, temperature: 0.2 * i }));
  const biases = [0, 1].map((i) => ({ data: frame(s, { exposure: 0, seed: 400 + i }) }));
  const ronE = measureReadNoise(biases[0]!, biases[1]!, W, H, REGION, s.gain).readNoiseE!;
  const r = darkCurrentDifference(darks, { gain: s.gain, readNoiseE: ronE, region: REGION, width: W, height: H, biases });
  assert.ok(rel(r.darkCurrent, 0.05) < 0.1, `Dc ${r.darkCurrent}`);
  assert.ok(rel(r.progression[0]!.darkCurrent, 0.05) < 0.1, `2-frame Dc ${r.progression[0]!.darkCurrent}`);
  assert.ok(r.naive, 'naive computed');
  assert.equal(r.naive.reliable, false);
  assert.ok(r.naive.darkCurrent < 0.5 * 0.05, `naive ${r.naive.darkCurrent} is off`);
  assert.match(r.naive.warning!, /unreliable|disagrees/);
  assert.ok(r.warnings.some((w) => /naive/.test(w)));
});

test('difference method rejects odd counts and mismatched exposures or temperatures', () => {
  const d = (exposure: number, temperature: number, path: string) => ({ data: new Float32Array(4), exposure, temperature, path });
  assert.throws(() => checkDarkSet([d(60, -10, 'a'), d(60, -10, 'b'), d(60, -10, 'c')]), (e: unknown) => e instanceof DarkroomError && /even number/.test(e.message) && e.file === 'c');
  assert.throws(() => checkDarkSet([d(60, -10, 'a'), d(120, -10, 'b')]), (e: unknown) => e instanceof DarkroomError && e.code === 'MISMATCH' && /exposure/.test(e.message) && e.file === 'b');
  assert.throws(() => checkDarkSet([d(60, -10, 'a'), d(60, -5, 'b')]), (e: unknown) => e instanceof DarkroomError && e.code === 'MISMATCH' && /temperature/.test(e.message));
  assert.throws(() => checkDarkSet([d(60, -10, 'a')]), (e: unknown) => e instanceof DarkroomError && e.code === 'TOO_FEW');
  assert.deepEqual(checkDarkSet([d(60, -10, 'a'), d(60, -9.5, 'b')]), { exposure: 60, temperature: -9.75 });
});

test('doubling temperature from darks at six temperatures within 0.5 C (CCD and clamped CMOS)', () => {
  for (const [clamp, td, dc0] of [
    [false, 6.3, 0.5],
    [true, 5.5, 0.3],
  ] as const) {
    const s = makeSensor({ width: 128, height: 128, gain: 1.2, readNoiseE: 6, darkCurrent: dc0, doublingTemp: td, clamp, seed: 41 });
    const reg = centralRegion(128, 128, 0.95);
    const b = [0, 1].map((i) => ({ data: frame(s, { exposure: 0, seed: 500 + i }) }));
    const ronE = measureReadNoise(b[0]!, b[1]!, 128, 128, reg, s.gain).readNoiseE!;
    const darks = [];
    for (const T of [-20, -15, -10, -5, 0, 5]) for (let i = 0; i < 4; i++) darks.push({ data: frame(s, { exposure: 600, temperature: T, seed: 600 + i + 10 * (T + 30) }), exposure: 600, temperature: T + 0.1 * i });
    const groups = groupDarksByTemperature(darks);
    assert.equal(groups.length, 6);
    const pts = groups.map((g) => {
      const r = darkCurrentDifference(g, { gain: s.gain, readNoiseE: ronE, region: reg, width: 128, height: 128 });
      return { temperature: r.temperature!, darkCurrent: r.darkCurrent, frames: r.frames };
    });
    const fit = fitDarkVsTemperature(pts);
    assert.ok(Math.abs(fit.doublingTemperature - td) < 0.5, `doubling ${fit.doublingTemperature} vs ${td}`);
    assert.ok(rel(fit.darkCurrentAt0, darkCurrentAtT(s, 0)) < 0.1, `Dc(0) ${fit.darkCurrentAt0}`);
  }
});

test('temperature fit: exact on noiseless points, error on too few', () => {
  const pts = [-10, 0, 10].map((T) => ({ temperature: T, darkCurrent: 0.2 * Math.pow(2, T / 6.3) }));
  const f = fitDarkVsTemperature(pts);
  assert.ok(Math.abs(f.doublingTemperature - 6.3) < 1e-9);
  assert.ok(Math.abs(f.darkCurrentAt0 - 0.2) < 1e-12);
  assert.throws(() => fitDarkVsTemperature([{ temperature: 0, darkCurrent: 1 }]), (e: unknown) => e instanceof DarkroomError && e.code === 'TOO_FEW');
});

test('photon transfer curve: gain over the linear range, knee at full well', () => {
  const s = makeSensor({ width: 128, height: 128, gain: 1.5, readNoiseE: 9, fullWell: 40000, darkCurrent: 0, hotFraction: 0, seed: 51 });
  const reg = centralRegion(128, 128, 0.95);
  const b1 = { data: frame(s, { exposure: 0, seed: 1 }) };
  const b2 = { data: frame(s, { exposure: 0, seed: 2 }) };
  const flux = 1000;
  const pairs = [1, 2, 4, 8, 16, 24, 32, 38, 42, 48].map((t, i) => ({
    f1: { data: frame(s, { exposure: t, flux, seed: 10 + 2 * i }) },
    f2: { data: frame(s, { exposure: t, flux, seed: 11 + 2 * i }) },
    exposure: t,
  }));
  const p = photonTransferCurve(pairs, b1, b2, 128, 128, reg);
  assert.ok(rel(p.gain, 1.5) < 0.03, `PTC gain ${p.gain}`);
  assert.ok(p.fullWellReached);
  assert.ok(p.fullWellE > 0.75 * 40000 && p.fullWellE <= 1.02 * 40000, `full well ${p.fullWellE}`);
  assert.ok(p.linearRange.max >= (24000 / 1.5) * 0.97 && p.linearRange.max < 40000 / 1.5, `linear range ${JSON.stringify(p.linearRange)}`);
  assert.ok(p.points.filter((q) => q.signal > 41000 / 1.5).every((q) => !q.linear), 'saturated points are outside the linear range');
  assert.ok(p.responseNonlinearityPct! < 1, `nonlinearity ${p.responseNonlinearityPct}`);
});

test('amp glow map finds the corner and tells linear from non-linear growth', () => {
  for (const [power, linear] of [
    [1, true],
    [1.6, false],
  ] as const) {
    const s = makeSensor({ width: 128, height: 128, gain: 1, readNoiseE: 3, darkCurrent: 0.02, glow: 0.5, glowPower: power, clamp: true, seed: 61 });
    const bias = frame(s, { exposure: 0, seed: 9 });
    const pts = [30, 60, 120, 240].map((t) => {
      const m = ampGlowMap(frame(s, { exposure: t, seed: t }), 128, 128, 16, bias);
      assert.equal(m.location, 'first rows, left');
      return { exposure: t, amplitude: m.amplitude, noise: m.blockNoise };
    });
    // Truth for the corner block: mean glow over the 16x16 block at (0,0) (median ~ mean here).
    let g = 0;
    for (let y = 0; y < 16; y++) for (let x = 0; x < 16; x++) g += 0.5 * Math.exp(-Math.hypot(x, y) / 12.8);
    g /= 256;
    const far = 0.5 * Math.exp(-Math.hypot(72, 72) / 12.8);
    const expect240 = (g - far) * Math.pow(240, power);
    assert.ok(rel(pts[3]!.amplitude, expect240) < 0.25, `amplitude ${pts[3]!.amplitude} vs ~${expect240}`);
    const gr = glowGrowth(pts, Math.max(...pts.map((p) => p.noise)));
    assert.equal(gr.linear, linear, gr.message);
  }
});
