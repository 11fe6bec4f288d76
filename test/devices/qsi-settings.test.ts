// The QSI 600-style settings and error conditions of the simulated camera, against the simulator's
// ground truth (its model constants: gain and readout factors, flush residuals, heat sink rises).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SimCamera } from '../../src/devices/sim/simcamera.js';
import { sensorModel } from '../../src/devices/sim/sensors.js';
import { AcceleratedClock } from '../../src/devices/types.js';
import { VirtualClock } from '../../src/acquire/clock.js';
import { FAST_NOISE_FACTOR, FAST_TIME_FACTOR, FLUSH_FRACTION, LOW_GAIN_FACTOR, LOW_GAIN_NOISE, RESIDUAL0 } from '../../src/devices/sim/qsi.js';
import { HEAT_SINK_RISE } from '../../src/devices/sim/cooler.js';
import type { Image } from '../../src/image/image.js';
import { useTempDir } from '../helpers/env.js';

const small = (id = 'kaf8300') => sensorModel(id, { width: 96, height: 64 });

async function cam(opts: ConstructorParameters<typeof SimCamera>[0] = {}): Promise<SimCamera> {
  const c = new SimCamera({ clock: new VirtualClock(), sensor: small(), ...opts });
  await c.connect();
  return c;
}

async function frame(c: SimCamera, type: 'bias' | 'dark' | 'light' | 'flat', duration = 0): Promise<Image> {
  await c.startExposure({ type, duration });
  return c.download(1e7);
}

function median(a: Float32Array): number {
  const s = Float32Array.from(a).sort();
  return s[s.length >> 1]!;
}

/** Read noise in e-: the RMS of the difference of two bias frames / sqrt(2), times e-/ADU. */
async function readNoise(c: SimCamera): Promise<number> {
  const a = (await frame(c, 'bias')).data[0]!;
  const b = (await frame(c, 'bias')).data[0]!;
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i]! - b[i]!) ** 2;
  return Math.sqrt(s / a.length / 2) * (await c.sensorInfo()).electronsPerAdu;
}

test('gain high/low: e-/ADU x2.6 (EGAIN, GAIN, sky level in ADU) and read noise x1.1', async () => {
  const c = await cam();
  const s = small();
  const level = async (): Promise<number> => median((await frame(c, 'light', 100)).data[0]!) - median((await frame(c, 'bias')).data[0]!);
  const high = await level();
  const rnHigh = await readNoise(c);
  await c.setSettings({ gain: 'low' });
  assert.equal(await c.getGain(), 1, 'gain mode low is the camera gain setting 1');
  const img = await frame(c, 'bias');
  assert.ok(Math.abs(img.header.getNumber('EGAIN')! - s.gain * LOW_GAIN_FACTOR) < 1e-4);
  assert.equal(img.header.getNumber('GAIN'), 1);
  const low = await level();
  const rnLow = await readNoise(c);
  assert.ok(Math.abs(high / low / LOW_GAIN_FACTOR - 1) < 0.03, `sky ADU ratio ${high / low}`);
  assert.ok(Math.abs(rnHigh / s.readNoise - 1) < 0.04, `high gain read noise ${rnHigh} e-`);
  assert.ok(Math.abs(rnLow / (s.readNoise * LOW_GAIN_NOISE) - 1) < 0.04, `low gain read noise ${rnLow} e-`);
  await c.setGain(0);
  assert.equal((await c.settingsState()).settings.gain, 'high', 'Gain 0 is the high gain mode');
});

test('readout optimization: readout speed has 1.5x the read noise in 0.45 of the download time', async () => {
  const clock = new VirtualClock();
  const c = await cam({ clock, readoutMs: 1000 });
  const timed = async (): Promise<number> => {
    const t0 = clock.now();
    await frame(c, 'bias');
    return clock.now() - t0;
  };
  await c.setSettings({ preFlush: 0 });
  assert.equal(await timed(), 1000, 'image quality: full unbinned readout 1000 ms');
  const rnQ = await readNoise(c);
  await c.setSettings({ readout: 'speed' });
  assert.equal(await timed(), 1000 * FAST_TIME_FACTOR);
  const rnF = await readNoise(c);
  assert.ok(Math.abs(rnF / rnQ / FAST_NOISE_FACTOR - 1) < 0.05, `read noise ${rnQ} -> ${rnF} e-`);
  assert.equal((await frame(c, 'bias')).header.getString('READOUTM'), 'Fast readout');
});

