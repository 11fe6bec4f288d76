/**
 * The star renderer used by the simulator and by the star/registration tests.
 *
 * Conventions (shared with src/stars/ measurements):
 * - Pixel (x, y) covers [x - 0.5, x + 0.5] x [y - 0.5, y + 0.5]; a star at (10, 20) is centred on that pixel.
 * - `flux` is the total signal of the star in the unit of the plane (ADU): the rendered pixels of a star
 *   that lies wholly inside the frame add up to `flux` (the PSF is truncated far in its wings, where it
 *   falls below ~1e-3 of the flux in all, and normalized numerically after truncation).
 * - `fwhm` is the full width at half maximum along the MAJOR axis in pixels; the minor axis is
 *   `fwhm * (1 - ellipticity)` (ellipticity = 1 - b/a, as SExtractor's ELLIPTICITY). `angle` is the
 *   direction of the major axis in DEGREES, counter-clockwise from +x towards +y. Defaults: ellipticity 0, angle 0.
 * - Moffat: I(r) = (1 + (r/alpha)^2)^-beta, alpha = fwhm / (2 sqrt(2^(1/beta) - 1)); beta default 2.5, must be > 1.
 * - Each pixel value is the PSF integrated over the pixel area: exactly (with erf) for round Gaussians,
 *   otherwise by n x n sub-sampling near the core (n chosen from the FWHM) and the pixel centre in the far wings.
 */
import { Rng } from '../../util/random.js';
import { skyToPixel, wcsFromPointing } from '../../solve/wcs.js';
import { catalogStars } from './catalog.js';

export interface SimStar {
  x: number;
  y: number;
  /** Total signal of the star (same unit as the plane). */
  flux: number;
}

export interface Psf {
  kind: 'gaussian' | 'moffat';
  /** FWHM in pixels along the major axis. */
  fwhm: number;
  /** Moffat beta (> 1), default 2.5. */
  beta?: number;
  /** 1 - minor/major, in [0, 1), default 0. */
  ellipticity?: number;
  /** Major-axis direction in degrees, counter-clockwise from +x, default 0. */
  angle?: number;
}

const FWHM_TO_SIGMA = 1 / (2 * Math.sqrt(2 * Math.LN2));

/** Moffat alpha for a FWHM and beta. */
export function moffatAlpha(fwhm: number, beta: number): number {
  return fwhm / (2 * Math.sqrt(Math.pow(2, 1 / beta) - 1));
}

/** erf with |error| < 1.2e-7 (Numerical Recipes erfc Chebyshev fit). */
export function erf(x: number): number {
  return 1 - erfc(x);
}

export function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}

function checkPsf(psf: Psf): void {
  if (!(psf.fwhm > 0) || !Number.isFinite(psf.fwhm)) throw new RangeError(`renderStars: fwhm must be > 0 (got ${psf.fwhm})`);
  const e = psf.ellipticity ?? 0;
  if (!(e >= 0 && e < 1)) throw new RangeError(`renderStars: ellipticity must be in [0, 1) (got ${e})`);
  if (psf.kind === 'moffat') {
    const b = psf.beta ?? 2.5;
    if (!(b > 1)) throw new RangeError(`renderStars: Moffat beta must be > 1 (got ${b})`);
  } else if (psf.kind !== 'gaussian') {
    throw new RangeError(`renderStars: unknown PSF kind ${String((psf as Psf).kind)}`);
  }
}

let scratch = new Float64Array(0);

/** Adds the stars to the plane, each PSF integrated over the pixel area (sub-sampled), clipped to the frame. */
export function renderStars(plane: Float32Array, width: number, height: number, stars: SimStar[], psf: Psf): void {
  if (plane.length < width * height) throw new RangeError('renderStars: plane smaller than width*height');
  checkPsf(psf);
  if (psf.kind === 'gaussian' && (psf.ellipticity ?? 0) === 0) {
    renderRoundGaussians(plane, width, height, stars, psf.fwhm * FWHM_TO_SIGMA);
    return;
  }
  const g = psfSampler(psf, width, height);
  if (scratch.length < g.side * g.side) scratch = new Float64Array(g.side * g.side);
  const buf = scratch;
  for (const s of stars) {
    if (!(s.flux !== 0) || !Number.isFinite(s.x) || !Number.isFinite(s.y)) continue;
    const x0 = Math.round(s.x) - g.half;
    const y0 = Math.round(s.y) - g.half;
    if (x0 + g.side <= 0 || y0 + g.side <= 0 || x0 >= width || y0 >= height) continue;
    const sum = samplePsf(buf, g, x0, y0, s.x, s.y);
    if (!(sum > 0)) continue;
    addBox(plane, width, height, buf, g.side, x0, y0, s.flux / sum);
  }
}

