/**
 * The physical camera simulator: a fixed, seeded "camera instance" (bias pattern with column
 * structure, dark current map with hot pixels, amp glow, PRNU, vignetting, dust donuts) and a pure
 * function producing one frame (bias | dark | flat | flatdark | light) in ADU from it.
 *
 * Signal chain per pixel (electrons):
 *   e = Poisson( F * R_c * (sky * t + stars) + (Dc(T) * d + glow) * t )  + cosmic rays
 *   F = flat field (PRNU * vignetting * dust, mean 1), R_c = colour response (1 for mono),
 *   Dc(T) = Dc0 * 2^((T - T0) / 6.3), d = per-pixel dark map (DSNU, hot pixels).
 *   On-chip binning sums the charge of b x b pixels before one read.
 *   Saturation at full well (b^2 full wells when binned); CMOS-like black-level clamp subtracts the
 *   expected dark level of the frame (so darks are about as dark as bias).
 *   ADU = bias(x, y) + e / gain + readNoise / gain * N(0, 1), rounded, clamped to [0, 65535].
 * Truth (no noise, no instrument): signal = R_c * (sky * t + stars) / gain in ADU.
 */
import { Rng } from '../../util/random.js';
import { createImage, type Image, type BayerPattern } from '../../image/image.js';
import { FitsHeader } from '../../fits/index.js';
import { DarkroomError } from '../../util/errors.js';
import { renderStars, type Psf, type SimStar } from './stars.js';
import { darkCurrentAt, type SensorModel } from './sensors.js';

export type FrameKind = 'bias' | 'dark' | 'flat' | 'flatdark' | 'light';

export interface HotPixel {
  x: number;
  y: number;
  /** Dark current multiplier relative to the mean dark current. */
  factor: number;
}

export interface CameraInstance {
  sensor: SensorModel;
  seed: number;
  /** Bias level per pixel, ADU (includes column structure). */
  bias: Float32Array;
  /** Relative dark current per pixel (mean ~1 for normal pixels; hot pixels 20..500). */
  darkMap: Float32Array;
  /** Amp glow rate per pixel, e-/s. */
  glow: Float32Array;
  /** Flat field: PRNU * vignetting * dust * cold pixels, normalized to mean 1. */
  flat: Float32Array;
  /** Colour index per pixel (0 R, 1 G, 2 B) for Bayer sensors. */
  colorIndex?: Uint8Array;
  hotPixels: HotPixel[];
  coldPixels: { x: number; y: number; response: number }[];
  dust: { x: number; y: number; rIn: number; rOut: number; depth: number }[];
  /** Mean of darkMap over all pixels (for the black-level clamp). */
  darkMapMean: number;
  /** Mean amp glow e-/s over all pixels (for the black-level clamp). */
  glowMean: number;
}

export interface FrameRequest {
  kind: FrameKind;
  /** Exposure in seconds (0 for bias). */
  exposure: number;
  /** CCD temperature, C. */
  ccdTemp: number;
  /** Set point, C (header only). */
  setTemp?: number;
  binning?: number;
  filter?: string;
  /** Frame seed: different seeds give independent noise. */
  seed: number;
  /** Sky background in e-/s/pixel (lights). */
  sky?: number;
  /** Stars for lights, in sensor pixel coordinates, flux in e-/s. */
  stars?: SimStar[];
  psf?: Psf;
  /** Pointing offset (dither) in pixels applied to the stars. */
  dither?: { dx: number; dy: number };
  /** Flat level above bias in ADU (default 45% of the usable range). */
  flatLevel?: number;
  /** Cosmic rays (default: in lights and darks). */
  cosmics?: boolean;
  object?: string;
  ra?: number;
  dec?: number;
  dateObs?: Date;
}

export interface FrameTruth {
  /** Expected sky + star signal in ADU (no noise, no instrument effects), binned size. */
  signal: Float32Array;
  /** Flat field (mean 1) at binned size (block average). */
  flat: Float32Array;
  /** Thermal dark current e-/s per (binned) pixel at the frame temperature, without amp glow. */
  darkCurrent: Float32Array;
  /** Amp glow e-/s per (binned) pixel. */
  glow: Float32Array;
  hotPixels: HotPixel[];
  cosmicHits: { x: number; y: number; electrons: number }[];
  width: number;
  height: number;
}

export interface SimFrame {
  image: Image;
  truth: FrameTruth;
}

const BAYER_OFFSETS: Record<BayerPattern, string> = { RGGB: 'RGGB', BGGR: 'BGGR', GRBG: 'GRBG', GBRG: 'GBRG' };

