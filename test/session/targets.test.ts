// Targets of a night whose OBJECT names the session (issue 15): 'Brutus_10292022' on every light of
// the night, the targets only in the folders and file names (SN2022yid/L/SN2022yid_001.fits).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useTempDir } from '../helpers/env.js';
import { scannedFrame, writeFrame } from './night-fixture.js';
import { scanNight, type Frame } from '../../src/session/scan.js';
import { groupNight } from '../../src/session/group.js';
import { agreedPathTarget, groupTargets, sessionReason } from '../../src/session/targets.js';
import { dateToken, isCatalogueName, pathTarget, startsWithName } from '../../src/session/session-name.js';

let n = 0;
/** A light as the scanner would describe it, at `path`. */
function light(path: string, o: { object?: string; ra?: number; dec?: number } = {}): Frame {
  n++;
  return scannedFrame('/night', path, { kind: 'light', exposure: 300, temperature: -10, filter: 'L', binning: { x: 1, y: 1 }, object: o.object }, { ra: o.ra, dec: o.dec, bytes: 16000 + n });
}

const SN = { ra: 51.05, dec: -21.2 }; // somewhere in Eridanus
const M31 = { ra: 10.68, dec: 41.27 };

test('date and time tokens: 6-8 digit dates, separated dates, clock times; catalogue numbers are not dates', () => {
  for (const [s, tok] of [
    ['Brutus_10292022', '10292022'],
    ['Brutus 20221029', '20221029'],
    ['night_2022-10-29', '2022-10-29'],
    ['obs 29-10-2022', '29-10-2022'],
    ['Session_221029', '221029'],
    ['run 21-30-15', '21-30-15'],
    ['run_21:30:15', '21:30:15'],
  ] as const) {
    assert.equal(dateToken(s), tok, s);
  }
  for (const s of ['M 31', 'NGC 7000', 'PGC 1234567', 'UGC 12345', 'SN2022yid', 'Brutus', 'obs 12345678', 'Sh2-155', 'run 25-61-99']) assert.equal(dateToken(s), undefined, s);
});

test('catalogue-like names', () => {
  for (const s of ['M 31', 'M31', 'M_110', 'NGC 7000', 'ngc7000', 'IC1396A', 'Sh2-155', 'Sh 2-155', 'Abell 2151', 'Arp 273', 'Caldwell 49', 'Barnard 33', 'B33', 'vdB 142', 'LDN 1251', 'LBN 438', 'Mel 15', 'Cr 399', 'UGC 12345', 'PGC 2557', 'SN2022yid', 'SN 2023ixf', 'AT2022abc', 'C/2022 E3', 'C_2022_E3', '12P', '12P/Pons-Brooks']) {
    assert.ok(isCatalogueName(s), s);
  }
  for (const s of ['Brutus', 'Brutus_10292022', 'Andromeda', 'M 310', 'Light', 'L', 'Flats', 'SN']) assert.ok(!isCatalogueName(s), s);
});

test('folder and file name must agree on the target (case, spaces, underscores ignored)', () => {
  assert.equal(pathTarget('/data/SN2022yid/L/SN2022yid_0001.fits'), 'SN2022yid');
  assert.equal(pathTarget('/data/SN2022yid/L/sn_2022yid-L-300s-0001.fits'), 'SN2022yid');
  assert.equal(pathTarget('/data/M 31/L/M31_001.fit'), 'M 31');
  assert.equal(pathTarget('/data/NGC7000/NGC_7000_Light_Ha_180_secs_001.fits'), 'NGC7000');
  assert.equal(pathTarget('/data/12P/12P_Pons-Brooks_L_001.fits'), '12P');
  assert.equal(pathTarget('/data/M31/L/M31.fits'), 'M31');
  assert.equal(pathTarget('/data/M31/L/M310_001.fits'), undefined, 'M310 is not M31');
  assert.equal(pathTarget('/data/M31/L/Light_001.fits'), undefined, 'the file name does not say');
  assert.equal(pathTarget('/data/Brutus/SN2022yid_001.fits'), undefined, 'the folder does not say');
  assert.equal(pathTarget('/data/SN2022yid/M31_001.fits'), undefined, 'they disagree');
  assert.ok(startsWithName('SN_2022yid.fits', 'sn2022yid'));
  assert.ok(!startsWithName('SN2022yidx.fits', 'sn2022yid'));
});

test('session-like OBJECT: a date token or one value over pointings more than 1 deg apart; a catalogue OBJECT never', () => {
  assert.match(sessionReason('Brutus_10292022')!, /date\/time token '10292022'/);
  assert.equal(sessionReason('Brutus'), undefined);
  assert.equal(sessionReason('Brutus', 0.8), undefined);
  assert.match(sessionReason('Brutus', 31.4)!, /pointings 31\.4 deg apart/);
  assert.equal(sessionReason('M 31', 31.4), undefined, 'mosaic panels of a catalogue target keep their OBJECT');
  assert.deepEqual(agreedPathTarget([light('SN2022yid/L/SN2022yid_001.fits'), light('SN2022yid/L/SN2022yid_002.fits'), light('x/Light_003.fits')]), { name: 'SN2022yid' });
  assert.deepEqual(agreedPathTarget([light('SN2022yid/L/SN2022yid_001.fits'), light('M31/M31_001.fits')]).conflict, ['M31: 1', 'SN2022yid: 1']);
  assert.deepEqual(agreedPathTarget([light('SN2022yid/L/SN2022yid_001.fits'), light('a/Light_1.fits'), light('a/Light_2.fits')]), {});
});

