/**
 * Master flats read as calibrated (calibrate/master-frames.ts): each flat minus the master bias (or
 * flat-dark) as its rows are read, never written to temp files. Checked against the known flat
 * field of the synthetic frames, and bit for bit against integrating flats calibrated into files
 * (the former path), with one and two threads, held in memory or streamed from the raw files.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildMaster, MASTER_DEFAULTS } from '../../src/calibrate/masters.js';
import { parseOverscanSpec } from '../../src/calibrate/overscan.js';
import type { Master } from '../../src/calibrate/light.js';
import { readFits, writeFits } from '../../src/fits/index.js';
import { createImage } from '../../src/image/image.js';
import { integrateFiles } from '../../src/integrate/index.js';
import { isDarkroomError } from '../../src/util/errors.js';
import { Rng } from '../../src/util/random.js';
import { useTempDir } from '../helpers/env.js';
import { writePlane, writePlanes } from '../helpers/fits.js';

const W = 160, H = 120, BIAS = 1000, N = 7;

/** The flat field (vignetting, 1 at the centre, 0.7 in the corners) and a dust donut. */
function field(x: number, y: number): number {
  const r2 = ((x - W / 2) ** 2 + (y - H / 2) ** 2) / ((W / 2) ** 2 + (H / 2) ** 2);
  const dust = (x - 40) ** 2 + (y - 30) ** 2 < 64 ? 0.85 : 1;
  return (1 - 0.3 * r2) * dust;
}

/** Flats at levels 20000 * (1 + 0.05 i) on a bias of 1000 ADU (sigma 8), shot noise; a master bias (the exact level plus a column pattern). */
function night(dir: string): { flats: string[]; bias: Master; levels: number[] } {
  const rng = new Rng(11);
  const pattern = (x: number): number => BIAS + 3 * Math.sin(x / 5);
  const levels = Array.from({ length: N }, (_, i) => 20000 * (1 + 0.05 * i));
  const planes = levels.map((L) =>
    Float32Array.from({ length: W * H }, (_, k) => {
      const x = k % W, y = Math.floor(k / W);
      const s = L * field(x, y);
      return Math.round(pattern(x) + s + Math.sqrt(s) * rng.gauss() + 8 * rng.gauss());
    }),
  );
  const flats = writePlanes(dir, planes, W, H, (i) => `flat_${i}.fits`, { bitpix: 16, keywords: { IMAGETYP: 'Flat Field', EXPTIME: 2, GAIN: 100 } });
  const biasPath = writePlane(join(dir, 'master_bias.fits'), Float32Array.from({ length: W * H }, (_, k) => pattern(k % W)), W, H, { keywords: { IMAGETYP: 'Master Bias', GAIN: 100 } });
  return { flats, bias: { image: readFits(biasPath), path: biasPath }, levels };
}

/** The former path: every flat minus the master bias written as float32, then integrated with the master flat settings. */
async function viaFiles(dir: string, flats: string[], bias: Master): Promise<Float32Array> {
  const cal = flats.map((p, i) => {
    const img = readFits(p);
    const d = img.data[0]!;
    const s = bias.image.data[0]!;
    for (let j = 0; j < d.length; j++) d[j] = d[j]! - s[j]!;
    const out = join(dir, `cal_${i}.fits`);
    writeFits(out, img, { bitpix: -32, stamp: false });
    return out;
  });
  return (await integrateFiles(cal, { ...MASTER_DEFAULTS.flat, rejectionMaps: false, workers: 1 })).image.data[0]!;
}

