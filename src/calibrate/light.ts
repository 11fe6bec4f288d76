/**
 * Light calibration (docs/algorithms.md#light-calibration):
 *  - plain:     C = (L - MD) / MF * s0                (no bias needed; dark of the same exposure)
 *  - optimize:  C = ((L - MB) - k0 (MD - MB)) / MF * s0, k0 minimizing the noise (darkopt.ts)
 *  - exposure:  same with k0 = t_light / t_dark
 *  - no dark:   C = (L - MB) / MF * s0
 * s0 = mean of the master flat (one per CFA colour with separate CFA flat scaling). Everything is
 * float and keeps negative values; an optional output pedestal is added and the truncation to >= 0
 * happens once, last.
 */
import { DarkroomError } from '../util/errors.js';
import { warningLine, type WarningEvent } from '../util/warnings.js';
import { createImage, type Image } from '../image/image.js';
import { stampStatistics } from '../image/noise-keywords.js';
import { bayerColor } from '../color/cfa.js';
import { applyOverscan, type OverscanSpec } from './overscan.js';
import { optimizeDarkScale, type DarkOptOptions } from './darkopt.js';

export interface Master {
  image: Image;
  path: string;
}

export type DarkMode = 'auto' | 'plain' | 'optimize' | 'exposure';

export interface CalibrateOptions {
  bias?: Master;
  dark?: Master;
  flat?: Master;
  darkMode?: DarkMode;
  /** Output pedestal in ADU, or 'auto' (smallest multiple of 10 keeping clipped pixels under 0.1%). */
  pedestal?: number | 'auto';
  overscan?: OverscanSpec;
  /** One s0 per CFA colour (default: true when the light is a CFA mosaic). */
  separateCfaFlatScaling?: boolean;
  /** Allow dark scaling/optimization although the master dark is not brighter than the master bias. */
  force?: boolean;
  darkOpt?: DarkOptOptions;
  /** Measure the noise and write NOISExx (default true); false: the caller stamps it later (`stampNoise`, after a cosmetic correction). */
  noiseKeywords?: boolean;
  /** Calibrate into the light's own planes (the result's planes are the light's: a light read only to be calibrated); default false. */
  inPlace?: boolean;
}

export interface FrameReport {
  path: string;
  output?: string;
  mode: 'plain' | 'optimize' | 'exposure' | 'bias-only' | 'none';
  k0?: number;
  s0?: number[];
  pedestal: number;
  noise: number;
  clippedPct: number;
  overscanLevels?: number[];
  warnings: string[];
  /** Every warning, structured (`warnings[i]` is the line of `events[i]`: its message, prefixed by its file when that is not the light). */
  events?: WarningEvent[];
}

export interface CalibrateResult {
  image: Image;
  report: FrameReport;
  history: string[];
}

const num = (img: Image, k: string): number | undefined => img.header.getNumber(k);
const exposureOf = (img: Image): number | undefined => num(img, 'EXPTIME') ?? num(img, 'EXPOSURE');
const tempOf = (img: Image): number | undefined => num(img, 'CCD-TEMP') ?? num(img, 'SET-TEMP');

function cfaOf(img: Image): string | undefined {
  return img.cfa ?? img.header.getString('BAYERPAT')?.trim().toUpperCase();
}

/** Refuse masters that cannot apply to this light (one line naming both files). */
export function checkMasterCompatible(light: Image, lightPath: string, m: Master, role: string): void {
  const fail = (what: string): never => {
    throw new DarkroomError('MISMATCH', `${role} ${m.path} does not match: ${what}`, lightPath);
  };
  const mi = m.image;
  if (mi.width !== light.width || mi.height !== light.height || mi.channels !== light.channels) {
    fail(`size ${mi.width}x${mi.height}x${mi.channels} vs light ${light.width}x${light.height}x${light.channels}`);
  }
  for (const k of ['XBINNING', 'YBINNING']) {
    const a = num(light, k) ?? 1;
    const b = num(mi, k) ?? 1;
    if (a !== b) fail(`binning ${k} ${b} vs light ${a}`);
  }
  for (const k of ['GAIN', 'OFFSET']) {
    const a = num(light, k);
    const b = num(mi, k);
    if (a !== undefined && b !== undefined && a !== b) fail(`${k} ${b} vs light ${a}`);
  }
  const ca = cfaOf(light);
  const cb = cfaOf(mi);
  if ((ca ?? 'none') !== (cb ?? 'none')) fail(`CFA layout ${cb ?? 'none (mono)'} vs light ${ca ?? 'none (mono)'}`);
}

