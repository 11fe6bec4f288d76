/**
 * The console through a night, issue 20 continued (each test failed before its fix): guiding recovered
 * after the simulated mount sat idle for simulated minutes; processing with the plan's own step count,
 * structured warnings in a warnings panel, previews and report.html opened. One server (guiding clock
 * at 200x) with a small simulated night, one page. Screenshots of the imaging and guiding views go to
 * test-artifacts/ (docs/images/ with DARKROOM_UPDATE_DOCS=1).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { simulateDemoNight } from '../../src/acquire/demo-night.js';
import { measureImage } from '../../src/stars/metrics.js';
import { ROOT } from '../helpers/env.js';
import { connectSim, openConsole, textOf, waitText, recordTexts, type Console } from './harness.js';

let c: Console;

before(async () => {
  c = await openConsole({ guideSpeed: 200 }, (root) => {
    const night = join(root, 'night');
    simulateDemoNight(night, { width: 128, height: 96, lightsPerFilter: 3, filters: ['L'], bias: 3, darks: 3, flatsPerFilter: 3 });
    // a copy of a light under another name: the scan's DUPLICATES warning, about that file
    const l = join(night, 'lights/L');
    copyFileSync(join(l, readdirSync(l).sort()[0]!), join(l, 'copy.fit'));
  });
});

after(async () => {
  await c?.close();
});

/** A 1280x800 screenshot into test-artifacts/ (and docs/images/ for the README with DARKROOM_UPDATE_DOCS=1). */
async function shot(name: string): Promise<void> {
  const art = join(ROOT, 'test-artifacts');
  mkdirSync(art, { recursive: true });
  await c.page.setViewportSize({ width: 1280, height: 800 });
  await c.page.screenshot({ path: join(art, name) });
  assert.ok(statSync(join(art, name)).size < 300_000, `${name} too big for the README`);
  if (process.env.DARKROOM_UPDATE_DOCS === '1') copyFileSync(join(art, name), join(ROOT, 'docs/images', name));
}

/** Let the simulated mount sit idle (not guiding) for `min` simulated minutes: it drifts and the star with it. */
function idle(min: number): void {
  c.server.acquire.guide.simulatedClock()!.advance(min * 60_000);
}

test('2: after the mount sat idle 60 simulated minutes, guiding re-acquires a star (re-centred with the mount) and guides; Calibrate works again after another hour', async () => {
  const { page } = c;
  await page.goto(c.base);
  await connectSim(page);
  await page.getByTestId('tab-guide').click();
  await page.getByTestId('guide-calibrate').click();
  await waitText(page, 'guide-state', /^calibrated$/, 60_000);
  idle(60);
  await page.getByTestId('guide-start').click();
  await waitText(page, 'guide-notices', /re-acquired/, 30_000);
  const kinds = await page.getByTestId('guide-notices').locator('li').evaluateAll((els) => els.map((e) => e.getAttribute('data-kind')));
  assert.ok(kinds.includes('lost'), kinds.join(','));
  // guiding goes on, on a real star: 40 samples after the re-acquisition, the last 30 within 1 px RMS of the lock
  const from = c.server.acquire.guide.status().samples.length;
  for (let k = 0; k < 200 && c.server.acquire.guide.status().samples.length < from + 40; k++) await page.waitForTimeout(100);
  const st = c.server.acquire.guide.status();
  assert.equal(st.state, 'guiding');
  const recent = st.samples.slice(-30);
  assert.equal(recent.filter((s) => s.lost).length, 0);
  const rms = Math.sqrt(recent.reduce((a, s) => a + s.dx * s.dx + s.dy * s.dy, 0) / recent.length);
  assert.ok(rms < 1, `RMS ${rms.toFixed(2)} px after the re-acquisition`);
  // the calibration is kept (the same camera angle), and Guide stays enabled once stopped
  assert.ok(st.calibration, 'calibration kept');
  await page.getByTestId('guide-stop').click();
  await waitText(page, 'guide-state', /^calibrated$/);
  // Guide becomes enabled (the panel's busy flag clears just after the state reads 'calibrated')
  await page.waitForSelector('[data-testid="guide-start"]:not([disabled])', { timeout: 10_000 });
  // another idle hour: Calibrate searches the whole frame (it said "no usable guide star" before)
  idle(60);
  await page.getByTestId('guide-calibrate').click();
  await waitText(page, 'guide-state', /^calibrated$/, 60_000);
  assert.equal(await textOf(page, 'guide-error'), '');
  // Guide becomes enabled (the panel's busy flag clears just after the state reads 'calibrated')
  await page.waitForSelector('[data-testid="guide-start"]:not([disabled])', { timeout: 10_000 });
});

