/**
 * Plate solving with astrometry.net's solve-field (Debian astrometry.net + Tycho-2 index files, installed
 * by .ci/run: these tests fail, never skip, without them) on frames the simulator renders from the
 * catalogue: the solution must recover the simulated pointing within 2", the scale within 0.5%.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FitsHeader, readFits, readFitsHeader } from '../../src/fits/index.js';
import { separationDeg } from '../../src/session/coords.js';
import { solveFieldArgs, solveFile, solveHints, SOLVE_DEFAULTS } from '../../src/solve/index.js';
import { pixelToSky, readWcs, skyToPixel, summarizeWcs, wcsFromPointing, writeWcs } from '../../src/solve/wcs.js';
import { fileTempDir, fitsverify, runCli } from '../helpers/env.js';
import { skyFrame, type SkyFrame } from '../helpers/sky.js';

const dir = fileTempDir('darkroom-solve-');

function assertRecovers(r: { ra: number; dec: number; scale: number; rotation: number; parity: string }, f: SkyFrame, what: string): void {
  const err = separationDeg(r.ra, r.dec, f.ra, f.dec) * 3600;
  assert.ok(err < 2, `${what}: centre off by ${err.toFixed(2)}" (solved ${r.ra} ${r.dec}, true ${f.ra} ${f.dec})`);
  assert.ok(Math.abs(r.scale / f.scale - 1) < 0.005, `${what}: scale ${r.scale} vs ${f.scale}`);
  const dRot = ((((r.rotation - f.rotation) % 360) + 540) % 360) - 180;
  assert.ok(Math.abs(dRot) < 0.1, `${what}: rotation ${r.rotation} vs ${f.rotation}`);
  assert.equal(r.parity, 'normal');
}

test('TAN WCS: pixel <-> sky round trip, and the summary gives back scale, rotation and parity', () => {
  for (const [rot, flipped] of [[0, false], [30, false], [-120, false], [75, true]] as const) {
    const w = wcsFromPointing({ ra: 359.9, dec: 61, scale: 4.2, rotation: rot, width: 1000, height: 800, flipped });
    const s = summarizeWcs(w, 1000, 800);
    assert.ok(Math.abs(s.scale - 4.2) < 1e-9 && Math.abs(s.rotation - rot) < 1e-9, `${rot}: ${s.scale} ${s.rotation}`);
    assert.equal(s.parity, flipped ? 'flipped' : 'normal');
    assert.ok(separationDeg(s.ra, s.dec, 359.9, 61) * 3600 < 1e-6);
    const sky = pixelToSky(w, 17.25, 790.5);
    const px = skyToPixel(w, sky.ra, sky.dec)!;
    assert.ok(Math.abs(px.x - 17.25) < 1e-7 && Math.abs(px.y - 790.5) < 1e-7);
    // north: one pixel along (sin r, cos r) (normal parity) moves north by one pixel's scale
    const r = (rot * Math.PI) / 180;
    const n = pixelToSky(w, 500.5 + (flipped ? -1 : 1) * Math.sin(r) * 100, 400.5 + Math.cos(r) * 100);
    assert.ok(Math.abs((n.dec - s.dec) * 3600 - 420) < 0.5, `north of ${rot}: ${(n.dec - s.dec) * 3600}`);
  }
  // written cards read back (CD form), CDELT + CROTA2 form too
  const h = new FitsHeader();
  const w = wcsFromPointing({ ra: 83.8, dec: -5.4, scale: 2, rotation: 10, width: 100, height: 80 });
  writeWcs(h, w);
  assert.deepEqual(readWcs(h), w);
  const h2 = new FitsHeader();
  for (const [k, v] of [['CTYPE1', 'RA---TAN'], ['CTYPE2', 'DEC--TAN'], ['CRVAL1', 10], ['CRVAL2', 20], ['CRPIX1', 50], ['CRPIX2', 40], ['CDELT1', -0.001], ['CDELT2', 0.001], ['CROTA2', 30]] as const) h2.set(k, v);
  // CROTA2 turns the axes counter-clockwise (Calabretta & Greisen 2002, eq. 189): north at -CROTA2 in our convention
  const s2 = summarizeWcs(readWcs(h2)!, 100, 80);
  assert.ok(Math.abs(s2.scale - 3.6) < 1e-9 && Math.abs(s2.rotation + 30) < 1e-9, `${s2.scale} ${s2.rotation}`);
});

test('hints: OBJCTRA/OBJCTDEC strings, RA/DEC degrees, FOCALLEN + XPIXSZ (binning) give position and scale; blind gives none', () => {
  const h = new FitsHeader();
  h.set('OBJCTRA', '05 35 17.3').set('OBJCTDEC', '-05 23 28').set('FOCALLEN', 530).set('XPIXSZ', 10.8).set('XBINNING', 2);
  const o = { ...SOLVE_DEFAULTS };
  const hi = solveHints(h, o);
  assert.ok(Math.abs(hi.position!.ra - 83.822083) < 1e-5 && Math.abs(hi.position!.dec + 5.391111) < 1e-5);
  const s = (206.264806 * 10.8) / 530;
  assert.ok(Math.abs(hi.scale!.low - 0.9 * s) < 1e-9 && Math.abs(hi.scale!.high - 2 * 1.1 * s) < 1e-9);
  h.set('RA', 10.5).set('DEC', 41.25);
  assert.deepEqual(solveHints(h, o).position, { ra: 10.5, dec: 41.25, radius: 5 });
  assert.deepEqual(solveHints(h, { ...o, ra: 1, dec: 2, focalLength: 1000, pixelSize: 5 }).scale, { low: 0.9 * 1.03132403, high: 1.1 * 1.03132403 });
  assert.deepEqual(solveHints(h, { ...o, blind: true }), {});
  const args = solveFieldArgs('/x/in.fits', '/t', solveHints(h, o), { timeout: 30, width: 4096 });
  const after = (k: string): string | undefined => args[args.indexOf(k) + 1];
  assert.equal(after('--ra'), '10.500000');
  assert.equal(after('--radius'), '5');
  assert.equal(after('--downsample'), '2');
  assert.equal(after('--cpulimit'), '30');
  assert.equal(after('--tweak-order'), '1');
  assert.equal(args.at(-1), '/x/in.fits');
  assert.ok(!solveFieldArgs('/x/in.fits', '/t', {}, { timeout: 30, width: 500 }).includes('--ra'));
});

test('solve recovers the simulated pointing of catalogue frames (fields, rotations, binnings; header hints)', async () => {
  const cases: { name: string; ra: number; dec: number; rotation: number; binning: number; header: Record<string, string | number> }[] = [
    { name: 'M31', ra: 10.6847, dec: 41.269, rotation: 30, binning: 1, header: { RA: 10.9, DEC: 41.0 } },
    { name: 'M42', ra: 83.9, dec: -5.2, rotation: -75, binning: 2, header: { OBJCTRA: '05 36 00', OBJCTDEC: '-05 00 00' } },
    { name: 'M27', ra: 299.7, dec: 22.9, rotation: 160, binning: 3, header: {} },
  ];
  for (const c of cases) {
    const f = await skyFrame(join(dir, `${c.name}.fits`), { ...c, focalLength: 111 });
    assert.ok(f.stars > 30, `${c.name}: ${f.stars} catalogue stars in the frame`);
    const r = await solveFile(f.path, { timeout: 60 });
    assert.ok(r.hints.scale, `${c.name}: scale hint from FOCALLEN and XPIXSZ`);
    assert.equal(!!r.hints.position, c.name !== 'M27');
    assertRecovers(r, f, c.name);
  }
});

test('blind solving (no hints at all) recovers the pointing', async () => {
  const f = await skyFrame(join(dir, 'blind.fits'), { ra: 56.9, dec: 24.0, rotation: 95, binning: 1 });
  const h = readFitsHeader(f.path).header;
  assert.ok(!h.has('FOCALLEN') && !h.has('RA') && !h.has('OBJCTRA'));
  const r = await solveFile(f.path, { timeout: 300 });
  assert.deepEqual(r.hints, {});
  assertRecovers(r, f, 'blind M45');
});

test('darkroom solve: a line and --json; --write puts a standard WCS into the file, pixels copied byte for byte; inputs untouched otherwise', async () => {
  const f = await skyFrame(join(dir, 'cli.fits'), { ra: 202.3, dec: 47.3, rotation: -20, binning: 2, focalLength: 111, header: { RA: 202.0, DEC: 47.0 } });
  const hash = (p: string): string => createHash('sha256').update(readFileSync(p)).digest('hex');
  const before = hash(f.path);
  const text = runCli(['solve', f.path]);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /RA 13h2\dm\d\d\.\ds Dec \+47d\d\dm\d\ds .* scale \d+\.\d{3}"\/px, rotation -?\d+\.\d\d deg, field 1\.\d{3} x 1\.\d{3} deg/);
  const js = runCli(['solve', f.path, '--json']);
  assert.equal(js.code, 0, js.stderr);
  assertRecovers(JSON.parse(js.stdout), f, 'cli --json');
  assert.equal(hash(f.path), before, 'solve without --write must not touch the file');

  const out = join(dir, 'cli-write.fits');
  copyFileSync(f.path, out);
  const w = runCli(['solve', out, '--write']);
  assert.equal(w.code, 0, w.stderr);
  const a = readFits(f.path);
  const b = readFits(out);
  assert.deepEqual(b.data[0], a.data[0]);
  const bytesA = readFileSync(f.path);
  const bytesB = readFileSync(out);
  const dataA = bytesA.length - a.width * a.height * 2 - ((2880 - ((a.width * a.height * 2) % 2880)) % 2880);
  const dataB = bytesB.length - (bytesA.length - dataA);
  assert.ok(bytesA.subarray(dataA).equals(bytesB.subarray(dataB)), 'pixel bytes copied as they were');
  assert.equal(b.header.getString('CTYPE1'), 'RA---TAN');
  assert.equal(b.header.getString('CTYPE2'), 'DEC--TAN');
  for (const k of ['CRVAL1', 'CRVAL2', 'CRPIX1', 'CRPIX2', 'CD1_1', 'CD1_2', 'CD2_1', 'CD2_2']) assert.ok(b.header.getNumber(k) !== undefined, k);
  assertRecovers(summarizeWcs(readWcs(b.header)!, b.width, b.height), f, 'written WCS');
  assert.match(b.header.history().join(' '), /plate solved by astrometry\.net/);
  assert.equal(fitsverify(out).errors, 0, fitsverify(out).text);
});

test('one-line errors: empty sky (no solution), missing engine, missing index files, not a FITS file', async () => {
  const f = await skyFrame(join(dir, 'empty.fits'), { ra: 150, dec: -60, rotation: 0, focalLength: 111, header: { RA: 150.0, DEC: -60.0 } });
  assert.equal(f.stars, 0);
  const oneLine = (r: { code: number; stdout: string; stderr: string }, re: RegExp): void => {
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, re);
  };
  oneLine(runCli(['solve', f.path, '--radius', '1', '--timeout', '20']), /^darkroom: .*empty\.fits: no solution/);
  oneLine(runCli(['solve', f.path, '--engine', join(dir, 'no-such-solve-field')]), /solve-field.*not found: install Debian's astrometry\.net/);
  oneLine(runCli(['solve', f.path, '--index-dir', join(dir)]), /no astrometry\.net index files in .*install astrometry-data-tycho2/);
  const notFits = join(dir, 'notes.txt');
  copyFileSync(new URL(import.meta.url).pathname, notFits);
  oneLine(runCli(['solve', notFits]), /notes\.txt: not a FITS file/);
  oneLine(runCli(['solve', f.path, '--radius', 'wide']), /--radius: 'wide' is not a number/);
});
