/**
 * End to end: the real server on a free port with a temp root, the built front end, and Chromium
 * (playwright-core, /usr/bin/chromium, WebGL2 through SwiftShader). Connect the simulator, cool,
 * expose a light, check the viewer canvas is not blank, change the stretch and check the pixels
 * change, run the pipeline on a small simulated night and open the stack. Screenshots go to
 * test-artifacts/ (and, with DARKROOM_UPDATE_DOCS=1, to docs/images/ for the README).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { chromium, type Browser, type Page } from 'playwright-core';
import { ROOT, tempDir } from '../helpers/env.js';
import { buildServer, findWebDir, type DarkroomServer } from '../../src/server/app.js';
import { simulateDemoNight } from '../../src/acquire/demo-night.js';

// removed in the after hook below, once the server that writes into it is closed
const t = tempDir('darkroom-e2e-');
const ART = join(ROOT, 'test-artifacts');
let s: DarkroomServer;
let browser: Browser;
let page: Page;
let base: string;

before(async () => {
  // build the front end when it is missing or older than its sources
  const web = findWebDir();
  const built = web ? statSync(join(web, 'index.html')).mtimeMs : 0;
  const newest = Math.max(...readdirSync(join(ROOT, 'web/src')).map((n) => statSync(join(ROOT, 'web/src', n)).mtimeMs), statSync(join(ROOT, 'web/index.html')).mtimeMs);
  if (!web || newest > built) {
    const r = spawnSync(process.execPath, [join(ROOT, 'node_modules/vite/bin/vite.js'), 'build', 'web', '--outDir', '../dist/web', '--emptyOutDir'], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(r.status, 0, `vite build failed:\n${r.stdout}${r.stderr}`);
  }
  mkdirSync(ART, { recursive: true });
  simulateDemoNight(join(t.dir, 'night'), { width: 128, height: 96, lightsPerFilter: 4, filters: ['L'], bias: 4, darks: 4, flatsPerFilter: 4 });
  s = await buildServer({ roots: [t.dir], simSpeed: 600 });
  base = await s.app.listen({ port: 0, host: '127.0.0.1' });
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--enable-unsafe-swiftshader', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
  page = await browser.newPage({ viewport: { width: 1280, height: 760 } });
  page.on('pageerror', (e) => console.error('page error:', e.message));
});

after(async () => {
  await browser?.close();
  await s?.app.close();
  t.cleanup();
});

/** Summary of the viewer's WebGL canvas: distinct grey levels and their sum. */
async function canvasPixels(): Promise<{ distinct: number; sum: number; w: number }> {
  return page.evaluate(() => {
    const c = (globalThis as any).document.querySelector('#viewer-canvas');
    const gl = c.getContext("webgl2");
    const px = new Uint8Array(c.width * c.height * 4);
    gl.readPixels(0, 0, c.width, c.height, gl.RGBA, gl.UNSIGNED_BYTE, px);
    const seen = new Set<number>();
    let sum = 0;
    for (let i = 0; i < px.length; i += 4) {
      seen.add(px[i]!);
      sum += px[i]!;
    }
    return { distinct: seen.size, sum, w: c.width };
  });
}

/** The README's screenshots are refreshed from the artifacts only when asked (DARKROOM_UPDATE_DOCS=1). */
function updateDocsImage(name: string): void {
  if (process.env.DARKROOM_UPDATE_DOCS !== '1') return;
  mkdirSync(join(ROOT, 'docs/images'), { recursive: true });
  copyFileSync(join(ART, name), join(ROOT, 'docs/images', name));
}

