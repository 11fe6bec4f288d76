/**
 * `darkroom run NIGHT --out OUT`: the one-shot pipeline. Scans and classifies the night, plans
 * (masters, calibration, debayer, registration, integration), prints the plan with --dry-run,
 * else executes it.
 */
import { checkDryRunPaths } from '../pipeline/safety.js';
import type { Command } from 'commander';
import { resolve } from 'node:path';
import { join } from 'node:path';
import { buildPlan, DEFAULT_OPTIONS, type Plan, type RunOptions } from '../pipeline/plan.js';
import { formatPlan } from '../pipeline/format.js';
import { OptionError } from '../pipeline/option-error.js';
import { runEventLine, type RunEvent } from '../pipeline/events.js';
import type { RunReport } from '../pipeline/report.js';
import type { Executor } from '../pipeline/scheduler.js';
import { DarkroomError } from '../util/errors.js';
import { warningLine } from '../util/warnings.js';
import { addOptions, parseCli } from '../util/options.js';
import { INTEGRATE_CATALOGUE, splitRunIntegration } from '../integrate/options.js';
import { RUN_REGISTER_CATALOGUE, runRegisterOptions } from '../register/options.js';

interface CliOpts extends Record<string, unknown> {
  out?: string;
  drizzle?: string;
  debayer: string;
  cosmetic?: boolean;
  pedestal: string;
  reference?: string;
  register: boolean;
  solve?: boolean;
  keepIntermediates?: boolean;
  strict?: boolean;
  force?: boolean;
  library?: string;
  exclude?: string[];
  dryRun?: boolean;
  json?: boolean;
  executor?: string;
}

export function runOptionsFrom(o: CliOpts): RunOptions {
  // the stacks' integration options: every option of `darkroom stack`, with the same defaults
  const stacking = splitRunIntegration(parseCli(INTEGRATE_CATALOGUE, o));
  const registration = runRegisterOptions(parseCli(RUN_REGISTER_CATALOGUE, o));
  const pedestal = Number(o.pedestal);
  if (!Number.isFinite(pedestal) || pedestal < 0) throw new DarkroomError('BAD_ARGUMENT', `--pedestal must be a number >= 0, got '${o.pedestal}'`);
  let drizzle: number | undefined;
  if (o.drizzle !== undefined) {
    drizzle = Number(o.drizzle);
    if (!(drizzle >= 1 && drizzle <= 3)) throw new DarkroomError('BAD_ARGUMENT', `--drizzle must be a scale from 1 to 3, got '${o.drizzle}'`);
  }
  return {
    ...DEFAULT_OPTIONS,
    ...stacking,
    ...registration,
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
    ...(o.exclude?.length ? { exclude: o.exclude } : {}),
    ...(o.solve === false ? { solve: false } : {}),
  };
}

export function registerRunNight(program: Command): void {
  const cmd = program
    .command('run')
    .description('one-shot pipeline: classify a night, build masters, calibrate, debayer, register, integrate')
    .argument('<night>', 'folder of the night (searched recursively for .fit/.fits/.fts)')
    .option('--out <dir>', 'output folder (masters/, stacks/, previews/, report.json, report.html)');
  // the integration options of the stacks: the catalogue of `darkroom stack` (same flags, ranges, help, defaults)
  addOptions(addOptions(cmd, INTEGRATE_CATALOGUE), RUN_REGISTER_CATALOGUE)
    .option('--drizzle <scale>', 'drizzle integration at this output scale (1-3)')
    .option('--debayer <method>', 'debayer method for one-shot-colour frames', DEFAULT_OPTIONS.debayer)
    .option('--cosmetic', 'cosmetic correction of hot/cold pixels after calibration')
    .option('--pedestal <adu>', 'output pedestal added to calibrated lights', String(DEFAULT_OPTIONS.pedestal))
    .option('--reference <file>', 'registration reference frame (default: the frame with most stars)')
    .option('--no-register', 'integrate without registration (frames already aligned)')
    .option('--no-solve', "do not plate solve the stacks (default: solve each with solve-field from its header's hints and write its WCS)")
    .option('--keep-intermediates', 'keep calibrated/debayered/registered frames')
    .option('--strict', 'missing calibration is an error, not a warning')
    .option('--force', 'redo every step, even those whose inputs and parameters are unchanged')
    .option('--library <dir>', 'master library: reuse masters by group key, store new ones')
    .option('--exclude <glob>', "leave matching files and folders out of the scan (as in .gitignore: 'truth/', '**/*_bad.fits'; repeatable; added to NIGHT/.darkroomignore)", (v: string, prev: string[] = []) => [...prev, v])
    .option('--dry-run', 'print the plan and stop')
    .option('--json', 'print the plan (with --dry-run) or the report as JSON')
    .option('--executor <where>', "where steps run: 'local' (default) or redis://HOST:PORT (workers: darkroom worker --redis URL)")
    .action(async (night: string, o: CliOpts) => {
      try {
        await runNight(night, o);
      } catch (e) {
        throw cliError(e);
      }
    });
}

