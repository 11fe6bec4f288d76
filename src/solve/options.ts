/** Plate-solving options: one definition (flag, type, default, range, help) for `darkroom solve`, centering and the API. */
import { defineCatalogue, type Catalogue, type CatalogueSpecs } from '../util/options.js';

export interface SolveOptions {
  /** RA and Dec hints (degrees); default: the header's RA/DEC or OBJCTRA/OBJCTDEC. */
  ra?: number;
  dec?: number;
  /** Search radius around the position hint, degrees. */
  radius: number;
  /** Focal length (mm) and pixel size including binning (um); default: FOCALLEN and XPIXSZ. */
  focalLength?: number;
  pixelSize?: number;
  /** Relative half-width of the scale range searched around the scale hint. */
  scaleTolerance: number;
  /** Ignore every hint (position and scale). */
  blind: boolean;
  /** Give up after this many seconds of CPU time (solve-field --cpulimit). */
  timeout: number;
  /** Downsample factor before star detection; default 2 above 2000 px, else 1. */
  downsample?: number;
  /** A folder of astrometry.net index files; default: the folders of /etc/astrometry.cfg. */
  indexDir?: string;
  /** The solve-field program. */
  engine: string;
  /** Write the solution (a TAN WCS) into the file. */
  write: boolean;
}

const SPECS: CatalogueSpecs<SolveOptions> = {
  ra: { flag: '--ra <deg>', type: 'number', min: 0, max: 360, help: 'RA hint in degrees', defaultText: 'RA/DEC or OBJCTRA/OBJCTDEC of the header', doc: 'Where to search first: the RA of the field centre in degrees (with --dec).' },
  dec: { flag: '--dec <deg>', type: 'number', min: -90, max: 90, help: 'Dec hint in degrees', defaultText: 'the header', doc: 'Where to search first: the Dec of the field centre in degrees (with --ra).' },
  radius: { flag: '--radius <deg>', type: 'number', default: 5, min: 0, max: 180, exclusive: true, help: 'search radius around the position hint, degrees', doc: 'Only solutions within this distance of the position hint are searched for.' },
  focalLength: { flag: '--focal-length <mm>', type: 'number', min: 0, exclusive: true, help: 'focal length, mm', defaultText: 'FOCALLEN', doc: 'With the pixel size, gives the scale hint: 206.265 x pixel size (um) / focal length (mm) arcsec per pixel.' },
  pixelSize: { flag: '--pixel-size <um>', type: 'number', min: 0, exclusive: true, help: 'pixel size including binning, micrometres', defaultText: 'XPIXSZ', doc: 'The (binned) pixel size; XPIXSZ as MaxIm, N.I.N.A. and Darkroom write it includes the binning.' },
  scaleTolerance: { flag: '--scale-tolerance <f>', type: 'number', default: 0.1, min: 0, max: 1, exclusive: true, help: 'relative width of the scale range searched', doc: 'The scale range searched is hint x (1 - f) to hint x (1 + f) (times XBINNING more, in case XPIXSZ excludes the binning).' },
  blind: { flag: '--blind', type: 'boolean', default: false, help: 'ignore the position and scale hints', doc: 'Solve blind: the whole sky at any scale the index files cover (slower).' },
  timeout: { flag: '--timeout <s>', type: 'number', default: 60, min: 1, max: 3600, help: 'give up after this many seconds', doc: 'CPU time limit of solve-field; "no solution" after it.' },
  downsample: { flag: '--downsample <n>', type: 'integer', min: 1, max: 16, help: 'downsample before detecting stars', defaultText: '2 above 2000 px wide, else 1', doc: 'Downsampling speeds up star detection on large frames.' },
  indexDir: { flag: '--index-dir <dir>', type: 'string', help: 'folder of astrometry.net index files', defaultText: 'the add_path folders of /etc/astrometry.cfg', doc: 'Where the index files are (Debian: /usr/share/astrometry, from astrometry-data-tycho2-*).' },
  engine: { flag: '--engine <path>', type: 'string', default: 'solve-field', help: 'the solve-field program', doc: "astrometry.net's solve-field (Debian package astrometry.net)." },
  write: { flag: '--write', type: 'boolean', default: false, help: 'write the solution (TAN WCS) into the file', doc: 'Write CTYPE/CRVAL/CRPIX/CD into the FITS header (temp file + rename; the pixels are copied byte for byte). Without it, files are only read.' },
};

export const SOLVE_CATALOGUE: Catalogue = defineCatalogue<SolveOptions>(SPECS);

type Defaulted = 'radius' | 'scaleTolerance' | 'blind' | 'timeout' | 'engine' | 'write';

/** The catalogue's defaults (the one definition of each). */
export const SOLVE_DEFAULTS = Object.fromEntries(SOLVE_CATALOGUE.filter((d) => d.default !== undefined).map((d) => [d.key, d.default])) as Pick<SolveOptions, Defaulted>;
