/**
 * A whole simulated night written as FITS files with realistic (MaxIm-like) headers, plus a
 * `truth/` folder: expected signal of each light (ADU), flat field, dark current map, hot pixels.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFits, type FitsHeader } from '../../fits/index.js';
import { createImage } from '../../image/image.js';
import { createCamera, simulateFrame, type CameraInstance, type FrameKind, type FrameRequest, type SimFrame } from './camera.js';
import { NightWriter } from './night.js';
import { darkCurrentAt, sensorModel, type SensorModel } from './sensors.js';
import { randomStarField, type Psf, type SimStar } from './stars.js';
import { VERSION } from '../../version.js';
import type { NightNoise } from '../../analyze/quality.js';

export interface SessionSpec {
  sensor?: string | SensorModel;
  /** Override of the sensor size. */
  width?: number;
  height?: number;
  seed?: number;
  lights?: number;
  darks?: number;
  bias?: number;
  flats?: number;
  flatDarks?: number;
  lightExposure?: number;
  /** Dark exposure (default: the light exposure). */
  darkExposure?: number;
  flatExposure?: number;
  ccdTemp?: number;
  /** Temperature of the darks (default ccdTemp). */
  darkTemp?: number;
  binning?: number;
  filter?: string;
  object?: string;
  ra?: number;
  dec?: number;
  /** Sky e-/s/pixel. */
  sky?: number;
  starCount?: number;
  psf?: Psf;
  /** Dither amplitude in pixels (random offsets between lights). */
  dither?: number;
  /**
   * Meridian flip before this light (0-based): from it on the German mount points from the other side of
   * the pier and the field is rotated 180 degrees on the sensor (PIERSIDE East before, West after).
   */
  meridianFlip?: number;
  start?: Date;
}

export interface SessionFiles {
  dir: string;
  bias: string[];
  darks: string[];
  flats: string[];
  flatDarks: string[];
  lights: string[];
  /** Per light: truth/<name>_signal.fits. */
  truthSignals: string[];
  truthFlat: string;
  truthDark: string;
  truthHotPixels: string;
  camera: CameraInstance;
  stars: SimStar[];
}

function pad(i: number): string {
  return String(i + 1).padStart(3, '0');
}

export function simulateSession(dir: string, spec: SessionSpec = {}): SessionFiles {
  const base = typeof spec.sensor === 'object' ? spec.sensor : sensorModel(spec.sensor ?? 'kaf8300');
  const sensor: SensorModel = { ...base, width: spec.width ?? base.width, height: spec.height ?? base.height };
  const seed = spec.seed ?? 1;
  const cam = createCamera(sensor, seed);
  const tL = spec.lightExposure ?? 300;
  const tD = spec.darkExposure ?? tL;
  const tF = spec.flatExposure ?? 2;
  const T = spec.ccdTemp ?? -10;
  const TD = spec.darkTemp ?? T;
  const filter = spec.filter ?? 'Luminance';
  const object = spec.object ?? 'M 42';
  const truthDir = join(dir, 'truth');
  mkdirSync(truthDir, { recursive: true });
  // the truth is not part of the night: a scan of DIR leaves it out and says so (session/scan.ts IGNORE_FILE)
  writeFileSync(join(dir, '.darkroomignore'), '# written by darkroom simulate: the ground truth is not a frame of the night\ntruth/\n');
  const stars = randomStarField(seed * 7 + 3, sensor.width, sensor.height, spec.starCount ?? Math.round((sensor.width * sensor.height) / 2000), {
    fluxMin: 20,
    fluxMax: 20000,
    margin: 8,
  });
  const flippedStars = stars.map((st) => ({ ...st, x: sensor.width - 1 - st.x, y: sensor.height - 1 - st.y }));
  const files: SessionFiles = {
    dir, bias: [], darks: [], flats: [], flatDarks: [], lights: [], truthSignals: [],
    truthFlat: join(truthDir, 'flat.fits'), truthDark: join(truthDir, 'darkcurrent.fits'), truthHotPixels: join(truthDir, 'hotpixels.txt'),
    camera: cam, stars,
  };
  const night = new NightWriter(cam, {
    start: (spec.start ?? new Date(Date.UTC(2024, 0, 15, 20, 0, 0))).getTime(),
    gapS: 5,
    history: (kind, t) => [`Darkroom ${VERSION} simulator: sensor ${sensor.id} ${sensor.width}x${sensor.height} camera seed ${seed}`, `kind ${kind} exposure ${t} s`],
  });
  const common: Partial<FrameRequest> = { binning: spec.binning ?? 1, filter, object, ra: spec.ra ?? 83.822, dec: spec.dec ?? -5.391 };
  const shoot = (kind: FrameKind, count: number, t: number, temp: number, name: (i: number) => string, list: string[]): void => {
    for (let i = 0; i < count; i++) {
      const path = join(dir, name(i));
      const flipped = kind === 'light' && spec.meridianFlip !== undefined && i >= spec.meridianFlip;
      const pier = kind === 'light' && spec.meridianFlip !== undefined ? (h: FitsHeader) => h.set('PIERSIDE', flipped ? 'WEST' : 'EAST', 'side of the pier the telescope is on') : undefined;
      const f = night.shoot(kind, path, temp, (frameNo) => (kind === 'light' ? { ...common, exposure: t, ...lightExtra(spec, flipped ? flippedStars : stars, frameNo) } : { ...common, exposure: t }), pier);
      list.push(path);
      if (kind === 'light') files.truthSignals.push(writeSignalTruth(join(truthDir, name(i).replace(/\.fits$/, '_signal.fits')), f));
    }
  };
  shoot('bias', spec.bias ?? 10, 0, TD, (i) => `Bias_${pad(i)}.fits`, files.bias);
  shoot('dark', spec.darks ?? 10, tD, TD, (i) => `Dark_${tD}s_${pad(i)}.fits`, files.darks);
  shoot('flat', spec.flats ?? 10, tF, T, (i) => `Flat_${filter}_${pad(i)}.fits`, files.flats);
  shoot('flatdark', spec.flatDarks ?? 0, tF, T, (i) => `FlatDark_${tF}s_${pad(i)}.fits`, files.flatDarks);
  shoot('light', spec.lights ?? 5, tL, T, (i) => `Light_${object.replace(/\s+/g, '')}_${filter}_${tL}s_${pad(i)}.fits`, files.lights);
  writeCameraTruth(files, cam, T, spec.binning ?? 1);
  return files;
}