/** Colour index (0 R, 1 G, 2 B) at (x, y) of a Bayer pattern. */
export const cfaColour = bayerColor;

/** Non-finite values (NaN, +-Infinity) in all planes of an image. */
export function countNonFinite(img: Image): number {
  let bad = 0;
  for (const p of img.data) for (let i = 0; i < p.length; i++) if (p[i]! - p[i]! !== 0) bad++;
  return bad;
}

/**
 * What a master's planes give every light, computed once per plane (a master's pixels are not modified while
 * lights are calibrated with it: the pipeline, the driver and its threads only read them): the non-finite count
 * of each plane and the flat scales by CFA layout.
 */
const planeBad = new WeakMap<Float32Array, number>();
const planeScales = new WeakMap<Float32Array, Map<string, number[]>>();

/** countNonFinite of a master, each plane counted once. */
function masterNonFinite(img: Image): number {
  let bad = 0;
  for (const p of img.data) {
    let b = planeBad.get(p);
    if (b === undefined) {
      b = 0;
      for (let i = 0; i < p.length; i++) if (p[i]! - p[i]! !== 0) b++;
      planeBad.set(p, b);
    }
    bad += b;
  }
  return bad;
}

/** Whether some pixel of the image is finite (stops at the first). */
function hasFinite(img: Image): boolean {
  for (const p of img.data) for (let i = 0; i < p.length; i++) if (p[i]! - p[i]! === 0) return true;
  return false;
}

function noFinite(path: string, what: string): DarkroomError {
  return new DarkroomError('BAD_ARGUMENT', `the ${what} has no finite pixels (all NaN or infinite): nothing to calibrate${what === 'light' ? '' : ' with'}`, path);
}

function nonFiniteEvent(path: string, what: string, bad: number): WarningEvent {
  return { code: 'NON_FINITE', file: path, count: bad, message: `${bad} pixels of the ${what} are NaN or infinite: NaN in the calibrated light at those pixels` };
}

/**
 * Refuse an image without a single finite pixel (one line naming its file); report one with some
 * (those pixels come out NaN). `what`: 'light', 'master dark', ...
 */
export function checkFinite(img: Image, path: string, what: string, events: WarningEvent[], count: (img: Image) => number = countNonFinite): void {
  const bad = count(img);
  if (bad >= img.width * img.height * img.channels) throw noFinite(path, what);
  if (bad > 0) events.push(nonFiniteEvent(path, what, bad));
}

/** Mean of the finite values. */
function finiteMean(a: Float32Array): number {
  let s = 0;
  let n = 0;
  for (let i = 0; i < a.length; i++) {
    const v = a[i]!;
    if (v - v !== 0) continue;
    s += v;
    n++;
  }
  return n > 0 ? s / n : NaN;
}

/** flatScales of a master flat, once per plane and CFA layout. */
function masterFlatScales(flat: Image, cfa: string | undefined): number[] {
  const key = cfa && cfa.length === 4 ? cfa : '';
  let m = planeScales.get(flat.data[0]!);
  if (!m) planeScales.set(flat.data[0]!, (m = new Map()));
  let s = m.get(key);
  if (!s) m.set(key, (s = flatScales(flat, cfa)));
  return s.slice();
}

/** s0: mean of the master flat, or one mean per CFA colour (finite pixels only). */
export function flatScales(flat: Image, cfa: string | undefined): number[] {
  const f = flat.data[0]!;
  if (!cfa || cfa.length !== 4) return [finiteMean(f)];
  const sum = [0, 0, 0];
  const cnt = [0, 0, 0];
  for (let y = 0; y < flat.height; y++) {
    for (let x = 0; x < flat.width; x++) {
      const v = f[y * flat.width + x]!;
      if (v - v !== 0) continue;
      const c = cfaColour(cfa, x, y);
      sum[c] += v;
      cnt[c]++;
    }
  }
  return sum.map((s, i) => s / cnt[i]!);
}

