/**
 * The integration option catalogue drives `darkroom stack`, `darkroom run` and the API's plan/run:
 * for every option of the catalogue, both commands list it with the same flag, help, range and
 * default, the API schema takes it by the same name with the same default (no exceptions), and
 * refuses an unknown or out-of-range value (400 through the route), and typed values are checked
 * against the same definitions. `darkroom run --reject averaged-sigma --rejection-maps` runs end to
 * end on a small simulated night and gives the stack (and maps) `darkroom stack` gives.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { buildProgram } from '../../src/cli/main.js';
import {
  DEFAULT_OPTIONS,
  INTEGRATE_CATALOGUE,
  REJECTS,
  resolveOptions,
  runIntegration,
  splitRunIntegration,
  validateIntegrationOptions,
} from '../../src/integrate/options.js';
import { DEFAULT_OPTIONS as RUN_DEFAULTS, type RunOptions } from '../../src/pipeline/plan.js';
import { runOptionsFrom } from '../../src/cli/run-night.js';
import { processingSchemas, runOptionsOf } from '../../src/server/routes/processing.js';
import { attributeName, defaultText, helpText, longFlag, parseCli, type OptionDef } from '../../src/util/options.js';
import { catalogueSchema } from '../../src/util/options-schema.js';
import { isDarkroomError } from '../../src/util/errors.js';
import { readFits } from '../../src/fits/index.js';
import type { RunReport } from '../../src/pipeline/report.js';
import type { Manifest } from '../../src/pipeline/manifest.js';
import { runCli, useTempDir } from '../helpers/env.js';
import { simulatedNight } from '../helpers/night.js';

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

/** The integration options a run's stacks are made with, all filled in (what the integrate step resolves). */
const runStackOptions = (o: Partial<RunOptions>): Record<string, unknown> => resolveOptions(runIntegration({ ...RUN_DEFAULTS, ...o })) as unknown as Record<string, unknown>;

test('the catalogue: one definition per option of IntegrateOptions, defaults from it, unique flags, the flag\'s name is the key', () => {
  const keys = INTEGRATE_CATALOGUE.map((d) => d.key);
  assert.equal(new Set(keys).size, keys.length);
  const flags = INTEGRATE_CATALOGUE.map(longFlag);
  assert.equal(new Set(flags).size, flags.length);
  for (const d of INTEGRATE_CATALOGUE) {
    assert.ok(d.help.length > 0 && d.doc.length > 0, `${d.key}: help and doc`);
    assert.ok(!/default/i.test(d.help), `${d.key}: the help restates no default (it is added from the definition)`);
    if (d.default !== undefined) assert.deepEqual((DEFAULT_OPTIONS as unknown as Record<string, unknown>)[d.key], d.default, d.key);
    else assert.ok(d.defaultText, `${d.key}: a default chosen at run time says how`);
    // the commander name of the flag is the option's key, the API's name (--memory <-> memory)
    assert.equal(attributeName(d), d.key);
  }
  assert.deepEqual(INTEGRATE_CATALOGUE.find((d) => d.key === 'reject')!.values, REJECTS);
  assert.ok(REJECTS.includes('averaged-sigma'));
  // resolveOptions fills exactly the catalogue's defaults: lights are normalized and noise-weighted
  assert.deepEqual(resolveOptions({}), DEFAULT_OPTIONS);
  assert.equal(DEFAULT_OPTIONS.normalize, 'additive-scaling');
  assert.equal(DEFAULT_OPTIONS.weights, 'noise');
  // the run's top-level three are the catalogue's, not a second literal
  assert.deepEqual([RUN_DEFAULTS.reject, RUN_DEFAULTS.normalize, RUN_DEFAULTS.weights], [DEFAULT_OPTIONS.reject, DEFAULT_OPTIONS.normalize, DEFAULT_OPTIONS.weights]);
});

test('every option: stack, run and the API by the same name with the same default (no exceptions)', () => {
  const stack = command('stack');
  const run = command('run');
  const stackHelp = flat(stack.helpInformation());
  const runHelp = flat(run.helpInformation());
  // nothing given: what each front end makes of it
  const stackNone = parseCli(INTEGRATE_CATALOGUE, stack.opts());
  const runNone = runStackOptions(runOptionsFrom({ ...run.opts(), debayer: 'bilinear', pedestal: '0', register: true }));
  const apiNone = runStackOptions(runOptionsOf(processingSchemas.plan.parse({ night: 'n' }).options));
  const apiShape = processingSchemas.plan.shape.options.unwrap().shape as Record<string, unknown>;
  for (const d of INTEGRATE_CATALOGUE) {
    for (const [name, cmd, help] of [['stack', stack, stackHelp], ['run', run, runHelp]] as const) {
      const o = cmd.options.find((x) => x.long === longFlag(d));
      assert.ok(o, `${name} ${d.flag}`);
      assert.equal(o.flags, d.flag, `${name} ${d.key}`);
      assert.equal(o.attributeName(), d.key, `${name} ${d.flag}: the key`);
      assert.equal(o.description, helpText(d), `${name} ${d.key}: help`);
      assert.ok(help.includes(flat(`${d.flag} ${helpText(d)}`)), `${name} --help: ${d.flag}`);
    }
    assert.ok(d.key in apiShape, `the API takes ${d.key}`);
    // the same default everywhere: the catalogue's (undefined for one chosen at run time)
    const want = d.default;
    assert.deepEqual(stackNone[d.key], want, `stack ${d.key}`);
    assert.deepEqual(runNone[d.key], want, `run ${d.key}`);
    assert.deepEqual(apiNone[d.key], want, `API ${d.key}`);
  }
});

