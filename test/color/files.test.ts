/**
 * debayerFiles, the one demosaicing driver behind `darkroom debayer` and the pipeline's debayer step:
 * the header's pattern (or the caller's), the group's pattern for frames without one, a bad frame
 * thrown (default) or left out, progress events, outputs never overwriting inputs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { readFits, writeFits } from '../../src/fits/index.js';
import { parseCfa } from '../../src/color/cfa.js';
import { debayerFiles } from '../../src/color/files.js';
import { createImage } from '../../src/image/image.js';
import { isDarkroomError } from '../../src/util/errors.js';
import { useTempDir } from '../helpers/env.js';
import { mosaic, scene } from './synth.js';

const W = 16, H = 12;
function cfaFile(path: string, pattern: string, header: string | undefined): string {
  const img = createImage(W, H, 1);
  img.data = [mosaic(scene(W, H, (_x, _y, c) => [3000, 1500, 500][c]!), W, H, parseCfa(pattern)!)];
  if (header) img.header.set('BAYERPAT', header);
  writeFits(path, img);
  return path;
}

test('debayerFiles: header pattern, fallback pattern for a frame without one, progress, planned outputs', async (t) => {
  const dir = useTempDir(t);
  const inputs = [cfaFile(join(dir, 'a.fits'), 'GRBG', 'GRBG'), cfaFile(join(dir, 'b.fits'), 'RGGB', undefined)];
  const outs = [join(dir, 'deb', 'a_d.fits'), join(dir, 'deb', 'b_d.fits')];
  const done: string[] = [];
  const r = await debayerFiles(inputs, outs, { method: 'bilinear', fallbackPattern: 'RGGB', historyHead: (f) => [`run: debayer bilinear ${f}`] }, { onProgress: (e) => done.push(e.file) });
  assert.deepEqual(done, inputs);
  assert.deepEqual(r.frames.map((f) => (f.ok ? f.cfa : f.reason)), ['GRBG', 'RGGB']);
  for (const o of outs) {
    const img = readFits(o);
    assert.equal(img.channels, 3);
    const mean = img.data.map((p) => p.reduce((s, v) => s + v, 0) / p.length);
    assert.ok(Math.abs(mean[0]! - 3000) < 1 && Math.abs(mean[2]! - 500) < 1, `${o}: ${mean}`);
  }
  assert.ok(readFits(outs[1]!).header.history().includes(`run: debayer bilinear ${inputs[1]}`));
});

test('debayerFiles: a frame without a pattern is thrown by default, left out with reject; inputs never overwritten', async (t) => {
  const dir = useTempDir(t);
  const inputs = [cfaFile(join(dir, 'a.fits'), 'RGGB', 'RGGB'), cfaFile(join(dir, 'mono.fits'), 'RGGB', undefined)];
  const out = (f: string): string => join(dir, 'o', f.split('/').pop()!);
  await assert.rejects(debayerFiles(inputs, out), (e: unknown) => isDarkroomError(e) && e.file === inputs[1] && /no BAYERPAT/.test(e.message));
  const warned: string[] = [];
  const r = await debayerFiles(inputs, out, { frameErrors: 'reject' }, { onWarning: (w) => warned.push(`${w.code} ${w.file}`) });
  assert.deepEqual(r.frames.map((f) => f.ok), [true, false]);
  assert.deepEqual(warned, [`FRAME_FAILED ${inputs[1]}`]);
  assert.equal(existsSync(out(inputs[1]!)), false);
  await assert.rejects(debayerFiles(inputs, (f) => f), (e: unknown) => isDarkroomError(e) && /would overwrite input/.test(e.message));
  await assert.rejects(debayerFiles(inputs, out, { method: 'ahd' as never }), (e: unknown) => isDarkroomError(e) && /unknown method 'ahd'/.test(e.message));
});
