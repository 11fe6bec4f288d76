/**
 * The integration options from the catalogue at the front ends: `darkroom run --reject
 * averaged-sigma` (refused before: run kept its own list) stacks a tiny night; run and stack refuse
 * bad values with the catalogue's one line; a run's plan records the other integration options;
 * the API's plan refuses an unknown rejection with 400 and takes averaged-sigma.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileTempDir, runCli } from '../helpers/env.js';
import { writeFrame } from '../session/night-fixture.js';
import { readFits } from '../../src/fits/index.js';
import { buildServer } from '../../src/server/app.js';
import { buildProgram } from '../../src/cli/main.js';
import { runOptionsFrom } from '../../src/cli/run-night.js';
import { buildPlan, type IntegrateStep } from '../../src/pipeline/plan.js';
import { integrateOptions } from '../../src/pipeline/execute.js';
import { INTEGRATE_CATALOGUE, resolveOptions } from '../../src/integrate/options.js';
import { parseCli } from '../../src/util/options.js';
import { isDarkroomError } from '../../src/util/errors.js';

const dir = fileTempDir('darkroom-options-');
const night = join(dir, 'night');
// three aligned lights of one target, no calibration: the smallest night averaged-sigma stacks
for (let i = 0; i < 3; i++) writeFrame(night, { path: `L/l_${i}.fits`, pixels: 'sky', seed: 70 + i, keywords: { IMAGETYP: 'LIGHT', EXPTIME: 60, OBJECT: 'A', FILTER: 'R', RA: 10, DEC: 10 } });

test('darkroom run --reject averaged-sigma stacks a night (the method darkroom stack accepts)', () => {
  const out = join(dir, 'out');
  // with two more options of stack's catalogue: they reach the stack too
  const r = runCli(['run', night, '--out', out, '--reject', 'averaged-sigma', '--sigma-low', '2.5', '--weights', 'keyword:exptime', '--no-register', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as { stacks: Array<{ path: string; frames: number }> };
  assert.equal(report.stacks.length, 1);
  assert.equal(report.stacks[0]!.frames, 3);
  const stack = readFits(join(out, report.stacks[0]!.path));
  const history = stack.header.history().join('\n');
  assert.match(history, /reject=averaged-sigma sigma-low=2\.5\b/, 'HISTORY records the rejection and its sigma');
  assert.match(history, /weights=keyword:EXPTIME\b/);
  assert.ok(!existsSync(join(out, 'stacks', 'A_R_rejlow.fits')));
});

/** The options `darkroom NAME ARGS...` parses to (commander, in-process: no action runs). */
function flagsOf(name: string, args: string[]): Record<string, unknown> {
  const c = buildProgram().commands.find((x) => x.name() === name)!;
  c.parseOptions(args);
  return c.opts();
}

test('run and stack: bad integration values are one line from the catalogue, exit 2', () => {
  const spawned: Array<[string[], RegExp]> = [
    [['run', night, '--dry-run', '--reject', 'bogus'], /^darkroom: --reject: unknown value 'bogus' \(choose none, minmax, percentile, sigma, winsorized, averaged-sigma, linear-fit, gesd, mad\)$/],
    [['stack', 'a.fits', '-o', join(dir, 's.fits'), '--gesd-fraction', '1'], /^darkroom: --gesd-fraction: 1 is out of range \(0 < x < 1\)$/],
  ];
  for (const [args, re] of spawned) {
    const r = runCli(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr.trim(), re);
    assert.equal(r.stderr.trim().split('\n').length, 1);
  }
  // the same parsing in-process, for the other kinds of values
  const cases: Array<[string, string[], RegExp]> = [
    ['run', ['--sigma-low', '-1'], /^--sigma-low: -1 is out of range \(> 0\)$/],
    ['run', ['--weights', 'bogus'], /^--weights: unknown value 'bogus'/],
    ['run', ['--memory', 'lots'], /^--memory: 'lots' is not a size/],
    ['stack', ['--minmax-low', '0.5'], /^--minmax-low: '0\.5' is not a whole number$/],
    ['stack', ['--workers', '0'], /^--workers: 0 is out of range \(>= 1\)$/],
    ['stack', ['--range-low', 'x'], /^--range-low: 'x' is not a number$/],
  ];
  for (const [name, args, re] of cases) {
    const flags = flagsOf(name, args);
    const parse = name === 'run' ? () => runOptionsFrom(flags as never) : () => parseCli(INTEGRATE_CATALOGUE, flags);
    assert.throws(parse, (e: unknown) => isDarkroomError(e) && e.code === 'BAD_ARGUMENT' && re.test(e.message), `${name} ${args.join(' ')}`);
  }
});

test("run's options and plan record the integration options it was given (and nothing for defaults)", () => {
  const plain = runOptionsFrom(flagsOf('run', []) as never);
  assert.deepEqual([plain.reject, plain.normalize, plain.weights, plain.integration], ['winsorized', 'additive-scaling', 'noise', undefined]);
  const o = runOptionsFrom(flagsOf('run', ['--combine', 'median', '--sigma-low', '2.5', '--no-clip-low', '--sigma-high', '3', '--reject', 'averaged-sigma']) as never);
  const plan = buildPlan(night, join(dir, 'plan-out'), o, { useCache: false });
  assert.deepEqual([plan.options.reject, plan.options.weights], ['averaged-sigma', 'noise']);
  assert.deepEqual(plan.options.integration, { combine: 'median', sigmaLow: 2.5, clipLow: false });
  // the integrate step carries them (hashed with its params) and integrates with them
  const step = plan.steps.find((s) => s.kind === 'integrate') as IntegrateStep;
  assert.deepEqual(step.params.integration, { combine: 'median', sigmaLow: 2.5, clipLow: false });
  assert.deepEqual(resolveOptions(integrateOptions(step)), resolveOptions({ reject: 'averaged-sigma', normalize: 'additive-scaling', weights: 'noise', combine: 'median', sigmaLow: 2.5, clipLow: false }));
  // a default run's step has no integration entry (its hash is unchanged)
  const step0 = buildPlan(night, join(dir, 'plan-out'), plain, { useCache: false }).steps.find((s) => s.kind === 'integrate') as IntegrateStep;
  assert.ok(!('integration' in step0.params));
});

test('the API plan: reject is an enum (400 on an unknown value), averaged-sigma is taken', async () => {
  const s = await buildServer({ roots: [dir], webDir: null, simSpeed: 600 });
  try {
    const post = (options: unknown) => s.app.inject({ method: 'POST', url: '/api/processing/plan', payload: { night: 'night', out: 'api-out', options } as object, headers: { 'content-type': 'application/json' } });
    const bad = await post({ reject: 'bogus' });
    assert.equal(bad.statusCode, 400, bad.body);
    assert.match(bad.json().message, /options\.reject/);
    const range = await post({ gesdFraction: 2 });
    assert.equal(range.statusCode, 400, range.body);
    const ok = await post({ reject: 'averaged-sigma', sigmaLow: 2 });
    assert.equal(ok.statusCode, 200, ok.body);
    assert.equal(ok.json().options.reject, 'averaged-sigma');
    assert.deepEqual(ok.json().options.integration, { sigmaLow: 2 });
  } finally {
    await s.app.close();
  }
});