/** Smallest multiple of 10 ADU keeping the fraction of (finite) pixels below zero under 0.1%. */
export function autoPedestal(all: Float32Array): number {
  const values = all.filter((v) => v - v === 0);
  const n = values.length;
  const allowed = Math.floor(0.001 * n); // number of pixels allowed to clip (strictly fewer than 0.1%)
  const maxClip = allowed > 0 && allowed === 0.001 * n ? allowed - 1 : allowed;
  // the (maxClip+1)-th smallest value q: pixels < -p with p >= -q are at most maxClip
  const copy = Float32Array.from(values).sort();
  let q = copy[maxClip] ?? 0;
  if (q !== q) q = 0;
  if (q >= 0) return 0;
  return Math.ceil(-q / 10) * 10;
}

export function darkIsClamped(bias: Master, dark: Master): { clamped: boolean; darkMean: number; biasMean: number } {
  const darkMean = finiteMean(dark.image.data[0]!);
  const biasMean = finiteMean(bias.image.data[0]!);
  return { clamped: darkMean <= biasMean, darkMean, biasMean };
}

/**
 * What to do when the dark is to be scaled but the master dark is not brighter than the master bias
 * (black-level clamping / dark current suppression: MD - MB is meaningless): fall back to the plain
 * dark ('plain', with a DARK_NOT_SCALED warning), refuse ('refuse', a DarkroomError), or scale anyway
 * ('force', with a DARK_SCALING_FORCED warning).
 */
export type ClampedDark = 'plain' | 'refuse' | 'force';

export interface DarkScalingDecision {
  mode: FrameReport['mode'];
  /** The warning of a fallback or a forced scaling (absent when the dark is brighter than the bias). */
  event?: WarningEvent;
}

/**
 * The dark-darker-than-bias rule, in one place: `mode` ('optimize' or 'exposure' scale the dark) as it
 * may be used with these masters. Other modes, or a missing bias or dark, pass unchanged. `file`: the
 * file the warning or the error names (the light, or the master dark for a whole run).
 */
export function decideDarkScaling(mode: FrameReport['mode'], bias: Master | undefined, dark: Master | undefined, policy: ClampedDark, file?: string): DarkScalingDecision {
  if ((mode !== 'optimize' && mode !== 'exposure') || !bias || !dark) return { mode };
  const c = darkIsClamped(bias, dark);
  if (!c.clamped) return { mode };
  const msg =
    `master dark ${dark.path} (mean ${c.darkMean.toFixed(2)}) is not brighter than master bias ${bias.path} (mean ${c.biasMean.toFixed(2)}): ` +
    `black-level clamping / dark current suppression makes (MD - MB) meaningless, so dark scaling would be wrong; ` +
    `use a dark of the light's exposure without bias, or --force`;
  if (policy === 'refuse') throw new DarkroomError('BAD_ARGUMENT', msg, file);
  if (policy === 'force') return { mode, event: { code: 'DARK_SCALING_FORCED', message: `forced dark scaling although ${msg}`, file } };
  return { mode: 'plain', event: { code: 'DARK_NOT_SCALED', message: `dark not scaled: ${msg}`, file } };
}

type Mode = FrameReport['mode'];
type Warn = (code: WarningEvent['code'], message: string) => void;