test('every option: a value given to stack, run or the API reaches the integration alike', () => {
  const stack = command('stack');
  for (const d of INTEGRATE_CATALOGUE) {
    // a value that is not the default (a boolean: the other one)
    const v = d.type === 'boolean' ? !d.default : d.type === 'enum' ? d.values!.find((x) => x !== d.default)! : d.key === 'weights' ? 'exposure' : someValue(d) === d.default ? (d.default as number) * 2 : someValue(d);
    const text = d.type === 'boolean' ? [] : [String(v)];
    const argv = [longFlag(d), ...text];
    const st = buildProgram().commands.find((x) => x.name() === 'stack')!;
    st.parseOptions(argv);
    const rn = buildProgram().commands.find((x) => x.name() === 'run')!;
    rn.parseOptions(argv);
    const want = d.parse ? d.parse(String(v)) : v;
    assert.deepEqual(parseCli(INTEGRATE_CATALOGUE, st.opts())[d.key], want, `stack ${argv.join(' ')}`);
    assert.deepEqual(runStackOptions(runOptionsFrom({ ...rn.opts(), debayer: 'bilinear', pedestal: '0', register: true }))[d.key], want, `run ${argv.join(' ')}`);
    const api = processingSchemas.plan.parse({ night: 'n', options: { [d.key]: v } });
    assert.deepEqual(runStackOptions(runOptionsOf(api.options))[d.key], want, `API ${d.key}=${JSON.stringify(v)}`);
  }
  assert.ok(stack);
  // --memory: a size on the command line and in the API ('512MB' = 512 x 2^20 bytes), bytes in the API too
  const rn = buildProgram().commands.find((x) => x.name() === 'run')!;
  rn.parseOptions(['--memory', '512MB']);
  assert.equal(runStackOptions(runOptionsFrom({ ...rn.opts(), debayer: 'bilinear', pedestal: '0', register: true })).memory, 536_870_912);
  assert.equal(runStackOptions(runOptionsOf(processingSchemas.plan.parse({ night: 'n', options: { memory: '512MB' } }).options)).memory, 536_870_912);
  assert.equal(runStackOptions(runOptionsOf(processingSchemas.plan.parse({ night: 'n', options: { memory: 1 << 20 } }).options)).memory, 1 << 20);
  for (const bad of ['lots', '0MB', 0, 1.5, -3]) assert.ok(!processingSchemas.plan.safeParse({ night: 'n', options: { memory: bad } }).success, `memory=${JSON.stringify(bad)} refused`);
});

test('the API schema of plan/run: its default accepted, bad values refused, for every option', () => {
  for (const d of INTEGRATE_CATALOGUE) {
    const ok = processingSchemas.plan.safeParse({ night: 'n', options: { [d.key]: someValue(d) } });
    assert.ok(ok.success, `${d.key}=${JSON.stringify(someValue(d))}: ${ok.success ? '' : ok.error.message}`);
    for (const v of badValues(d)) {
      const r = processingSchemas.plan.safeParse({ night: 'n', options: { [d.key]: v } });
      assert.ok(!r.success, `${d.key}=${JSON.stringify(v)} must be refused`);
    }
  }
  // with defaults, the schema fills the catalogue's
  const filled = catalogueSchema(INTEGRATE_CATALOGUE, { defaults: true }).parse({}) as Record<string, unknown>;
  for (const d of INTEGRATE_CATALOGUE) assert.deepEqual(filled[d.key], d.default === undefined ? undefined : d.type === 'string' ? defaultText(d) : d.default, d.key);
});

test('the API options as a run: the top-level three, the other non-default values in integration, ranges checked together', () => {
  const body = processingSchemas.plan.parse({ night: 'n', options: { reject: 'averaged-sigma', sigmaLow: 2.5, sigmaHigh: 3, weights: 'keyword:exptime', register: false, rejectionMaps: true } });
  const o = runOptionsOf(body.options);
  assert.deepEqual(o, { reject: 'averaged-sigma', weights: 'keyword:exptime', integration: { sigmaLow: 2.5, rejectionMaps: true }, register: false });
  assert.deepEqual(runIntegration({ ...RUN_DEFAULTS, ...(o as typeof RUN_DEFAULTS) }), { sigmaLow: 2.5, rejectionMaps: true, reject: 'averaged-sigma', normalize: RUN_DEFAULTS.normalize, weights: { keyword: 'EXPTIME' } });
  assert.throws(() => runOptionsOf(processingSchemas.plan.parse({ night: 'n', options: { rangeLow: 10, rangeHigh: 5 } }).options), /rangeLow \(10\) must be below rangeHigh \(5\)/);
  // default values add nothing (a default run keeps its step hashes)
  assert.deepEqual(splitRunIntegration({ combine: 'average', sigmaLow: 4, clipLow: true, rejectionMaps: false }), {});
});

