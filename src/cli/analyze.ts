/**
 * `darkroom analyze ...`: sensor characterization (read noise, gain and photon transfer, dark
 * current by the difference method, temperature doubling, amp glow) and checks of a night's folder.
 * Every subcommand prints a readable table, or JSON with --json.
 */
import type { Command } from 'commander';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readFits } from '../fits/index.js';
import { frameMeta } from '../session/metadata.js';
import { DarkroomError } from '../util/errors.js';
import { assertOutputsAreNotInputs } from '../util/paths.js';
import { parseRegion, type Region } from '../analyze/robust.js';
import { measureReadNoise, measureGain, photonTransferCurve, type FramePlane } from '../analyze/gain.js';
import { checkDarkSet, darkCurrentDifference, type DarkCurrentOptions, type DarkFrame } from '../analyze/darkcurrent.js';
import { fitDarkVsTemperature, groupDarksByTemperature, type TemperatureFit, type TemperaturePoint } from '../analyze/temperature.js';
import { ampGlowMap, glowGrowth } from '../analyze/ampglow.js';
import { checkFolder } from '../analyze/checks.js';
import { renderChart } from '../analyze/plot.js';

interface Loaded extends DarkFrame {
  path: string;
  width: number;
  height: number;
  egain?: number;
}

function load(path: string): Loaded {
  const img = readFits(path);
  if (img.channels !== 1) throw new DarkroomError('UNSUPPORTED', `sensor analysis needs raw mono or CFA frames, this one has ${img.channels} planes`, path);
  const m = frameMeta(img.header, path);
  return { path, data: img.data[0]!, width: img.width, height: img.height, exposure: m.exposure, temperature: m.temperature, egain: m.egain };
}

function loadAll(paths: string[]): Loaded[] {
  const out = paths.map(load);
  const f0 = out[0];
  for (const f of out) {
    if (f.width !== f0!.width || f.height !== f0!.height) throw new DarkroomError('MISMATCH', `size ${f.width}x${f.height} differs from ${f0!.width}x${f0!.height} of ${f0!.path}`, f.path);
  }
  return out;
}

function num(v: string | undefined, name: string, positive = true): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || (positive ? n <= 0 : n < 0)) throw new DarkroomError('BAD_ARGUMENT', `${name} must be a ${positive ? 'positive' : 'non-negative'} number, got '${v}'`);
  return n;
}

function fmt(v: number | null | undefined, digits = 3): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '-';
  const a = Math.abs(v);
  return a !== 0 && (a >= 1e6 || a < 1e-3) ? v.toExponential(digits - 1) : v.toPrecision(digits);
}

function table(rows: [string, string][]): string {
  const w = Math.max(...rows.map((r) => r[0].length));
  return rows.map(([k, v]) => `  ${k.padEnd(w)}  ${v}`).join('\n');
}

function out(json: boolean | undefined, obj: unknown, text: () => string): void {
  process.stdout.write(json ? `${JSON.stringify(obj, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2)}\n` : `${text()}\n`);
}

function regionFor(spec: string | undefined, f: Loaded, dflt: 'full' | 'center'): Region {
  return parseRegion(spec, f.width, f.height, dflt);
}

/** Write a chart PNG as DIR/NAME (creating DIR) and return its path. */
function writePlot(dir: string, name: string, png: Uint8Array): string {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw new DarkroomError('IO', `cannot create plot folder: ${(e as Error).message}`, dir);
  }
  const path = join(dir, name);
  writeFileSync(path, png);
  return path;
}

function darkOpts(o: { gain?: string; readNoise?: string; bias?: string[] }, first: Loaded, biases: Loaded[], region: Region): { gain: number; ron: number; ronSource: string } {
  const gain = num(o.gain, '--gain') ?? first.egain;
  if (gain === undefined) throw new DarkroomError('BAD_ARGUMENT', '--gain is required (e-/ADU; no EGAIN in the header)');
  let ron = num(o.readNoise, '--read-noise', false);
  let ronSource = 'given';
  if (ron === undefined) {
    if (biases.length < 2) throw new DarkroomError('BAD_ARGUMENT', '--read-noise is required (e-), or give two bias frames with --bias to measure it');
    ron = measureReadNoise(biases[0]!, biases[1]!, first.width, first.height, region, gain).readNoiseE!;
    ronSource = 'measured from the first two bias frames';
  }
  return { gain, ron, ronSource };

}

