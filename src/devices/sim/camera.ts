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
 *   Saturation at full well (b^2 full wells when binned; without anti-blooming the charge above it spills
 *   along the column, see qsi.ts bloom); residual charge of the previous frame is added when given; CMOS-like black-level clamp subtracts the
 *   expected dark level of the frame (so darks are about as dark as bias).
 *   ADU = bias(x, y) + e / gain + readNoise / gain * N(0, 1), rounded, clamped to [0, 65535].
 * Truth (no noise, no instrument): signal = R_c * (sky * t + stars) / gain in ADU.
 */
import { Rng } from '../../util/random.js';
import { createImage, type Image } from '../../image/image.js';
import type { FrameKind } from '../../image/frame-kind.js';
import { BAYER_PATTERNS, bayerColor } from '../../color/cfa.js';
import { FitsHeader } from '../../fits/index.js';
import { DarkroomError } from '../../util/errors.js';
import { applyFrameHeader } from '../frame-header.js';
import { renderStars, type Psf, type SimStar } from './stars.js';
import { darkCurrentAt, type SensorModel } from './sensors.js';
import { bloom } from './qsi.js';

export type { FrameKind };

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
  /** Charge above the full well spills along the columns (no anti-blooming; default false: clipped). */
  blooming?: boolean;
  /** Expected residual electrons per (binned) pixel from the previous frame, added before the shot noise. */
  residual?: Float32Array;
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

/** Build the fixed per-camera maps from a seed. */
export function createCamera(sensor: SensorModel, seed: number): CameraInstance {
  const n = sensor.width * sensor.height;
  const rng = new Rng(seed ^ 0x5eed1e55);
  // the draws follow one sequence: bias, dark map and hot pixels, dust, flat field, cold pixels
  const bias = biasMap(sensor, rng);
  const { darkMap, hotPixels } = darkMapOf(sensor, rng);
  const glow = ampGlowMap(sensor);
  const { flat, dust, coldPixels } = flatField(sensor, rng);
  return {
    sensor,
    seed,
    bias,
    darkMap,
    glow,
    flat,
    colorIndex: colourIndexOf(sensor),
    hotPixels,
    coldPixels,
    dust,
    darkMapMean: meanOf(darkMap),
    glowMean: meanOf(glow),
  };
}

function meanOf(a: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]!;
  return s / a.length;
}

/** Bias: level + column structure + a faint vertical gradient + fixed pattern per pixel. */
function biasMap(sensor: SensorModel, rng: Rng): Float32Array {
  const { width: w, height: h } = sensor;
  const bias = new Float32Array(w * h);
  const col = new Float64Array(w);
  for (let x = 0; x < w; x++) col[x] = sensor.biasColumnRms * rng.gauss();
  for (let y = 0; y < h; y++) {
    const g = 2 * (y / h - 0.5);
    for (let x = 0; x < w; x++) bias[y * w + x] = sensor.biasLevel + col[x]! + g + 0.3 * rng.gauss();
  }
  return bias;
}

/** Dark map: lognormal-ish DSNU around 1, hot pixels. */
function darkMapOf(sensor: SensorModel, rng: Rng): { darkMap: Float32Array; hotPixels: HotPixel[] } {
  const w = sensor.width;
  const n = w * sensor.height;
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
  return { darkMap, hotPixels };
}

/** Amp glow from the (w-1, 0) corner. */
function ampGlowMap(sensor: SensorModel): Float32Array {
  const { width: w, height: h } = sensor;
  const glow = new Float32Array(w * h);
  if (sensor.ampGlow > 0) {
    const L = 0.12 * Math.hypot(w, h);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) glow[y * w + x] = sensor.ampGlow * Math.exp(-Math.hypot(w - 1 - x, y) / L);
  }
  return glow;
}

/** Flat field: vignetting (quadratic fall-off to the corners), PRNU, dust donuts, cold pixels; mean 1. */
function flatField(sensor: SensorModel, rng: Rng): Pick<CameraInstance, 'flat' | 'dust' | 'coldPixels'> {
  const { width: w, height: h } = sensor;
  const n = w * h;
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
      flat[y * w + x] = dustShadow((1 - sensor.vignetting * r2) * (1 + sensor.prnu * rng.gauss()), dust, x, y);
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
  const fm = meanOf(flat);
  for (let i = 0; i < n; i++) flat[i] = flat[i]! / fm;
  return { flat, dust, coldPixels };
}