/** The dark mode of one light: the requested one checked against the masters, 'auto' resolved by exposure. */
function chooseMode(light: Image, lightPath: string, o: CalibrateOptions, events: WarningEvent[], warn: Warn): { mode: Mode; tL?: number; tD?: number } {
  const tL = exposureOf(light);
  const TL = tempOf(light);
  if (o.dark) {
    const TD = tempOf(o.dark.image);
    if (TL !== undefined && TD !== undefined && Math.abs(TL - TD) > 2) {
      warn('TEMPERATURE_MISMATCH', `master dark ${o.dark.path} was taken at ${TD} C, light at ${TL} C (more than 2 C apart)`);
    }
  }
  let mode: Mode;
  const requested = o.darkMode ?? 'auto';
  const tD = o.dark ? exposureOf(o.dark.image) : undefined;
  const expDiffers = tL !== undefined && tD !== undefined && Math.abs(tL - tD) > 0.01 * Math.max(tL, tD);
  if (!o.dark) {
    if (requested === 'optimize' || requested === 'exposure') throw new DarkroomError('BAD_ARGUMENT', `dark ${requested === 'optimize' ? 'optimization' : 'scaling'} needs a master dark (--dark)`, lightPath);
    mode = o.bias ? 'bias-only' : 'none';
  } else if (requested === 'plain') {
    mode = 'plain';
  } else if (requested === 'optimize' || requested === 'exposure') {
    if (!o.bias) throw new DarkroomError('BAD_ARGUMENT', `dark ${requested === 'optimize' ? 'optimization' : 'scaling'} needs a master bias (--bias): C = ((L - MB) - k0 (MD - MB)) / MF * s0`, lightPath);
    mode = requested;
  } else {
    mode = o.bias && expDiffers ? 'optimize' : 'plain';
  }
  const scaling = decideDarkScaling(mode, o.bias, o.dark, requested === 'auto' ? 'plain' : o.force ? 'force' : 'refuse', lightPath);
  mode = scaling.mode;
  if (scaling.event) events.push(scaling.event);
  if (mode === 'plain' && expDiffers) {
    warn('EXPOSURE_MISMATCH', `master dark ${o.dark!.path} has EXPTIME ${tD} s but the light ${tL} s: without --optimize or --dark-scale exposure the dark current is not scaled`);
  }
  return { mode, tL, tD };
}

/** k0 of a scaled dark (noise minimization or exposure ratio); undefined for the other modes. */
function darkScale(light: Image, lightPath: string, o: CalibrateOptions, m: { mode: Mode; tL?: number; tD?: number }, warn: Warn): number | undefined {
  if (m.mode === 'optimize') {
    const r = optimizeDarkScale(light.data[0]!, o.bias!.image.data[0]!, o.dark!.image.data[0]!, light.width, light.height, o.darkOpt);
    if (r.warning) warn('DARK_OPTIMIZATION', r.warning);
    return r.k;
  }
  if (m.mode === 'exposure') {
    const { tL, tD } = m;
    if (tL === undefined || tD === undefined || !(tD > 0)) throw new DarkroomError('BAD_HEADER', `--dark-scale exposure needs EXPTIME in the light and a master dark with EXPTIME > 0 (${o.dark!.path})`, lightPath);
    return tL / tD;
  }
  return undefined;
}

const MODE_CODE: Record<Mode, number> = { plain: 0, optimize: 1, exposure: 1, 'bias-only': 2, none: 3 };

const ROWS_PER_CALL = 16;

/**
 * Rows [y0, y1) of calibratePlane; adds the light's non-finite pixels and the clipped ones to acc[0] and acc[1]. A
 * function per band of rows, not one loop over the plane: it is optimized after a few bands with the feedback of
 * whole rows (an on-stack-replaced plane loop deoptimizes at the first code it had not seen, and was compiled again
 * for every plane: 2x slower).
 */
function calibrateRows(
  L: Float32Array, C: Float32Array, MB: Float32Array | undefined, MD: Float32Array | undefined, MF: Float32Array | undefined,
  mode: number, k0: number, scale: number[], clip: boolean, ped: number, y0: number, y1: number, width: number, acc: Float64Array,
): void {
  // NaN is a local (a global load first seen mid-loop deoptimizes); the flat's value is computed first and replaced
  // where the flat is undefined or not positive (a nested conditional there boxes the values: 3x slower).
  const nan = NaN;
  const f32 = Math.fround;
  let bad = 0;
  let clipped = 0;
  for (let y = y0; y < y1; y++) {
    const sEven = scale[(y & 1) * 2]!;
    const sOdd = scale[(y & 1) * 2 + 1]!;
    for (let x = 0, i = y * width; x < width; x++, i++) {
      const l = L[i]!;
      if (l - l !== 0) bad++;
      let v: number;
      if (mode === 0) v = l - MD![i]!;
      else if (mode === 1) v = l - MB![i]! - k0 * (MD![i]! - MB![i]!);
      else if (mode === 2) v = l - MB![i]!;
      else v = l;
      // undefined (NaN or Inf in the light or a master): NaN
      if (v - v !== 0) v = nan;
      else v = f32(v);
      if (MF !== undefined) {
        const f = MF[i]!;
        let q = f32((v / f) * ((x & 1) === 0 ? sEven : sOdd));
        if (f - f !== 0) q = nan;
        else if (!(f > 0)) q = 0;
        v = q;
      }
      if (clip) {
        v += ped;
        if (v < 0) {
          clipped++;
          v = 0;
        }
      }
      C[i] = v;
    }
  }
  acc[0] += bad;
  acc[1] += clipped;
}