test('a night whose OBJECT is a session name: stacks named after the folder/file targets, the OBJECT kept', () => {
  const object = 'Brutus_10292022';
  const lights = [
    ...[1, 2, 3].map((i) => light(`SN2022yid/L/SN2022yid_L_300s_00${i}.fits`, { object, ra: SN.ra + 0.01 * i, dec: SN.dec })),
    ...[1, 2].map((i) => light(`M31/L/M31_L_300s_00${i}.fits`, { object, ra: M31.ra, dec: M31.dec + 0.01 * i })),
  ];
  const t = groupTargets(lights, 0.5);
  assert.deepEqual(t.map((x) => [x.name, x.slug, x.frames.length]), [['M31', 'M31', 2], ['SN2022yid', 'SN2022yid', 3]]);
  const sn = t.find((x) => x.name === 'SN2022yid')!;
  assert.deepEqual(sn.objects, { [object]: 3 });
  assert.equal(sn.sessionObject, object);
  assert.match(sn.notes.join('\n'), /OBJECT 'Brutus_10292022' looks like a session name \(it holds the date\/time token '10292022'\): the stack is named after the target its folders and file names agree on, SN2022yid/);
  // Without a date token the spread of the pointings says it: 'Brutus' over SN2022yid and M31.
  const t2 = groupTargets(lights.map((f) => ({ ...f, meta: { ...f.meta, object: 'Brutus' } })), 0.5);
  assert.deepEqual(t2.map((x) => x.name), ['M31', 'SN2022yid']);
  assert.match(t2[0]!.notes.join('\n'), /OBJECT 'Brutus' looks like a session name \(the same OBJECT is used at pointings \d+\.\d deg apart\)/);
  assert.deepEqual(t2[0]!.objects, { Brutus: 2 });
});

test('proper OBJECT values keep today\'s naming', () => {
  // A plain "M 31" over one pointing stays "M 31", whatever the folders say.
  const m31 = [1, 2].map((i) => light(`Andromeda/L/M31_L_00${i}.fits`, { object: 'M 31', ...M31 }));
  const t = groupTargets(m31, 0.5);
  assert.deepEqual(t.map((x) => [x.name, x.notes, x.sessionObject]), [['M 31', [], undefined]]);
  assert.equal(groupTargets([light('M31/L/M31_001.fits', { object: 'M 31', ...M31 })])[0]!.name, 'M 31');
  // A non-catalogue name at one pointing is a target name too.
  assert.equal(groupTargets([light('M31/L/M31_001.fits', { object: 'Brutus', ...M31 })])[0]!.name, 'Brutus');
  // Session-like, but the folders and files do not say: kept, with a note.
  const kept = groupTargets([light('night/Light_001.fits', { object: 'Brutus_10292022', ...M31 })]);
  assert.equal(kept[0]!.name, 'Brutus_10292022');
  assert.match(kept[0]!.notes.join('\n'), /looks like a session name .*but no folder and file name agree on a catalogue target/);
  // Session-like and the folders disagree within one pointing: kept, the targets named in the note.
  const mixed = groupTargets([light('SN2022yid/SN2022yid_1.fits', { object: 'Brutus_10292022', ...M31 }), light('M31/M31_1.fits', { object: 'Brutus_10292022', ...M31 })]);
  assert.equal(mixed[0]!.name, 'Brutus_10292022');
  assert.match(mixed[0]!.notes.join('\n'), /several targets \(M31: 1, SN2022yid: 1\)/);
});

test('lights without coordinates and a session-like OBJECT: split by their folder/file target', () => {
  const object = 'Brutus_2022-10-29';
  const t = groupTargets([light('SN2022yid/SN2022yid_1.fits', { object }), light('SN2022yid/SN2022yid_2.fits', { object }), light('M31/M31_1.fits', { object }), light('misc/Light_1.fits', { object })], 0.5);
  assert.deepEqual(t.map((x) => [x.name, x.frames.length]), [['Brutus_2022-10-29', 1], ['M31', 1], ['SN2022yid', 2]]);
  const sn = t.find((x) => x.name === 'SN2022yid')!;
  assert.deepEqual(sn.objects, { [object]: 2 });
  assert.equal(sn.sessionObject, object);
  assert.match(sn.notes[0]!, /2 light\(s\) without coordinates named after the target their folders and file names agree on, SN2022yid/);
});

test('scanned night with OBJECT = session name: the light groups (and their keys) carry the target', (t) => {
  const dir = useTempDir(t);
  const common = { IMAGETYP: 'LIGHT', EXPOSURE: 300, 'CCD-TEMP': -10, FILTER: 'L', OBJECT: 'Brutus_10292022' };
  let seed = 1;
  for (let i = 1; i <= 2; i++) writeFrame(dir, { path: `SN2022yid/L/SN2022yid_L_300s_00${i}.fits`, pixels: 'sky', seed: seed++, keywords: { ...common, RA: SN.ra, DEC: SN.dec } });
  for (let i = 1; i <= 2; i++) writeFrame(dir, { path: `M31/L/M31_L_300s_00${i}.fits`, pixels: 'sky', seed: seed++, keywords: { ...common, RA: M31.ra, DEC: M31.dec } });
  const g = groupNight(scanNight(dir).unique);
  assert.deepEqual(g.lights.map((l) => [l.id, l.target, l.targetSlug, l.frames.length]), [
    ['M31_L_300s_bin1x1', 'M31', 'M31', 2],
    ['SN2022yid_L_300s_bin1x1', 'SN2022yid', 'SN2022yid', 2],
  ]);
  for (const tg of g.targets) {
    assert.deepEqual(tg.objects, { Brutus_10292022: 2 });
    assert.equal(tg.sessionObject, 'Brutus_10292022');
  }
});
