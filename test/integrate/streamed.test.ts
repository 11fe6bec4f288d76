import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readFits, type FitsHeader } from '../../src/fits/index.js';
import { integrateFiles, integrateToFile, rejectionMapPaths, writeIntegration } from '../../src/integrate/index.js';
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
    const r = await integrateToFile(s.paths, out, { ...opts, workers: 2, memory: 20_000 });
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

test('integrateToFile: `stamp` edits the header and HISTORY before they are written, as writeIntegration after an edit of integrateFiles\' result', async () => {
  const s = makeStack(tmp, { n: 4, width: 64, height: 32, channels: 1, outlierFraction: 0.02, seed: 9 });
  const opts = { normalize: 'additive-scaling' as const, weights: 'noise' as const, rejectionMaps: true, workers: 1 };
  const edit = (h: FitsHeader, history: string[]): void => {
    h.set('OBJECT', 'M 42');
    h.set('EXPTIME', 480, '[s] total exposure', { float: true });
    history.unshift('run: stacked 4 frames');
  };
  const mem = await integrateFiles(s.paths, opts);
  edit(mem.image.header, mem.history);
  const a = join(tmp, 'stamped-mem.fits');
  writeIntegration(mem, a);
  const b = join(tmp, 'stamped-streamed.fits');
  await integrateToFile(s.paths, b, opts, edit);
  const undated = (p: string): string => readFileSync(p).toString('latin1').replace(/DATE    = '[^']*'/, 'DATE');
  for (const [x, y] of [[a, b], [rejectionMapPaths(a).low, rejectionMapPaths(b).low], [rejectionMapPaths(a).high, rejectionMapPaths(b).high]] as const) {
    assert.equal(undated(y), undated(x), `${y} differs from ${x}`);
  }
  const img = readFits(b);
  assert.equal(img.header.getString('OBJECT'), 'M 42');
  assert.equal(img.header.getNumber('EXPTIME'), 480);
  assert.equal(img.header.history().filter((l) => l === 'run: stacked 4 frames').length, 1);
  // the maps keep the integration's header (no OBJECT), with the edited HISTORY
  assert.equal(readFits(rejectionMapPaths(b).low).header.getString('OBJECT'), undefined);
});
