/**
 * The QSI 600-style settings of the simulated camera and their physics (documented in
 * docs/algorithms.md, "Simulated QSI settings"):
 * - gain: high = the sensor's e-/ADU; low = LOW_GAIN_FACTOR x e-/ADU, read noise x 1.1;
 * - readout: image quality = the sensor's read noise and readout time; readout speed = read noise
 *   x FAST_NOISE_FACTOR in FAST_TIME_FACTOR of the time;
 * - pre-exposure flush: each cycle takes FLUSH_FRACTION of a full readout before the shutter opens and
 *   leaves FLUSH_RESIDUAL of the charge before it: residual = RESIDUAL0 * FLUSH_RESIDUAL^n of the
 *   previous frame's charge (below 0.5 e- per pixel it is not simulated);
 * - pixel mask: each masked pixel (unbinned x,y; mapped to its binned pixel) is replaced with the
 *   rounded mean of its unmasked 8 neighbours;
 * - settings are kept in a JSON file when one is given (the camera's memory), written atomically.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Image } from '../../image/image.js';
import { DarkroomError } from '../../util/errors.js';
import { DEFAULT_SETTINGS, PRE_FLUSH_CYCLES, checkSettings } from '../camera-settings.js';
import type { CameraCapabilities, CameraSettings, PixelXY } from '../types.js';
import type { SensorModel } from './sensors.js';

export const LOW_GAIN_FACTOR = 2.6;
export const LOW_GAIN_NOISE = 1.1;
export const FAST_NOISE_FACTOR = 1.5;
export const FAST_TIME_FACTOR = 0.45;
export const FLUSH_FRACTION = 0.05;
export const RESIDUAL0 = 0.002;
export const FLUSH_RESIDUAL = 0.02;
const MAX_MASKED = 1000;

/** What the simulated camera offers on this sensor. */
export function capabilitiesOf(s: SensorModel): CameraCapabilities {
  return {
    fanModes: ['off', 'quiet', 'full'],
    gainModes: ['high', 'low'],
    shutterPriorities: s.interline ? ['mechanical', 'electronic'] : ['mechanical'],
    readoutModes: ['quality', 'speed'],
    preFlushCycles: [...PRE_FLUSH_CYCLES],
    antiBlooming: !!s.antiBloomingGate,
    antiBloomingSelectable: !!s.antiBloomingGate,
    led: true,
    beeper: true,
    maxMaskedPixels: MAX_MASKED,
  };
}

/** The sensor as a frame sees it with these settings: e-/ADU and read noise of the gain and readout modes. */
export function effectiveSensor(s: SensorModel, st: CameraSettings): SensorModel {
  const low = st.gain === 'low';
  const fast = st.readout === 'speed';
  return { ...s, gain: s.gain * (low ? LOW_GAIN_FACTOR : 1), readNoise: s.readNoise * (low ? LOW_GAIN_NOISE : 1) * (fast ? FAST_NOISE_FACTOR : 1) };
}

/** Readout time factor of the readout mode. */
export function readoutFactor(st: CameraSettings): number {
  return st.readout === 'speed' ? FAST_TIME_FACTOR : 1;
}

/** Time the pre-exposure flush takes before the shutter opens, ms. */
export function flushMs(st: CameraSettings, readoutMs: number): number {
  return st.preFlush * FLUSH_FRACTION * readoutMs;
}

/** Fraction of the previous frame's charge left after the flush. */
export function residualFraction(st: CameraSettings): number {
  return RESIDUAL0 * Math.pow(FLUSH_RESIDUAL, st.preFlush);
}

/** Replace the masked pixels of a binned frame (bx x by) with the rounded mean of their unmasked neighbours. */
export function applyPixelMask(img: Image, mask: PixelXY[], bx: number, by: number): void {
  if (!mask.length) return;
  const w = img.width;
  const h = img.height;
  const masked = new Set<number>();
  for (const p of mask) {
    const x = Math.floor(p.x / bx);
    const y = Math.floor(p.y / by);
    if (x < w && y < h) masked.add(y * w + x);
  }
  const d = img.data[0]!;
  const out = new Map<number, number>();
  for (const i of masked) {
    const x = i % w;
    const y = (i - x) / w;
    let sum = 0;
    let n = 0;
    for (let dy = -1; dy <= 1; dy++) {
      for (let dx = -1; dx <= 1; dx++) {
        const xx = x + dx;
        const yy = y + dy;
        if ((dx || dy) && xx >= 0 && yy >= 0 && xx < w && yy < h && !masked.has(yy * w + xx)) {
          sum += d[yy * w + xx]!;
          n++;
        }
      }
    }
    if (n) out.set(i, Math.round(sum / n));
  }
  for (const [i, v] of out) d[i] = v;
}

/** Settings from the camera's file (defaults when there is none); a bad file is one error naming it. */
export function loadSettings(file: string | undefined, caps: CameraCapabilities, size: { width: number; height: number }): CameraSettings {
  if (!file || !existsSync(file)) return { ...DEFAULT_SETTINGS, pixelMask: [] };
  let obj: Partial<CameraSettings>;
  try {
    obj = JSON.parse(readFileSync(file, 'utf8')) as Partial<CameraSettings>;
  } catch (e) {
    throw new DarkroomError('BAD_ARGUMENT', `camera settings are not valid JSON: ${(e as Error).message}`, file);
  }
  const known = Object.fromEntries(Object.entries(obj).filter(([k]) => k in DEFAULT_SETTINGS)) as Partial<CameraSettings>;
  try {
    checkSettings(known, caps, size);
  } catch (e) {
    throw new DarkroomError('BAD_ARGUMENT', `camera settings: ${(e as Error).message}`, file);
  }
  return { ...DEFAULT_SETTINGS, ...known, pixelMask: (known.pixelMask ?? []).map((p) => ({ x: p.x, y: p.y })) };
}

/**
 * Where `--device sim` keeps the simulated camera's settings: $DARKROOM_SIM_SETTINGS, else
 * $XDG_CONFIG_HOME/darkroom/sim-camera.json (~/.config when unset).
 */
export function simSettingsPath(): string {
  const env = process.env.DARKROOM_SIM_SETTINGS;
  if (env) return env;
  return join(process.env.XDG_CONFIG_HOME || join(homedir(), '.config'), 'darkroom', 'sim-camera.json');
}

/** Keep the settings in the camera's file (temp file + rename). */
export function saveSettings(file: string | undefined, st: CameraSettings): void {
  if (!file) return;
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, JSON.stringify(st, null, 1) + '\n');
  renameSync(tmp, file);
}

/**
 * Spill the charge above the full well along each column (a CCD without anti-blooming): the excess
 * fills the pixels above and below in turn, nearest first, each up to the full well.
 */
export function bloom(electrons: Float64Array, w: number, h: number, fullWell: number): void {
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      let excess = electrons[i]! - fullWell;
      if (excess <= 0) continue;
      electrons[i] = fullWell;
      for (let k = 1; excess > 0 && k < h; k++) {
        for (const yy of [y - k, y + k]) {
          if (yy < 0 || yy >= h || excess <= 0) continue;
          const j = yy * w + x;
          const room = fullWell - electrons[j]!;
          if (room <= 0) continue;
          const add = Math.min(room, excess);
          electrons[j] = electrons[j]! + add;
          excess -= add;
        }
        if (y - k < 0 && y + k >= h) break;
      }
    }
  }
}