test('11: the run counts the plan\'s steps (0/N .. N/N); the scan\'s warnings reach the warnings panel; previews and report.html open, other files do not', async () => {
  const { page } = c;
  await page.getByTestId('tab-processing').click();
  await page.getByTestId('night').fill('night');
  await page.getByTestId('plan').click();
  const summary = await waitText(page, 'plan-view', /\d+ steps/);
  const n = Number(/(\d+) steps/.exec(summary)![1]);
  const readRuns = await recordTexts(page, 'run-progress');
  await page.getByTestId('run').click();
  await page.getByTestId('results').waitFor({ timeout: 60_000 });
  const runs: string[] = await readRuns();
  const counts = runs.map((t) => /(\d+)\/(\d+)/.exec(t)!.slice(1).map(Number));
  assert.deepEqual(counts[0], [0, n], runs.join(' | '));
  assert.ok(counts.every(([d, t]) => t === n && d! <= n), runs.join(' | '));
  assert.match(runs[runs.length - 1]!, new RegExp(`^done · ${n}/${n}`));
  // the warnings panel: the duplicate, with its code and the file it is about
  const dup = c.server.processing.status()!.report!.warning_events.find((w) => w.code === 'DUPLICATES');
  assert.ok(dup, 'the run reports the duplicate');
  await page.getByTestId('warnings-toggle').click();
  const panel = await waitText(page, 'warnings-panel', /DUPLICATES/);
  assert.ok(panel.includes(dup!.message), panel);
  await page.getByTestId('warnings-toggle').click();
  // a preview opens as the PNG the run wrote, report.html with its previews inlined
  const out = join(c.dir, 'night-darkroom');
  const href = (await page.getByTestId('open-preview').first().getAttribute('href'))!;
  const png = await page.request.get(new URL(href, c.base).href);
  assert.equal(png.status(), 200);
  assert.equal(png.headers()['content-type'], 'image/png');
  const file = new URL(href, c.base).searchParams.get('file')!;
  assert.deepEqual(Buffer.from(await png.body()), readFileSync(join(out, file)));
  const report = await page.request.get(new URL((await page.getByTestId('open-report').getAttribute('href'))!, c.base).href);
  assert.equal(report.status(), 200);
  assert.match(report.headers()['content-security-policy']!, /sandbox/);
  assert.match(await report.text(), /<img src="data:image\/png;base64,/);
  // nothing else: a PNG a user put in OUT, the night's files, paths out of OUT
  mkdirSync(join(out, 'previews'), { recursive: true });
  writeFileSync(join(out, 'previews', 'mine.png'), readFileSync(join(out, file)));
  const get = (f: string) => page.request.get(`${c.base}/api/processing/output?out=${encodeURIComponent(out)}&file=${encodeURIComponent(f)}`);
  assert.equal((await get('previews/mine.png')).status(), 404);
  assert.equal((await get('../night/lights/L/copy.fit')).status(), 400);
  assert.equal((await get('.darkroom/manifest.json')).status(), 400);
});

test('11: native controls in the red theme; the cooler chart has a clock-time axis and draws the set point only while the cooler is on', async () => {
  const { page } = c;
  await page.getByTestId('tab-camera').click();
  const look = (sel: string) => page.evaluate((q) => {
    const s = (globalThis as any).getComputedStyle((globalThis as any).document.querySelector(q));
    return { appearance: s.appearance, accent: s.accentColor, bg: s.backgroundColor, scrollbar: s.scrollbarColor };
  }, sel);
  for (const sel of ['[data-testid=auto-stf]', '[data-testid=midtones]', 'select']) {
    const l = await look(sel);
    assert.equal(l.appearance, 'none', `${sel}: ${JSON.stringify(l)}`);
    assert.equal(l.accent, 'rgb(160, 48, 48)', sel);
  }
  assert.match((await look('.side')).scrollbar, /rgb\(74, 42, 42\)/);
  // the cooler is off: samples, an axis of clock times, no set point
  const chart = page.getByTestId('cooler-chart');
  await page.waitForFunction(() => /\d\d:\d\d/.test((globalThis as any).document.querySelector('[data-testid=cooler-chart]').dataset.timeAxis ?? ''), undefined, { timeout: 20_000 });
  assert.equal((await c.server.devices.coolerHistory()).some((s) => s.on), false);
  assert.equal(await chart.getAttribute('data-setpoint-samples'), '0');
  for (const label of (await chart.getAttribute('data-time-axis'))!.split(' ')) assert.match(label, /^\d\d:\d\d(:\d\d)?$/);
  await page.getByTestId('setpoint').fill('-10');
  await page.getByTestId('cooler-on').click();
  await page.waitForFunction(() => Number((globalThis as any).document.querySelector('[data-testid=cooler-chart]').dataset.setpointSamples) > 0, undefined, { timeout: 20_000 });
  const on = (await c.server.devices.coolerHistory()).filter((s) => s.on).length;
  assert.ok(on > 0);
});

test('live imaging view: each sequence frame arrives in the thumbnail strip with its quality point (stars, HFR, background, temperature, guide RMS while guiding)', async (t) => {
  const { page } = c;
  const before = c.server.acquire.history.list().length;
  await page.getByTestId('tab-guide').click();
  await page.getByTestId('guide-start').click();
  await waitText(page, 'guide-rms', /RMS/, 30_000);
  await page.getByTestId('tab-sequence').click();
  await page.getByTestId('seq-out').fill('seq-night');
  await page.getByTestId('g-exposure-0').fill('5');
  await page.getByTestId('g-count-0').fill('6');
  await page.getByTestId('seq-start').click();
  await waitText(page, 'seq-progress', /done · frame 6 of 6/, 60_000);
  await c.server.acquire.sequenceEnded();
  await c.server.acquire.history.settled();
  await page.waitForFunction((n) => (globalThis as any).document.querySelectorAll('[data-testid=thumb]').length >= n, before + 6);
  await page.waitForFunction((n) => Number((globalThis as any).document.querySelector('[data-testid=quality-graph]').dataset.points) >= n, before + 6);
  const frames = c.server.acquire.history.list().filter((f) => f.source === 'sequence' && f.id > 0).slice(-6);
  assert.equal(frames.length, 6);
  for (const f of frames) {
    assert.equal(f.exposure, 5);
    assert.ok(f.guideRms !== null && f.guideRms > 0 && f.guideRms < 5, `guide RMS ${f.guideRms}`);
  }
  // the last frame's binned measurement against the full-resolution one of the same image
  const img = c.server.devices.lastImage();
  const last = frames[5]!;
  assert.equal(last.id, (await c.server.devices.status()).lastImage!.id);
  const full = measureImage('', img);
  t.diagnostic(`${img.width}x${img.height} bin ${last.measuredBin}: HFR ${last.hfr?.toFixed(3)} vs ${full.hfr.toFixed(3)}, stars ${last.stars} vs ${full.stars}, background ${last.background.toFixed(1)} vs ${full.background.toFixed(1)}, guide RMS ${frames.map((f) => f.guideRms?.toFixed(2)).join('/')}"`);
  assert.ok(Math.abs(last.hfr! - full.hfr) / full.hfr < 0.2, `HFR ${last.hfr} (bin ${last.measuredBin}) vs ${full.hfr} at full resolution`);
  assert.ok(last.stars >= 0.3 * full.stars && last.stars <= full.stars * 1.2, `${last.stars} stars (bin ${last.measuredBin}) vs ${full.stars}`);
  assert.ok(Math.abs(last.background - full.background) < 0.02 * full.background + 5, `background ${last.background} vs ${full.background}`);
  assert.equal(last.temperature, img.header.getNumber('CCD-TEMP'));
  // its thumbnail: a PNG of at most 96 px on the long side
  const png = await page.request.get(`${c.base}/api/history/thumb?id=${last.id}`);
  assert.equal(png.headers()['content-type'], 'image/png');
  const b = Buffer.from(await png.body());
  const [w, h] = [b.readUInt32BE(16), b.readUInt32BE(20)];
  assert.equal(Math.max(w, h), Math.ceil(Math.max(img.width, img.height) / Math.ceil(Math.max(img.width, img.height) / 96)));
  assert.match(await textOf(page, 'quality-legend'), /HFR [\d.]+px.*stars \d+.*guide RMS [\d.]+″/);
  await page.waitForTimeout(500);
  await shot('imaging.png');
  // the guiding view: the guide frame with the guide star boxed at the lock position
  await page.getByTestId('tab-guide').click();
  await page.getByTestId('guide-frame').waitFor();
  const lock = c.server.acquire.guide.status().star!;
  const box = page.getByTestId('guide-star');
  assert.ok(Math.abs(Number(await box.getAttribute('data-x')) - lock.x) < 3 && Math.abs(Number(await box.getAttribute('data-y')) - lock.y) < 3, `box ${await box.getAttribute('data-x')},${await box.getAttribute('data-y')} vs lock ${lock.x},${lock.y}`);
  const gf = await page.request.get(`${c.base}/api/guide/frame`);
  assert.equal(gf.headers()['content-type'], 'image/png');
  await page.waitForTimeout(1500);
  await shot('guiding.png');
  await page.getByTestId('guide-stop').click();
  await waitText(page, 'guide-state', /^calibrated$/);
});
