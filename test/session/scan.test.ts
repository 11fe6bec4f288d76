import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { fileTempDir, useTempDir } from '../helpers/env.js';
import { messyNight, writeFrame } from './night-fixture.js';
import { scanNight, listFitsFiles, emptyScanCache } from '../../src/session/scan.js';
import { readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { parseSexagesimal, pointing, separationDeg } from '../../src/session/coords.js';
import { decideKind, type PixelEvidence } from '../../src/session/evidence.js';
import { FitsHeader } from '../../src/fits/header.js';

test('parseSexagesimal: hours or degrees, minutes, seconds; out of range or not a number is undefined', () => {
  assert.equal(parseSexagesimal('05 35 17.3'), 5 + 35 / 60 + 17.3 / 3600);
  assert.equal(parseSexagesimal('-05:23:28'), -(5 + 23 / 60 + 28 / 3600));
  assert.equal(parseSexagesimal('+41 16'), 41 + 16 / 60);
  assert.equal(parseSexagesimal('12 75 00'), undefined);
  assert.equal(parseSexagesimal('abc'), undefined);
});

test('pointing: MaxIm OBJCTRA/OBJCTDEC, string RA/DEC and degrees (N.I.N.A.) agree; none without coordinates', () => {
  const a = new FitsHeader().set('OBJCTRA', '05 35 17.3').set('OBJCTDEC', '-05 23 28');
  const b = new FitsHeader().set('RA', 83.822083).set('DEC', -5.391111);
  const c = new FitsHeader().set('RA', '05:35:17.3').set('DEC', '-05:23:28');
  const pa = pointing(a)!;
  const pb = pointing(b)!;
  const pc = pointing(c)!;
  assert.ok(Math.abs(pa.ra - 83.822083) < 1e-5 && Math.abs(pa.dec + 5.391111) < 1e-5, JSON.stringify(pa));
  assert.ok(separationDeg(pa.ra, pa.dec, pb.ra, pb.dec) < 1e-5);
  assert.ok(separationDeg(pa.ra, pa.dec, pc.ra, pc.dec) < 1e-9);
  assert.equal(pointing(new FitsHeader().set('OBJECT', 'M42')), undefined);
});

test('separationDeg on the sphere', () => {
  // Separation: 1 degree along a meridian; 1 deg of RA at dec 60 is ~0.5 deg on the sky; across RA 0.
  assert.ok(Math.abs(separationDeg(10, 20, 10, 21) - 1) < 1e-9);
  assert.ok(Math.abs(separationDeg(10, 60, 11, 60) - 0.49996) < 1e-4);
  assert.ok(Math.abs(separationDeg(359.9, 0, 0.1, 0) - 0.2) < 1e-9);
});

describe('scanning the messy night', () => {
  const dir = fileTempDir();
  let scan: ReturnType<typeof scanNight>;
  let by: Map<string, ReturnType<typeof scanNight>['frames'][number]>;
  before(() => {
    messyNight(dir);
    scan = scanNight(dir);
    by = new Map(scan.frames.map((f) => [f.rel, f]));
  });

  test('walks the tree, any-case .fit/.fits/.fts, lists non-FITS files as skipped', () => {
    const files = listFitsFiles(dir).map((p) => p.slice(dir.length + 1));
    assert.ok(files.includes('Darks600/DARK_600s_001.FIT'));
    assert.ok(files.includes('Bias/Bias_001.fts'));
    assert.ok(!files.includes('readme.txt'));
    assert.equal(scan.frames.length, files.length - 1);
    assert.deepEqual(scan.skipped.map((s) => s.path), ['M42/notes.fits']);
    assert.deepEqual(scan.ignored, ['readme.txt']);
    assert.match(scan.skipped[0]!.reason, /not a FITS file/);
  });

  test('finds duplicates by pixel data', () => {
    // The copy has another header and folder but the same data unit: one duplicate, used once.
    assert.deepEqual(scan.duplicates, [{ path: 'backup/copy_of_first.fits', of: 'M42/Light/M42_L_300s_001.fit' }]);
    assert.equal(scan.unique.length, scan.frames.length - 1);
  });

  test('reads kind, exposure, temperature, filter, object, camera, size and pointing of a light', () => {
    const l1 = by.get('M42/Light/M42_L_300s_001.fit')!;
    assert.equal(l1.kind, 'light');
    assert.equal(l1.meta.exposure, 300);
    assert.ok(Math.abs(l1.meta.temperature! + 9.9) < 1e-9);
    assert.equal(l1.meta.filter, 'L');
    assert.equal(l1.meta.object, 'M42');
    assert.equal(l1.camera, 'QSI 683 wsg-8');
    assert.equal(l1.width, 48);
    assert.equal(l1.height, 40);
    assert.ok(Math.abs(l1.ra! - 83.8220833) < 1e-5);
    assert.ok(l1.pixels!.class === 'stars' && l1.pixels!.stars >= 5, JSON.stringify(l1.pixels));
  });

  test('kinds of the calibration frames and of a light named by the FRAME keyword (Ekos)', () => {
    assert.equal(by.get('Bias/Bias_001.fts')!.kind, 'bias');
    assert.equal(by.get('Flats/L/FlatDark_2s_001.fit')!.kind, 'flatdark');
    assert.equal(by.get('Flats/Ha/FLAT_Ha_001.fits')!.kind, 'flat');
    assert.equal(by.get('NGC7000/NGC_7000_Light_Ha_180_secs_001.fits')!.kind, 'light'); // FRAME keyword (Ekos)
  });

  test("a dark's hot pixel is not a star", () => {
    assert.equal(by.get('Darks/Dark_300s_001.fit')!.pixels!.class, 'unexposed');
  });

  test('hashes: same data -> same hash, different data -> different', () => {
    const l1 = by.get('M42/Light/M42_L_300s_001.fit')!;
    assert.equal(by.get('backup/copy_of_first.fits')!.hash, l1.hash);
    assert.notEqual(by.get('M42/Light/M42_L_300s_002.fit')!.hash, l1.hash);
  });

  describe('header kind contradicted by pixels or names: the stronger evidence wins and says why', () => {
    test('IMAGETYP "Light Frame" in Darks/ named Dark_...: unexposed pixels + name -> dark', () => {
      const d4 = by.get('Darks/Dark_300s_004.fit')!;
      assert.equal(d4.headerKind, 'light');
      assert.equal(d4.kind, 'dark');
      assert.match(d4.kindNote!, /IMAGETYP says light but pixels are unexposed.*classified as dark/);
    });

    test('"Dark Frame" with stars -> light', () => {
      const l8 = by.get('M42/Light/M42_L_300s_008.fit')!;
      assert.equal(l8.kind, 'light');
      assert.match(l8.kindNote!, /IMAGETYP says dark but pixels show \d+ star-like peaks/);
    });

    test('"LIGHT" with no stars and a smooth high level -> flat', () => {
      const f99 = by.get('M42/Light/frame_099.fit')!;
      assert.equal(f99.kind, 'flat');
      assert.match(f99.kindNote!, /smooth high level.*no stars: classified as flat/);
    });

    test('agreeing evidence: no note', () => {
      assert.equal(by.get('Bias/Bias_002.fts')!.kindNote, undefined);
    });

    test('without pixel evidence, the header is kept (the name is only a fallback)', () => {
      const noPix = scanNight(join(dir, 'Darks/Dark_300s_004.fit'), { pixels: false });
      assert.equal(noPix.frames[0]!.kind, 'light');
    });
  });
});

test('decideKind: names fill a missing IMAGETYP; ambiguous pixels keep the header and note the name', () => {
  const ev = (cls: PixelEvidence['class']): PixelEvidence => ({ median: 100, sigma: 5, stars: cls === 'stars' ? 20 : 0, rows: 40, fullScale: 65535, class: cls });
  assert.deepEqual(decideKind('dark', 'dark', ev('unexposed'), 300), { kind: 'dark' });
  assert.equal(decideKind(undefined, 'bias', ev('unexposed'), 0).kind, 'bias');
  assert.equal(decideKind(undefined, undefined, ev('unexposed'), 0).kind, 'bias');
  assert.equal(decideKind(undefined, undefined, ev('unexposed'), 60).kind, 'dark');
  assert.equal(decideKind(undefined, undefined, ev('ambiguous'), 60).kind, undefined);
  const d = decideKind('light', 'flat', ev('ambiguous'), 60);
  assert.equal(d.kind, 'light');
  assert.match(d.note!, /name says flat: used the header/);
  // A "flat" with unexposed pixels is a flat-dark.
  assert.equal(decideKind('flat', undefined, ev('unexposed'), 2).kind, 'flatdark');
});

test('pixel evidence on a large frame reads a subsample and still finds stars', (t) => {
  const dir = useTempDir(t);
  const p = writeFrame(dir, { path: 'big/light.fits', pixels: 'sky', seed: 5, width: 64, height: 1000, keywords: { IMAGETYP: 'LIGHT', EXPTIME: 60 } });
  void p;
  const s = scanNight(dir);
  const f = s.frames[0]!;
  assert.ok(f.pixels!.rows < 400, `rows read ${f.pixels!.rows}`);
  assert.equal(f.kind, 'light');
});

test('a light with no stars and a low level keeps its header kind unless its name says otherwise', (t) => {
  const dir = useTempDir(t);
  writeFrame(dir, { path: 'M1/frame_001.fits', pixels: 'bias', level: 800, seed: 3, keywords: { IMAGETYP: 'LIGHT', EXPTIME: 60 } });
  writeFrame(dir, { path: 'darks/frame_002.fits', pixels: 'bias', level: 800, seed: 4, keywords: { IMAGETYP: 'LIGHT', EXPTIME: 60 } });
  const s = scanNight(dir);
  const by = new Map(s.frames.map((f) => [f.rel, f]));
  assert.equal(by.get('M1/frame_001.fits')!.kind, 'light');
  assert.match(by.get('M1/frame_001.fits')!.kindNote!, /kept as light/);
  assert.equal(by.get('darks/frame_002.fits')!.kind, 'dark');
});

test('the scan cache reuses results of files whose size, mtime and inode are unchanged', (t) => {
  const dir = useTempDir(t);
  const p = writeFrame(dir, { path: 'L/light_1.fits', pixels: 'sky', seed: 8, keywords: { IMAGETYP: 'LIGHT', EXPTIME: 60 } });
  utimesSync(p, 1_700_000_000, 1_700_000_000); // whole seconds: exactly restorable
  const cache = emptyScanCache();
  const h1 = scanNight(join(dir, 'L'), { cache }).frames[0]!.hash;
  assert.ok(cache.entries[p]);
  // Same size and mtime, other pixels: the cached result stands (as make would decide).
  const st = statSync(p);
  const other = writeFrame(join(dir, 'x'), { path: 'light_1.fits', pixels: 'sky', seed: 9, keywords: { IMAGETYP: 'LIGHT', EXPTIME: 60 } });
  writeFileSync(p, readFileSync(other)); // in place: same inode
  utimesSync(p, 1_700_000_000, 1_700_000_000);
  assert.equal(statSync(p).ino, st.ino);
  assert.equal(scanNight(join(dir, 'L'), { cache }).frames[0]!.hash, h1);
  assert.notEqual(scanNight(join(dir, 'L')).frames[0]!.hash, h1, 'without the cache the new pixels are seen');
  // A newer mtime: scanned again.
  utimesSync(p, new Date(), new Date(Date.now() + 5000));
  assert.notEqual(scanNight(join(dir, 'L'), { cache }).frames[0]!.hash, h1);
});
