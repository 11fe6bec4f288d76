/**
 * Piscina worker of calibrateFiles (files.ts): one light per task, read, calibrated and written in
 * this thread with the masters it read once from their files; the same function the driver runs
 * itself with one thread, so outputs do not depend on the thread count.
 */
import { asTask } from '../util/frame-pool.js';
import { calibrateJob } from './files.js';

export const calibrateTask = asTask(calibrateJob);
// piscina loads the module at thread start through its default export (see register/frame-worker.ts)
export default calibrateTask;
