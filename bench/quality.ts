/**
 * Picture quality against Siril 1.0 (issue 15): simulated nights with ground truth, each stacked by
 * `darkroom run` (from source) and by a Siril 1.0 script on the same files (winsorized 3/3 masters,
 * calibration, global star registration, winsorized light stack with -norm=addscale), and both stacks
 * measured against the simulator's truth on their own grids (src/analyze/quality.ts: nb4, large, blk,
 * outliers, HFD, phot). Prints one table per night, side by side, with the ratio Darkroom / Siril
 * (lower is better for every metric), and a second Darkroom run with `--interp bilinear` (Siril 1.0's
 * register resamples bilinearly) with its ratio to Siril: the comparison at the same kernel.
 *
 *   npx tsx bench/quality.ts [--size 1536x1024] [--lights 12] [--cals 10] [--only ccd,cmos-flip,osc,no-bias]
 *                            [--large] [--workers N] [--keep] [--json FILE] [--seed 5]
 * --large adds the 4096x2732 night (minutes). The truth folder is moved beside each night (as
 * bench/pipeline.sh does) so neither tool sees it.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { readFits } from '../src/fits/index.js';
import { sessionNoise, simulateSession, type SessionFiles, type SessionSpec } from '../src/devices/sim/session.js';
import { sensorModel, type SensorModel } from '../src/devices/sim/sensors.js';
import { stackQuality, type NightNoise, type QualityMetrics } from '../src/analyze/quality.js';

export interface Night {
  name: string;
  what: string;
  sensor: SensorModel;
  spec: SessionSpec;
  /** How Siril calibrates: with the bias, or with the shortest darks standing in for it. */
  siril: 'bias' | 'darks-as-bias';
}

const root = new URL('..', import.meta.url).pathname;
const args = process.argv.slice(2);
const arg = (k: string, d?: string): string | undefined => {
  const i = args.indexOf(`--${k}`);
  return i >= 0 ? args[i + 1] : d;
};
const [W, H] = (arg('size', '1536x1024') as string).split('x').map(Number) as [number, number];
const LIGHTS = Number(arg('lights', '12'));
const CALS = Number(arg('cals', '10'));
const SEED = Number(arg('seed', '5'));

/** The nights of the benchmark (the real-night shape of issue 15 last). */
export function nights(w: number, h: number, lights: number, cals: number, large: boolean): Night[] {
  const common = { lights, darks: cals, bias: cals, flats: cals, dither: 8, seed: SEED, starCount: Math.round((w * h) / 1000) };
  const cmos = sensorModel('cmos', { width: w, height: h });
  const list: Night[] = [
    { name: 'ccd', what: 'CCD mono (KAF-8300), bias + 120 s darks', sensor: sensorModel('kaf8300', { width: w, height: h }), spec: { ...common, lightExposure: 120, sky: 2 }, siril: 'bias' },
    { name: 'cmos-flip', what: 'CMOS, clamped black level, meridian flip', sensor: cmos, spec: { ...common, lightExposure: 60, sky: 3, meridianFlip: Math.floor(lights / 2) }, siril: 'bias' },
    { name: 'osc', what: 'OSC RGGB CMOS', sensor: { ...cmos, bayer: 'RGGB', colorResponse: [0.75, 1, 0.85] }, spec: { ...common, lightExposure: 60, sky: 3 }, siril: 'bias' },
    {
      name: 'no-bias',
      what: 'real-night shape: no bias, 1 s darks, 60 s lights, pedestal 1000, 15% vignetting',
      sensor: sensorModel('kaf1603', { width: w, height: h, biasLevel: 1000, vignetting: 0.15 }),
      spec: { ...common, bias: 0, lightExposure: 60, darkExposure: 1, flatExposure: 1, sky: 6, ccdTemp: -31 },
      siril: 'darks-as-bias',
    },
  ];
  if (large) list.push({ name: 'large', what: 'large CCD night 4096x2732', sensor: sensorModel('kaf8300', { width: 4096, height: 2732 }), spec: { ...common, lightExposure: 120, sky: 2, starCount: 6000 }, siril: 'bias' });
  return list;
}

function sh(cmd: string, argv: string[], cwd: string): string {
  const r = spawnSync(cmd, argv, { cwd, encoding: 'utf8', maxBuffer: 256 << 20, env: { ...process.env, NODE_OPTIONS: cmd === process.execPath ? '--import tsx' : '' } });
  if (r.status !== 0) throw new Error(`${cmd} ${argv.join(' ')} failed (${r.status}):\n${(r.stderr || r.stdout).slice(-3000)}`);
  return r.stdout;
}

/** `darkroom run` from source (with more flags: `extra`); returns the stack path. */
function runDarkroom(night: string, out: string, extra: string[] = []): string {
  const workers = arg('workers');
  sh(process.execPath, [join(root, 'src/cli/run.ts'), 'run', night, '--out', out, '--json', '--no-solve', ...extra, ...(workers ? ['--workers', workers] : []), ...(args.includes('--keep') ? ['--keep-intermediates'] : [])], root);
  const rep = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as { stacks: { path: string }[] };
  return join(out, rep.stacks[0]!.path);
}

