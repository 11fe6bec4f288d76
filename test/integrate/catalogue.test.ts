/**
 * The integration option catalogue drives `darkroom stack`, `darkroom run` and the API's plan/run:
 * for every option of the catalogue, both commands list it with the same flag, help, range and
 * default (run: the pipeline's three defaults, nothing else), the API schema accepts its default
 * and refuses an unknown or out-of-range value (400 through the route), and typed values are
 * checked against the same definitions.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Command } from 'commander';
import { buildProgram } from '../../src/cli/main.js';
import {
  DEFAULT_OPTIONS,
  INTEGRATE_CATALOGUE,
  REJECTS,
  RUN_EXCLUDED,
  resolveOptions,
  runIntegration,
  splitRunIntegration,
  validateIntegrationOptions,
} from '../../src/integrate/options.js';
import { DEFAULT_OPTIONS as RUN_DEFAULTS } from '../../src/pipeline/plan.js';
import { RUN_INTEGRATION as CLI_RUN } from '../../src/cli/run-night.js';
import { processingSchemas, RUN_INTEGRATION as API_RUN, runOptionsOf } from '../../src/server/routes/processing.js';
import { attributeName, defaultText, helpText, longFlag, parseCli, type OptionDef } from '../../src/util/options.js';
import { catalogueSchema } from '../../src/util/options-schema.js';
import { isDarkroomError } from '../../src/util/errors.js';

function command(name: string): Command {
  const c = buildProgram().commands.find((x) => x.name() === name);
  assert.ok(c, name);
  return c;
}

const flat = (s: string): string => s.replace(/\s+/g, ' ');

/** Values the definition refuses: an unknown name, a number out of range, a fraction for a whole number... */
function badValues(d: OptionDef): unknown[] {
  switch (d.type) {
    case 'enum':
    case 'string':
      return ['bogus', 3];
    case 'boolean':
      return ['yes', 1];
    case 'size':
      return [0, -5, 1.5, 'lots'];
    default: {
      const out: unknown[] = ['abc'];
      if (d.min !== undefined) out.push(d.exclusive ? d.min : d.min - 1);
      if (d.max !== undefined) out.push(d.exclusive ? d.max : d.max + 1);
      if (d.type === 'integer') out.push(1.5);
      return out;
    }
  }
}

/** A valid value of an option without a default. */
function someValue(d: OptionDef): unknown {
  if (d.default !== undefined) return d.type === 'string' ? defaultText(d) : d.default;
  if (d.type === 'size') return 1 << 20;
  return d.min !== undefined ? d.min + 1 : 12;
}

test('the catalogue: one definition per option of IntegrateOptions, defaults from it, unique flags', () => {
  const keys = INTEGRATE_CATALOGUE.map((d) => d.key);
  assert.equal(new Set(keys).size, keys.length);
  const flags = INTEGRATE_CATALOGUE.map(longFlag);
  assert.equal(new Set(flags).size, flags.length);
  for (const d of INTEGRATE_CATALOGUE) {
    assert.ok(d.help.length > 0 && d.doc.length > 0, `${d.key}: help and doc`);
    assert.ok(!/default/i.test(d.help), `${d.key}: the help restates no default (it is added from the definition)`);
    if (d.default !== undefined) assert.deepEqual((DEFAULT_OPTIONS as unknown as Record<string, unknown>)[d.key], d.default, d.key);
    else assert.ok(d.defaultText, `${d.key}: a default chosen at run time says how`);
    // the commander name of the flag is the option's key (the API's name), but for --memory (bytes there)
    if (d.key !== 'memoryBytes') assert.equal(attributeName(d), d.key);
  }
  assert.deepEqual(INTEGRATE_CATALOGUE.find((d) => d.key === 'reject')!.values, REJECTS);
  assert.ok(REJECTS.includes('averaged-sigma'));
  // resolveOptions fills exactly the catalogue's defaults
  assert.deepEqual(resolveOptions({}), DEFAULT_OPTIONS);
});

test('stack --help and run --help list every integration option with the same flag, help, range and default', () => {
  const stack = command('stack');
  const run = command('run');
  const stackHelp = flat(stack.helpInformation());
  const runHelp = flat(run.helpInformation());
  const runDefaults: Record<string, unknown> = { reject: RUN_DEFAULTS.reject, normalize: RUN_DEFAULTS.normalize, weights: RUN_DEFAULTS.weights };
  const differing: string[] = [];
  for (const d of INTEGRATE_CATALOGUE) {
    const so = stack.options.find((o) => o.long === longFlag(d));
    assert.ok(so, `stack ${d.flag}`);
    assert.equal(so.flags, d.flag);
    assert.equal(so.description, helpText(d));
    assert.ok(stackHelp.includes(flat(`${d.flag} ${helpText(d)}`)), `stack --help: ${d.flag}`);
    if (RUN_EXCLUDED.includes(d.key as never)) {
      assert.ok(!run.options.some((o) => o.long === longFlag(d)), `run has no ${d.flag}`);
      continue;
    }
    const rd = CLI_RUN.find((x) => x.key === d.key)!;
    const ro = run.options.find((o) => o.long === longFlag(d));
    assert.ok(ro, `run ${d.flag}`);
    assert.equal(ro.flags, d.flag);
    assert.ok(runHelp.includes(flat(`${d.flag} ${helpText(rd)}`)), `run --help: ${d.flag}`);
    // same default, but for the pipeline's own three (taken from pipeline/plan.ts, not restated)
    assert.deepEqual(rd.default, d.key in runDefaults ? runDefaults[d.key] : d.default, d.key);
    assert.deepEqual({ ...rd, default: undefined }, { ...d, default: undefined }, `${d.key}: run's definition is stack's`);
    if (String(rd.default) !== String(d.default)) differing.push(d.key);
    // absent flags give the default
    assert.deepEqual(parseCli(CLI_RUN, {})[d.key], rd.default);
    assert.deepEqual(parseCli(INTEGRATE_CATALOGUE, {})[d.key], d.default);
  }
  // a run stacks lights: normalized and noise-weighted by default; nothing else differs
  assert.deepEqual(differing, ['normalize', 'weights']);
  assert.deepEqual(RUN_EXCLUDED, ['rejectionMaps']);
});

