import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, writeFileSync, mkdirSync } from 'node:fs';
import { join, basename } from 'node:path';
import { SimCamera, QSI_FILTERS, type SimCameraOptions } from '../../src/devices/sim/simcamera.js';
import { sensorModel } from '../../src/devices/sim/sensors.js';
import { VirtualClock } from '../../src/acquire/clock.js';
import { Sequencer, type SequenceEvent, type SequenceResult } from '../../src/acquire/sequencer.js';
import { describePlan, estimateDuration, expandPlan, parsePlan, readPlan } from '../../src/acquire/plan.js';
import { DEFAULT_PATTERN, formatName, freeName } from '../../src/acquire/autosave.js';
import { readFits, readFitsHeader } from '../../src/fits/index.js';
import { DarkroomError } from '../../src/util/errors.js';
import { fileTempDir, fitsverify, useTempDir } from '../helpers/env.js';
import { DEFAULT_SETTINGS } from '../../src/devices/camera-settings.js';
import { FLUSH_FRACTION } from '../../src/devices/sim/qsi.js';

const small = () => sensorModel('kaf8300', { width: 96, height: 64 });

/** A connected simulated camera on a virtual clock, and the sequencer options that save into `outDir`. */
async function simRig(cam: Omit<SimCameraOptions, 'clock' | 'sensor'> = {}) {
  const clock = new VirtualClock();
  const camera = new SimCamera({ clock, sensor: small(), ...cam });
  await camera.connect();
  const options = (outDir: string, onEvent?: (e: SequenceEvent) => void) => ({ camera, wheel: camera.wheel, clock, outDir, onEvent });
  return { clock, cam: camera, options };
}

function basePlan(over: Record<string, unknown> = {}) {
  return parsePlan({
    object: 'M78',
    base: 'M78 QSI 0C',
    start: 1,
    cooling: { setpoint: -10, tolerance: 0.2, stableMinutes: 1, timeoutMinutes: 20 },
    profile: { observer: 'A. Observer', telescope: 'TOA-130', focalLength: 1000, siteLat: 43.5, siteLong: -71.25 },
    groups: [
      { type: 'light', filter: 'Red', exposure: 30, count: 2, suffix: 'R' },
      { type: 'light', filter: 'Green', exposure: 20, binning: 2, count: 3, suffix: 'G' },
      { type: 'dark', exposure: 30, count: 1, suffix: 'D' },
    ],
    ...over,
  });
}

test('plan order: cycle interleaves active groups, group runs each group in turn', () => {
  const cyc = expandPlan(basePlan());
  assert.deepEqual(
    cyc.map((f) => `${f.suffix}${f.n}`),
    ['R1', 'G1', 'D1', 'R2', 'G2', 'G3'],
  );
  const grp = expandPlan(basePlan({ order: 'group' }));
  assert.deepEqual(
    grp.map((f) => `${f.suffix}${f.n}`),
    ['R1', 'R2', 'G1', 'G2', 'G3', 'D1'],
  );
  const inactive = parsePlan({ ...basePlan(), groups: [{ exposure: 1, count: 2, suffix: 'a' }, { exposure: 1, count: 2, suffix: 'b', active: false }] });
  assert.deepEqual(expandPlan(inactive).map((f) => f.suffix), ['a', 'a']);
});

