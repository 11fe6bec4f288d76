import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { useTempDir } from '../helpers/env.js';
import { writeFits } from '../../src/fits/index.js';
import { createImage } from '../../src/image/image.js';
import { Rng } from '../../src/util/random.js';
import { closeFrames, integrateFiles, openFrames, prepareIntegration, resolveOptions, runEngine } from '../../src/integrate/index.js';
import { decodeJson, encodeJson, tileRanges } from '../../src/pipeline/executors/tiles.js';

test('row tiles integrated separately with the shared first pass are bit-identical to the whole (mono and RGB, any tile height)', async (t) => {
  const dir = useTempDir(t);
  const rng = new Rng(5);
  for (const channels of [1, 3]) {
    const paths: string[] = [];
    for (let i = 0; i < 7; i++) {
      const img = createImage(40, 33, channels);
      for (const p of img.data) for (let k = 0; k < p.length; k++) p[k] = 100 + 7 * i + 3 * (1 + 0.2 * i) * rng.gauss() + (rng.uniform() < 0.01 ? 5000 : 0);
      img.header.set('EXPTIME', 30 + i, '', { float: true });
      const path = join(dir, `c${channels}_${i}.fits`);
      writeFits(path, img, { bitpix: -32 });
      paths.push(path);
    }
    const opts = { reject: 'winsorized' as const, normalize: 'additive-scaling' as const, weights: 'noise' as const, workers: 1 };
    const whole = await integrateFiles(paths, opts);
    const o = resolveOptions(opts);
    const { frames, geometry: g } = openFrames(paths);
    try {
      // The prep travels between machines as JSON: it must survive exactly (Float64Array, ±Infinity).
      const prep = decodeJson<ReturnType<typeof prepareIntegration>>(encodeJson(prepareIntegration(frames, g, o)));
      assert.ok(prep.params[0]!.ca instanceof Float64Array);
      assert.equal(prep.params[0]!.rangeLow, -Infinity);
      for (const tileRows of [1, 5, 16, 33]) {
        const planes = whole.image.data.map((p) => new Float32Array(p.length).fill(NaN));
        let low = 0;
        for (const [y0, y1] of tileRanges(g.height, tileRows)) {
          const eng = await runEngine({ frames, geometry: g, params: prep.params, workers: 1, memoryBytes: 1 << 20, maps: false, rows: [y0, y1] });
          assert.equal(eng.planes[0]!.length, (y1 - y0) * g.width);
          eng.planes.forEach((p, c) => planes[c]!.set(p, y0 * g.width));
          low += eng.frameLow.reduce((s, x) => s + x, 0) + eng.frameHigh.reduce((s, x) => s + x, 0);
        }
        planes.forEach((p, c) => assert.ok(Buffer.from(p.buffer).equals(Buffer.from(whole.image.data[c]!.buffer)), `channels ${channels}, tiles of ${tileRows}: channel ${c} identical`));
        const wholeRej = whole.frames.reduce((s, f) => s + f.rejectedLowPct + f.rejectedHighPct, 0) / 100 * g.width * g.height * g.channels;
        assert.ok(Math.abs(low - wholeRej) < 1e-6, 'rejection counts add up over the tiles');
        assert.ok(low > 0, 'the outliers were rejected');
      }
    } finally {
      closeFrames(frames);
    }
  }
});

test('tile ranges cover the image once, in order', () => {
  assert.deepEqual(tileRanges(10, 4), [[0, 4], [4, 8], [8, 10]]);
  assert.deepEqual(tileRanges(8, 8), [[0, 8]]);
  assert.deepEqual(tileRanges(3, 16), [[0, 3]]);
  assert.deepEqual(decodeJson(encodeJson({ a: [NaN, Infinity, -Infinity, 0.1 + 0.2], f: Float64Array.from([1 / 3]) })), { a: [NaN, Infinity, -Infinity, 0.1 + 0.2], f: Float64Array.from([1 / 3]) });
});