function colourAt(pattern: string, x: number, y: number): number {
  const ch = pattern[(y & 1) * 2 + (x & 1)]!;
  return ch === 'R' ? 0 : ch === 'G' ? 1 : 2;
}

/** Build the fixed per-camera maps from a seed. */
export function createCamera(sensor: SensorModel, seed: number): CameraInstance {
  const { width: w, height: h } = sensor;
  const n = w * h;
  const rng = new Rng(seed ^ 0x5eed1e55);
  // Bias: level + column structure + a faint vertical gradient + fixed pattern per pixel.
  const bias = new Float32Array(n);
  const col = new Float64Array(w);
  for (let x = 0; x < w; x++) col[x] = sensor.biasColumnRms * rng.gauss();
  for (let y = 0; y < h; y++) {
    const g = 2 * (y / h - 0.5);
    for (let x = 0; x < w; x++) bias[y * w + x] = sensor.biasLevel + col[x]! + g + 0.3 * rng.gauss();
  }
  // Dark map: lognormal-ish DSNU around 1, hot pixels.
  const darkMap = new Float32Array(n);
  for (let i = 0; i < n; i++) darkMap[i] = Math.max(0, 1 + sensor.dsnu * rng.gauss());
  const hotPixels: HotPixel[] = [];
  const nHot = Math.round(sensor.hotPixelFraction * n);
  for (let k = 0; k < nHot; k++) {
    const i = rng.int(n);
    const factor = 20 * Math.pow(25, rng.uniform()); // 20 .. 500
    darkMap[i] = factor;
    hotPixels.push({ x: i % w, y: Math.floor(i / w), factor });
  }
  let dm = 0;
  for (let i = 0; i < n; i++) dm += darkMap[i]!;
  const darkMapMean = dm / n;
  // Amp glow from the (w-1, 0) corner.
  const glow = new Float32Array(n);
  if (sensor.ampGlow > 0) {
    const L = 0.12 * Math.hypot(w, h);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) glow[y * w + x] = sensor.ampGlow * Math.exp(-Math.hypot(w - 1 - x, y) / L);
  }
  // Flat field: vignetting (quadratic fall-off to the corners), PRNU, dust donuts, cold pixels.
  const flat = new Float32Array(n);
  const cx = (w - 1) / 2;
  const cy = (h - 1) / 2;
  const rmax2 = cx * cx + cy * cy;
  const dust: CameraInstance['dust'] = [];
  const scale = Math.min(w, h);
  for (let k = 0; k < sensor.dustCount; k++) {
    const rOut = scale * (0.04 + 0.05 * rng.uniform());
    dust.push({ x: rng.uniform() * w, y: rng.uniform() * h, rOut, rIn: rOut * 0.45, depth: 0.03 + 0.05 * rng.uniform() });
  }
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const r2 = ((x - cx) ** 2 + (y - cy) ** 2) / rmax2;
      let v = (1 - sensor.vignetting * r2) * (1 + sensor.prnu * rng.gauss());
      for (const d of dust) {
        const r = Math.hypot(x - d.x, y - d.y);
        if (r < d.rOut + 2) {
          // soft-edged annulus: shadow between rIn and rOut, half depth in the centre (donut)
          const ring = edge((d.rOut - r) / 1.0) * (0.5 + 0.5 * edge((r - d.rIn) / 1.0));
          v *= 1 - d.depth * ring;
        }
      }
      flat[y * w + x] = v;
    }
  }
  const coldPixels: CameraInstance['coldPixels'] = [];
  const nCold = Math.round(sensor.coldPixelFraction * n);
  for (let k = 0; k < nCold; k++) {
    const i = rng.int(n);
    const response = 0.05 + 0.35 * rng.uniform();
    flat[i] = flat[i]! * response;
    coldPixels.push({ x: i % w, y: Math.floor(i / w), response });
  }
  let fm = 0;
  for (let i = 0; i < n; i++) fm += flat[i]!;
  fm /= n;
  for (let i = 0; i < n; i++) flat[i] = flat[i]! / fm;
  let colorIndex: Uint8Array | undefined;
  if (sensor.bayer) {
    if (!(sensor.bayer in BAYER_OFFSETS)) throw new DarkroomError('BAD_ARGUMENT', `unknown Bayer pattern '${sensor.bayer}'`);
    colorIndex = new Uint8Array(n);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) colorIndex[y * w + x] = colourAt(sensor.bayer, x, y);
  }
  let gm = 0;
  for (let i = 0; i < n; i++) gm += glow[i]!;
  const glowMean = gm / n;
  return { sensor, seed, bias, darkMap, glow, flat, colorIndex, hotPixels, coldPixels, dust, darkMapMean, glowMean };
}

