/**
 * The console's camera settings (web/src/CameraSettings.tsx) in Chromium against the real server and the
 * simulated QSI camera: connect the simulator, change the fan mode and the gain (the server's camera takes
 * them, the component shows what it answered, a reload reads them back), the over-temperature condition
 * and the fan override appear and clear as the simulated heat sink heats and cools, and a refused value
 * (a masked pixel outside the sensor; a mask that is not x,y pairs) is shown as a sentence.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { connectSim, openConsole, textOf, waitText, type Console } from './harness.js';
import { fileTempDir } from '../helpers/env.js';
import type { SimCamera } from '../../src/devices/sim/simcamera.js';
import { LIMITS } from '../../src/devices/camera-settings.js';

let c: Console;
// the simulated camera's memory for this file only (the run's shared file stays untouched)
const settingsFile = join(fileTempDir('darkroom-e2e-camset-'), 'sim-camera.json');

before(async () => {
  process.env.DARKROOM_SIM_SETTINGS = settingsFile;
  c = await openConsole();
});

after(async () => {
  await c?.close();
});

interface State {
  settings: { fanMode: string; gain: string; pixelMask: { x: number; y: number }[] };
  conditions: { code: string; number: number }[];
  fanOverride: boolean;
}
const serverState = async (): Promise<State> => (await fetch(`${c.base}/api/camera/settings`)).json() as Promise<State>;
const value = (testid: string): Promise<string> => c.page.getByTestId(testid).inputValue();

/** Wait until the select `testid` shows `v`. */
async function waitValue(testid: string, v: string): Promise<void> {
  await c.page.waitForFunction(([id, want]) => (globalThis as any).document.querySelector(`[data-testid=${id}]`)?.value === want, [testid, v], { timeout: 20_000 });
}

test('fan mode and gain: changed from the console, taken by the camera, shown, read back after a reload', async () => {
  const { page } = c;
  await page.goto(c.base);
  await connectSim(page);
  await page.getByTestId('camera-settings').waitFor();
  // a fresh camera: the QSI defaults
  assert.deepEqual([await value('set-fan'), await value('set-gain'), await value('set-readout')], ['full', 'high', 'quality']);
  assert.deepEqual(await page.getByTestId('set-fan').locator('option').allInnerTexts(), ['off', 'quiet', 'full']);
  await page.getByTestId('set-fan').selectOption('quiet');
  await waitValue('set-fan', 'quiet');
  await page.getByTestId('set-gain').selectOption('low');
  await waitValue('set-gain', 'low');
  const st = await serverState();
  assert.deepEqual([st.settings.fanMode, st.settings.gain], ['quiet', 'low']);
  // the simulated camera itself runs with them
  const cam = c.server.devices.current()!.camera as SimCamera;
  assert.deepEqual([(await cam.settingsState()).settings.fanMode, (await cam.settingsState()).settings.gain], ['quiet', 'low']);
  // the server keeps the camera connected: the reloaded console reads its settings
  await page.reload();
  await page.getByTestId('tab-camera').click();
  await page.getByTestId('camera-settings').waitFor();
  assert.deepEqual([await value('set-fan'), await value('set-gain')], ['quiet', 'low']);
  assert.equal(await page.getByTestId('fan-override').count(), 0);
  assert.equal(await page.getByTestId('camera-condition').count(), 0);
});

test('status: the over-temperature condition and the fan override appear on a hot heat sink and clear when it cools', async () => {
  const { page } = c;
  const cam = c.server.devices.current()!.camera as SimCamera;
  // 6 C over the QSI limit (40 C): the heat sink follows within a simulated minute (600x: 0.1 s)
  cam.setAmbient(LIMITS.heatSinkMaxC + 6);
  const banner = await waitText(page, 'camera-condition', /\w/);
  const st = await serverState();
  assert.deepEqual(st.conditions.map((x) => [x.code, x.number]), [['over-temperature', 101]]);
  assert.equal(st.fanOverride, true);
  assert.match(banner, /heat sink 4[56]\.\d C/);
  assert.match(await textOf(page, 'fan-override'), /full speed: over temperature/);
  // the user's choice stays quiet: the override is the camera's
  assert.equal(await value('set-fan'), 'quiet');
  cam.setAmbient(20);
  await page.waitForFunction(() => !(globalThis as any).document.querySelector('[data-testid=camera-condition]'), undefined, { timeout: 20_000 });
  assert.equal(await page.getByTestId('fan-override').count(), 0);
  assert.deepEqual((await serverState()).conditions, []);
});

test('a refused value is shown as a sentence, and the setting stays as it was', async () => {
  const { page } = c;
  await page.getByTestId('set-mask').fill('10,20;300,10');
  await page.getByTestId('set-mask-apply').click();
  const msg = await waitText(page, 'settings-error', /\w/);
  // the simulator's sensor is 256 x 192: x = 300 is outside it
  assert.equal(msg, 'Masked pixel 300,10 outside the 256x192 sensor');
  assert.deepEqual((await serverState()).settings.pixelMask, []);
  assert.equal(await textOf(page, 'mask-count'), '0 masked');
  await page.getByTestId('set-mask').fill('10,20;x');
  await page.getByTestId('set-mask-apply').click();
  await waitText(page, 'settings-error', /is not a list/);
  assert.equal(await textOf(page, 'settings-error'), "pixel mask: '10,20;x' is not a list of x,y pixels (e.g. 120,45;300,17)");
  // a good mask clears the sentence and is shown
  await page.getByTestId('set-mask').fill('10,20;30,40');
  await page.getByTestId('set-mask-apply').click();
  await waitText(page, 'mask-count', /^2 masked$/);
  assert.equal(await page.getByTestId('settings-error').count(), 0);
  assert.deepEqual((await serverState()).settings.pixelMask, [{ x: 10, y: 20 }, { x: 30, y: 40 }]);
  assert.deepEqual(c.pageErrors, []);
});
