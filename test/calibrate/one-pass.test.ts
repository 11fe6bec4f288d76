/**
 * Calibration in one pass over the plane (light.ts calibratePlane), the light read into a reused buffer and calibrated
 * in place, written without a copy (files.ts): bit-identical to the two-pass formulas it replaced (the reference below,
 * the committed applyMasters + pedestalAndClip) and to the plain path readFits -> calibrateLight -> writeFits, with the
 * WASM kernels and with the TS references (DARKROOM_KERNEL=ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { calibrateLight, flatScales, cfaColour, autoPedestal, type CalibrateOptions, type Master } from '../../src/calibrate/light.js';
import { calibrateFiles } from '../../src/calibrate/files.js';
import { readFits, writeFits } from '../../src/fits/index.js';
import { createImage, type Image } from '../../src/image/image.js';
import { Rng } from '../../src/util/random.js';
import { useTempDir } from '../helpers/env.js';
import { night, sensorModel } from './night.js';

/** The committed two-pass calibration: C = (L - dark term) stored, / MF * s0 stored, + pedestal and clip stored. */
function reference(light: Image, o: CalibrateOptions, mode: string, k0: number | undefined, cfa: string | undefined, s0: number[] | undefined): { data: Float32Array[]; pedestal: number; clippedPct: number } {
  const n = light.width * light.height;
  const data = light.data.map(() => new Float32Array(n));
  for (let c = 0; c < light.channels; c++) {
    const L = light.data[c]!;
    const C = data[c]!;
    const MB = o.bias?.image.data[c];
    const MD = o.dark?.image.data[c];
    const MF = o.flat?.image.data[c];
    for (let i = 0; i < n; i++) {
      let v: number;
      if (mode === 'plain') v = L[i]! - MD![i]!;
      else if (mode === 'optimize' || mode === 'exposure') v = L[i]! - MB![i]! - k0! * (MD![i]! - MB![i]!);
      else if (mode === 'bias-only') v = L[i]! - MB![i]!;
      else v = L[i]!;
      C[i] = v - v === 0 ? v : NaN;
    }
    if (MF && s0) {
      for (let y = 0; y < light.height; y++) {
        for (let x = 0; x < light.width; x++) {
          const i = y * light.width + x;
          const f = MF[i]!;
          const s = s0.length === 3 ? s0[cfaColour(cfa!, x, y)]! : s0[0]!;
          C[i] = f - f !== 0 ? NaN : f > 0 ? (C[i]! / f) * s : 0;
        }
      }
    }
  }
  const pedestal = o.pedestal === 'auto' ? autoPedestal(data[0]!) : o.pedestal ?? 0;
  let clipped = 0;
  for (const C of data) {
    for (let i = 0; i < n; i++) {
      const v = C[i]! + pedestal;
      if (v < 0) {
        clipped++;
        C[i] = 0;
      } else C[i] = v;
    }
  }
  return { data, pedestal, clippedPct: (100 * clipped) / (n * light.channels) };
}

/** A frame with noise, a few non-finite pixels, -0, values whose difference overflows float32, and (flat) zero and negative pixels. */
function frame(w: number, h: number, channels: number, level: number, seed: number, o: { bad?: boolean; flat?: boolean; master?: boolean; exptime?: number; cfa?: string } = {}): Image {
  const img = createImage(w, h, channels);
  const rng = new Rng(seed);
  for (const p of img.data) {
    for (let i = 0; i < p.length; i++) p[i] = level * (1 + 0.2 * Math.sin(i / 37)) + 30 * rng.gauss();
    if (o.bad) [3, 17, 40].forEach((i, k) => (p[i] = [NaN, Infinity, -Infinity][k]!));
    p[5] = -0;
    p[8] = o.flat ? 0 : o.master ? -3e38 : 3e38; // light - master: 6e38, Inf in float32
    if (o.flat) p[9] = -5;
    else if (!o.master) p[11] = -1e4; // clipped at zero
  }
  if (o.exptime !== undefined) img.header.set('EXPTIME', o.exptime);
  if (o.cfa) {
    img.cfa = o.cfa;
    img.header.set('BAYERPAT', o.cfa);
  }
  return img;
}

const same = (a: Float32Array, b: Float32Array): boolean => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

