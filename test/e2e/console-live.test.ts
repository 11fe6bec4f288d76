/**
 * The console while a run goes, and the viewer's fit (issue 20; each test failed before its fix):
 * - a step's warning reaches the warnings panel while the run's progress still shows unfinished steps
 *   (the night has 3 bias frames: the master bias step falls back from winsorized rejection);
 * - defect 8: the stack opened at 1280x800 is fitted again when the window grows to 1920x1080 and
 *   shrinks back (the zoom follows the viewport, the whole image is drawn inside the canvas, centred),
 *   and the header drawer opens over the image's edge without shrinking the canvas or covering its centre.
 * One server with a small simulated night, one page.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { simulateDemoNight } from '../../src/acquire/demo-night.js';
import { openConsole, textOf, waitText, type Console } from './harness.js';

let c: Console;

before(async () => {
  c = await openConsole({}, (root) => {
    simulateDemoNight(join(root, 'night'), { width: 128, height: 96, lightsPerFilter: 4, filters: ['L'], bias: 3, darks: 5, flatsPerFilter: 5 });
  });
  await c.page.goto(c.base);
});

after(async () => {
  await c?.close();
});

/** What the page showed when a warning about the master bias first appeared in the open warnings panel. */
interface Seen {
  item: string;
  progress: string;
  ticked: string[];
}

/** Watch the warnings panel for the first item about the master bias; the function returned reads what was seen then. */
async function watchBiasWarning(): Promise<() => Promise<Seen | null>> {
  await c.page.evaluate(() => {
    const w = globalThis as any;
    w.__biasWarning = null;
    new w.MutationObserver(() => {
      if (w.__biasWarning) return;
      const li = [...w.document.querySelectorAll('[data-testid=warnings-panel] li')].find((x: any) => /master_bias/.test(x.textContent));
      if (!li) return;
      w.__biasWarning = {
        item: li.textContent,
        progress: w.document.querySelector('[data-testid=run-progress]')?.textContent ?? '',
        ticked: [...w.document.querySelectorAll('ol.steps li.done')].map((x: any) => x.textContent.replace(/^✓\s*/, '')),
      };
    }).observe(w.document.body, { subtree: true, childList: true, characterData: true });
  });
  return () => c.page.evaluate(() => (globalThis as any).__biasWarning as Seen | null);
}

test('a step\'s warning reaches the warnings panel while the run goes, with its step, listed once', async (t) => {
  const { page } = c;
  await page.getByTestId('tab-processing').click();
  await page.getByTestId('night').fill('night');
  await page.getByTestId('plan').click();
  const summary = await waitText(page, 'plan-view', /\d+ steps/);
  const n = Number(/(\d+) steps/.exec(summary)![1]);
  await page.getByTestId('warnings-toggle').click();
  await page.getByTestId('warnings-panel').waitFor();
  const seen = await watchBiasWarning();
  await page.getByTestId('run').click();
  await page.getByTestId('results').waitFor({ timeout: 60_000 });
  const s = await seen();
  assert.ok(s, 'no warning about the master bias in the panel');
  t.diagnostic(`when the master bias warning showed: '${s.progress}', ticked: ${s.ticked.join(', ') || 'none'}`);
  // shown while the run was still going: steps left to do (the stack's among them)
  const m = /^(\w+) · (\d+)\/(\d+)/.exec(s.progress);
  assert.ok(m && m[1] === 'running' && Number(m[3]) === n && Number(m[2]) < n - 1, `progress when the warning showed: '${s.progress}' (${n} steps)`);
  assert.ok(!s.ticked.some((id) => /^integrate:/.test(id)), `the stack was already done: ${s.ticked.join(', ')}`);
  assert.match(s.item, /STEP_WARNING winsorized rejection needs at least 4 frames \(got 3\)/);
  assert.match(s.item, /· processing · master:bias_/);
  // after the run: listed once (the report's pass adds nothing the run already sent)
  const panel = page.getByTestId('warnings-panel').locator('li');
  const items = await panel.allTextContents();
  assert.equal(items.filter((t) => /master_bias/.test(t)).length, 1, items.join('\n'));
  const report = c.server.processing.status()!.report!;
  const key = (w: { code: string; message: string; file?: string }): string => `${w.code}|${w.message}|${w.file ?? ''}`;
  assert.equal(items.length, new Set(report.warning_events.map(key)).size, `panel: ${items.join(' | ')}; report: ${report.warnings.join(' | ')}`);
  await page.getByTestId('warnings-toggle').click();
});