/** The darks and the bias frames, loaded together (one size for all). */
function loadDarks(darkPaths: string[], biasPaths: string[] = []): { darks: Loaded[]; biases: Loaded[] } {
  const all = loadAll([...darkPaths, ...biasPaths]);
  return { darks: all.slice(0, darkPaths.length), biases: all.slice(darkPaths.length) };
}

function registerReadNoise(an: Command): void {
  an.command('read-noise')
    .description('read noise from two bias frames: sigma(B1 - B2) / sqrt(2)')
    .argument('<bias1>', 'first bias frame')
    .argument('<bias2>', 'second bias frame')
    .option('--gain <e_per_adu>', 'gain in e-/ADU (for the read noise in electrons; default EGAIN from the header)')
    .option('--region <spec>', "'full' (default), 'center', 'center:F' or 'X0,Y0,W,H'")
    .option('--json', 'print JSON')
    .action(readNoise);
}

/** `analyze read-noise`: sigma(B1 - B2) / sqrt(2) of two bias frames. */
function readNoise(b1p: string, b2p: string, o: { gain?: string; region?: string; json?: boolean }): void {
  const [b1, b2] = loadAll([b1p, b2p]) as [Loaded, Loaded];
  const gain = num(o.gain, '--gain') ?? b1.egain;
  const r = measureReadNoise(b1, b2, b1.width, b1.height, regionFor(o.region, b1, 'full'), gain);
  const res = { read_noise_adu: r.readNoiseAdu, read_noise_e: r.readNoiseE ?? null, gain_e_per_adu: gain ?? null, bias_levels_adu: r.biasMeans, pixels: r.pixels, rejected: r.rejected, files: [b1p, b2p] };
  out(o.json, res, () =>
    [
      'Read noise (two bias frames)',
      table([
        ['read noise', `${fmt(r.readNoiseAdu, 4)} ADU${r.readNoiseE !== undefined ? `  = ${fmt(r.readNoiseE, 4)} e- (gain ${fmt(gain, 4)} e-/ADU)` : '  (give --gain for electrons)'}`],
        ['bias levels', `${fmt(r.biasMeans[0], 6)}  ${fmt(r.biasMeans[1], 6)} ADU`],
        ['pixels', `${r.pixels} (${r.rejected} clipped)`],
      ]),
    ].join('\n'),
  );
}

function registerGain(an: Command): void {
  an.command('gain')
    .description('gain by photon transfer (Janesick) from two flats and two bias frames, or a photon transfer curve with --ptc')
    .option('--flats <files...>', 'two flats of the same exposure and illumination')
    .option('--bias <files...>', 'two bias frames')
    .option('--ptc <files...>', 'flat pairs at several exposures (grouped by EXPTIME, two per exposure)')
    .option('--region <spec>', "'center' (default), 'full', 'center:F' or 'X0,Y0,W,H'")
    .option('--plot <dir>', 'write ptc.png (noise vs signal, log-log) into DIR')
    .option('--json', 'print JSON')
    .action((o: { flats?: string[]; bias?: string[]; ptc?: string[]; region?: string; plot?: string; json?: boolean }) => {
      if (!o.bias || o.bias.length !== 2) throw new DarkroomError('BAD_ARGUMENT', `--bias needs exactly 2 bias frames, got ${o.bias?.length ?? 0}`);
      if (o.ptc) gainPtc(o.ptc, o.bias, o);
      else gainPair(o.flats, o.bias, o);
    });
}

type GainOpts = { region?: string; plot?: string; json?: boolean };