function edge(t: number): number {
  return 1 / (1 + Math.exp(-t));
}

function frameSeed(cam: CameraInstance, req: FrameRequest): number {
  const kinds: Record<FrameKind, number> = { bias: 1, dark: 2, flat: 3, flatdark: 4, light: 5 };
  return (Math.imul(cam.seed ^ 0x9e3779b9, 31) + Math.imul(req.seed, 0x01000193) + kinds[req.kind] * 7919) >>> 0;
}

export const IMAGETYP: Record<FrameKind, string> = {
  bias: 'Bias Frame',
  dark: 'Dark Frame',
  flat: 'Flat Field',
  flatdark: 'Flat Dark',
  light: 'Light Frame',
};

/** Produce one frame: a pure function of the camera instance and the request. */
export function simulateFrame(cam: CameraInstance, req: FrameRequest): SimFrame {
  const s = cam.sensor;
  const b = req.binning ?? 1;
  if (!(Number.isInteger(b) && b >= 1 && b <= 4)) throw new DarkroomError('BAD_ARGUMENT', `binning must be 1..4, got ${b}`);
  const t = req.kind === 'bias' ? 0 : req.exposure;
  if (!(t >= 0)) throw new DarkroomError('BAD_ARGUMENT', `exposure must be >= 0 s, got ${req.exposure}`);
  const W = s.width;
  const H = s.height;
  const w = Math.floor(W / b);
  const h = Math.floor(H / b);
  const n = w * h;
  const rng = new Rng(frameSeed(cam, req));
  const resp = s.colorResponse ?? [1, 1, 1];
  const isLight = req.kind === 'light';
  const isFlat = req.kind === 'flat';

  // Photon signal per unbinned pixel before the flat field (e-): sky + stars (lights), lamp (flats).
  let photon: Float32Array | undefined;
  if (isLight) {
    photon = new Float32Array(W * H);
    photon.fill((req.sky ?? 0) * t);
    if (req.stars && req.stars.length) {
      const dx = req.dither?.dx ?? 0;
      const dy = req.dither?.dy ?? 0;
      const stars = req.stars.map((st) => ({ x: st.x + dx, y: st.y + dy, flux: st.flux * t }));
      renderStars(photon, W, H, stars, req.psf ?? { kind: 'moffat', fwhm: 3, beta: 3 });
    }
  } else if (isFlat) {
    const usable = Math.min(s.fullWell * b * b / s.gain, s.adcMax - s.biasLevel);
    const levelAdu = req.flatLevel ?? 0.45 * usable;
    photon = new Float32Array(W * H);
    // mean response over colours so the mean level is about levelAdu
    const meanResp = cam.colorIndex ? (resp[0] + 2 * resp[1] + resp[2]) / 4 : 1;
    photon.fill((levelAdu * s.gain) / (b * b) / meanResp);
  }

  const dc = darkCurrentAt(s, req.ccdTemp);
  const thermal = req.kind !== 'bias';
  const eExp = new Float64Array(n);
  const truthSignal = new Float32Array(n);
  const truthFlat = new Float32Array(n);
  const truthDark = new Float32Array(n);
  const truthGlow = new Float32Array(n);
  const biasB = new Float32Array(n);
  const inv = 1 / (b * b);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const o = y * w + x;
      let e = 0;
      let sig = 0;
      let fl = 0;
      let dk = 0;
      let gl = 0;
      for (let j = 0; j < b; j++) {
        const row = (y * b + j) * W + x * b;
        for (let i = 0; i < b; i++) {
          const p = row + i;
          const r = cam.colorIndex ? resp[cam.colorIndex[p]!]! : 1;
          const ph = photon ? photon[p]! * r : 0;
          const d = dc * cam.darkMap[p]!;
          const g = cam.glow[p]!;
          e += ph * cam.flat[p]! + (thermal ? (d + g) * t : 0);
          sig += ph;
          fl += cam.flat[p]!;
          dk += d;
          gl += g;
        }
      }
      eExp[o] = e;
      truthSignal[o] = isLight ? sig / s.gain : 0;
      truthFlat[o] = fl * inv;
      truthDark[o] = dk;
      truthGlow[o] = gl;
      biasB[o] = cam.bias[y * b * W + x * b]!;
    }
  }

  // Realization: Poisson, cosmic rays, saturation, clamp, read noise, quantization.
  const electrons = new Float64Array(n);
  for (let i = 0; i < n; i++) electrons[i] = rng.poisson(eExp[i]!);
  const cosmicHits: FrameTruth['cosmicHits'] = [];
  const cosmics = req.cosmics ?? (isLight || req.kind === 'dark');
  if (cosmics && t > 0) {
    const hits = rng.poisson((s.cosmicRate * t * W * H) / 1e6);
    for (let k = 0; k < hits; k++) {
      let x = rng.int(w);
      let y = rng.int(h);
      const len = 1 + rng.int(3);
      const dxs = rng.int(3) - 1;
      const dys = rng.int(3) - 1;
      const energy = 1000 + 19000 * rng.uniform();
      for (let k2 = 0; k2 < len; k2++) {
        if (x < 0 || y < 0 || x >= w || y >= h) break;
        electrons[y * w + x] = electrons[y * w + x]! + energy / len;
        cosmicHits.push({ x, y, electrons: energy / len });
        x += dxs;
        y += dys;
      }
    }
  }
  const fw = s.fullWell * b * b;
  // Black-level clamp (dark current suppression): the camera removes slightly more than the mean dark signal.
  const clamp = s.blackClamp && thermal ? 1.03 * (dc * cam.darkMapMean + cam.glowMean) * t * b * b : 0;
  const img = createImage(w, h, 1);
  const out = img.data[0]!;
  const rnAdu = s.readNoise / s.gain;
  const ig = 1 / s.gain;
  for (let i = 0; i < n; i++) {
    let e = electrons[i]!;
    if (e > fw) e = fw;
    e -= clamp;
    let v = biasB[i]! + e * ig + rnAdu * rng.gauss();
    v = Math.round(v);
    out[i] = v < 0 ? 0 : v > s.adcMax ? s.adcMax : v;
  }

  img.header = frameHeader(s, req, b);
  if (s.bayer && b === 1) img.cfa = s.bayer;
  const hotPixels = b === 1 ? cam.hotPixels : cam.hotPixels.map((p) => ({ ...p, x: Math.floor(p.x / b), y: Math.floor(p.y / b) })).filter((p) => p.x < w && p.y < h);
  return {
    image: img,
    truth: { signal: truthSignal, flat: truthFlat, darkCurrent: truthDark, glow: truthGlow, hotPixels, cosmicHits, width: w, height: h },
  };
}

