/** Shared helpers for the calibration tests: a simulated night and its masters. */
import { join } from 'node:path';
import { simulateSession, sensorModel, type SessionSpec, type SessionFiles } from '../../src/devices/sim/index.js';
import { writeMaster, loadMaster, type Master } from '../../src/calibrate/index.js';
import { readFits } from '../../src/fits/index.js';
import { median } from '../../src/image/stats.js';

export interface Night {
  ses: SessionFiles;
  bias: Master;
  dark: Master;
  flat: Master;
  paths: { bias: string; dark: string; flat: string };
}

export async function night(dir: string, spec: SessionSpec): Promise<Night> {
  const ses = simulateSession(dir, spec);
  const paths = { bias: join(dir, 'MasterBias.fits'), dark: join(dir, 'MasterDark.fits'), flat: join(dir, 'MasterFlat.fits') };
  await writeMaster('bias', ses.bias, paths.bias);
  await writeMaster('dark', ses.darks, paths.dark);
  await writeMaster('flat', ses.flats, paths.flat, { bias: loadMaster(paths.bias) });
  return { ses, bias: loadMaster(paths.bias), dark: loadMaster(paths.dark), flat: loadMaster(paths.flat), paths };
}

/** Medians of (a - b) over square blocks, relative to `ref`. */
export function blockResiduals(a: Float32Array, b: Float32Array, width: number, height: number, block: number, ref: number): number[] {
  const out: number[] = [];
  const buf = new Float64Array(block * block);
  for (let by = 0; by + block <= height; by += block) {
    for (let bx = 0; bx + block <= width; bx += block) {
      let k = 0;
      for (let y = by; y < by + block; y++) for (let x = bx; x < bx + block; x++) buf[k++] = a[y * width + x]! - b[y * width + x]!;
      out.push(median(buf) / ref);
    }
  }
  return out;
}

export function truthOf(ses: SessionFiles, i: number): Float32Array {
  return readFits(ses.truthSignals[i]!).data[0]!;
}

export { sensorModel };
