import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { medianMadOfBlock, medianMadOfIntegers } from '../../src/session/int-stats.js';
import { pixelEvidence } from '../../src/session/evidence.js';
import { median } from '../../src/image/stats.js';
import { createCamera, sensorModel, simulateFrame } from '../../src/devices/sim/index.js';
import { randomStarField } from '../../src/devices/sim/stars.js';
import { FitsFile } from '../../src/fits/reader.js';
import { writeFits } from '../../src/fits/index.js';
import type { FrameKind } from '../../src/session/metadata.js';

/** The selection path the scan used before counting: median, then the median of float32 |x - median|. */
function reference(a: Float32Array): { med: number; mad: number } {
  const med = median(a);
  const dev = new Float32Array(a.length);
  for (let i = 0; i < a.length; i++) dev[i] = Math.abs(a[i]! - med);
  return { med, mad: median(dev) };
}

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296;
}

test('median and MAD by counting equal the exact selections on integer samples (ties, even and odd counts, negatives)', () => {
  const rnd = lcg(7);
  let cases = 0;
  for (const n of [1, 2, 3, 4, 31, 32, 33, 576, 577, 5000, 200_001]) {
    for (const spread of [0, 1, 3, 40, 3000]) {
      const a = new Float32Array(n);
      for (let i = 0; i < n; i++) a[i] = Math.round(-50 + spread * (rnd() + rnd() + rnd() - 1.5)) + (rnd() < 0.01 ? 20000 : 0);
      let lo = Infinity;
      let hi = -Infinity;
      for (const v of a) {
        lo = Math.min(lo, v);
        hi = Math.max(hi, v);
      }
      const ref = reference(a);
      const got = medianMadOfIntegers(a.slice(), n, lo, hi - lo + 1);
      assert.deepEqual(got, ref, `n ${n} spread ${spread}`);
      cases++;
    }
  }
  assert.equal(cases, 55);
});

test('a counting window that cuts into the middle ranks or the MAD gives null, never a wrong number', () => {
  const rnd = lcg(11);
  const a = new Float32Array(577);
  for (let i = 0; i < a.length; i++) a[i] = Math.round(1000 + 20 * (rnd() + rnd() + rnd() - 1.5));
  const ref = reference(a);
  let exact = 0;
  let refused = 0;
  for (let base = 900; base <= 1100; base += 5) {
    for (const size of [16, 64, 128, 256]) {
      const got = medianMadOfIntegers(a, a.length, base, size);
      if (got === null) refused++;
      else {
        assert.deepEqual(got, ref, `window [${base}, ${base + size})`);
        exact++;
      }
    }
  }
  // Both outcomes occur: windows around the median that hold the MAD (+-1 ADU is not enough), and the rest.
  assert.ok(exact > 20 && refused > 20, `${exact} exact, ${refused} refused`);
  assert.equal(medianMadOfIntegers(a, a.length, Math.round(ref.med), 1), null);
});

test('non-integer or non-finite samples are refused (the scan falls back to selection)', () => {
  assert.equal(medianMadOfIntegers(new Float32Array([1, 2, 2.5, 3]), 4, 0, 10), null);
  assert.equal(medianMadOfIntegers(new Float32Array([1, 2, Infinity, 3]), 4, 0, 10), null);
  assert.equal(medianMadOfIntegers(new Float32Array([1, 2, NaN, 3]), 4, 0, 10), null);
  assert.deepEqual(medianMadOfIntegers(new Float32Array([1, 2, 2, 3]), 4, 0, 10), { med: 2, mad: 0.5 });
});