/**
 * C = (L - dark term) / MF * s0 (+ pedestal, truncated to >= 0) in one pass over the plane, counting the light's
 * non-finite pixels and the clipped ones (`mode`: MODE_CODE; `scale[(y & 1) * 2 + (x & 1)]`: the flat scale of pixel
 * (x, y); `pedestal` null: no clip yet). Each value is rounded to float32 where the two-pass reference stored it
 * (after the dark term, after the flat), so the result is bit-identical to it; C may be L (in place).
 */
function calibratePlane(
  L: Float32Array, C: Float32Array, MB: Float32Array | undefined, MD: Float32Array | undefined, MF: Float32Array | undefined,
  mode: number, k0: number, scale: number[], pedestal: number | null, width: number, height: number,
): { bad: number; clipped: number } {
  const acc = new Float64Array(2);
  for (let y = 0; y < height; y += ROWS_PER_CALL) {
    calibrateRows(L, C, MB, MD, MF, mode, k0, scale, pedestal !== null, pedestal ?? 0, y, Math.min(height, y + ROWS_PER_CALL), width, acc);
  }
  return { bad: acc[0]!, clipped: acc[1]! };
}

/** The flat scale of each pixel parity: s0[colour of (x & 1, y & 1)], or s0[0] everywhere. */
function scaleTable(s0: number[] | undefined, cfa: string | undefined): number[] {
  if (!s0) return [1, 1, 1, 1];
  return [0, 1, 2, 3].map((k) => (s0.length === 3 ? s0[cfaColour(cfa!, k & 1, k >> 1)]! : s0[0]!));
}

/**
 * C = (L - dark term) / MF * s0 into `out`, plane by plane, plus the pedestal and the one truncation to >= 0 when
 * `pedestal` is a number (null: left for pedestalAndClip, after the automatic pedestal is found). Undefined values
 * (NaN, Inf) give NaN. Returns the light's non-finite pixels and the clipped ones.
 */
function applyMasters(light: Image, out: Image, o: CalibrateOptions, mode: Mode, k0: number | undefined, cfa: string | undefined, s0: number[] | undefined, pedestal: number | null): { bad: number; clipped: number } {
  const scale = scaleTable(o.flat && s0 ? s0 : undefined, cfa);
  let bad = 0;
  let clipped = 0;
  for (let c = 0; c < light.channels; c++) {
    const MF = s0 ? o.flat?.image.data[c] : undefined;
    const r = calibratePlane(light.data[c]!, out.data[c]!, o.bias?.image.data[c], o.dark?.image.data[c], MF, MODE_CODE[mode], k0 ?? 0, scale, pedestal, light.width, light.height);
    bad += r.bad;
    clipped += r.clipped;
  }
  return { bad, clipped };
}

/** Add the pedestal, then the one truncation to >= 0; returns the clipped pixels. */
function pedestalAndClip(out: Image, pedestal: number): number {
  const n = out.width * out.height;
  let clipped = 0;
  for (const C of out.data) {
    for (let i = 0; i < n; i++) {
      const v = C[i]! + pedestal;
      if (v < 0) {
        clipped++;
        C[i] = 0;
      } else C[i] = v;
    }
  }
  return clipped;
}

/**
 * Measure every channel's noise (image/noise-keywords.ts: MRS on the rows integration measures) and IKSS scale
 * (over all finite pixels, as integration's IKSS) and write them as NOISExx / NOISEFxx / NOISEAxx and IKSCALxx in
 * the image's header: the statistics of the frame before any resampling. Returns channel 0's sigma (the report's noise).
 */
export function stampNoise(img: Image): number {
  return stampStatistics(img)[0]!.sigma;
}

