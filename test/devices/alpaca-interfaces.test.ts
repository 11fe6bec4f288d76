// The Alpaca server serves any Camera / FilterWheel / GuideOutput through the device interfaces alone:
// here simulated devices hidden behind plain objects that have nothing but the interface methods.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AlpacaServer } from '../../src/devices/alpaca/server.js';
import { AlpacaCamera, AlpacaFilterWheel, AlpacaGuideOutput } from '../../src/devices/alpaca/client.js';
import { SimCamera } from '../../src/devices/sim/simcamera.js';
import { SimGuideOutput } from '../../src/devices/sim/guide-port.js';
import { AcceleratedClock, type Camera, type FilterWheel, type GuideOutput } from '../../src/devices/types.js';

/** Only the members an interface declares, bound to `impl`. */
function only<T extends object>(impl: T, members: (keyof T)[], kind: string): T {
  const o: Record<string, unknown> = { kind };
  for (const m of members) o[m as string] = (impl[m] as (...a: unknown[]) => unknown).bind(impl);
  return o as T;
}

test('AlpacaServer serves interface-only devices: camera, wheel and guide port', async () => {
  const clock = new AcceleratedClock(60);
  const sim = new SimCamera({ clock });
  const camMembers: (keyof Camera)[] = ['connect', 'disconnect', 'connected', 'sensorInfo', 'setBinning', 'getBinning', 'setSubframe', 'getSubframe', 'setGain', 'setOffset', 'setCooler', 'setSetpoint', 'coolerStatus', 'startExposure', 'abortExposure', 'state', 'imageReady', 'download'];
  const camera = only<Camera>(sim, camMembers, 'camera');
  const wheel = only<FilterWheel>(sim.wheel, ['connect', 'disconnect', 'names', 'position', 'move'], 'filterwheel');
  const port = new SimGuideOutput(clock);
  const guide = only<GuideOutput>(port, ['connect', 'disconnect', 'pulseGuide', 'isPulseGuiding'], 'guide');
  const server = new AlpacaServer({ camera, wheel, telescope: guide, clock, discoveryPort: null });
  await server.start(0);
  try {
    const t = { host: '127.0.0.1', port: server.port, number: 0 };
    const cam = new AlpacaCamera(t);
    const w = new AlpacaFilterWheel(t);
    const g = new AlpacaGuideOutput(t);
    await cam.connect();
    await w.connect();
    await g.connect();
    cam.wheel = w;
    assert.equal((await cam.sensorInfo()).width, 256);
    await w.move('Blue');
    assert.equal(await w.position(), 2);
    await cam.startExposure({ type: 'light', duration: 1 });
    const img = await cam.download();
    assert.deepEqual(img.data[0], sim.lastImage().data[0], 'the pixels the camera produced');
    assert.equal(img.header.getString('FILTER'), 'Blue');
    await g.pulseGuide('east', 50);
    assert.deepEqual(port.pulses.map((p) => [p.direction, p.ms]), [['east', 50]]);
  } finally {
    await server.close();
  }
});
