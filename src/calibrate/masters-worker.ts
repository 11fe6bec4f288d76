/**
 * Piscina worker of buildMaster (masters.ts): one frame per task, read, prepared (overscan, minus
 * the master flat-dark or bias) and written as float32 in this thread; the same function the
 * builder runs itself with one thread, so the temp frames do not depend on the thread count.
 */
import { asTask } from '../util/frame-pool.js';
import { prepJob } from './masters.js';

export const flatPrepTask = asTask(prepJob);
// piscina loads the module at thread start through its default export (see register/frame-worker.ts)
export default flatPrepTask;
