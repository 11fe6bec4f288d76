// `darkroom guide --device indi://...` against Debian's indi_simulator_telescope + indi_simulator_ccd: the
// CCD simulator draws the stars where the telescope points (it snoops EQUATORIAL_EOD_COORD of
// ACTIVE_DEVICES.ACTIVE_TELESCOPE, 'Telescope Simulator' by default), the guide pulses move the mount.
// The simulated mount does not drift by itself; a custom tracking rate a little off sidereal makes it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { runCli } from '../helpers/env.js';
import { CCD, SCOPE, setNumbers, setSwitchOn, startIndiSky, type IndiSky } from './indi-sky.js';

let sky: IndiSky;

const SIDEREAL = 15.041067; // arcsec/s
const DEC = 40;
const DRIFT = { ra: 1.5, dec: 0.6 }; // arcsec/s off the sidereal rate, per axis
const SCALE = (5.2 / 900) * 206.3; // the simulator's 5.2 um pixels behind the telescope's 900 mm
const GUIDE_RATE = 0.5 * SIDEREAL; // GUIDE_RATE 0.5x sidereal, arcsec/s of each axis

interface Run {
  calibration: { raRate: number; decRate: number; orthogonalityError: number } | null;
  pixelScale: number;
  stats: { rmsTotal: number; samples: number; lost: number };
  samples: { t: number; dx: number; dy: number; lost: boolean; lostReason?: string }[];
}

function guide(args: string[]): Run {
  const r = runCli(['guide', '--device', `indi://127.0.0.1:${sky.port}`, '--exposure', '0.1', '--json', ...args]);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as Run;
}

const offset = (s: { dx: number; dy: number }): number => Math.hypot(s.dx, s.dy);

before(async () => {
  sky = await startIndiSky(['indi_simulator_ccd', 'indi_simulator_telescope'], [CCD, SCOPE]);
  const c = sky.client;
  await setNumbers(c, CCD, 'SIMULATOR_SETTINGS', { SIM_XRES: 640, SIM_YRES: 512 });
  // point at Dec +40 at once (a sync: a slew there takes a minute), tracking at a custom rate
  if (c.switchOn(SCOPE, 'TELESCOPE_PARK', 'PARK')) await setSwitchOn(c, SCOPE, 'TELESCOPE_PARK', 'UNPARK');
  await setSwitchOn(c, SCOPE, 'ON_COORD_SET', 'SYNC');
  await setNumbers(c, SCOPE, 'EQUATORIAL_EOD_COORD', { RA: c.num(SCOPE, 'EQUATORIAL_EOD_COORD', 'RA'), DEC });
  await setSwitchOn(c, SCOPE, 'TELESCOPE_TRACK_STATE', 'TRACK_ON');
  await setSwitchOn(c, SCOPE, 'TELESCOPE_TRACK_MODE', 'TRACK_CUSTOM');
  await setNumbers(c, SCOPE, 'TELESCOPE_TRACK_RATE', { TRACK_RATE_RA: SIDEREAL - DRIFT.ra, TRACK_RATE_DE: DRIFT.dec });
});
after(() => sky?.stop());

/**
 * Lost frames (the guider skips them, as PHD2 does) at most 5% of the samples, two at least: these runs are
 * real time against an accelerated simulator, and a client starved for seconds on a loaded machine sees
 * the star jump beyond its search box; the guider's own rules are tested on the virtual clock (guide.test.ts).
 */
const few = (r: { stats: { lost: number; samples: number } }): boolean => r.stats.lost <= Math.max(2, Math.floor(0.05 * (r.stats.samples + r.stats.lost)));
/** The lost samples' times and reasons, for a failure's message. */
const why = (r: Run): string => r.samples.filter((s) => s.lost).map((s) => `t=${s.t} ${s.lostReason}`).join('; ');

test('darkroom guide --device indi://: calibrated by the mount\'s guide rate; guiding holds the star that drifts away unguided', () => {
  const unguided = guide(['--no-guide', '--duration', '8']);
  assert.equal(unguided.calibration, null, '--no-guide does not calibrate');
  const u = unguided.samples.filter((s) => !s.lost);
  assert.ok(u.length >= 4 && few(unguided), `${u.length} frames, ${unguided.stats.lost} lost: ${why(unguided)}`);
  // drift on the sky: RA 1.5"/s x cos 40 and Dec 0.6"/s, i.e. 1.09 px/s
  const rate = Math.hypot(DRIFT.ra * Math.cos((DEC * Math.PI) / 180), DRIFT.dec) / SCALE;
  const last = u.at(-1)!;
  const seconds = (last.t - u[0]!.t) / 1000;
  assert.ok(Math.abs(offset(last) - rate * seconds) < 0.3 * rate * seconds + 1.5, `unguided: ${offset(last).toFixed(1)} px after ${seconds.toFixed(1)} s (drift ${rate.toFixed(2)} px/s)`);

  const guided = guide(['--duration', '10', '--calibration-step', '1000', '--calibration-distance', '8']);
  assert.ok(Math.abs(guided.pixelScale - SCALE) < 0.01, `plate scale ${guided.pixelScale} from the frames' SCALE`);
  const cal = guided.calibration!;
  const raRate = (GUIDE_RATE * Math.cos((DEC * Math.PI) / 180)) / SCALE;
  assert.ok(Math.abs(cal.raRate - raRate) < 0.2 * raRate, `RA rate ${cal.raRate.toFixed(2)} px/s, mount ${raRate.toFixed(2)}`);
  assert.ok(Math.abs(cal.decRate - GUIDE_RATE / SCALE) < 0.2 * (GUIDE_RATE / SCALE), `Dec rate ${cal.decRate.toFixed(2)} px/s, mount ${(GUIDE_RATE / SCALE).toFixed(2)}`);
  assert.ok(Math.abs(cal.orthogonalityError) < 10, `orthogonality ${cal.orthogonalityError}`);
  const g = guided.samples.filter((s) => !s.lost);
  assert.ok(g.length >= 5 && few(guided), `${g.length} guided frames, ${guided.stats.lost} lost: ${why(guided)}`);
  // guided, the star stays near the lock position (the corrections keep up with the drift, a frame
  // behind); unguided, the drift alone would have carried it `drifted` px in that time
  const drifted = (rate * (g.at(-1)!.t - g[0]!.t)) / 1000;
  assert.ok(guided.stats.rmsTotal < unguided.stats.rmsTotal, `RMS guided ${guided.stats.rmsTotal.toFixed(2)} px, unguided ${unguided.stats.rmsTotal.toFixed(2)} px`);
  assert.ok(guided.stats.rmsTotal < (0.5 * drifted) / Math.sqrt(3), `RMS guided ${guided.stats.rmsTotal.toFixed(2)} px; a ${drifted.toFixed(1)} px drift has RMS ${(drifted / Math.sqrt(3)).toFixed(2)} px`);
  // the median offset of the second half (one frame late by seconds on a loaded machine is one excursion)
  const second = g.slice(Math.floor(g.length / 2)).map(offset).sort((a, b) => a - b);
  const typical = second[Math.floor(second.length / 2)]!;
  assert.ok(typical < 0.4 * drifted, `guided: ${typical.toFixed(1)} px off (median) in the second half; unguided it would have drifted ${drifted.toFixed(1)} px`);
});