/** The flats grouped by exposure, the first two of each exposure as a pair, shortest first. */
function pairFlatsByExposure(fl: Loaded[]): { f1: FramePlane; f2: FramePlane; exposure: number }[] {
  const byExp = new Map<number, Loaded[]>();
  for (const f of fl) {
    if (f.exposure === undefined) throw new DarkroomError('BAD_HEADER', 'flat has no exposure (EXPTIME/EXPOSURE): needed to pair the flats', f.path);
    const g = byExp.get(f.exposure) ?? [];
    g.push(f);
    byExp.set(f.exposure, g);
  }
  const pairs: { f1: FramePlane; f2: FramePlane; exposure: number }[] = [];
  for (const [t, g] of [...byExp.entries()].sort((a, b) => a[0] - b[0])) {
    if (g.length < 2) throw new DarkroomError('TOO_FEW', `only one flat at exposure ${t} s: the photon transfer curve needs pairs`, g[0]!.path);
    pairs.push({ f1: g[0]!, f2: g[1]!, exposure: t });
  }
  return pairs;
}

function gainPtc(ptcPaths: string[], biasPaths: string[], o: GainOpts): void {
  if (o.plot) assertOutputsAreNotInputs([join(o.plot, 'ptc.png')], [...ptcPaths, ...biasPaths]);
  const fl = loadAll([...ptcPaths, ...biasPaths]);
  const bias = fl.splice(fl.length - 2, 2) as [Loaded, Loaded];
  const f0 = fl[0]!;
  const p = photonTransferCurve(pairFlatsByExposure(fl), bias[0], bias[1], f0.width, f0.height, regionFor(o.region, f0, 'center'));
  let plot: string | null = null;
  if (o.plot) {
    const pts = p.points.map((q) => [q.signal, q.noise] as [number, number]);
    const lin = p.points.filter((q) => q.linear).map((q) => [q.signal, Math.sqrt(q.signal / p.gain + p.readNoiseAdu ** 2)] as [number, number]);
    const { png } = renderChart({ xLog: true, yLog: true, series: [{ points: lin, color: [200, 40, 40], mode: 'line' }, { points: pts, color: [30, 60, 200], mode: 'points' }] });
    plot = writePlot(o.plot, 'ptc.png', png);
  }
  const res = {
    gain_e_per_adu: p.gain,
    read_noise_e: p.readNoiseE,
    read_noise_adu: p.readNoiseAdu,
    linear_range_adu: p.linearRange,
    full_well_adu: p.fullWellAdu,
    full_well_e: p.fullWellE,
    full_well_reached: p.fullWellReached,
    response_nonlinearity_pct: p.responseNonlinearityPct,
    points: p.points.map((q) => ({ exposure: q.exposure ?? null, signal_adu: q.signal, shot_variance_adu2: q.shotVariance, noise_adu: q.noise, gain_e_per_adu: q.gain, linear: q.linear })),
    plot,
  };
  out(o.json, res, () =>
    [
      'Photon transfer curve',
      '  exposure    signal ADU   noise ADU   gain e-/ADU  linear',
      ...p.points.map((q) => `  ${fmt(q.exposure ?? NaN, 4).padStart(8)}  ${fmt(q.signal, 6).padStart(11)}  ${fmt(q.noise, 5).padStart(10)}  ${fmt(q.gain, 4).padStart(12)}  ${q.linear ? 'yes' : 'no'}`),
      table([
        ['gain (linear range)', `${fmt(p.gain, 4)} e-/ADU`],
        ['read noise', `${fmt(p.readNoiseE, 4)} e- (${fmt(p.readNoiseAdu, 4)} ADU)`],
        ['linear range', `${fmt(p.linearRange.min, 5)} .. ${fmt(p.linearRange.max, 5)} ADU above bias`],
        ['full well', `${p.fullWellReached ? '' : '>= '}${fmt(p.fullWellE, 5)} e- (${fmt(p.fullWellAdu, 5)} ADU)${p.fullWellReached ? '' : ': no roll-off seen, take brighter flats'}`],
        ['response non-linearity', p.responseNonlinearityPct === null ? '-' : `${fmt(p.responseNonlinearityPct, 3)}%`],
        ...(plot ? ([['plot', plot]] as [string, string][]) : []),
      ]),
    ].join('\n'),
  );
}

