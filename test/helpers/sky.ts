/** Frames of the simulator's catalogue sky (Tycho-2 stars) with their ground truth, for the plate-solving tests. */
import { writeFits } from '../../src/fits/index.js';
import { VirtualClock } from '../../src/acquire/clock.js';
import { SimCamera, sensorModel, skyStars, viewScale } from '../../src/devices/sim/index.js';
import { pixelToSky, wcsFromPointing } from '../../src/solve/wcs.js';

export interface SkyFrame {
  path: string;
  /** Sky position of the binned frame's centre pixel, degrees; scale of a binned pixel, arcsec; rotation, degrees. */
  ra: number;
  dec: number;
  scale: number;
  rotation: number;
  stars: number;
}

/** Render a light frame of the catalogue sky pointing at (ra, dec) through a SimCamera and write it to `path`. */
export async function skyFrame(
  path: string,
  p: { ra: number; dec: number; rotation: number; binning?: number; focalLength?: number; width?: number; height?: number; exposure?: number; seed?: number; header?: Record<string, string | number> },
): Promise<SkyFrame> {
  const sensor = sensorModel('kaf8300', { width: p.width ?? 512, height: p.height ?? 384 });
  const view = { ra: p.ra, dec: p.dec, rotation: p.rotation, focalLength: p.focalLength ?? 111, pixelSize: sensor.pixelSize, width: sensor.width, height: sensor.height };
  let count = 0;
  const cam = new SimCamera({
    sensor,
    clock: new VirtualClock(),
    readoutMs: 100,
    seed: p.seed ?? 583,
    skyStars: () => {
      const s = skyStars(view);
      count = s.length;
      return s;
    },
  });
  await cam.connect();
  const b = p.binning ?? 1;
  await cam.setBinning(b, b);
  await cam.startExposure({ duration: p.exposure ?? 5, type: 'light' });
  const img = await cam.download();
  for (const [k, v] of Object.entries(p.header ?? {})) img.header.set(k, v);
  if (p.focalLength !== undefined) img.header.set('FOCALLEN', p.focalLength, '[mm]', { float: true });
  writeFits(path, img, { bitpix: 16 });
  // ground truth: the sky at the binned frame's centre, through the unbinned sensor's TAN projection
  const wu = wcsFromPointing({ ...view, scale: viewScale(view) });
  const cx = b * ((img.width - 1) / 2) + (b - 1) / 2 + 1;
  const cy = b * ((img.height - 1) / 2) + (b - 1) / 2 + 1;
  const c = pixelToSky(wu, cx, cy);
  return { path, ra: c.ra, dec: c.dec, scale: viewScale(view) * b, rotation: p.rotation, stars: count };
}
