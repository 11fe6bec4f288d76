/**
 * `darkroom run --interp KERNEL`: one definition in the registration catalogue (register/options.ts)
 * for the CLI, its help and the API; the plan's register step records a kernel other than the default
 * (a default plan records none, so its hashes stay), and the step resamples with it: each registered
 * frame is exactly its calibrated frame warped with that kernel by the transform in its REGH keywords.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { buildProgram } from '../../src/cli/main.js';
import { runOptionsFrom } from '../../src/cli/run-night.js';
import { processingSchemas, runOptionsOf } from '../../src/server/routes/processing.js';
import { buildPlan, DEFAULT_OPTIONS, type RegisterStep } from '../../src/pipeline/plan.js';
import { executePlan } from '../../src/pipeline/execute.js';
import { readFits } from '../../src/fits/index.js';
import { warpPlane, type Interp } from '../../src/register/resample.js';
import { REGISTER_CLAMP } from '../../src/register/register.js';
import { RUN_REGISTER_CATALOGUE } from '../../src/register/options.js';
import { helpText } from '../../src/util/options.js';
import { isDarkroomError } from '../../src/util/errors.js';
import { useTempDir } from '../helpers/env.js';
import { simulatedNight } from '../helpers/night.js';

const cliRun = (argv: string[]): ReturnType<typeof runOptionsFrom> => {
  const rn = buildProgram().commands.find((x) => x.name() === 'run')!;
  rn.parseOptions(argv);
  return runOptionsFrom({ ...rn.opts(), debayer: 'bilinear', pedestal: '0', register: true });
};

test('--interp: one definition for run, its help and the API; only a non-default kernel is recorded', () => {
  const d = RUN_REGISTER_CATALOGUE.find((x) => x.key === 'interp')!;
  assert.deepEqual(d.values, ['lanczos3', 'bicubic', 'bilinear', 'nearest']);
  assert.equal(d.default, 'lanczos3');
  const run = buildProgram().commands.find((x) => x.name() === 'run')!;
  const o = run.options.find((x) => x.long === '--interp')!;
  assert.equal(o.description, helpText(d));
  assert.match(o.description, /lanczos3\|bicubic\|bilinear\|nearest.*default: lanczos3/);
  assert.equal(cliRun([]).interp, undefined);
  assert.equal(cliRun(['--interp', 'lanczos3']).interp, undefined);
  assert.equal(cliRun(['--interp', 'bilinear']).interp, 'bilinear');
  assert.throws(() => cliRun(['--interp', 'spline']), (e: unknown) => isDarkroomError(e) && /^--interp: unknown value 'spline'/.test(e.message));
  const api = (options: Record<string, unknown>) => runOptionsOf(processingSchemas.plan.parse({ night: 'n', options }).options);
  assert.equal(api({ interp: 'nearest' }).interp, 'nearest');
  assert.equal(api({}).interp, undefined);
  assert.equal(api({ interp: 'lanczos3' }).interp, undefined);
  assert.ok(!processingSchemas.plan.safeParse({ night: 'n', options: { interp: 'spline' } }).success);
});

test('run --interp bilinear: the plan records it and the register step resamples with it', async (t) => {
  const dir = useTempDir(t);
  const night = join(dir, 'night');
  simulatedNight(night, { width: 96, height: 72, lights: 4, darks: 3, bias: 3, flats: 3, dither: 3, lightExposure: 60, seed: 31, starCount: 30, object: 'M42', filter: 'L' }, join(dir, 'truth'));
  const stacks: Float32Array[] = [];
  for (const interp of ['lanczos3', 'bilinear'] as Interp[]) {
    const out = join(dir, interp);
    const plan = buildPlan(night, out, { ...DEFAULT_OPTIONS, keepIntermediates: true, solve: false, ...(interp === 'lanczos3' ? {} : { interp }) });
    const reg = plan.steps.find((s): s is RegisterStep => s.kind === 'register')!;
    if (interp === 'lanczos3') assert.ok(!('interp' in reg.params), 'a default plan records no kernel');
    else {
      assert.equal(reg.params.interp, interp);
      assert.match(reg.reason, /resampled bilinear/);
    }
    const report = await executePlan(plan, { workers: 1 });
    assert.equal(report.stacks.length, 1);
    stacks.push(readFits(join(out, report.stacks[0]!.path)).data[0]!);
    // every registered frame that moved: its calibrated frame warped with this kernel (and not with the other)
    const regDir = join(out, 'registered', report.stacks[0]!.path.replace(/^stacks\/|\.fits$/g, ''));
    let moved = 0;
    for (const f of readdirSync(regDir).filter((x) => x.endsWith('_r.fits'))) {
      const r = readFits(join(regDir, f));
      assert.equal(r.header.get('REGINTP'), interp);
      const H = Float64Array.from({ length: 9 }, (_, k) => Number(r.header.get(`REGH${Math.floor(k / 3) + 1}${(k % 3) + 1}`)));
      if (Math.abs(H[2]!) + Math.abs(H[5]!) < 0.05) continue;
      moved++;
      const calName = reg.inputs.find((x) => x.endsWith(`/${f.replace(/_r\.fits$/, '.fits')}`))!;
      const cal = readFits(join(out, calName));
      const maxDiff = (k: Interp): number => {
        const w = warpPlane(cal.data[0]!, cal.width, cal.height, H as never, r.width, r.height, k, REGISTER_CLAMP);
        let m = 0;
        for (let i = 0; i < w.length; i++) if (Number.isFinite(w[i]) && Number.isFinite(r.data[0]![i])) m = Math.max(m, Math.abs(w[i]! - r.data[0]![i]!));
        return m;
      };
      assert.ok(maxDiff(interp) < 0.01, `${f}: ${interp} warp ${maxDiff(interp)}`);
      assert.ok(maxDiff(interp === 'bilinear' ? 'lanczos3' : 'bilinear') > 1, `${f}: the other kernel differs`);
    }
    assert.ok(moved >= 2, `frames moved: ${moved}`);
  }
  let diff = 0;
  for (let i = 0; i < stacks[0]!.length; i++) if (stacks[0]![i] !== stacks[1]![i]) diff++;
  assert.ok(diff > stacks[0]!.length / 2, `the stacks differ at ${diff} pixels`);
});