/** What sampling one elliptical Gaussian or Moffat PSF needs: its box, quadratic form and sub-sampling radii. */
interface PsfSampler {
  half: number;
  side: number;
  /** Sub-samples per axis near the core. */
  nCore: number;
  /** n x n sub-sampling inside coreR2, 3 x 3 out to midR2, the pixel centre beyond (squared pixels). */
  coreR2: number;
  midR2: number;
  /** Truncation of the scaled radius, squared. */
  R2: number;
  isGaussian: boolean;
  /** -beta (Moffat). */
  nb: number;
  /** Rotated quadratic form q = u^2/sa^2 + v^2/sb^2 = qa dx^2 + qb dx dy + qc dy^2. */
  qa: number;
  qb: number;
  qc: number;
}

function psfSampler(psf: Psf, width: number, height: number): PsfSampler {
  const e = psf.ellipticity ?? 0;
  const beta = psf.beta ?? 2.5;
  const theta = ((psf.angle ?? 0) * Math.PI) / 180;
  const ct = Math.cos(theta);
  const st = Math.sin(theta);
  const isGaussian = psf.kind === 'gaussian';
  // scale lengths along the major (a) and minor (b) axis, and truncation radius in scaled units:
  // Gaussian exp(-R^2/2) ~ 2.7e-7 of the peak; Moffat enclosed fraction 1 - (1 + R^2)^(1 - beta) >= 0.999
  const sa = isGaussian ? psf.fwhm * FWHM_TO_SIGMA : moffatAlpha(psf.fwhm, beta);
  const R = isGaussian ? 5.5 : Math.sqrt(Math.pow(1e-3, 1 / (1 - beta)) - 1);
  const sb = sa * (1 - e);
  const rMax = Math.min(R * sa, Math.max(width, height) + 2);
  const half = Math.ceil(rMax + 0.5);
  // sub-sampling: fine near the core, pixel centre where the profile is smooth on the pixel scale
  const fwhmMinor = psf.fwhm * (1 - e);
  let nCore = Math.max(5, Math.ceil(12 / fwhmMinor));
  if (nCore % 2 === 0) nCore++;
  const ia2 = 1 / (sa * sa);
  const ib2 = 1 / (sb * sb);
  return {
    half,
    side: 2 * half + 1,
    nCore: Math.min(nCore, 41),
    coreR2: Math.pow(1.5 * psf.fwhm + 1.5, 2),
    midR2: Math.pow(4 * psf.fwhm + 2, 2),
    R2: R * R,
    isGaussian,
    nb: -beta,
    qa: ct * ct * ia2 + st * st * ib2,
    qb: 2 * ct * st * (ia2 - ib2),
    qc: st * st * ia2 + ct * ct * ib2,
  };
}

/** Fill buf (side x side, corner at pixel (x0, y0)) with the PSF centred at (cx, cy); returns the sum. */
function samplePsf(buf: Float64Array, g: PsfSampler, x0: number, y0: number, cx: number, cy: number): number {
  const { side, nCore, coreR2, midR2, R2, isGaussian: isG, nb, qa, qb, qc } = g;
  let sum = 0;
  for (let j = 0; j < side; j++) {
    const py = y0 + j;
    for (let i = 0; i < side; i++) {
      const px = x0 + i;
      const dx = px - cx;
      const dy = py - cy;
      let v: number;
      const r2 = dx * dx + dy * dy;
      if (r2 < midR2) {
        const n = r2 < coreR2 ? nCore : 3;
        v = 0;
        for (let b = 0; b < n; b++) {
          const oy = dy + (b + 0.5) / n - 0.5;
          const cyy = qc * oy * oy;
          const cxy = qb * oy;
          for (let a = 0; a < n; a++) {
            const ox = dx + (a + 0.5) / n - 0.5;
            const q = qa * ox * ox + cxy * ox + cyy;
            if (q <= R2) v += isG ? Math.exp(-0.5 * q) : Math.pow(1 + q, nb);
          }
        }
        v /= n * n;
      } else {
        const q = qa * dx * dx + qb * dx * dy + qc * dy * dy;
        v = q > R2 ? 0 : isG ? Math.exp(-0.5 * q) : Math.pow(1 + q, nb);
      }
      buf[j * side + i] = v;
      sum += v;
    }
  }
  return sum;
}

/** plane += k * box, the side x side box placed with its corner at (x0, y0), clipped to the frame. */
function addBox(plane: Float32Array, width: number, height: number, box: Float64Array, side: number, x0: number, y0: number, k: number): void {
  const ja = Math.max(0, -y0);
  const jb = Math.min(side, height - y0);
  const ia = Math.max(0, -x0);
  const ib = Math.min(side, width - x0);
  for (let j = ja; j < jb; j++) {
    const row = (y0 + j) * width + x0;
    for (let i = ia; i < ib; i++) plane[row + i] = plane[row + i]! + box[j * side + i]! * k;
  }
}

