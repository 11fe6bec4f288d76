/**
 * Sidereal time, hour angle and altitude (accuracy about a second of time: enough for meridian flips and
 * altitude limits; no nutation, no refraction).
 *   GMST (degrees) = 280.46061837 + 360.98564736629 (JD - 2451545.0),  JD = t / 86400000 + 2440587.5
 *   LST = GMST + east longitude;  hour angle H = LST - RA (hours in (-12, 12], positive west of the meridian)
 *   sin(alt) = sin(lat) sin(dec) + cos(lat) cos(dec) cos(H)
 */
const D2R = Math.PI / 180;

/** Local sidereal time in degrees [0, 360) at `t` (ms since the epoch, UTC) and east longitude `lon` (degrees). */
export function localSiderealDeg(t: number, lon: number): number {
  const jd = t / 86_400_000 + 2_440_587.5;
  const g = 280.46061837 + 360.98564736629 * (jd - 2_451_545.0) + lon;
  return ((g % 360) + 360) % 360;
}

/** Hour angle of right ascension `ra` (degrees) in hours, (-12, 12]; positive: west of the meridian. */
export function hourAngleHours(t: number, lon: number, ra: number): number {
  let h = (localSiderealDeg(t, lon) - ra) / 15;
  h = ((h % 24) + 24) % 24;
  return h > 12 ? h - 24 : h;
}

/** Altitude (degrees) of (ra, dec) at `t` from latitude `lat`, east longitude `lon` (all degrees). */
export function altitudeDeg(t: number, lat: number, lon: number, ra: number, dec: number): number {
  const h = hourAngleHours(t, lon, ra) * 15 * D2R;
  const s = Math.sin(lat * D2R) * Math.sin(dec * D2R) + Math.cos(lat * D2R) * Math.cos(dec * D2R) * Math.cos(h);
  return Math.asin(Math.max(-1, Math.min(1, s))) / D2R;
}

/** Sidereal milliseconds per solar millisecond (an hour of hour angle takes 3590.17 s). */
export const SIDEREAL_RATE = 1.002737909;