test('pre-exposure flush: latency n x 5% of the readout before the shutter opens; residual image 0.2% x 0.02^n', async () => {
  const clock = new VirtualClock();
  const c = await cam({ clock, readoutMs: 1000 });
  for (const n of [0, 1, 2, 4, 8] as const) {
    await c.setSettings({ preFlush: n });
    const t0 = clock.now();
    const b = await frame(c, 'bias');
    assert.equal(Date.parse(`${b.header.getString('DATE-OBS')}Z`) - t0, n * FLUSH_FRACTION * 1000, `DATE-OBS after ${n} flush cycles`);
  }
  await assert.rejects(c.setSettings({ preFlush: 3 as 2 }), /pre-exposure flush must be one of 0, 1, 2, 4, 8, got '3'/);
  // a bias right after a flat keeps RESIDUAL0 of the flat's charge without flushing, none after 8 cycles
  const residualAfterFlat = async (n: 0 | 8): Promise<{ flatE: number; biasAdu: number }> => {
    await c.setSettings({ preFlush: 8 });
    const ref = median((await frame(c, 'bias')).data[0]!);
    const flat = median((await frame(c, 'flat', 1)).data[0]!);
    await c.setSettings({ preFlush: n });
    const after = median((await frame(c, 'bias')).data[0]!);
    return { flatE: (flat - 1000) * small().gain, biasAdu: after - ref };
  };
  const r0 = await residualAfterFlat(0);
  const expected = (RESIDUAL0 * r0.flatE) / small().gain;
  assert.ok(expected > 40, `residual ${expected} ADU`);
  assert.ok(Math.abs(r0.biasAdu / expected - 1) < 0.1, `residual ${r0.biasAdu} ADU, expected ${expected}`);
  const r8 = await residualAfterFlat(8);
  assert.ok(Math.abs(r8.biasAdu) <= 1, `no residual after 8 flush cycles (${r8.biasAdu} ADU)`);
});

/** A small camera at 20 C ambient with its fan in `fanMode`, cooling towards -20 C on an accelerated clock. */
async function cooling(fanMode: 'off' | 'quiet' | 'full'): Promise<{ clock: AcceleratedClock; c: SimCamera }> {
  const clock = new AcceleratedClock(1);
  const c = new SimCamera({ clock, sensor: small(), ambient: 20 });
  await c.connect();
  await c.setSettings({ fanMode });
  await c.setSetpoint(-20);
  await c.setCooler(true);
  return { clock, c };
}

test('fan mode sets the cooling margin: quiet stalls at ambient + 8 - 45 C; full reaches the set point', async () => {
  const { clock, c } = await cooling('quiet');
  clock.advance(30 * 60_000);
  let st = await c.coolerStatus();
  assert.ok(Math.abs(st.ccdTemp - (20 + HEAT_SINK_RISE.quiet - 45)) < 0.1, `quiet: CCD ${st.ccdTemp} C`);
  assert.equal(st.power, 100);
  assert.ok(Math.abs(st.ambient - (20 + HEAT_SINK_RISE.quiet)) < 0.1, `heat sink ${st.ambient} C`);
  await c.setSettings({ fanMode: 'full' });
  clock.advance(30 * 60_000);
  st = await c.coolerStatus();
  assert.ok(Math.abs(st.ccdTemp + 20) <= 0.1, `full: CCD ${st.ccdTemp} C`);
  assert.ok(st.locked);
});

test('over-temperature (soft 101): heat sink over 40 C forces the fan to full speed until it is under 38 C', async () => {
  const { clock, c } = await cooling('off');
  // with the fan off the heat sink would settle at 20 + 25 = 45 C; the override keeps it near 40 C
  let maxHs = 0;
  let overridden = 0;
  for (let t = 0; t < 600; t++) {
    clock.advance(1000);
    const s = await c.settingsState();
    maxHs = Math.max(maxHs, (await c.coolerStatus()).ambient);
    if (s.fanOverride) {
      overridden++;
      assert.deepEqual(s.conditions.map((x) => [x.code, x.number, x.severity]), [['over-temperature', 101, 'soft']]);
      assert.equal(s.settings.fanMode, 'off', 'the chosen mode is kept');
    }
  }
  assert.ok(maxHs > 39.5 && maxHs < 40.6, `heat sink peaks at the 40 C limit (${maxHs})`);
  assert.ok(overridden > 10 && overridden < 590, `override on and off (${overridden} s of 600)`);
  // a hot heat sink (ambient 45 C) holds the condition; back at 25 C it clears
  c.setAmbient(45);
  clock.advance(10 * 60_000);
  const hot = await c.conditions();
  assert.equal(hot[0]?.code, 'over-temperature');
  assert.match(hot[0]!.message, /^soft error 101: heat sink over 40 C: fan forced to full speed \(heat sink 45\.0 C\)$/);
  c.setAmbient(25);
  await c.setSettings({ fanMode: 'full' });
  clock.advance(10 * 60_000);
  assert.deepEqual(await c.conditions(), []);
});