/** Round Gaussians integrated exactly over each pixel (separable: product of erf differences). */
function renderRoundGaussians(plane: Float32Array, width: number, height: number, stars: SimStar[], sigma: number): void {
  const half = Math.ceil(6 * sigma + 1);
  const side = 2 * half + 1;
  const gx = new Float64Array(side);
  const gy = new Float64Array(side);
  const box = new Float64Array(side * side);
  const k = 1 / (Math.SQRT2 * sigma);
  for (const s of stars) {
    if (!(s.flux !== 0) || !Number.isFinite(s.x) || !Number.isFinite(s.y)) continue;
    const x0 = Math.round(s.x) - half;
    const y0 = Math.round(s.y) - half;
    if (x0 + side <= 0 || y0 + side <= 0 || x0 >= width || y0 >= height) continue;
    let sx = 0;
    let sy = 0;
    for (let i = 0; i < side; i++) {
      gx[i] = 0.5 * (erf((x0 + i + 0.5 - s.x) * k) - erf((x0 + i - 0.5 - s.x) * k));
      gy[i] = 0.5 * (erf((y0 + i + 0.5 - s.y) * k) - erf((y0 + i - 0.5 - s.y) * k));
      sx += gx[i]!;
      sy += gy[i]!;
    }
    const f = s.flux / (sx * sy);
    for (let j = 0; j < side; j++) {
      const wy = gy[j]! * f;
      for (let i = 0; i < side; i++) box[j * side + i] = gx[i]! * wy;
    }
    addBox(plane, width, height, box, side, x0, y0, 1);
  }
}

/**
 * A deterministic random star field: uniform positions in [margin, width - margin) x [margin, height - margin),
 * power-law fluxes between fluxMin and fluxMax with dN/dF proportional to F^-2 (N(>F) ~ 1/F, many faint stars,
 * few bright ones). Defaults: fluxMin 500, fluxMax 200000, margin 0.
 */
export function randomStarField(
  seed: number,
  width: number,
  height: number,
  count: number,
  opts: { fluxMin?: number; fluxMax?: number; margin?: number } = {},
): SimStar[] {
  const fluxMin = opts.fluxMin ?? 500;
  const fluxMax = opts.fluxMax ?? 200000;
  const margin = opts.margin ?? 0;
  if (!(fluxMin > 0 && fluxMax >= fluxMin)) throw new RangeError('randomStarField: need 0 < fluxMin <= fluxMax');
  if (!(width - 2 * margin > 0 && height - 2 * margin > 0)) throw new RangeError('randomStarField: margin leaves no room');
  const rng = new Rng(seed);
  const out: SimStar[] = [];
  const a = 1 / fluxMin;
  const b = 1 / fluxMax;
  for (let i = 0; i < count; i++) {
    const x = margin + rng.uniform() * (width - 2 * margin);
    const y = margin + rng.uniform() * (height - 2 * margin);
    // pdf ~ F^-2  <=>  1/F uniform in [1/fluxMax, 1/fluxMin]
    const flux = 1 / (a + rng.uniform() * (b - a));
    out.push({ x, y, flux });
  }
  return out;
}

/** Where a simulated camera looks: the sky seen through a telescope and camera (see skyStars). */
export interface SkyView {
  /** RA and Dec (J2000, degrees) at the centre of the sensor. */
  ra: number;
  dec: number;
  /** Telescope focal length, mm, and the sensor's (unbinned) pixel size, micrometres. */
  focalLength: number;
  pixelSize: number;
  /** Angle of north from the sensor's +y axis towards +x, degrees (solve/wcs.ts' convention). */
  rotation: number;
  /** Unbinned sensor size, pixels. */
  width: number;
  height: number;
  /** Magnitude of a star giving 1 e-/s (default 18: V = 10 gives 2512 e-/s). */
  zeroPoint?: number;
  /** Stars fainter than this are not rendered (default 14). */
  limitMag?: number;
}

/** Unbinned pixel scale of a view, arcsec per pixel: 206.265 * pixel size (um) / focal length (mm). */
export function viewScale(v: Pick<SkyView, 'focalLength' | 'pixelSize'>): number {
  return (206.264806 * v.pixelSize) / v.focalLength;
}

/**
 * The catalogue's stars seen through the view: gnomonic (TAN) projection about the pointing, as the
 * TAN WCS of solve/wcs.ts with CRPIX at the sensor centre, in the renderer's 0-based pixel coordinates
 * (x = FITS x - 1); flux in e-/s from the magnitude: 10^(-0.4 (mag - zeroPoint)).
 */
export function skyStars(v: SkyView): SimStar[] {
  const scale = viewScale(v);
  const w = wcsFromPointing({ ra: v.ra, dec: v.dec, scale, rotation: v.rotation, width: v.width, height: v.height });
  const radius = (Math.hypot(v.width, v.height) * scale) / 3600 / 2 + 0.05;
  const zp = v.zeroPoint ?? 18;
  const limit = v.limitMag ?? 14;
  const out: SimStar[] = [];
  for (const s of catalogStars(v.ra, v.dec, radius).stars) {
    if (s.mag > limit) continue;
    const p = skyToPixel(w, s.ra, s.dec);
    if (!p || p.x < -20 || p.y < -20 || p.x > v.width + 20 || p.y > v.height + 20) continue;
    out.push({ x: p.x - 1, y: p.y - 1, flux: Math.pow(10, -0.4 * (s.mag - zp)) });
  }
  return out;
}