test('darkroom run --reject averaged-sigma --rejection-maps: the stack and maps of darkroom stack on the same frames, listed in the report and the manifest', (t) => {
  const dir = useTempDir(t);
  const night = join(dir, 'night');
  const out = join(dir, 'out');
  simulatedNight(night, { width: 96, height: 72, lights: 8, darks: 3, bias: 3, flats: 3, dither: 2, lightExposure: 60, seed: 23, starCount: 30, object: 'M42', filter: 'L' }, join(dir, 'truth'));
  const r = runCli(['run', night, '--out', out, '--reject', 'averaged-sigma', '--sigma-high', '2', '--rejection-maps', '--memory', '8MB', '--keep-intermediates', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as RunReport;
  assert.equal(report.stacks.length, 1);
  const st = report.stacks[0]!;
  assert.equal(st.frames, 8);
  const maps = st.rejection_maps!;
  const name = st.path.replace(/^stacks\/|\.fits$/g, '');
  assert.equal(name, 'M42_L');
  assert.deepEqual(maps, { low: st.path.replace(/\.fits$/, '_rejlow.fits'), high: st.path.replace(/\.fits$/, '_rejhigh.fits') });
  // the maps are Darkroom's files: recorded in the manifest with their digests (a later cleanup knows them)
  const manifest = JSON.parse(readFileSync(join(out, '.darkroom', 'manifest.json'), 'utf8')) as Manifest;
  for (const p of [st.path, maps.low, maps.high]) {
    assert.ok(existsSync(join(out, p)), p);
    const e = manifest.files[p];
    assert.ok(e && e.step === `integrate:${name}` && !e.pending && typeof e.sha256 === 'string' && !e.intermediate, `${p} in the manifest: ${JSON.stringify(e)}`);
  }
  // the same frames through darkroom stack with the same options: the same stack and maps (one catalogue, one default each)
  const reg = join(out, 'registered', name);
  const frames = readdirSync(reg).filter((f) => f.endsWith('.fits')).sort().map((f) => join(reg, f));
  assert.equal(frames.length, 8);
  const ref = join(dir, 'ref.fits');
  const s = runCli(['stack', ...frames, '-o', ref, '--reject', 'averaged-sigma', '--sigma-high', '2', '--rejection-maps', '--workers', '1']);
  assert.equal(s.code, 0, s.stderr);
  for (const [a, b] of [[st.path, ref], [maps.low, join(dir, 'ref_rejlow.fits')], [maps.high, join(dir, 'ref_rejhigh.fits')]] as const) {
    const x = readFits(join(out, a)).data[0]!;
    const y = readFits(b).data[0]!;
    assert.equal(x.length, y.length);
    let diff = 0;
    for (let i = 0; i < x.length; i++) if (!(x[i] === y[i] || (Number.isNaN(x[i]) && Number.isNaN(y[i])))) diff++;
    assert.equal(diff, 0, `${a} = ${b}`);
  }
  // averaged sigma clipping at 2 sigma high rejects something (the maps are fractions of 8 frames)
  const high = readFits(join(out, maps.high)).data[0]!;
  let sum = 0;
  let n = 0;
  for (const v of high) if (Number.isFinite(v)) ((sum += v), n++);
  assert.ok(sum / n > 0.001 && sum / n < 0.2, `mean fraction rejected high ${sum / n}`);
  const hist = readFits(join(out, st.path)).header.history().join(' ');
  assert.match(hist, /averaged-sigma/);
});

test('typed values are checked against the definitions: one line naming the option', () => {
  const cases: Array<[Record<string, unknown>, RegExp]> = [
    [{ reject: 'bogus' }, /^reject: unknown value 'bogus' \(choose none, minmax, .*averaged-sigma/],
    [{ sigmaLow: 0 }, /^sigmaLow: 0 is out of range \(> 0\)$/],
    [{ gesdFraction: 1 }, /^gesdFraction: 1 is out of range \(0 < x < 1\)$/],
    [{ minmaxLow: 1.5 }, /^minmaxLow: '1\.5' is not a whole number$/],
    [{ workers: 0 }, /^workers: 0 is out of range \(>= 1\)$/],
    [{ memory: -1 }, /^memory: '-1' must be more than 0$/],
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
  validateIntegrationOptions({ weights: { keyword: 'EXPTIME' }, rangeLow: 0, rangeHigh: 60000, workers: 2, memory: 1 << 20 });
});