test('one-pass calibration is bit-identical to the two-pass formulas (every dark mode, CFA flat scaling, NaN/Inf, clipping, pedestals, in place)', () => {
  const [w, h] = [61, 37]; // odd sizes: rows start on both column parities
  let compared = 0;
  for (const [channels, cfa] of [[1, undefined], [1, 'GBRG'], [3, undefined]] as const) {
    const m = (name: string, img: Image): Master => ({ image: img, path: name });
    const bias = m('MB', frame(w, h, channels, 200, 1, { bad: true, master: true, cfa }));
    const dark = m('MD', frame(w, h, channels, 260, 2, { exptime: 60, master: true, cfa }));
    const flats = [m('MF1', frame(w, h, channels, 9000, 3, { flat: true, bad: true, cfa })), m('MF2', frame(w, h, channels, 4000, 4, { flat: true, cfa }))];
    for (const [mode, tL] of [['plain', 60], ['optimize', 120], ['exposure', 120], ['bias-only', 60], ['none', 60]] as const) {
      for (const pedestal of [undefined, 0, 120, 'auto'] as const) {
        for (const flat of [undefined, ...flats]) {
          for (const inPlace of [false, true]) {
            const light = frame(w, h, channels, mode === 'none' ? 150 : 400, 10 + compared, { bad: compared % 2 === 0, exptime: tL, cfa });
            const copy = light.data.map((p) => p.slice());
            const o: CalibrateOptions = {
              bias: mode === 'plain' || mode === 'none' ? undefined : bias, dark: mode === 'bias-only' || mode === 'none' ? undefined : dark,
              flat, pedestal, darkMode: mode === 'bias-only' || mode === 'none' ? 'auto' : mode, force: true, inPlace, noiseKeywords: false,
            };
            const r = calibrateLight(light, 'L', o);
            assert.equal(r.report.mode, mode);
            const s0 = flat ? flatScales(flat.image, cfa) : undefined;
            assert.deepEqual(r.report.s0, s0);
            const input = { ...light, data: copy };
            const ref = reference(input, o, mode, r.report.k0, cfa, s0);
            const what = `${channels} ch ${cfa ?? ''} ${mode} pedestal ${pedestal} flat ${flat?.path} inPlace ${inPlace}`;
            ref.data.forEach((p, c) => assert.ok(same(r.image.data[c]!, p), `${what}: plane ${c}`));
            assert.equal(r.report.pedestal, ref.pedestal, what);
            assert.equal(r.report.clippedPct, ref.clippedPct, what);
            assert.ok(ref.clippedPct > 0, `${what}: some pixels clip`);
            // the light's non-finite pixels are the first event, counted before the masters'
            const ev = r.report.events!.filter((e) => e.code === 'NON_FINITE');
            assert.equal(ev[0]?.file === 'L', compared % 2 === 0, what);
            if (compared % 2 === 0) assert.equal(ev[0]!.count, 3 * channels);
            assert.equal(inPlace, r.image.data[0] === light.data[0], what);
            if (!inPlace) light.data.forEach((p, c) => assert.ok(same(p, copy[c]!), `${what}: input untouched`));
            compared++;
          }
        }
      }
    }
  }
  assert.equal(compared, 360);
});

test('a light with no finite pixel is refused before any work, with the same line as before', () => {
  const light = createImage(8, 4);
  light.data[0]!.fill(NaN);
  assert.throws(() => calibrateLight(light, 'L.fits', {}), /the light has no finite pixels \(all NaN or infinite\): nothing to calibrate/);
});

/** sha256 of a FITS file without its DATE card (the time it was written). */
function digest(path: string): string {
  return createHash('sha256').update(readFileSync(path).toString('latin1').replace(/DATE    = '[^']*'/, ''), 'latin1').digest('hex');
}

test('calibrateFiles writes the bytes of readFits -> calibrateLight -> writeFits, on one and two threads, WASM or TS kernels, fsync or not', async (t) => {
  const dir = useTempDir(t);
  const sensor = sensorModel('kaf8300', { width: 192, height: 128, dustCount: 2, vignetting: 0.3 });
  const n = await night(dir, { sensor, seed: 21, bias: 4, darks: 4, flats: 4, lights: 3, lightExposure: 120, darkExposure: 240, ccdTemp: 0, sky: 3, starCount: 15 });
  const lights = n.ses.lights;
  const copts: CalibrateOptions = { bias: n.bias, dark: n.dark, flat: n.flat, darkMode: 'optimize', pedestal: 'auto' };
  const head = (lp: string): string[] => [`test ${lp}`];
  const expected = lights.map((lp, i) => {
    const r = calibrateLight(readFits(lp), lp, copts);
    const p = join(dir, `ref${i}.fits`);
    writeFits(p, r.image, { bitpix: -32, history: [...head(lp), ...r.history] });
    return digest(p);
  });
  const runs: Array<[string, { workers: number; fsync?: boolean }, boolean]> = [['one thread', { workers: 1 }, false], ['two threads, no fsync', { workers: 2, fsync: false }, false], ['TS kernels', { workers: 1 }, true]];
  for (const [what, o, ts] of runs) {
    const before = process.env.DARKROOM_KERNEL;
    if (ts) process.env.DARKROOM_KERNEL = 'ts';
    try {
      const outs = lights.map((_, i) => join(dir, `${what.replace(/\W+/g, '_')}${i}.fits`));
      const r = await calibrateFiles(lights, outs, { bias: n.paths.bias, dark: n.paths.dark, flat: n.paths.flat, darkMode: 'optimize', pedestal: 'auto', historyHead: head, keepUnusedBias: true, ...o });
      assert.ok(r.frames.every((f) => f.ok), what);
      assert.deepEqual(outs.map(digest), expected, what);
      assert.ok(readFits(outs[0]!).header.getNumber('NOISE00')! > 0, 'the noise keywords are written');
    } finally {
      if (before === undefined) delete process.env.DARKROOM_KERNEL;
      else process.env.DARKROOM_KERNEL = before;
    }
  }
});
