/**
 * Precession between J2000 and the equator and equinox of date (JNow), IAU 1976 angles (Lieske 1977:
 * zeta, z, theta as cubics in Julian centuries from J2000). Mounts that speak JNow (INDI's
 * EQUATORIAL_EOD_COORD, an Alpaca telescope whose EquatorialSystem is topocentric) are given and read
 * J2000 positions through it; good to well under an arcsecond over decades (no nutation, no aberration).
 */

type Mat = [number, number, number, number, number, number, number, number, number];

const AS = Math.PI / 180 / 3600;

/** The rotation J2000 -> mean equator of date at time t (ms since the epoch). */
function precessionMatrix(t: number): Mat {
  const T = (t / 86_400_000 + 2440587.5 - 2451545.0) / 36525;
  const zeta = (2306.2181 * T + 0.30188 * T * T + 0.017998 * T ** 3) * AS;
  const z = (2306.2181 * T + 1.09468 * T * T + 0.018203 * T ** 3) * AS;
  const th = (2004.3109 * T - 0.42665 * T * T - 0.041833 * T ** 3) * AS;
  const [cz, sz, cZ, sZ, ct, st] = [Math.cos(zeta), Math.sin(zeta), Math.cos(z), Math.sin(z), Math.cos(th), Math.sin(th)];
  return [
    cZ * ct * cz - sZ * sz, -cZ * ct * sz - sZ * cz, -cZ * st,
    sZ * ct * cz + cZ * sz, -sZ * ct * sz + cZ * cz, -sZ * st,
    st * cz, -st * sz, ct,
  ];
}

function rotate(m: Mat, ra: number, dec: number, transpose: boolean): { ra: number; dec: number } {
  const r = (ra * Math.PI) / 180;
  const d = (dec * Math.PI) / 180;
  const v = [Math.cos(d) * Math.cos(r), Math.cos(d) * Math.sin(r), Math.sin(d)];
  const at = (i: number, j: number): number => (transpose ? m[j * 3 + i]! : m[i * 3 + j]!);
  const w = [0, 1, 2].map((i) => at(i, 0) * v[0]! + at(i, 1) * v[1]! + at(i, 2) * v[2]!);
  const ra2 = (Math.atan2(w[1]!, w[0]!) * 180) / Math.PI;
  return { ra: ra2 < 0 ? ra2 + 360 : ra2, dec: (Math.asin(Math.max(-1, Math.min(1, w[2]!))) * 180) / Math.PI };
}

/** J2000 (degrees) to the equinox of date at t (ms). */
export function j2000ToJnow(ra: number, dec: number, t: number): { ra: number; dec: number } {
  return rotate(precessionMatrix(t), ra, dec, false);
}

/** The equinox of date at t (ms) to J2000 (degrees). */
export function jnowToJ2000(ra: number, dec: number, t: number): { ra: number; dec: number } {
  return rotate(precessionMatrix(t), ra, dec, true);
}
