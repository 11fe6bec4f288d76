/**
 * Meridian flip of a German equatorial mount. Pier side as ASCOM: 'west' (the telescope on the west side
 * of the pier, looking east: targets before the meridian), 'east' (looking west, after a flip).
 * On the west side the mount tracks a target past the meridian up to its hour-angle limit; before a frame:
 *   the frame (exposure + download margin) ends by the limit            -> 'expose'
 *   it would not, and the target is at least afterMinutes past meridian  -> 'flip' now
 *   it would not, and the target is not yet that far                     -> 'wait' that many seconds, then flip
 * so no exposure crosses the limit and none runs during the flip. After the flip: re-centre, then the
 * guider's calibration is flipped (RA reverses on the sensor; Dec is unchanged when the mount reports its
 * pier side, as PHD2 assumes; reversed for a mount that reverses its Dec output) or the guider
 * recalibrates (Guider.afterMeridianFlip).
 */
import type { Calibration } from './guide.js';
import { SIDEREAL_RATE } from '../session/sidereal.js';

export type PierSide = 'east' | 'west';

/** What the sequencer needs of a mount for a flip. */
export interface MeridianMount {
  /** Hour angle of where the mount points, hours (-12, 12]. */
  hourAngle(): number | Promise<number>;
  pierSide(): Promise<PierSide>;
  /** Slew to the same target on the other side of the pier. */
  flip(): Promise<void>;
}

export interface FlipConfig {
  limitMinutes: number;
  afterMinutes: number;
  marginS: number;
}

export type FlipDecision = { action: 'expose' } | { action: 'flip' } | { action: 'wait'; seconds: number };

/** Before a frame of `exposureS` seconds, at hour angle `ha` (hours) on pier side `side`. */
export function flipDecision(c: FlipConfig, side: PierSide, ha: number, exposureS: number): FlipDecision {
  if (side === 'east') return { action: 'expose' };
  const haEndMin = ha * 60 + ((exposureS + c.marginS) * SIDEREAL_RATE) / 60;
  if (haEndMin <= c.limitMinutes) return { action: 'expose' };
  const toAfterMin = c.afterMinutes - ha * 60;
  if (toAfterMin <= 0) return { action: 'flip' };
  return { action: 'wait', seconds: (toAfterMin * 60) / SIDEREAL_RATE };
}

/**
 * The guider calibration after a meridian flip. The camera turns half a turn with the telescope, so the
 * RA direction on the sensor reverses (a west pulse moves the sky the same way as before). Dec stays as
 * it was for a mount whose Dec motor keeps its sense (on the other side of the pier north pulses move
 * the sky the other way, which the half turn undoes); `reverseDec` for a mount that reverses its Dec
 * output after a flip (north stays north on the sky: on the sensor Dec reverses too), as PHD2's
 * "Reverse Dec output after meridian flip".
 */
export function flipCalibration(c: Calibration, reverseDec = false): Calibration {
  const a = c.cameraAngle + 180;
  const dec = reverseDec ? { x: -c.dec.x, y: -c.dec.y } : c.dec;
  const aDec = (Math.atan2(dec.y, dec.x) * 180) / Math.PI;
  const aRa = (Math.atan2(-c.ra.y, -c.ra.x) * 180) / Math.PI;
  let between = Math.abs(aDec - aRa) % 360;
  if (between > 180) between = 360 - between;
  return { ...c, ra: { x: -c.ra.x, y: -c.ra.y }, dec, cameraAngle: a > 180 ? a - 360 : a, orthogonalityError: between - 90 };
}