test('plans in YAML read the same as in JSON; bad YAML is one line naming the file', (t) => {
  const dir = useTempDir(t);
  const json = { object: 'M78', base: 'M78 QSI 0C', order: 'group', groups: [{ filter: 'Red', exposure: 360, count: 2, suffix: 'R' }, { type: 'dark', exposure: 360, count: 1, suffix: 'D' }] };
  const pj = join(dir, 'plan.json');
  writeFileSync(pj, JSON.stringify(json));
  const py = join(dir, 'plan.yaml');
  writeFileSync(py, ['object: M78', 'base: M78 QSI 0C', 'order: group', 'groups:', '  - filter: Red', '    exposure: 360', '    count: 2', '    suffix: R', '  - type: dark', '    exposure: 360', '    count: 1', '    suffix: D', ''].join('\n'));
  assert.deepEqual(readPlan(py), readPlan(pj));
  assert.deepEqual(expandPlan(readPlan(py)).map((f) => `${f.suffix}${f.n}`), ['R1', 'R2', 'D1']);
  writeFileSync(py, 'groups: [ {exposure: 1\n');
  assert.throws(() => readPlan(py), (e: unknown) => e instanceof DarkroomError && e.oneLine().startsWith(`${py}: plan is not valid YAML`) && !e.oneLine().includes('\n'));
});

test('plan validation: errors name the file and the field', (t) => {
  const dir = useTempDir(t);
  const p = join(dir, 'bad.json');
  writeFileSync(p, JSON.stringify({ groups: [{ exposure: -1, count: 1 }] }));
  assert.throws(() => readPlan(p), (e: unknown) => e instanceof DarkroomError && e.oneLine() === `${p}: invalid plan: groups.0.exposure: Too small: expected number to be >=0`);
  writeFileSync(p, '{ nope');
  assert.throws(() => readPlan(p), (e: unknown) => e instanceof DarkroomError && e.oneLine().startsWith(`${p}: plan is not valid JSON`));
  const many = Array.from({ length: 17 }, () => ({ exposure: 1, count: 1 }));
  assert.throws(() => parsePlan({ groups: many }, 'x.json'), /groups: Too big: expected array to have <=16 items/);
  assert.throws(() => readPlan(join(dir, 'missing.json')), (e: unknown) => e instanceof DarkroomError && e.code === 'ENOENT');
});

test('autosave names: MaxIm default, tokens, never overwrite', (t) => {
  const date = new Date(Date.UTC(2024, 2, 9, 23, 0, 0));
  assert.equal(formatName(DEFAULT_PATTERN, { base: 'M78 QSI 0C', seq: 1, suffix: 'R', exposure: 360, type: 'light', binning: 1, date }), 'M78 QSI 0C-001-R360');
  assert.equal(
    formatName('{object}_{type}_{filter}_{exposure}s_{temp}_{bin}_{date}_{seq:4}', { base: 'b', object: 'NGC 7000', seq: 12, filter: 'Ha', exposure: 0.5, temp: -20.2, type: 'light', binning: 2, date }),
    'NGC 7000_light_Ha_0.5s_-20C_2x2_20240309_0012',
  );
  assert.equal(formatName('{object}/{seq}', { base: 'b', object: 'a:b', seq: 3, exposure: 1, type: 'dark', binning: 1, date }), 'a_b_3');
  assert.throws(() => formatName('{nope}', { base: 'b', seq: 1, exposure: 1, type: 'light', binning: 1, date }), /unknown token \{nope\}/);
  const dir = useTempDir(t);
  const f = { base: 'M78', seq: 1, suffix: 'R', exposure: 360, type: 'light', binning: 1, date };
  writeFileSync(join(dir, 'M78-001-R360.fit'), 'x');
  writeFileSync(join(dir, 'M78-002-R360.fit'), 'x');
  assert.deepEqual(freeName(dir, DEFAULT_PATTERN, f), { path: join(dir, 'M78-003-R360.fit'), seq: 3 });
  writeFileSync(join(dir, 'fixed.fit'), 'x');
  assert.equal(freeName(dir, 'fixed', f).path, join(dir, 'fixed_2.fit'));
});

