/**
 * Raw inputs are never modified: every command that writes files made from input files refuses,
 * before any work, an output that is an input (same path, `..` spelling, symlink, hard link) or two
 * outputs landing on one file (exit 2, one stderr line naming the file; inputs byte-identical).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { existsSync, linkSync, mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { writeFits } from '../../src/fits/index.js';
import { createImage } from '../../src/image/image.js';
import { renderStars, randomStarField } from '../../src/devices/sim/stars.js';
import { Rng } from '../../src/util/random.js';
import { assertOutputsAreNotInputs, physicalPath } from '../../src/util/paths.js';
import { DarkroomError } from '../../src/util/errors.js';
import { main } from '../../src/cli/main.js';
import { fileTempDir, runCli, subdir } from '../helpers/env.js';

const root = fileTempDir('darkroom-outputs-');
let n = 0;
/** A fresh folder per test, so that no test sees another's files. */
function folder(): string {
  return subdir(root, `t${n++}`);
}

const W = 128, H = 96;
/** A tiny 16-bit frame: noise around `level` ADU plus a fixed star field (registrable), `seed` for the noise. */
function frame(path: string, seed: number, header: Record<string, string | number> = {}, level = 800): void {
  const img = createImage(W, H);
  const rng = new Rng(seed);
  const p = img.data[0]!;
  for (let i = 0; i < p.length; i++) p[i] = level + 8 * rng.gauss();
  renderStars(p, W, H, randomStarField(3, W, H, 40, { fluxMin: 5000, fluxMax: 60000 }), { kind: 'gaussian', fwhm: 2.5 });
  for (const [k, v] of Object.entries(header)) img.header.set(k, v);
  writeFits(path, img, { bitpix: 16 });
}

/** The CLI in this process, in `cwd` (same main() as bin/darkroom; no 1-2 s process start per call). */
async function cliIn(cwd: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const ow = process.stdout.write.bind(process.stdout);
  const ew = process.stderr.write.bind(process.stderr);
  const here = process.cwd();
  process.stdout.write = ((c: string | Uint8Array) => (out.push(String(c)), true)) as typeof process.stdout.write;
  process.stderr.write = ((c: string | Uint8Array) => (err.push(String(c)), true)) as typeof process.stderr.write;
  process.chdir(cwd);
  process.exitCode = undefined; // node:test sets 1 after a failed test; main() reads it
  let code: number;
  try {
    code = await main(['node', 'darkroom', ...args]);
  } finally {
    process.chdir(here);
    process.stdout.write = ow;
    process.stderr.write = ew;
    process.exitCode = undefined;
  }
  return { code, stdout: out.join(''), stderr: err.join('') };
}

