/**
 * Data checks on a night's calibration frames: dark darker than bias (black-level clamp), light
 * leaks (dark levels drifting over time at fixed exposure), flat exposure (level vs half of
 * saturation, saturated pixel count, weakest CFA channel), hot pixel count, bias level stability.
 * Pure functions on numbers/planes; `checkFolder` reads the files.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { median, madStd } from '../image/stats.js';
import { bayerColor } from '../color/cfa.js';
import { readFits } from '../fits/index.js';
import { frameMeta, type FrameMeta } from '../session/metadata.js';
import { DarkroomError, isDarkroomError } from '../util/errors.js';
import { centralRegion, extractRegion, meanStd } from './robust.js';
import { differenceVariance } from './gain.js';

export type CheckStatus = 'ok' | 'warn' | 'info';

export interface CheckResult {
  check: 'black-level-clamp' | 'light-leak' | 'flat-exposure' | 'hot-pixels' | 'bias-stability' | 'frames';
  status: CheckStatus;
  message: string;
  files?: string[];
  details?: Record<string, unknown>;
}

/**
 * Darks darker than (or as dark as) bias: the black level is clamped (dark current suppression).
 * With a gain, the expected mean dark signal is G * (var(D1 - D2) - var(B1 - B2)) / 2 ADU; if the
 * observed mean(dark) - mean(bias) is below half of it, the level was pulled back.
 */
export function checkBlackLevelClamp(p: { darkMean: number; biasMean: number; darkDiffVariance?: number; biasDiffVariance?: number; gain?: number; exposure?: number }): CheckResult {
  const observed = p.darkMean - p.biasMean;
  let expected: number | undefined;
  if (p.darkDiffVariance !== undefined && p.biasDiffVariance !== undefined && p.gain !== undefined) {
    expected = (p.gain * (p.darkDiffVariance - p.biasDiffVariance)) / 2;
  }
  const details = { dark_mean: p.darkMean, bias_mean: p.biasMean, dark_minus_bias: observed, expected_dark_signal_adu: expected ?? null };
  if (observed <= 0) {
    return { check: 'black-level-clamp', status: 'warn', message: `darks are darker than bias (mean ${observed.toFixed(2)} ADU): black-level clamp / dark current suppression; measure dark current by the difference method, never bias-subtract masters on disk`, details };
  }
  if (expected !== undefined && expected > 1 && observed < 0.5 * expected) {
    return { check: 'black-level-clamp', status: 'warn', message: `darks are only ${observed.toFixed(2)} ADU above bias while their noise implies ${expected.toFixed(2)} ADU of dark signal: black level clamped`, details };
  }
  return { check: 'black-level-clamp', status: 'ok', message: `darks are ${observed.toFixed(2)} ADU above bias${expected !== undefined ? ` (noise implies ${expected.toFixed(2)})` : ''}`, details };
}

/**
 * Light leak / drift: darks of one exposure and temperature should have the same level. A level
 * that changes over the series (in time order) by more than `limit` ADU (default: 3x the bias
 * level spread, at least 2 ADU) points to light getting in (or the bias drifting).
 */
export function checkLightLeak(series: { file: string; level: number; time?: number }[], limit = 2): CheckResult {
  const s = [...series].sort((a, b) => (a.time ?? 0) - (b.time ?? 0));
  const levels = s.map((x) => x.level);
  const lo = Math.min(...levels);
  const hi = Math.max(...levels);
  // Slope vs index (least squares) for the direction of the drift.
  const n = s.length;
  const mi = (n - 1) / 2;
  const ml = levels.reduce((a, b) => a + b, 0) / n;
  let sxx = 0;
  let sxy = 0;
  levels.forEach((l, i) => {
    sxx += (i - mi) ** 2;
    sxy += (i - mi) * (l - ml);
  });
  const slope = sxx > 0 ? sxy / sxx : 0;
  const details = { levels, drift: hi - lo, slope_per_frame: slope, limit };
  if (hi - lo > limit) {
    const worst = s[levels.indexOf(hi)]!.file;
    return { check: 'light-leak', status: 'warn', message: `dark level varies by ${(hi - lo).toFixed(1)} ADU between darks of the same exposure (limit ${limit.toFixed(1)}): light leak or drifting bias (brightest: ${worst})`, files: s.map((x) => x.file), details };
  }
  return { check: 'light-leak', status: 'ok', message: `dark levels stable within ${(hi - lo).toFixed(1)} ADU over ${n} darks`, files: s.map((x) => x.file), details };
}

const CFA_NAMES = ['R', 'G', 'B'];