/** v dimmed at (x, y) by the dust donuts: soft-edged annuli, shadow between rIn and rOut, half depth in the centre. */
function dustShadow(v: number, dust: CameraInstance['dust'], x: number, y: number): number {
  for (const d of dust) {
    const r = Math.hypot(x - d.x, y - d.y);
    if (r < d.rOut + 2) {
      const ring = edge((d.rOut - r) / 1.0) * (0.5 + 0.5 * edge((r - d.rIn) / 1.0));
      v *= 1 - d.depth * ring;
    }
  }
  return v;
}

/** Colour index per pixel (0 R, 1 G, 2 B) of a Bayer sensor; undefined for a mono one. */
function colourIndexOf(sensor: SensorModel): Uint8Array | undefined {
  if (!sensor.bayer) return undefined;
  if (!(BAYER_PATTERNS as readonly string[]).includes(sensor.bayer)) throw new DarkroomError('BAD_ARGUMENT', `unknown Bayer pattern '${sensor.bayer}'`);
  const { width: w, height: h } = sensor;
  const colorIndex = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) colorIndex[y * w + x] = bayerColor(sensor.bayer, x, y);
  return colorIndex;
}

function edge(t: number): number {
  return 1 / (1 + Math.exp(-t));
}

function frameSeed(cam: CameraInstance, req: FrameRequest): number {
  const kinds: Record<FrameKind, number> = { bias: 1, dark: 2, flat: 3, flatdark: 4, light: 5 };
  return (Math.imul(cam.seed ^ 0x9e3779b9, 31) + Math.imul(req.seed, 0x01000193) + kinds[req.kind] * 7919) >>> 0;
}

/** Produce one frame: a pure function of the camera instance and the request. */
export function simulateFrame(cam: CameraInstance, req: FrameRequest): SimFrame {
  const s = cam.sensor;
  const b = req.binning ?? 1;
  if (!(Number.isInteger(b) && b >= 1 && b <= 4)) throw new DarkroomError('BAD_ARGUMENT', `binning must be 1..4, got ${b}`);
  const t = req.kind === 'bias' ? 0 : req.exposure;
  if (!(t >= 0)) throw new DarkroomError('BAD_ARGUMENT', `exposure must be >= 0 s, got ${req.exposure}`);
  const w = Math.floor(s.width / b);
  const h = Math.floor(s.height / b);
  const rng = new Rng(frameSeed(cam, req));
  const dc = darkCurrentAt(s, req.ccdTemp);
  const ex = expectedElectrons(cam, req, b, t, dc, photonSignal(cam, req, b, t));
  // Realization: Poisson, cosmic rays, saturation, clamp, read noise, quantization.
  const electrons = new Float64Array(w * h);
  const res = req.residual && req.residual.length === w * h ? req.residual : undefined;
  for (let i = 0; i < electrons.length; i++) electrons[i] = rng.poisson(ex.electrons[i]! + (res ? res[i]! : 0));
  const cosmics = req.cosmics ?? (req.kind === 'light' || req.kind === 'dark');
  const cosmicHits = cosmics && t > 0 ? addCosmicRays(electrons, w, h, rng, (s.cosmicRate * t * s.width * s.height) / 1e6) : [];
  if (req.blooming) bloom(electrons, w, h, s.fullWell * b * b);
  const img = readOut(cam, electrons, ex.bias, w, h, b, req.kind !== 'bias' ? blackClamp(cam, dc, t, b) : 0, rng);
  img.header = frameHeader(s, req, b);
  if (s.bayer && b === 1) img.cfa = s.bayer;
  const hotPixels = b === 1 ? cam.hotPixels : cam.hotPixels.map((p) => ({ ...p, x: Math.floor(p.x / b), y: Math.floor(p.y / b) })).filter((p) => p.x < w && p.y < h);
  const { signal, flat, darkCurrent, glow } = ex;
  return { image: img, truth: { signal, flat, darkCurrent, glow, hotPixels, cosmicHits, width: w, height: h } };
}

/** Photon signal per unbinned pixel before the flat field (e-): sky + stars (lights), lamp (flats); none otherwise. */
function photonSignal(cam: CameraInstance, req: FrameRequest, b: number, t: number): Float32Array | undefined {
  const s = cam.sensor;
  if (req.kind === 'light') {
    const photon = new Float32Array(s.width * s.height);
    photon.fill((req.sky ?? 0) * t);
    if (req.stars && req.stars.length) {
      const dx = req.dither?.dx ?? 0;
      const dy = req.dither?.dy ?? 0;
      const stars = req.stars.map((st) => ({ x: st.x + dx, y: st.y + dy, flux: st.flux * t }));
      renderStars(photon, s.width, s.height, stars, req.psf ?? { kind: 'moffat', fwhm: 3, beta: 3 });
    }
    return photon;
  }
  if (req.kind !== 'flat') return undefined;
  const resp = s.colorResponse ?? [1, 1, 1];
  const usable = Math.min(s.fullWell * b * b / s.gain, s.adcMax - s.biasLevel);
  const levelAdu = req.flatLevel ?? 0.45 * usable;
  const photon = new Float32Array(s.width * s.height);
  // mean response over colours so the mean level is about levelAdu
  const meanResp = cam.colorIndex ? (resp[0] + 2 * resp[1] + resp[2]) / 4 : 1;
  photon.fill((levelAdu * s.gain) / (b * b) / meanResp);
  return photon;
}

