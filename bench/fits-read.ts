/**
 * FITS read benchmark: a 6000x4000 image (default unsigned 16-bit: BITPIX 16, BZERO 32768) read into
 * float32 by Darkroom and by Astropy (`fits.getdata(path).astype(numpy.float32)`), best of `runs`
 * each, timed inside each process (file in the page cache for both). Darkroom is timed as:
 * - readFits, fresh arrays each time (default malloc, then with glibc asked for transparent huge pages);
 * - readFitsInto, decoding into a buffer reused across reads (what a pipeline reusing frame buffers gets);
 * and the first touch of a fresh 96 MB array is timed alone (new Float32Array and Buffer.allocUnsafe
 * against a reused one) to show what page faults cost. Prints each and the ratios Darkroom / Astropy
 * (goal <= 1.0).
 *
 * `--clock cpu` times CPU time (user + system, page faults included) instead of wall time, for both:
 * steadier on a machine loaded by other work.
 *
 *   npx tsx bench/fits-read.ts [--width 6000 --height 4000 --runs 5 --bitpix 16 --clock wall|cpu]   (bitpix 8, 16, 32, -32, -64)
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { readFits, readFitsHeader, readFitsInto, writeFits, type WriteBitpix } from '../src/fits/index.js';
import { createImage } from '../src/image/image.js';
import { Rng } from '../src/util/random.js';

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
}

const width = arg('width', 6000);
const height = arg('height', 4000);
const runs = arg('runs', 5);
const bitpix = arg('bitpix', 16) as WriteBitpix;
const python = process.env.DARKROOM_PYTHON ?? '/usr/bin/python3';
const cpuClock = process.argv.includes('cpu') && process.argv[process.argv.indexOf('cpu') - 1] === '--clock';
/** Milliseconds: wall clock, or this process's CPU time with `--clock cpu`. */
const now = cpuClock
  ? (): number => {
      const u = process.cpuUsage();
      return (u.user + u.system) / 1000;
    }
  : (): number => performance.now();

type Mode = 'new' | 'into' | 'touch-f32' | 'touch-unsafe' | 'touch-reused';

function best(n: number, f: () => void): number {
  let t = Infinity;
  for (let r = 0; r < n; r++) {
    const t0 = now();
    f();
    t = Math.min(t, now() - t0);
  }
  return t;
}

/** Child mode: time one way of reading (or of touching fresh memory), best of `n`, print milliseconds. */
function child(path: string, n: number, mode: Mode): number {
  const { width: w, height: h, channels } = readFitsHeader(path);
  const len = w * h * channels;
  const out = new Float32Array(len).fill(0); // already faulted in
  const touch = (a: Float32Array): void => void a.fill(1);
  switch (mode) {
    case 'new':
      return best(n, () => void readFits(path));
    case 'into':
      return best(n, () => void readFitsInto(path, out));
    case 'touch-f32':
      return best(n, () => touch(new Float32Array(len)));
    case 'touch-unsafe':
      return best(n, () => {
        const b = Buffer.allocUnsafe(len * 4);
        touch(new Float32Array(b.buffer, b.byteOffset, len));
      });
    case 'touch-reused':
      return best(n, () => touch(out));
  }
}

if (process.argv[2] === '--child') {
  console.log(child(process.argv[3]!, Number(process.argv[4]), process.argv[5] as Mode));
  process.exit(0);
}

function timeDarkroom(path: string, mode: Mode, env: Record<string, string> = {}): number {
  const clock = cpuClock ? ['--clock', 'cpu'] : [];
  const r = spawnSync(process.execPath, [...process.execArgv, process.argv[1]!, '--child', path, String(runs), mode, ...clock], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
  });
  if (r.status !== 0) throw new Error(`darkroom child failed: ${r.stderr}`);
  return Number(r.stdout.trim().split('\n').pop());
}

