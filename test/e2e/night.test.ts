/**
 * Issue 20's acceptance: one simulated night driven through the console as an imager would, in order.
 * Connect the simulator, cool, frame (a focus loop) and save a single exposure, autofocus, calibrate
 * and guide (and guide again after the mount sat idle several simulated minutes), run a sequence of
 * lights, flats, darks and bias while guiding, watching each frame arrive in the night view with its
 * quality point, pause and resume it, abort another, process the acquired night and open its stack and
 * its report. Assertions against the simulator's ground truth and the files on disk.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { readFitsHeader } from '../../src/fits/reader.js';
import { connectSim, openConsole, textOf, waitText, recordTexts, type Console } from './harness.js';

let c: Console;

before(async () => {
  c = await openConsole({ guideSpeed: 200 });
});

after(async () => {
  await c?.close();
});

/** Wait until `fn` (run in the page with `arg`) is truthy. */
async function until<A>(fn: (a: A) => unknown, arg: A, timeout = 30_000): Promise<void> {
  await c.page.waitForFunction(fn as any, arg, { timeout });
}

/** Record the title of every thumbnail added to the night view's strip from now on (each one once). */
async function recordThumbs(): Promise<() => Promise<string[]>> {
  await c.page.evaluate(() => {
    const w = globalThis as any;
    w.__thumbs = [];
    new w.MutationObserver((muts: any[]) => {
      for (const m of muts) for (const n of m.addedNodes) if (n.dataset?.testid === 'thumb') w.__thumbs.push(n.title);
    }).observe(w.document.querySelector('[data-testid=thumb-strip]'), { childList: true });
  });
  return () => c.page.evaluate(() => (globalThis as any).__thumbs as string[]);
}

/** Fill row `i` of the sequence editor (adding the row when it is not there yet). */
async function group(i: number, g: { type: string; filter: string; exposure: number; count: number; suffix: string }): Promise<void> {
  const { page } = c;
  if (!(await page.getByTestId(`g-type-${i}`).count())) await page.getByTestId('seq-add-group').click();
  await page.getByTestId(`g-type-${i}`).selectOption(g.type);
  await page.getByTestId(`g-filter-${i}`).selectOption(g.filter);
  await page.getByTestId(`g-exposure-${i}`).fill(String(g.exposure));
  await page.getByTestId(`g-count-${i}`).fill(String(g.count));
  await page.getByTestId(`g-suffix-${i}`).fill(g.suffix);
}