/** The zoom the viewer shows, its canvas's box, and where the image was drawn on it (the pixels that are not the background). */
async function viewerState(): Promise<{ zoom: number; iw: number; ih: number; w: number; h: number; box: { x0: number; y0: number; x1: number; y1: number } | null }> {
  const t = await textOf(c.page, 'viewer-zoom');
  const m = /(\d+)x(\d+).*zoom (\d+)%/.exec(t);
  assert.ok(m, `viewer-zoom: '${t}'`);
  const g = await c.page.evaluate(() => {
    const cv = (globalThis as any).document.querySelector('#viewer-canvas');
    const gl = cv.getContext('webgl2');
    const W = cv.width;
    const H = cv.height;
    const px = new Uint8Array(W * H * 4);
    gl.readPixels(0, 0, W, H, gl.RGBA, gl.UNSIGNED_BYTE, px);
    // the background is the clear colour (0.04, 0.04, 0.05); every image pixel is grey (r = g = b)
    let x0 = W, y0 = H, x1 = -1, y1 = -1;
    for (let y = 0; y < H; y++)
      for (let x = 0; x < W; x++) {
        const i = 4 * ((H - 1 - y) * W + x);
        if (px[i] === px[i + 1] && px[i + 1] === px[i + 2]) {
          x0 = Math.min(x0, x);
          x1 = Math.max(x1, x);
          y0 = Math.min(y0, y);
          y1 = Math.max(y1, y);
        }
      }
    const wrap = cv.parentElement;
    return { W, H, cw: wrap.clientWidth, ch: wrap.clientHeight, box: x1 < 0 ? null : { x0, y0, x1: x1 + 1, y1: y1 + 1 } };
  });
  assert.deepEqual([g.W, g.H], [g.cw, g.ch], 'the canvas fills its box');
  return { zoom: Number(m[3]), iw: Number(m[1]), ih: Number(m[2]), w: g.W, h: g.H, box: g.box };
}

/** The image is fitted: the zoom is the fitted one for this canvas, and the whole image is drawn inside it, centred, filling one side. */
function assertFitted(v: Awaited<ReturnType<typeof viewerState>>, where: string): void {
  const fit = Math.min(v.w / v.iw, v.h / v.ih);
  assert.ok(Math.abs(v.zoom - 100 * fit) <= 0.5, `${where}: zoom ${v.zoom}% but the fitted zoom of ${v.iw}x${v.ih} on ${v.w}x${v.h} is ${(100 * fit).toFixed(1)}%`);
  assert.ok(v.box, `${where}: no image drawn`);
  const b = v.box;
  const [dw, dh] = [b.x1 - b.x0, b.y1 - b.y0];
  assert.ok(Math.abs(dw - v.iw * fit) <= 2 && Math.abs(dh - v.ih * fit) <= 2, `${where}: image drawn ${dw}x${dh}, expected ${(v.iw * fit).toFixed(1)}x${(v.ih * fit).toFixed(1)}`);
  assert.ok(b.x0 >= 0 && b.y0 >= 0 && b.x1 <= v.w && b.y1 <= v.h, `${where}: image cropped: ${JSON.stringify(b)} on ${v.w}x${v.h}`);
  assert.ok(Math.abs(b.x0 - (v.w - b.x1)) <= 2 && Math.abs(b.y0 - (v.h - b.y1)) <= 2, `${where}: image not centred: ${JSON.stringify(b)} on ${v.w}x${v.h}`);
  assert.ok(dw >= v.w - 2 || dh >= v.h - 2, `${where}: fills neither side: ${dw}x${dh} on ${v.w}x${v.h}`);
}

/** Let the resize reach the canvas (ResizeObserver, a render, a draw). */
async function settle(): Promise<void> {
  await c.page.waitForTimeout(400);
}

test('8: a stack opened at 1280x800 is fitted again at 1920x1080 and back; the header drawer leaves the canvas and its centre alone', async (t) => {
  const { page } = c;
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.getByTestId('open-stack').first().click();
  await waitText(page, 'viewer-title', /stacks\//);
  await waitText(page, 'viewer-zoom', /zoom \d+%/);
  await settle();
  const small = await viewerState();
  assertFitted(small, '1280x800');
  await page.setViewportSize({ width: 1920, height: 1080 });
  await settle();
  const big = await viewerState();
  assert.ok(big.w > small.w && big.h > small.h, `the canvas grows with the window: ${small.w}x${small.h} -> ${big.w}x${big.h}`);
  assertFitted(big, '1920x1080');
  assert.ok(big.zoom > small.zoom, `the fitted zoom grows: ${small.zoom}% -> ${big.zoom}%`);
  await page.setViewportSize({ width: 1280, height: 800 });
  await settle();
  const back = await viewerState();
  t.diagnostic(`zoom ${small.zoom}% on ${small.w}x${small.h}, ${big.zoom}% on ${big.w}x${big.h}, ${back.zoom}% on ${back.w}x${back.h}`);
  assertFitted(back, '1280x800 again');
  assert.deepEqual([back.w, back.h, back.zoom], [small.w, small.h, small.zoom]);
  // the header: a drawer over the image's right edge; the canvas keeps its size, the zoom and the drawing, and its centre stays visible
  await page.getByTestId('header-toggle').click();
  await page.getByTestId('header-panel').waitFor();
  await settle();
  const withHeader = await viewerState();
  assert.deepEqual([withHeader.w, withHeader.h, withHeader.zoom, withHeader.box], [back.w, back.h, back.zoom, back.box]);
  const centre = await page.evaluate(() => {
    const d = (globalThis as any).document;
    const r = d.querySelector('#viewer-canvas').getBoundingClientRect();
    const el = d.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
    const panel = d.querySelector('[data-testid=header-panel]').getBoundingClientRect();
    return { inCanvas: !!el?.closest('.canvas-wrap'), panelLeft: panel.left - r.left, width: r.width };
  });
  assert.ok(centre.inCanvas && centre.panelLeft > centre.width / 2, `the header covers the image's centre: ${JSON.stringify(centre)}`);
  await page.getByTestId('header-toggle').click();
});
