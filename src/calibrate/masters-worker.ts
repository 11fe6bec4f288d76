/**
 * Piscina worker of buildMaster (masters.ts): one frame per task, read, prepared (overscan, minus
 * the master flat-dark or bias) and written as float32 in this thread; the same function the
 * builder runs itself with one thread, so the temp frames do not depend on the thread count.
 * `calibratedStatsTask`: one flat's first-pass statistics, the flat read minus the master
 * (master-frames.ts); the engine's band task too, so that one pool serves a master flat's integration.
 */
import { asTask } from '../util/frame-pool.js';
import { prepJob } from './masters.js';
import { calibratedStatsJob } from './master-frames.js';

export const flatPrepTask = asTask(prepJob);
export const calibratedStatsTask = asTask(calibratedStatsJob);
export { runBandTask } from '../integrate/worker.js';
// piscina loads the module at thread start through its default export (see register/frame-worker.ts)
export default flatPrepTask;
