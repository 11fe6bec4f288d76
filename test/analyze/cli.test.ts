import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { mkdirSync, readFileSync } from 'node:fs';
import { fileTempDir, runCli } from '../helpers/env.js';
import { makeSensor, frame, writeFrame } from './synth.js';

const dir = fileTempDir('darkroom-analyze-');

const W = 192;
const H = 192;
// CMOS-like clamped sensor: gain 0.8 e-/ADU, read noise 1.8 e-, dark current 0.05 e-/s at 0 C, doubling 6.3 C.
const cmos = makeSensor({ width: W, height: H, gain: 0.8, readNoiseE: 1.8, biasLevel: 300, darkCurrent: 0.05, clamp: true, hotFraction: 0.001, vignetting: 0.2, seed: 77 });
const p = (name: string): string => join(dir, name);
writeFrame(p('b1.fits'), cmos, frame(cmos, { exposure: 0, seed: 1 }), { kind: 'Bias Frame', exposure: 0, temperature: 0 });
writeFrame(p('b2.fits'), cmos, frame(cmos, { exposure: 0, seed: 2 }), { kind: 'Bias Frame', exposure: 0, temperature: 0 });
writeFrame(p('f1.fits'), cmos, frame(cmos, { exposure: 2, flux: 12000, seed: 3 }), { kind: 'Flat Field', exposure: 2 });
writeFrame(p('f2.fits'), cmos, frame(cmos, { exposure: 2, flux: 12250, seed: 4 }), { kind: 'Flat Field', exposure: 2 });
for (let i = 0; i < 4; i++) writeFrame(p(`d${i}.fits`), cmos, frame(cmos, { exposure: 300, temperature: 0, seed: 10 + i }), { kind: 'Dark Frame', exposure: 300, temperature: 0.1 * i });
writeFrame(p('d60.fits'), cmos, frame(cmos, { exposure: 60, temperature: 0, seed: 20 }), { kind: 'Dark Frame', exposure: 60, temperature: 0 });
writeFrame(p('dwarm.fits'), cmos, frame(cmos, { exposure: 300, temperature: 5, seed: 21 }), { kind: 'Dark Frame', exposure: 300, temperature: 5 });

function rel(a: number, b: number): number {
  return Math.abs(a - b) / Math.abs(b);
}

test('analyze read-noise and gain --json on clamped CMOS frames: within 3% of the truth', () => {
  const rn = runCli(['analyze', 'read-noise', p('b1.fits'), p('b2.fits'), '--gain', '0.8', '--json']);
  assert.equal(rn.code, 0, rn.stderr);
  const r = JSON.parse(rn.stdout) as { read_noise_adu: number; read_noise_e: number };
  assert.ok(rel(r.read_noise_adu, Math.sqrt((1.8 / 0.8) ** 2 + 1 / 12)) < 0.03, `read noise ${r.read_noise_adu} ADU`);
  assert.ok(rel(r.read_noise_e, 1.8) < 0.03, `read noise ${r.read_noise_e} e-`);
  const g = runCli(['analyze', 'gain', '--flats', p('f1.fits'), p('f2.fits'), '--bias', p('b1.fits'), p('b2.fits'), '--json']);
  assert.equal(g.code, 0, g.stderr);
  const gj = JSON.parse(g.stdout) as { gain_e_per_adu: number; read_noise_e: number };
  assert.ok(rel(gj.gain_e_per_adu, 0.8) < 0.03, `gain ${gj.gain_e_per_adu}`);
  assert.ok(rel(gj.read_noise_e, 1.8) < 0.05, `read noise ${gj.read_noise_e}`);
});

