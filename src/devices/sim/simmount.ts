/**
 * A simulated equatorial mount seen through a guide camera, for autoguiding.
 *
 * Pointing error (arcsec, in the mount's RA and Dec axes) at simulated time t (s since creation):
 *   ra(t)  = driftRa  * t + pe * sin(2 pi t / pePeriod + pePhase) + (west - east pulse time) * guideRate
 *   dec(t) = driftDec * t                                          + (north - south pulse time) * guideRate
 * A pulse moves the axis at guideRate (arcsec/s) for its duration (linearly while it lasts).
 * On the sensor the RA axis points at `cameraAngle` degrees from +x (counter-clockwise towards +y) and the
 * Dec axis 90 degrees further: dx = (ra cos a - dec sin a) / scale, dy = (ra sin a + dec cos a) / scale.
 * After a meridian flip (pier side east) the camera has turned half a turn with the telescope: a = a0 + 180.
 * There a north pulse moves the Dec axis the other way on the sky, unless the mount reverses its Dec
 * output on that side (`reverseDecOnFlip`, as many mounts that know their pier side do).
 *
 * SimGuideCamera renders small star fields at the mount's pointing (averaged over the exposure) with
 * seeing jitter, sky noise, read noise and a hot pixel.
 */
import { createImage, type Image } from '../../image/image.js';
import { Rng } from '../../util/random.js';
import { DeviceError } from '../errors.js';
import { realClock, type Clock, type GuideDirection, type GuideOutput } from '../types.js';
import { withDefaults } from './defaults.js';
import { checkPulse } from './guide-port.js';
import { renderStars, type SimStar } from './stars.js';
import { hourAngleHours } from '../../session/sidereal.js';

export interface SimMountOptions {
  clock?: Clock;
  /** Guide camera plate scale, arcsec per pixel. */
  pixelScale?: number;
  /** Angle of the RA axis on the guide sensor, degrees. */
  cameraAngle?: number;
  /** Pulse guide rate, arcsec/s (0.5x sidereal = 7.52). */
  guideRate?: number;
  /** Drift, arcsec/s. */
  driftRa?: number;
  driftDec?: number;
  /** Periodic error amplitude (arcsec), period (s), phase (rad). */
  pe?: number;
  pePeriod?: number;
  pePhase?: number;
  /** Goto pointing error: size of the mount's pointing model error (arcmin), its seed, and the per-slew repeatability (arcsec RMS). */
  pointingError?: number;
  pointingSeed?: number;
  repeatability?: number;
  /** Slew speed, degrees per second. */
  slewRate?: number;
  /** Site latitude and east longitude, degrees (for sidereal time, hour angle, pier side). */
  siteLat?: number;
  siteLong?: number;
  /** On the west side of the pier the mount tracks up to this many minutes of hour angle past the meridian. */
  haLimitMinutes?: number;
  /** On the east side of the pier the mount reverses its Dec guide output (north stays north on the sky). */
  reverseDecOnFlip?: boolean;
}

interface Pulse {
  axis: 0 | 1;
  sign: number;
  at: number;
  ms: number;
}

const MOUNT_DEFAULTS: Required<SimMountOptions> = { clock: realClock, pixelScale: 1.5, cameraAngle: 0, guideRate: 7.52, driftRa: 0.02, driftDec: 0.01, pe: 8, pePeriod: 480, pePhase: 0, pointingError: 3, pointingSeed: 1, repeatability: 2, slewRate: 3, siteLat: 50, siteLong: 0, haLimitMinutes: 15, reverseDecOnFlip: false };

/** The model's parameters (defaults filled in) are read-only properties of the mount. */
export interface SimMount extends Readonly<Required<SimMountOptions>> {}

export class SimMount implements GuideOutput {
  readonly kind = 'guide' as const;
  private readonly t0: number;
  private done = [0, 0];
  private active: Pulse[] = [];
  private until = 0;
  pulseCount = 0;
  private goto: GotoState;

  constructor(opts: SimMountOptions = {}) {
    Object.assign(this, withDefaults(MOUNT_DEFAULTS, opts));
    this.t0 = this.clock.now();
    this.goto = newGotoState(this.pointingSeed, this.pointingError);
  }