function gainPair(flats: string[] | undefined, biasPaths: string[], o: GainOpts): void {
  if (!flats || flats.length !== 2) throw new DarkroomError('BAD_ARGUMENT', `--flats needs exactly 2 flats (or use --ptc), got ${flats?.length ?? 0}`);
  const [f1, f2, b1, b2] = loadAll([...flats, ...biasPaths]) as [Loaded, Loaded, Loaded, Loaded];
  if (f1.exposure !== undefined && f2.exposure !== undefined && Math.abs(f1.exposure - f2.exposure) > 1e-3 * Math.max(f1.exposure, f2.exposure)) {
    throw new DarkroomError('MISMATCH', `exposure ${f2.exposure} s differs from ${f1.exposure} s of ${f1.path}: the two flats must have the same exposure`, f2.path);
  }
  const g = measureGain(f1, f2, b1, b2, f1.width, f1.height, regionFor(o.region, f1, 'center'));
  const res = {
    gain_e_per_adu: g.gain,
    read_noise_e: g.readNoiseE,
    read_noise_adu: g.readNoiseAdu,
    bias_level_adu: g.biasLevel,
    flat_signal_adu: g.signal,
    flat_scale: g.scale,
    flat_diff_variance_adu2: g.flatDiffVariance,
    bias_diff_variance_adu2: g.biasDiffVariance,
    pixels: g.pixels,
    rejected: g.rejected,
  };
  out(o.json, res, () =>
    [
      'Gain by photon transfer (two flats, two bias frames)',
      table([
        ['gain', `${fmt(g.gain, 4)} e-/ADU`],
        ['read noise', `${fmt(g.readNoiseE, 4)} e- (${fmt(g.readNoiseAdu, 4)} ADU)`],
        ['flat signal', `${fmt(g.signal[0], 6)}  ${fmt(g.signal[1], 6)} ADU above bias ${fmt(g.biasLevel, 6)}`],
        ['flat 2 scaled by', `${fmt(g.scale, 5)}${Math.abs(g.scale - 1) > 0.005 ? '  (panel brightness drifted between the flats)' : ''}`],
        ['pixels', `${g.pixels} (${g.rejected} clipped)`],
      ]),
    ].join('\n'),
  );
}

