import { test, before, describe } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, writeFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { readFits, writeFits } from '../../src/fits/index.js';
import { runCli, fileTempDir, fitsverify } from '../helpers/env.js';
import { main } from '../../src/cli/main.js';

/** The CLI in this process (same main() as bin/darkroom; avoids a 2 s process start per call). */
async function cliInProcess(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const ow = process.stdout.write.bind(process.stdout);
  const ew = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((c: string | Uint8Array) => (out.push(String(c)), true)) as typeof process.stdout.write;
  process.stderr.write = ((c: string | Uint8Array) => (err.push(String(c)), true)) as typeof process.stderr.write;
  let code: number;
  try {
    code = await main(['node', 'darkroom', ...args]);
  } finally {
    process.stdout.write = ow;
    process.stderr.write = ew;
    process.exitCode = undefined;
  }
  return { code, stdout: out.join(''), stderr: err.join('') };
}

const dir = fileTempDir();
let sim: { bias: string[]; darks: string[]; flats: string[]; lights: string[] };
let cmos: { bias: string[]; darks: string[]; flats: string[]; lights: string[] };

async function okIn(args: string[]): Promise<{ stdout: string; stderr: string }> {
  const r = await cliInProcess(args);
  assert.equal(r.code, 0, `${args.join(' ')}\n${r.stderr}`);
  return r;
}
function ok(args: string[]): { stdout: string; stderr: string } {
  const r = runCli(args);
  assert.equal(r.code, 0, `${args.join(' ')}\n${r.stderr}`);
  return r;
}
/** A user error: exit code 2 and exactly one line `darkroom: ...` on stderr. */
async function fails(args: string[], re: RegExp, spawn = false): Promise<string> {
  const r = spawn ? runCli(args) : await cliInProcess(args);
  assert.equal(r.code, 2, `expected exit 2 for ${args.join(' ')}; stderr: ${r.stderr}`);
  const lines = r.stderr.trim().split('\n').filter((l) => !l.startsWith('darkroom: warning:'));
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0]!, /^darkroom: /);
  assert.match(lines[0]!, re);
  return lines[0]!;
}

before(async () => {
  sim = JSON.parse((await okIn(['simulate', '--out', join(dir, 'ccd'), '--sensor', 'kaf8300', '--size', '96x64', '--lights', '2', '--darks', '4', '--bias', '4', '--flats', '4', '--exposure', '120', '--temp', '5', '--json'])).stdout);
  cmos = JSON.parse((await okIn(['simulate', '--out', join(dir, 'cmos'), '--sensor', 'cmos', '--size', '96x64', '--lights', '1', '--darks', '3', '--bias', '3', '--flats', '3', '--exposure', '60', '--seed', '2', '--json'])).stdout);
});