function timeAstropy(path: string): number {
  const py = `
import sys, time, numpy
from astropy.io import fits
p, runs = sys.argv[1], int(sys.argv[2])
clock = time.process_time if sys.argv[3] == 'cpu' else time.perf_counter
best = float('inf')
for _ in range(runs):
    t0 = clock()
    a = fits.getdata(p).astype(numpy.float32)
    best = min(best, clock() - t0)
    del a
print(best * 1000)
`;
  const r = spawnSync(python, ['-c', py, path, String(runs), cpuClock ? 'cpu' : 'wall'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`astropy run failed: ${r.stderr}`);
  return Number(r.stdout.trim());
}

/** A sky-like frame in the range of the BITPIX: pedestal + gradient + noise, some saturated pixels. */
function writeFrame(path: string): void {
  const img = createImage(width, height);
  const rng = new Rng(42);
  const d = img.data[0]!;
  const top = bitpix === 8 ? 255 : 65535;
  const scale = bitpix === 8 ? 1 / 256 : 1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) d[y * width + x] = Math.floor((1000 + ((x >> 1) + (y >> 2)) + rng.int(4096)) * scale) % top;
  }
  for (let k = 0; k < 1000; k++) d[rng.int(width * height)] = top;
  writeFits(path, img, { bitpix, history: ['bench/fits-read.ts synthetic frame'] });
  // The timed reads must be right: check every pixel once here.
  const back = readFits(path).data[0]!;
  for (let i = 0; i < d.length; i++) if (back[i] !== d[i]) throw new Error(`pixel ${i}: read ${back[i]}, wrote ${d[i]}`);
}

const dir = mkdtempSync(join(tmpdir(), 'darkroom-bench-'));
try {
  const path = join(dir, `bench-${bitpix}.fits`);
  writeFrame(path);
  // Darkroom is timed in child processes: once as is, once with glibc's malloc asked to use
  // transparent huge pages (numpy asks the kernel for them on large arrays; without them, the
  // first touch of a fresh 96 MB Float32Array costs ~23,000 page faults, more than the decoding).
  const plain = timeDarkroom(path, 'new');
  const thp = timeDarkroom(path, 'new', { GLIBC_TUNABLES: 'glibc.malloc.hugetlb=1' });
  const into = timeDarkroom(path, 'into');
  const touchF32 = timeDarkroom(path, 'touch-f32');
  const touchUnsafe = timeDarkroom(path, 'touch-unsafe');
  const touchReused = timeDarkroom(path, 'touch-reused');
  const astropyMs = timeAstropy(path);

  const mpix = (width * height) / 1e6;
  const kind = bitpix === 16 ? 'uint16 (BZERO 32768)' : `BITPIX ${bitpix}`;
  console.log(`FITS read ${width}x${height} ${kind} -> float32, best of ${runs} (${cpuClock ? 'CPU' : 'wall'} time)`);
  const rate = (ms: number): string => `${ms.toFixed(1)} ms (${(mpix / (ms / 1000)).toFixed(0)} Mpix/s)`;
  console.log(`darkroom readFits (GLIBC_TUNABLES=glibc.malloc.hugetlb=1): ${rate(thp)}`);
  console.log(`darkroom readFits (default malloc, 4 KB pages):           ${rate(plain)}`);
  console.log(`darkroom readFitsInto a reused buffer:                     ${rate(into)}`);
  console.log(`astropy fits.getdata().astype(float32):                    ${rate(astropyMs)}`);
  console.log(`first touch of ${((mpix * 4e6) / 2 ** 20).toFixed(0)} MiB: new Float32Array ${touchF32.toFixed(1)} ms, Buffer.allocUnsafe ${touchUnsafe.toFixed(1)} ms, reused ${touchReused.toFixed(1)} ms`);
  const ratio = (ms: number): string => (ms / astropyMs).toFixed(2);
  console.log(`ratio darkroom/astropy: readFitsInto ${ratio(into)}; readFits ${ratio(thp)} with huge pages, ${ratio(plain)} without (goal <= 1.0)`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