/** Flat exposure: mean vs half of saturation, saturated pixels, weakest CFA channel. */
export function checkFlatExposure(plane: Float32Array, width: number, height: number, opts: { saturation?: number; level?: number; bayer?: string; file?: string } = {}): CheckResult {
  const sat = opts.saturation ?? 65535;
  const level = opts.level ?? 60000;
  let sum = 0;
  let over = 0;
  const csum = [0, 0, 0];
  const ccnt = [0, 0, 0];
  const pat = opts.bayer && /^[RGB]{4}$/.test(opts.bayer) ? opts.bayer : undefined;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const v = plane[y * width + x]!;
      sum += v;
      if (v >= level) over++;
      if (pat) {
        const c = bayerColor(pat, x, y);
        csum[c]! += v;
        ccnt[c]!++;
      }
    }
  }
  const mean = sum / (width * height);
  const frac = mean / sat;
  const details: Record<string, unknown> = { mean, fraction_of_saturation: frac, saturation: sat, level, pixels_at_or_above_level: over };
  const problems: string[] = [];
  if (frac < 0.2) problems.push(`underexposed: mean ${mean.toFixed(0)} ADU is ${(frac * 100).toFixed(0)}% of saturation (aim for ~50%)`);
  if (frac > 0.8) problems.push(`overexposed: mean ${mean.toFixed(0)} ADU is ${(frac * 100).toFixed(0)}% of saturation (aim for ~50%)`);
  if (over > 0) problems.push(`${over} pixels at or above ${level} ADU`);
  if (pat) {
    const means = csum.map((s, i) => (ccnt[i]! > 0 ? s / ccnt[i]! : NaN));
    let weak = 0;
    for (let i = 1; i < 3; i++) if (means[i]! < means[weak]!) weak = i;
    details.cfa_means = { R: means[0], G: means[1], B: means[2] };
    details.weakest_channel = CFA_NAMES[weak];
    details.weakest_fraction_of_saturation = means[weak]! / sat;
    if (means[weak]! / sat < 0.1) problems.push(`weakest CFA channel ${CFA_NAMES[weak]} at only ${((means[weak]! / sat) * 100).toFixed(1)}% of saturation`);
  }
  const msg = problems.length ? problems.join('; ') : `mean ${mean.toFixed(0)} ADU = ${(frac * 100).toFixed(0)}% of saturation${pat ? `, weakest channel ${details.weakest_channel} ${((details.weakest_fraction_of_saturation as number) * 100).toFixed(0)}%` : ''}`;
  return { check: 'flat-exposure', status: problems.length ? 'warn' : 'ok', message: msg, files: opts.file ? [opts.file] : undefined, details };
}

/** Hot pixels: pixels above median + k * robust sigma (MAD) of a dark (default k = 5). */
export function countHotPixels(plane: Float32Array, k = 5): { count: number; fraction: number; threshold: number } {
  const m = median(plane);
  let s = madStd(plane);
  if (!(s > 0)) s = 1;
  const thr = m + k * s;
  let c = 0;
  for (let i = 0; i < plane.length; i++) if (plane[i]! > thr) c++;
  return { count: c, fraction: c / plane.length, threshold: thr };
}

/** Bias stability: spread of the bias frames' median levels against a limit (default 1 ADU or half the read noise). */
export function checkBiasStability(levels: { file: string; level: number }[], readNoiseAdu?: number): CheckResult {
  const v = levels.map((l) => l.level);
  const range = Math.max(...v) - Math.min(...v);
  const limit = Math.max(1, 0.5 * (readNoiseAdu ?? 0));
  const details = { levels: v, range, stdev: meanStd(v).stdev, limit, read_noise_adu: readNoiseAdu ?? null };
  if (range > limit) return { check: 'bias-stability', status: 'warn', message: `bias level varies by ${range.toFixed(2)} ADU between frames (limit ${limit.toFixed(2)}): unstable bias, consider overscan or more frames`, files: levels.map((l) => l.file), details };
  return { check: 'bias-stability', status: 'ok', message: `bias level stable within ${range.toFixed(2)} ADU over ${levels.length} frames`, details };
}

const FITS_EXT = /\.(fits?|fts)$/i;

function listFits(dir: string): string[] {
  let st;
  try {
    st = statSync(dir);
  } catch {
    throw new DarkroomError('ENOENT', 'no such folder', dir);
  }
  if (!st.isDirectory()) throw new DarkroomError('BAD_ARGUMENT', 'not a folder', dir);
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    const s = statSync(p);
    if (s.isDirectory()) out.push(...listFits(p));
    else if (FITS_EXT.test(name)) out.push(p);
  }
  return out;
}

interface Loaded {
  file: string;
  meta: FrameMeta;
  data: Float32Array;
  width: number;
  height: number;
  time?: number;
}

export interface FolderReport {
  folder: string;
  frames: Record<string, number>;
  skipped: { file: string; reason: string }[];
  checks: CheckResult[];
}