test('analyze dark-current --json: difference method within 10% on clamped data, naive flagged', () => {
  const r = runCli(['analyze', 'dark-current', p('d0.fits'), p('d1.fits'), p('d2.fits'), p('d3.fits'), '--bias', p('b1.fits'), p('b2.fits'), '--gain', '0.8', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout) as Record<string, unknown> & { naive: { reliable: boolean; dark_current_e_per_s: number }; progression: { frames: number }[] };
  assert.equal(j.method, 'difference-n');
  assert.equal(j.frames, 4);
  assert.ok(rel(j.dark_current_e_per_s as number, 0.05) < 0.1, `Dc ${j.dark_current_e_per_s}`);
  assert.ok((j.dark_current_mean_e_per_s as number) > (j.dark_current_e_per_s as number), 'all-pixel mean includes hot pixels');
  assert.deepEqual(j.progression.map((s) => s.frames), [2, 4]);
  assert.equal(j.naive.reliable, false);
  assert.ok(j.naive.dark_current_e_per_s < 0.025, `naive ${j.naive.dark_current_e_per_s}`);
  const t = runCli(['analyze', 'dark-current', p('d0.fits'), p('d1.fits'), '--gain', '0.8', '--read-noise', '1.8', '--bias', p('b1.fits')]);
  assert.equal(t.code, 0, t.stderr);
  assert.match(t.stdout, /dark current \(typical pixel\)\s+0\.0[45]\d* e-\/s\/pixel/);
  assert.match(t.stdout, /warning: naive mean\(dark - bias\)\/t = .* unreliable: the darks are about as dark as or darker than the bias/);
});

test('analyze dark-current: bad input gives one clear line and exit code 2', () => {
  const cases: [string[], RegExp][] = [
    [[p('d0.fits'), p('d60.fits')], /d60\.fits: exposure 60 s differs from 300 s of .*d0\.fits: the difference method needs darks of the same exposure$/],
    [[p('d0.fits'), p('dwarm.fits')], /dwarm\.fits: temperature 5 C differs from 0 C of .*d0\.fits by more than 1 C: the difference method needs darks at the same temperature$/],
    [[p('d0.fits'), p('d1.fits'), p('d2.fits')], /d2\.fits: the n-dark difference method needs an even number of darks, got 3 \(drop one or add one\)$/],
    [[p('d0.fits'), p('d1.fits'), '--read-noise', '1.8', '--gain', 'abc'], /--gain must be a positive number, got 'abc'$/],
  ];
  for (const [args, re] of cases) {
    const r = runCli(['analyze', 'dark-current', ...args, ...(args.includes('--gain') ? [] : ['--gain', '0.8', '--read-noise', '1.8'])]);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0]!, /^darkroom: /);
    assert.match(lines[0]!, re);
  }
  const glow = runCli(['analyze', 'amp-glow', p('d0.fits'), p('d60.fits'), '--bias', p('b1.fits'), '--bin', '32', '--json']);
  assert.equal(glow.code, 0, glow.stderr);
  const gj = JSON.parse(glow.stdout) as { frames: { exposure_s: number; amplitude_adu: number }[]; growth: { linear: boolean } | null };
  assert.deepEqual(gj.frames.map((f) => f.exposure_s), [300, 60]);
  assert.ok(gj.growth !== null && typeof gj.growth.linear === 'boolean');
  const noRon = runCli(['analyze', 'dark-current', p('d0.fits'), p('d1.fits'), '--gain', '0.8']);
  assert.equal(noRon.code, 2);
  assert.match(noRon.stderr, /--read-noise is required \(e-\), or give two bias frames with --bias to measure it/);
});

