/**
 * Sky coordinates from headers: RA/DEC as degrees (numbers) or sexagesimal strings
 * (OBJCTRA '05 35 17.3' hours, OBJCTDEC '-05 23 28' degrees), and angular separation.
 */
import type { FitsHeader } from '../fits/header.js';

/** Parse "hh mm ss.s", "hh:mm:ss", "hhhmmmss" or a plain number. Returns the value in the units of the first field. */
export function parseSexagesimal(s: string): number | undefined {
  const t = s.trim();
  if (t === '') return undefined;
  if (/^[+-]?(\d+\.?\d*|\.\d+)$/.test(t)) return Number(t);
  const m = /^([+-])?\s*(\d+(?:\.\d+)?)[\s:hd°]+(\d+(?:\.\d+)?)(?:[\s:m']+(\d+(?:\.\d+)?))?\s*[s"]?$/i.exec(t);
  if (!m) return undefined;
  const sign = m[1] === '-' ? -1 : 1;
  const a = Number(m[2]);
  const b = Number(m[3]);
  const c = m[4] !== undefined ? Number(m[4]) : 0;
  if (b >= 60 || c >= 60) return undefined;
  return sign * (a + b / 60 + c / 3600);
}

/**
 * Pointing of a frame in degrees. RA/DEC keywords as numbers are degrees (N.I.N.A., Ekos);
 * as strings (MaxIm writes OBJCTRA/OBJCTDEC, some write RA/DEC) they are sexagesimal hours / degrees.
 */
export function pointing(h: FitsHeader): { ra: number; dec: number } | undefined {
  let ra: number | undefined;
  let dec: number | undefined;
  const raV = h.get('RA');
  const decV = h.get('DEC');
  if (typeof raV === 'number' && typeof decV === 'number') {
    ra = raV;
    dec = decV;
  } else if (typeof raV === 'string' && typeof decV === 'string') {
    const r = parseSexagesimal(raV);
    const d = parseSexagesimal(decV);
    // A string with separators is sexagesimal hours; a bare numeric string is degrees.
    if (r !== undefined && d !== undefined) {
      ra = /[\s:h]/i.test(raV.trim()) ? r * 15 : r;
      dec = d;
    }
  }
  if (ra === undefined || dec === undefined) {
    const ro = h.getString('OBJCTRA');
    const dob = h.getString('OBJCTDEC');
    if (ro !== undefined && dob !== undefined) {
      const r = parseSexagesimal(ro);
      const d = parseSexagesimal(dob);
      if (r !== undefined && d !== undefined) {
        ra = r * 15;
        dec = d;
      }
    }
  }
  if (ra === undefined || dec === undefined || !Number.isFinite(ra) || !Number.isFinite(dec)) return undefined;
  if (Math.abs(dec) > 90) return undefined;
  return { ra: ((ra % 360) + 360) % 360, dec };
}

/** Great-circle separation in degrees (haversine, accurate at small angles). */
export function separationDeg(ra1: number, dec1: number, ra2: number, dec2: number): number {
  const r = Math.PI / 180;
  const dRa = (ra2 - ra1) * r;
  const dDec = (dec2 - dec1) * r;
  const a = Math.sin(dDec / 2) ** 2 + Math.cos(dec1 * r) * Math.cos(dec2 * r) * Math.sin(dRa / 2) ** 2;
  return (2 * Math.asin(Math.min(1, Math.sqrt(a)))) / r;
}