test('a whole simulated night through the console', async (t) => {
  const { page } = c;
  await page.goto(c.base);

  // connect and cool: the simulated CCD (20 C ambient) reaches -10 C
  await connectSim(page);
  assert.match(await textOf(page, 'camera-state'), /QSI 583ws/);
  await page.getByTestId('setpoint').fill('-10');
  await page.getByTestId('cooler-on').click();
  await until(() => parseFloat((globalThis as any).document.querySelector('[data-testid=ccd-temp]')?.textContent ?? '99') < -9, null);

  // frame: a focus loop of 3 frames, each to the viewer and the night view
  const thumbs0 = c.server.acquire.history.list().length;
  await page.getByTestId('tab-focus').click();
  await page.getByTestId('focus-exposure').fill('1');
  await page.getByTestId('focus-count').fill('3');
  await page.getByTestId('focus-loop').click();
  await waitText(page, 'viewer-title', /^focus loop #\d+$/);
  await c.server.acquire.focusEnded();
  assert.equal(c.server.acquire.focus.status().loop.length, 3, 'focus loop frames');

  // a single exposure, saved from the Camera panel
  await page.getByTestId('tab-camera').click();
  await page.getByTestId('exp-filter').selectOption('Luminance');
  await page.getByTestId('exp-seconds').fill('2');
  await page.getByTestId('expose').click();
  await waitText(page, 'exposure-phase', /done/);
  await until(() => /^light_2s_Luminance_\d{4}\.fits$/.test((globalThis as any).document.querySelector('[data-testid=save-name]')?.value ?? ''), null);
  const name = await page.getByTestId('save-name').inputValue();
  await page.getByTestId('save-image').click();
  await waitText(page, 'saved-path', /saved /);
  const single = readFitsHeader(join(c.dir, 'captures', name)).header;
  assert.equal(single.getNumber('EXPTIME'), 2);
  assert.ok(single.getNumber('CCD-TEMP')! < -9, `CCD-TEMP ${single.getNumber('CCD-TEMP')}`);
  await until((n) => (globalThis as any).document.querySelectorAll('[data-testid=thumb]').length >= n, thumbs0 + 4);

  // focus: autofocus ends within half a critical focus zone (48 steps) of the simulated focuser's best focus (25000)
  await page.getByTestId('tab-focus').click();
  await page.getByTestId('autofocus').click();
  const af = await waitText(page, 'af-result', /best focus \d+/, 90_000);
  const best = Number(/best focus (\d+)/.exec(af)![1]);
  t.diagnostic(`autofocus: ${af}`);
  assert.ok(Math.abs(best - 25_000) < 24, af);
  await c.server.acquire.focusEnded();

  // guiding: calibrate, guide, stop; the mount then sits idle (its clock runs 200x, so it drifts all
  // along as well): after 10 simulated minutes guiding takes up the star again (re-acquiring it when
  // the drift carried it out of the search box), after an idle hour (over 50 px of drift on the 96 px
  // guide frame) the star is lost and guiding re-acquires one
  await page.getByTestId('tab-guide').click();
  await page.getByTestId('guide-calibrate').click();
  await waitText(page, 'guide-state', /^calibrated$/, 60_000);
  assert.match(await textOf(page, 'guide-calibration'), /RA \d+\.\d+ px\/s/);
  const idleThenGuide = async (minutes: number): Promise<{ rms: number; notices: string[] }> => {
    const n0 = c.server.acquire.guide.status().notices.length;
    c.server.acquire.guide.simulatedClock()!.advance(minutes * 60_000);
    await page.getByTestId('guide-start').click();
    await waitText(page, 'guide-state', /^guiding$/);
    // guiding on a star: 50 samples in a row not lost (the RMS of the last 30, once the first corrections settled)
    const locked = (): boolean => {
      const s = c.server.acquire.guide.status().samples;
      return s.length >= 50 && s.slice(-50).every((x) => !x.lost);
    };
    for (let k = 0; k < 600 && !locked(); k++) await page.waitForTimeout(100);
    const st = c.server.acquire.guide.status();
    assert.equal(st.state, 'guiding');
    assert.ok(locked(), `not locked: ${JSON.stringify(st.notices.slice(n0))}`);
    const recent = st.samples.slice(-30);
    await page.getByTestId('guide-stop').click();
    await waitText(page, 'guide-state', /^calibrated$/);
    return { rms: Math.sqrt(recent.reduce((a, s) => a + s.dx * s.dx + s.dy * s.dy, 0) / recent.length), notices: st.notices.slice(n0).map((n) => `${n.kind}: ${n.message}`) };
  };
  const g10 = await idleThenGuide(10);
  const g60 = await idleThenGuide(60);
  t.diagnostic(`guide RMS ${g10.rms.toFixed(2)} px after 10 idle min (${g10.notices.join(' | ') || 'star kept'}), ${g60.rms.toFixed(2)} px after 60 (${g60.notices.join(' | ')})`);
  assert.ok(g10.rms < 1, `guide RMS ${g10.rms.toFixed(2)} px after 10 idle minutes`);
  assert.ok(g60.rms < 1, `guide RMS ${g60.rms.toFixed(2)} px after an idle hour`);
  assert.match(g60.notices[0]!, /^lost: /);
  assert.match(g60.notices[g60.notices.length - 1]!, /re-acquired/);
  assert.match(await textOf(page, 'guide-notices'), /re-acquired/);
  await page.getByTestId('guide-start').click();
  await waitText(page, 'guide-state', /^guiding$/);

  // the sequence, while guiding (5 min lights: half a second each at 600x, time to pause): 6 lights, 3 flats, 3 darks, 3 bias, group after group
  await page.getByTestId('tab-sequence').click();
  await page.getByTestId('seq-base').fill('NGC7000');
  await page.getByTestId('seq-object').fill('NGC 7000');
  await page.getByTestId('seq-order').selectOption('group');
  await page.getByTestId('seq-out').fill('night1');
  await group(0, { type: 'light', filter: 'Luminance', exposure: 300, count: 6, suffix: 'L' });
  await group(1, { type: 'flat', filter: 'Luminance', exposure: 1, count: 3, suffix: 'F' });
  await group(2, { type: 'dark', filter: '', exposure: 300, count: 3, suffix: 'D' });
  await group(3, { type: 'bias', filter: '', exposure: 0, count: 3, suffix: 'B' });
  // dither every 2 lights (the plan's ditherEvery, in the editor's night automation): before lights 3 and 5
  await page.getByTestId('seq-automation').locator('summary').click();
  await page.getByTestId('auto-ditherEvery').fill('2');
  await waitText(page, 'seq-estimate', /^15 frames/);
  const notices0 = c.server.acquire.guide.status().notices.length;
  const hist0 = c.server.acquire.history.list().length;
  const readThumbs = await recordThumbs();
  const readProgress = await recordTexts(page, 'seq-progress');
  await page.getByTestId('seq-start').click();
  // pause after the second frame: the sequence stops there, then resumes to the end
  await waitText(page, 'seq-progress', /frame [2-9] of 15/, 30_000);
  await page.getByTestId('seq-pause').click();
  await waitText(page, 'seq-progress', /^paused/, 30_000);
  const atPause = c.server.acquire.sequence.status().saved.length;
  assert.ok(atPause >= 1 && atPause < 15, `${atPause} saved at the pause`);
  assert.equal(await page.getByTestId('seq-resume').isDisabled(), false, await textOf(page, 'seq-progress'));
  // each group's progress and ETA: the lights' time left is their frames to go at 300 s + 1 s readout (same filter: no wheel move)
  const groupTimes = await page.getByTestId('seq-group-eta').allInnerTexts();
  assert.equal(groupTimes.length, 4, groupTimes.join(' | '));
  const done1 = Math.min(atPause, 6);
  const mmss = (x: number): string => `${Math.floor(x / 60)}m${String(Math.round(x % 60)).padStart(2, '0')}s`;
  assert.match(groupTimes[0]!, new RegExp(`^group 1 Luminance: ${done1}/6 · left ${mmss((6 - done1) * 301)} · ETA \\d\\d:\\d\\d:\\d\\d`), groupTimes.join(' | '));
  assert.match(groupTimes[3]!, /^group 4: 0\/3 · /);
  // the last group ends with the sequence
  assert.equal(/ETA (\S+)/.exec(groupTimes[3]!)![1], /ETA (\S+)/.exec(await textOf(page, 'seq-times'))![1]);
  await page.getByTestId('seq-resume').click();
  await waitText(page, 'seq-progress', /^done · frame 15 of 15/, 90_000);
  await c.server.acquire.sequenceEnded();
  await c.server.acquire.history.settled();
  const seq = c.server.acquire.sequence.status();
  assert.equal(seq.saved.length, 15, 'frames saved');
  const files = readdirSync(join(c.dir, 'night1')).filter((f) => f.endsWith('.fit')).sort();
  assert.equal(files.length, 15, files.join(' '));
  assert.deepEqual(seq.saved.map((s) => s.path.split('/').pop()).sort(), files);
  const types = files.map((f) => readFitsHeader(join(c.dir, 'night1', f)).header.getString('IMAGETYP'));
  t.diagnostic(`IMAGETYP: ${[...new Set(types)].join(', ')}`);
  assert.equal(new Set(types).size, 4, types.join(','));
  const progress = await readProgress();
  assert.ok(progress.some((p) => /^paused/.test(p)) && progress.some((p) => /^running/.test(p)), progress.join(' | '));

  // each frame arrived in the night view: one thumbnail and one quality point per frame, guide RMS on the lights
  await until((n) => Number((globalThis as any).document.querySelector('[data-testid=quality-graph]')?.dataset.points) === n, hist0 + 15);
  const hist = c.server.acquire.history.list();
  const seqFrames = hist.slice(hist0);
  assert.equal(seqFrames.length, 15, seqFrames.map((f) => `${f.id} ${f.source}`).join(', '));
  assert.ok(seqFrames.every((f) => f.source === 'sequence'), seqFrames.map((f) => f.source).join(','));
  assert.equal(await page.getByTestId('thumb').count(), hist.length, 'one thumbnail per frame');
  const added = await readThumbs();
  assert.deepEqual(added.map((s) => Number(/^#(\d+) /.exec(s)![1])), seqFrames.map((f) => f.id));
  for (const s of added) assert.match(s, /· \d+ stars · HFR /);
  // group after group: the 6 lights first, then the 3 flats (1 s), the darks (300 s), the bias (0 s)
  assert.deepEqual(seqFrames.map((f) => f.exposure), [...Array(6).fill(300), 1, 1, 1, 300, 300, 300, 0, 0, 0]);
  const lights = seqFrames.slice(0, 6);
  for (const f of lights) {
    assert.ok(f.stars > 5, `${f.stars} stars in light #${f.id}`);
    assert.ok(f.hfr !== null && f.hfr > 0.5 && f.hfr < 5, `HFR ${f.hfr}`);
    assert.ok(f.guideRms !== null && f.guideRms > 0, `guide RMS ${f.guideRms}`);
    assert.ok(f.temperature !== null && f.temperature < -9, `temperature ${f.temperature}`);
  }
  assert.match(await textOf(page, 'quality-legend'), /HFR [\d.–]+px.*stars \d+/);
  // the guider dithered twice, each time guiding until the star settled on the new lock position (or
  // the settle timeout: 90 s of the 200x guide clock is under half a second of a loaded machine); the guide tab lists it
  const ditherNotices = c.server.acquire.guide.status().notices.slice(notices0).filter((n) => ['dither', 'settled', 'not-settled'].includes(n.kind));
  t.diagnostic(`dithers: ${ditherNotices.map((n) => n.message).join(' | ')}`);
  assert.deepEqual(ditherNotices.map((n) => (n.kind === 'not-settled' ? 'settled' : n.kind)), ['dither', 'settled', 'dither', 'settled']);
  await page.getByTestId('tab-guide').click();
  assert.match(await textOf(page, 'guide-notices'), /dithered by \(-?[\d.]+, -?[\d.]+\) px: (settled in [\d.]+ s|not settled after)/);
  // a dither by hand: the guide graph marks where it began and where the star settled
  const settledNow = (): number => c.server.acquire.guide.status().notices.filter((n) => n.kind === 'settled' || n.kind === 'not-settled').length;
  const settled0 = settledNow();
  await page.getByTestId('guide-dither').click();
  for (let k = 0; k < 300 && settledNow() === settled0; k++) await page.waitForTimeout(100);
  assert.equal(settledNow(), settled0 + 1, JSON.stringify(c.server.acquire.guide.status().notices.slice(-4)));
  await until(() => Number((globalThis as any).document.querySelector('[data-testid=guide-chart]').dataset.settles) >= 1, null);
  const chart = page.getByTestId('guide-chart');
  assert.ok(Number(await chart.getAttribute('data-dithers')) >= 1, `dither marks ${await chart.getAttribute('data-dithers')}`);
  assert.ok(c.server.acquire.guide.status().samples.some((x) => x.settling), 'settling samples on the graph');
  // of the three dithers, at least one settled within the guider's timeout
  const outcomes = c.server.acquire.guide.status().notices.slice(notices0).filter((n) => n.kind === 'settled' || n.kind === 'not-settled');
  assert.equal(outcomes.length, 3);
  assert.ok(outcomes.some((n) => n.kind === 'settled'), outcomes.map((n) => n.message).join(' | '));
  await page.getByTestId('guide-stop').click();
  await waitText(page, 'guide-state', /^calibrated$/);

  // abort: a second sequence stops after its first frames; what it saved stays, the camera is free again
  await page.getByTestId('tab-sequence').click();
  await page.getByTestId('seq-out').fill('aborted');
  for (let i = 3; i >= 1; i--) await page.getByTestId('seq-group-' + i).getByRole('button').click();
  await group(0, { type: 'light', filter: 'Luminance', exposure: 600, count: 20, suffix: 'L' });
  await waitText(page, 'seq-estimate', /^20 frames/);
  await page.getByTestId('seq-start').click();
  await waitText(page, 'seq-progress', /frame [2-9] of 20/, 30_000);
  await page.getByTestId('seq-abort').click();
  await waitText(page, 'seq-progress', /^aborted/, 30_000);
  await c.server.acquire.sequenceEnded();
  const ab = c.server.acquire.sequence.status();
  assert.ok(ab.saved.length >= 1 && ab.saved.length < 20, `${ab.saved.length} of 20 saved before the abort`);
  assert.equal(readdirSync(join(c.dir, 'aborted')).filter((f) => f.endsWith('.fit')).length, ab.saved.length);
  assert.equal(await page.getByTestId('seq-start').isDisabled(), false, await textOf(page, 'seq-progress'));

  // process the night acquired above (not the aborted one): calibrated, registered, one stack of the 6 lights
  await page.getByTestId('tab-processing').click();
  await page.getByTestId('night').fill('night1');
  await page.getByTestId('plan').click();
  await waitText(page, 'plan-view', /\d+ steps/);
  await page.getByTestId('run').click();
  await page.getByTestId('results').waitFor({ timeout: 90_000 });
  assert.match(await textOf(page, 'run-progress'), /^done/);
  const report = c.server.processing.status()!.report!;
  const out = join(c.dir, 'night1-darkroom');
  const stacks = readdirSync(join(out, 'stacks')).filter((f) => /\.fits?$/.test(f));
  assert.equal(stacks.length, 1, `stacks: ${stacks.join(' ')}`);
  const sh = readFitsHeader(join(out, 'stacks', stacks[0]!)).header;
  t.diagnostic(`stack ${stacks[0]}: NCOMBINE ${sh.getNumber('NCOMBINE')}, warnings ${report.warning_events.map((w) => `${w.code}: ${w.message}`).join(' | ')}`);
  assert.equal(sh.getNumber('NCOMBINE'), 6, 'NCOMBINE');
  await page.getByTestId('open-stack').first().click();
  await waitText(page, 'viewer-title', /stacks\//);
  await until(() => /\d+x\d+/.test((globalThis as any).document.querySelector('[data-testid=viewer-zoom]')?.textContent ?? ''), null);
  assert.match(await textOf(page, 'viewer-zoom'), /256x192/);
  // the report, served with its previews inlined
  const res = await page.request.get(new URL((await page.getByTestId('open-report').getAttribute('href'))!, c.base).href);
  assert.equal(res.status(), 200);
  const html = await res.text();
  assert.match(html, /<img src="data:image\/png;base64,/);
  assert.ok(existsSync(join(out, 'report.html')));
  assert.deepEqual(c.pageErrors, []);
});
