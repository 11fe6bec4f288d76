/**
 * The console's download bar (web/src/Download.tsx) in Chromium: `darkroom alpaca-sim --download-rate`
 * sends each image slowly (0.05 MB/s: the 98 kB frame in about 2 s); connected as an Alpaca camera,
 * an exposure from the Camera panel shows the bar while the image arrives, its percent rising with the
 * MB of the frame's ImageBytes size, in the red theme; a sequence frame shows the bar in the Sequence
 * panel and, naming its source, in the Camera panel.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { openConsole, recordTexts, waitText, type Console } from './harness.js';
import { startAlpacaSim, stopAlpacaSim } from '../helpers/alpaca-sim.js';

let c: Console;
let sim: { proc: ChildProcess; port: number };
const SIZE_MB = ((44 + 256 * 192 * 2) / 1e6).toFixed(2); // '0.10'

before(async () => {
  sim = await startAlpacaSim(60, ['--download-rate', '0.05']);
  c = await openConsole();
});
after(async () => {
  await c?.close();
  if (sim) await stopAlpacaSim(sim.proc);
});

/** The percents of the texts `downloading · P % · X of Y MB` (each naming the frame's size), after any 'waiting for the image' (the readout). */
function percents(texts: string[]): number[] {
  return texts.filter((t) => !/^downloading · waiting for the image$/.test(t)).map((t) => {
    const m = /^downloading · (\d+) % · (\d+\.\d\d) of (\d+\.\d\d) MB$/.exec(t);
    assert.ok(m, `unexpected bar text '${t}'`);
    assert.equal(m[3], SIZE_MB);
    assert.ok(Math.abs(Number(m[2]) - (Number(m[1]) / 100) * Number(SIZE_MB)) <= 0.011, t);
    return Number(m[1]);
  });
}

test('an exposure from an Alpaca camera on a slow link shows the download bar, percent and MB rising', async () => {
  const { page } = c;
  await page.goto(c.base);
  await page.getByTestId('tab-camera').click();
  await page.getByTestId('device-kind').selectOption('alpaca');
  await page.locator('[data-testid=camera-panel] input.grow').fill(`alpaca://127.0.0.1:${sim.port}/0`);
  await page.getByTestId('connect').click();
  await page.getByTestId('camera-state').waitFor();
  const texts = await recordTexts(page, 'download-progress');
  await page.getByTestId('exp-type').selectOption('dark');
  await page.getByTestId('exp-seconds').fill('1');
  await page.getByTestId('exp-bin').selectOption('1');
  await page.getByTestId('expose').click();
  // mid-download: the bar is there, red, filled to its percent
  await waitText(page, 'download-progress', /· [1-9]\d? % ·/, 30_000);
  const bar = page.locator('[data-testid=download-progress] .bar');
  const look = await bar.evaluate((el) => {
    const w = globalThis as any;
    return { bg: w.getComputedStyle(el).backgroundColor, width: (el as any).style.width, frac: Number(el.parentElement.dataset.fraction) };
  });
  assert.equal(look.bg, 'rgb(106, 32, 32)');
  assert.ok(look.frac > 0 && look.frac < 1 && Math.abs(parseFloat(look.width) - 100 * look.frac) < 0.01, JSON.stringify(look));
  await waitText(page, 'exposure-phase', /done/, 30_000);
  await page.getByTestId('download-progress').waitFor({ state: 'detached' });
  const p = percents(await texts());
  const partial = p.filter((x) => x > 0 && x < 100);
  assert.ok(partial.length >= 3, `bar texts: ${p.join(', ')}`);
  for (let i = 1; i < p.length; i++) assert.ok(p[i]! >= p[i - 1]!, `percent went back: ${p.join(', ')}`);
  assert.deepEqual(c.pageErrors, []);
});

test('a sequence frame shows the download bar in the Sequence panel', async () => {
  const { page } = c;
  await page.getByTestId('tab-sequence').click();
  const texts = await recordTexts(page, 'seq-download-progress');
  const camTexts = await recordTexts(page, 'runner-download-progress');
  const r = await fetch(`${c.base}/api/sequence/start`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ plan: { base: 'D', groups: [{ type: 'dark', exposure: 1, binning: 1, count: 1 }] }, out: 'seq' }) });
  assert.equal(r.status, 202, await r.text());
  await waitText(page, 'seq-download-progress', /· [1-9]\d? % ·/, 30_000);
  await waitText(page, 'seq-progress', /done/, 30_000);
  const p = percents(await texts());
  assert.ok(p.some((x) => x > 0 && x < 100), `bar texts: ${p.join(', ')}`);
  // the Camera panel shows the runner's download too, naming its source
  const cam = await camTexts();
  assert.ok(cam.length >= 1 && cam.every((t) => /^downloading sequence frame · \d+ % · \d+\.\d\d of 0\.10 MB$/.test(t)), JSON.stringify(cam));
  assert.equal(await page.getByTestId('runner-download-progress').count(), 0, 'gone when the frame is in');
  assert.deepEqual(c.pageErrors, []);
});
