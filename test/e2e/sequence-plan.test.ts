/**
 * The sequence editor's night automation keys (issue 19's web part): cooling and warming, autofocus
 * triggers, dither, loop/until, target and centering, meridian flip, safety and the site, set in the
 * form, saved as the YAML/JSON plan the CLI reads (parsed here with the CLI's own parser, to the values
 * set and the schema's defaults for the rest), checked by the server as the CLI checks a plan, and
 * loaded back into the form; keys the editor does not show survive a load and a save.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parsePlan, readPlan } from '../../src/acquire/plan.js';
import { openConsole, waitText, type Console } from './harness.js';

let c: Console;

before(async () => {
  c = await openConsole();
});

after(async () => {
  await c?.close();
});

/** What the test sets, as plan keys (the CLI's names). */
const SET = {
  cooling: { setpoint: -15 },
  warmTo: 5,
  warmRate: 2,
  autofocus: { everyFrames: 10, tempChange: 1.5, onFilterChange: true, hfrIncrease: 15 },
  ditherEvery: 3,
  loop: true,
  until: { time: '2026-12-02T05:30:00Z', altitude: 25, frames: 200 },
  target: { ra: 314.7, dec: 44.3 },
  center: { tolerance: 20 },
  meridian: { limitMinutes: 5, recenter: false },
  safety: { action: 'wait', pollS: 30 },
  profile: { siteLat: 50, siteLong: 8 },
};

const id = (key: string): string => `auto-${key.replace(/\./g, '-')}`;

/** Set every key of SET in the form: switch each object key on, then fill or tick its fields. */
async function fillAutomation(): Promise<void> {
  const { page } = c;
  for (const [k, v] of Object.entries(SET)) {
    if (typeof v !== 'object') {
      if (typeof v === 'boolean') await page.getByTestId(id(k)).setChecked(v);
      else await page.getByTestId(id(k)).fill(String(v));
      continue;
    }
    if (k !== 'profile') await page.getByTestId(id(k)).check();
    for (const [f, fv] of Object.entries(v)) {
      const l = page.getByTestId(id(`${k}.${f}`));
      if (typeof fv === 'boolean') await l.setChecked(fv);
      else if (k === 'safety' && f === 'action') await l.selectOption(String(fv));
      else await l.fill(String(fv));
    }
  }
}

