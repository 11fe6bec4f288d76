/**
 * One thread pool for a run (pipeline/run-pool.ts): inside withRunPool, the masters' flat
 * statistics, calibration and integration run their tasks on the run's threads (counted by the
 * pool: one per frame, per first-pass frame and per band) instead of starting pools of their own,
 * and every output is byte-identical to the same work done on this thread alone.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { calibrateFiles } from '../../src/calibrate/files.js';
import { writeMaster } from '../../src/calibrate/masters.js';
import { loadMaster } from '../../src/calibrate/masters.js';
import { withRunPool } from '../../src/pipeline/run-pool.js';
import { sharedPool } from '../../src/util/frame-pool.js';
import { Rng } from '../../src/util/random.js';
import { useTempDir } from '../helpers/env.js';
import { writePlanes } from '../helpers/fits.js';

const W = 96, H = 64;

function frames(dir: string, kind: string, n: number, level: (x: number, y: number) => number, sigma: number, seed: number): string[] {
  const rng = new Rng(seed);
  const planes = Array.from({ length: n }, () => Float32Array.from({ length: W * H }, (_, i) => Math.round(level(i % W, Math.floor(i / W)) + sigma * rng.gauss())));
  return writePlanes(dir, planes, W, H, (i) => `${kind}_${i}.fits`, { bitpix: 16, keywords: { IMAGETYP: kind, EXPTIME: kind === 'bias' ? 0 : 2 } });
}

/** The data unit of a FITS file (after the header), for byte comparisons that ignore DATE. */
function dataOf(path: string): Buffer {
  const b = readFileSync(path);
  for (let off = 0; off < b.length; off += 2880) {
    for (let k = 0; k < 2880; k += 80) if (b.toString('latin1', off + k, off + k + 8) === 'END     ') return b.subarray(off + 2880);
  }
  throw new Error(`no END card in ${path}`);
}

function bandsOf(history: string[]): number {
  const m = history.join('\n').match(/bands=(\d+)/);
  assert.ok(m, 'HISTORY names the bands');
  return Number(m[1]);
}

test('withRunPool: masters, flat preparation, calibration and integration on the run threads, outputs identical to one thread', async (t) => {
  const dir = useTempDir(t);
  const bias = frames(dir, 'bias', 4, () => 1000, 8, 1);
  const flats = frames(dir, 'flat', 4, (x, y) => 1000 + 20000 * (1 - 0.2 * ((x - 48) ** 2 + (y - 32) ** 2) / 3000), 60, 2);
  const lights = frames(dir, 'light', 4, (x, y) => 1000 + 500 + ((x * 7 + y * 3) % 50), 12, 3);

  // alone: one thread
  const mb1 = join(dir, 'mb1.fits'), mf1 = join(dir, 'mf1.fits');
  await writeMaster('bias', bias, mb1, { workers: 1 });
  await writeMaster('flat', flats, mf1, { workers: 1, bias: loadMaster(mb1) });
  const c1 = await calibrateFiles(lights, (p) => p.replace('.fits', '_c1.fits'), { bias: mb1, flat: mf1, workers: 1 });

  // in a run: two threads of one pool
  const mb2 = join(dir, 'mb2.fits'), mf2 = join(dir, 'mf2.fits');
  const counts = await withRunPool(2, async () => {
    const pool = (): number => sharedPool()!.piscina().completed;
    const rb = await writeMaster('bias', bias, mb2, { workers: 2 });
    const afterBias = pool();
    const rf = await writeMaster('flat', flats, mf2, { workers: 2, bias: loadMaster(mb2) });
    const afterFlat = pool();
    const c2 = await calibrateFiles(lights, (p) => p.replace('.fits', '_c2.fits'), { bias: mb2, flat: mf2, workers: 2 });
    assert.equal(c2.threads, 2);
    return { bias: afterBias, flat: afterFlat - afterBias, calibrate: pool() - afterFlat, biasBands: bandsOf(rb.history), flatBands: bandsOf(rf.history) };
  });
  // bias: frame 0's noise + the bands; flat: 4 first-pass frames (each read minus the bias there, normalized) + the bands; calibration: one task per light
  assert.equal(counts.bias, 1 + counts.biasBands);
  assert.equal(counts.flat, 4 + counts.flatBands);
  assert.equal(counts.calibrate, 4);
  assert.ok(counts.biasBands > 1 && counts.flatBands > 1, `bands ${counts.biasBands}, ${counts.flatBands}`);

  assert.ok(dataOf(mb1).equals(dataOf(mb2)), 'master bias');
  assert.ok(dataOf(mf1).equals(dataOf(mf2)), 'master flat');
  for (const f of c1.frames) assert.ok(dataOf(f.output).equals(dataOf(f.output.replace('_c1.fits', '_c2.fits'))), f.output);
});
