/** Synthetic stacks for the integration tests: Gaussian frames with injected outliers, written as FITS. */
import { join } from 'node:path';
import { writeFits, FitsHeader } from '../../src/fits/index.js';
import { createImage, type Image } from '../../src/image/image.js';
import { Rng } from '../../src/util/random.js';

export interface StackSpec {
  n: number;
  width: number;
  height: number;
  channels?: number;
  seed?: number;
  /** per-frame level and noise sigma */
  level?: (i: number) => number;
  sigma?: (i: number) => number;
  /** per-frame gain: x = gain * (level + noise) + offset */
  gain?: (i: number) => number;
  offset?: (i: number) => number;
  /** fraction of pixels (per frame) replaced by hot (+hot) or cold (-cold) outliers */
  outlierFraction?: number;
  hot?: number;
  cold?: number;
  keywords?: (i: number) => Record<string, number | string>;
}

export interface Stack {
  paths: string[];
  images: Image[];
  /** [frame][channel][pixel]: +1 hot outlier, -1 cold outlier, 0 clean */
  outliers: Int8Array[][];
}

export function makeStack(dir: string, s: StackSpec, prefix = 'f'): Stack {
  const rng = new Rng(s.seed ?? 1);
  const C = s.channels ?? 1;
  const paths: string[] = [];
  const images: Image[] = [];
  const outliers: Int8Array[][] = [];
  const npix = s.width * s.height;
  for (let i = 0; i < s.n; i++) {
    const h = new FitsHeader();
    for (const [k, v] of Object.entries(s.keywords?.(i) ?? {})) h.set(k, v);
    const img = createImage(s.width, s.height, C, h);
    const outs: Int8Array[] = [];
    const level = s.level?.(i) ?? 1000;
    const sigma = s.sigma?.(i) ?? 10;
    const gain = s.gain?.(i) ?? 1;
    const offset = s.offset?.(i) ?? 0;
    for (let c = 0; c < C; c++) {
      const d = img.data[c]!;
      const o = new Int8Array(npix);
      for (let p = 0; p < npix; p++) {
        d[p] = gain * (level + sigma * rng.gauss()) + offset;
        if (s.outlierFraction && rng.uniform() < s.outlierFraction) {
          if (rng.uniform() < 0.5) {
            d[p] += s.hot ?? 5000;
            o[p] = 1;
          } else {
            d[p] -= s.cold ?? 800;
            o[p] = -1;
          }
        }
      }
      outs.push(o);
    }
    const path = join(dir, `${prefix}${String(i).padStart(3, '0')}.fits`);
    writeFits(path, img, { history: ['synthetic test frame'] });
    paths.push(path);
    images.push(img);
    outliers.push(outs);
  }
  return { paths, images, outliers };
}