test('CLI: simulate -> master bias/dark/flat -> calibrate with a JSON report; inputs untouched', () => {
  assert.equal(sim.lights.length, 2);
  assert.ok(existsSync(join(dir, 'ccd', 'truth', 'flat.fits')));
  const mb = join(dir, 'MB.fits'), md = join(dir, 'MD.fits'), mf = join(dir, 'MF.fits');
  ok(['master', 'bias', ...sim.bias, '-o', mb]);
  ok(['master', 'dark', ...sim.darks, '-o', md]);
  ok(['master', 'flat', ...sim.flats, '--bias', mb, '-o', mf]);
  const h = readFits(md).header;
  assert.equal(h.getString('IMAGETYP'), 'Master Dark');
  assert.equal(h.getNumber('NCOMBINE'), 4);
  assert.equal(h.getNumber('EXPTIME'), 120);
  assert.equal(h.getNumber('XBINNING'), 1);
  const hist = h.history().join(' ');
  assert.ok(hist.includes('reject=winsorized') && hist.includes('sigma-low=4') && hist.includes('sigma-high=3') && hist.includes('normalize=none'), hist);
  assert.ok(h.history().some((l) => l.includes(sim.darks[0]!)));
  assert.equal(fitsverify(md).errors, 0);
  const before = readFits(sim.lights[0]!).data[0]!.slice();
  const out = join(dir, 'cal');
  const r = ok(['calibrate', ...sim.lights, '--dark', md, '--flat', mf, '--pedestal', 'auto', '--cosmetic', 'auto', '-o', out, '--json']);
  assert.match(r.stdout, /^\[/, r.stdout.slice(0, 400));
  const rep = JSON.parse(r.stdout) as { path: string; output: string; mode: string; s0: number[]; pedestal: number; noise: number; clippedPct: number; cosmetic: { repaired: number } }[];
  assert.equal(rep.length, 2);
  assert.equal(rep[0]!.mode, 'plain');
  assert.ok(rep[0]!.s0[0]! > 10000 && rep[0]!.noise > 0 && rep[0]!.clippedPct < 0.1);
  assert.ok(rep[0]!.cosmetic.repaired > 0);
  assert.deepEqual(readdirSync(out).sort(), sim.lights.map((l) => l.split('/').pop()!.replace(/\.fits$/, '_c.fits')).sort());
  const c = readFits(rep[0]!.output);
  assert.equal(c.header.getString('CALSTAT'), 'DF');
  assert.ok(c.header.history().some((l) => l.includes('master flat') && l.includes('s0')));
  assert.equal(fitsverify(rep[0]!.output).errors, 0);
  assert.deepEqual(readFits(sim.lights[0]!).data[0], before);
  // --optimize with a bias: reported k0
  const r2 = ok(['calibrate', sim.lights[0]!, '--bias', mb, '--dark', md, '--flat', mf, '--optimize', '-o', join(dir, 'cal2'), '--json']);
  const rep2 = JSON.parse(r2.stdout);
  assert.equal(rep2[0].mode, 'optimize');
  assert.ok(Math.abs(rep2[0].k0 - 1) < 0.05, `k0 ${rep2[0].k0} for equal exposures`);
  // help documents the overscan SPEC
  assert.match(ok(['calibrate', '--help']).stdout, /image=0:0:2048:2048,src=2050:0:32:2048>0:0:2048:2048/);
});

describe('CLI: every refusal is one line with exit code 2 naming the files', () => {
  let mb: string, md: string, mf: string, L: string, o: string, mdSmall: string;
  before(async () => {
    mb = join(dir, 'MB.fits');
    md = join(dir, 'MD.fits');
    mf = join(dir, 'MF.fits');
    if (!existsSync(mb)) {
      await okIn(['master', 'bias', ...sim.bias, '-o', mb]);
      await okIn(['master', 'dark', ...sim.darks, '-o', md]);
      await okIn(['master', 'flat', ...sim.flats, '--bias', mb, '-o', mf]);
    }
    L = sim.lights[0]!;
    o = join(dir, 'err');
    const small = readFits(md);
    const crop = { ...small, width: 64, height: 48, data: [small.data[0]!.slice(0, 64 * 48)], header: small.header.clone() };
    mdSmall = join(dir, 'MD_small.fits');
    writeFits(mdSmall, crop);
  });

  test('masters of another size, binning, gain/offset, CFA layout', async () => {
    await fails(['calibrate', L, '--dark', mdSmall, '-o', o], new RegExp(`${L}: master dark ${mdSmall} does not match: size 64x48x1 vs light 96x64x1`), true);
    const bin = readFits(md);
    bin.header.set('XBINNING', 2);
    const mdBin = join(dir, 'MD_bin.fits');
    writeFits(mdBin, bin);
    await fails(['calibrate', L, '--dark', mdBin, '-o', o], new RegExp(`${L}: master dark ${mdBin} does not match: binning XBINNING 2 vs light 1`));
    const gain = readFits(mf);
    gain.header.set('GAIN', 200);
    gain.header.set('OFFSET', 10);
    const light2 = readFits(L);
    light2.header.set('GAIN', 100);
    light2.header.set('OFFSET', 10);
    const L2 = join(dir, 'light_gain.fits');
    writeFits(L2, light2);
    const mfGain = join(dir, 'MF_gain.fits');
    writeFits(mfGain, gain);
    await fails(['calibrate', L2, '--flat', mfGain, '-o', o], new RegExp(`${L2}: master flat ${mfGain} does not match: GAIN 200 vs light 100`));
    const cfa = readFits(mb);
    cfa.header.set('BAYERPAT', 'RGGB');
    const mbCfa = join(dir, 'MB_cfa.fits');
    writeFits(mbCfa, cfa);
    await fails(['calibrate', L, '--bias', mbCfa, '-o', o], new RegExp(`${L}: master bias ${mbCfa} does not match: CFA layout RGGB vs light none \\(mono\\)`));
  });

  test('dark darker than bias (CMOS black-level clamp): scaling refused unless --force', async () => {
    const cb = join(dir, 'CB.fits'), cd = join(dir, 'CD.fits');
    await okIn(['master', 'bias', ...cmos.bias, '-o', cb]);
    await okIn(['master', 'dark', ...cmos.darks, '-o', cd]);
    await fails(['calibrate', cmos.lights[0]!, '--bias', cb, '--dark', cd, '--optimize', '-o', o], /master dark .*CD\.fits \(mean [\d.]+\) is not brighter than master bias .*CB\.fits .*black-level clamping \/ dark current suppression.*--force/);
    await fails(['calibrate', cmos.lights[0]!, '--bias', cb, '--dark', cd, '--dark-scale', 'exposure', '-o', o], /is not brighter than master bias/);
    const forced = await cliInProcess(['calibrate', cmos.lights[0]!, '--bias', cb, '--dark', cd, '--dark-scale', 'exposure', '--force', '-o', o]);
    assert.equal(forced.code, 0, forced.stderr);
    assert.match(forced.stderr, /warning: .*forced dark scaling/);
  });

  test('option errors of calibrate', async () => {
    await fails(['calibrate', L, '--dark', md, '--optimize', '-o', o], /dark optimization needs a master bias \(--bias\)/);
    await fails(['calibrate', L, '--dark', md, '--pedestal', 'lots', '-o', o], /--pedestal must be a number >= 0 or 'auto', got 'lots'/);
    await fails(['calibrate', L, '--dark', md, '--dark-scale', 'temp', '-o', o], /--dark-scale must be 'exposure', got 'temp'/);
    await fails(['calibrate', L, '--dark', md, '--overscan', 'image=0:0:10', '-o', o], /bad overscan region '0:0:10'/);
    await fails(['calibrate', L, '--overscan', 'image=0:0:96:64,src=90:0:10:64>0:0:96:64', '-o', o], new RegExp(`${L}: overscan source region 90:0:10:64 lies outside the 96x64 frame`));
    await fails(['calibrate', L, '-o', o], /nothing to calibrate with/);
    await fails(['calibrate', join(dir, 'nope.fits'), '--dark', md, '-o', o], /nope\.fits: no such file/);
    const defects = join(dir, 'defects.txt');
    writeFileSync(defects, '3,4\ncolumn\n');
    await fails(['calibrate', L, '--dark', md, '--cosmetic', defects, '-o', o], new RegExp(`${defects}: line 2: cannot parse`));
  });

  test('master and simulate refusals', async () => {
    await fails(['master', 'darks', ...sim.darks, '-o', join(dir, 'x.fits')], /unknown master kind 'darks'/);
    await fails(['master', 'dark', ...sim.darks, '--bias', mb, '-o', join(dir, 'x.fits')], /a master dark is never bias-subtracted/);
    await fails(['master', 'bias', sim.bias[0]!, mdSmall, '-o', join(dir, 'x.fits')], new RegExp(`${mdSmall}: size 64x48 differs from ${sim.bias[0]!}`));
    await fails(['simulate', '--out', join(dir, 's'), '--size', '10by10'], /--size must be WxH/);
    await fails(['simulate', '--out', join(dir, 's'), '--sensor', 'kaf9999'], /unknown sensor 'kaf9999'/);
  });
});

test('CLI: warnings for exposure and temperature mismatch', () => {
  const md = join(dir, 'MD.fits');
  const hot = readFits(md);
  hot.header.set('CCD-TEMP', 15);
  hot.header.set('EXPTIME', 240);
  const mdHot = join(dir, 'MD_hot.fits');
  writeFits(mdHot, hot);
  const r = runCli(['calibrate', sim.lights[0]!, '--dark', mdHot, '-o', join(dir, 'warn')]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /warning: .*master dark .*MD_hot\.fits was taken at 15 C, light at [\d.]+ C \(more than 2 C apart\)/);
  assert.match(r.stderr, /warning: .*EXPTIME 240 s but the light 120 s/);
});
