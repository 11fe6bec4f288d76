/**
 * `darkroom run NIGHT --out OUT`: the one-shot pipeline. Scans and classifies the night, plans
 * (masters, calibration, debayer, registration, integration), prints the plan with --dry-run,
 * else executes it.
 */
import type { Command } from 'commander';
import { resolve } from 'node:path';
import { buildPlan, DEFAULT_OPTIONS, type RunOptions } from '../pipeline/plan.js';
import { formatPlan } from '../pipeline/format.js';
import { DarkroomError } from '../util/errors.js';

interface CliOpts {
  out?: string;
  reject: string;
  normalize: string;
  weights: string;
  drizzle?: string;
  debayer: string;
  cosmetic?: boolean;
  pedestal: string;
  reference?: string;
  register: boolean;
  keepIntermediates?: boolean;
  strict?: boolean;
  force?: boolean;
  library?: string;
  dryRun?: boolean;
  json?: boolean;
  executor?: string;
}

const REJECT = ['none', 'sigma', 'winsorized', 'linear-fit', 'gesd', 'percentile', 'minmax', 'mad'];
const NORMALIZE = ['none', 'additive', 'multiplicative', 'additive-scaling', 'multiplicative-scaling'];
const WEIGHTS = ['none', 'noise', 'exposure'];

export function runOptionsFrom(o: CliOpts): RunOptions {
  const pick = (name: string, v: string, allowed: string[]): string => {
    if (!allowed.includes(v)) throw new DarkroomError('BAD_ARGUMENT', `--${name} must be one of ${allowed.join(', ')}, got '${v}'`);
    return v;
  };
  const pedestal = Number(o.pedestal);
  if (!Number.isFinite(pedestal) || pedestal < 0) throw new DarkroomError('BAD_ARGUMENT', `--pedestal must be a number >= 0, got '${o.pedestal}'`);
  let drizzle: number | undefined;
  if (o.drizzle !== undefined) {
    drizzle = Number(o.drizzle);
    if (!(drizzle >= 1 && drizzle <= 3)) throw new DarkroomError('BAD_ARGUMENT', `--drizzle must be a scale from 1 to 3, got '${o.drizzle}'`);
  }
  return {
    reject: pick('reject', o.reject, REJECT),
    normalize: pick('normalize', o.normalize, NORMALIZE),
    weights: pick('weights', o.weights, WEIGHTS),
    drizzle,
    debayer: o.debayer,
    cosmetic: !!o.cosmetic,
    pedestal,
    reference: o.reference ? resolve(o.reference) : undefined,
    register: o.register,
    keepIntermediates: !!o.keepIntermediates,
    strict: !!o.strict,
    force: !!o.force,
    library: o.library ? resolve(o.library) : undefined,
  };
}

export function registerRunNight(program: Command): void {
  program
    .command('run')
    .description('one-shot pipeline: classify a night, build masters, calibrate, debayer, register, integrate')
    .argument('<night>', 'folder of the night (searched recursively for .fit/.fits/.fts)')
    .option('--out <dir>', 'output folder (masters/, stacks/, previews/, report.json, report.html)')
    .option('--reject <method>', `pixel rejection: ${REJECT.join(', ')}`, DEFAULT_OPTIONS.reject)
    .option('--normalize <method>', `normalization: ${NORMALIZE.join(', ')}`, DEFAULT_OPTIONS.normalize)
    .option('--weights <method>', `frame weights: ${WEIGHTS.join(', ')}`, DEFAULT_OPTIONS.weights)
    .option('--drizzle <scale>', 'drizzle integration at this output scale (1-3)')
    .option('--debayer <method>', 'debayer method for one-shot-colour frames', DEFAULT_OPTIONS.debayer)
    .option('--cosmetic', 'cosmetic correction of hot/cold pixels after calibration')
    .option('--pedestal <adu>', 'output pedestal added to calibrated lights', String(DEFAULT_OPTIONS.pedestal))
    .option('--reference <file>', 'registration reference frame (default: the frame with most stars)')
    .option('--no-register', 'integrate without registration (frames already aligned)')
    .option('--keep-intermediates', 'keep calibrated/debayered/registered frames')
    .option('--strict', 'missing calibration is an error, not a warning')
    .option('--force', 'redo every step, even those whose inputs and parameters are unchanged')
    .option('--library <dir>', 'master library: reuse masters by group key, store new ones')
    .option('--dry-run', 'print the plan and stop')
    .option('--json', 'print the plan (with --dry-run) or the report as JSON')
    .option('--executor <where>', "where steps run: 'local' (default) or redis://HOST:PORT (workers: darkroom worker --redis URL)")
    .action(async (night: string, o: CliOpts) => {
      const options = runOptionsFrom(o);
      if (!o.out && !o.dryRun) throw new DarkroomError('BAD_ARGUMENT', '--out DIR is required (or use --dry-run)');
      if (o.executor) (await import('../pipeline/executors/index.js')).checkExecutorSpec(o.executor);
      const out = resolve(o.out ?? 'darkroom-out');
      const t0 = Date.now();
      let last = t0;
      const onFile = o.dryRun
        ? undefined
        : (done: number, total: number): void => {
            // Plain lines for long scans: every 10 s and at the end.
            if (done === total || Date.now() - last > 10_000) {
              last = Date.now();
              process.stderr.write(`scan: ${done}/${total} files (${((Date.now() - t0) / 1000).toFixed(1)} s)\n`);
            }
          };
      const plan = buildPlan(night, out, options, { saveCache: !o.dryRun, onFile });
      if (o.dryRun) {
        process.stdout.write(o.json ? `${JSON.stringify(plan, null, 2)}\n` : formatPlan(plan));
        return;
      }
      const { executePlan } = await import('../pipeline/execute.js');
      const { executorFromSpec, BullmqExecutor } = await import('../pipeline/executors/index.js');
      const executor = executorFromSpec(o.executor, { log: (line) => process.stderr.write(`${line}\n`) });
      let report;
      try {
      if (process.stdout.isTTY && !o.json) {
        // A progress bar on a terminal; plain log lines otherwise (pipes, files, CI).
        const { default: cliProgress } = await import('cli-progress');
        const bar = new cliProgress.SingleBar({ format: 'darkroom run [{bar}] {value}/{total} {step}', stream: process.stderr, hideCursor: true }, cliProgress.Presets.shades_classic);
        bar.start(plan.steps.length - 1, 0, { step: '' });
        try {
          report = await executePlan(plan, { executor, progress: (done, _total, step) => bar.update(done, { step }) });
        } finally {
          bar.stop();
        }
      } else {
        report = await executePlan(plan, { executor, log: (line) => process.stderr.write(`${line}\n`) });
      }
        if (executor instanceof BullmqExecutor) await executor.complete(true);
      } catch (e) {
        if (executor instanceof BullmqExecutor) await executor.complete(false).catch(() => undefined);
        throw e;
      } finally {
        await executor.close();
      }
      if (o.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      else {
        process.stdout.write(`${report.stacks.length} stack(s) in ${out}\n`);
        for (const s of report.stacks) process.stdout.write(`  ${s.path}: ${s.object} ${s.filter}, ${s.frames} frame(s)\n`);
        for (const w of report.warnings) process.stdout.write(`  ! ${w}\n`);
      }
    });
}
