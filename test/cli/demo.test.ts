import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileTempDir, runCli, fitsverify } from '../helpers/env.js';
import { readFits, readFitsHeader, type FitsHeader } from '../../src/fits/index.js';
import { noiseMRS } from '../../src/image/noise.js';
import { SimCamera } from '../../src/devices/sim/simcamera.js';
import { VirtualClock } from '../../src/acquire/clock.js';

const headersIn = (dir: string): Array<{ name: string; h: FitsHeader }> =>
  readdirSync(dir)
    .filter((n) => n.endsWith('.fit'))
    .sort()
    .map((name) => ({ name, h: readFitsHeader(join(dir, name)).header }));

describe('darkroom demo acquires a small guided LRGB night with the simulators and processes it end to end', () => {
  const dir = fileTempDir();
  const out = join(dir, 'demo');
  const night = join(out, 'night');
  let r: ReturnType<typeof runCli>;
  let flats: ReturnType<typeof headersIn>, flatDarks: ReturnType<typeof headersIn>, bias: ReturnType<typeof headersIn>, darks: ReturnType<typeof headersIn>, lights: ReturnType<typeof headersIn>;
  let byTime: ReturnType<typeof headersIn>;
  let report: { version: number; stacks: Array<{ path: string; filter: string; frames: number }>; masters: Array<{ kind: string; path: string }> };
  before(() => {
    r = runCli(['demo', '--out', out, '--size', '256x200', '--lights', '4', '--seed', '11']);
    assert.equal(r.code, 0, r.stderr.slice(-3000));
    flats = headersIn(join(night, 'calibration', 'flats'));
    flatDarks = headersIn(join(night, 'calibration', 'flat-darks'));
    bias = headersIn(join(night, 'calibration', 'bias'));
    darks = headersIn(join(night, 'calibration', 'darks'));
    lights = headersIn(join(night, 'lights'));
    byTime = [...lights].sort((a, b) => a.h.getString('DATE-OBS')!.localeCompare(b.h.getString('DATE-OBS')!));
    report = JSON.parse(readFileSync(join(out, 'results', 'report.json'), 'utf8')) as typeof report;
  }, { timeout: 300_000 });

  test('progress on stderr: cooling, each frame, guiding, then the pipeline steps', () => {
    assert.match(r.stdout, /demo finished/);
    assert.match(r.stderr, /demo: cooling: stable at -?\d+\.\d+ C after \d+ s/);
    assert.match(r.stderr, /demo: \[1\/64\] calibration\/flats\/Flat_Luminance_3s_001\.fit/);
    assert.match(r.stderr, /demo: \[64\/64\] lights\//);
    assert.match(r.stderr, /demo: guiding: calibrated/);
    assert.match(r.stderr, /demo: guiding: dither .* settled/);
    assert.match(r.stderr, /run: report:/);
  });

  test('the acquired night, as the sequencer wrote it: frame counts, flat filters, flat-darks and darks at their exposures', () => {
    assert.equal(flats.length, 24);
    assert.equal(flatDarks.length, 6);
    assert.equal(bias.length, 10);
    assert.equal(darks.length, 8);
    assert.equal(lights.length, 16);
    assert.deepEqual(new Set(flats.map((f) => f.h.getString('FILTER'))), new Set(['Luminance', 'Red', 'Green', 'Blue']));
    const flatExp = flats[0]!.h.getNumber('EXPTIME');
    for (const f of flatDarks) {
      assert.equal(f.h.getString('IMAGETYP'), 'Flat Dark', f.name);
      assert.equal(f.h.getNumber('EXPTIME'), flatExp, `${f.name}: flat-darks at the flat exposure`);
    }
    for (const f of darks) assert.equal(f.h.getNumber('EXPTIME'), lights[0]!.h.getNumber('EXPTIME'), `${f.name}: darks at the light exposure`);
  });

  test('everything taken cooled: within 0.3 C of the -10 C set point', () => {
    // the sequencer waited for a stable temperature
    for (const f of [...flats, ...flatDarks, ...bias, ...darks, ...lights]) {
      const temp = f.h.getNumber('CCD-TEMP')!;
      assert.ok(Math.abs(temp + 10) < 0.3, `${f.name}: CCD-TEMP ${temp}`);
    }
  });

  test('lights in cycle order L, R, G, B, L, ... by time, all of the one target; calibration frames before them', () => {
    assert.deepEqual(
      byTime.map((f) => f.h.getString('FILTER')),
      Array.from({ length: 16 }, (_, i) => ['Luminance', 'Red', 'Green', 'Blue'][i % 4]),
    );
    for (const f of lights) assert.equal(f.h.getString('OBJECT'), 'NGC 7000');
    // Calibration frames come before the lights.
    const lastCal = [...flats, ...flatDarks, ...bias, ...darks].map((f) => f.h.getString('DATE-OBS')!).sort().at(-1)!;
    assert.ok(lastCal < byTime[0]!.h.getString('DATE-OBS')!);
  });

  test('guiding: a sub-arcsecond RMS (the unguided mount drifts, 7" of periodic error), 15 dithers all settled; acquisition.json agrees', () => {
    const g = /guiding: RMS (\d+\.\d+)" \(RA (\d+\.\d+)", Dec (\d+\.\d+)"\), (\d+) guide frames, (\d+)\/(\d+) dithers settled/.exec(r.stdout);
    assert.ok(g, r.stdout);
    const rms = Number(g[1]);
    assert.ok(rms > 0.05 && rms < 1.2, `guiding RMS ${rms}"`);
    assert.ok(Number(g[4]) > 16 * 50, `guide frames ${g[4]}`);
    assert.equal(Number(g[6]), 15);
    assert.equal(Number(g[5]), 15);
    const acq = JSON.parse(readFileSync(join(out, 'acquisition.json'), 'utf8')) as { frames: number; lightGuideRms: number[]; guide: { rmsTotalArcsec: number } };
    assert.equal(acq.frames, 64);
    assert.equal(acq.lightGuideRms.length, 16);
    assert.equal(acq.guide.rmsTotalArcsec.toFixed(2), g[1]);
  });

  test('report.json: one stack per filter of 4 frames; flats calibrated with the master flat-dark, lights with the master dark', () => {
    assert.equal(report.version, 1);
    assert.deepEqual(report.stacks.map((s) => s.filter).sort(), ['Blue', 'Green', 'Luminance', 'Red']);
    for (const s of report.stacks) assert.equal(s.frames, 4, `${s.path} frames`);
    const kinds = report.masters.map((m) => m.kind).sort();
    // Flats are calibrated with the master flat-dark; lights with the master dark at their exposure.
    for (const k of ['flatdark', 'dark', 'flat']) assert.ok(kinds.includes(k), `a master ${k} (${kinds.join(', ')})`);
    assert.deepEqual(report.masters.filter((m) => m.kind === 'flat').map((m) => /_([A-Za-z]+)\.fits$/.exec(m.path)?.[1]).sort(), ['Blue', 'Green', 'Luminance', 'Red']);
    assert.ok(existsSync(join(out, 'results', 'report.html')));
  });

  test('stacking 4 frames lowers the background noise of one calibrated frame by about 2x', () => {
    const lStack = readFits(join(out, 'results', report.stacks.find((s) => s.filter === 'Luminance')!.path));
    const lRaw = readFits(join(night, 'lights', 'NGC7000_Luminance_120s_001.fit'));
    const nStack = noiseMRS(lStack.data[0]!, lStack.width, lStack.height).sigma;
    const nRaw = noiseMRS(lRaw.data[0]!, lRaw.width, lRaw.height).sigma;
    assert.ok(nStack < nRaw * 0.7, `stack noise ${nStack} vs one frame ${nRaw}`);
  });

  test('the colour picture: 3 planes, passes fitsverify, and its stars have colours (R/B differs between stars)', () => {
    const colourPath = join(out, 'results', 'stacks', 'NGC_7000_LRGB.fits');
    const v = fitsverify(colourPath);
    assert.equal(v.errors + v.warnings, 0, v.text);
    const c = readFits(colourPath);
    assert.equal(c.channels, 3);
    const ratios: number[] = [];
    const [R, , B] = c.data as [Float32Array, Float32Array, Float32Array];
    for (let i = 0; i < R.length; i++) {
      if (R[i]! + B[i]! > 2000 && R[i]! < 20000 && B[i]! < 20000) ratios.push(R[i]! / B[i]!);
    }
    ratios.sort((a, b) => a - b);
    assert.ok(ratios.length > 20, `bright star pixels: ${ratios.length}`);
    const lo = ratios[Math.floor(ratios.length * 0.1)]!;
    const hi = ratios[Math.floor(ratios.length * 0.9)]!;
    assert.ok(hi / lo > 1.5, `star colours R/B spread ${lo.toFixed(2)}..${hi.toFixed(2)}`);
    assert.ok(existsSync(join(out, 'results', 'previews', 'NGC_7000_LRGB.png')));
  });

  test('a bad --size is refused', () => {
    const bad = runCli(['demo', '--out', out, '--size', '10x10']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--size must be between/);
  });
});

test('SimCamera starColour scales each star per filter and leaves frames unchanged by default', async () => {
  const stars = [
    { x: 40.3, y: 40.6, flux: 4000 },
    { x: 110.2, y: 90.7, flux: 4000 },
  ];
  const shoot = async (starColour?: (i: number, f: string) => number): Promise<Float32Array> => {
    const clock = new VirtualClock();
    const cam = new SimCamera({ clock, seed: 5, stars, sky: 0.5, ...(starColour ? { starColour } : {}) });
    await cam.connect();
    await cam.wheel.move('Red');
    await cam.startExposure({ duration: 10, type: 'light' });
    return (await cam.download()).data[0]!.slice();
  };
  const grey = await shoot();
  const same = await shoot(() => 1);
  assert.deepEqual(same, grey, 'a factor of 1 gives the same frame as no option');
  // Star 0 twice as bright through Red, star 1 unchanged: aperture sums above the local background.
  const coloured = await shoot((i, f) => (i === 0 && f === 'Red' ? 2 : 1));
  const w = 256;
  const sum = (img: Float32Array, cx: number, cy: number): number => {
    let s = 0;
    let bg = 0;
    let nb = 0;
    for (let y = Math.round(cy) - 12; y <= Math.round(cy) + 12; y++) {
      for (let x = Math.round(cx) - 12; x <= Math.round(cx) + 12; x++) {
        const r = Math.hypot(x - cx, y - cy);
        if (r <= 8) s += img[y * w + x]!;
        else if (r >= 10 && r <= 12) {
          bg += img[y * w + x]!;
          nb++;
        }
      }
    }
    let n = 0;
    for (let y = -8; y <= 8; y++) for (let x = -8; x <= 8; x++) if (Math.hypot(x + Math.round(cx) - cx, y + Math.round(cy) - cy) <= 8) n++;
    return s - (bg / nb) * n;
  };
  const r0 = sum(coloured, 40.3, 40.6) / sum(grey, 40.3, 40.6);
  const r1 = sum(coloured, 110.2, 90.7) / sum(grey, 110.2, 90.7);
  assert.ok(Math.abs(r0 - 2) < 0.15, `star 0 through Red x${r0.toFixed(3)}`);
  assert.ok(Math.abs(r1 - 1) < 0.1, `star 1 through Red x${r1.toFixed(3)}`);
});