test('on simulator frames: counting equals selection on every 9x64 segment, and the sampled level and sigma are within 0.05 sigma / 2% of the whole frame', () => {
  const dir = mkdtempSync(join(tmpdir(), 'darkroom-intstats-'));
  try {
    const w = 1536;
    const h = 1024;
    const cam = createCamera(sensorModel('cmos', { width: w, height: h }), 5);
    const stars = randomStarField(4, w, h, 400, { fluxMin: 20, fluxMax: 50000, margin: 8 });
    const classes: Record<string, string> = {};
    for (const kind of ['bias', 'dark', 'flat', 'light'] as FrameKind[]) {
      const f = simulateFrame(cam, { kind, exposure: kind === 'bias' ? 0 : kind === 'flat' ? 2 : 120, ccdTemp: -10, seed: 3, sky: 3, stars });
      const p = join(dir, `${kind}.fits`);
      writeFits(p, f.image, { bitpix: 16 });
      const file = new FitsFile(p);
      try {
        const plane = file.readRows(0, 0, h);
        // Every segment of the rows the scan samples (here all of them, by bands of 9 rows).
        const seg = new Float32Array(9 * 64);
        let segments = 0;
        for (let y0 = 0; y0 + 9 <= h; y0 += 9) {
          for (let x0 = 0; x0 < w; x0 += 64) {
            let n = 0;
            let lo = Infinity;
            let hi = -Infinity;
            for (let y = y0; y < y0 + 9; y++) for (let x = x0; x < x0 + 64; x++) {
              const v = plane[y * w + x]!;
              seg[n++] = v;
              lo = Math.min(lo, v);
              hi = Math.max(hi, v);
            }
            const ref = reference(seg);
            const got = medianMadOfIntegers(seg.slice(), n, lo, hi - lo + 1);
            assert.deepEqual(got, ref, `${kind} segment at ${x0},${y0}`);
            segments++;
          }
        }
        assert.equal(segments, 113 * 24);
        const full = reference(plane);
        const fullSigma = 1.4826 * full.mad;
        const ev = pixelEvidence(file, file.imageHdu());
        classes[kind] = ev.class;
        assert.ok(Math.abs(ev.median - full.med) <= 0.05 * fullSigma + 0.5, `${kind}: sampled median ${ev.median} vs ${full.med} (sigma ${fullSigma})`);
        assert.ok(Math.abs(ev.sigma / fullSigma - 1) <= 0.02, `${kind}: sampled sigma ${ev.sigma} vs ${fullSigma}`);
      } finally {
        file.close();
      }
    }
    assert.deepEqual(classes, { bias: 'unexposed', dark: 'unexposed', flat: 'uniform', light: 'stars' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('block counting (medianMadOfBlock) equals gathering the first cap finite values and selecting, on bands with NaNs, caps, wide windows and fractions', () => {
  const rnd = lcg(23);
  const width = 150;
  let counted = 0;
  let refused = 0;
  for (const [h, spread, nanRate] of [[9, 8, 0], [9, 400, 0.05], [9, 3000, 0], [40, 30, 0.2], [3, 5, 0.9], [2, 60000, 0]] as const) {
    const d = new Float32Array(width * h);
    for (let i = 0; i < d.length; i++) d[i] = rnd() < nanRate ? NaN : Math.round(20000 + spread * (rnd() + rnd() + rnd() - 1.5)) + (rnd() < 0.01 ? 30000 : 0);
    for (const [x0, x1] of [[0, 64], [64, 128], [128, 150]]) {
      for (const cap of [9 * 64, 50]) {
        // the reference: the first cap finite values in row order, then the exact selections
        const vals: number[] = [];
        for (let y = 0; y < h && vals.length < cap; y++) for (let x = x0; x < x1 && vals.length < cap; x++) if (!Number.isNaN(d[y * width + x]!)) vals.push(d[y * width + x]!);
        for (const [base, size] of [[20000 - 32768, 65536], [19990, 20]]) {
          const got = medianMadOfBlock(d, width, h, x0, x1, cap, base, size, 32);
          assert.ok(got.ok);
          assert.equal(got.n, vals.length);
          if (got.mm === null) {
            refused++;
            continue;
          }
          assert.deepEqual(got.mm, reference(Float32Array.from(vals)), `h ${h} spread ${spread} x ${x0}-${x1} cap ${cap} window ${base}+${size}`);
          counted++;
        }
      }
    }
  }
  assert.ok(counted > 25 && refused > 5, `${counted} counted, ${refused} refused`);
  // fewer finite values than asked: no numbers; a fraction: not counted at all
  const few = new Float32Array(64).fill(NaN);
  few[3] = 5;
  assert.deepEqual(medianMadOfBlock(few, 64, 1, 0, 64, 576, 0, 16, 32), { ok: true, mm: null, n: 1 });
  assert.equal(medianMadOfBlock(Float32Array.from([1, 2, 2.5, 3]), 4, 1, 0, 4, 576, 0, 16, 1).ok, false);
  assert.deepEqual(medianMadOfBlock(Float32Array.from([1, 2, 2, 3]), 4, 1, 0, 4, 576, 0, 16, 1).mm, { med: 2, mad: 0.5 });
});
