/**
 * A standard FITS celestial WCS with the gnomonic (TAN) projection (Greisen & Calabretta 2002,
 * "Representations of celestial coordinates in FITS", paper II, section 5.1.3):
 *   (x, y) pixel, 1-based as FITS counts (CRPIX) -> intermediate world coordinates (xi, eta) in degrees
 *   [xi; eta] = CD [x - CRPIX1; y - CRPIX2]; then the TAN de-projection around CRVAL.
 * Rotation and parity as reported here: for a normal-parity image (north up, east left when north is
 * up: det CD < 0) CD = s [[-cos r, sin r], [sin r, cos r]], so north points `r` degrees from +y towards
 * +x; a mirrored image (det CD > 0) has CD = s [[cos r, sin r], [-sin r, cos r]].
 */
import type { FitsHeader } from '../fits/header.js';

export interface TanWcs {
  /** CRVAL1/2: RA and Dec of the reference point, degrees. */
  crval: [number, number];
  /** CRPIX1/2: the reference pixel, 1-based FITS pixel coordinates. */
  crpix: [number, number];
  /** CD matrix, degrees per pixel: [[CD1_1, CD1_2], [CD2_1, CD2_2]]. */
  cd: [[number, number], [number, number]];
}

export interface WcsSummary {
  /** RA and Dec of the image centre, degrees. */
  ra: number;
  dec: number;
  /** Pixel scale, arcsec per pixel. */
  scale: number;
  /** Angle of north from +y towards +x, degrees in (-180, 180]. */
  rotation: number;
  /** 'normal' (det CD < 0, as the sky is seen) or 'flipped'. */
  parity: 'normal' | 'flipped';
  /** Field size, degrees. */
  fieldWidth: number;
  fieldHeight: number;
}

const D2R = Math.PI / 180;

function norm360(a: number): number {
  return a >= 0 && a < 360 ? a : ((a % 360) + 360) % 360;
}

/** Sky position of a 1-based FITS pixel. */
export function pixelToSky(w: TanWcs, x: number, y: number): { ra: number; dec: number } {
  const u = x - w.crpix[0];
  const v = y - w.crpix[1];
  const xi = (w.cd[0][0] * u + w.cd[0][1] * v) * D2R;
  const eta = (w.cd[1][0] * u + w.cd[1][1] * v) * D2R;
  const a0 = w.crval[0] * D2R;
  const d0 = w.crval[1] * D2R;
  const den = Math.cos(d0) - eta * Math.sin(d0);
  const ra = a0 + Math.atan2(xi, den);
  const dec = Math.atan2(Math.sin(d0) + eta * Math.cos(d0), Math.hypot(xi, den));
  return { ra: norm360(ra / D2R), dec: dec / D2R };
}

/** 1-based FITS pixel of a sky position; null on the far hemisphere (no gnomonic image). */
export function skyToPixel(w: TanWcs, ra: number, dec: number): { x: number; y: number } | null {
  const a = ra * D2R;
  const d = dec * D2R;
  const a0 = w.crval[0] * D2R;
  const d0 = w.crval[1] * D2R;
  const cosc = Math.sin(d0) * Math.sin(d) + Math.cos(d0) * Math.cos(d) * Math.cos(a - a0);
  if (!(cosc > 1e-6)) return null;
  const xi = (Math.cos(d) * Math.sin(a - a0)) / cosc / D2R;
  const eta = (Math.cos(d0) * Math.sin(d) - Math.sin(d0) * Math.cos(d) * Math.cos(a - a0)) / cosc / D2R;
  const [[a11, a12], [a21, a22]] = w.cd;
  const det = a11 * a22 - a12 * a21;
  return { x: w.crpix[0] + (a22 * xi - a12 * eta) / det, y: w.crpix[1] + (-a21 * xi + a11 * eta) / det };
}

/** The WCS of an image `width` x `height` centred on (ra, dec) with `scale` arcsec/px and `rotation` (see above). */
export function wcsFromPointing(p: { ra: number; dec: number; scale: number; rotation: number; width: number; height: number; flipped?: boolean }): TanWcs {
  const s = p.scale / 3600;
  const c = Math.cos(p.rotation * D2R);
  const sn = Math.sin(p.rotation * D2R);
  const cd: TanWcs['cd'] = p.flipped ? [[s * c, s * sn], [-s * sn, s * c]] : [[-s * c, s * sn], [s * sn, s * c]];
  return { crval: [norm360(p.ra), p.dec], crpix: [(p.width + 1) / 2, (p.height + 1) / 2], cd };
}

