/**
 * Dark current against temperature: Dc(T) = Dc0 * 2^((T - T0) / Td). A least-squares line through
 * (T, ln Dc) gives the slope b = ln 2 / Td, so the doubling temperature Td = ln 2 / b
 * (about 6.3 C for KAF CCDs: 26 C -> -10 C is 64x less).
 */
import { DarkroomError } from '../util/errors.js';
import type { DarkFrame } from './darkcurrent.js';

export interface TemperaturePoint {
  temperature: number;
  /** e-/s (typical pixel). */
  darkCurrent: number;
  frames?: number;
  exposure?: number;
}

export interface TemperatureFit {
  points: (TemperaturePoint & { used: boolean; fitted: number })[];
  /** d ln(Dc) / dT, 1/C. */
  slope: number;
  /** Doubling temperature, C (Infinity when the slope is not positive). */
  doublingTemperature: number;
  /** Fitted dark current at 0 C, e-/s. */
  darkCurrentAt0: number;
  /** RMS of the ln residuals. */
  rmsLogResidual: number;
  /** Standard error of the doubling temperature from the fit residuals (null with 2 points). */
  doublingStdErr: number | null;
}

export function fitDarkVsTemperature(points: TemperaturePoint[]): TemperatureFit {
  const used = points.filter((p) => p.darkCurrent > 0 && Number.isFinite(p.temperature));
  const distinct = new Set(used.map((p) => p.temperature.toFixed(3)));
  if (used.length < 2 || distinct.size < 2) {
    throw new DarkroomError('TOO_FEW', `a temperature fit needs positive dark currents at 2 or more temperatures, got ${distinct.size}`);
  }
  const n = used.length;
  let sx = 0;
  let sy = 0;
  for (const p of used) {
    sx += p.temperature;
    sy += Math.log(p.darkCurrent);
  }
  const mx = sx / n;
  const my = sy / n;
  let sxx = 0;
  let sxy = 0;
  for (const p of used) {
    sxx += (p.temperature - mx) ** 2;
    sxy += (p.temperature - mx) * (Math.log(p.darkCurrent) - my);
  }
  const b = sxy / sxx;
  const a = my - b * mx;
  let ss = 0;
  for (const p of used) ss += (Math.log(p.darkCurrent) - (a + b * p.temperature)) ** 2;
  const rms = Math.sqrt(ss / n);
  let doublingStdErr: number | null = null;
  if (n > 2 && b > 0) {
    const seB = Math.sqrt(ss / (n - 2) / sxx);
    doublingStdErr = (Math.LN2 / (b * b)) * seB;
  }
  return {
    points: points.map((p) => ({ ...p, used: used.includes(p), fitted: Math.exp(a + b * p.temperature) })),
    slope: b,
    doublingTemperature: b > 0 ? Math.LN2 / b : Infinity,
    darkCurrentAt0: Math.exp(a),
    rmsLogResidual: rms,
    doublingStdErr,
  };
}

/**
 * Group darks by exposure and temperature (temperatures within `tolerance` C of the group's first,
 * sorted). Returns groups sorted by temperature.
 */
export function groupDarksByTemperature<T extends DarkFrame>(darks: T[], tolerance = 1): T[][] {
  for (const d of darks) {
    if (d.temperature === undefined) throw new DarkroomError('BAD_HEADER', 'dark has no temperature (CCD-TEMP or SET-TEMP)', d.path);
    if (d.exposure === undefined || !(d.exposure > 0)) throw new DarkroomError('BAD_HEADER', 'dark has no positive exposure (EXPTIME/EXPOSURE)', d.path);
  }
  const sorted = [...darks].sort((a, b) => a.exposure! - b.exposure! || a.temperature! - b.temperature!);
  const groups: T[][] = [];
  for (const d of sorted) {
    const g = groups[groups.length - 1];
    if (g && Math.abs(g[0]!.exposure! - d.exposure!) <= 1e-3 * d.exposure! && d.temperature! - g[0]!.temperature! <= tolerance) g.push(d);
    else groups.push([d]);
  }
  return groups.sort((a, b) => a[0]!.temperature! - b[0]!.temperature!);
}