function registerDarkCurrent(an: Command): void {
  an.command('dark-current')
    .description('dark current by the difference method (2 or an even number of darks of one exposure and temperature)')
    .argument('<darks...>', 'dark frames (even number)')
    .option('--bias <files...>', 'bias frames: for the naive mean(dark - bias)/t comparison (and the read noise)')
    .option('--gain <e_per_adu>', 'gain, e-/ADU (default EGAIN from the header)')
    .option('--read-noise <e>', 'read noise, e- (default: measured from two --bias frames)')
    .option('--temp-tolerance <C>', 'largest temperature difference between darks (default 1)')
    .option('--region <spec>', "'center' (default), 'full', 'center:F' or 'X0,Y0,W,H'")
    .option('--json', 'print JSON')
    .action((darkPaths: string[], o: { bias?: string[]; gain?: string; readNoise?: string; tempTolerance?: string; region?: string; json?: boolean }) => {
      const { darks, biases } = loadDarks(darkPaths, o.bias);
      const tol = num(o.tempTolerance, '--temp-tolerance') ?? 1;
      checkDarkSet(darks, { temperatureTolerance: tol });
      const d0 = darks[0]!;
      const region = regionFor(o.region, d0, 'center');
      const { gain, ron, ronSource } = darkOpts(o, d0, biases, region);
      const r = darkCurrentDifference(darks, { gain, readNoiseE: ron, region, width: d0.width, height: d0.height, biases: biases.length ? biases : undefined, temperatureTolerance: tol });
      const res = {
        dark_current_e_per_s: r.darkCurrent,
        dark_current_mean_e_per_s: r.darkCurrentMean,
        dark_current_noise_e_per_s: r.darkCurrentNoise,
        typical_from: r.typicalFrom,
        typical_offset_e_per_s: r.typicalOffset,
        frames: r.frames,
        method: r.method,
        exposure_s: r.exposure,
        temperature_c: r.temperature,
        gain_e_per_adu: r.gain,
        read_noise_e: r.readNoiseE,
        dark_signal_e: r.darkSignalE,
        progression: r.progression.map((p) => ({ frames: p.frames, dark_current_e_per_s: p.darkCurrent, dark_current_noise_e_per_s: p.darkCurrentNoise, dark_current_mean_e_per_s: p.darkCurrentMean })),
        pair_estimates_e_per_s: r.pairEstimates,
        pair_stdev_e_per_s: r.pairStdev,
        standard_error_e_per_s: r.standardError,
        sigma_adu: r.sigmaAdu,
        below_read_noise: r.belowReadNoise,
        naive: r.naive ? { dark_current_e_per_s: r.naive.darkCurrent, dark_level_adu: r.naive.darkLevel, bias_level_adu: r.naive.biasLevel, reliable: r.naive.reliable, warning: r.naive.warning ?? null } : null,
        warnings: r.warnings,
      };
      out(o.json, res, () =>
        [
          `Dark current, difference method (${r.frames} darks, ${fmt(r.exposure, 4)} s${r.temperature !== null ? `, ${fmt(r.temperature, 3)} C` : ''})`,
          table([
            ['dark current (typical pixel)', `${fmt(r.darkCurrent, 4)} e-/s/pixel (median; ${r.typicalFrom === 'levels' ? 'dark - bias levels' : `levels tied to the difference method, offset ${fmt(r.typicalOffset, 3)} e-/s`})`],
            ['dark current (noise, non-hot mean)', `${fmt(r.darkCurrentNoise, 4)} e-/s/pixel${r.standardError !== null ? `  +- ${fmt(r.standardError, 2)}` : ''}`],
            ['dark current (all pixels)', `${fmt(r.darkCurrentMean, 4)} e-/s/pixel (hot pixels included)`],
            ['dark signal per frame', `${fmt(r.darkSignalE, 4)} e-`],
            ['gain / read noise', `${fmt(gain, 4)} e-/ADU / ${fmt(ron, 4)} e- (${ronSource})`],
            ...(r.naive && r.naive.reliable ? ([['naive mean(dark - bias)/t', `${fmt(r.naive.darkCurrent, 4)} e-/s (agrees)`]] as [string, string][]) : []),
          ]),
          '  frames  Dc typical e-/s  Dc noise e-/s  Dc all e-/s',
          ...r.progression.map((p) => `  ${String(p.frames).padStart(6)}  ${fmt(p.darkCurrent, 4).padStart(15)}  ${fmt(p.darkCurrentNoise, 4).padStart(13)}  ${fmt(p.darkCurrentMean, 4).padStart(11)}`),
          ...r.warnings.map((w) => `  warning: ${w}`),
        ].join('\n'),
      );
    });
}

/** The difference-method dark current of each temperature group (an even number of darks used in each). */
function darkCurrentByTemperature(darks: Loaded[], opts: DarkCurrentOptions): { points: TemperaturePoint[]; notes: string[] } {
  const notes: string[] = [];
  const points: TemperaturePoint[] = [];
  for (const g of groupDarksByTemperature(darks, opts.temperatureTolerance)) {
    const use = g.length % 2 ? g.slice(0, g.length - 1) : g;
    if (use.length < 2) {
      notes.push(`only one dark at ${g[0]!.temperature} C (${g[0]!.exposure} s): skipped`);
      continue;
    }
    if (use.length < g.length) notes.push(`odd number of darks at ${g[0]!.temperature} C: ${g[g.length - 1]!.path} not used`);
    const r = darkCurrentDifference(use, opts);
    points.push({ temperature: r.temperature!, darkCurrent: r.darkCurrent, frames: r.frames, exposure: r.exposure });
  }
  return { points, notes };
}