interface Expected {
  /** Expected electrons per binned pixel. */
  electrons: Float64Array;
  /** Bias level per binned pixel (the first pixel of the block), ADU. */
  bias: Float32Array;
  signal: Float32Array;
  flat: Float32Array;
  darkCurrent: Float32Array;
  glow: Float32Array;
}

/** Expected electrons of each binned pixel (signal through the flat field + dark current + glow) and the truth maps. */
function expectedElectrons(cam: CameraInstance, req: FrameRequest, b: number, t: number, dc: number, photon: Float32Array | undefined): Expected {
  const s = cam.sensor;
  const W = s.width;
  const w = Math.floor(W / b);
  const n = w * Math.floor(s.height / b);
  const resp = s.colorResponse ?? [1, 1, 1];
  const thermal = req.kind !== 'bias';
  const isLight = req.kind === 'light';
  const out: Expected = { electrons: new Float64Array(n), bias: new Float32Array(n), signal: new Float32Array(n), flat: new Float32Array(n), darkCurrent: new Float32Array(n), glow: new Float32Array(n) };
  const inv = 1 / (b * b);
  for (let o = 0; o < n; o++) {
    const x = o % w;
    const y = (o - x) / w;
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
    out.electrons[o] = e;
    out.signal[o] = isLight ? sig / s.gain : 0;
    out.flat[o] = fl * inv;
    out.darkCurrent[o] = dk;
    out.glow[o] = gl;
    out.bias[o] = cam.bias[y * b * W + x * b]!;
  }
  return out;
}

/** Cosmic-ray tracks (1..3 pixels, straight) added to the electrons; returns the hits. */
function addCosmicRays(electrons: Float64Array, w: number, h: number, rng: Rng, rate: number): FrameTruth['cosmicHits'] {
  const cosmicHits: FrameTruth['cosmicHits'] = [];
  const hits = rng.poisson(rate);
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
  return cosmicHits;
}

/** Black-level clamp (dark current suppression): the camera removes slightly more than the mean dark signal. */
function blackClamp(cam: CameraInstance, dc: number, t: number, b: number): number {
  return cam.sensor.blackClamp ? 1.03 * (dc * cam.darkMapMean + cam.glowMean) * t * b * b : 0;
}

/** Full well, clamp, read noise and quantization: the frame in ADU. */
function readOut(cam: CameraInstance, electrons: Float64Array, bias: Float32Array, w: number, h: number, b: number, clamp: number, rng: Rng): Image {
  const s = cam.sensor;
  const fw = s.fullWell * b * b;
  const img = createImage(w, h, 1);
  const out = img.data[0]!;
  const rnAdu = s.readNoise / s.gain;
  const ig = 1 / s.gain;
  for (let i = 0; i < w * h; i++) {
    let e = electrons[i]!;
    if (e > fw) e = fw;
    e -= clamp;
    let v = bias[i]! + e * ig + rnAdu * rng.gauss();
    v = Math.round(v);
    out[i] = v < 0 ? 0 : v > s.adcMax ? s.adcMax : v;
  }
  return img;
}

const DEFAULT_DATE_OBS = new Date(Date.UTC(2024, 0, 1, 20, 0, 0));

function frameHeader(s: SensorModel, req: FrameRequest, b: number): FitsHeader {
  const hd = applyFrameHeader(new FitsHeader(), {
    type: req.kind,
    exposure: req.kind === 'bias' ? 0 : req.exposure,
    dateObs: req.dateObs ?? DEFAULT_DATE_OBS,
    ccdTemp: req.ccdTemp,
    setTemp: req.setTemp ?? req.ccdTemp,
    binX: b,
    binY: b,
    pixelSizeX: s.pixelSize,
    pixelSizeY: s.pixelSize,
    instrument: s.instrument,
    egain: s.gain,
    gain: s.gainSetting,
    offset: s.offsetSetting,
    filter: req.kind !== 'bias' && req.kind !== 'dark' ? req.filter : undefined,
  });
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