/** Centre, scale, rotation, parity and field size of an image with this WCS. */
export function summarizeWcs(w: TanWcs, width: number, height: number): WcsSummary {
  const [[a11, a12], [a21, a22]] = w.cd;
  const det = a11 * a22 - a12 * a21;
  const flipped = det > 0;
  const rot = flipped ? Math.atan2(a12 - a21, a11 + a22) : Math.atan2(a12 + a21, a22 - a11);
  const scale = Math.sqrt(Math.abs(det)) * 3600;
  const c = pixelToSky(w, (width + 1) / 2, (height + 1) / 2);
  let rotation = rot / D2R;
  if (rotation <= -180) rotation += 360;
  return { ra: c.ra, dec: c.dec, scale, rotation, parity: flipped ? 'flipped' : 'normal', fieldWidth: (width * scale) / 3600, fieldHeight: (height * scale) / 3600 };
}

/** The TAN WCS of a header (CD matrix, or CDELT with PC or CROTA2); undefined when there is none. SIP terms are ignored. */
export function readWcs(h: FitsHeader): TanWcs | undefined {
  const t1 = h.getString('CTYPE1') ?? '';
  const t2 = h.getString('CTYPE2') ?? '';
  if (!t1.startsWith('RA---TAN') || !t2.startsWith('DEC--TAN')) return undefined;
  const n = (k: string): number | undefined => h.getNumber(k);
  const crval1 = n('CRVAL1');
  const crval2 = n('CRVAL2');
  const crpix1 = n('CRPIX1');
  const crpix2 = n('CRPIX2');
  if (crval1 === undefined || crval2 === undefined || crpix1 === undefined || crpix2 === undefined) return undefined;
  let cd: TanWcs['cd'];
  if (n('CD1_1') !== undefined || n('CD2_2') !== undefined) {
    cd = [[n('CD1_1') ?? 0, n('CD1_2') ?? 0], [n('CD2_1') ?? 0, n('CD2_2') ?? 0]];
  } else {
    const c1 = n('CDELT1');
    const c2 = n('CDELT2');
    if (c1 === undefined || c2 === undefined) return undefined;
    let pc: TanWcs['cd'] = [[n('PC1_1') ?? 1, n('PC1_2') ?? 0], [n('PC2_1') ?? 0, n('PC2_2') ?? 1]];
    const crota = n('CROTA2');
    if (crota !== undefined && !h.has('PC1_1')) {
      const c = Math.cos(crota * D2R);
      const s = Math.sin(crota * D2R);
      pc = [[c, (-s * c2) / c1], [(s * c1) / c2, c]];
    }
    cd = [[c1 * pc[0][0], c1 * pc[0][1]], [c2 * pc[1][0], c2 * pc[1][1]]];
  }
  return { crval: [crval1, crval2], crpix: [crpix1, crpix2], cd };
}

/** The cards of a standard TAN WCS (EQUINOX 2000, ICRS), set on `h` (replacing any WCS and SIP cards there). */
export function writeWcs(h: FitsHeader, w: TanWcs): void {
  for (const k of ['CDELT1', 'CDELT2', 'CROTA1', 'CROTA2', 'PC1_1', 'PC1_2', 'PC2_1', 'PC2_2', 'A_ORDER', 'B_ORDER', 'AP_ORDER', 'BP_ORDER', 'PV1_1', 'PV1_2', 'PV2_1', 'PV2_2']) h.delete(k);
  for (const c of [...h.cards]) if (/^(A|B|AP|BP)_\d+_\d+$/.test(c.key)) h.delete(c.key);
  h.set('WCSAXES', 2, 'number of WCS axes');
  h.set('CTYPE1', 'RA---TAN', 'gnomonic projection');
  h.set('CTYPE2', 'DEC--TAN', 'gnomonic projection');
  h.set('CUNIT1', 'deg', 'unit of CRVAL1 and CD1_*');
  h.set('CUNIT2', 'deg', 'unit of CRVAL2 and CD2_*');
  h.set('RADESYS', 'ICRS', 'reference frame');
  h.set('EQUINOX', 2000, 'equinox of the coordinates', { float: true });
  h.set('CRVAL1', w.crval[0], '[deg] RA of the reference pixel', { float: true });
  h.set('CRVAL2', w.crval[1], '[deg] Dec of the reference pixel', { float: true });
  h.set('CRPIX1', w.crpix[0], 'reference pixel, axis 1 (1-based)', { float: true });
  h.set('CRPIX2', w.crpix[1], 'reference pixel, axis 2 (1-based)', { float: true });
  h.set('CD1_1', w.cd[0][0], '[deg/px] transformation matrix', { float: true });
  h.set('CD1_2', w.cd[0][1], '[deg/px] transformation matrix', { float: true });
  h.set('CD2_1', w.cd[1][0], '[deg/px] transformation matrix', { float: true });
  h.set('CD2_2', w.cd[1][1], '[deg/px] transformation matrix', { float: true });
}