  // ---- goto (slew, sync) with a pointing error model ---------------------------------------
  /** Where the mount says it points (J2000 degrees): the last slew's target, or the position of the last sync. */
  async position(): Promise<{ ra: number; dec: number }> {
    return { ...this.goto.reported };
  }
  /** Where the mount really points (the simulator's ground truth, for the camera's sky). */
  truePointing(): { ra: number; dec: number } {
    return { ...this.goto.truth };
  }
  /** Slew to (ra, dec) degrees: takes distance / slewRate of clock time; lands off by the pointing model's error there. */
  async slewTo(ra: number, dec: number): Promise<void> {
    checkRaDec(ra, dec);
    const g = this.goto;
    const dist = Math.hypot((ra - g.reported.ra) * Math.cos((dec * Math.PI) / 180), dec - g.reported.dec);
    await this.clock.sleep(Math.max(1000, (dist / this.slewRate) * 1000));
    g.reported = { ra: norm360(ra), dec };
    this.setSide(this.hourAngle() >= 0 ? 'east' : 'west');
    g.truth = aimTruth(g, ra, dec, this.pointingError, this.repeatability);
    this.parked = false;
  }

  // ---- pier side, hour angle, meridian flip, park ------------------------------------------
  /** Side of the pier the telescope is on (ASCOM): 'west' looking east (before the meridian), 'east' after a flip. */
  side: 'east' | 'west' = 'west';
  flips = 0;
  parked = false;
  /** Hour angle (hours) of where the mount says it points, at clock time t. */
  hourAngle(t = this.clock.now()): number {
    return hourAngleHours(t, this.siteLong, this.goto.reported.ra);
  }
  /** Whether the mount at time t tracks past its limit (on the west side, more than haLimitMinutes past the meridian). */
  pastLimit(t = this.clock.now()): boolean {
    return this.side === 'west' && this.hourAngle(t) * 60 > this.haLimitMinutes;
  }
  async pierSide(): Promise<'east' | 'west'> {
    return this.side;
  }
  /** The other side of the pier has its own pointing model: the offset mirrors and what syncs taught is forgotten. */
  private setSide(side: 'east' | 'west'): void {
    if (side === this.side) return;
    this.side = side;
    const g = this.goto;
    g.offset = { x: -g.offset.x, y: -g.offset.y };
    g.corr = { ra: 0, dec: 0 };
  }
  /** Meridian flip: slew to the same target on the east side (half a turn of the RA axis); only past the meridian. */
  async flip(): Promise<void> {
    const ha = this.hourAngle();
    if (this.side !== 'west' || ha < 0) throw new DeviceError('invalid-operation', `no meridian flip now: pier side ${this.side}, hour angle ${(ha * 60).toFixed(1)} min`);
    await this.clock.sleep((180 / this.slewRate) * 1000);
    this.setSide('east');
    const g = this.goto;
    g.truth = aimTruth(g, g.reported.ra, g.reported.dec, this.pointingError, this.repeatability);
    this.flips++;
  }
  /** Park (at the pole); the next slew unparks. */
  async park(): Promise<void> {
    await this.clock.sleep(30_000);
    this.parked = true;
  }
  /** Sync: the mount now takes (ra, dec) to be where it points (corrects later slews nearby). */
  async syncTo(ra: number, dec: number): Promise<void> {
    checkRaDec(ra, dec);
    const g = this.goto;
    g.corr = { ra: g.corr.ra + wrap180(g.reported.ra - ra), dec: g.corr.dec + (g.reported.dec - dec) };
    g.reported = { ra: norm360(ra), dec };
  }
  async connect(): Promise<void> {}
  async disconnect(): Promise<void> {}

  async pulseGuide(direction: GuideDirection, ms: number): Promise<void> {
    checkPulse(ms);
    const now = this.clock.now();
    const axis = direction === 'east' || direction === 'west' ? 0 : 1;
    // on the east side of the pier the Dec motor turns the other way on the sky, unless the mount reverses its output
    const decFlipped = axis === 1 && this.side === 'east' && !this.reverseDecOnFlip;
    const sign = (direction === 'west' || direction === 'north' ? 1 : -1) * (decFlipped ? -1 : 1);
    this.active.push({ axis, sign, at: now, ms });
    this.until = Math.max(this.until, now + ms);
    this.pulseCount++;
    if (ms > 0) await this.clock.sleep(ms);
  }
  async isPulseGuiding(): Promise<boolean> {
    return this.clock.now() < this.until;
  }