describe('sequence on the simulator', () => {
  const dir = fileTempDir();
  const plan = basePlan();
  const frames = expandPlan(plan);
  let rig: Awaited<ReturnType<typeof simRig>>;
  let est: ReturnType<typeof estimateDuration>;
  let r: SequenceResult;
  before(async () => {
    rig = await simRig({ readoutMs: 2000, wheelMsPerSlot: 500 });
    est = estimateDuration(frames, { readoutS: 2, filterSlotS: 0.5, filterNames: QSI_FILTERS, startSlot: await rig.cam.wheel.position() });
    const events: SequenceEvent[] = [];
    r = await new Sequencer(plan, rig.options(dir, (e) => events.push(e))).run();
  });

  test('the plan is described with its frame count and estimated duration', () => {
    const text = describePlan(plan, frames, est).join('\n');
    assert.match(text, /6 frames/);
    assert.match(text, /estimated duration/);
  });

  test('cooling is waited for; the duration estimate is within 5% of the simulated time', () => {
    assert.equal(r.aborted, false);
    assert.ok(r.coolingWaitS >= 60 && r.coolingWaitS < 1200, `cooling wait ${r.coolingWaitS}`);
    // exposures 2*30 + 3*20 + 30 = 150 s, downloads 2+1+2+2+1+1 = 9 s, filter moves L->R 2 slots, R<->G 1 slot x 3
    assert.equal(est.exposureS, 150);
    assert.equal(est.downloadS, 9);
    assert.equal(est.filterS, (2 + 3) * 0.5);
    const rel = Math.abs(r.framesElapsedS - est.totalS) / r.framesElapsedS;
    assert.ok(rel < 0.05, `estimate ${est.totalS} s vs simulated ${r.framesElapsedS} s`);
  });

  test('frames are saved in plan order under MaxIm names', () => {
    const names = r.saved.map((s) => basename(s.path));
    assert.deepEqual(names, ['M78 QSI 0C-001-R30.fit', 'M78 QSI 0C-002-G20.fit', 'M78 QSI 0C-003-D30.fit', 'M78 QSI 0C-004-R30.fit', 'M78 QSI 0C-005-G20.fit', 'M78 QSI 0C-006-G20.fit']);
    assert.deepEqual(readdirSync(dir).sort(), [...names].sort());
  });

  test('headers: kind, exposure, filter, profile, temperatures, DATE-OBS, binning; valid FITS', () => {
    const h1 = readFitsHeader(r.saved[0]!.path).header;
    assert.equal(h1.getString('IMAGETYP'), 'Light Frame');
    assert.equal(h1.getNumber('EXPTIME'), 30);
    assert.equal(h1.getString('FILTER'), 'Red');
    assert.equal(h1.getString('OBJECT'), 'M78');
    assert.equal(h1.getString('OBSERVER'), 'A. Observer');
    assert.equal(h1.getString('TELESCOP'), 'TOA-130');
    assert.equal(h1.getNumber('FOCALLEN'), 1000);
    assert.equal(h1.getNumber('SITELAT'), 43.5);
    assert.equal(h1.getNumber('SITELONG'), -71.25);
    assert.equal(h1.getNumber('SET-TEMP'), -10);
    assert.ok(Math.abs(h1.getNumber('CCD-TEMP')! + 10) <= 0.2, `CCD-TEMP ${h1.getNumber('CCD-TEMP')}`);
    const d1 = Date.parse(`${h1.getString('DATE-OBS')}Z`);
    // the default pre-exposure flush (2 cycles of 5% of the 2 s readout) runs before the shutter opens
    assert.equal(d1, r.framesStart + 2 * 500 + DEFAULT_SETTINGS.preFlush * FLUSH_FRACTION * 2000, 'DATE-OBS is the UTC clock time at the shutter opening (after the filter move and the flush)');
    assert.ok(h1.history().some((l) => l.includes("sequence 'M78 QSI 0C'")));
    const h2 = readFitsHeader(r.saved[1]!.path).header;
    assert.equal(h2.getNumber('XBINNING'), 2);
    assert.equal(h2.getNumber('YBINNING'), 2);
    assert.equal(h2.getString('FILTER'), 'Green');
    const img2 = readFits(r.saved[1]!.path);
    assert.equal(img2.width, 48);
    const h3 = readFitsHeader(r.saved[2]!.path).header;
    assert.equal(h3.getString('IMAGETYP'), 'Dark Frame');
    assert.equal(h3.get('OBJECT'), undefined);
    assert.equal(fitsverify(r.saved[0]!.path).errors, 0);
  });

  test('a second run never overwrites: numbering continues', async () => {
    const seq2 = new Sequencer(parsePlan({ ...plan, cooling: undefined, groups: [{ type: 'bias', exposure: 0, count: 1, suffix: 'B' }] }), rig.options(dir));
    const r2 = await seq2.run();
    assert.equal(basename(r2.saved[0]!.path), 'M78 QSI 0C-001-B0.fit');
    const seq3 = new Sequencer(parsePlan({ ...plan, cooling: undefined, groups: [{ type: 'light', filter: 'Red', exposure: 30, count: 1, suffix: 'R' }] }), rig.options(dir));
    assert.equal(basename((await seq3.run()).saved[0]!.path), 'M78 QSI 0C-002-R30.fit', '001-R30 exists, so the next free number is used');
  });

  test('warmTo warms the camera at the end', async () => {
    const seq4 = new Sequencer(parsePlan({ ...plan, cooling: undefined, warmTo: 10, groups: [{ type: 'bias', exposure: 0, count: 1 }] }), rig.options(dir));
    await seq4.run();
    const st = await rig.cam.coolerStatus();
    assert.equal(st.on, false);
    assert.equal(st.setpoint, 10);
  });
});

