/**
 * Sensor models for the physical camera simulator, from published data sheets (QSI 500/600 user
 * guide, Kodak/ON Semi KAF data sheets). Every field can be overridden (tests use small sensors).
 */
import { DarkroomError } from '../../util/errors.js';
import type { BayerPattern } from '../../image/image.js';

export interface SensorModel {
  /** Short id: kaf8300, kaf1603, cmos... */
  id: string;
  /** INSTRUME header value. */
  instrument: string;
  width: number;
  height: number;
  /** Pixel pitch in micrometres (XPIXSZ/YPIXSZ). */
  pixelSize: number;
  /** Full well in electrons (per unbinned pixel). */
  fullWell: number;
  /** Read noise, electrons RMS. */
  readNoise: number;
  /** System gain in e-/ADU (EGAIN). */
  gain: number;
  /** Mean bias level in ADU. */
  biasLevel: number;
  /** Column-to-column bias structure, ADU RMS. */
  biasColumnRms: number;
  /** Dark current in e-/s/pixel at temperature darkT0. */
  darkCurrent0: number;
  /** Reference temperature of darkCurrent0, C. */
  darkT0: number;
  /** Dark current doubles every this many degrees C. */
  doublingTemp: number;
  /** Dark signal non-uniformity: relative RMS of the per-pixel dark current. */
  dsnu: number;
  /** Fraction of pixels that are hot (dark current 20x..500x the mean). */
  hotPixelFraction: number;
  /** Fraction of pixels that are cold (dead: response 0.05..0.4). */
  coldPixelFraction: number;
  /** Amplifier glow at its corner, e-/s (falls off exponentially). */
  ampGlow: number;
  /** Photo response non-uniformity, relative RMS. */
  prnu: number;
  /** Relative illumination loss at the corners (vignetting). */
  vignetting: number;
  /** Number of dust donuts on the flat. */
  dustCount: number;
  /** Cosmic ray hits per second per megapixel. */
  cosmicRate: number;
  /** ADC maximum (16-bit). */
  adcMax: number;
  /** CMOS-like black-level clamp (dark current suppression): darks come out about as dark as bias. */
  blackClamp: boolean;
  /** Anti-blooming gate (ABG): charge above the full well is drained instead of spilling along the column. */
  antiBloomingGate?: boolean;
  /** Interline transfer CCD: it can expose with an electronic shutter. */
  interline?: boolean;
  /** GAIN and OFFSET header values (camera settings), when the camera has them. */
  gainSetting?: number;
  offsetSetting?: number;
  /** Bayer mosaic (one-shot colour) and the relative colour response of R, G, B pixels. */
  bayer?: BayerPattern;
  colorResponse?: [number, number, number];
}

const BASE = {
  biasColumnRms: 1.5,
  doublingTemp: 6.3,
  dsnu: 0.15,
  hotPixelFraction: 0.0005,
  coldPixelFraction: 0.0001,
  prnu: 0.01,
  vignetting: 0.25,
  dustCount: 3,
  cosmicRate: 0.05,
  adcMax: 65535,
  blackClamp: false,
};

export const SENSORS: Record<string, SensorModel> = {
  // KAF-8300: 3326x2504, 5.4 um, 25.5k e-, 8 e- read noise, ~0.37 e-/ADU (QSI 583)
  kaf8300: {
    ...BASE,
    id: 'kaf8300',
    instrument: 'QSI 583ws (KAF-8300, simulated)',
    antiBloomingGate: true,
    width: 3326,
    height: 2504,
    pixelSize: 5.4,
    fullWell: 25500,
    readNoise: 8,
    gain: 0.37,
    biasLevel: 1000,
    darkCurrent0: 0.02, // e-/s at 0 C (data sheet: ~0.02 e-/s at -10..0 C class)
    darkT0: 0,
    ampGlow: 0,
  },
  // KAF-1603ME: 1536x1024, 9 um, 100k e-, 15 e-, ~1.5 e-/ADU (QSI 516)
  kaf1603: {
    ...BASE,
    id: 'kaf1603',
    instrument: 'QSI 516ws (KAF-1603ME, simulated)',
    width: 1536,
    height: 1024,
    pixelSize: 9,
    fullWell: 100000,
    readNoise: 15,
    gain: 1.5,
    biasLevel: 800,
    darkCurrent0: 0.1,
    darkT0: 0,
    ampGlow: 0,
  },
  // KAI-04022: 2048x2048 interline, 7.4 um, ~40k e-, ~8 e-, ~0.6 e-/ADU (QSI 640ws; approximate): an
  // electronic shutter and a vertical overflow drain (anti-blooming) of its own
  kai04022: {
    ...BASE,
    id: 'kai04022',
    instrument: 'QSI 640ws (KAI-04022, simulated)',
    width: 2048,
    height: 2048,
    pixelSize: 7.4,
    fullWell: 40000,
    readNoise: 8,
    gain: 0.6,
    biasLevel: 1000,
    darkCurrent0: 0.05,
    darkT0: 0,
    ampGlow: 0,
    antiBloomingGate: true,
    interline: true,
  },
  // A CMOS-like sensor (IMX-class): low read noise, gain/offset settings, black-level clamp, amp glow.
  cmos: {
    ...BASE,
    id: 'cmos',
    instrument: 'CMOS camera (IMX-like, simulated)',
    width: 4144,
    height: 2822,
    pixelSize: 4.63,
    fullWell: 20000,
    readNoise: 1.8,
    gain: 0.8,
    biasLevel: 200,
    biasColumnRms: 0.5,
    darkCurrent0: 0.005,
    darkT0: 0,
    dsnu: 0.3,
    ampGlow: 0.5,
    blackClamp: true,
    antiBloomingGate: true,
    gainSetting: 120,
    offsetSetting: 30,
  },
};

/** A sensor by id with overrides (e.g. a small size for tests). */
export function sensorModel(id: string, overrides: Partial<SensorModel> = {}): SensorModel {
  const base = SENSORS[id.toLowerCase()];
  if (!base) throw new DarkroomError('BAD_ARGUMENT', `unknown sensor '${id}' (known: ${Object.keys(SENSORS).join(', ')})`);
  const s = { ...base, ...overrides };
  if (!(Number.isInteger(s.width) && s.width >= 8 && Number.isInteger(s.height) && s.height >= 8)) {
    throw new DarkroomError('BAD_ARGUMENT', `sensor size must be at least 8x8 pixels, got ${s.width}x${s.height}`);
  }
  return s;
}

/** Dark current (e-/s/pixel) at temperature T: Dc(T) = Dc0 * 2^((T - T0) / doublingTemp). */
export function darkCurrentAt(s: SensorModel, tempC: number): number {
  return s.darkCurrent0 * Math.pow(2, (tempC - s.darkT0) / s.doublingTemp);
}
