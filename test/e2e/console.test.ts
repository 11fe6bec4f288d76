/**
 * The console through a night, one defect of issue 20 a test (each failed before its fix): human
 * messages and buttons that need a camera, saving a single exposure, the viewer following every
 * source, binnings the camera has, countdown and ETA, the sequence form kept, re-fit on resize,
 * fine stretch controls, the smaller ones, guiding after an idle mount. One server, one page.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readPlan } from '../../src/acquire/plan.js';
import { readFits } from '../../src/fits/index.js';
import { readFitsHeader } from '../../src/fits/reader.js';
import { connectSim, openConsole, textOf, waitText, recordTexts, type Console } from './harness.js';

let c: Console;

before(async () => {
  c = await openConsole();
});

after(async () => {
  await c?.close();
});

/** Start a focus loop of `count` frames of `exposure` s from the Focus tab. */
async function startFocusLoop(page: Console['page'], exposure: number, count: number): Promise<void> {
  await page.getByTestId('tab-focus').click();
  await page.getByTestId('focus-exposure').fill(String(exposure));
  await page.getByTestId('focus-count').fill(String(count));
  await page.getByTestId('focus-loop').click();
}

test('10: without a camera, Start, Loop, Autofocus and Calibrate are disabled and say why; errors are sentences, not API text', async () => {
  const { page } = c;
  await page.goto(c.base);
  await page.getByTestId('tab-sequence').click();
  await page.getByTestId('seq-needs-camera').waitFor();
  assert.equal(await page.getByTestId('seq-start').isDisabled(), true);
  await page.getByTestId('tab-focus').click();
  assert.equal(await page.getByTestId('autofocus').isDisabled(), true);
  assert.equal(await page.getByTestId('focus-loop').isDisabled(), true);
  await page.getByTestId('tab-guide').click();
  assert.equal(await page.getByTestId('guide-calibrate').isDisabled(), true);
  assert.match(await textOf(page, 'guide-needs-camera'), /Connect a camera in the Camera tab first/);
  await connectSim(page);
  await page.getByTestId('tab-focus').click();
  await page.waitForFunction(() => !(globalThis as any).document.querySelector('[data-testid=autofocus]').disabled);
  await page.getByTestId('focus-target').fill('abc');
  await page.getByTestId('focus-move').click();
  const msg = await waitText(page, 'focus-error', /\w/);
  assert.equal(msg, 'Check the focuser position (steps): enter a number.');
});

test('3: a single exposure is saved from the Camera panel as FITS under the root, with a numbered name', async () => {
  const { page } = c;
  await page.getByTestId('tab-camera').click();
  await page.getByTestId('exp-seconds').fill('2');
  await page.getByTestId('expose').click();
  await waitText(page, 'exposure-phase', /done/);
  await page.waitForFunction(() => /^light_2s_\d{4}\.fits$/.test((globalThis as any).document.querySelector('[data-testid=save-name]')?.value ?? ''));
  const name = await page.getByTestId('save-name').inputValue();
  await page.getByTestId('save-image').click();
  const saved = await waitText(page, 'saved-path', /saved /);
  const path = join(c.dir, 'captures', name);
  assert.equal(saved, `saved ${path}`);
  const img = readFits(path);
  // the camera's last image, pixel for pixel, with the header of the exposure
  const last = (await c.server.devices.status()).lastImage!;
  assert.deepEqual([img.width, img.height], [last.width, last.height]);
  const cam = c.server.devices.lastImage();
  assert.deepEqual(Array.from(img.data[0]!.subarray(0, 1000)), Array.from(cam.data[0]!.subarray(0, 1000)));
  assert.equal(readFitsHeader(path).header.getNumber('EXPTIME'), 2);
  // a second save of the same name is refused in words
  await page.getByTestId('save-image').click();
  assert.match(await waitText(page, 'save-error', /\w/), /already exists/);
});

