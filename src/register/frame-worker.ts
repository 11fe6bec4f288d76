/**
 * Piscina worker of registerFiles (files.ts): one frame per task (named exports), so that frames
 * are detected, matched and resampled in parallel, each thread holding one frame; the functions
 * are the ones the driver runs itself with one thread, so results do not depend on the thread count.
 */
import { asTask } from '../util/frame-pool.js';
import { detectFrame, matchFrame, writeRegistered } from './files.js';

export const detectTask = asTask(detectFrame);
export const matchTask = asTask(matchFrame);
export const writeTask = asTask(writeRegistered);

// piscina loads the module at thread start through its default export (from source, tsx's require
// hook serves it; the ESM loader in a worker has no TypeScript hook): keep one.
export default detectTask;