  /** Pointing error in arcsec (RA, Dec axes) at time t (ms, clock time). */
  errorAt(t: number): { ra: number; dec: number } {
    const s = (t - this.t0) / 1000;
    // pulses that ended more than 10 simulated minutes ago are folded into `done` (queries never go back that far)
    const horizon = this.clock.now() - 600_000;
    if (this.active.length > 64) {
      const keep: Pulse[] = [];
      for (const p of this.active) {
        if (p.at + p.ms <= horizon) this.done[p.axis]! += (p.sign * this.guideRate * p.ms) / 1000;
        else keep.push(p);
      }
      this.active = keep;
    }
    const corr = [this.done[0]!, this.done[1]!];
    for (const p of this.active) corr[p.axis]! += (p.sign * this.guideRate * Math.max(0, Math.min(p.ms, t - p.at))) / 1000;
    return {
      ra: this.driftRa * s + this.pe * Math.sin((2 * Math.PI * s) / this.pePeriod + this.pePhase) + corr[0]!,
      dec: this.driftDec * s + corr[1]!,
    };
  }
  /** Offset of the star image on the guide sensor in pixels at time t (default now). */
  pointing(t = this.clock.now()): { dx: number; dy: number } {
    const e = this.errorAt(t);
    const a = ((this.cameraAngle + (this.side === 'east' ? 180 : 0)) * Math.PI) / 180;
    const c = Math.cos(a);
    const sn = Math.sin(a);
    return { dx: (e.ra * c - e.dec * sn) / this.pixelScale, dy: (e.ra * sn + e.dec * c) / this.pixelScale };
  }
}

/**
 * Goto state. The mount aims at target + corr (corr: what syncs taught it, degrees of RA and Dec) and
 * lands at aim + E(target) + jitter, where E is the pointing model error on the sky (arcsec): a seeded
 * offset of `pointingError` arcmin in a random direction plus a 25% term that varies smoothly over the
 * sky (as cone, flexure and polar misalignment terms do), and jitter a seeded Gaussian of
 * `repeatability` arcsec RMS per axis and slew. A sync at a solved position cancels E there.
 */
interface GotoState {
  reported: { ra: number; dec: number };
  truth: { ra: number; dec: number };
  corr: { ra: number; dec: number };
  offset: { x: number; y: number };
  rng: Rng;
}

function newGotoState(seed: number, errorArcmin: number): GotoState {
  const rng = new Rng(seed * 7919 + 17);
  const a = rng.uniform() * 2 * Math.PI;
  const e = errorArcmin * 60;
  return { reported: { ra: 0, dec: 90 }, truth: { ra: 0, dec: 90 }, corr: { ra: 0, dec: 0 }, offset: { x: e * Math.cos(a), y: e * Math.sin(a) }, rng };
}

/** Pointing model error at a target, arcsec on the sky (x towards east, y towards north). */
function modelError(g: GotoState, ra: number, dec: number, errorArcmin: number): { x: number; y: number } {
  const k = 0.25 * errorArcmin * 60;
  const r = (ra * Math.PI) / 180;
  const d = (dec * Math.PI) / 180;
  return { x: g.offset.x + k * Math.sin(r) * Math.cos(d), y: g.offset.y + k * Math.cos(r) * Math.sin(d) };
}

function aimTruth(g: GotoState, ra: number, dec: number, errorArcmin: number, repeat: number): { ra: number; dec: number } {
  const e = modelError(g, ra, dec, errorArcmin);
  const jx = repeat * g.rng.gauss();
  const jy = repeat * g.rng.gauss();
  const tDec = Math.max(-90, Math.min(90, dec + g.corr.dec + (e.y + jy) / 3600));
  const cosd = Math.max(1e-6, Math.cos((tDec * Math.PI) / 180));
  return { ra: norm360(ra + g.corr.ra + (e.x + jx) / 3600 / cosd), dec: tDec };
}

function norm360(a: number): number {
  return a >= 0 && a < 360 ? a : ((a % 360) + 360) % 360;
}
function wrap180(a: number): number {
  return ((((a + 180) % 360) + 360) % 360) - 180;
}
function checkRaDec(ra: number, dec: number): void {
  if (!(Number.isFinite(ra) && ra >= 0 && ra <= 360 && Number.isFinite(dec) && Math.abs(dec) <= 90)) throw new DeviceError('invalid-value', `RA must be 0..360 and Dec -90..90 degrees (got ${ra}, ${dec})`);
}