test('the API schema of plan/run: every run option by the same name, its default accepted, bad values refused', () => {
  assert.deepEqual(
    API_RUN.map((d) => [d.key, d.default]),
    CLI_RUN.map((d) => [d.key, d.default]),
  );
  for (const d of API_RUN) {
    const ok = processingSchemas.plan.safeParse({ night: 'n', options: { [d.key]: someValue(d) } });
    assert.ok(ok.success, `${d.key}=${JSON.stringify(someValue(d))}: ${ok.success ? '' : ok.error.message}`);
    for (const v of badValues(d)) {
      const r = processingSchemas.plan.safeParse({ night: 'n', options: { [d.key]: v } });
      assert.ok(!r.success, `${d.key}=${JSON.stringify(v)} must be refused`);
    }
  }
  assert.ok(!processingSchemas.plan.safeParse({ night: 'n', options: { rejectionMaps: true } }).success, 'a run writes no rejection maps');
  // with defaults, the schema fills the catalogue's
  const filled = catalogueSchema(INTEGRATE_CATALOGUE, { defaults: true }).parse({}) as Record<string, unknown>;
  for (const d of INTEGRATE_CATALOGUE) assert.deepEqual(filled[d.key], d.default === undefined ? undefined : d.type === 'string' ? defaultText(d) : d.default, d.key);
});

test('the API options as a run: the top-level three, the other non-default values in integration, ranges checked together', () => {
  const body = processingSchemas.plan.parse({ night: 'n', options: { reject: 'averaged-sigma', sigmaLow: 2.5, sigmaHigh: 3, weights: 'keyword:exptime', register: false } });
  const o = runOptionsOf(body.options);
  assert.deepEqual(o, { reject: 'averaged-sigma', weights: 'keyword:exptime', integration: { sigmaLow: 2.5 }, register: false });
  assert.deepEqual(runIntegration({ ...RUN_DEFAULTS, ...(o as typeof RUN_DEFAULTS) }), { sigmaLow: 2.5, reject: 'averaged-sigma', normalize: RUN_DEFAULTS.normalize, weights: { keyword: 'EXPTIME' } });
  assert.throws(() => runOptionsOf(processingSchemas.plan.parse({ night: 'n', options: { rangeLow: 10, rangeHigh: 5 } }).options), /rangeLow \(10\) must be below rangeHigh \(5\)/);
  // default values add nothing (a default run keeps its step hashes)
  assert.deepEqual(splitRunIntegration({ combine: 'average', sigmaLow: 4, clipLow: true }, API_RUN), {});
});

test('typed values are checked against the definitions: one line naming the option', () => {
  const cases: Array<[Record<string, unknown>, RegExp]> = [
    [{ reject: 'bogus' }, /^reject: unknown value 'bogus' \(choose none, minmax, .*averaged-sigma/],
    [{ sigmaLow: 0 }, /^sigmaLow: 0 is out of range \(> 0\)$/],
    [{ gesdFraction: 1 }, /^gesdFraction: 1 is out of range \(0 < x < 1\)$/],
    [{ minmaxLow: 1.5 }, /^minmaxLow: '1\.5' is not a whole number$/],
    [{ workers: 0 }, /^workers: 0 is out of range \(>= 1\)$/],
    [{ memoryBytes: -1 }, /^memoryBytes: '-1' must be more than 0$/],
    [{ weights: { keyword: '' } }, /^weights: unknown value 'keyword:'/],
    [{ rangeLow: Number.NaN }, /^rangeLow: 'NaN' is not a number$/],
  ];
  for (const [o, re] of cases) {
    assert.throws(
      () => validateIntegrationOptions(o as never),
      (e: unknown) => isDarkroomError(e) && e.code === 'BAD_ARGUMENT' && re.test(e.message),
      JSON.stringify(o),
    );
  }
  validateIntegrationOptions({ weights: { keyword: 'EXPTIME' }, rangeLow: 0, rangeHigh: 60000, workers: 2, memoryBytes: 1 << 20 });
});
