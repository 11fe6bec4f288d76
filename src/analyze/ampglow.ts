/**
 * Amp glow: the large-scale structure of the dark signal. The dark (minus the bias when given) is
 * binned into blocks by the median of each block (hot pixels and noise vanish), then the glow
 * amplitude is the brightest block above the median block level. The amplitude is insensitive to a
 * constant offset, so it also works on black-level-clamped CMOS darks.
 * Growth with exposure: a line amplitude = a + b t through the exposures; if the points leave the
 * line (more than 5% of the largest amplitude, and above the measurement noise), the glow does not
 * scale with exposure and dark scaling (or dark optimization) will fail: use darks of matching
 * exposure.
 */
import { median } from '../image/stats.js';
import { DarkroomError } from '../util/errors.js';

export interface GlowMap {
  /** Binned map size and block size. */
  width: number;
  height: number;
  bin: number;
  /** Median of each block minus the median of all blocks, ADU. */
  data: Float32Array;
  /** Median block level (dark - bias), ADU. */
  level: number;
  /** Brightest block above the median level, ADU. */
  amplitude: number;
  /** Centre of the brightest block in frame pixels, and the nearest corner/edge. */
  peak: { x: number; y: number };
  location: string;
  /** Noise of one block median, ADU (1.2533 sigma / sqrt(pixels)). */
  blockNoise: number;
}

export function ampGlowMap(dark: Float32Array, width: number, height: number, bin = 16, bias?: Float32Array): GlowMap {
  if (dark.length !== width * height) throw new DarkroomError('MISMATCH', `dark has ${dark.length} pixels, expected ${width * height}`);
  if (bias && bias.length !== dark.length) throw new DarkroomError('MISMATCH', 'bias and dark differ in size');
  if (!(Number.isInteger(bin) && bin >= 2)) throw new DarkroomError('BAD_ARGUMENT', `--bin must be an integer >= 2, got ${bin}`);
  const bw = Math.floor(width / bin);
  const bh = Math.floor(height / bin);
  if (bw < 2 || bh < 2) throw new DarkroomError('BAD_ARGUMENT', `frame ${width}x${height} too small for ${bin}-pixel blocks`);
  const map = new Float32Array(bw * bh);
  const block = new Float64Array(bin * bin);
  let noiseSum = 0;
  for (let by = 0; by < bh; by++) {
    for (let bx = 0; bx < bw; bx++) {
      let k = 0;
      for (let y = by * bin; y < (by + 1) * bin; y++) {
        const row = y * width;
        for (let x = bx * bin; x < (bx + 1) * bin; x++) block[k++] = dark[row + x]! - (bias ? bias[row + x]! : 0);
      }
      const m = median(block);
      map[by * bw + bx] = m;
      // Robust block sigma from the interquartile-free MAD would need another pass; use the
      // mean absolute deviation about the median (Gaussian: 0.7979 sigma).
      let ad = 0;
      for (let i = 0; i < k; i++) ad += Math.abs(block[i]! - m);
      noiseSum += ad / k / 0.7979;
    }
  }
  const level = median(map);
  let peak = 0;
  for (let i = 0; i < map.length; i++) {
    map[i]! -= level;
    if (map[i]! > map[peak]!) peak = i;
  }
  const px = (peak % bw) * bin + bin / 2;
  const py = Math.floor(peak / bw) * bin + bin / 2;
  const sigma = noiseSum / map.length;
  return {
    width: bw,
    height: bh,
    bin,
    data: map,
    level,
    amplitude: map[peak]!,
    peak: { x: px, y: py },
    location: describeLocation(px, py, width, height),
    blockNoise: (1.2533 * sigma) / bin,
  };
}

function describeLocation(x: number, y: number, w: number, h: number): string {
  const fx = x / w;
  const fy = y / h;
  const vert = fy < 0.25 ? 'first rows' : fy > 0.75 ? 'last rows' : '';
  const horiz = fx < 0.25 ? 'left' : fx > 0.75 ? 'right' : '';
  if (!vert && !horiz) return 'centre';
  return [vert, horiz].filter(Boolean).join(', ');
}

export interface GlowGrowth {
  points: { exposure: number; amplitude: number; fitted: number }[];
  /** ADU per second and ADU at t = 0 of the line fit. */
  slope: number;
  intercept: number;
  /** Largest |residual| relative to the largest amplitude. */
  maxDeviation: number;
  linear: boolean;
  message: string;
}

/** Fit amplitude vs exposure with a line; flag non-linear growth. `noise` is one amplitude's noise. */
export function glowGrowth(points: { exposure: number; amplitude: number }[], noise = 0): GlowGrowth {
  const exps = new Set(points.map((p) => p.exposure));
  if (exps.size < 2) throw new DarkroomError('TOO_FEW', `amp glow growth needs darks at 2 or more exposures, got ${exps.size}`);
  const n = points.length;
  const mx = points.reduce((s, p) => s + p.exposure, 0) / n;
  const my = points.reduce((s, p) => s + p.amplitude, 0) / n;
  let sxx = 0;
  let sxy = 0;
  for (const p of points) {
    sxx += (p.exposure - mx) ** 2;
    sxy += (p.exposure - mx) * (p.amplitude - my);
  }
  const slope = sxy / sxx;
  const intercept = my - slope * mx;
  const maxAmp = Math.max(...points.map((p) => Math.abs(p.amplitude)));
  let maxRes = 0;
  const out = points.map((p) => {
    const fitted = intercept + slope * p.exposure;
    maxRes = Math.max(maxRes, Math.abs(p.amplitude - fitted));
    return { exposure: p.exposure, amplitude: p.amplitude, fitted };
  });
  const maxDeviation = maxAmp > 0 ? maxRes / maxAmp : 0;
  // Two points always fit a line; with 2 exposures also require the line through ~0 at t = 0.
  const interceptOff = exps.size === 2 && Math.abs(intercept) > 0.1 * maxAmp + 3 * noise;
  const linear = exps.size === 2 ? !interceptOff : !(maxDeviation > 0.05 && maxRes > 3 * noise);
  const message = linear
    ? `amp glow grows linearly with exposure (${slope.toPrecision(3)} ADU/s): dark scaling is possible`
    : `amp glow does NOT grow linearly with exposure (deviation ${(maxDeviation * 100).toFixed(0)}% of its amplitude): dark scaling/optimization will fail; use darks of the lights' exposure`;
  return { points: out, slope, intercept, maxDeviation, linear, message };
}
