/**
 * Registration speed on a synthetic frame pair (default 24 megapixels, 6000 x 4000, ~3000 stars; BENCH_W / BENCH_H
 * override): per stage (detection by `frameStars`, its complete-measurement path and its fast default path: refined
 * centroids, 50 PSF fits, binned detection above 8 MP; process CPU time, best of BENCH_REPEAT runs; matching, Lanczos-3 resampling of a fitted homography by the per-pixel reference
 * path, the stepped path on one thread and split over worker threads), then end to end against Siril 1.0
 * (`siril-cli`, Debian package `siril`): the same two frames as 16-bit FITS, `darkroom register` (homography,
 * lanczos3) vs a Siril script (`link` + `register -transf=homography`, Siril's default Lanczos-4 with clamping),
 * both reading and writing FITS, both using all cores. BENCH_REF=0 skips the slow reference path timing.
 */
import { renderStars, randomStarField } from '../src/devices/sim/stars.js';
import { frameStars } from '../src/register/register.js';
import { matchStars } from '../src/register/match.js';
import { warpPlane, warpRows, WarpPool } from '../src/register/resample.js';
import { fitModel, invert } from '../src/register/transform.js';
import { Rng } from '../src/util/random.js';
import { writeFits } from '../src/fits/index.js';
import { createImage } from '../src/image/image.js';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const W = Number(process.env.BENCH_W ?? 6000), H = Number(process.env.BENCH_H ?? 4000);
const count = Math.round((3000 * W * H) / 24e6);
function frame(seed: number, dx: number, dy: number, deg: number): Float32Array {
  const rng = new Rng(seed);
  const p = new Float32Array(W * H);
  for (let i = 0; i < p.length; i++) p[i] = 1000 + 10 * rng.gauss();
  const c = Math.cos((deg * Math.PI) / 180), s = Math.sin((deg * Math.PI) / 180);
  const stars = randomStarField(1, W, H, count, { fluxMin: 3000, fluxMax: 300000 }).map((st) => {
    const x = st.x - W / 2, y = st.y - H / 2;
    return { ...st, x: c * x - s * y + W / 2 + dx, y: s * x + c * y + H / 2 + dy };
  });
  renderStars(p, W, H, stars, { kind: 'gaussian', fwhm: 3 });
  for (let i = 0; i < p.length; i++) p[i] = Math.min(65535, Math.round(p[i]!)); // 16-bit data, as a camera writes
  return p;
}
const a = frame(1, 0, 0, 0), b = frame(2, 13.4, -7.7, 0.3);
const t = <T>(f: () => T): [number, T] => { const t0 = performance.now(); const r = f(); return [(performance.now() - t0) / 1000, r]; };
const mp = (W * H) / 1e6;
const per24 = (s: number): string => `${s.toFixed(2)} s  (${((s * 24) / mp).toFixed(2)} s per 24 MP)`;
const image = (p: Float32Array): ReturnType<typeof createImage> => { const img = createImage(W, H); img.data[0]!.set(p); return img; };
const ia = image(a), ib = image(b);
/** Best process CPU time (s) of `frameStars` over BENCH_REPEAT runs (CPU time: the machine may be shared). */
const cpuBest = (opts: Parameters<typeof frameStars>[1]): [number, ReturnType<typeof frameStars>] => {
  let best = Infinity, r = frameStars(ia, opts);
  for (let k = 0; k < Number(process.env.BENCH_REPEAT ?? 2); k++) {
    const c0 = process.cpuUsage();
    r = frameStars(ia, opts);
    const c = process.cpuUsage(c0);
    best = Math.min(best, (c.user + c.system) / 1e6);
  }
  return [best, r];
};
const [tFull, rFull] = cpuBest({ maxFit: 200, fitIsolated: false, refine: false, bin: 1 });
const [tDet, ra] = cpuBest({});
const rb = frameStars(ib);
const [tMatch, m] = t(() => matchStars(rb.stars, ra.stars, { model: 'homography' }));
const fwhm = (r: typeof ra): string => `median FWHM ${r.medianFwhm.toFixed(3)}`;
console.log(`frame ${W}x${H} (${mp.toFixed(1)} MP), ${count} stars rendered, second frame rotated 0.3 deg; matched ${m.inliers} stars, rms ${m.rms.toFixed(3)} px`);
console.log(`frameStars, complete measurement (500 brightest, 200 fitted), CPU: ${per24(tFull)}; ${fwhm(rFull)}`);
console.log(`frameStars, fast default (500 brightest, refined centroids, 50 fitted${W * H >= 8e6 ? ', binned detection' : ''}), CPU: ${per24(tDet)}; ${fwhm(ra)}; ${(tFull / tDet).toFixed(1)}x`);
console.log(`matching: ${tMatch.toFixed(3)} s`);
if (process.env.BENCH_REF !== '0') {
  const ref = new Float32Array(W * H);
  const [tRef] = t(() => warpRows({ src: b, w: W, h: H, inv: invert(m.transform), outW: W, outH: H, interp: 'lanczos3', clamp: 0.3 }, ref, 0, H, true));
  console.log(`resampling lanczos3, homography, per-pixel reference path (before), 1 thread: ${per24(tRef)}`);
}
const [tRes] = t(() => warpPlane(b, W, H, m.transform, W, H, 'lanczos3'));
console.log(`resampling lanczos3, homography, stepped path, 1 thread: ${per24(tRes)}`);
const workers = availableParallelism();
const pool = new WarpPool(workers, 0);
await pool.warp(b, 64, 64, m.transform, 64, 64); // start the threads
const t0 = performance.now();
await pool.warp(b, W, H, m.transform, W, H, 'lanczos3');
const tPool = (performance.now() - t0) / 1000;
await pool.close();
console.log(`resampling lanczos3, homography, stepped path, ${workers} worker threads: ${per24(tPool)}`);
const [tSep] = t(() => warpPlane(b, W, H, fitModel(m.pairs, 'shift'), W, H, 'lanczos3'));
console.log(`resampling lanczos3, shift model (separable two-pass path), 1 thread: ${per24(tSep)}`);