function sameBits(a: Float32Array, b: Float32Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

test('master flat minus the master bias: the flat field within noise, bit for bit the former calibrated-files path (1 and 2 threads, in memory and streamed), nothing written to the temp folder', async (t) => {
  const dir = useTempDir(t);
  const { flats, bias, levels } = night(dir);
  const ref = await viaFiles(dir, flats, bias);
  // no temp folder can be made under a regular file: a build that writes calibrated flats fails
  const blocked = join(dir, 'not-a-folder');
  writeFileSync(blocked, 'x');
  const tmpDir = join(blocked, 'tmp');
  const cases = [
    { workers: 1, memoryBytes: 64 << 20 }, // held in memory (7 frames of 77 kB)
    { workers: 2, memoryBytes: 64 << 20 },
    { workers: 1, memoryBytes: 200_000 }, // streamed: the frames (540 kB) exceed half the budget
    { workers: 2, memoryBytes: 200_000 },
  ];
  for (const c of cases) {
    const r = await buildMaster('flat', flats, { bias, tmpDir, ...c });
    const got = r.image.data[0]!;
    assert.ok(sameBits(got, ref), `identical to the calibrated-files master (${JSON.stringify(c)})`);
    assert.ok(r.history.some((l) => l === `each flat calibrated: minus master bias ${bias.path}`));
    assert.ok(r.history.some((l) => l.startsWith(`frame 1: ${flats[0]} `)), 'HISTORY names the raw flats');
    const bands = Number(r.history.join('\n').match(/bands=(\d+)/)![1]);
    if (c.memoryBytes < 1e6) assert.ok(bands > 1, `streamed in ${bands} bands`);
  }
  // the master is normalized to frame 0: level 20000 times the flat field, within the noise of 7 frames
  const got = ref;
  let sum = 0, sum2 = 0, n = 0;
  for (let k = 0; k < W * H; k++) {
    const x = k % W, y = Math.floor(k / W);
    const e = levels[0]! * field(x, y);
    const dev = (got[k]! - e) / e;
    sum += dev;
    sum2 += dev * dev;
    n++;
  }
  const mean = sum / n;
  const rms = Math.sqrt(sum2 / n - mean * mean);
  // each flat's relative noise is about 1/sqrt(20000 * 0.85) = 0.0077; averaged over 7: 0.0029
  assert.ok(Math.abs(mean) < 5e-4, `mean relative deviation ${mean}`);
  assert.ok(rms > 0.002 && rms < 0.0045, `relative rms ${rms}`);
});

test('master flat: errors name the raw flat (not a temp file), the first bad one in input order; NaN pixels are reported against the raw flat', async (t) => {
  const dir = useTempDir(t);
  const { flats, bias } = night(dir);
  const small = writePlane(join(dir, 'small.fits'), new Float32Array(80 * 60).fill(20000), 80, 60, { bitpix: 16, keywords: { GAIN: 100 } });
  // flats of another gain than the master bias (all of them: a set of one gain)
  const gain = [0, 1].map((i) => writePlane(join(dir, `gain${i}.fits`), new Float32Array(W * H).fill(20000), W, H, { bitpix: 16, keywords: { GAIN: 200 } }));
  for (const workers of [1, 2]) {
    await assert.rejects(buildMaster('flat', [flats[0]!, small], { bias, workers }), (e: unknown) => isDarkroomError(e) && e.code === 'MISMATCH' && e.file === small);
    await assert.rejects(buildMaster('flat', gain, { bias, workers }), (e: unknown) => isDarkroomError(e) && e.code === 'MISMATCH' && e.file === gain[0] && /master bias .* does not match: GAIN 100 vs light 200/.test(e.message));
  }
  // a flat without a finite pixel cannot be normalized: the error names it
  const nan = writePlane(join(dir, 'nan.fits'), new Float32Array(W * H).fill(NaN), W, H, { keywords: { GAIN: 100 } });
  for (const workers of [1, 2]) {
    await assert.rejects(buildMaster('flat', [flats[0]!, flats[1]!, nan], { bias, workers }), (e: unknown) => isDarkroomError(e) && e.file === nan && /no finite pixels/.test(e.message));
  }
  // some NaN pixels: left out there, and the warning names the raw flat with the count
  const img = readFits(flats[2]!);
  for (let k = 0; k < 5; k++) img.data[0]![k * 31] = NaN;
  const holes = join(dir, 'holes.fits');
  writeFits(holes, img, { bitpix: -32 });
  for (const workers of [1, 2]) {
    const r = await buildMaster('flat', [flats[0]!, flats[1]!, holes, flats[3]!], { bias, workers });
    assert.ok(r.warnings.includes(`${holes}: 5 pixel values are NaN or infinite: left out of the integration at those pixels`), r.warnings.join('\n'));
    assert.ok(Number.isFinite(r.image.data[0]![0]!) && Number.isFinite(r.image.data[0]![31]!));
  }
});

test('overscan-corrected frames (through temp files): warnings and errors name the raw frames', async (t) => {
  const dir = useTempDir(t);
  const overscan = parseOverscanSpec('image=0:0:20:16,src=20:0:4:16>0:0:20:16');
  const rng = new Rng(5);
  const frame = (i: number, level: number, nan: (k: number) => boolean): string =>
    writePlane(join(dir, `os_${i}.fits`), Float32Array.from({ length: 24 * 16 }, (_, k) => (k % 24 >= 20 ? 500 : nan(k) ? NaN : level + 5 * rng.gauss())), 24, 16);
  const plain = [0, 1, 2].map((i) => frame(i, 1500, () => false));
  const holes = frame(3, 1500, (k) => k === 30 || k === 77 || k === 101);
  const r = await buildMaster('bias', [...plain, holes], { overscan, workers: 1 });
  assert.equal(r.image.width, 20);
  assert.ok(Math.abs(r.image.data[0]![0]! - 1000) < 15, `overscan-corrected level ${r.image.data[0]![0]}`);
  assert.ok(r.warnings.includes(`${holes}: 3 pixel values are NaN or infinite: left out of the integration at those pixels`), r.warnings.join('\n'));
  const empty = frame(4, 0, (k) => k % 24 < 20);
  await assert.rejects(buildMaster('flat', [plain[0]!, empty], { overscan, workers: 1 }), (e: unknown) => isDarkroomError(e) && e.file === empty && /no finite pixels/.test(e.message));
});

test('colour (3-plane) flats minus a 3-plane master bias: each plane bit for bit the calibrated-files path, in memory and streamed, nothing written', async (t) => {
  const dir = useTempDir(t);
  const rng = new Rng(8);
  const w = 40, h = 30;
  const mk = (name: string, value: (c: number, k: number) => number, bitpix: 16 | -32): string => {
    const img = createImage(w, h, 3);
    img.data.forEach((d, c) => d.set(Float32Array.from({ length: w * h }, (_, k) => value(c, k))));
    const p = join(dir, name);
    writeFits(p, img, { bitpix });
    return p;
  };
  const biasPath = mk('bias.fits', (c, k) => 1000 + 10 * c + (k % 7), -32);
  const bias = { image: readFits(biasPath), path: biasPath };
  const flats = Array.from({ length: 5 }, (_, i) => mk(`f${i}.fits`, (c, k) => Math.round(1000 + 10 * c + (k % 7) + (15000 + 2000 * c) * (1 + 0.03 * i) * (1 - 0.2 * ((k % w) / w) ** 2) + 40 * rng.gauss()), 16));
  const cal = flats.map((p, i) => {
    const img = readFits(p);
    img.data.forEach((d, c) => d.forEach((v, j) => (d[j] = v - bias.image.data[c]![j]!)));
    const out = join(dir, `cal${i}.fits`);
    writeFits(out, img, { bitpix: -32, stamp: false });
    return out;
  });
  const ref = (await integrateFiles(cal, { ...MASTER_DEFAULTS.flat, rejectionMaps: false, workers: 1 })).image;
  const blocked = join(dir, 'not-a-folder');
  writeFileSync(blocked, 'x'); // no temp folder can be made in it: nothing may be written
  for (const c of [{ workers: 1, memoryBytes: 64 << 20 }, { workers: 2, memoryBytes: 64 << 20 }, { workers: 2, memoryBytes: 60_000 }]) {
    const r = await buildMaster('flat', flats, { bias, tmpDir: join(blocked, 'tmp'), ...c });
    assert.equal(r.image.channels, 3);
    for (let p = 0; p < 3; p++) assert.ok(sameBits(r.image.data[p]!, ref.data[p]!), `plane ${p} (${JSON.stringify(c)})`);
  }
});
