/**
 * Time per 24-megapixel frame (6000 x 4000 RGGB mosaic) for each debayer method.
 * Usage: npx tsx bench/debayer.ts [--mp N]   (N megapixels measured, result scaled to 24 MP; default 24)
 */
import { parseCfa } from '../src/color/cfa.js';
import { DEBAYER_METHODS, debayerPlane } from '../src/color/debayer.js';
import { Rng } from '../src/util/random.js';

const arg = process.argv.indexOf('--mp');
const mp = arg > 0 ? Number(process.argv[arg + 1]) : 24;
const width = Math.round(Math.sqrt((mp * 1e6 * 3) / 2) / 2) * 2;
const height = Math.round((mp * 1e6) / width / 2) * 2;
const rng = new Rng(42);
const src = new Float32Array(width * height);
for (let i = 0; i < src.length; i++) src[i] = 1000 + 200 * Math.sin(i / 977) + rng.gauss() * 20;
const cfa = parseCfa('RGGB')!;
console.log(`debayer ${width}x${height} (${((width * height) / 1e6).toFixed(1)} MP), times scaled to a 24 MP frame`);
for (const method of DEBAYER_METHODS) {
  debayerPlane(src.subarray(0, 64 * 64), 64, 64, cfa, method); // warm up
  const t0 = performance.now();
  debayerPlane(src, width, height, cfa, method);
  const ms = performance.now() - t0;
  const per24 = (ms * 24e6) / (width * height);
  console.log(`${method.padEnd(11)} ${(per24 / 1000).toFixed(2)} s per 24 MP frame`);
}
