/**
 * The simulator's star catalogue: real Tycho-2 stars (positions and V_T magnitudes) around a few demo
 * targets, taken from the astrometry.net Tycho-2 index files by scripts/make-sim-catalog.mjs
 * (catalog-data.ts), so that frames rendered from it are solved by solve-field with those index files.
 */
import { CATALOG_BLOCKS } from './catalog-data.js';

export interface CatalogStar {
  /** J2000 right ascension and declination, degrees. */
  ra: number;
  dec: number;
  /** Tycho V_T magnitude. */
  mag: number;
}

export interface CatalogField {
  name: string;
  ra: number;
  dec: number;
  /** The catalogue is complete (to the index files' depth) within this many degrees of the centre. */
  radius: number;
}

const D2R = Math.PI / 180;
let decoded: { field: CatalogField; stars: CatalogStar[] }[] | null = null;

function fields(): { field: CatalogField; stars: CatalogStar[] }[] {
  if (decoded) return decoded;
  decoded = CATALOG_BLOCKS.map((b) => {
    const buf = Buffer.from(b.data, 'base64');
    const stars: CatalogStar[] = [];
    for (let i = 0; i < b.count; i++) {
      const ra = b.ra + buf.readInt32LE(i * 10) / 1e6;
      stars.push({ ra: ((ra % 360) + 360) % 360, dec: b.dec + buf.readInt32LE(i * 10 + 4) / 1e6, mag: buf.readInt16LE(i * 10 + 8) / 1000 });
    }
    return { field: { name: b.name, ra: b.ra, dec: b.dec, radius: b.radius }, stars };
  });
  return decoded;
}

/** The demo fields the catalogue covers. */
export function catalogFields(): CatalogField[] {
  return fields().map((f) => ({ ...f.field }));
}

/** Angular distance between two positions, degrees. */
export function angularDistance(ra1: number, dec1: number, ra2: number, dec2: number): number {
  const a = Math.sin(((dec2 - dec1) * D2R) / 2) ** 2 + Math.cos(dec1 * D2R) * Math.cos(dec2 * D2R) * Math.sin(((ra2 - ra1) * D2R) / 2) ** 2;
  return (2 * Math.asin(Math.min(1, Math.sqrt(a)))) / D2R;
}

/**
 * The catalogue's stars within `radius` degrees of (ra, dec) (each star once, brightest first). Where
 * the circle reaches outside every demo field the sky there is empty: `complete` says whether it lies
 * wholly inside one.
 */
export function catalogStars(ra: number, dec: number, radius: number): { stars: CatalogStar[]; complete: boolean } {
  const out: CatalogStar[] = [];
  let complete = false;
  const seen = new Set<string>();
  for (const f of fields()) {
    const d = angularDistance(ra, dec, f.field.ra, f.field.dec);
    if (d > f.field.radius + radius) continue;
    if (d + radius <= f.field.radius) complete = true;
    for (const s of f.stars) {
      if (angularDistance(ra, dec, s.ra, s.dec) > radius) continue;
      const key = `${s.ra.toFixed(5)},${s.dec.toFixed(5)}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(s);
    }
  }
  out.sort((a, b) => a.mag - b.mag);
  return { stars: out, complete };
}