test('4: frames of the focus loop, autofocus and the sequence go to the viewer as they arrive', async () => {
  const { page } = c;
  await startFocusLoop(page, 1, 2);
  await waitText(page, 'viewer-title', /^focus loop #\d+$/);
  await c.server.acquire.focusEnded();
  await page.getByTestId('autofocus').click();
  await waitText(page, 'viewer-title', /^autofocus #\d+$/, 30_000);
  await c.server.acquire.focusEnded();
  await page.getByTestId('tab-sequence').click();
  await page.getByTestId('seq-out').fill('seq4');
  await page.getByTestId('g-exposure-0').fill('1');
  await page.getByTestId('g-count-0').fill('1');
  await page.getByTestId('seq-start').click();
  await waitText(page, 'viewer-title', /^sequence #\d+$/);
  await c.server.acquire.sequenceEnded();
  // the frame in the viewer is the camera's last image: the one the sequence saved
  const last = (await c.server.devices.status()).lastImage!;
  assert.equal(await textOf(page, 'viewer-title'), `sequence #${last.id}`);
});

test('5: the sequence editor offers only the binnings the connected camera has', async () => {
  const { page } = c;
  await page.getByTestId('tab-sequence').click();
  const sensor = (await c.server.devices.status()).sensor!;
  const max = Math.min(sensor.maxBinX, sensor.maxBinY);
  assert.equal(max, 3, 'the simulated camera bins up to 3x3');
  await page.waitForFunction((n) => (globalThis as any).document.querySelectorAll('[data-testid=g-binning-0] option').length === n, max);
  const offered = await page.getByTestId('g-binning-0').locator('option').allInnerTexts();
  assert.deepEqual(offered, ['1', '2', '3']);
});

/** The viewer's zoom (%) and the size of the canvas's container. */
async function zoomAndSize(): Promise<{ zoom: number; w: number; h: number; iw: number; ih: number }> {
  const t = await textOf(c.page, 'viewer-zoom');
  const m = /(\d+)x(\d+).*zoom (\d+)%/.exec(t)!;
  const box = await c.page.evaluate(() => {
    const el = (globalThis as any).document.querySelector('[data-testid=viewer-canvas]').parentElement;
    return { w: el.clientWidth, h: el.clientHeight };
  });
  return { zoom: Number(m[3]), iw: Number(m[1]), ih: Number(m[2]), ...box };
}

test('8: the viewer fits the image again after a resize; the header opens over the image without shrinking it', async () => {
  const { page } = c;
  await page.setViewportSize({ width: 1920, height: 1080 });
  await page.waitForTimeout(300);
  const big = await zoomAndSize();
  assert.equal(big.zoom, Math.round(100 * Math.min(big.w / big.iw, big.h / big.ih)));
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.waitForTimeout(300);
  const small = await zoomAndSize();
  assert.ok(small.w < big.w, `${small.w} < ${big.w}`);
  assert.equal(small.zoom, Math.round(100 * Math.min(small.w / small.iw, small.h / small.ih)));
  await page.getByTestId('header-toggle').click();
  await page.getByTestId('header-panel').waitFor();
  await page.waitForTimeout(200);
  const withHeader = await zoomAndSize();
  assert.deepEqual([withHeader.w, withHeader.zoom], [small.w, small.zoom]);
  await page.getByTestId('header-toggle').click();
});

test('6: an exposure counts down; a sequence shows elapsed, time left (the estimate of the frames to go) and ETA', async () => {
  const { page } = c;
  await page.getByTestId('tab-camera').click();
  await page.getByTestId('exp-seconds').fill('3000');
  await page.getByTestId('expose').click();
  const left = async (): Promise<number> => Number(/([\d.]+) s left of 3000 s/.exec(await waitText(page, 'exposure-countdown', /s left/))![1]);
  const a = await left();
  await page.waitForTimeout(600);
  const b = await left();
  assert.ok(a > 0 && a <= 3000 && b < a, `countdown ${a} -> ${b}`);
  await page.getByTestId('abort').click();
  await waitText(page, 'exposure-phase', /aborted/);
  await page.getByTestId('tab-sequence').click();
  await page.getByTestId('seq-out').fill('seq6');
  await page.getByTestId('g-exposure-0').fill('30');
  await page.getByTestId('g-count-0').fill('2');
  // every line of time the panel shows, as the sequence runs
  const readTimes = await recordTexts(page, 'seq-times');
  await page.getByTestId('seq-start').click();
  await waitText(page, 'seq-progress', /done · frame 2 of 2/, 30_000);
  const seen: string[] = await readTimes();
  const secs = (s: string, k: string): number => {
    const m = new RegExp(`${k} (\\d+)m(\\d+)s`).exec(s)!;
    return 60 * Number(m[1]) + Number(m[2]);
  };
  // the panel may still show the end of an earlier test's sequence (left 0m00s) when the recording starts: this
  // sequence's lines begin with the first one that has time left
  const times = seen.slice(Math.max(0, seen.findIndex((t) => secs(t, 'left') > 0)));
  // 2 x (30 s + 1 s readout) = 62 s in all; after the first frame is saved, 31 s are left
  assert.equal(secs(times[0]!, 'left'), 62, times.join(' | '));
  assert.ok(times.some((t) => secs(t, 'left') === 31), times.join(' | '));
  const last = times[times.length - 1]!;
  assert.equal(secs(last, 'left'), 0);
  const elapsed = secs(last, 'elapsed');
  // the camera's clock runs on (600x) through the server's own work between frames: at least the 60 s of exposures
  assert.ok(elapsed >= 60, `elapsed ${elapsed} s of simulated time for 62 s estimated`);
  assert.match(last, /ETA \d\d:\d\d:\d\d/);
});

test('7: the sequence form survives a reload; plans are saved and loaded as the YAML/JSON files the CLI reads', async () => {
  const { page } = c;
  await page.getByTestId('tab-sequence').click();
  await page.getByTestId('seq-base').fill('M31');
  await page.getByTestId('seq-object').fill('M 31');
  await page.getByTestId('g-exposure-0').fill('45');
  await page.getByTestId('g-count-0').fill('3');
  await page.getByTestId('g-suffix-0').fill('L');
  await page.waitForTimeout(200);
  await page.reload();
  await page.getByTestId('tab-sequence').click();
  assert.equal(await page.getByTestId('seq-base').inputValue(), 'M31');
  assert.equal(await page.getByTestId('g-exposure-0').inputValue(), '45');
  assert.equal(await page.getByTestId('g-suffix-0').inputValue(), 'L');
  await page.getByTestId('plan-path').fill('plans/m31.yaml');
  await page.getByTestId('plan-save').click();
  await waitText(page, 'plan-note', /saved/);
  const saved = readPlan(join(c.dir, 'plans/m31.yaml'));
  assert.equal(saved.base, 'M31');
  assert.equal(saved.object, 'M 31');
  assert.deepEqual(saved.groups.map((g) => [g.type, g.exposure, g.count, g.suffix]), [['light', 45, 3, 'L']]);
  // a JSON plan written by hand, loaded into the form
  writeFileSync(join(c.dir, 'plans/ha.json'), JSON.stringify({ base: 'NGC7000', groups: [{ exposure: 300, count: 12, suffix: 'Ha' }, { type: 'dark', exposure: 300, count: 5 }] }));
  await page.getByTestId('plan-path').fill('plans/ha.json');
  await page.getByTestId('plan-load').click();
  await waitText(page, 'plan-note', /loaded/);
  assert.equal(await page.getByTestId('seq-base').inputValue(), 'NGC7000');
  assert.equal(await page.getByTestId('g-count-0').inputValue(), '12');
  assert.equal(await page.getByTestId('g-type-1').inputValue(), 'dark');
  await waitText(page, 'seq-estimate', /17 frames/);
});

test('9: stretch values can be typed (black in ADU, mid) and nudged with the arrow keys by 0.0001 (x10 with Shift)', async () => {
  const { page } = c;
  await page.getByTestId('black-adu').waitFor();
  const black0 = Number(await page.getByTestId('black-adu').inputValue());
  const target = Math.round(black0) + 37;
  await page.getByTestId('black-adu').fill(String(target));
  await page.getByTestId('black-adu').press('Enter');
  await page.waitForFunction((v) => Math.abs(Number((globalThis as any).document.querySelector('[data-testid=black-adu]').value) - v) < 0.5, target);
  assert.equal(await page.getByTestId('auto-stf').isChecked(), false);
  await page.getByTestId('mid-value').fill('0.0048');
  await page.getByTestId('mid-value').press('Enter');
  await page.waitForFunction(() => (globalThis as any).document.querySelector('[data-testid=mid-value]').value === '0.0048');
  await page.getByTestId('midtones').focus();
  await page.keyboard.press('ArrowRight');
  await page.waitForFunction(() => (globalThis as any).document.querySelector('[data-testid=mid-value]').value === '0.0049');
  await page.keyboard.press('Shift+ArrowLeft');
  await page.waitForFunction(() => (globalThis as any).document.querySelector('[data-testid=mid-value]').value === '0.0039');
});

test('9: the log histogram zooms with the wheel around the cursor (the sky peak of linear data spreads over the bins); a double click shows the whole range', async () => {
  const { page } = c;
  const hist = page.getByTestId('histogram');
  await hist.waitFor();
  const whole = await textOf(page, 'histogram-range');
  const bins0 = Number(await hist.getAttribute('data-bins'));
  const box = (await hist.boundingBox())!;
  // the sky peak: the black point (red line) sits just below it; zoom around the left end, where linear data lives
  await page.mouse.move(box.x + 0.02 * box.width, box.y + box.height / 2);
  for (let k = 0; k < 12; k++) await page.mouse.wheel(0, -100);
  const zoomed = await waitText(page, 'histogram-range', /zoom (\d+\.\d)x/);
  const z = Number(/zoom (\d+\.\d)x/.exec(zoomed)![1]);
  assert.ok(z > 10, `zoom ${z}x after 12 wheel steps: ${zoomed}`);
  const [lo, hi] = /(-?[\d.]+) – (-?[\d.]+) ADU/.exec(zoomed)!.slice(1).map(Number);
  const [lo0, hi0] = /(-?[\d.]+) – (-?[\d.]+) ADU/.exec(whole)!.slice(1).map(Number);
  assert.ok(lo! >= lo0! && hi! <= hi0! && hi! - lo! < (hi0! - lo0!) / 10, `${zoomed} inside ${whole}`);
  await page.waitForFunction((b) => Number((globalThis as any).document.querySelector('[data-testid=histogram]').getAttribute('data-bins')) > b, bins0);
  const bins1 = Number(await hist.getAttribute('data-bins'));
  assert.ok(bins1 > bins0, `non-empty bins ${bins0} -> ${bins1}`);
  await hist.dblclick();
  await waitText(page, 'histogram-range', new RegExp(`^${whole.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`));
});

test('11: a focus loop can be aborted; the camera is free again afterwards', async () => {
  const { page } = c;
  await startFocusLoop(page, 20, 50);
  await waitText(page, 'focus-state', /^loop$/);
  await page.getByTestId('focus-abort').click();
  await waitText(page, 'focus-state', /^aborted$/);
  const st = c.server.acquire.focus.status();
  assert.equal(st.state, 'aborted');
  assert.ok(st.loop.length < 50, `${st.loop.length} frames of 50`);
  // released: a manual exposure is accepted
  const job = await c.server.devices.expose({ type: 'light', exposure: 1, binning: 1, delay: 0 }, true);
  assert.equal(job.phase, 'done');
});
