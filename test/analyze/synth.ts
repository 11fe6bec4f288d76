/**
 * A small sensor simulator with exact ground truth for the analysis tests (independent of
 * src/devices/sim): bias level + fixed bias pattern, read noise (Gaussian, in e- then / gain),
 * Poisson photon and dark-current electrons, gain in e-/ADU, full well, 16-bit quantization, hot
 * pixels, flat panel drift, and a CMOS-like black-level clamp (the expected dark level of each
 * frame is subtracted, so darks are about as dark as bias while their per-pixel variance still
 * contains the dark shot noise).
 */
import { Rng } from '../../src/util/random.js';
import { createImage, type Image } from '../../src/image/image.js';
import { FitsHeader, writeFits } from '../../src/fits/index.js';

export interface SynthSensor {
  width: number;
  height: number;
  gain: number;
  readNoiseE: number;
  biasLevel: number;
  /** Dark current of a normal pixel at T0, e-/s. */
  darkCurrent: number;
  T0: number;
  doublingTemp: number;
  fullWell: number;
  clamp: boolean;
  /** Per-pixel dark multiplier (1 normal, 20..200 hot). */
  darkMap: Float32Array;
  /** Flat response (PRNU, mean 1). */
  response: Float32Array;
  /** Bias fixed pattern (ADU). */
  bias: Float32Array;
  hotCount: number;
  /** Mean of darkMap (for the clamp and for the all-pixel truth). */
  darkMapMean: number;
  /** Amp glow in e-/s at the (0, 0) corner, falling off with scale 10% of the width; exponent of t (1 = linear). */
  glow: number;
  glowPower: number;
}

export function makeSensor(p: Partial<Omit<SynthSensor, 'darkMap' | 'response' | 'bias' | 'hotCount' | 'darkMapMean'>> & { hotFraction?: number; seed?: number; prnu?: number; vignetting?: number } = {}): SynthSensor {
  const width = p.width ?? 128;
  const height = p.height ?? 128;
  const n = width * height;
  const rng = new Rng(p.seed ?? 1);
  const darkMap = new Float32Array(n).fill(1);
  const response = new Float32Array(n);
  const bias = new Float32Array(n);
  const hotFraction = p.hotFraction ?? 0.001;
  let hotCount = 0;
  const prnu = p.prnu ?? 0.01;
  const col = new Float64Array(width);
  for (let x = 0; x < width; x++) col[x] = 2 * rng.gauss();
  const vig = p.vignetting ?? 0;
  const r2max = (width / 2) ** 2 + (height / 2) ** 2;
  for (let i = 0; i < n; i++) {
    const vx = (i % width) - width / 2;
    const vy = Math.floor(i / width) - height / 2;
    response[i] = (1 + prnu * rng.gauss()) * (1 - (vig * (vx * vx + vy * vy)) / r2max);
    bias[i] = (p.biasLevel ?? 1000) + col[i % width]! + 0.5 * rng.gauss();
    if (rng.uniform() < hotFraction) {
      darkMap[i] = 20 + 180 * rng.uniform();
      hotCount++;
    }
  }
  let s = 0;
  for (let i = 0; i < n; i++) s += darkMap[i]!;
  return {
    width,
    height,
    gain: p.gain ?? 1.5,
    readNoiseE: p.readNoiseE ?? 9,
    biasLevel: p.biasLevel ?? 1000,
    darkCurrent: p.darkCurrent ?? 0.5,
    T0: p.T0 ?? 0,
    doublingTemp: p.doublingTemp ?? 6.3,
    fullWell: p.fullWell ?? 60000,
    clamp: p.clamp ?? false,
    darkMap,
    response,
    bias,
    hotCount,
    darkMapMean: s / n,
    glow: p.glow ?? 0,
    glowPower: p.glowPower ?? 1,
  };
}

export function darkCurrentAtT(s: SynthSensor, T: number): number {
  return s.darkCurrent * Math.pow(2, (T - s.T0) / s.doublingTemp);
}

export interface FrameSpec {
  exposure: number;
  temperature?: number;
  /** Photon flux e-/s per pixel (flats). */
  flux?: number;
  seed: number;
}

/** One frame in ADU (rounded, clamped to 0..65535). */
export function frame(s: SynthSensor, f: FrameSpec): Float32Array {
  const rng = new Rng(f.seed * 7919 + 13);
  const n = s.width * s.height;
  const out = new Float32Array(n);
  const dc = darkCurrentAtT(s, f.temperature ?? s.T0);
  const t = f.exposure;
  const flux = f.flux ?? 0;
  const glowScale = 0.1 * s.width;
  // Clamp: subtract the frame's expected mean dark level (in ADU), as the camera firmware does.
  let clampOffset = 0;
  if (s.clamp) {
    let glowMean = 0;
    if (s.glow > 0) {
      for (let y = 0; y < s.height; y++) for (let x = 0; x < s.width; x++) glowMean += s.glow * Math.exp(-Math.hypot(x, y) / glowScale);
      glowMean /= n;
    }
    clampOffset = (dc * s.darkMapMean * t + glowMean * Math.pow(t, s.glowPower)) / s.gain;
  }
  for (let i = 0; i < n; i++) {
    let lam = dc * s.darkMap[i]! * t + flux * s.response[i]! * t;
    if (s.glow > 0) {
      const x = i % s.width;
      const y = (i - x) / s.width;
      lam += s.glow * Math.exp(-Math.hypot(x, y) / glowScale) * Math.pow(t, s.glowPower);
    }
    let e = rng.poisson(lam);
    if (e > s.fullWell) e = s.fullWell;
    let adu = s.bias[i]! + (e + s.readNoiseE * rng.gauss()) / s.gain - clampOffset;
    adu = Math.round(adu);
    out[i] = adu < 0 ? 0 : adu > 65535 ? 65535 : adu;
  }
  return out;
}

/** Write a frame as a 16-bit FITS with the usual acquisition keywords. */
export function writeFrame(path: string, s: SynthSensor, data: Float32Array, kw: { kind: string; exposure: number; temperature?: number; dateObs?: string; bayer?: string }): void {
  const header = new FitsHeader();
  const img: Image = createImage(s.width, s.height, 1, header);
  img.data[0]!.set(data);
  const keywords: Record<string, string | number> = { IMAGETYP: kw.kind, EXPTIME: kw.exposure, EGAIN: s.gain };
  if (kw.temperature !== undefined) keywords['CCD-TEMP'] = kw.temperature;
  if (kw.dateObs) keywords['DATE-OBS'] = kw.dateObs;
  if (kw.bayer) keywords['BAYERPAT'] = kw.bayer;
  writeFits(path, img, { bitpix: 16, keywords, history: ['synthetic frame for darkroom analyze tests'] });
}
