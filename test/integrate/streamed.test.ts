import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFits } from '../../src/fits/index.js';
import { integrateFiles, integrateToFile, rejectionMapPaths } from '../../src/integrate/index.js';
import { noiseRows } from '../../src/image/noise.js';
import { fitsverify, fileTempDir } from '../helpers/env.js';
import { makeStack } from './stackdata.js';

const tmp = fileTempDir();

const bits = (a: Float32Array): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

test('integrateToFile (streamed output, streamed statistics under a small budget) equals integrateFiles + its files', async () => {
  const s = makeStack(tmp, { n: 5, width: 96, height: 40, channels: 3, outlierFraction: 0.03, seed: 4, level: (i) => 900 + 20 * i, gain: (i) => 1 + 0.05 * i });
  for (const estimator of ['ikss', 'mad'] as const) {
    const opts = { normalize: 'additive-scaling' as const, rejectNormalize: 'additive-scaling' as const, weights: 'noise' as const, estimator, rejectionMaps: true };
    const mem = await integrateFiles(s.paths, { ...opts, workers: 1 });
    // 20 KB: a plane (15 KB) does not fit three times, so location/scale stream by bands
    const out = join(tmp, `streamed-${estimator}.fits`);
    const r = await integrateToFile(s.paths, out, { ...opts, workers: 2, memoryBytes: 20_000 });
    assert.deepEqual(r.frames, mem.frames);
    assert.deepEqual(r.warnings, mem.warnings);
    assert.equal(r.noise, mem.noise);
    const maps = rejectionMapPaths(out);
    assert.deepEqual(r.files, [out, maps.low, maps.high]);
    const img = readFits(out);
    for (let c = 0; c < 3; c++) {
      assert.ok(bits(img.data[c]!).equals(bits(mem.image.data[c]!)), `${estimator} channel ${c}`);
      assert.ok(bits(readFits(maps.low).data[c]!).equals(bits(mem.rejectLow!.data[c]!)));
      assert.ok(bits(readFits(maps.high).data[c]!).equals(bits(mem.rejectHigh!.data[c]!)));
    }
    const strip = (h: string[]): string[] => h.filter((l) => !l.startsWith('bands='));
    assert.deepEqual(strip(r.history), strip(mem.history));
    assert.equal(readFits(maps.low).header.getString('IMAGETYP'), 'Rejection map (low)');
    assert.equal(fitsverify(out).errors, 0);
  }
});

test('the noise of planes above 2 Mpx is taken on their central rows', () => {
  assert.deepEqual(noiseRows(100, 50), [0, 50]);
  const [y0, y1] = noiseRows(4000, 4000);
  assert.equal(y1 - y0, Math.floor((1 << 21) / 4000));
  assert.equal(y0, (4000 - (y1 - y0)) >> 1);
});