test('analyze temperature --json --plot: doubling temperature within 0.5 C, PNG written', () => {
  const s = makeSensor({ width: 128, height: 128, gain: 1.5, readNoiseE: 8, darkCurrent: 0.4, doublingTemp: 6.3, seed: 90 });
  const tdir = join(dir, 'temps');
  mkdirSync(tdir);
  const files: string[] = [];
  for (const T of [-15, -10, -5, 0, 5]) {
    for (let i = 0; i < 2; i++) {
      const f = join(tdir, `dark_${T}_${i}.fits`);
      writeFrame(f, s, frame(s, { exposure: 600, temperature: T, seed: 1000 + 10 * T + i }), { kind: 'DARK', exposure: 600, temperature: T });
      files.push(f);
    }
  }
  const plotDir = join(dir, 'plots');
  const r = runCli(['analyze', 'temperature', ...files, '--gain', '1.5', '--read-noise', '8', '--region', 'full', '--plot', plotDir, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout) as { doubling_temperature_c: number; points: unknown[]; plot: string };
  assert.equal(j.points.length, 5);
  assert.ok(Math.abs(j.doubling_temperature_c - 6.3) < 0.5, `doubling ${j.doubling_temperature_c}`);
  const png = readFileSync(join(plotDir, 'dark-vs-temperature.png'));
  assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
});

test('analyze gain --ptc --plot: gain and full well from flat pairs', () => {
  const s = makeSensor({ width: 96, height: 96, gain: 2, readNoiseE: 10, fullWell: 50000, darkCurrent: 0, hotFraction: 0, seed: 91 });
  const pdir = join(dir, 'ptc');
  mkdirSync(pdir);
  const files: string[] = [];
  [2, 5, 10, 20, 30, 45, 60].forEach((t, k) => {
    for (let i = 0; i < 2; i++) {
      const f = join(pdir, `flat_${t}_${i}.fits`);
      writeFrame(f, s, frame(s, { exposure: t, flux: 1000, seed: 2000 + 2 * k + i }), { kind: 'FLAT', exposure: t });
      files.push(f);
    }
  });
  const b = [0, 1].map((i) => {
    const f = join(pdir, `bias_${i}.fits`);
    writeFrame(f, s, frame(s, { exposure: 0, seed: 3000 + i }), { kind: 'BIAS', exposure: 0 });
    return f;
  });
  const r = runCli(['analyze', 'gain', '--ptc', ...files, '--bias', ...b, '--region', 'full', '--plot', pdir, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout) as { gain_e_per_adu: number; full_well_e: number; full_well_reached: boolean; points: { linear: boolean }[] };
  assert.ok(rel(j.gain_e_per_adu, 2) < 0.03, `gain ${j.gain_e_per_adu}`);
  assert.equal(j.full_well_reached, true);
  assert.ok(j.full_well_e > 0.7 * 50000 && j.full_well_e <= 1.02 * 50000, `full well ${j.full_well_e}`);
  assert.ok(readFileSync(join(pdir, 'ptc.png')).length > 1000);
});

describe('analyze check DIR', () => {
  const night = join(dir, 'night');
  let j: { frames: Record<string, number>; checks: { check: string; status: string; message: string; details?: Record<string, unknown> }[] };
  const by = (c: string) => j.checks.filter((x) => x.check === c);
  before(() => {
    mkdirSync(night);
    const s = makeSensor({ width: 96, height: 96, gain: 0.8, readNoiseE: 1.8, biasLevel: 300, darkCurrent: 0.05, clamp: true, hotFraction: 0.003, seed: 92 });
    for (let i = 0; i < 3; i++) writeFrame(join(night, `Bias_${i}.fits`), s, frame(s, { exposure: 0, seed: 4000 + i }), { kind: 'BIAS', exposure: 0 });
    // Darks: the third one has a light leak (a little light on the sensor).
    for (let i = 0; i < 3; i++) {
      writeFrame(join(night, `Dark_${i}.fits`), s, frame(s, { exposure: 300, seed: 5000 + i, flux: i === 2 ? 0.2 : 0 }), { kind: 'DARK', exposure: 300, temperature: 0, dateObs: `2026-01-01T22:0${i}:00` });
    }
    // An overexposed OSC flat with saturated pixels.
    writeFrame(join(night, 'Flat_0.fits'), s, frame(s, { exposure: 1, flux: 60000, seed: 6000 }), { kind: 'FLAT', exposure: 1, bayer: 'RGGB' });
    const r = runCli(['analyze', 'check', night, '--json']);
    assert.equal(r.code, 0, r.stderr);
    j = JSON.parse(r.stdout);
  });

  test('frames counted by kind; bias stable; black-level clamp warned', () => {
    assert.deepEqual([j.frames.bias, j.frames.dark, j.frames.flat], [3, 3, 1]);
    assert.equal(by('bias-stability')[0]!.status, 'ok');
    assert.equal(by('black-level-clamp')[0]!.status, 'warn', by('black-level-clamp')[0]!.message);
  });

  test('light leak: the dark with light is named', () => {
    const leak = by('light-leak')[0]!;
    assert.equal(leak.status, 'warn', leak.message);
    assert.match(leak.message, /Dark_2\.fits/);
  });

  test('flat exposure: an overexposed OSC flat, with its weakest channel', () => {
    const flat = by('flat-exposure')[0]!;
    assert.equal(flat.status, 'warn');
    assert.match(flat.message, /overexposed/);
    assert.ok((flat.details!.pixels_at_or_above_level as number) > 0);
    assert.ok(['R', 'G', 'B'].includes(flat.details!.weakest_channel as string));
  });

  test('hot pixels: about the simulated fraction', () => {
    const hot = by('hot-pixels')[0]!;
    const count = (hot.details as { count: number }).count;
    assert.ok(count >= 0.5 * 0.003 * 96 * 96 && count <= 2 * 0.003 * 96 * 96, `hot pixels ${count}`);
  });

  test('the text report lists the warnings', () => {
    const t = runCli(['analyze', 'check', night]);
    assert.equal(t.code, 0, t.stderr);
    assert.match(t.stdout, /WARN\s+light-leak/);
  });

  test('a missing folder: one line, exit 2', () => {
    const missing = runCli(['analyze', 'check', join(dir, 'nope')]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /^darkroom: .*nope: no such folder\n$/);
  });
});
