/**
 * registerFiles, the one registration driver behind `darkroom register` and the pipeline's register
 * step: outputs by list, the reference named through a mapping (the pipeline's raw lights), REG*
 * keywords and HISTORY in every output, frames left out with a structured warning, progress events,
 * a caller's WarpPool left open.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import { renderStars, randomStarField } from '../../src/devices/sim/stars.js';
import { Rng } from '../../src/util/random.js';
import { readFits } from '../../src/fits/index.js';
import { registerFiles } from '../../src/register/files.js';
import { WarpPool } from '../../src/register/resample.js';
import { isDarkroomError } from '../../src/util/errors.js';
import type { WarningEvent } from '../../src/util/warnings.js';
import { useTempDir } from '../helpers/env.js';
import { writePlane } from '../helpers/fits.js';

const W = 128, H = 96;
/** A star field shifted by (dx, dy) (frame pixel (x, y) = sky (x - dx, y - dy)), or noise only. */
function field(path: string, seed: number, dx: number, dy: number, stars = true): string {
  const rng = new Rng(seed);
  const p = new Float32Array(W * H);
  for (let i = 0; i < p.length; i++) p[i] = 800 + 8 * rng.gauss();
  if (stars) renderStars(p, W, H, randomStarField(7, W, H, 40, { fluxMin: 8000, fluxMax: 80000 }).map((s) => ({ ...s, x: s.x + dx, y: s.y + dy })), { kind: 'gaussian', fwhm: 2.5 });
  return writePlane(path, p, W, H);
}

test('registerFiles: planned outputs, reference by raw name, REG* keywords, left-out frames, progress, caller pool', async (t) => {
  const dir = useTempDir(t);
  const inputs = [field(join(dir, 'c0.fits'), 1, 0, 0), field(join(dir, 'c1.fits'), 2, 3.5, -2.25), field(join(dir, 'c2.fits'), 3, 0, 0, false)];
  const outputs = inputs.map((_, i) => join(dir, 'registered', `L${i}_r.fits`));
  const raw = new Map(inputs.map((p, i) => [p, `/night/L${i}.fits`]));
  const warnings: WarningEvent[] = [];
  const progress: number[] = [];
  const pool = new WarpPool(1);
  const r = await registerFiles(inputs, outputs, {
    reference: 'L1.fits', sourceOf: (p) => raw.get(p)!, model: 'shift', pool,
    historyHead: (input, ref) => [`run: registered ${basename(input)} onto ${basename(ref)}`],
  }, { onWarning: (w) => warnings.push(w), onProgress: (e) => progress.push(e.done) });
  assert.equal(r.reference, inputs[1]);
  assert.equal(r.referenceIndex, 1);
  assert.deepEqual(r.frames.map((f) => f.ok), [true, true, false]);
  assert.match(r.frames[2]!.reason!, /no stars detected/);
  assert.deepEqual(warnings.map((w) => [w.code, w.file]), [['FRAME_LEFT_OUT', inputs[2]]]);
  assert.deepEqual(progress, [1, 2, 3]);
  assert.equal(existsSync(outputs[2]!), false);
  const f0 = r.frames[0]!;
  assert.ok(Math.abs(f0.dx! - 3.5) < 0.05 && Math.abs(f0.dy! + 2.25) < 0.05, `dx ${f0.dx} dy ${f0.dy}`);
  const img = readFits(outputs[0]!);
  assert.equal(img.header.getString('REGMODEL'), 'shift');
  assert.equal(img.header.getString('REGREF'), 'c1.fits');
  assert.ok(Math.abs(img.header.getNumber('REGH13')! - f0.transform![2]!) < 1e-9);
  const hist = img.header.history();
  assert.ok(hist.includes('run: registered c0.fits onto c1.fits'), hist.join('\n'));
  assert.ok(hist.some((l) => l.startsWith('H (frame -> reference)')));
  // the caller's pool is still usable
  const again = await pool.warp(new Float32Array(4), 2, 2, [1, 0, 0, 0, 1, 0, 0, 0, 1] as never, 2, 2);
  assert.equal(again.length, 4);
  await pool.close();
});

test('registerFiles: a reference that names no frame is a warning and the best frame is chosen; CLI mode reads it as a file', async (t) => {
  const dir = useTempDir(t);
  const inputs = [field(join(dir, 'a.fits'), 4, 0, 0), field(join(dir, 'b.fits'), 5, 1.5, 1)];
  const warnings: WarningEvent[] = [];
  const r = await registerFiles(inputs, (p) => join(dir, 'o', basename(p)), { reference: 'nowhere.fits', model: 'shift', workers: 1 }, { onWarning: (w) => warnings.push(w) });
  assert.deepEqual(warnings.map((w) => w.code), ['REFERENCE_NOT_FOUND']);
  assert.ok(r.referenceIndex >= 0 && r.frames.every((f) => f.ok));
  const ext = field(join(dir, 'ext.fits'), 6, -1, 0.5);
  const e = await registerFiles(inputs, (p) => join(dir, 'o2', basename(p)), { reference: ext, referenceNotFound: 'file', model: 'shift', workers: 1 });
  assert.equal(e.reference, ext);
  assert.equal(e.referenceIndex, -1);
  assert.ok(Math.abs(e.frames[0]!.dx! + 1) < 0.05, `dx ${e.frames[0]!.dx}`);
});

test('registerFiles: reject-if rules leave frames out (not an error), weights over the written frames; outputs never overwrite inputs', async (t) => {
  const dir = useTempDir(t);
  const inputs = [field(join(dir, 'a.fits'), 7, 0, 0), field(join(dir, 'b.fits'), 8, 2, 0), field(join(dir, 'c.fits'), 9, 0, 2)];
  const r = await registerFiles(inputs, (p) => join(dir, 'o', basename(p)), { model: 'shift', workers: 1, rejectIf: ['stars > 1000'], weightExpr: '1' });
  assert.ok(r.frames.every((f) => f.ok && f.weight === 1));
  await assert.rejects(registerFiles(inputs, (p) => join(dir, 'o', basename(p)), { rejectIf: ['stars >'] }), (e: unknown) => isDarkroomError(e));
  await assert.rejects(registerFiles(inputs, (p) => p, { model: 'shift' }), (e: unknown) => isDarkroomError(e) && /would overwrite input/.test(e.message));
  await assert.rejects(registerFiles(inputs, [join(dir, 'x.fits')], {}), (e: unknown) => isDarkroomError(e) && /3 input\(s\) but 1 output/.test(e.message));
});
