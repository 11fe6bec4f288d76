/**
 * The CLI's entry (bin/darkroom.js, src/cli/run.ts): loads only the module of the command asked
 * for (each command's module brings the code its action needs), so a command does not pay for
 * loading every other command's code. `darkroom --version` loads none; help, an unknown command or
 * no command build the whole program (main.ts buildProgram). Same exit codes and messages.
 */
import { Command, CommanderError } from 'commander';
import { VERSION } from '../version.js';
import { isDarkroomError } from '../util/errors.js';

type Register = (program: Command) => void;

/** Each command's module, by command name (test/cli/start.test.ts checks this against buildProgram). */
export const COMMAND_MODULES: Readonly<Record<string, () => Promise<Register>>> = {
  info: async () => (await import('./info.js')).registerInfo,
  analyze: async () => (await import('./analyze.js')).registerAnalyze,
  stars: async () => (await import('./stars.js')).registerStars,
  register: async () => (await import('./register.js')).registerRegister,
  stack: async () => (await import('./stack.js')).registerStack,
  stretch: async () => (await import('./stretch.js')).registerStretch,
  run: async () => (await import('./run-night.js')).registerRunNight,
  demo: async () => (await import('./demo.js')).registerDemo,
  simulate: async () => (await import('./simulate.js')).registerSimulate,
  master: async () => (await import('./master.js')).registerMaster,
  calibrate: async () => (await import('./calibrate.js')).registerCalibrate,
  camera: async () => (await import('./camera.js')).registerCamera,
  'alpaca-sim': async () => (await import('./alpaca-sim.js')).registerAlpacaSim,
  sequence: async () => (await import('./sequence.js')).registerSequence,
  focus: async () => (await import('./focus.js')).registerFocus,
  guide: async () => (await import('./guide.js')).registerGuide,
  worker: async () => (await import('./worker.js')).registerWorker,
  status: async () => (await import('./status.js')).registerStatus,
  serve: async () => (await import('./serve.js')).registerServe,
  debayer: async () => (await import('./debayer.js')).registerDebayer,
  bin: async () => (await import('./bin.js')).registerBin,
  channels: async () => (await import('./channels.js')).registerChannels,
  'combine-rgb': async () => (await import('./combine-rgb.js')).registerCombineRgb,
  convert: async () => (await import('./convert.js')).registerConvert,
  solve: async () => (await import('./solve.js')).registerSolve,
  center: async () => (await import('./center.js')).registerCenter,
  flats: async () => (await import('./flats.js')).registerFlats,
};

/** The program without its commands: name, description, version, error handling. */
export function baseProgram(): Command {
  return new Command()
    .name('darkroom')
    .description('Astronomical imaging: FITS, calibration, registration and integration of CCD/CMOS frames')
    .version(VERSION)
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
}

/** Parse and run; user errors (DarkroomError) print one line and give 2, internal errors 1. */
export async function runProgram(program: Command, argv: string[]): Promise<number> {
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      // commander already printed its message (or help/version)
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return 0;
      return 2;
    }
    if (isDarkroomError(e)) {
      process.stderr.write(`darkroom: ${e.oneLine()}\n`);
      return 2;
    }
    const err = e as Error;
    process.stderr.write(`darkroom: internal error: ${err?.message ?? String(e)}\n`);
    if (process.env.DARKROOM_DEBUG) process.stderr.write(`${err?.stack}\n`);
    return 1;
  }
}

/** Run the CLI on `argv` (process.argv): the command's module only, or the whole program. */
export async function main(argv: string[]): Promise<number> {
  const first = argv[2];
  if (first === '--version' || first === '-V') return runProgram(baseProgram(), argv);
  const load = first !== undefined && Object.hasOwn(COMMAND_MODULES, first) ? COMMAND_MODULES[first] : undefined;
  if (!load) return (await import('./main.js')).main(argv);
  const program = baseProgram();
  (await load())(program);
  return runProgram(program, argv);
}
