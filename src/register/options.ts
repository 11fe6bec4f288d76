/**
 * The registration options of `darkroom run` and the API's plan/run, defined once (flag, values,
 * default, help): the commander options of `run`, the zod schema of the API and the plan's register
 * steps are made from this catalogue. Only values that differ from the default reach the plan, so a
 * default run keeps its step hashes.
 */
import { defineCatalogue, nonDefault, type Catalogue, type CatalogueSpecs } from '../util/options.js';
import type { Interp } from './resample.js';
import { INTERPS } from './files.js';

export interface RunRegisterOptions {
  interp: Interp;
}

const SPECS: CatalogueSpecs<RunRegisterOptions> = {
  interp: {
    flag: '--interp <kernel>', type: 'enum', values: INTERPS, default: 'lanczos3', help: 'resampling kernel of the registration',
    doc: 'The kernel each light is resampled with onto the reference: Lanczos-3 keeps the noise of a pixel and the sharpness of the stars; bilinear averages neighbours (Siril 1.0\'s register), which lowers block noise at the price of the stars\' HFD.',
  },
};

/** The registration catalogue of a run, in its help order. */
export const RUN_REGISTER_CATALOGUE: Catalogue = defineCatalogue<RunRegisterOptions>(SPECS);

/** Typed registration values (parseCli or the API schema) as a run's options: only those that differ from their defaults. */
export function runRegisterOptions(values: Record<string, unknown>): Partial<RunRegisterOptions> {
  return nonDefault(RUN_REGISTER_CATALOGUE, values) as Partial<RunRegisterOptions>;
}
