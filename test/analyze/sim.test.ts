// Sensor analysis on frames of the project's physical simulator (src/devices/sim): bias column
// structure, DSNU, hot pixels, amp glow, vignetting, dust, cosmic rays, CMOS black-level clamp.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createCamera, sensorModel, simulateFrame } from '../../src/devices/sim/index.js';
import { centralRegion, measureReadNoise, measureGain, darkCurrentDifference, checkBlackLevelClamp, differenceVariance, ampGlowMap, glowGrowth } from '../../src/analyze/index.js';
import { meanStd, extractRegion } from '../../src/analyze/robust.js';

const W = 256;
const H = 256;

function rel(a: number, b: number): number {
  return Math.abs(a - b) / Math.abs(b);
}

for (const id of ['kaf8300', 'cmos']) {
  test(`simulated ${id}: read noise and gain within 3%, dark current within 10%, clamp detected for CMOS`, () => {
    // No amp glow here (on a 256-pixel crop the simulator's glow reaches the centre); glow: see below.
    const s = sensorModel(id, { width: W, height: H, ampGlow: 0 });
    const cam = createCamera(s, 3);
    const T = 10;
    const shot = (kind: 'bias' | 'dark' | 'flat', exposure: number, seed: number) => ({ data: simulateFrame(cam, { kind, exposure, ccdTemp: T, seed }).image.data[0]!, exposure, temperature: T });
    const reg = centralRegion(W, H, 0.8);
    const b1 = shot('bias', 0, 1);
    const b2 = shot('bias', 0, 2);
    const rn = measureReadNoise(b1, b2, W, H, reg, s.gain);
    assert.ok(rel(rn.readNoiseE!, Math.sqrt(s.readNoise ** 2 + s.gain ** 2 / 12)) < 0.03, `read noise ${rn.readNoiseE} vs ${s.readNoise}`);
    const g = measureGain(shot('flat', 2, 3), shot('flat', 2, 4), b1, b2, W, H, reg);
    assert.ok(rel(g.gain, s.gain) < 0.03, `gain ${g.gain} vs ${s.gain}`);
    const t = 600;
    const darks = [5, 6, 7, 8].map((k) => shot('dark', t, k));
    const ronE = rn.readNoiseE!;
    const dc = darkCurrentDifference(darks, { gain: s.gain, readNoiseE: ronE, region: reg, width: W, height: H, biases: [b1, b2] });
    // Truth: thermal dark current + glow of the non-hot pixels in the region (from the simulator's truth maps).
    const truth = simulateFrame(cam, { kind: 'dark', exposure: t, ccdTemp: T, seed: 5 }).truth;
    const dcMap = extractRegion(truth.darkCurrent, W, reg);
    const glow = extractRegion(truth.glow, W, reg);
    const med = [...dcMap].sort((a, b) => a - b)[dcMap.length >> 1]!;
    const normal = new Float64Array(dcMap.length).fill(NaN);
    const all = new Float64Array(dcMap.length);
    for (let i = 0; i < dcMap.length; i++) {
      all[i] = dcMap[i]! + glow[i]!;
      if (dcMap[i]! < 5 * med) normal[i] = dcMap[i]! + glow[i]!;
    }
    const typical = meanStd(normal).mean;
    assert.ok(rel(dc.darkCurrent, typical) < 0.1, `Dc ${dc.darkCurrent} vs ${typical}`);
    assert.ok(rel(dc.darkCurrentMean, meanStd(all).mean) < 0.15, `mean Dc ${dc.darkCurrentMean} vs ${meanStd(all).mean}`);
    const clamp = checkBlackLevelClamp({
      darkMean: meanStd(extractRegion(darks[0]!.data, W, reg)).mean,
      biasMean: meanStd(extractRegion(b1.data, W, reg)).mean,
      darkDiffVariance: differenceVariance(darks[0]!.data, darks[1]!.data, W, reg).variance,
      biasDiffVariance: rn.diffVariance,
      gain: s.gain,
    });
    assert.equal(clamp.status, s.blackClamp ? 'warn' : 'ok', clamp.message);
    assert.equal(dc.naive!.reliable, !s.blackClamp, JSON.stringify(dc.naive));
  });
}

test('simulated CMOS amp glow: located at its corner, grows linearly with exposure', () => {
  const s = sensorModel('cmos', { width: W, height: H });
  const cam = createCamera(s, 4);
  const bias = simulateFrame(cam, { kind: 'bias', exposure: 0, ccdTemp: 0, seed: 1 }).image.data[0]!;
  const pts = [60, 120, 240].map((t) => {
    const m = ampGlowMap(simulateFrame(cam, { kind: 'dark', exposure: t, ccdTemp: 0, seed: t }).image.data[0]!, W, H, 16, bias);
    assert.equal(m.location, 'first rows, right');
    return { exposure: t, amplitude: m.amplitude, noise: m.blockNoise };
  });
  const g = glowGrowth(pts, Math.max(...pts.map((p) => p.noise)));
  assert.equal(g.linear, true, g.message);
  // Truth: the corner block's glow minus the median level, ADU per second: slope within 25%.
  let corner = 0;
  for (let y = 0; y < 16; y++) for (let x = W - 16; x < W; x++) corner += cam.glow[y * W + x]!;
  corner /= 256;
  const sorted = [...cam.glow].sort((a, b) => a - b);
  const slopeTruth = (corner - sorted[sorted.length >> 1]!) / s.gain;
  assert.ok(rel(g.slope, slopeTruth) < 0.25, `glow slope ${g.slope} vs ${slopeTruth} ADU/s`);
});
