import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkBlackLevelClamp, checkBiasStability, checkFlatExposure, checkLightLeak, countHotPixels } from '../../src/analyze/checks.js';
import { renderChart } from '../../src/analyze/plot.js';
import { Rng } from '../../src/util/random.js';

test('flat exposure: level vs saturation, pixels at/above the level, weakest CFA channel', () => {
  const w = 64;
  const h = 64;
  const p = new Float32Array(w * h);
  // RGGB: R 30000, G 32000, B 4000 (a strongly coloured panel).
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) p[y * w + x] = (y & 1) === 0 ? ((x & 1) === 0 ? 30000 : 32000) : (x & 1) === 0 ? 32000 : 4000;
  p[5] = 65535;
  p[6] = 61000;
  const r = checkFlatExposure(p, w, h, { bayer: 'RGGB' });
  assert.equal(r.details!.weakest_channel, 'B');
  assert.ok(Math.abs((r.details!.weakest_fraction_of_saturation as number) - 4000 / 65535) < 1e-9);
  assert.equal(r.details!.pixels_at_or_above_level, 2);
  assert.equal(r.status, 'warn');
  assert.match(r.message, /weakest CFA channel B at only 6\.1% of saturation/);
  assert.match(r.message, /2 pixels at or above 60000 ADU/);
  // A good mono flat at ~45%.
  const ok = checkFlatExposure(new Float32Array(w * h).fill(29500), w, h);
  assert.equal(ok.status, 'ok', ok.message);
  const low = checkFlatExposure(new Float32Array(w * h).fill(3000), w, h, { saturation: 65535 });
  assert.match(low.message, /underexposed/);
});

test('black-level clamp, light leak, bias stability and hot pixel count decisions', () => {
  assert.equal(checkBlackLevelClamp({ darkMean: 299.5, biasMean: 300 }).status, 'warn');
  // Dark noise implies 20 ADU of signal (G 1, excess variance 40) but only 1 ADU seen: clamped.
  assert.equal(checkBlackLevelClamp({ darkMean: 301, biasMean: 300, darkDiffVariance: 50, biasDiffVariance: 10, gain: 1 }).status, 'warn');
  assert.equal(checkBlackLevelClamp({ darkMean: 319, biasMean: 300, darkDiffVariance: 50, biasDiffVariance: 10, gain: 1 }).status, 'ok');
  const leak = checkLightLeak([
    { file: 'a', level: 1000.2, time: 3 },
    { file: 'b', level: 1000.0, time: 1 },
    { file: 'c', level: 1009.5, time: 2 },
  ]);
  assert.equal(leak.status, 'warn');
  assert.match(leak.message, /brightest: c/);
  assert.equal(checkLightLeak([{ file: 'a', level: 1000.2 }, { file: 'b', level: 1000.9 }]).status, 'ok');
  assert.equal(checkBiasStability([{ file: 'a', level: 1000 }, { file: 'b', level: 1003 }], 4).status, 'warn');
  assert.equal(checkBiasStability([{ file: 'a', level: 1000 }, { file: 'b', level: 1003 }], 10).status, 'ok');
  const rng = new Rng(3);
  const d = new Float32Array(100000);
  for (let i = 0; i < d.length; i++) d[i] = 500 + 10 * rng.gauss();
  for (let i = 0; i < 37; i++) d[i * 2011] = 900;
  const hp = countHotPixels(d);
  assert.equal(hp.count, 37);
});

test('chart: points land where the axes put them (linear and log)', () => {
  const { raster, png } = renderChart({ width: 200, height: 150, series: [{ points: [[0, 0], [10, 100]], color: [255, 0, 0], mode: 'points' }] });
  assert.deepEqual([...png.subarray(1, 4)], [0x50, 0x4e, 0x47]);
  // margins l 70, r 20, t 20, b 40: (0,0) -> (70, 110); (10,100) -> (180, 20).
  const at = (x: number, y: number) => [...raster.pixels.subarray(3 * (y * 200 + x), 3 * (y * 200 + x) + 3)];
  assert.deepEqual(at(71, 109), [255, 0, 0]);
  assert.deepEqual(at(179, 21), [255, 0, 0]);
  assert.deepEqual(at(125, 65), [255, 255, 255]);
  const log = renderChart({ width: 200, height: 150, xLog: true, yLog: true, series: [{ points: [[1, 1], [10, 10], [100, 100]], color: [0, 0, 255], mode: 'points' }] }).raster;
  const atl = (x: number, y: number) => [...log.pixels.subarray(3 * (y * 200 + x), 3 * (y * 200 + x) + 3)];
  assert.deepEqual(atl(125, 65), [0, 0, 255], 'the middle decade sits in the middle');
});