test('night automation keys: set in the form, saved as the CLI\'s plan (its parser reads the same values), refused in words when they need one another, loaded back', async () => {
  const { page } = c;
  await page.goto(c.base);
  await page.getByTestId('tab-sequence').click();
  await page.getByTestId('seq-base').fill('NGC7000');
  await page.getByTestId('g-exposure-0').fill('300');
  await page.getByTestId('g-count-0').fill('12');
  await page.getByTestId('seq-automation').locator('summary').click();
  await page.getByTestId('auto-cooling').waitFor();
  // the schema's defaults are the placeholders (no copy in the console)
  await page.getByTestId('auto-center').check();
  assert.equal(await page.getByTestId('auto-center-tolerance').getAttribute('placeholder'), '30');
  assert.equal(await page.getByTestId('auto-warmRate').getAttribute('placeholder'), '5');
  await fillAutomation();
  await waitText(page, 'seq-estimate', /^12 frames/);

  // saved as YAML; the CLI's parser reads exactly what was set, and the schema's defaults for the rest
  await page.getByTestId('plan-path').fill('plans/night.yaml');
  await page.getByTestId('plan-save').click();
  await waitText(page, 'plan-note', /saved/);
  const yamlFile = join(c.dir, 'plans/night.yaml');
  const saved = readPlan(yamlFile);
  const expected = parsePlan({ base: 'NGC7000', object: '', order: 'cycle', groups: [{ type: 'light', exposure: 300, count: 12, binning: 1, suffix: '', delay: 0, active: true }], ...SET });
  assert.deepEqual(saved, expected);
  for (const [k, v] of Object.entries(SET)) {
    if (typeof v === 'object') for (const [f, fv] of Object.entries(v)) assert.deepEqual((saved as any)[k][f], fv, `${k}.${f}`);
    else assert.deepEqual((saved as any)[k], v, k);
  }
  assert.match(readFileSync(yamlFile, 'utf8'), /everyFrames: 10/);

  // keys that need one another: a loop without an until condition is refused as the CLI refuses it, and Start with it
  await page.getByTestId('auto-until').uncheck();
  const refused = await waitText(page, 'seq-estimate', /loop/);
  assert.match(refused, /a looping plan needs an until condition/);
  assert.equal(await page.getByTestId('seq-start').isDisabled(), true);
  // and a value out of the schema's range, in words
  await page.getByTestId('auto-until').check();
  await page.getByTestId('auto-until-altitude').fill('95');
  assert.match(await waitText(page, 'seq-estimate', /at most 90/), /altitude.*at most 90/i);
  await page.getByTestId('auto-until-altitude').fill('25');
  await waitText(page, 'seq-estimate', /^12 frames/);

  // loaded back after a reload and changes: the form shows the file's values
  await page.reload();
  await page.getByTestId('tab-sequence').click();
  await page.getByTestId('seq-automation').locator('summary').click();
  assert.equal(await page.getByTestId('auto-ditherEvery').inputValue(), '3', 'the form survives a reload');
  await page.getByTestId('auto-ditherEvery').fill('7');
  await page.getByTestId('auto-meridian').uncheck();
  await page.getByTestId('plan-path').fill('plans/night.yaml');
  await page.getByTestId('plan-load').click();
  await waitText(page, 'plan-note', /loaded/);
  assert.equal(await page.getByTestId('auto-ditherEvery').inputValue(), '3');
  assert.equal(await page.getByTestId('auto-meridian').isChecked(), true);
  assert.equal(await page.getByTestId('auto-meridian-limitMinutes').inputValue(), '5');
  assert.equal(await page.getByTestId('auto-meridian-recenter').isChecked(), false);
  assert.equal(await page.getByTestId('auto-safety-action').inputValue(), 'wait');
  assert.equal(await page.getByTestId('auto-until-time').inputValue(), '2026-12-02T05:30:00Z');
  assert.equal(await page.getByTestId('auto-autofocus-onFilterChange').isChecked(), true);
  // saved again as JSON: the same plan
  await page.getByTestId('plan-path').fill('plans/night.json');
  await page.getByTestId('plan-save').click();
  await waitText(page, 'plan-note', /saved .*night\.json/);
  assert.deepEqual(readPlan(join(c.dir, 'plans/night.json')), saved);
});

test('a plan written by hand with keys the editor does not show: loaded and saved, they are kept', async () => {
  const { page } = c;
  const plan = { base: 'M31', pattern: '{base}_{n}', start: 7, focusOffsets: { Red: 40 }, darksCapped: true, profile: { observer: 'A. Nonymous', siteLat: 45 }, autofocus: { atStart: true }, groups: [{ exposure: 120, count: 4, filter: 'Red' }] };
  mkdirSync(join(c.dir, 'plans'), { recursive: true });
  writeFileSync(join(c.dir, 'plans/hand.yaml'), ['base: M31', "pattern: '{base}_{n}'", 'start: 7', 'focusOffsets:', '  Red: 40', 'darksCapped: true', 'profile:', '  observer: A. Nonymous', '  siteLat: 45', 'autofocus:', '  atStart: true', 'groups:', '  - exposure: 120', '    count: 4', '    filter: Red', ''].join('\n'));
  await page.getByTestId('plan-path').fill('plans/hand.yaml');
  await page.getByTestId('plan-load').click();
  await waitText(page, 'plan-note', /loaded/);
  assert.equal(await page.getByTestId('auto-profile-siteLat').inputValue(), '45');
  assert.equal(await page.getByTestId('auto-autofocus').isChecked(), true);
  assert.equal(await page.getByTestId('auto-cooling').isChecked(), false);
  await page.getByTestId('plan-path').fill('plans/hand-saved.yaml');
  await page.getByTestId('plan-save').click();
  await waitText(page, 'plan-note', /saved/);
  assert.deepEqual(readPlan(join(c.dir, 'plans/hand-saved.yaml')), readPlan(join(c.dir, 'plans/hand.yaml')));
  assert.deepEqual(readPlan(join(c.dir, 'plans/hand.yaml')), parsePlan(plan));
});
