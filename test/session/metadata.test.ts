import { test } from 'node:test';
import assert from 'node:assert/strict';
import { kindFromImagetyp, kindFromPath, frameMeta } from '../../src/session/metadata.js';
import { FitsHeader } from '../../src/fits/header.js';

test('IMAGETYP spellings of MaxIm, N.I.N.A., SGP, APT, Ekos map to frame kinds', () => {
  const cases: Array<[string, string | undefined]> = [
    ['Light Frame', 'light'], ['LIGHT', 'light'], ['Light', 'light'], ['object', 'light'],
    ['Dark Frame', 'dark'], ['DARK', 'dark'], ['Master Dark', 'dark'],
    ['Bias Frame', 'bias'], ['BIAS', 'bias'], ['Offset', 'bias'], ['zero', 'bias'],
    ['Flat Field', 'flat'], ['FLAT', 'flat'], ['Flat Frame', 'flat'],
    ['DARKFLAT', 'flatdark'], ['Flat Dark', 'flatdark'], ['FLATDARK', 'flatdark'], ['Dark Flat', 'flatdark'],
    ['', undefined], ['Tricolor', undefined],
  ];
  for (const [v, k] of cases) assert.equal(kindFromImagetyp(v), k, v);
});

test('file and folder names are a fallback', () => {
  assert.equal(kindFromPath('/n/darks/frame_001.fit'), 'dark');
  assert.equal(kindFromPath('/n/x/FlatDark_3s_001.fits'), 'flatdark');
  assert.equal(kindFromPath('/n/x/Bias_001.fits'), 'bias');
  assert.equal(kindFromPath('/n/M42/Light_M42_300s.fit'), 'light');
  assert.equal(kindFromPath('/n/M42/frame.fit'), undefined);
});

test('frameMeta reads exposure, temperature (SET-TEMP fallback), binning, filter, gain', () => {
  const h = new FitsHeader();
  h.set('IMAGETYP', 'Dark Frame').set('EXPOSURE', 120).set('SET-TEMP', -15).set('XBINNING', 2).set('YBINNING', 1).set('FILTER', 'Red     ').set('GAIN', 139).set('OFFSET', 21);
  const m = frameMeta(h);
  assert.equal(m.kind, 'dark');
  assert.equal(m.exposure, 120);
  assert.equal(m.temperature, -15);
  assert.deepEqual(m.binning, { x: 2, y: 1 });
  assert.equal(m.filter, 'Red');
  assert.equal(m.gain, 139);
  assert.equal(m.offset, 21);
  h.set('CCD-TEMP', -14.8);
  assert.equal(frameMeta(h).temperature, -14.8);
});