// end to end: darkroom register vs siril-cli on the same two 16-bit FITS files
const siril = spawnSync('siril-cli', ['--version'], { encoding: 'utf8' });
if (siril.error) {
  console.log('siril-cli: not available (Debian package siril), no ratio');
} else {
  const dir = mkdtempSync(join(tmpdir(), 'darkroom-bench-'));
  try {
    for (const [name, p] of [['f1.fits', a], ['f2.fits', b]] as const) {
      const img = createImage(W, H);
      img.data[0]!.set(p);
      writeFits(join(dir, name), img, { bitpix: 16 });
    }
    mkdirSync(join(dir, 'dr'));
    const root = join(dirname(fileURLToPath(import.meta.url)), '..');
    const t1 = performance.now();
    const dr = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'src/cli/run.ts'), 'register', join(dir, 'f1.fits'), join(dir, 'f2.fits'), '-o', join(dir, 'dr'), '--reference', join(dir, 'f1.fits'), '--model', 'homography'], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
    const tDr = (performance.now() - t1) / 1000;
    if (dr.status !== 0) throw new Error(`darkroom register failed: ${dr.stderr}`);
    writeFileSync(join(dir, 'reg.ssf'), 'requires 1.0.0\nsetext fits\nlink f -out=seq\ncd seq\nregister f -transf=homography\n');
    const t2 = performance.now();
    const sr = spawnSync('siril-cli', ['-d', dir, '-s', join(dir, 'reg.ssf')], { encoding: 'utf8', maxBuffer: 64 << 20 });
    const tSi = (performance.now() - t2) / 1000;
    const ok = sr.status === 0 && /2 registered/.test(sr.stdout);
    if (!ok) throw new Error(`siril-cli failed: ${sr.stdout.slice(-2000)}${sr.stderr}`);
    const threads = /Using (\d+) logical processors/.exec(sr.stdout)?.[1] ?? '?';
    console.log(`end to end, 2 frames (read, detect, match, resample, write): darkroom register ${tDr.toFixed(2)} s (${workers} threads), ${siril.stdout.trim()} ${tSi.toFixed(2)} s (${threads} threads); ratio darkroom/siril ${(tDr / tSi).toFixed(2)}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
