/**
 * A simulated LRGB night for `darkroom demo`: one camera instance (the same bias pattern, hot
 * pixels, dust and vignetting all night), bias and darks, flats per filter, and dithered lights of a
 * star field whose stars have colours, so the final LRGB image shows them. Frames are written the
 * way MaxIm DL writes them, in folders as an imager keeps them.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { writeFits } from '../fits/index.js';
import { createCamera, simulateFrame, type FrameKind, type FrameRequest } from '../devices/sim/camera.js';
import { sensorModel } from '../devices/sim/sensors.js';
import { randomStarField, type SimStar } from '../devices/sim/stars.js';
import { Rng } from '../util/random.js';
import { VERSION } from '../version.js';

export interface DemoNightSpec {
  width?: number;
  height?: number;
  seed?: number;
  sensor?: string;
  filters?: string[];
  lightsPerFilter?: number;
  bias?: number;
  darks?: number;
  flatsPerFilter?: number;
  lightExposure?: number;
  ccdTemp?: number;
  object?: string;
  /** Called after each frame is written. */
  onFrame?: (done: number, total: number, path: string) => void;
}

export interface DemoNight {
  dir: string;
  frames: number;
  filters: string[];
}

/** Relative throughput of a star of colour index t (0 blue .. 1 red) in a filter. */
function colourFactor(filter: string, t: number): number {
  switch (filter[0]?.toUpperCase()) {
    case 'R':
      return 0.45 + 0.9 * t;
    case 'G':
      return 0.8 + 0.2 * Math.sin(Math.PI * t);
    case 'B':
      return 1.3 - 0.9 * t;
    default:
      return 1;
  }
}

const SKY: Record<string, number> = { L: 3, R: 1.1, G: 1.0, B: 0.9 };

export function simulateDemoNight(dir: string, spec: DemoNightSpec = {}): DemoNight {
  const base = sensorModel(spec.sensor ?? 'kaf8300');
  const sensor = { ...base, width: spec.width ?? 640, height: spec.height ?? 480 };
  const seed = spec.seed ?? 2026;
  const cam = createCamera(sensor, seed);
  const filters = spec.filters ?? ['L', 'R', 'G', 'B'];
  const nL = spec.lightsPerFilter ?? 6;
  const nB = spec.bias ?? 10;
  const nD = spec.darks ?? 8;
  const nF = spec.flatsPerFilter ?? 6;
  const tL = spec.lightExposure ?? 120;
  const T = spec.ccdTemp ?? -10;
  const object = spec.object ?? 'NGC 7000';
  const total = nB + nD + filters.length * (nF + nL);

  const rng = new Rng(seed + 17);
  const field = randomStarField(seed + 3, sensor.width, sensor.height, Math.round((sensor.width * sensor.height) / 1500), {
    fluxMin: 30,
    fluxMax: 30000,
    margin: 10,
  });
  const colours = field.map(() => rng.uniform());
  let clock = Date.UTC(2026, 8, 14, 20, 30, 0);
  let frameNo = 0;
  let done = 0;

  const shoot = (kind: FrameKind, sub: string, name: string, extra: Partial<FrameRequest> & { exposure: number }): void => {
    const folder = join(dir, sub);
    mkdirSync(folder, { recursive: true });
    const req: FrameRequest = {
      kind,
      ccdTemp: T + 0.05 * Math.sin(frameNo),
      setTemp: T,
      seed: seed * 1000 + ++frameNo,
      dateObs: new Date(clock),
      object: kind === 'light' ? object : undefined,
      ra: 314.75,
      dec: 44.3,
      ...extra,
    };
    const f = simulateFrame(cam, req);
    f.image.header.set('SWCREATE', `Darkroom ${VERSION} demo simulator`);
    const path = join(folder, name);
    writeFits(path, f.image, { bitpix: 16 });
    clock += (req.exposure + 4) * 1000;
    done++;
    spec.onFrame?.(done, total, path);
  };
  const n3 = (i: number): string => String(i + 1).padStart(3, '0');

  for (let i = 0; i < nB; i++) shoot('bias', 'calibration/bias', `Bias_${n3(i)}.fit`, { exposure: 0 });
  for (let i = 0; i < nD; i++) shoot('dark', 'calibration/darks', `Dark_${tL}s_${n3(i)}.fit`, { exposure: tL });
  for (const filter of filters) {
    for (let i = 0; i < nF; i++) shoot('flat', `calibration/flats/${filter}`, `Flat_${filter}_${n3(i)}.fit`, { exposure: 2, filter });
  }
  for (const filter of filters) {
    const stars: SimStar[] = field.map((s, k) => ({ x: s.x, y: s.y, flux: s.flux * colourFactor(filter, colours[k]!) }));
    for (let i = 0; i < nL; i++) {
      shoot('light', `lights/${filter}`, `${object.replace(/\s+/g, '')}_${filter}_${tL}s_${n3(i)}.fit`, {
        exposure: tL,
        filter,
        stars,
        sky: SKY[filter] ?? 1,
        psf: { kind: 'moffat', fwhm: 2.8 + 0.3 * rng.uniform(), beta: 3 },
        dither: { dx: 6 * (rng.uniform() - 0.5), dy: 6 * (rng.uniform() - 0.5) },
      });
    }
  }
  return { dir, frames: total, filters };
}