/** The Siril 1.0 script of a night (the same frames, symlinked into bias/darks/flats/lights). */
function sirilScript(n: Night, osc: boolean): string {
  const bias = n.siril === 'bias';
  return [
    'requires 1.0.0',
    'setext fits',
    ...(bias ? ['cd bias', 'convert bias -out=../process', 'cd ../process', 'stack bias rej w 3 3 -nonorm', 'cd ..'] : []),
    'cd darks', 'convert dark -out=../process', 'cd ../process', 'stack dark rej w 3 3 -nonorm', 'cd ..',
    'cd flats', 'convert flat -out=../process', 'cd ../process',
    `preprocess flat -bias=${bias ? 'bias_stacked' : 'dark_stacked'}`,
    'stack pp_flat rej w 3 3 -norm=mul', 'cd ..',
    'cd lights', 'convert light -out=../process', 'cd ../process',
    `preprocess light ${bias ? '-dark=dark_stacked' : '-bias=dark_stacked'} -flat=pp_flat_stacked${osc ? ' -cfa -equalize_cfa -debayer' : ''}`,
    'register pp_light',
    'stack r_pp_light rej w 3 3 -norm=addscale -out=result',
    '',
  ].join('\n');
}

function runSiril(n: Night, ses: SessionFiles, dir: string): string {
  const s = join(dir, 'siril');
  for (const d of ['bias', 'darks', 'flats', 'lights', 'process']) mkdirSync(join(s, d), { recursive: true });
  const link = (files: string[], d: string): void => files.forEach((f) => symlinkSync(f, join(s, d, basename(f))));
  link(ses.bias, 'bias');
  link(ses.darks, 'darks');
  link(ses.flats, 'flats');
  link(ses.lights, 'lights');
  writeFileSync(join(s, 'night.ssf'), sirilScript(n, !!n.sensor.bayer));
  sh('siril-cli', ['-d', s, '-s', join(s, 'night.ssf')], s);
  const out = readdirSync(join(s, 'process')).find((f) => /^result\.fit/.test(f));
  if (!out) throw new Error(`siril wrote no result in ${s}/process`);
  return join(s, 'process', out);
}

/** Ideal-noise parameters of a night from the simulator's camera. */
export function noiseOf(n: Night, ses: SessionFiles): NightNoise {
  return { ...sessionNoise(ses, n.spec), photSnr: 300 };
}

export function measure(stackPath: string, truthPath: string, noise: NightNoise): QualityMetrics {
  const st = readFits(stackPath);
  const tr = readFits(truthPath);
  return stackQuality(st.data, st.width, st.height, tr.data[0]!, tr.width, tr.height, noise).mean;
}

const METRICS: (keyof QualityMetrics)[] = ['nb4', 'large', 'blk', 'outliers', 'hfd', 'phot'];
/** Diagnostics printed under the metrics (not part of the comparison). */
const DIAG: (keyof QualityMetrics)[] = ['nb8', 'npix', 'nlf', 'largem', 'blkm'];

/** Stars measured for phot: a whole number, or the mean over a colour stack's channels to one decimal. */
const starCount = (n: number): string => (Number.isInteger(n) ? String(n) : n.toFixed(1));

/** One night's table: Darkroom (Lanczos-3), Siril, their ratio; then Darkroom --interp bilinear and its ratio to Siril. */
export function table(n: Night, dr: QualityMetrics, si: QualityMetrics, bl?: QualityMetrics): string {
  const f = (v: number): string => (Number.isFinite(v) ? (Math.abs(v) >= 100 ? v.toFixed(0) : v.toPrecision(3)) : '-');
  const ratio = (a: number, b: number): string => (b ? (a / b).toFixed(2) : '-').padStart(8);
  const head = `  ${'metric'.padEnd(9)}${'darkroom'.padStart(10)}${'siril'.padStart(10)}${'ratio'.padStart(8)}${bl ? `${'dr-bilin'.padStart(10)}${'ratio'.padStart(8)}` : ''}`;
  const lines = [`${n.name}: ${n.what} (${n.sensor.width}x${n.sensor.height}, ${n.spec.lights} lights; phot over ${starCount(dr.photStars)}/${starCount(si.photStars)} stars)`, head];
  for (const k of [...METRICS, ...DIAG]) lines.push(`  ${k.padEnd(9)}${f(dr[k]).padStart(10)}${f(si[k]).padStart(10)}${ratio(dr[k], si[k])}${bl ? `${f(bl[k]).padStart(10)}${ratio(bl[k], si[k])}` : ''}`);
  return lines.join('\n');
}

async function main(): Promise<void> {
  const only = arg('only')?.split(',');
  const list = nights(W, H, LIGHTS, CALS, args.includes('--large')).filter((n) => !only || only.includes(n.name));
  const tmp = mkdtempSync(join(tmpdir(), 'darkroom-bench-quality-'));
  const results: Record<string, { darkroom: QualityMetrics; siril: QualityMetrics; darkroomBilinear: QualityMetrics }> = {};
  try {
    for (const n of list) {
      const dir = join(tmp, n.name);
      const ses = simulateSession(join(dir, 'night'), { ...n.spec, sensor: n.sensor });
      renameSync(join(dir, 'night', 'truth'), join(dir, 'truth'));
      const truth = join(dir, 'truth', basename(ses.truthSignals[0]!));
      const noise = noiseOf(n, ses);
      const dr = measure(runDarkroom(join(dir, 'night'), join(dir, 'darkroom')), truth, noise);
      const bl = measure(runDarkroom(join(dir, 'night'), join(dir, 'darkroom-bilinear'), ['--interp', 'bilinear']), truth, noise);
      const si = measure(runSiril(n, ses, dir), truth, noise);
      results[n.name] = { darkroom: dr, siril: si, darkroomBilinear: bl };
      console.log(table(n, dr, si, bl));
    }
    const json = arg('json');
    if (json) writeFileSync(json, JSON.stringify(results, null, 2));
  } finally {
    if (!args.includes('--keep')) rmSync(tmp, { recursive: true, force: true });
    else console.log(`kept ${tmp}`);
  }
}

if (process.argv[1] && existsSync(process.argv[1]) && import.meta.url.endsWith(basename(process.argv[1]))) {
  main().catch((e: unknown) => {
    console.error(e);
    process.exitCode = 1;
  });
}
