// The typical-pixel dark current is the median of the per-pixel rate (issue 15): checked against the
// simulator's per-pixel truth on a clamped CMOS night (amp glow skews the rates: their mean is well
// above their median) and on a CCD night whose dark signal is small against the read noise.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createCamera, sensorModel, simulateFrame } from '../../src/devices/sim/index.js';
import { centralRegion, measureReadNoise, darkCurrentDifference } from '../../src/analyze/index.js';
import { extractRegion } from '../../src/analyze/robust.js';
import { median } from '../../src/image/stats.js';

const W = 256;
const H = 256;

function rel(a: number, b: number): number {
  return Math.abs(a - b) / Math.abs(b);
}

function night(id: string, T: number, t: number, seed: number) {
  const s = sensorModel(id, { width: W, height: H });
  const cam = createCamera(s, seed);
  const shot = (kind: 'bias' | 'dark', exposure: number, k: number) => ({ data: simulateFrame(cam, { kind, exposure, ccdTemp: T, seed: 100 * seed + k }).image.data[0]!, exposure, temperature: T });
  const region = centralRegion(W, H, 0.8);
  const biases = [1, 2, 3, 4].map((k) => shot('bias', 0, k));
  const darks = [5, 6, 7, 8, 9, 10, 11, 12].map((k) => shot('dark', t, k));
  const readNoiseE = measureReadNoise(biases[0]!, biases[1]!, W, H, region, s.gain).readNoiseE!;
  const r = darkCurrentDifference(darks, { gain: s.gain, readNoiseE, region, width: W, height: H, biases });
  // Truth: what each pixel collects per second in the dark (thermal dark current + amp glow).
  const truth = simulateFrame(cam, { kind: 'dark', exposure: t, ccdTemp: T, seed: 1 }).truth;
  const dc = extractRegion(truth.darkCurrent, W, region);
  const glow = extractRegion(truth.glow, W, region);
  const rate = dc.map((v, i) => v + glow[i]!);
  const mean = rate.reduce((a, b) => a + b, 0) / rate.length;
  return { r, med: median(rate), mean, sensor: s };
}

test('dark current, clamped CMOS with amp glow: typical pixel within 3% of the median of the true per-pixel rate', () => {
  const { r, med, mean, sensor } = night('cmos', 10, 600, 3);
  assert.equal(sensor.blackClamp, true);
  assert.ok(mean > 1.2 * med, `the night must be skewed (mean ${mean} vs median ${med})`);
  assert.ok(rel(r.darkCurrent, med) < 0.03, `typical ${r.darkCurrent} vs median ${med} (noise-based ${r.darkCurrentNoise})`);
  assert.equal(r.typicalFrom, 'difference', 'clamped levels: tied to the difference method');
  assert.ok(r.typicalOffset > 0, `the clamp pulls the levels down: offset ${r.typicalOffset}`);
  assert.ok(rel(r.darkSignalE, med * 600) < 0.03);
  assert.equal(r.progression[r.progression.length - 1]!.darkCurrent, r.darkCurrent);
});

test('dark current, CCD with a dark signal below the read noise: typical pixel within 3% of the median of the true per-pixel rate', () => {
  // KAF-8300 at -10 C, 600 s: 4 e- of dark signal against 8 e- of read noise.
  const { r, med } = night('kaf8300', -10, 600, 4);
  assert.ok(rel(r.darkCurrent, med) < 0.03, `typical ${r.darkCurrent} vs median ${med} (noise-based ${r.darkCurrentNoise})`);
  assert.equal(r.typicalFrom, 'levels', 'unclamped levels: used as they are');
  assert.equal(r.typicalOffset, 0);
});
