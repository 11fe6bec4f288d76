/**
 * The processing runner's warnings reach the console while the run goes, not only with its report: the
 * scan's DUPLICATES warning (a light copied under another name) is sent as a 'warning' event before the
 * run's first step finishes, with its code, message and file, and the report has the same one.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { withTempDir } from '../helpers/env.js';
import { Processing } from '../../src/server/processing.js';
import { simulateDemoNight } from '../../src/acquire/demo-night.js';

test('the plan\'s warnings are sent as the run starts, before any step is done, and match the report\'s', async () => {
  await withTempDir(async (dir) => {
    const night = join(dir, 'night');
    simulateDemoNight(night, { width: 64, height: 48, lightsPerFilter: 3, filters: ['L'], bias: 3, darks: 3, flatsPerFilter: 3 });
    const l = join(night, 'lights/L');
    copyFileSync(join(l, readdirSync(l).sort()[0]!), join(l, 'copy.fit'));
    const events: Record<string, any>[] = [];
    const p = new Processing((ev) => events.push(ev));
    const { finished } = p.start(night, join(dir, 'out'), { solve: false });
    await finished;
    assert.equal(p.status()!.state, 'done', p.status()!.error);
    const firstStep = events.findIndex((e) => e.type === 'run-progress');
    const dup = events.findIndex((e) => e.type === 'warning' && e.code === 'DUPLICATES');
    assert.ok(firstStep > 0, 'progress events');
    assert.ok(dup >= 0 && dup < firstStep, `DUPLICATES warning at event ${dup}, first step done at ${firstStep}`);
    const reported = p.status()!.report!.warning_events.find((w) => w.code === 'DUPLICATES')!;
    assert.deepEqual({ code: events[dup]!.code, message: events[dup]!.message, file: events[dup]!.file }, { code: reported.code, message: reported.message, file: reported.file });
    assert.match(reported.message, /copy\.fit/);
  });
});
