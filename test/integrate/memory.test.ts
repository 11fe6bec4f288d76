import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { writeFits, readFits, FitsHeader } from '../../src/fits/index.js';
import { fileTempDir } from '../helpers/env.js';
import { runCliMaxRss } from '../helpers/rss.js';

const tmp = fileTempDir();

/** Frame i: 1000 + xorshift noise in [0, 100). */
function frame(i: number, w: number, h: number): string {
  const d = new Float32Array(w * h);
  let s = 12345 + i;
  for (let p = 0; p < d.length; p++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    d[p] = 1000 + ((s >>> 0) % 100);
  }
  const path = join(tmp, `f${i}.fits`);
  writeFits(path, { width: w, height: h, channels: 1, data: [d], header: new FitsHeader() });
  return path;
}

test('stack --memory keeps the peak memory near the budget (3 frames of 4000 x 4000 float32, 64 MB each)', () => {
  const W = 4000;
  const paths = [0, 1, 2].map((i) => frame(i, W, W));
  // what the runtime itself takes (tsx, every command's modules): the budget comes on top of it
  const base = runCliMaxRss(['stack', '--help']);
  assert.equal(base.code, 0, base.stderr);
  const out = join(tmp, 'out.fits');
  const budgetMB = 64;
  const r = runCliMaxRss(['stack', ...paths, '-o', out, '--memory', `${budgetMB}MB`, '--workers', '1', '--rejection-maps', '--normalize', 'none', '--weights', 'none']);
  assert.equal(r.code, 0, r.stderr);
  const above = r.maxRssMB - base.maxRssMB;
  // the old code held the first frame, the MRS transform of a whole plane, the result and its encoding: ~400 MB
  assert.ok(above < budgetMB + 100, `stack --memory ${budgetMB}MB peaked ${above.toFixed(0)} MB above the runtime's ${base.maxRssMB.toFixed(0)} MB`);
  const img = readFits(out);
  assert.equal(img.width, W);
  const d = img.data[0]!;
  for (const p of [0, 1234567, W * W - 1]) assert.ok(d[p]! >= 1000 && d[p]! < 1100, `pixel ${p}: ${d[p]}`);
  assert.ok(img.header.history().some((h) => /bands=\d+ rows-per-band=/.test(h)));
});
