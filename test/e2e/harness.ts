/**
 * What the console's browser tests share: the front end built when its sources are newer, the real
 * server on a free port with a temp root, and Chromium (playwright-core, /usr/bin/chromium, WebGL2
 * through SwiftShader). One server and one browser per test file; `close()` in the after hook.
 * DARKROOM_E2E_WEB=DIR serves the front end built in DIR instead (nothing is built);
 * DARKROOM_E2E_PRECONNECT=1 connects the simulator and opens the page first (to run one test alone).
 */
import assert from 'node:assert/strict';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { chromium, type Browser, type Page } from 'playwright-core';
import { ROOT, tempDir } from '../helpers/env.js';
import { buildServer, findWebDir, type DarkroomServer, type ServerOptions } from '../../src/server/app.js';

export interface Console {
  dir: string;
  server: DarkroomServer;
  browser: Browser;
  page: Page;
  base: string;
  /** Messages of uncaught errors in the page. */
  pageErrors: string[];
  close: () => Promise<void>;
}

/** Build the front end into dist/web when it is missing or older than web/src or web/index.html. */
export function buildWeb(): void {
  const web = findWebDir();
  const built = web ? statSync(join(web, 'index.html')).mtimeMs : 0;
  const newest = Math.max(...readdirSync(join(ROOT, 'web/src')).map((n) => statSync(join(ROOT, 'web/src', n)).mtimeMs), statSync(join(ROOT, 'web/index.html')).mtimeMs);
  if (web && newest <= built) return;
  const r = spawnSync(process.execPath, [join(ROOT, 'node_modules/vite/bin/vite.js'), 'build', 'web', '--outDir', '../dist/web', '--emptyOutDir'], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(r.status, 0, `vite build failed:\n${r.stdout}${r.stderr}`);
}

export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--enable-unsafe-swiftshader', '--disable-background-networking', '--disable-component-update', '--no-first-run'];

/** Server (temp root, `prepare(root)` run first) + Chromium + one page at 1280x800. */
export async function openConsole(o: Partial<ServerOptions> = {}, prepare?: (root: string) => void): Promise<Console> {
  // DARKROOM_E2E_WEB: serve another built front end (e.g. an older commit's, to see a test fail on it)
  const webDir = process.env.DARKROOM_E2E_WEB || undefined;
  if (!webDir) buildWeb();
  const t = tempDir('darkroom-console-');
  prepare?.(t.dir);
  const server = await buildServer({ roots: [t.dir], simSpeed: 600, ...(webDir ? { webDir } : {}), ...o });
  const base = await server.app.listen({ port: 0, host: '127.0.0.1' });
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  // DARKROOM_E2E_PRECONNECT=1: the simulator connected on the server and the page open (one test run alone, without the tests before it)
  if (process.env.DARKROOM_E2E_PRECONNECT === '1') {
    await server.devices.connect('sim');
    await page.goto(base);
  }
  return {
    dir: t.dir,
    server,
    browser,
    page,
    base,
    pageErrors,
    close: async () => {
      await browser.close();
      await server.app.close();
      t.cleanup();
    },
  };
}

/** Text of the element with this test id ('' when there is none). */
export async function textOf(page: Page, testid: string): Promise<string> {
  const l = page.getByTestId(testid);
  return (await l.count()) ? l.first().innerText() : '';
}

/** Wait until the text of the element with this test id matches `re`. */
export async function waitText(page: Page, testid: string, re: RegExp, timeout = 20_000): Promise<string> {
  await page.waitForFunction(
    ([id, src, flags]) => new RegExp(src!, flags).test((globalThis as any).document.querySelector(`[data-testid=${id}]`)?.textContent ?? ''),
    [testid, re.source, re.flags],
    { timeout },
  );
  return textOf(page, testid);
}

/** Connect the simulator from the Camera tab and wait for its state line. */
export async function connectSim(page: Page): Promise<void> {
  await page.getByTestId('tab-camera').click();
  await page.getByTestId('connect').click();
  await page.getByTestId('camera-state').waitFor();
}

/** Record every text the element `testid` shows from now on (each change once); the function returned reads them, in order. */
export async function recordTexts(page: Page, testid: string): Promise<() => Promise<string[]>> {
  const key = `__texts_${testid.replace(/\W/g, '_')}`;
  await page.evaluate(
    ([k, sel]) => {
      const w = globalThis as any;
      w[k] = [];
      new w.MutationObserver(() => {
        const t = w.document.querySelector(sel)?.textContent;
        if (t && t !== w[k][w[k].length - 1]) w[k].push(t);
      }).observe(w.document.body, { subtree: true, childList: true, characterData: true });
    },
    [key, `[data-testid=${testid}]`] as const,
  );
  return () => page.evaluate((k) => (globalThis as any)[k] as string[], key);
}