function frameHeader(s: SensorModel, req: FrameRequest, b: number): FitsHeader {
  const hd = new FitsHeader();
  hd.set('IMAGETYP', IMAGETYP[req.kind], 'frame type');
  hd.set('EXPTIME', req.kind === 'bias' ? 0 : req.exposure, '[s] exposure time', { float: true });
  hd.set('EXPOSURE', req.kind === 'bias' ? 0 : req.exposure, '[s] exposure time', { float: true });
  hd.set('CCD-TEMP', Math.round(req.ccdTemp * 100) / 100, '[C] sensor temperature', { float: true });
  hd.set('SET-TEMP', req.setTemp ?? req.ccdTemp, '[C] cooler set point', { float: true });
  hd.set('XBINNING', b, 'binning factor in x');
  hd.set('YBINNING', b, 'binning factor in y');
  hd.set('XPIXSZ', s.pixelSize * b, '[um] pixel size in x including binning', { float: true });
  hd.set('YPIXSZ', s.pixelSize * b, '[um] pixel size in y including binning', { float: true });
  hd.set('INSTRUME', s.instrument, 'camera');
  hd.set('EGAIN', s.gain, '[e-/ADU] electrons per ADU', { float: true });
  if (s.gainSetting !== undefined) hd.set('GAIN', s.gainSetting, 'camera gain setting');
  if (s.offsetSetting !== undefined) hd.set('OFFSET', s.offsetSetting, 'camera offset setting');
  if (req.filter && req.kind !== 'bias' && req.kind !== 'dark') hd.set('FILTER', req.filter, 'filter');
  const date = req.dateObs ?? new Date(Date.UTC(2024, 0, 1, 20, 0, 0));
  hd.set('DATE-OBS', date.toISOString().slice(0, 23), 'UTC start of exposure');
  if (req.kind === 'light') {
    if (req.object) hd.set('OBJECT', req.object, 'target');
    if (req.ra !== undefined) hd.set('RA', req.ra, '[deg] right ascension of pointing', { float: true });
    if (req.dec !== undefined) hd.set('DEC', req.dec, '[deg] declination of pointing', { float: true });
  }
  if (s.bayer && b === 1) {
    hd.set('BAYERPAT', s.bayer, 'CFA pattern, first row first');
    hd.set('ROWORDER', 'TOP-DOWN', 'row 0 is the first row stored');
  }
  hd.set('SIMULATD', true, 'Darkroom physical camera simulator');
  return hd;
}