test('CCD under -40 C (soft 102) and supply voltage out of 11..14 V (soft 103, 104): cooler off until cleared', async () => {
  const clock = new AcceleratedClock(1);
  const c = new SimCamera({ clock, sensor: small(), ambient: -45 });
  await c.connect();
  let cs = await c.conditions();
  assert.deepEqual(cs.map((x) => [x.code, x.number, x.severity]), [['ccd-under-temperature', 102, 'soft']]);
  assert.equal(cs[0]!.value, -45);
  c.setAmbient(10);
  clock.advance(15 * 60_000);
  assert.deepEqual(await c.conditions(), []);
  await c.setSetpoint(-10);
  await c.setCooler(true);
  clock.advance(10 * 60_000);
  assert.ok((await c.coolerStatus()).power > 0);
  for (const [v, code, n] of [[10.5, 'supply-low', 103], [14.6, 'supply-high', 104]] as const) {
    c.setSupplyVoltage(v);
    clock.advance(5000);
    cs = await c.conditions();
    assert.deepEqual(cs.map((x) => [x.code, x.number, x.severity, x.value]), [[code, n, 'soft', v]]);
    assert.equal((await c.coolerStatus()).power, 0, 'the cooler gets no power');
    assert.equal(await c.state(), 'idle', 'a soft error does not stop the camera');
  }
  c.setSupplyVoltage(12);
  clock.advance(5000);
  assert.deepEqual(await c.conditions(), []);
  assert.ok((await c.coolerStatus()).power > 0);
});

test('hard errors (filter wheel 201, shutter 202, USB 203) stop the camera; one during an exposure loses the image', async () => {
  const c = await cam();
  c.injectFault('filter-wheel');
  assert.deepEqual((await c.conditions()).map((x) => [x.code, x.number, x.severity]), [['filter-wheel', 201, 'hard']]);
  await assert.rejects(c.wheel.move('Red'), /hard error 201: filter wheel failure/);
  c.injectFault('filter-wheel', false);
  await c.wheel.move('Red');
  for (const [f, n] of [['shutter', 202], ['usb', 203]] as const) {
    c.injectFault(f);
    assert.equal(await c.state(), 'error');
    assert.equal((await c.conditions())[0]!.number, n);
    await assert.rejects(c.startExposure({ type: 'light', duration: 1 }), new RegExp(`camera hard error ${n}`));
    c.injectFault(f, false);
    assert.equal(await c.state(), 'idle');
  }
  await c.startExposure({ type: 'light', duration: 10 });
  c.injectFault('usb');
  await assert.rejects(c.download(), /camera hard error 203: USB communication failure: the image is lost/);
});

test('anti-blooming: on, a saturated star stays round; off, its charge spills along the column', async () => {
  const stars = [{ x: 48.3, y: 32.6, flux: 4e5 }];
  const c = await cam({ stars, sky: 0 });
  await c.setSettings({ gain: 'low' });
  const g = small().gain * LOW_GAIN_FACTOR;
  const full = 1000 + small().fullWell / g;
  const bias = (await frame(c, 'bias')).data[0]!;
  const extent = (img: Image): { col: number; row: number; total: number } => {
    const d = img.data[0]!;
    let col = 0;
    let row = 0;
    let total = 0;
    for (let y = 0; y < 64; y++) if (d[y * 96 + 48]! > full - 200) col++;
    for (let x = 0; x < 96; x++) if (d[32 * 96 + x]! > full - 200) row++;
    for (let i = 0; i < d.length; i++) total += (d[i]! - bias[i]!) * g;
    return { col, row, total };
  };
  const short = extent(await frame(c, 'light', 0.1));
  const on = extent(await frame(c, 'light', 10));
  await c.setSettings({ antiBlooming: false });
  const off = extent(await frame(c, 'light', 10));
  assert.ok(on.col > 3 && Math.abs(on.col - on.row) <= 2, `ABG on: round saturated core (${on.col} x ${on.row})`);
  assert.ok(off.col >= on.col + 15 && off.row === on.row, `ABG off: a bleed along the column (${off.col} x ${off.row})`);
  // the charge the gate drains stays in the frame without it: 100x that of an unsaturated 0.1 s frame (within 4%)
  assert.ok(off.total > on.total * 1.2 && Math.abs(off.total / (100 * short.total) - 1) < 0.04, `charge ${on.total} -> ${off.total} e- (0.1 s: ${short.total})`);
  // a sensor without the gate cannot switch it on
  const nabg = await cam({ sensor: sensorModel('kaf1603', { width: 96, height: 64 }) });
  await assert.rejects(nabg.setSettings({ antiBlooming: true }), /anti-blooming is not available on this sensor/);
});

