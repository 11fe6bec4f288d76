import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SimCamera } from '../../src/devices/sim/simcamera.js';
import { AcceleratedClock } from '../../src/devices/types.js';
import { sensorModel } from '../../src/devices/sim/sensors.js';
import { DarkroomError } from '../../src/util/errors.js';

function median(a: Float32Array): number {
  const s = Float32Array.from(a).sort();
  return s[s.length >> 1]!;
}

test('cooler: full power first, slight overshoot, reaches and holds the set point within 0.1 C', async () => {
  const clock = new AcceleratedClock(1);
  const cam = new SimCamera({ clock, ambient: 20 });
  await cam.connect();
  await cam.setSetpoint(-15);
  await cam.setCooler(true);
  clock.advance(30_000);
  let s = await cam.coolerStatus();
  assert.equal(s.power, 100, 'full power while far from the set point');
  assert.ok(s.poorRegulation, 'power > 85% is flagged');
  assert.ok(!s.locked);
  let minT = Infinity;
  for (let t = 30; t < 240; t += 5) {
    clock.advance(5000);
    s = await cam.coolerStatus();
    minT = Math.min(minT, s.ccdTemp);
  }
  assert.ok(minT < -15 && minT > -16, `slight overshoot below the set point (min ${minT})`);
  // after a few simulated minutes: locked and holding within 0.1 C for the next 20 minutes
  clock.advance(120_000);
  for (let t = 0; t < 1200; t += 10) {
    clock.advance(10_000);
    s = await cam.coolerStatus();
    assert.ok(Math.abs(s.ccdTemp + 15) <= 0.1, `holding: ${s.ccdTemp}`);
    assert.ok(s.locked);
  }
  // equilibrium power matches the thermal model: (20 - -15) / 45
  assert.ok(Math.abs(s.power - (100 * 35) / 45) < 1, `power ${s.power}`);
  assert.ok(!s.poorRegulation);
  // a set point the cooler cannot reach: full power, poor regulation, never locked
  await cam.setSetpoint(-30);
  clock.advance(1800_000);
  s = await cam.coolerStatus();
  assert.equal(s.power, 100);
  assert.ok(s.poorRegulation && !s.locked);
  assert.ok(Math.abs(s.ccdTemp - (20 - 45)) < 0.1, `max delta-T reached: ${s.ccdTemp}`);
  // above body temperature: cannot heat, stays at ambient with no power
  await cam.setSetpoint(30);
  clock.advance(3600_000);
  s = await cam.coolerStatus();
  assert.equal(s.power, 0);
  assert.ok(s.ccdTemp <= 20 && s.ccdTemp > 19.9, `${s.ccdTemp}`);
  // cooler off warms back up to ambient
  await cam.setSetpoint(-10);
  clock.advance(1800_000);
  assert.ok(Math.abs((await cam.coolerStatus()).ccdTemp + 10) < 0.1);
  await cam.setCooler(false);
  clock.advance(60_000);
  s = await cam.coolerStatus();
  assert.ok(s.ccdTemp > -10 + 5 && s.ccdTemp < 20, `warming: ${s.ccdTemp}`);
  clock.advance(3600_000);
  assert.ok(Math.abs((await cam.coolerStatus()).ccdTemp - 20) < 0.05);
});

test('set point below -40 C is refused with a clear error', async () => {
  const cam = new SimCamera();
  await cam.connect();
  await assert.rejects(cam.setSetpoint(-45), (e: unknown) => e instanceof DarkroomError && /set point -45 C out of range -40\.\.50 C/.test(e.message));
  await cam.setSetpoint(-40);
  assert.equal((await cam.coolerStatus()).setpoint, -40);
});