/** The CLI's spelling of an option error: the pipeline names options in words, the CLI by flag. */
function cliError(e: unknown): unknown {
  return e instanceof OptionError ? new DarkroomError(e.code, e.phrase(`--${e.option}`), e.file) : e;
}

/** Plain scan progress lines for long scans: every 10 s and at the end. */
function scanProgress(): (done: number, total: number) => void {
  const t0 = Date.now();
  let last = t0;
  return (done, total) => {
    if (done === total || Date.now() - last > 10_000) {
      last = Date.now();
      process.stderr.write(`scan: ${done}/${total} files (${((Date.now() - t0) / 1000).toFixed(1)} s)\n`);
    }
  };
}

async function runNight(night: string, o: CliOpts): Promise<void> {
  const options = runOptionsFrom(o);
  if (!o.out && !o.dryRun) throw new DarkroomError('BAD_ARGUMENT', '--out DIR is required (or use --dry-run)');
  if (o.executor) (await import('../pipeline/executors/index.js')).checkExecutorSpec(o.executor);
  const out = resolve(o.out ?? 'darkroom-out');
  // a dry run into the night itself is refused as the run is (it would scan nothing: OUT is never scanned);
  // OUT inside the night is fine for a dry run, which writes nothing and skips OUT
  if (o.dryRun && o.out) checkDryRunPaths(night, out);
  const plan = buildPlan(night, out, options, { saveCache: !o.dryRun, onFile: o.dryRun ? undefined : scanProgress() });
  if (o.dryRun) {
    process.stdout.write(o.json ? `${JSON.stringify(plan, null, 2)}\n` : formatPlan(plan));
    return;
  }
  const shown = new Set<string>();
  const report = await execute(plan, o, shown);
  if (o.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  else {
    process.stdout.write(`${report.stacks.length} stack(s) in ${out}\n`);
    for (const s of report.stacks) process.stdout.write(`  ${s.path}: ${s.object} ${s.filter}, ${s.frames} frame(s)\n`);
    // the warnings not printed yet (the steps' went to stderr as they were raised, unless a progress bar was drawn)
    for (const w of report.warnings) if (!shown.has(w)) process.stdout.write(`  ! ${w}\n`);
  }
}

/**
 * Progress of the steps: a bar on a terminal, plain lines otherwise (pipes, files, CI), with the
 * steps' warnings as `warning: ...` lines as they are raised (their lines go into `shown`).
 */
async function progressSink(plan: Plan, o: CliOpts, shown: Set<string>): Promise<{ onEvent: (e: RunEvent) => void; stop: () => void }> {
  if (!process.stdout.isTTY || o.json) {
    const onEvent = (e: RunEvent): void => {
      if (e.type === 'warning') shown.add(warningLine(e));
      process.stderr.write(`${runEventLine(e)}\n`);
    };
    return { onEvent, stop: () => undefined };
  }
  const { default: cliProgress } = await import('cli-progress');
  const bar = new cliProgress.SingleBar({ format: 'darkroom run [{bar}] {value}/{total} {step}', stream: process.stderr, hideCursor: true }, cliProgress.Presets.shades_classic);
  bar.start(plan.steps.filter((s) => s.kind !== 'report').length, 0, { step: '' });
  return { onEvent: (e) => (e.type === 'step-start' || e.type === 'warning' ? undefined : bar.update(e.index, { step: e.id })), stop: () => bar.stop() };
}

async function execute(plan: Plan, o: CliOpts, shown: Set<string>): Promise<RunReport> {
  const { executePlan } = await import('../pipeline/execute.js');
  const { executorFromSpec, BullmqExecutor } = await import('../pipeline/executors/index.js');
  const executor: Executor = executorFromSpec(o.executor, { log: (line) => process.stderr.write(`${line}\n`) });
  const progress = await progressSink(plan, o, shown);
  try {
    const report = await executePlan(plan, { executor, onEvent: progress.onEvent });
    progress.stop();
    process.stderr.write(`report: ${join(plan.out, 'report.json')} (${report.timing_s.total.toFixed(1)} s)\n`);
    if (executor instanceof BullmqExecutor) await executor.complete(true);
    return report;
  } catch (e) {
    progress.stop();
    if (executor instanceof BullmqExecutor) await executor.complete(false).catch(() => undefined);
    throw e;
  } finally {
    await executor.close();
  }
}
