/**
 * Simulated nights for `darkroom demo`.
 *
 * `acquireDemoNight` (what `darkroom demo` runs) acquires a whole LRGB night the way an imager does, with the
 * built-in simulators on a virtual clock: the QSI-like SimCamera (one camera instance all night: the same bias
 * pattern, hot pixels, dust and vignetting) is cooled to the set point and the sequencer waits for a stable
 * temperature; then flats per filter, flat-darks at the flat exposure, bias, darks at the light exposure, and LRGB
 * lights of one target in cycle order. For the lights a SimMount tracks the target (drift + periodic error); its
 * pointing feeds the camera's `pointing` hook, and a Guider on a SimGuideCamera calibrates, keeps it tracking during
 * the exposures and dithers between lights. The guiding residual of each light also widens its PSF. Stars have
 * colours (per-star throughput per filter), so the LRGB picture shows red and blue stars.
 *
 * `simulateDemoNight` is the older, synchronous shortcut: frames straight from the image simulator, no devices
 * (a quick fixture for tests that only need a calibrated-able night on disk).
 */
import { mkdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { writeFits } from '../fits/index.js';
import { createCamera, simulateFrame, type FrameKind, type FrameRequest } from '../devices/sim/camera.js';
import { sensorModel } from '../devices/sim/sensors.js';
import { randomStarField, type Psf, type SimStar } from '../devices/sim/stars.js';
import { SimCamera } from '../devices/simcamera.js';
import { SimGuideCamera, SimMount } from '../devices/simmount.js';
import type { Clock } from '../devices/types.js';
import { Rng } from '../util/random.js';
import { DarkroomError } from '../util/errors.js';
import { VERSION } from '../version.js';
import { VirtualClock } from './clock.js';
import { Guider, type GuideStats } from './guide.js';
import { parsePlan, type Plan } from './plan.js';
import { Sequencer, type SequenceEvent } from './sequencer.js';

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
export function colourFactor(filter: string, t: number): number {
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

// ---------------------------------------------------------------------------------------------------------------
// The acquired night

export interface AcquireSpec {
  width?: number;
  height?: number;
  seed?: number;
  /** Wheel filters for flats and lights, in cycle order (default Luminance, Red, Green, Blue). */
  filters?: string[];
  lightsPerFilter?: number;
  bias?: number;
  darks?: number;
  flatsPerFilter?: number;
  flatDarks?: number;
  /** s */
  lightExposure?: number;
  /** s */
  flatExposure?: number;
  /** Cooler set point, C. */
  setpoint?: number;
  object?: string;
  /** Progress lines (cooling, each frame, guiding). */
  log?: (line: string) => void;
}

export interface AcquiredNight {
  dir: string;
  /** Files written, relative to dir. */
  files: string[];
  filters: string[];
  coolingWaitS: number;
  /** Simulated time from the start of cooling to the end of the last light, s. */
  nightS: number;
  /** Guiding during the light exposures (not counting dither settling). */
  guide: GuideStats;
  /** Guiding RMS of each light (total, arcsec), in acquisition order. */
  lightGuideRms: number[];
  dithers: number;
  dithersSettled: number;
  calibration: { cameraAngle: number; raRate: number; decRate: number };
}

/** Main imaging camera plate scale (KAF-8300 5.4 um pixels at 530 mm), arcsec/px. */
const MAIN_SCALE = 2.1;
/** Guide camera plate scale, arcsec/px. */
const GUIDE_SCALE = 1.5;

/**
 * A clock for the sequencer that, while `guiding` is on, spends its waits guiding: each sleep runs guide cycles
 * (guide exposure + correction pulses on the underlying clock) until the requested time has passed. Everything
 * stays sequential, as the virtual clock requires.
 */
class GuidingClock implements Clock {
  guiding = false;
  constructor(
    private readonly base: Clock,
    private readonly guider: Guider,
  ) {}
  now(): number {
    return this.base.now();
  }
  async sleep(ms: number): Promise<void> {
    if (!this.guiding) return this.base.sleep(ms);
    const end = this.base.now() + ms;
    while (this.base.now() < end) await this.guider.step(true);
  }
}

export async function acquireDemoNight(dir: string, spec: AcquireSpec = {}): Promise<AcquiredNight> {
  const log = spec.log ?? ((): void => {});
  const width = spec.width ?? 640;
  const height = spec.height ?? 480;
  const seed = spec.seed ?? 2026;
  const filters = spec.filters ?? ['Luminance', 'Red', 'Green', 'Blue'];
  const nL = spec.lightsPerFilter ?? 6;
  const nB = spec.bias ?? 10;
  const nD = spec.darks ?? 8;
  const nF = spec.flatsPerFilter ?? 6;
  const nFD = spec.flatDarks ?? 6;
  const tL = spec.lightExposure ?? 120;
  const tF = spec.flatExposure ?? 3;
  const setpoint = spec.setpoint ?? -10;
  const object = spec.object ?? 'NGC 7000';
  const base = object.replace(/[^A-Za-z0-9]+/g, '');
  if (!filters.length) throw new DarkroomError('BAD_ARGUMENT', 'the demo night needs at least one filter');

  const clock = new VirtualClock(Date.UTC(2026, 8, 14, 19, 40, 0));
  const rng = new Rng(seed + 17);
  const sensor = sensorModel('kaf8300', { width, height });
  const stars = randomStarField(seed + 3, width, height, Math.round((width * height) / 1500), { fluxMin: 30, fluxMax: 30000, margin: 12 });
  const colours = stars.map(() => rng.uniform());
  const seeing = 2.6 + 0.3 * rng.uniform();

  // The mount exists from the start of the lights (slew to the target); the camera asks it where it points.
  let mount: SimMount | null = null;
  let guider: Guider | null = null;
  let frameRng = new Rng(seed + 29);
  const pointing = (): { dx: number; dy: number } => {
    if (!mount) return { dx: 0, dy: 0 };
    const p = mount.pointing();
    const k = GUIDE_SCALE / MAIN_SCALE;
    return { dx: p.dx * k, dy: p.dy * k };
  };
  /** Seeing (slowly varying) widened by the recent guiding residual, in main-camera pixels. */
  const psf = (): Psf => {
    let fwhm = seeing * (0.92 + 0.16 * frameRng.uniform());
    if (guider) {
      const recent = guider.samples.slice(-30);
      const st = guider.stats(recent);
      if (st.samples > 0) fwhm = Math.hypot(fwhm, 2.355 * st.rmsTotal * (GUIDE_SCALE / MAIN_SCALE));
    }
    return { kind: 'moffat', fwhm, beta: 3 };
  };
  const camera = new SimCamera({
    clock,
    sensor,
    seed,
    ambient: 14,
    sky: 3,
    stars,
    pointing,
    psf,
    starColour: (i, filter) => colourFactor(filter, colours[i] ?? 0.5),
  });
  await camera.connect();
  const wheel = camera.wheel;

  const total = filters.length * nF + nFD + nB + nD + filters.length * nL;
  const files: string[] = [];
  const t0 = clock.now();
  let lastCoolLog = -Infinity;
  let guideFrom = 0;
  const lightGuideRms: number[] = [];
  const onEvent = (e: SequenceEvent): void => {
    switch (e.kind) {
      case 'cooling':
        if (clock.now() - lastCoolLog >= 60_000) {
          lastCoolLog = clock.now();
          log(`cooling: CCD ${e.ccdTemp.toFixed(1)} C, set point ${e.setpoint} C, cooler ${Math.round(e.power)} %`);
        }
        break;
      case 'cooled':
        log(`cooling: stable at ${e.ccdTemp.toFixed(2)} C after ${Math.round(e.waitedS)} s`);
        break;
      case 'exposing':
        if (guider) guideFrom = guider.samples.length;
        break;
      case 'saved': {
        const rel = relative(dir, e.path);
        files.push(rel);
        let extra = '';
        if (guider && e.frame.type === 'light') {
          const st = guider.stats(guider.samples.slice(guideFrom));
          lightGuideRms.push(st.rmsTotalArcsec);
          extra = `, guiding RMS ${st.rmsTotalArcsec.toFixed(2)}" over ${st.samples} guide frames`;
        }
        log(`[${files.length}/${total}] ${rel} (${e.frame.type} ${e.frame.exposure} s${e.frame.filter ? ` ${e.frame.filter}` : ''}${extra})`);
        break;
      }
      default:
    }
  };

  const plan = (sub: Partial<Record<string, unknown>>): Plan =>
    parsePlan({ profile: { observer: 'Darkroom demo', telescope: 'simulated 106 mm f/5 refractor', focalLength: 530, siteLat: 44.2, siteLong: 5.6 }, ...sub });
  const run = async (sub: string, p: Plan, clk: Clock = clock, dither?: () => Promise<void>): Promise<number> => {
    const outDir = join(dir, sub);
    mkdirSync(outDir, { recursive: true });
    const r = await new Sequencer(p, { camera, wheel, clock: clk, outDir, onEvent, dither, pollMs: 500 }).run();
    return r.coolingWaitS;
  };
  const pattern = '{base}_{filter}{suffix}_{exposure}s_{seq:3}';
  log(`cooling: cooler on, set point ${setpoint} C (ambient ${camera.ambient} C)`);
  const cooling = { setpoint, tolerance: 0.2, stableMinutes: 2, timeoutMinutes: 30 };

  // Flats per filter (one run per filter so each filter's numbering starts at 1), then flat-darks, bias, darks.
  let coolingWaitS = 0;
  for (const [i, f] of filters.entries()) {
    const w = await run('calibration/flats', plan({ base: 'Flat', pattern, order: 'group', cooling: i === 0 ? cooling : undefined, groups: [{ type: 'flat', filter: f, exposure: tF, count: nF }] }));
    if (i === 0) coolingWaitS = w;
  }
  await run('calibration/flat-darks', plan({ base: 'FlatDark', pattern: '{base}_{exposure}s_{seq:3}', groups: [{ type: 'flatdark', exposure: tF, count: nFD }] }));
  await run('calibration/bias', plan({ base: 'Bias', pattern: '{base}_{seq:3}', groups: [{ type: 'bias', exposure: 0, count: nB }] }));
  await run('calibration/darks', plan({ base: 'Dark', pattern: '{base}_{exposure}s_{seq:3}', groups: [{ type: 'dark', exposure: tL, count: nD }] }));

  // Lights: slew, start the guider (acquire a star, calibrate), guide through every exposure, dither between lights.
  mount = new SimMount({ clock, pixelScale: GUIDE_SCALE, cameraAngle: 360 * rng.uniform() - 180, driftRa: 0.02, driftDec: -0.012, pe: 7, pePeriod: 480, pePhase: 2 * Math.PI * rng.uniform() });
  const guideCam = new SimGuideCamera(mount, { seed: seed + 5 });
  guider = new Guider(guideCam, mount, clock, { exposure: 2, pixelScale: GUIDE_SCALE, ditherPx: 4, settlePx: 0.6, seed: seed + 7 });
  frameRng = new Rng(seed + 31);
  log(`guiding: slewed to ${object}; calibrating the guider`);
  await guider.acquire();
  const cal = await guider.calibrate();
  log(`guiding: calibrated, camera angle ${cal.cameraAngle.toFixed(1)} deg, RA ${cal.raRate.toFixed(2)} px/s, Dec ${cal.decRate.toFixed(2)} px/s, orthogonality error ${cal.orthogonalityError.toFixed(1)} deg`);
  await guider.run(30);
  const gclock = new GuidingClock(clock, guider);
  gclock.guiding = true;
  let dithers = 0;
  let settled = 0;
  const dither = async (): Promise<void> => {
    const d = await guider!.dither();
    dithers++;
    if (d.settled) settled++;
    log(`guiding: dither ${d.offset.x.toFixed(1)}, ${d.offset.y.toFixed(1)} px ${d.settled ? `settled in ${Math.round(d.seconds)} s` : `not settled after ${Math.round(d.seconds)} s`}`);
  };
  const lightsFrom = guider.samples.length;
  await run('lights', plan({ object, base, pattern, order: 'cycle', ditherEvery: 1, groups: filters.map((f) => ({ type: 'light', filter: f, exposure: tL, count: nL })) }), gclock, dither);
  gclock.guiding = false;
  const guide = guider.stats(guider.samples.slice(lightsFrom));
  log(`guiding: RMS ${guide.rmsTotalArcsec.toFixed(2)}" (RA ${guide.rmsRaArcsec.toFixed(2)}", Dec ${guide.rmsDecArcsec.toFixed(2)}") over ${guide.samples} guide frames, ${dithers} dithers (${settled} settled)`);
  const nightS = (clock.now() - t0) / 1000;
  await camera.setCooler(false);
  await camera.disconnect();
  return {
    dir,
    files,
    filters,
    coolingWaitS,
    nightS,
    guide,
    lightGuideRms,
    dithers,
    dithersSettled: settled,
    calibration: { cameraAngle: cal.cameraAngle, raRate: cal.raRate, decRate: cal.decRate },
  };
}
