/**
 * FITS read benchmark: a 6000x4000 unsigned 16-bit image (BITPIX 16, BZERO 32768) read into float32
 * by Darkroom (readFits) and by Astropy (`fits.getdata(path).astype(numpy.float32)`), best of 3
 * each, timed inside each process (file in the page cache for both). Prints both and the ratio
 * Darkroom / Astropy (goal <= 1.0).
 *
 *   npx tsx bench/fits-read.ts [--width 6000 --height 4000 --runs 3]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { FitsFile, readFits, writeFits } from '../src/fits/index.js';
import { createImage } from '../src/image/image.js';
import { Rng } from '../src/util/random.js';

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
}

const width = arg('width', 6000);
const height = arg('height', 4000);
const runs = arg('runs', 3);
const python = process.env.DARKROOM_PYTHON ?? '/usr/bin/python3';

/** Child mode: time readFits on a file, best of `runs`, print milliseconds. */
if (process.argv[2] === '--child') {
  const path = process.argv[3]!;
  const n = Number(process.argv[4]);
  const into = process.argv[5] === 'into';
  let best = Infinity;
  const f = new FitsFile(path);
  const out = into ? new Float32Array(f.geometry().width * f.geometry().height).fill(0) : undefined;
  for (let r = 0; r < n; r++) {
    const t0 = performance.now();
    // readFits (new arrays each time), or readRows into a buffer that already exists (decoding only)
    const data = out ? f.readRows(0, 0, f.geometry().height, undefined, out) : readFits(path).data[0]!;
    best = Math.min(best, performance.now() - t0);
    if (data.length === 0) throw new Error('empty image');
  }
  f.close();
  console.log(best);
  process.exit(0);
}

function timeDarkroom(path: string, env: Record<string, string>, into = false): number {
  const r = spawnSync(process.execPath, [...process.execArgv, process.argv[1]!, '--child', path, String(runs), into ? 'into' : 'new'], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
  });
  if (r.status !== 0) throw new Error(`darkroom child failed: ${r.stderr}`);
  return Number(r.stdout.trim().split('\n').pop());
}

const dir = mkdtempSync(join(tmpdir(), 'darkroom-bench-'));
try {
  const path = join(dir, 'bench-u16.fits');
  // A sky-like frame: pedestal + gradient + noise over the whole unsigned range's lower part,
  // plus some saturated pixels, so every code path sees realistic values.
  const img = createImage(width, height);
  const rng = new Rng(42);
  const d = img.data[0]!;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) d[y * width + x] = 1000 + ((x >> 1) + (y >> 2)) + rng.int(4096);
  }
  for (let k = 0; k < 1000; k++) d[rng.int(width * height)] = 65535;
  writeFits(path, img, { bitpix: 16, history: ['bench/fits-read.ts synthetic frame'] });

  // Darkroom is timed in child processes: once as is, once with glibc's malloc asked to use
  // transparent huge pages (numpy asks the kernel for them on large arrays; without them, the
  // first touch of a fresh 96 MB Float32Array costs ~23,000 page faults, more than the decoding).
  // The timed reads must be right: check every pixel once here.
  const back = readFits(path).data[0]!;
  for (let i = 0; i < d.length; i++) if (back[i] !== d[i]) throw new Error(`pixel ${i}: read ${back[i]}, wrote ${d[i]}`);

  const plain = timeDarkroom(path, {});
  const thp = timeDarkroom(path, { GLIBC_TUNABLES: 'glibc.malloc.hugetlb=1' });
  const decodeOnly = timeDarkroom(path, {}, true);

  const py = `
import sys, time, numpy
from astropy.io import fits
p, runs = sys.argv[1], int(sys.argv[2])
best = float('inf')
for _ in range(runs):
    t0 = time.perf_counter()
    a = fits.getdata(p).astype(numpy.float32)
    best = min(best, time.perf_counter() - t0)
    del a
print(best * 1000)
`;
  const r = spawnSync(python, ['-c', py, path, String(runs)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`astropy run failed: ${r.stderr}`);
  const astropyMs = Number(r.stdout.trim());

  const mpix = (width * height) / 1e6;
  console.log(`FITS read ${width}x${height} uint16 (BZERO 32768) -> float32, best of ${runs}`);
  const rate = (ms: number): string => `${ms.toFixed(1)} ms (${(mpix / (ms / 1000)).toFixed(0)} Mpix/s)`;
  console.log(`darkroom (GLIBC_TUNABLES=glibc.malloc.hugetlb=1): ${rate(thp)}`);
  console.log(`darkroom (default malloc, 4 KB pages):           ${rate(plain)}`);
  console.log(`darkroom readRows into an existing buffer:       ${rate(decodeOnly)} (read + decode only)`);
  console.log(`astropy fits.getdata().astype(float32):          ${rate(astropyMs)}`);
  console.log(`ratio darkroom/astropy: ${(thp / astropyMs).toFixed(2)} with huge pages, ${(plain / astropyMs).toFixed(2)} without (goal <= 1.0)`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
