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
 * Refuse an image without a single finite pixel (one line naming its file); report one with some
 * (those pixels come out NaN). `what`: 'light', 'master dark', ...
 */
export function checkFinite(img: Image, path: string, what: string, events: WarningEvent[]): void {
  const bad = countNonFinite(img);
  if (bad >= img.width * img.height * img.channels) {
    throw new DarkroomError('BAD_ARGUMENT', `the ${what} has no finite pixels (all NaN or infinite): nothing to calibrate${what === 'light' ? '' : ' with'}`, path);
  }
  if (bad > 0) events.push({ code: 'NON_FINITE', file: path, count: bad, message: `${bad} pixels of the ${what} are NaN or infinite: NaN in the calibrated light at those pixels` });
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

/** C = (L - dark term) / MF * s0 into `out`, plane by plane; undefined values (NaN, Inf) give NaN. */
function applyMasters(light: Image, out: Image, o: CalibrateOptions, mode: Mode, k0: number | undefined, cfa: string | undefined, s0: number[] | undefined): void {
  const w = light.width;
  const h = light.height;
  const n = w * h;
  for (let c = 0; c < light.channels; c++) {
    const Lc = light.data[c]!;
    const C = out.data[c]!;
    const MB = o.bias?.image.data[c];
    const MD = o.dark?.image.data[c];
    const MF = o.flat?.image.data[c];
    for (let i = 0; i < n; i++) {
      let v: number;
      if (mode === 'plain') v = Lc[i]! - MD![i]!;
      else if (mode === 'optimize' || mode === 'exposure') v = Lc[i]! - MB![i]! - k0! * (MD![i]! - MB![i]!);
      else if (mode === 'bias-only') v = Lc[i]! - MB![i]!;
      else v = Lc[i]!;
      C[i] = v - v === 0 ? v : NaN; // undefined (NaN or Inf in the light or a master): NaN
    }
    if (MF && s0) {
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
          const i = y * w + x;
          const f = MF[i]!;
          const s = s0.length === 3 ? s0[cfaColour(cfa!, x, y)]! : s0[0]!;
          C[i] = f - f !== 0 ? NaN : f > 0 ? (C[i]! / f) * s : 0;
        }
      }
    }
  }
}

/** Add the pedestal, then the one truncation to >= 0; returns the pedestal and the clipped percentage. */
function pedestalAndClip(out: Image, requested: CalibrateOptions['pedestal']): { pedestal: number; clippedPct: number } {
  let pedestal = 0;
  if (requested === 'auto') pedestal = autoPedestal(out.data[0]!);
  else if (typeof requested === 'number') pedestal = requested;
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
  return { pedestal, clippedPct: (100 * clipped) / (n * out.channels) };
}

/**
 * Measure every channel's noise (image/noise-keywords.ts: MRS on the rows integration measures) and IKSS scale
 * (over all finite pixels, as integration's IKSS) and write them as NOISExx / NOISEFxx / NOISEAxx and IKSCALxx in
 * the image's header: the statistics of the frame before any resampling. Returns channel 0's sigma (the report's noise).
 */
export function stampNoise(img: Image): number {
  return stampStatistics(img)[0]!.sigma;
}

/** Calibrate one light (pure: the input image is not modified). */
export function calibrateLight(lightIn: Image, lightPath: string, o: CalibrateOptions): CalibrateResult {
  const events: WarningEvent[] = [];
  const warn: Warn = (code, message) => void events.push({ code, message, file: lightPath });
  const history: string[] = [];
  checkFinite(lightIn, lightPath, 'light', events);
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
  for (const [m, role] of [[o.bias, 'master bias'], [o.dark, 'master dark'], [o.flat, 'master flat']] as const) if (m) checkFinite(m.image, m.path, role, events);

  const chosen = chooseMode(light, lightPath, o, events, warn);
  const mode = chosen.mode;
  const out = createImage(light.width, light.height, light.channels, light.header.clone());
  out.cfa = light.cfa;
  const k0 = darkScale(light, lightPath, o, chosen, warn);
  const cfa = cfaOf(light);
  const separate = o.separateCfaFlatScaling ?? !!cfa;
  const s0 = o.flat ? flatScales(o.flat.image, separate ? cfa : undefined) : undefined;
  applyMasters(light, out, o, mode, k0, cfa, s0);
  const { pedestal, clippedPct } = pedestalAndClip(out, o.pedestal);
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