test('dark current of darks 6.3 C apart differs by 2x within 5%', async () => {
  const clock = new AcceleratedClock(1);
  // more dark current than a KAF-8300 so 300 s darks measure it precisely; no hot pixels to bias the mean
  const sensor = sensorModel('kaf8300', { width: 96, height: 64, darkCurrent0: 2, hotPixelFraction: 0, cosmicRate: 0 });
  const cam = new SimCamera({ clock, sensor });
  await cam.connect();
  await cam.setCooler(true);
  const level = async (setpoint: number): Promise<{ dark: number; temp: number }> => {
    await cam.setSetpoint(setpoint);
    clock.advance(1800_000);
    await cam.startExposure({ type: 'bias', duration: 0 });
    clock.advance(5000);
    const bias = await cam.download();
    await cam.startExposure({ type: 'dark', duration: 300 });
    clock.advance(310_000);
    const dark = await cam.download();
    assert.equal(dark.header.getString('IMAGETYP'), 'Dark Frame');
    const temp = dark.header.getNumber('CCD-TEMP')!;
    const d = dark.data[0]!;
    const b = bias.data[0]!;
    let s = 0;
    for (let i = 0; i < d.length; i++) s += d[i]! - b[i]!;
    return { dark: s / d.length, temp };
  };
  const warm = await level(-3.7);
  const cold = await level(-10);
  assert.ok(Math.abs(warm.temp + 3.7) < 0.1 && Math.abs(cold.temp + 10) < 0.1, `${warm.temp} ${cold.temp}`);
  const ratio = warm.dark / cold.dark;
  assert.ok(Math.abs(ratio / 2 - 1) < 0.05, `ratio ${ratio} (${warm.dark} / ${cold.dark} ADU)`);
});

test('exposure states, refusal of a second exposure, shutter, binning, subframe, filter', async () => {
  const clock = new AcceleratedClock(1);
  const cam = new SimCamera({ clock, sky: 50 });
  await cam.connect();
  await cam.startExposure({ type: 'light', duration: 10 });
  assert.equal(await cam.state(), 'exposing');
  await assert.rejects(cam.startExposure({ type: 'light', duration: 1 }), /an exposure is already in progress/);
  clock.advance(10_200);
  assert.equal(await cam.state(), 'downloading');
  clock.advance(2000);
  assert.equal(await cam.state(), 'idle');
  assert.ok(await cam.imageReady());
  const light = await cam.download();
  assert.equal(light.width, 256);
  assert.equal(light.header.getString('FILTER'), 'Luminance');

  // a dark with the shutter closed has no sky; the light has 10 s * 50 e-/s / 0.37 e-/ADU of sky
  await cam.startExposure({ type: 'dark', duration: 10 });
  clock.advance(12_000);
  const dark = await cam.download();
  const sky = median(light.data[0]!) - median(dark.data[0]!);
  assert.ok(Math.abs(sky - 500 / 0.37) < 40, `sky ${sky}`);

  // filter through the Red filter: less sky
  await cam.wheel.move('Red', 10_000).catch(() => undefined);
  clock.advance(5000);
  assert.equal(await cam.wheel.position(), 0);

  // asymmetric binning and a subframe
  await cam.setBinning(2, 1);
  await cam.setSubframe({ x: 10, y: 20, width: 50, height: 40 });
  await assert.rejects(cam.setSubframe({ x: 100, y: 0, width: 50, height: 10 }), /outside the 128x192 binned frame/);
  await assert.rejects(cam.setBinning(4, 4), /binning x must be 1\.\.3/);
  await cam.startExposure({ type: 'bias', duration: 0 });
  clock.advance(2000);
  const b = await cam.download();
  assert.equal(b.width, 50);
  assert.equal(b.height, 40);
  assert.equal(b.header.getNumber('XBINNING'), 2);
  assert.equal(b.header.getNumber('YBINNING'), 1);
  assert.ok(Math.abs(median(b.data[0]!) - 1000) < 10, 'bias counted once when binning');

  // faults
  cam.injectFault('usb');
  assert.equal(await cam.state(), 'error');
  await assert.rejects(cam.startExposure({ type: 'dark', duration: 1 }), /camera hard error 203: USB communication failure/);
});
