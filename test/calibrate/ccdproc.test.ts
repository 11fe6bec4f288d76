import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFits, writeFits } from '../../src/fits/index.js';
import { calibrateLight } from '../../src/calibrate/index.js';
import { runPython, useTempDir } from '../helpers/env.js';
import { night, sensorModel } from './night.js';

test('differential: ccdproc subtract_dark + flat_correct on the same masters give the same pixels as the plain form (1e-5)', async (t) => {
  const dir = useTempDir(t);
  const sensor = sensorModel('kaf1603', { width: 160, height: 120 });
  const n = await night(dir, { sensor, seed: 12, bias: 4, darks: 4, flats: 4, lights: 1, lightExposure: 200, ccdTemp: 0, sky: 20 });
  const lp = n.ses.lights[0]!;
  const r = calibrateLight(readFits(lp), lp, { dark: n.dark, flat: n.flat, darkMode: 'plain' });
  assert.equal(r.report.clippedPct, 0);
  const out = join(dir, 'ours.fits');
  writeFits(out, r.image);
  const py = `
import sys, numpy as np, ccdproc, astropy.units as u
from astropy.nddata import CCDData
from astropy.io import fits
light = CCDData.read(sys.argv[1], unit='adu')
dark = CCDData.read(sys.argv[2], unit='adu')
flat = CCDData.read(sys.argv[3], unit='adu')
c = ccdproc.subtract_dark(light, dark, exposure_time='EXPTIME', exposure_unit=u.s)
c = ccdproc.flat_correct(c, flat)
ref = np.asarray(c.data, dtype=np.float64)
ours = fits.getdata(sys.argv[4]).astype(np.float64)
rel = np.abs(ours - ref) / np.maximum(np.abs(ref), 1.0)
print(ref.shape[0], ref.shape[1], float(rel.max()), float(np.median(ref)), float(np.mean(flat.data)))
`;
  const [h, w, maxRel, med] = runPython(py, [lp, n.paths.dark, n.paths.flat, out]).trim().split(/\s+/).map(Number);
  assert.equal(w, 160);
  assert.equal(h, 120);
  assert.ok(med! > 1000, `sanity: median ${med}`);
  assert.ok(maxRel! < 1e-5, `max relative difference ${maxRel}`);
});