test('camera console: connect the simulator, cool, expose, see the image, change the stretch', async () => {
  await page.goto(base);
  await page.getByTestId('connect').click();
  await page.getByTestId('camera-state').waitFor();
  assert.match(await page.getByTestId('camera-state').innerText(), /QSI 583ws/);
  await page.getByTestId('setpoint').fill('-10');
  await page.getByTestId('cooler-on').click();
  // the simulator runs 600x: the CCD reaches the set point in seconds
  await page.waitForFunction(() => {
    const v = parseFloat((globalThis as any).document.querySelector('[data-testid=ccd-temp]')?.textContent ?? '99');
    return v < 0;
  }, undefined, { timeout: 20_000 });
  await page.getByTestId('exp-filter').selectOption('Luminance');
  await page.getByTestId('exp-seconds').fill('30');
  await page.getByTestId('expose').click();
  await page.waitForFunction(() => /camera #1/.test((globalThis as any).document.querySelector('[data-testid=viewer-title]')?.textContent ?? ''), undefined, { timeout: 20_000 });
  await page.waitForFunction(() => (globalThis as any).document.querySelector('[data-testid=exposure-phase]')?.textContent?.includes('done'));
  await page.waitForTimeout(500);
  const before = await canvasPixels();
  assert.ok(before.distinct > 20, `viewer looks blank: ${before.distinct} grey levels`);
  // stars with FWHM
  await page.getByTestId('stars-toggle').click();
  await page.getByTestId('star-summary').waitFor();
  assert.match(await page.getByTestId('star-summary').innerText(), /\d+ stars · FWHM \d+\.\d+ px/);
  await page.screenshot({ path: join(ART, 'console.png') });
  // manual stretch: move the midtones; the rendered pixels must change
  await page.getByTestId('midtones').fill('0.9');
  await page.waitForTimeout(300);
  const after = await canvasPixels();
  assert.equal(await page.getByTestId('auto-stf').isChecked(), false);
  assert.ok(after.sum < before.sum * 0.9, `stretch did not darken the image: ${before.sum} -> ${after.sum}`);
  // cursor readout
  const box = (await page.getByTestId('viewer-canvas').boundingBox())!;
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  assert.match(await page.getByTestId('cursor').innerText(), /x \d+\s+y \d+\s+\d/);
});

test('processing: plan a simulated night, run it with live progress, open the stack', async () => {
  await page.getByTestId('tab-processing').click();
  await page.getByTestId('night').fill('night');
  await page.getByTestId('plan').click();
  await page.getByTestId('plan-view').waitFor();
  assert.match(await page.getByTestId('plan-view').innerText(), /NGC 7000|NGC7000/);
  await page.getByTestId('run').click();
  await page.getByTestId('results').waitFor({ timeout: 45_000 });
  assert.match(await page.getByTestId('run-progress').innerText(), /done/);
  await page.getByTestId('open-stack').first().click();
  await page.waitForFunction(() => /stacks\//.test((globalThis as any).document.querySelector('[data-testid=viewer-title]')?.textContent ?? ''), undefined, { timeout: 20_000 });
  await page.waitForTimeout(800);
  const px = await canvasPixels();
  assert.ok(px.distinct > 20, `stack looks blank: ${px.distinct} grey levels`);
  await page.screenshot({ path: join(ART, 'stack.png') });
  for (const n of ['console.png', 'stack.png']) {
    assert.ok(statSync(join(ART, n)).size < 300_000, `${n} too big for the README`);
    updateDocsImage(n);
  }
});

/** Distinct colours and non-background pixels of a 2D canvas. */
async function canvas2d(testid: string): Promise<{ distinct: number; ink: number }> {
  return page.evaluate((id) => {
    const c = (globalThis as any).document.querySelector(`[data-testid=${id}]`);
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    const seen = new Set<number>();
    let ink = 0;
    for (let i = 0; i < d.length; i += 4) {
      const v = (d[i] << 16) | (d[i + 1] << 8) | d[i + 2];
      seen.add(v);
      if (v !== 0x0b0b0e) ink++;
    }
    return { distinct: seen.size, ink };
  }, testid);
}

/** Fill row `i` of the sequence editor's groups (the binning only when given). */
async function fillGroup(i: number, g: { filter: string; exposure: string; binning?: string; count: string; suffix: string }): Promise<void> {
  await page.getByTestId(`g-filter-${i}`).selectOption(g.filter);
  await page.getByTestId(`g-exposure-${i}`).fill(g.exposure);
  if (g.binning !== undefined) await page.getByTestId(`g-binning-${i}`).selectOption(g.binning);
  await page.getByTestId(`g-count-${i}`).fill(g.count);
  await page.getByTestId(`g-suffix-${i}`).fill(g.suffix);
}

test('sequence editor: build a 2-group plan, see the estimate, run it, see progress and the frames, open one', async () => {
  await page.getByTestId('tab-sequence').click();
  await page.getByTestId('seq-base').fill('M42');
  await page.getByTestId('seq-object').fill('M 42');
  await page.getByTestId('seq-out').fill('seq');
  await fillGroup(0, { filter: 'Red', exposure: '30', count: '2', suffix: 'R' });
  await page.getByTestId('seq-add-group').click();
  await fillGroup(1, { filter: 'Green', exposure: '60', binning: '2', count: '2', suffix: 'G' });
  // estimate from the server: 180 s exposures + 3 s downloads + filter moves (the wheel is at Luminance
  // after the camera test: L->R 2 slots, then R<->G 3 x 1 slot, 0.4 s each) = 185 s
  await page.waitForFunction(() => /4 frames · 3m05s/.test((globalThis as any).document.querySelector('[data-testid=seq-estimate]')?.textContent ?? ''), undefined, { timeout: 10_000 });
  await page.getByTestId('seq-start').click();
  await page.getByTestId('seq-progress').waitFor();
  await page.waitForFunction(() => /done · frame 4 of 4/.test((globalThis as any).document.querySelector('[data-testid=seq-progress]')?.textContent ?? ''), undefined, { timeout: 30_000 });
  const names = await page.getByTestId('seq-frame').allInnerTexts();
  assert.deepEqual(names, ['M42-001-R30.fit', 'M42-002-G60.fit', 'M42-003-R30.fit', 'M42-004-G60.fit']);
  assert.ok(existsSync(join(t.dir, 'seq', 'M42-004-G60.fit')));
  await page.getByTestId('seq-frame').nth(1).click();
  await page.waitForFunction(() => /M42-002-G60/.test((globalThis as any).document.querySelector('[data-testid=viewer-title]')?.textContent ?? ''), undefined, { timeout: 20_000 });
  await page.waitForTimeout(800);
  const px = await canvasPixels();
  assert.ok(px.distinct > 20, `saved frame looks blank: ${px.distinct} grey levels`);
  await page.screenshot({ path: join(ART, 'sequence.png') });
  assert.ok(statSync(join(ART, 'sequence.png')).size < 300_000, 'sequence.png too big for the README');
  updateDocsImage('sequence.png');
});

test('focus: autofocus draws the V-curve and reports the fitted minimum', async () => {
  await page.getByTestId('tab-focus').click();
  const blank = await canvas2d('vcurve');
  await page.getByTestId('autofocus').click();
  await page.getByTestId('af-result').waitFor({ timeout: 45_000 });
  // the simulated focuser's true best focus is 25000 (critical focus zone 48 steps)
  const m = /best focus (\d+)/.exec(await page.getByTestId('af-result').innerText());
  assert.ok(m && Math.abs(Number(m[1]) - 25_000) < 24, `autofocus result: ${m?.[0]}`);
  const drawn = await canvas2d('vcurve');
  assert.ok(drawn.ink > blank.ink + 200 && drawn.distinct > blank.distinct + 2, `V-curve not drawn: ${JSON.stringify({ blank, drawn })}`);
  await page.screenshot({ path: join(ART, 'focus.png') });
});

test('guiding: calibrate, guide, see the error graph and the RMS', async () => {
  await page.getByTestId('tab-guide').click();
  await page.getByTestId('guide-calibrate').click();
  await page.getByTestId('guide-calibration').waitFor({ timeout: 30_000 });
  assert.match(await page.getByTestId('guide-calibration').innerText(), /RA \d+\.\d+ px\/s/);
  const blank = await canvas2d('guide-chart');
  await page.getByTestId('guide-start').click();
  await page.getByTestId('guide-rms').waitFor({ timeout: 10_000 });
  await page.waitForTimeout(1500);
  assert.match(await page.getByTestId('guide-rms').innerText(), /RMS RA \d+\.\d+ px \(\d+\.\d+″\)/);
  const drawn = await canvas2d('guide-chart');
  assert.ok(drawn.ink > blank.ink + 100, `error graph not drawn: ${JSON.stringify({ blank, drawn })}`);
  await page.getByTestId('guide-stop').click();
  await page.waitForFunction(() => (globalThis as any).document.querySelector('[data-testid=guide-state]')?.textContent === 'calibrated');
  await page.screenshot({ path: join(ART, 'guiding.png') });
});
