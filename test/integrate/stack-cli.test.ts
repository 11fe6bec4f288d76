import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fitsverify, runCli, fileTempDir } from '../helpers/env.js';
import { makeStack } from './stackdata.js';
import { readFits } from '../../src/fits/index.js';
import { integrateFiles } from '../../src/integrate/index.js';
import { DarkroomError } from '../../src/util/errors.js';

const tmp = fileTempDir();
const st = makeStack(tmp, { n: 6, width: 24, height: 20, outlierFraction: 0.02, seed: 3 }, 'c');

test('darkroom stack --json writes the result and the rejection maps, with HISTORY, passing fitsverify', () => {
  const out = join(tmp, 'master.fits');
  const r = runCli(['stack', ...st.paths, '-o', out, '--reject', 'winsorized', '--sigma-low', '3', '--sigma-high', '3', '--rejection-maps', '--memory', '64KB', '--normalize', 'none', '--weights', 'none', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout) as { frames: unknown[]; weights: number[]; noise: number; noiseRatio: number; rejectedLowPct: number; rejectedHighPct: number };
  assert.equal(j.frames.length, 6);
  assert.deepEqual(j.weights, [1, 1, 1, 1, 1, 1]);
  assert.ok(j.noise > 0 && j.noiseRatio > 0 && j.noiseRatio < 1);
  assert.ok(j.rejectedHighPct > 0 && j.rejectedLowPct > 0);
  for (const p of [out, join(tmp, 'master_rejlow.fits'), join(tmp, 'master_rejhigh.fits')]) {
    assert.ok(existsSync(p), p);
    assert.equal(fitsverify(p).errors, 0);
  }
  const img = readFits(out);
  const h = img.header.history().join('\n');
  assert.match(h, /reject=winsorized sigma-low=3 sigma-high=3/);
  assert.match(h, /c000\.fits/);
  assert.equal(img.header.getNumber('NCOMBINE'), 6);
  const low = readFits(join(tmp, 'master_rejlow.fits')).data[0]!;
  assert.ok(low.every((x) => x >= 0 && x <= 1));
});

test('frames of different sizes fail with one line naming the odd file (exit 2)', async () => {
  const odd = makeStack(tmp, { n: 1, width: 24, height: 21, seed: 4 }, 'odd');
  const r = runCli(['stack', st.paths[0]!, odd.paths[0]!, st.paths[1]!, '-o', join(tmp, 'x.fits')]);
  assert.equal(r.code, 2);
  assert.equal(r.stderr.trim().split('\n').length, 1);
  assert.ok(r.stderr.startsWith(`darkroom: ${odd.paths[0]}: frame is 24x21 with 1 channel(s); the first frame`), r.stderr);
  await assert.rejects(integrateFiles([st.paths[0]!, odd.paths[0]!]), (e: unknown) => e instanceof DarkroomError && e.code === 'MISMATCH' && e.file === odd.paths[0]);
});

test('frames with a different channel count fail naming the odd file', async () => {
  const rgb = makeStack(tmp, { n: 1, width: 24, height: 20, channels: 3, seed: 5 }, 'rgb');
  await assert.rejects(
    integrateFiles([...st.paths.slice(0, 2), rgb.paths[0]!]),
    (e: unknown) => e instanceof DarkroomError && e.code === 'MISMATCH' && e.file === rgb.paths[0] && /with 3 channel\(s\)/.test(e.message),
  );
});

test('linear fit with 3 frames: warning on stderr naming the fallback, still exit 0', () => {
  const out = join(tmp, 'few.fits');
  const r = runCli(['stack', ...st.paths.slice(0, 3), '-o', out, '--reject', 'linear-fit']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /darkroom: warning: linear-fit rejection needs at least 5 frames \(got 3\): using percentile clipping instead/);
});

test('bad options and files: one clear line, exit 2', () => {
  const o = join(tmp, 'y.fits');
  const cases: [string[], RegExp][] = [
    [['stack', ...st.paths, '-o', o, '--reject', 'foo'], /^darkroom: --reject: unknown value 'foo' \(choose none, minmax/],
    [['stack', ...st.paths, '-o', o, '--sigma-low', 'abc'], /^darkroom: --sigma-low: 'abc' is not a number/],
    [['stack', ...st.paths, '-o', o, '--weights', 'bogus'], /^darkroom: --weights: unknown value 'bogus'/],
    [['stack', ...st.paths, '-o', o, '--memory', 'lots'], /^darkroom: --memory: 'lots' is not a size/],
    [['stack', ...st.paths, '-o', o, '--weights', 'exposure'], /^darkroom: .*c000\.fits: no EXPTIME or EXPOSURE keyword \(needed for exposure weights\)/],
    [['stack', st.paths[0]!, join(tmp, 'missing.fits'), '-o', o], /^darkroom: .*missing\.fits: no such file/],
  ];
  for (const [args, re] of cases) {
    const r = runCli(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr.trim(), re);
    assert.equal(r.stderr.trim().split('\n').length, 1);
  }
});