/** Run every check that the folder's frames allow. */
export function checkFolder(dir: string, opts: { gain?: number; saturation?: number; level?: number; hotSigma?: number } = {}): FolderReport {
  const files = listFits(dir);
  const byKind: Record<string, Loaded[]> = { bias: [], dark: [], flat: [], flatdark: [], light: [] };
  const skipped: { file: string; reason: string }[] = [];
  for (const f of files) {
    try {
      const img = readFits(f);
      const meta = frameMeta(img.header, f);
      if (!meta.kind) {
        skipped.push({ file: f, reason: 'unknown frame kind' });
        continue;
      }
      if (img.channels !== 1) {
        skipped.push({ file: f, reason: 'not a mono/CFA frame' });
        continue;
      }
      const t = meta.dateObs ? Date.parse(meta.dateObs.endsWith('Z') ? meta.dateObs : `${meta.dateObs}Z`) : NaN;
      byKind[meta.kind]!.push({ file: f, meta, data: img.data[0]!, width: img.width, height: img.height, time: Number.isFinite(t) ? t : undefined });
    } catch (e) {
      if (!isDarkroomError(e)) throw e;
      skipped.push({ file: f, reason: e.message });
    }
  }
  const frames: Record<string, number> = {};
  for (const [k, v] of Object.entries(byKind)) frames[k] = v.length;
  if (files.length === 0) throw new DarkroomError('NO_IMAGE', 'no FITS files (.fit, .fits, .fts) in folder', dir);
  const checks: CheckResult[] = [];
  const level = (l: Loaded): number => meanStd(extractRegion(l.data, l.width, centralRegion(l.width, l.height))).mean;
  const biases = byKind.bias!;
  const darks = byKind.dark!;
  let ronAdu: number | undefined;
  let biasDiffVar: number | undefined;
  if (biases.length >= 2 && biases[0]!.data.length === biases[1]!.data.length) {
    const r = centralRegion(biases[0]!.width, biases[0]!.height);
    biasDiffVar = differenceVariance(biases[0]!.data, biases[1]!.data, biases[0]!.width, r).variance;
    ronAdu = Math.sqrt(biasDiffVar / 2);
  }
  if (biases.length >= 2) checks.push(checkBiasStability(biases.map((b) => ({ file: b.file, level: median(b.data) })), ronAdu));
  // Darks grouped by exposure and temperature (1 C).
  const groups: Loaded[][] = [];
  for (const d of [...darks].sort((a, b) => (a.meta.exposure ?? 0) - (b.meta.exposure ?? 0))) {
    const g = groups.find((g) => g[0]!.meta.exposure === d.meta.exposure && Math.abs((g[0]!.meta.temperature ?? 0) - (d.meta.temperature ?? 0)) <= 1 && g[0]!.data.length === d.data.length);
    if (g) g.push(d);
    else groups.push([d]);
  }
  const gain = opts.gain ?? darks[0]?.meta.egain ?? biases[0]?.meta.egain;
  for (const g of groups) {
    const d0 = g[0]!;
    const tag = `${d0.meta.exposure ?? '?'} s${d0.meta.temperature !== undefined ? ` at ${d0.meta.temperature} C` : ''}`;
    if (biases.length > 0 && biases[0]!.data.length === d0.data.length) {
      // Median over frames: one leaking dark must not hide the clamp.
      const darkMean = median(g.map(level));
      const biasMean = median(biases.map(level));
      let dv: number | undefined;
      if (g.length >= 2) dv = differenceVariance(g[0]!.data, g[1]!.data, d0.width, centralRegion(d0.width, d0.height)).variance;
      const c = checkBlackLevelClamp({ darkMean, biasMean, darkDiffVariance: dv, biasDiffVariance: biasDiffVar, gain });
      c.message = `darks ${tag}: ${c.message}`;
      c.files = g.map((d) => d.file);
      checks.push(c);
    }
    if (g.length >= 2) {
      const limit = Math.max(2, 3 * (biases.length >= 2 ? (checks.find((c) => c.check === 'bias-stability')?.details?.range as number) : 0));
      const c = checkLightLeak(g.map((d) => ({ file: d.file, level: level(d), time: d.time })), limit);
      c.message = `darks ${tag}: ${c.message}`;
      checks.push(c);
    }
    const hp = countHotPixels(g[0]!.data, opts.hotSigma ?? 5);
    checks.push({ check: 'hot-pixels', status: hp.fraction > 0.01 ? 'warn' : 'info', message: `darks ${tag}: ${hp.count} hot pixels (${(hp.fraction * 100).toFixed(3)}%) above ${hp.threshold.toFixed(1)} ADU`, files: [d0.file], details: hp });
  }
  for (const f of byKind.flat!) {
    checks.push(checkFlatExposure(f.data, f.width, f.height, { saturation: opts.saturation, level: opts.level, bayer: f.meta.bayer, file: f.file }));
  }
  return { folder: dir, frames, skipped, checks };
}
