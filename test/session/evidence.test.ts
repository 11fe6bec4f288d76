import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decideKind, pixelEvidence, type PixelEvidence } from '../../src/session/evidence.js';
import { createCamera, sensorModel, simulateFrame } from '../../src/devices/sim/index.js';
import { randomStarField } from '../../src/devices/sim/stars.js';
import { FitsFile } from '../../src/fits/reader.js';
import { writeFits } from '../../src/fits/index.js';

const ev = (stars: number): PixelEvidence => ({ median: 1000, sigma: 10, stars, rows: 100, fullScale: 65535, class: stars >= 5 ? 'stars' : 'unexposed' });

test('a few star-like peaks (cosmic rays) do not overrule a header and a name that agree', () => {
  const d = decideKind('dark', 'dark', ev(6), 120);
  assert.equal(d.kind, 'dark');
  assert.match(d.note ?? '', /too few to overrule both/);
});

test('many stars overrule header and name; a few stars overrule a header the name contradicts', () => {
  assert.equal(decideKind('dark', 'dark', ev(40), 120).kind, 'light');
  assert.equal(decideKind('dark', 'light', ev(6), 120).kind, 'light');
  assert.equal(decideKind('dark', undefined, ev(6), 120).kind, 'light');
});

test('the shot noise of an amp glow makes no star-like peaks: a glowing CMOS dark stays unexposed, its lights keep their stars', () => {
  const dir = mkdtempSync(join(tmpdir(), 'darkroom-evidence-'));
  try {
    // CMOS with amp glow 0.5 e-/s at a corner: 30 e- in 60 s, 2.3x the read noise there (issue 15's OSC night)
    const sensor = { ...sensorModel('cmos', { width: 768, height: 512 }), bayer: 'RGGB' as const, colorResponse: [0.75, 1, 0.85] as [number, number, number] };
    const cam = createCamera(sensor, 5);
    const classOf = (kind: 'dark' | 'light'): PixelEvidence => {
      const f = simulateFrame(cam, { kind, exposure: 60, ccdTemp: -10, seed: 3, sky: 3, stars: randomStarField(4, 768, 512, 300, { fluxMin: 20, fluxMax: 20000, margin: 8 }) });
      const p = join(dir, `${kind}.fits`);
      writeFits(p, f.image, { bitpix: 16 });
      const file = new FitsFile(p);
      try {
        return pixelEvidence(file, file.imageHdu());
      } finally {
        file.close();
      }
    };
    const dark = classOf('dark');
    assert.equal(dark.class, 'unexposed', JSON.stringify(dark));
    assert.ok(dark.stars <= 1, JSON.stringify(dark));
    const light = classOf('light');
    assert.equal(light.class, 'stars');
    assert.ok(light.stars > 100, JSON.stringify(light));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
