/**
 * One auto-STF for the server and the browser: the web viewer's entry points (web/src/stf.ts) and
 * the server's (src/render/stretch.ts) give the same parameters for the same image, also for planes
 * large enough that the statistics come from a subsample.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { autoStf as serverStf } from '../../src/render/stretch.js';
import { STF_SAMPLE_MAX } from '../../src/render/stf.js';
import { autoStf as webStf, range as webRange } from '../../web/src/stf.js';
import { createImage, type Image } from '../../src/image/image.js';
import { Rng } from '../../src/util/random.js';

function sky(width: number, height: number, channels: number, seed: number): Image {
  const img = createImage(width, height, channels);
  const rng = new Rng(seed);
  for (let c = 0; c < channels; c++) {
    const d = img.data[c]!;
    for (let i = 0; i < d.length; i++) d[i] = 800 + 300 * c + 25 * rng.gauss() + (i % width) * 0.05;
    d[17 + c] = 50000 + c; // stars set the range
    d[1000 + c] = NaN; // a masked pixel
  }
  return img;
}

/** Server and web parameters per channel, as {low, high, c0, m, c1}. */
function both(img: Image, linked: boolean): { server: object[]; web: object[] } {
  const server = serverStf(img, { linked }).map(({ low, high, c0, m, c1 }) => ({ low, high, c0, m, c1 }));
  const r = webRange(img.data);
  const web = webStf(img.data, linked).map(({ c0, m, c1 }) => ({ low: r.low, high: r.high, c0, m, c1 }));
  return { server, web };
}

test('web viewer and server previews compute the same auto STF (linked and unlinked, RGB)', () => {
  const img = sky(800, 400, 3, 11); // 320 000 pixels a plane: above the viewer's old subsample
  for (const linked of [true, false]) {
    const { server, web } = both(img, linked);
    assert.deepEqual(web, server, `linked=${linked}`);
  }
});

test('web viewer and server previews agree when the statistics come from a subsample', () => {
  const img = createImage(2050, 2000); // above STF_SAMPLE_MAX
  assert.ok(img.width * img.height > STF_SAMPLE_MAX);
  const d = img.data[0]!;
  let s = 12345;
  for (let i = 0; i < d.length; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    d[i] = 1000 + (s >>> 20) / 64;
  }
  d[3] = 60000;
  const { server, web } = both(img, true);
  assert.deepEqual(web, server);
});

test('web viewer and server agree on flat and all-NaN images', () => {
  const flat = createImage(10, 10);
  flat.data[0]!.fill(300);
  const empty = createImage(10, 10);
  empty.data[0]!.fill(NaN);
  for (const img of [flat, empty]) {
    const { server, web } = both(img, true);
    assert.deepEqual(web, server);
  }
});
