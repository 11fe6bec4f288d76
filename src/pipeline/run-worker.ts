/**
 * The worker module of a run's shared thread pool (run-pool.ts): the named tasks of every driver's
 * worker module in one module, so that a run starts its threads and loads the code once, and the
 * masters, calibration, registration and integration all run on those threads.
 */
export { calibrateTask } from '../calibrate/files-worker.js';
export { runBandTask, runStatsTask } from '../integrate/worker.js';
export { detectTask, matchTask, writeTask } from '../register/frame-worker.js';
export { calibratedStatsTask, flatPrepTask } from '../calibrate/masters-worker.js';

// piscina loads the module at thread start through its default export (see register/frame-worker.ts)
import { runBandTask } from '../integrate/worker.js';
export default runBandTask;
