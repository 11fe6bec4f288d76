/**
 * registerFiles, the one registration driver behind `darkroom register` and the pipeline's register
 * step: outputs by list, the reference named through a mapping (the pipeline's raw lights), REG*
 * keywords and HISTORY in every output, frames left out with a structured warning, progress events,
 * the same outputs whatever the thread count.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { renderStars, randomStarField } from '../../src/devices/sim/stars.js';
import { Rng } from '../../src/util/random.js';
import { readFits } from '../../src/fits/index.js';
import { registerFiles } from '../../src/register/files.js';
import { warpPlane } from '../../src/register/resample.js';
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

test('registerFiles: planned outputs, reference by raw name, REG* keywords, left-out frames, progress, on two threads', async (t) => {
  const dir = useTempDir(t);
  const inputs = [field(join(dir, 'c0.fits'), 1, 0, 0), field(join(dir, 'c1.fits'), 2, 3.5, -2.25), field(join(dir, 'c2.fits'), 3, 0, 0, false)];
  const outputs = inputs.map((_, i) => join(dir, 'registered', `L${i}_r.fits`));
  const raw = new Map(inputs.map((p, i) => [p, `/night/L${i}.fits`]));
  const warnings: WarningEvent[] = [];
  const progress: number[] = [];
  const r = await registerFiles(inputs, outputs, {
    reference: 'L1.fits', sourceOf: (p) => raw.get(p)!, model: 'shift', workers: 2,
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

test('registerFiles: frames on two threads give byte-identical outputs and reports to one thread (rotation, weights, an unreadable frame)', async (t) => {
  const dir = useTempDir(t);
  const inputs = [field(join(dir, 'a.fits'), 11, 0, 0), field(join(dir, 'b.fits'), 12, 2.3, -1.7), field(join(dir, 'c.fits'), 13, -3.1, 0.6)];
  // a rotated copy of a (general map: the stepped Lanczos path) and a file that is not FITS
  const a = readFits(inputs[0]!);
  const rot = warpPlane(a.data[0]!, W, H, Float64Array.from([Math.cos(0.02), -Math.sin(0.02), 1.2, Math.sin(0.02), Math.cos(0.02), -0.4, 0, 0, 1]), W, H);
  for (let i = 0; i < rot.length; i++) if (!Number.isFinite(rot[i]!)) rot[i] = 800;
  inputs.push(writePlane(join(dir, 'd.fits'), rot, W, H));
  writeFileSync(join(dir, 'e.fits'), 'not a FITS file');
  inputs.push(join(dir, 'e.fits'));
  const runWith = async (workers: number): Promise<{ r: Awaited<ReturnType<typeof registerFiles>>; bytes: (Buffer | null)[]; progress: number[] }> => {
    const progress: number[] = [];
    const out = join(dir, `w${workers}`);
    const r = await registerFiles(inputs, (p) => join(out, basename(p)), { reference: inputs[0], model: 'similarity', workers, weightExpr: 'stars' }, { onProgress: (e) => progress.push(e.done) });
    return { r, progress, bytes: inputs.map((p) => (existsSync(join(out, basename(p))) ? readFileSync(join(out, basename(p))) : null)) };
  };
  const one = await runWith(1), two = await runWith(2);
  assert.equal(one.r.threads, 1);
  assert.equal(two.r.threads, 2);
  assert.deepEqual(two.progress, [1, 2, 3, 4, 5]);
  assert.deepEqual(one.r.frames.map((f) => f.ok), [true, true, true, true, false]);
  assert.deepEqual(two.r.frames.map((f) => ({ ...f, output: f.output && basename(f.output) })), one.r.frames.map((f) => ({ ...f, output: f.output && basename(f.output) })));
  // byte-identical but for the DATE card (when the file was written)
  const undated = (b: Buffer): string => b.toString('latin1').replace(/DATE    = '[^']*'/, 'DATE');
  for (let i = 0; i < 4; i++) assert.ok(undated(one.bytes[i]!) === undated(two.bytes[i]!), `frame ${i} differs`);
  assert.equal(two.bytes[4], null);
  // the rotated frame was matched with its rotation (0.02 rad = 1.146 deg, back onto a)
  const d = two.r.frames[3]!;
  assert.ok(Math.abs(Math.abs(d.rotation!) - (0.02 * 180) / Math.PI) < 0.1, `rotation ${d.rotation}`);
  assert.ok(two.r.frames[1]!.weight! > 0 && Math.abs(two.r.frames.filter((f) => f.ok).reduce((t, f) => t + f.weight!, 0) - 4) < 1e-9);
});