/** Sky, stars, PSF and the dither offset of light number frameNo (a deterministic hash of the frame number). */
function lightExtra(spec: SessionSpec, stars: SimStar[], frameNo: number): Partial<FrameRequest> {
  const rng = frameNo * 2654435761;
  const a = spec.dither ?? 0;
  return {
    sky: spec.sky ?? 2,
    stars,
    psf: spec.psf ?? { kind: 'moffat', fwhm: 3.2, beta: 3 },
    dither: { dx: a * (((rng >>> 3) % 1000) / 500 - 1), dy: a * (((rng >>> 13) % 1000) / 500 - 1) },
  };
}

/** truth/<light>_signal.fits: the expected sky + star signal of a light in ADU. */
function writeSignalTruth(path: string, f: SimFrame): string {
  const ti = createImage(f.truth.width, f.truth.height, 1);
  ti.data[0]!.set(f.truth.signal);
  ti.header.set('BUNIT', 'ADU', 'expected sky+star signal, no noise or instrument');
  writeFits(path, ti, { history: ['Darkroom simulator truth: expected sky + star signal in ADU (sky * exposure / gain)'] });
  return path;
}

/** Truth maps of the camera at the binned size: flat field, dark current at T, hot pixels. */
function writeCameraTruth(files: SessionFiles, cam: CameraInstance, T: number, b: number): void {
  const probe = simulateFrame(cam, { kind: 'dark', exposure: 1, ccdTemp: T, binning: b, seed: 0, cosmics: false });
  const tf = createImage(probe.truth.width, probe.truth.height, 1);
  tf.data[0]!.set(probe.truth.flat);
  writeFits(files.truthFlat, tf, { history: ['Darkroom simulator truth: flat field (PRNU * vignetting * dust), mean 1'] });
  const td = createImage(probe.truth.width, probe.truth.height, 1);
  td.data[0]!.set(probe.truth.darkCurrent);
  td.header.set('CCD-TEMP', T, '[C] temperature of this dark current map', { float: true });
  td.header.set('BUNIT', 'e-/s', 'thermal dark current (no amp glow)');
  writeFits(files.truthDark, td, { history: ['Darkroom simulator truth: thermal dark current e-/s per pixel at CCD-TEMP'] });
  writeFileSync(files.truthHotPixels, ['# x y factor (dark current relative to the mean)', ...probe.truth.hotPixels.map((p) => `${p.x} ${p.y} ${p.factor.toFixed(1)}`)].join('\n') + '\n');
}

/** What the ideal noise of a stack of this night's lights depends on (per light, per pixel; see analyze/quality.ts). */
export type SessionNoise = Omit<NightNoise, 'margin' | 'photSnr'> & Required<Pick<NightNoise, 'saturation'>>;

/** The noise parameters of a simulated night (unbinned): sky and typical-pixel dark signal of one light. */
export function sessionNoise(files: SessionFiles, spec: SessionSpec = {}): SessionNoise {
  const cam = files.camera;
  const s = cam.sensor;
  const t = spec.lightExposure ?? 300;
  const sorted = Float32Array.from(cam.darkMap).sort();
  const typical = sorted[sorted.length >> 1]!;
  return {
    skyE: (spec.sky ?? 2) * t,
    darkE: (darkCurrentAt(s, spec.ccdTemp ?? -10) * typical + cam.glowMean) * t,
    readNoise: s.readNoise,
    gain: s.gain,
    frames: spec.lights ?? 5,
    colorIndex: cam.colorIndex,
    colorResponse: s.colorResponse,
    saturation: (0.8 * Math.min(s.fullWell, (s.adcMax - s.biasLevel) * s.gain)) / s.gain,
  };
}
