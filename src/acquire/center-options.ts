/** Options of `darkroom center` (slew, expose, solve, sync, re-slew): one definition of flag, default and range. */
import { defineCatalogue, type Catalogue, type CatalogueSpecs } from '../util/options.js';
import { catalogFields } from '../devices/sim/catalog.js';
import { CENTER_TOLERANCE } from './center.js';

export interface CenterCliOptions {
  /** The target, J2000 degrees, or a named target of the simulator's catalogue. */
  ra?: number;
  dec?: number;
  target?: { name: string; ra: number; dec: number };
  tolerance: number;
  maxIterations: number;
  exposure: number;
  binning: number;
  focalLength?: number;
  /** The simulated mount's pointing model: its size (arcmin) and seed. */
  pointingError: number;
  seed: number;
}

/** A target of the simulator's catalogue by name ('M31', 'ngc 7000'). */
export function catalogueTarget(text: string): { name: string; ra: number; dec: number } {
  const key = text.replace(/\s+/g, '').toUpperCase();
  const f = catalogFields().find((c) => c.name.toUpperCase() === key);
  if (!f) throw new Error(`unknown target '${text}' (the simulator's catalogue has ${catalogFields().map((c) => c.name).join(', ')})`);
  return { name: f.name, ra: f.ra, dec: f.dec };
}

const SPECS: CatalogueSpecs<CenterCliOptions> = {
  ra: { flag: '--ra <deg>', type: 'number', min: 0, max: 360, help: 'target RA, J2000 degrees (with --dec)', defaultText: '--target', doc: 'Right ascension of the target.' },
  dec: { flag: '--dec <deg>', type: 'number', min: -90, max: 90, help: 'target Dec, J2000 degrees (with --ra)', defaultText: '--target', doc: 'Declination of the target.' },
  target: {
    flag: '--target <name>', type: 'string', values: catalogFields().map((c) => c.name), help: "a target of the simulator's star catalogue", defaultText: '--ra/--dec',
    doc: "The centre of one of the simulator catalogue's fields (M31, M45, M42, M51, M13, M27, NGC7000).", parse: catalogueTarget, format: (t) => t.name,
  },
  tolerance: { flag: '--tolerance <arcsec>', type: 'number', default: CENTER_TOLERANCE, min: 0, exclusive: true, help: 'centred within this many arcsec', doc: 'Centering ends when the solved centre is this close to the target.' },
  maxIterations: { flag: '--max-iterations <n>', type: 'integer', default: 5, min: 1, max: 20, help: 'most centering frames', doc: 'Give up (exit 2) after this many frames.' },
  exposure: { flag: '--exposure <s>', type: 'number', default: 5, min: 0, exclusive: true, help: 'exposure of each centering frame, s', doc: 'Long enough to show stars for the solver.' },
  binning: { flag: '--binning <n>', type: 'integer', default: 2, min: 1, max: 4, help: 'binning of the centering frames', doc: 'Binned frames download and solve faster.' },
  focalLength: { flag: '--focal-length <mm>', type: 'number', min: 0, exclusive: true, help: 'focal length, mm (the scale hint)', defaultText: '530, the simulator\'s telescope', doc: 'With the pixel size, the scale hint of the solves; on the simulator also the rendered scale.' },
  pointingError: { flag: '--pointing-error <arcmin>', type: 'number', default: 3, min: 0, max: 600, help: "simulator: size of the mount's pointing model error, arcmin", doc: 'How far off the simulated goto lands (a seeded pointing model).' },
  seed: { flag: '--seed <n>', type: 'integer', default: 1, min: 0, help: "simulator: seed of the mount's pointing model", doc: 'Another seed, another pointing error of the same size.' },
};

export const CENTER_CATALOGUE: Catalogue = defineCatalogue<CenterCliOptions>(SPECS);