/** Dark current vs temperature (log scale): the measured points and the fitted exponential. */
function temperaturePlot(fit: TemperatureFit): Buffer {
  const ts = fit.points.map((p) => p.temperature);
  const lo = Math.min(...ts);
  const hi = Math.max(...ts);
  const line: [number, number][] = [];
  for (let i = 0; i <= 50; i++) {
    const T = lo + ((hi - lo) * i) / 50;
    line.push([T, fit.darkCurrentAt0 * Math.exp(fit.slope * T)]);
  }
  return renderChart({ yLog: true, series: [{ points: line, color: [200, 40, 40], mode: 'line' }, { points: fit.points.filter((p) => p.used).map((p) => [p.temperature, p.darkCurrent]), color: [30, 60, 200], mode: 'points' }] }).png;
}

function registerTemperature(an: Command): void {
  an.command('temperature')
    .description('dark current vs temperature (log-linear fit) and the doubling temperature, from darks at several temperatures')
    .argument('<darks...>', 'darks: an even number (>= 2) per temperature, same exposure within a temperature')
    .option('--bias <files...>', 'two bias frames to measure the read noise')
    .option('--gain <e_per_adu>', 'gain, e-/ADU (default EGAIN)')
    .option('--read-noise <e>', 'read noise, e-')
    .option('--temp-tolerance <C>', 'darks within this many C form one temperature (default 1)')
    .option('--region <spec>', "'center' (default), 'full', 'center:F' or 'X0,Y0,W,H'")
    .option('--plot <dir>', 'write dark-vs-temperature.png into DIR')
    .option('--json', 'print JSON')
    .action((darkPaths: string[], o: { bias?: string[]; gain?: string; readNoise?: string; tempTolerance?: string; region?: string; plot?: string; json?: boolean }) => {
      if (o.plot) assertOutputsAreNotInputs([join(o.plot, 'dark-vs-temperature.png')], [...darkPaths, ...(o.bias ?? [])]);
      const { darks, biases } = loadDarks(darkPaths, o.bias);
      const d0 = darks[0]!;
      const region = regionFor(o.region, d0, 'center');
      const { gain, ron } = darkOpts(o, d0, biases, region);
      const tol = num(o.tempTolerance, '--temp-tolerance') ?? 1;
      const { points, notes } = darkCurrentByTemperature(darks, { gain, readNoiseE: ron, region, width: d0.width, height: d0.height, temperatureTolerance: tol });
      const fit = fitDarkVsTemperature(points);
      const plot = o.plot ? writePlot(o.plot, 'dark-vs-temperature.png', temperaturePlot(fit)) : null;
      const res = {
        doubling_temperature_c: fit.doublingTemperature,
        doubling_temperature_stderr_c: fit.doublingStdErr,
        dark_current_at_0c_e_per_s: fit.darkCurrentAt0,
        slope_ln_per_c: fit.slope,
        rms_log_residual: fit.rmsLogResidual,
        gain_e_per_adu: gain,
        read_noise_e: ron,
        points: fit.points.map((p) => ({ temperature_c: p.temperature, dark_current_e_per_s: p.darkCurrent, fitted_e_per_s: p.fitted, frames: p.frames, exposure_s: p.exposure, used: p.used })),
        notes,
        plot,
      };
      out(o.json, res, () =>
        [
          'Dark current vs temperature (difference method per temperature, log-linear fit)',
          '  temp C   frames  Dc e-/s     fitted e-/s',
          ...fit.points.map((p) => `  ${fmt(p.temperature, 3).padStart(6)}  ${String(p.frames ?? '').padStart(6)}  ${fmt(p.darkCurrent, 4).padStart(10)}  ${fmt(p.fitted, 4).padStart(10)}${p.used ? '' : '  (not used: not positive)'}`),
          table([
            ['doubling temperature', `${fmt(fit.doublingTemperature, 3)} C${fit.doublingStdErr !== null ? ` +- ${fmt(fit.doublingStdErr, 2)}` : ''}`],
            ['dark current at 0 C', `${fmt(fit.darkCurrentAt0, 4)} e-/s`],
            ...(plot ? ([['plot', plot]] as [string, string][]) : []),
          ]),
          ...notes.map((n) => `  note: ${n}`),
        ].join('\n'),
      );
    });
}

