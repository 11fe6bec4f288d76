/**
 * The `darkroom` command line. Each command lives in its own file and registers itself here (and
 * in start.ts COMMAND_MODULES, the entry that loads only the command asked for).
 * User errors (DarkroomError) print one line on stderr and exit with code 2.
 */
import type { Command } from 'commander';
import { baseProgram, runProgram } from './start.js';
import { registerDebayer } from './debayer.js';
import { registerBin } from './bin.js';
import { registerChannels } from './channels.js';
import { registerCombineRgb } from './combine-rgb.js';
import { registerConvert } from './convert.js';
import { registerStack } from './stack.js';
import { registerInfo } from './info.js';
import { registerAnalyze } from './analyze.js';
import { registerStars } from './stars.js';
import { registerRegister } from './register.js';
import { registerStretch } from './stretch.js';
import { registerRunNight } from './run-night.js';
import { registerDemo } from './demo.js';
import { registerSimulate } from './simulate.js';
import { registerMaster } from './master.js';
import { registerCalibrate } from './calibrate.js';
import { registerCamera } from './camera.js';
import { registerAlpacaSim } from './alpaca-sim.js';
import { registerSequence } from './sequence.js';
import { registerFocus } from './focus.js';
import { registerGuide } from './guide.js';
import { registerWorker } from './worker.js';
import { registerStatus } from './status.js';
import { registerServe } from './serve.js';
import { registerSolve } from './solve.js';
import { registerCenter } from './center.js';
import { registerFlats } from './flats.js';

export function buildProgram(): Command {
  const program = baseProgram();
  registerInfo(program);
  registerAnalyze(program);
  registerStars(program);
  registerRegister(program);
  registerStack(program);
  registerStretch(program);
  registerRunNight(program);
  registerDemo(program);
  registerSimulate(program);
  registerMaster(program);
  registerCalibrate(program);
  registerCamera(program);
  registerAlpacaSim(program);
  registerSequence(program);
  registerFocus(program);
  registerGuide(program);
  registerWorker(program);
  registerStatus(program);
  registerServe(program);
  registerDebayer(program);
  registerBin(program);
  registerChannels(program);
  registerCombineRgb(program);
  registerConvert(program);
  registerSolve(program);
  registerCenter(program);
  registerFlats(program);
  return program;
}

/** The whole program run on `argv` (the entry, start.ts, loads only the command asked for). */
export async function main(argv: string[]): Promise<number> {
  return runProgram(buildProgram(), argv);
}