/** Calibrate one light (pure: the input image is not modified, unless `inPlace`). */
export function calibrateLight(lightIn: Image, lightPath: string, o: CalibrateOptions): CalibrateResult {
  const events: WarningEvent[] = [];
  const warn: Warn = (code, message) => void events.push({ code, message, file: lightPath });
  const history: string[] = [];
  // the light's non-finite pixels are counted in the calibration pass (before an overscan correction: here)
  if (o.overscan) checkFinite(lightIn, lightPath, 'light', events);
  else if (!hasFinite(lightIn)) throw noFinite(lightPath, 'light');
  let light = lightIn;
  let overscanLevels: number[] | undefined;
  if (o.overscan) {
    const r = applyOverscan(light, o.overscan, lightPath);
    light = r.image;
    overscanLevels = r.levels;
    const im = o.overscan.image;
    history.push(`overscan: image ${im.x}:${im.y}:${im.w}:${im.h}, levels ${r.levels.map((l) => l.toFixed(2)).join(' ')}`);
  }
  if (o.bias) checkMasterCompatible(light, lightPath, o.bias, 'master bias');
  if (o.dark) checkMasterCompatible(light, lightPath, o.dark, 'master dark');
  if (o.flat) checkMasterCompatible(light, lightPath, o.flat, 'master flat');
  for (const [m, role] of [[o.bias, 'master bias'], [o.dark, 'master dark'], [o.flat, 'master flat']] as const) if (m) checkFinite(m.image, m.path, role, events, masterNonFinite);

  const chosen = chooseMode(light, lightPath, o, events, warn);
  const mode = chosen.mode;
  const out = o.inPlace ? { ...light, data: light.data.slice(), header: light.header.clone() } : createImage(light.width, light.height, light.channels, light.header.clone());
  out.cfa = light.cfa;
  const k0 = darkScale(light, lightPath, o, chosen, warn);
  const cfa = cfaOf(light);
  const separate = o.separateCfaFlatScaling ?? !!cfa;
  const s0 = o.flat ? masterFlatScales(o.flat.image, separate ? cfa : undefined) : undefined;
  const fixed = o.pedestal === 'auto' ? null : o.pedestal ?? 0;
  const pass = applyMasters(light, out, o, mode, k0, cfa, s0, fixed);
  if (!o.overscan && pass.bad > 0) events.unshift(nonFiniteEvent(lightPath, 'light', pass.bad));
  const pedestal = fixed ?? autoPedestal(out.data[0]!);
  const clipped = fixed === null ? pedestalAndClip(out, pedestal) : pass.clipped;
  const clippedPct = (100 * clipped) / (out.width * out.height * out.channels);
  if (clippedPct > 1) {
    warn('CLIPPED', `${clippedPct.toFixed(2)}% of the pixels were clipped at zero: add an output pedestal (--pedestal auto, or e.g. --pedestal 100)`);
  }
  // the noise of every channel (MRS, the rows and estimator integration uses) as NOISExx keywords and the report's
  const noise = o.noiseKeywords === false ? NaN : stampNoise(out);
  const warnings = events.map((e) => (e.file === lightPath ? e.message : warningLine(e)));

  history.push(`calibrate: mode ${mode}${k0 !== undefined ? ` k0 ${k0.toFixed(5)}` : ''}`);
  if (o.bias) history.push(`master bias ${o.bias.path}`);
  if (o.dark) history.push(`master dark ${o.dark.path}`);
  if (o.flat) history.push(`master flat ${o.flat.path}, s0 ${s0!.map((s) => s.toFixed(3)).join(' ')}`);
  history.push(`pedestal ${pedestal} ADU, clipped at zero ${clippedPct.toFixed(4)}%`);
  out.header.set('CALSTAT', `${o.bias && mode !== 'plain' ? 'B' : ''}${o.dark ? 'D' : ''}${o.flat ? 'F' : ''}`, 'calibration applied (Bias, Dark, Flat)');
  if (k0 !== undefined) out.header.set('DARKSCAL', Number(k0.toFixed(6)), 'dark scaling factor k0', { float: true });
  out.header.set('PEDESTAL', pedestal, '[ADU] output pedestal added');
  return {
    image: out,
    history,
    report: { path: lightPath, mode, k0, s0, pedestal, noise, clippedPct, overscanLevels, warnings, events },
  };
}
