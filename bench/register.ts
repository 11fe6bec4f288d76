/**
 * Time per frame for detection, matching and resampling (Lanczos-3) on a synthetic 24-megapixel frame
 * (6000 x 4000, ~3000 stars). Size override: BENCH_W / BENCH_H. Siril comparison: `siril-cli` is not installed
 * here (Debian package `siril` absent on this machine), so no ratio is printed.
 */
import { renderStars, randomStarField } from '../src/devices/sim/stars.js';
import { detectStars } from '../src/stars/detect.js';
import { matchStars } from '../src/register/match.js';
import { warpPlane } from '../src/register/resample.js';
import { fitModel } from '../src/register/transform.js';
import { Rng } from '../src/util/random.js';
import { spawnSync } from 'node:child_process';

const W = Number(process.env.BENCH_W ?? 6000), H = Number(process.env.BENCH_H ?? 4000);
const count = Math.round((3000 * W * H) / 24e6);
function frame(seed: number, dx: number, dy: number): Float32Array {
  const rng = new Rng(seed);
  const p = new Float32Array(W * H);
  for (let i = 0; i < p.length; i++) p[i] = 1000 + 10 * rng.gauss();
  renderStars(p, W, H, randomStarField(1, W, H, count, { fluxMin: 3000, fluxMax: 300000 }).map((s) => ({ ...s, x: s.x + dx, y: s.y + dy })), { kind: 'gaussian', fwhm: 3 });
  return p;
}
const a = frame(1, 0, 0), b = frame(2, 13.4, -7.7);
const t = (f: () => unknown): [number, unknown] => { const t0 = performance.now(); const r = f(); return [(performance.now() - t0) / 1000, r]; };
const [tDet, ra] = t(() => detectStars(a, W, H, { maxStars: 500 }));
const rb = detectStars(b, W, H, { maxStars: 500 });
const [tMatch, m] = t(() => matchStars(rb.stars, (ra as typeof rb).stars, { model: 'homography' }));
const mm = m as ReturnType<typeof matchStars>;
const [tRes] = t(() => warpPlane(b, W, H, mm.transform, W, H, 'lanczos3'));
const mp = (W * H) / 1e6;
console.log(`frame ${W}x${H} (${mp.toFixed(1)} MP), ${count} stars rendered; matched ${mm.inliers} stars, rms ${mm.rms.toFixed(3)} px`);
console.log(`detection+measurement (500 brightest measured, 200 fitted): ${tDet.toFixed(2)} s  (${((tDet * 24) / mp).toFixed(2)} s per 24 MP)`);
console.log(`matching: ${tMatch.toFixed(3)} s`);
console.log(`resampling lanczos3 (homography, per-pixel path): ${tRes.toFixed(2)} s  (${((tRes * 24) / mp).toFixed(2)} s per 24 MP)`);
const [tSep] = t(() => warpPlane(b, W, H, fitModel(mm.pairs, 'shift'), W, H, 'lanczos3'));
console.log(`resampling lanczos3 (shift model, separable two-pass path): ${tSep.toFixed(2)} s  (${((tSep * 24) / mp).toFixed(2)} s per 24 MP)`);
const siril = spawnSync('siril-cli', ['--version'], { encoding: 'utf8' });
console.log(siril.error ? 'siril-cli: not available here (Debian package siril not installed), no ratio' : `siril-cli present: ${siril.stdout.trim()} (comparison not implemented)`);
