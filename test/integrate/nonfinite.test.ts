import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { writeFits, readFits, FitsHeader } from '../../src/fits/index.js';
import { createImage } from '../../src/image/image.js';
import { integrateFiles, integrateToFile, rejectByCount, resolveOptions } from '../../src/integrate/index.js';
import { isDarkroomError } from '../../src/util/errors.js';
import { runCli, fileTempDir } from '../helpers/env.js';

const tmp = fileTempDir();

const W = 64;
const H = 32;

/** Frame i: a flat level with small per-pixel structure; `patch` overrides pixels. */
function frame(name: string, level: number, patch: (p: number) => number | undefined = () => undefined): string {
  const img = createImage(W, H, 1, new FitsHeader());
  const d = img.data[0]!;
  for (let p = 0; p < W * H; p++) d[p] = patch(p) ?? level + ((p * 7919) % 13);
  const path = join(tmp, name);
  writeFits(path, img);
  return path;
}

// pixel 5: NaN in frame c; pixel 6: +Inf in c; pixel 7: -Inf in c; pixel 9: NaN in all three;
// pixels 5..7 have 100 and 200 in a and b, which percentile clipping of two values would reject both.
const BAD = new Map<number, number>([[5, NaN], [6, Infinity], [7, -Infinity], [9, NaN]]);
const a = frame('a.fits', 1000, (p) => (p >= 5 && p <= 7 ? 100 : p === 9 ? NaN : undefined));
const b = frame('b.fits', 1010, (p) => (p >= 5 && p <= 7 ? 200 : p === 9 ? NaN : undefined));
const c = frame('c.fits', 1005, (p) => BAD.get(p));
const allNaN = frame('allnan.fits', 0, () => NaN);
const allInf = frame('allinf.fits', 0, (p) => (p % 2 ? Infinity : NaN));

test('the rejection per pixel follows the number of finite values there, not the number of frames', () => {
  const o = resolveOptions({ reject: 'winsorized' });
  assert.deepEqual(rejectByCount(o, 5), ['none', 'none', 'none', 'percentile', 'winsorized', 'winsorized']);
});

for (const kernel of ['ts', 'wasm'] as const) {
  test(`3 frames with one non-finite value at a pixel give the combination of the 2 others (${kernel} kernel)`, async () => {
    process.env.DARKROOM_KERNEL = kernel;
    try {
      const r = await integrateFiles([a, b, c], { normalize: 'none', weights: 'none', workers: 1 });
      const out = r.image.data[0]!;
      for (const p of [5, 6, 7]) assert.equal(out[p], 150, `pixel ${p}: ${out[p]}`);
      assert.ok(Number.isNaN(out[9]!), 'a pixel NaN in every frame stays NaN');
      let nan = 0;
      for (const v of out) if (v !== v) nan++;
      assert.equal(nan, 1);
      const ev = r.events ?? [];
      const nf = ev.filter((e) => e.code === 'NON_FINITE');
      assert.deepEqual(nf.map((e) => [e.file, e.count]), [[a, 1], [b, 1], [c, 4]]);
      const nv = ev.find((e) => e.code === 'NO_VALUE');
      assert.equal(nv?.count, 1);
      assert.ok(r.warnings.some((w) => w.startsWith(`${c}: 4 pixel values are NaN or infinite`)), r.warnings.join('\n'));
      // the rejection maps count nothing for the left-out values
      assert.equal(r.frames[2]!.rejectedHighPct, 0);
    } finally {
      delete process.env.DARKROOM_KERNEL;
    }
  });
}

test('a frame without a single finite pixel is refused, naming the file', async () => {
  for (const bad of [allNaN, allInf]) {
    await assert.rejects(integrateFiles([a, b, bad], { workers: 1 }), (e: unknown) => isDarkroomError(e) && e.file === bad && /no finite pixels/.test(e.message));
    await assert.rejects(integrateFiles([a, bad, b], { workers: 1, normalize: 'additive' }), (e: unknown) => isDarkroomError(e) && e.file === bad);
  }
});

test('streamed integration to a file: same pixels, warnings and refusal', async () => {
  const mem = await integrateFiles([a, b, c], { workers: 1 });
  const out = join(tmp, 'streamed.fits');
  const r = await integrateToFile([a, b, c], out, { workers: 2, memory: 3 * W * 4 * 4 * 5 });
  const img = readFits(out);
  const x = img.data[0]!;
  const y = mem.image.data[0]!;
  for (let p = 0; p < W * H; p++) assert.ok(Object.is(x[p], y[p]), `pixel ${p}: ${x[p]} vs ${y[p]}`);
  assert.deepEqual(r.warnings, mem.warnings);
  assert.equal(r.noise, mem.noise);
  const bad = join(tmp, 'never.fits');
  await assert.rejects(integrateToFile([a, allNaN], bad, { workers: 1 }), (e: unknown) => isDarkroomError(e) && e.file === allNaN);
});

test('darkroom stack: NaN/Inf values are left out per pixel with a warning; an all-NaN frame exits 2 in one line', () => {
  const out = join(tmp, 'cli.fits');
  const r = runCli(['stack', a, b, c, '-o', out, '--normalize', 'none', '--weights', 'none']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /warning: .*c\.fits: 4 pixel values are NaN or infinite/);
  assert.match(r.stderr, /warning: 1 pixels have no finite value in any frame/);
  const d = readFits(out).data[0]!;
  assert.equal(d[5], 150);
  const bad = runCli(['stack', a, b, allNaN, '-o', join(tmp, 'cli2.fits'), '--normalize', 'none', '--weights', 'none']);
  assert.equal(bad.code, 2, bad.stderr);
  const lines = bad.stderr.trim().split('\n').filter((l) => !l.includes('warning'));
  assert.equal(lines.length, 1, bad.stderr);
  assert.match(lines[0]!, /allnan\.fits: the frame has no finite pixels/);
});