/** Asserts exit 2, one stderr line matching `line`, and the files `kept` (relative to `cwd`) unchanged. */
async function refused(cwd: string, args: string[], line: RegExp, kept: string[], run = cliIn): Promise<void> {
  const before = kept.map((f) => readFileSync(join(cwd, f)));
  const r = await run(cwd, args);
  assert.equal(r.code, 2, `exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0]!, line);
  kept.forEach((f, i) => assert.ok(readFileSync(join(cwd, f)).equals(before[i]!), `${f} was modified`));
}

/** The real command line in its own process (exit status included), with absolute paths. */
async function spawned(cwd: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return runCli(args.map((a) => (a.endsWith('.fits') ? join(cwd, a) : a)));
}

test('assertOutputsAreNotInputs: same path, .. spelling, symlink, hard link, symlinked folder, duplicate outputs', () => {
  const d = folder();
  writeFileSync(join(d, 'L1.fits'), 'x');
  writeFileSync(join(d, 'L2.fits'), 'y');
  linkSync(join(d, 'L1.fits'), join(d, 'hard.fits'));
  symlinkSync(join(d, 'L1.fits'), join(d, 'soft.fits'));
  symlinkSync(d, join(d, 'here'));
  mkdirSync(join(d, 'sub'));
  const ins = [join(d, 'L1.fits'), join(d, 'L2.fits')];
  const refusedFor = (outs: string[], re: RegExp): void =>
    assert.throws(() => assertOutputsAreNotInputs(outs, ins), (e: unknown) => e instanceof DarkroomError && e.code === 'BAD_ARGUMENT' && re.test(e.oneLine()));
  for (const o of ['L1.fits', 'sub/../L1.fits', 'hard.fits', 'soft.fits', 'here/L1.fits', 'here/sub/../L1.fits']) {
    refusedFor([`${d}/${o}`], /output would overwrite input .*L1\.fits; choose another output path/);
  }
  refusedFor([`${d}/new/../L2.fits`], /output would overwrite input .*L2\.fits/);
  // `here/..` goes through the symlink (as open() does): it is d's parent, not d (no lexical join here)
  assert.equal(physicalPath(`${d}/here/../x`), physicalPath(join(d, '..', 'x')));
  assert.doesNotThrow(() => assertOutputsAreNotInputs([`${d}/here/../L1.fits`], ins));
  assert.throws(
    () => assertOutputsAreNotInputs([join(d, 'o.fits'), join(d, 'here/o.fits')], ins, ['a/L1.fits', 'b/L1.fits']),
    (e: unknown) => e instanceof DarkroomError && /here\/o\.fits: output would be written twice \(from a\/L1\.fits and from b\/L1\.fits\)/.test(e.oneLine()),
  );
  assert.doesNotThrow(() => assertOutputsAreNotInputs([join(d, 'L3.fits'), join(d, 'sub/L1.fits'), join(d, 'no/such/dir/L1.fits')], ins));
});

test('stack -o an input, a hard link of an input, a symlink to an input, a `..` spelling, a rejection map', async () => {
  const d = folder();
  for (const i of [1, 2, 3]) frame(join(d, `L${i}.fits`), i);
  linkSync(join(d, 'L1.fits'), join(d, 'hard.fits'));
  symlinkSync('L1.fits', join(d, 'soft.fits'));
  mkdirSync(join(d, 'sub'));
  const L = ['L1.fits', 'L2.fits', 'L3.fits'];
  // the command line, in its own process: exit status 2
  await refused(d, ['stack', ...L, '-o', 'L1.fits'], /^darkroom: \S+\/L1\.fits: output would overwrite input \S+\/L1\.fits; choose another output path$/, L, spawned);
  await refused(d, ['stack', ...L, '-o', 'L1.fits'], /^darkroom: L1\.fits: output would overwrite input L1\.fits; choose another output path$/, L);
  await refused(d, ['stack', ...L, '-o', 'hard.fits'], /^darkroom: hard\.fits: output would overwrite input L1\.fits/, [...L, 'hard.fits']);
  await refused(d, ['stack', ...L, '-o', 'soft.fits'], /^darkroom: soft\.fits: output would overwrite input L1\.fits/, L);
  await refused(d, ['stack', ...L, '-o', './sub/../L2.fits'], /^darkroom: \.\/sub\/\.\.\/L2\.fits: output would overwrite input L2\.fits/, L);
  // the input is given through the symlink, the output is its target
  await refused(d, ['stack', 'soft.fits', 'L2.fits', 'L3.fits', '-o', 'L1.fits'], /^darkroom: L1\.fits: output would overwrite input soft\.fits/, L);
  // a rejection map of an earlier run, given again as an input
  frame(join(d, 'S_rejlow.fits'), 4);
  await refused(d, ['stack', ...L, 'S_rejlow.fits', '-o', 'S.fits', '--rejection-maps'], /^darkroom: S_rejlow\.fits: output would overwrite input S_rejlow\.fits/, [...L, 'S_rejlow.fits']);
  assert.equal(existsSync(join(d, 'S.fits')), false, 'nothing is written');
});

test('master bias -o one of the bias frames; master flat -o its --bias', async () => {
  const d = folder();
  for (const i of [1, 2, 3]) frame(join(d, `B${i}.fits`), 10 + i, { IMAGETYP: 'Bias Frame' });
  for (const i of [1, 2, 3]) frame(join(d, `F${i}.fits`), 20 + i, { IMAGETYP: 'Flat Field' }, 20000);
  const B = ['B1.fits', 'B2.fits', 'B3.fits'];
  await refused(d, ['master', 'bias', ...B, '-o', 'B1.fits'], /^darkroom: \S+\/B1\.fits: output would overwrite input \S+\/B1\.fits; choose another output path$/, B, spawned);
  await refused(d, ['master', 'bias', ...B, '-o', './B1.fits'], /^darkroom: \.\/B1\.fits: output would overwrite input B1\.fits; choose another output path$/, B);
  await refused(d, ['master', 'flat', 'F1.fits', 'F2.fits', 'F3.fits', '--bias', 'B3.fits', '-o', 'B3.fits'], /^darkroom: B3\.fits: output would overwrite input B3\.fits/, B);
});

test('calibrate into the lights folder where an input already has an output name; through a symlinked folder', async () => {
  const d = folder();
  mkdirSync(join(d, 'lights'));
  frame(join(d, 'MB.fits'), 30);
  // M42_c.fits is a raw frame whose name is the output name of M42.fits
  const lights = ['lights/M42.fits', 'lights/M42_c.fits', 'lights/M43.fits'];
  lights.forEach((l, i) => frame(join(d, l), 31 + i));
  symlinkSync('lights', join(d, 'link'));
  const line = /^darkroom: (lights|link)\/M42_c\.fits: output would overwrite input lights\/M42_c\.fits; choose another output path$/;
  await refused(d, ['calibrate', ...lights, '--bias', 'MB.fits', '-o', 'lights'], line, [...lights, 'MB.fits']);
  await refused(d, ['calibrate', ...lights, '--bias', 'MB.fits', '-o', 'link'], line, [...lights, 'MB.fits']);
  assert.deepEqual(readdirSync(join(d, 'lights')).sort(), ['M42.fits', 'M42_c.fits', 'M43.fits'], 'nothing is written');
  // a master is an input too: the master bias M43_c.fits would be replaced by the calibrated M43
  frame(join(d, 'M43_c.fits'), 35);
  await refused(d, ['calibrate', 'lights/M43.fits', '--bias', 'M43_c.fits', '-o', '.'], /^darkroom: M43_c\.fits: output would overwrite input M43_c\.fits; choose another output path$/, [...lights, 'M43_c.fits']);
  // -o names a file (here the light itself), not a folder: refused in one line, the light untouched (was an internal ENOTDIR error, exit 1)
  await refused(d, ['calibrate', 'lights/M43.fits', '--bias', 'MB.fits', '-o', 'lights/M43.fits'], /^darkroom: lights\/M43\.fits: output is not a folder$/, [...lights, 'MB.fits']);
});

test('register into the frames folder where an input has an output name; two frames with one output name', async () => {
  const d = folder();
  mkdirSync(join(d, 'a'));
  mkdirSync(join(d, 'b'));
  const frames = ['a/L1.fits', 'a/L1_r.fits', 'a/L2.fits', 'b/L2.fits'];
  frames.forEach((f, i) => frame(join(d, f), 40 + i));
  await refused(d, ['register', 'a/L1.fits', 'a/L1_r.fits', 'a/L2.fits', '-o', 'a', '--model', 'shift'], /^darkroom: a\/L1_r\.fits: output would overwrite input a\/L1_r\.fits; choose another output path$/, frames);
  await refused(d, ['register', 'a/L1.fits', 'a/L2.fits', 'b/L2.fits', '-o', 'out', '--model', 'shift'], /^darkroom: out\/L2_r\.fits: output would be written twice \(from a\/L2\.fits and from b\/L2\.fits\)/, frames);
  assert.equal(existsSync(join(d, 'out')), false, 'nothing is written');
});

test('debayer and convert: an output name that is an input, two inputs with one output name', async () => {
  const d = folder();
  const cfa = ['M42.fits', 'M42_rgb.fits'];
  cfa.forEach((f, i) => frame(join(d, f), 50 + i, { BAYERPAT: 'RGGB' }));
  await refused(d, ['debayer', ...cfa, '-o', '.'], /^darkroom: M42_rgb\.fits: output would overwrite input M42_rgb\.fits; choose another output path$/, cfa);
  writeFileSync(join(d, 'IMG_1.CR2'), 'not a raw file');
  writeFileSync(join(d, 'IMG_1.NEF'), 'not a raw file');
  await refused(d, ['convert', 'IMG_1.CR2', 'IMG_1.NEF', '-o', 'out'], /^darkroom: out\/IMG_1\.fits: output would be written twice \(from IMG_1\.CR2 and from IMG_1\.NEF\)/, ['IMG_1.CR2', 'IMG_1.NEF']);
});

test('bin, channels, combine-rgb and stretch -o an input', async () => {
  const d = folder();
  const F = ['R.fits', 'G.fits', 'B.fits', 'CFA.fits'];
  F.forEach((f, i) => frame(join(d, f), 60 + i, f === 'CFA.fits' ? { BAYERPAT: 'RGGB' } : {}));
  symlinkSync('G.fits', join(d, 'G.png'));
  await refused(d, ['bin', 'R.fits', '-o', 'R.fits'], /^darkroom: R\.fits: output would overwrite input R\.fits/, F);
  await refused(d, ['channels', 'CFA.fits', '--keep', 'ha', '-o', './CFA.fits'], /^darkroom: \.\/CFA\.fits: output would overwrite input CFA\.fits/, F);
  await refused(d, ['combine-rgb', 'R.fits', 'G.fits', 'B.fits', '-o', 'B.fits'], /^darkroom: B\.fits: output would overwrite input B\.fits/, F);
  await refused(d, ['stretch', 'G.fits', 'G.png'], /^darkroom: G\.png: output would overwrite input G\.fits/, F);
});