export interface SimGuideCameraOptions {
  width?: number;
  height?: number;
  stars?: SimStar[];
  /** FWHM of the stars, px. */
  fwhm?: number;
  /** Sky, ADU/s per pixel; read noise ADU; bias ADU. */
  sky?: number;
  readNoise?: number;
  bias?: number;
  /** Seeing jitter of the star positions, px RMS for a 1 s exposure (scales as 1/sqrt(t)). */
  jitter?: number;
  saturation?: number;
  /** Hot pixels (x, y, ADU). */
  hotPixels?: { x: number; y: number; value: number }[];
  seed?: number;
}

type GuideCameraModel = Omit<SimGuideCameraOptions, 'stars' | 'seed' | 'width' | 'height'>;

/** A small guide camera looking through the simulated mount. */
export class SimGuideCamera {
  readonly width: number;
  readonly height: number;
  readonly stars: SimStar[];
  private readonly rng: Rng;
  private readonly o: Required<GuideCameraModel>;
  frames = 0;
  constructor(
    readonly mount: SimMount,
    opts: SimGuideCameraOptions = {},
  ) {
    this.width = opts.width ?? 96;
    this.height = opts.height ?? 96;
    this.rng = new Rng(opts.seed ?? 7);
    const cx = this.width / 2;
    const cy = this.height / 2;
    this.stars = opts.stars ?? [
      { x: cx + 3.3, y: cy - 2.6, flux: 60_000 },
      { x: cx - 25.2, y: cy + 20.7, flux: 15_000 },
      { x: cx + 24.6, y: cy + 27.1, flux: 8_000 },
      // a saturated star, and a fainter one 8.6 px from it (not isolated)
      { x: cx - 28.4, y: cy - 30.2, flux: 1_000_000 },
      { x: cx - 20.4, y: cy - 27.2, flux: 50_000 },
    ];
    const hotPixels = [{ x: Math.round(cx + 18), y: Math.round(cy - 15), value: 40_000 }];
    this.o = withDefaults<GuideCameraModel>({ fwhm: 3, sky: 20, readNoise: 5, bias: 100, jitter: 0.15, saturation: 65_535, hotPixels }, opts);
  }
  /** Expose for `seconds` of simulated time and return the frame (star flux in ADU/s). */
  async capture(seconds: number): Promise<Image> {
    const clock = this.mount.clock;
    const t0 = clock.now();
    await clock.sleep(seconds * 1000);
    const t1 = clock.now();
    let dx = 0;
    let dy = 0;
    const n = 8;
    for (let k = 0; k < n; k++) {
      const p = this.mount.pointing(t0 + ((k + 0.5) * (t1 - t0)) / n);
      dx += p.dx / n;
      dy += p.dy / n;
    }
    const j = this.o.jitter / Math.sqrt(Math.max(seconds, 0.05));
    dx += j * this.rng.gauss();
    dy += j * this.rng.gauss();
    const w = this.width;
    const h = this.height;
    const img = createImage(w, h, 1);
    const d = img.data[0]!;
    renderStars(
      d,
      w,
      h,
      this.stars.map((s) => ({ x: s.x + dx, y: s.y + dy, flux: s.flux * seconds })),
      { kind: 'moffat', fwhm: this.o.fwhm, beta: 3 },
    );
    const skyT = this.o.sky * seconds;
    for (let i = 0; i < w * h; i++) {
      const sig = d[i]! + skyT;
      const v = this.o.bias + sig + Math.sqrt(sig + this.o.readNoise ** 2) * this.rng.gauss();
      d[i] = Math.min(this.o.saturation, Math.max(0, Math.round(v)));
    }
    for (const hp of this.o.hotPixels) if (hp.x >= 0 && hp.y >= 0 && hp.x < w && hp.y < h) d[hp.y * w + hp.x] = Math.min(this.o.saturation, hp.value);
    img.header.set('EXPTIME', seconds, '[s] exposure time', { float: true });
    img.header.set('DATE-OBS', new Date(t0).toISOString().slice(0, 23), 'UTC start of exposure');
    this.frames++;
    return img;
  }
}