describe('abort and pause', () => {
  const dir = fileTempDir();
  const plan = parsePlan({ base: 'T', groups: [{ type: 'light', filter: 'Luminance', exposure: 60, count: 5, suffix: 'L' }] });
  let rig: Awaited<ReturnType<typeof simRig>>;
  before(async () => {
    rig = await simRig();
  });

  test('abort during an exposure leaves no partial file', async () => {
    const seq: Sequencer = new Sequencer(
      plan,
      rig.options(dir, (e) => {
        if (e.kind === 'exposing' && e.frame.index === 2) setImmediate(() => seq.abort());
      }),
    );
    const r = await seq.run();
    assert.equal(r.aborted, true);
    assert.deepEqual(readdirSync(dir).sort(), ['T-001-L60.fit', 'T-002-L60.fit'], 'no third file and no temp file');
    assert.equal(await rig.cam.state(), 'idle', 'the running exposure was aborted');
    assert.ok(r.framesElapsedS < 3 * 61, `stopped during the third exposure (${r.framesElapsedS} s)`);
  });

  test('pause holds between frames', async () => {
    const { clock } = rig;
    const dir2 = join(dir, 'p');
    mkdirSync(dir2);
    let resumeAt = 0;
    const seqP: Sequencer = new Sequencer(
      parsePlan({ ...plan, groups: [{ ...plan.groups[0]!, count: 2 }] }),
      rig.options(dir2, (e) => {
        if (e.kind === 'saved' && e.frame.index === 0) seqP.pause();
        if (e.kind === 'paused') resumeAt = clock.now() + 600_000;
      }),
    );
    const tick = setInterval(() => {
      if (resumeAt && clock.now() >= resumeAt) seqP.resume();
    }, 1);
    const rp = await seqP.run();
    clearInterval(tick);
    assert.equal(rp.saved.length, 2);
    const t1 = Date.parse(`${readFitsHeader(rp.saved[0]!.path).header.getString('DATE-OBS')}Z`);
    const t2 = Date.parse(`${readFitsHeader(rp.saved[1]!.path).header.getString('DATE-OBS')}Z`);
    assert.ok(t2 - t1 >= 600_000 + 60_000, `second frame after the pause (${(t2 - t1) / 1000} s)`);
  });
});
