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
 * `simulateDemoNight` is the older, synchronous shortcut: frames straight from the image simulator (the night
 * writer of the simulator), no devices (a quick fixture for tests that only need a calibrated-able night on disk).
 */
import { mkdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { createCamera } from '../devices/sim/camera.js';
import { NightWriter, type FrameExtra } from '../devices/sim/night.js';
import { sensorModel } from '../devices/sim/sensors.js';
import { randomStarField, type Psf, type SimStar } from '../devices/sim/stars.js';
import { SimCamera } from '../devices/sim/simcamera.js';
import { SimGuideCamera, SimMount } from '../devices/sim/simmount.js';
import type { Clock } from '../devices/types.js';
import { Rng } from '../util/random.js';
import { DarkroomError } from '../util/errors.js';
import { VERSION } from '../version.js';
import { VirtualClock } from './clock.js';
import { Guider, type Calibration, type GuideStats } from './guide.js';
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

/** What both demo nights are made of: the sensor size, the seed, the frame counts, the light exposure, the target. */
type NightShape = Pick<DemoNightSpec, 'width' | 'height' | 'seed' | 'lightsPerFilter' | 'bias' | 'darks' | 'flatsPerFilter' | 'lightExposure' | 'object'>;

function nightShape(spec: NightShape): Required<NightShape> {
  return {
    width: spec.width ?? 640,
    height: spec.height ?? 480,
    seed: spec.seed ?? 2026,
    lightsPerFilter: spec.lightsPerFilter ?? 6,
    bias: spec.bias ?? 10,
    darks: spec.darks ?? 8,
    flatsPerFilter: spec.flatsPerFilter ?? 6,
    lightExposure: spec.lightExposure ?? 120,
    object: spec.object ?? 'NGC 7000',
  };
}

export function simulateDemoNight(dir: string, spec: DemoNightSpec = {}): DemoNight {
  const n = nightShape(spec);
  const base = sensorModel(spec.sensor ?? 'kaf8300');
  const sensor = { ...base, width: n.width, height: n.height };
  const seed = n.seed;
  const filters = spec.filters ?? ['L', 'R', 'G', 'B'];
  const tL = n.lightExposure;
  const T = spec.ccdTemp ?? -10;
  const object = n.object;
  const total = n.bias + n.darks + filters.length * (n.flatsPerFilter + n.lightsPerFilter);

  const rng = new Rng(seed + 17);
  const field = randomStarField(seed + 3, sensor.width, sensor.height, Math.round((sensor.width * sensor.height) / 1500), {
    fluxMin: 30,
    fluxMax: 30000,
    margin: 10,
  });
  const colours = field.map(() => rng.uniform());
  const night = new NightWriter(createCamera(sensor, seed), {
    start: Date.UTC(2026, 8, 14, 20, 30, 0),
    gapS: 4,
    seed: (frameNo) => seed * 1000 + frameNo,
    cards: (h) => h.set('SWCREATE', `Darkroom ${VERSION} demo simulator`),
  });
  const pointing = { ra: 314.75, dec: 44.3 };
  const shoot = (kind: 'bias' | 'dark' | 'flat' | 'light', sub: string, name: string, extra: FrameExtra): void => {
    const path = join(dir, sub, name);
    night.shoot(kind, path, T, { ...pointing, object: kind === 'light' ? object : undefined, ...extra });
    spec.onFrame?.(night.frames, total, path);
  };
  const n3 = (i: number): string => String(i + 1).padStart(3, '0');

  for (let i = 0; i < n.bias; i++) shoot('bias', 'calibration/bias', `Bias_${n3(i)}.fit`, { exposure: 0 });
  for (let i = 0; i < n.darks; i++) shoot('dark', 'calibration/darks', `Dark_${tL}s_${n3(i)}.fit`, { exposure: tL });
  for (const filter of filters) {
    for (let i = 0; i < n.flatsPerFilter; i++) shoot('flat', `calibration/flats/${filter}`, `Flat_${filter}_${n3(i)}.fit`, { exposure: 2, filter });
  }
  for (const filter of filters) {
    const stars: SimStar[] = field.map((s, k) => ({ x: s.x, y: s.y, flux: s.flux * colourFactor(filter, colours[k]!) }));
    for (let i = 0; i < n.lightsPerFilter; i++) {
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

/** A camera hook's view of the mount and the guider, which exist only from the lights on. */
interface Pointing {
  mount: SimMount | null;
  guider: Guider | null;
  frameRng: Rng;
}

/** The simulated rig of the acquired night, on a virtual clock; the camera asks `pointing` where the mount points. */
function demoRig(n: Required<NightShape>): { clock: VirtualClock; rng: Rng; camera: SimCamera; pointing: Pointing } {
  const { width, height, seed } = n;
  const clock = new VirtualClock(Date.UTC(2026, 8, 14, 19, 40, 0));
  const rng = new Rng(seed + 17);
  const sensor = sensorModel('kaf8300', { width, height });
  const stars = randomStarField(seed + 3, width, height, Math.round((width * height) / 1500), { fluxMin: 30, fluxMax: 30000, margin: 12 });
  const colours = stars.map(() => rng.uniform());
  const seeing = 2.6 + 0.3 * rng.uniform();
  const ptg: Pointing = { mount: null, guider: null, frameRng: new Rng(seed + 29) };
  const k = GUIDE_SCALE / MAIN_SCALE;
  const pointing = (): { dx: number; dy: number } => {
    if (!ptg.mount) return { dx: 0, dy: 0 };
    const p = ptg.mount.pointing();
    return { dx: p.dx * k, dy: p.dy * k };
  };
  /** Seeing (slowly varying) widened by the recent guiding residual, in main-camera pixels. */
  const psf = (): Psf => {
    let fwhm = seeing * (0.92 + 0.16 * ptg.frameRng.uniform());
    if (ptg.guider) {
      const st = ptg.guider.stats(ptg.guider.samples.slice(-30));
      if (st.samples > 0) fwhm = Math.hypot(fwhm, 2.355 * st.rmsTotal * k);
    }
    return { kind: 'moffat', fwhm, beta: 3 };
  };
  const starColour = (i: number, filter: string): number => colourFactor(filter, colours[i] ?? 0.5);
  const camera = new SimCamera({ clock, sensor, seed, ambient: 14, sky: 3, stars, pointing, psf, starColour });
  return { clock, rng, camera, pointing: ptg };
}

/** Progress lines from the sequencer's events: cooling once a simulated minute, each saved frame with its guiding RMS. */
class NightLog {
  readonly files: string[] = [];
  readonly lightGuideRms: number[] = [];
  private lastCoolLog = -Infinity;
  private guideFrom = 0;
  constructor(
    private readonly dir: string,
    private readonly total: number,
    private readonly clock: Clock,
    private readonly ptg: Pointing,
    readonly log: (line: string) => void,
  ) {}

  onEvent(e: SequenceEvent): void {
    const guider = this.ptg.guider;
    if (e.kind === 'cooling' && this.clock.now() - this.lastCoolLog >= 60_000) {
      this.lastCoolLog = this.clock.now();
      this.log(`cooling: CCD ${e.ccdTemp.toFixed(1)} C, set point ${e.setpoint} C, cooler ${Math.round(e.power)} %`);
    } else if (e.kind === 'cooled') {
      this.log(`cooling: stable at ${e.ccdTemp.toFixed(2)} C after ${Math.round(e.waitedS)} s`);
    } else if (e.kind === 'exposing') {
      if (guider) this.guideFrom = guider.samples.length;
    } else if (e.kind === 'saved') {
      const rel = relative(this.dir, e.path);
      this.files.push(rel);
      let extra = '';
      if (guider && e.frame.type === 'light') {
        const st = guider.stats(guider.samples.slice(this.guideFrom));
        this.lightGuideRms.push(st.rmsTotalArcsec);
        extra = `, guiding RMS ${st.rmsTotalArcsec.toFixed(2)}" over ${st.samples} guide frames`;
      }
      this.log(`[${this.files.length}/${this.total}] ${rel} (${e.frame.type} ${e.frame.exposure} s${e.frame.filter ? ` ${e.frame.filter}` : ''}${extra})`);
    }
  }
}

/** Runs one plan after another into sub-folders of the night, with the demo's observing profile. */
class PlanRunner {
  constructor(
    private readonly dir: string,
    private readonly camera: SimCamera,
    private readonly clock: Clock,
    private readonly nightLog: NightLog,
  ) {}
  plan(sub: Partial<Record<string, unknown>>): Plan {
    return parsePlan({ profile: { observer: 'Darkroom demo', telescope: 'simulated 106 mm f/5 refractor', focalLength: 530, siteLat: 44.2, siteLong: 5.6 }, ...sub });
  }
  /** Run a plan into dir/sub; returns the cooling wait in seconds. */
  async run(sub: string, p: Plan, clk: Clock = this.clock, dither?: () => Promise<void>): Promise<number> {
    const outDir = join(this.dir, sub);
    mkdirSync(outDir, { recursive: true });
    const onEvent = (e: SequenceEvent): void => this.nightLog.onEvent(e);
    const r = await new Sequencer(p, { camera: this.camera, wheel: this.camera.wheel, clock: clk, outDir, onEvent, dither, pollMs: 500 }).run();
    return r.coolingWaitS;
  }
}

const PATTERN = '{base}_{filter}{suffix}_{exposure}s_{seq:3}';

/**
 * Flats per filter (one run per filter so each filter's numbering starts at 1; the first waits for the cooler),
 * then flat-darks, bias, darks. Returns the cooling wait, s.
 */
async function calibrationFrames(runner: PlanRunner, filters: string[], n: Required<NightShape>, spec: AcquireSpec): Promise<number> {
  const tF = spec.flatExposure ?? 3;
  const cooling = { setpoint: spec.setpoint ?? -10, tolerance: 0.2, stableMinutes: 2, timeoutMinutes: 30 };
  let coolingWaitS = 0;
  for (const [i, f] of filters.entries()) {
    const groups = [{ type: 'flat', filter: f, exposure: tF, count: n.flatsPerFilter }];
    const w = await runner.run('calibration/flats', runner.plan({ base: 'Flat', pattern: PATTERN, order: 'group', cooling: i === 0 ? cooling : undefined, groups }));
    if (i === 0) coolingWaitS = w;
  }
  await runner.run('calibration/flat-darks', runner.plan({ base: 'FlatDark', pattern: '{base}_{exposure}s_{seq:3}', groups: [{ type: 'flatdark', exposure: tF, count: spec.flatDarks ?? 6 }] }));
  await runner.run('calibration/bias', runner.plan({ base: 'Bias', pattern: '{base}_{seq:3}', groups: [{ type: 'bias', exposure: 0, count: n.bias }] }));
  await runner.run('calibration/darks', runner.plan({ base: 'Dark', pattern: '{base}_{exposure}s_{seq:3}', groups: [{ type: 'dark', exposure: n.lightExposure, count: n.darks }] }));
  return coolingWaitS;
}

interface GuidedLights {
  guide: GuideStats;
  dithers: number;
  dithersSettled: number;
  calibration: Calibration;
}

/** Lights: slew, start the guider (acquire a star, calibrate), guide through every exposure, dither between lights. */
async function guidedLights(runner: PlanRunner, rig: ReturnType<typeof demoRig>, filters: string[], n: Required<NightShape>, log: (line: string) => void): Promise<GuidedLights> {
  const { clock, rng, pointing: ptg } = rig;
  const seed = n.seed;
  const mount = new SimMount({ clock, pixelScale: GUIDE_SCALE, cameraAngle: 360 * rng.uniform() - 180, driftRa: 0.02, driftDec: -0.012, pe: 7, pePeriod: 480, pePhase: 2 * Math.PI * rng.uniform() });
  const guider = new Guider(new SimGuideCamera(mount, { seed: seed + 5 }), mount, clock, { exposure: 2, pixelScale: GUIDE_SCALE, ditherPx: 4, settlePx: 0.6, seed: seed + 7 });
  Object.assign(ptg, { mount, guider, frameRng: new Rng(seed + 31) });
  log(`guiding: slewed to ${n.object}; calibrating the guider`);
  await guider.acquire();
  const cal = await guider.calibrate();
  log(`guiding: calibrated, camera angle ${cal.cameraAngle.toFixed(1)} deg, RA ${cal.raRate.toFixed(2)} px/s, Dec ${cal.decRate.toFixed(2)} px/s, orthogonality error ${cal.orthogonalityError.toFixed(1)} deg`);
  await guider.run(30);
  const gclock = new GuidingClock(clock, guider);
  gclock.guiding = true;
  let dithers = 0;
  let settled = 0;
  const dither = async (): Promise<void> => {
    const d = await guider.dither();
    dithers++;
    if (d.settled) settled++;
    log(`guiding: dither ${d.offset.x.toFixed(1)}, ${d.offset.y.toFixed(1)} px ${d.settled ? `settled in ${Math.round(d.seconds)} s` : `not settled after ${Math.round(d.seconds)} s`}`);
  };
  const lightsFrom = guider.samples.length;
  const base = n.object.replace(/[^A-Za-z0-9]+/g, '');
  const groups = filters.map((f) => ({ type: 'light', filter: f, exposure: n.lightExposure, count: n.lightsPerFilter }));
  await runner.run('lights', runner.plan({ object: n.object, base, pattern: PATTERN, order: 'cycle', ditherEvery: 1, groups }), gclock, dither);
  gclock.guiding = false;
  const guide = guider.stats(guider.samples.slice(lightsFrom));
  log(`guiding: RMS ${guide.rmsTotalArcsec.toFixed(2)}" (RA ${guide.rmsRaArcsec.toFixed(2)}", Dec ${guide.rmsDecArcsec.toFixed(2)}") over ${guide.samples} guide frames, ${dithers} dithers (${settled} settled)`);
  return { guide, dithers, dithersSettled: settled, calibration: cal };
}

export async function acquireDemoNight(dir: string, spec: AcquireSpec = {}): Promise<AcquiredNight> {
  const log = spec.log ?? ((): void => {});
  const n = nightShape(spec);
  const filters = spec.filters ?? ['Luminance', 'Red', 'Green', 'Blue'];
  if (!filters.length) throw new DarkroomError('BAD_ARGUMENT', 'the demo night needs at least one filter');
  const rig = demoRig(n);
  const { clock, camera } = rig;
  await camera.connect();
  const total = filters.length * n.flatsPerFilter + (spec.flatDarks ?? 6) + n.bias + n.darks + filters.length * n.lightsPerFilter;
  const t0 = clock.now();
  const nightLog = new NightLog(dir, total, clock, rig.pointing, log);
  const runner = new PlanRunner(dir, camera, clock, nightLog);
  log(`cooling: cooler on, set point ${spec.setpoint ?? -10} C (ambient ${camera.ambient} C)`);
  const coolingWaitS = await calibrationFrames(runner, filters, n, spec);
  const lights = await guidedLights(runner, rig, filters, n, log);
  const nightS = (clock.now() - t0) / 1000;
  await camera.setCooler(false);
  await camera.disconnect();
  const { cameraAngle, raRate, decRate } = lights.calibration;
  return {
    dir,
    files: nightLog.files,
    filters,
    coolingWaitS,
    nightS,
    guide: lights.guide,
    lightGuideRms: nightLog.lightGuideRms,
    dithers: lights.dithers,
    dithersSettled: lights.dithersSettled,
    calibration: { cameraAngle, raRate, decRate },
  };
}