test('shutter priority: electronic only on interline sensors; its darks see the sky', async () => {
  const c = await cam();
  await assert.rejects(c.setSettings({ shutterPriority: 'electronic' }), /shutter priority must be one of mechanical, got 'electronic'/);
  const il = await cam({ sensor: small('kai04022'), sky: 2, stars: [] });
  const darkLevel = async (): Promise<number> => median((await frame(il, 'dark', 100)).data[0]!);
  const mech = await darkLevel();
  await il.setSettings({ shutterPriority: 'electronic' });
  const elec = await darkLevel();
  // the sky (2 e-/s through the Luminance slot for 100 s) at 0.6 e-/ADU, within 5% (flat field, stars)
  const expected = (2 * 100) / 0.6;
  assert.ok(Math.abs((elec - mech) / expected - 1) < 0.05, `dark level ${mech} -> ${elec}, sky ${expected} ADU`);
  const img = await frame(il, 'dark', 1);
  assert.equal(img.header.getString('IMAGETYP'), 'Dark Frame');
});

test('pixel mask: each masked pixel is the mean of its unmasked neighbours, binned too; settings kept in the camera file', async (t) => {
  const dir = useTempDir(t);
  const file = join(dir, 'camera.json');
  const c = await cam({ settingsFile: file });
  const d0 = (await frame(c, 'dark', 600)).data[0]!;
  let hot = 0;
  for (let i = 0; i < d0.length; i++) if (d0[i]! > d0[hot]!) hot = i;
  const hx = hot % 96;
  const hy = Math.floor(hot / 96);
  assert.ok(d0[hot]! > median(d0) + 500, 'a hot pixel to mask');
  const mask = [{ x: hx, y: hy }, { x: 3, y: 4 }];
  await c.setSettings({ pixelMask: mask, led: false, beeper: false, fanMode: 'quiet' });
  const d1 = (await frame(c, 'dark', 600)).data[0]!;
  let sum = 0;
  let n = 0;
  for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) if ((dx || dy) && hx + dx >= 0 && hx + dx < 96 && hy + dy >= 0 && hy + dy < 64) (sum += d1[(hy + dy) * 96 + hx + dx]!), n++;
  assert.equal(d1[hot], Math.round(sum / n), 'the hot pixel is the rounded mean of its 8 neighbours');
  await c.setBinning(2, 2);
  const b = await frame(c, 'dark', 600);
  const bx = Math.floor(hx / 2);
  const by = Math.floor(hy / 2);
  const bd = b.data[0]!;
  let bs = 0;
  let bn = 0;
  for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) if ((dx || dy) && bx + dx >= 0 && bx + dx < 48 && by + dy >= 0 && by + dy < 32 && !(bx + dx === 1 && by + dy === 2)) (bs += bd[(by + dy) * 48 + bx + dx]!), bn++;
  assert.equal(bd[by * 48 + bx], Math.round(bs / bn), 'binned: the binned pixel holding it');
  // kept in the camera's file, read back by a new session
  assert.ok(existsSync(file));
  assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')).pixelMask, mask);
  const again = await cam({ settingsFile: file });
  const st = (await again.settingsState()).settings;
  assert.deepEqual([st.pixelMask, st.led, st.beeper, st.fanMode], [mask, false, false, 'quiet']);
  await assert.rejects(c.setSettings({ pixelMask: [{ x: 96, y: 0 }] }), /masked pixel 96,0 outside the 96x64 sensor/);
});
