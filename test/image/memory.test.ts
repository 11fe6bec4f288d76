import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, ftruncateSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { fileTempDir } from '../helpers/env.js';
import { runCliMaxRss } from '../helpers/rss.js';
import { BLOCK, FitsHeader, headerBytes, headerFor } from '../../src/fits/index.js';

const dir = fileTempDir();

/** A valid float32 FITS file of width x height whose data area is sparse (all zeros but a few rows). */
function sparseFits(path: string, width: number, height: number): void {
  const hdr = headerBytes(headerFor({ width, height, channels: 1, data: [], header: new FitsHeader() }, { bitpix: -32 }));
  const data = Math.ceil((width * height * 4) / BLOCK) * BLOCK;
  const fd = openSync(path, 'w');
  writeSync(fd, hdr);
  // one row of 1.0 (big-endian 0x3f800000) in the middle, the rest zeros
  const row = Buffer.alloc(width * 4);
  for (let x = 0; x < width; x++) row.writeFloatBE(1, x * 4);
  writeSync(fd, row, 0, row.length, hdr.length + (height >> 1) * width * 4);
  ftruncateSync(fd, hdr.length + data);
  closeSync(fd);
}

test('info on a large sparse float file streams its statistics in bounded memory', () => {
  const p = join(dir, 'sparse.fits');
  const W = 6000;
  const H = 6000; // 144 MB of float32: the old whole-plane code peaked above 1 GB
  sparseFits(p, W, H);
  const r = runCliMaxRss(['info', p, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const [rec] = JSON.parse(r.stdout) as { width: number; stats: { mean: number; median: number; max: number; min: number; mad: number } }[];
  assert.equal(rec!.width, W);
  assert.equal(rec!.stats.median, 0);
  assert.equal(rec!.stats.max, 1);
  assert.equal(rec!.stats.min, 0);
  assert.equal(rec!.stats.mad, 0);
  assert.ok(Math.abs(rec!.stats.mean - 1 / H) < 1e-12, `mean ${rec!.stats.mean}`);
  assert.ok(r.maxRssMB < 400, `info peaked at ${r.maxRssMB.toFixed(0)} MB for a 144 MB plane (bound 400 MB)`);
});