function registerAmpGlow(an: Command): void {
  an.command('amp-glow')
    .description('amp glow map (binned block medians of dark - bias) and its growth with exposure')
    .argument('<darks...>', 'darks (one or more exposures)')
    .option('--bias <file>', 'a bias frame (or master bias) to subtract')
    .option('--bin <n>', 'block size in pixels (default 32)')
    .option('--json', 'print JSON')
    .action((darkPaths: string[], o: { bias?: string; bin?: string; json?: boolean }) => {
      const all = loadAll([...darkPaths, ...(o.bias ? [o.bias] : [])]);
      const bias = o.bias ? all.pop() : undefined;
      const bin = num(o.bin, '--bin') ?? 32;
      const maps = all.map((d) => ({ d, m: ampGlowMap(d.data, d.width, d.height, bin, bias?.data) }));
      const exps = new Set(all.map((d) => d.exposure));
      const growth = exps.size >= 2 && all.every((d) => d.exposure !== undefined)
        ? glowGrowth(maps.map(({ d, m }) => ({ exposure: d.exposure!, amplitude: m.amplitude })), Math.max(...maps.map(({ m }) => m.blockNoise)))
        : null;
      const res = {
        frames: maps.map(({ d, m }) => ({ file: d.path, exposure_s: d.exposure ?? null, amplitude_adu: m.amplitude, level_adu: m.level, peak: m.peak, location: m.location, block_noise_adu: m.blockNoise })),
        growth: growth ? { slope_adu_per_s: growth.slope, intercept_adu: growth.intercept, max_deviation: growth.maxDeviation, linear: growth.linear, message: growth.message } : null,
      };
      out(o.json, res, () =>
        [
          `Amp glow (${bin}x${bin} block medians${bias ? ', bias subtracted' : ''})`,
          '  exposure  glow ADU   where',
          ...maps.map(({ d, m }) => `  ${fmt(d.exposure ?? NaN, 4).padStart(8)}  ${fmt(m.amplitude, 4).padStart(8)}   ${m.location}  ${d.path}`),
          ...(growth ? [`  ${growth.message}`] : ['  (darks at 2 or more exposures show how the glow grows)']),
        ].join('\n'),
      );
    });
}

function registerCheck(an: Command): void {
  an.command('check')
    .description("check a night's folder: black-level clamp, light leaks, flat exposure, hot pixels, bias stability")
    .argument('<dir>', 'folder with bias/dark/flat/light frames (searched recursively)')
    .option('--gain <e_per_adu>', 'gain, e-/ADU (default EGAIN)')
    .option('--saturation <adu>', 'saturation level, ADU (default 65535)')
    .option('--level <adu>', 'count flat pixels at or above this level (default 60000)')
    .option('--json', 'print JSON')
    .action((dir: string, o: { gain?: string; saturation?: string; level?: string; json?: boolean }) => {
      const r = checkFolder(dir, { gain: num(o.gain, '--gain'), saturation: num(o.saturation, '--saturation'), level: num(o.level, '--level') });
      out(o.json, r, () =>
        [
          `Checks of ${dir}: ${Object.entries(r.frames).filter(([, n]) => n > 0).map(([k, n]) => `${n} ${k}`).join(', ') || 'no classified frames'}`,
          ...r.checks.map((c) => `  ${c.status.toUpperCase().padEnd(4)}  ${c.check.padEnd(17)}  ${c.message}`),
          ...r.skipped.map((s) => `  skipped ${s.file}: ${s.reason}`),
        ].join('\n'),
      );
    });
}

export function registerAnalyze(program: Command): void {
  const an = program.command('analyze').description('sensor characterization: read noise, gain (photon transfer), dark current, temperature, amp glow, checks');
  for (const register of [registerReadNoise, registerGain, registerDarkCurrent, registerTemperature, registerAmpGlow, registerCheck]) register(an);
}
