/**
 * Autoguiding: guide star selection, calibration with pulses, proportional + hysteresis correction, dither,
 * RMS statistics.
 *
 * - Star: from detectStars (hot pixels already left out): not saturated, away from the edges, isolated (no
 *   other source within the isolation radius), highest SNR.
 * - Centroid: in a box around the last position; pixels whose 3x3 median exceeds background + 3 sigma
 *   (background and sigma from the box border) form the star, so a lone hot pixel is not part of it; the
 *   centroid is the mean weighted by the median-filtered intensities, refined twice.
 * - Calibration: west pulses until the star moved `calibrationDistance` px (or the step limit), the same
 *   number of east pulses back; the same north/south. Each leg's displacement = pulse motion + drift x the
 *   leg's clock time; the drift (px/s) is fitted to the sums of opposite legs (least squares over both pairs),
 *   so it is removed even when the legs took unequal time (slow frames); RA vector = (west - east - drift x
 *   (tWest - tEast)) / 2 per second of pulse, the same for Dec. Camera angle = direction of the RA vector.
 * - Correction (per axis, as PHD2's hysteresis algorithm): err = star offset from the lock position along the
 *   axis (px); out = aggressiveness * ((1 - h) err + h lastOut), zero when |err| < minMove; pulse |out| / rate
 *   in the direction that brings the star back, clamped to maxPulseMs.
 * - Dither: move the lock position by a random offset up to ditherPx, guide until the star is within settlePx
 *   for settleFrames frames.
 */
import type { Image } from '../image/image.js';
import type { FitsHeader } from '../fits/header.js';
import type { Camera, Clock, GuideDirection, GuideOutput } from '../devices/types.js';
import { detectStars, type Star } from '../stars/detect.js';
import { Rng } from '../util/random.js';
import { DarkroomError } from '../util/errors.js';
import { captureFrame } from './focus.js';
import { flipCalibration } from './meridian.js';

export interface GuideFrameSource {
  capture(seconds: number): Promise<Image>;
  /** Plate scale, arcsec/px, when the source knows it (e.g. from its frames' headers). */
  readonly pixelScale?: number;
}

/**
 * Plate scale (arcsec per binned pixel) from a frame's header: SCALE (INDI) or PIXSCALE, else
 * 206.265 XPIXSZ / FOCALLEN (XPIXSZ in micrometres, binning included; FOCALLEN in mm).
 */
export function pixelScaleOf(h: FitsHeader): number | undefined {
  const positive = (v: number | undefined): number | undefined => (v !== undefined && v > 0 ? v : undefined);
  const direct = positive(h.getNumber('SCALE')) ?? positive(h.getNumber('PIXSCALE'));
  if (direct) return direct;
  const pixel = positive(h.getNumber('XPIXSZ'));
  const focal = positive(h.getNumber('FOCALLEN'));
  return pixel && focal ? (206.265 * pixel) / focal : undefined;
}

/** Guide frames from a camera (light frames, as it is set up); the plate scale from the first frame's header. */
export class CameraGuideFrames implements GuideFrameSource {
  pixelScale: number | undefined;
  constructor(readonly camera: Camera) {}
  async capture(seconds: number): Promise<Image> {
    const img = await captureFrame(this.camera, seconds);
    this.pixelScale ??= pixelScaleOf(img.header);
    return img;
  }
}

export interface GuiderOptions {
  /** Guide exposure, s (default 2). */
  exposure?: number;
  /** Plate scale, arcsec/px (for arcsec statistics); default: the frame source's, else 1. */
  pixelScale?: number;
  saturation?: number;
  calibrationStepMs?: number;
  calibrationDistance?: number;
  maxCalibrationSteps?: number;
  aggressiveness?: number;
  hysteresis?: number;
  minMove?: number;
  maxPulseMs?: number;
  /** Centroid box half-size, px. */
  searchRadius?: number;
  ditherPx?: number;
  settlePx?: number;
  settleFrames?: number;
  settleTimeoutS?: number;
  seed?: number;
}

export interface Calibration {
  /** px per second of west pulse (x, y). */
  ra: { x: number; y: number };
  /** px per second of north pulse. */
  dec: { x: number; y: number };
  raRate: number;
  decRate: number;
  /** Direction of the RA axis on the sensor, degrees in (-180, 180]. */
  cameraAngle: number;
  /** Angle between the axes minus 90, degrees. */
  orthogonalityError: number;
  steps: { west: number; north: number };
}

export interface GuideSample {
  t: number;
  /** Star offset from the lock position, px (sensor x/y) and along RA/Dec. */
  dx: number;
  dy: number;
  ra: number;
  dec: number;
  raPulseMs: number;
  decPulseMs: number;
  settling: boolean;
  lost: boolean;
  /** Why the star was lost (as PHD2 logs it): no star in the search box, a jump, a flux change. */
  lostReason?: string;
}

export interface GuideStats {
  samples: number;
  rmsRa: number;
  rmsDec: number;
  rmsTotal: number;
  rmsRaArcsec: number;
  rmsDecArcsec: number;
  rmsTotalArcsec: number;
  peakRa: number;
  peakDec: number;
  lost: number;
}

/** Pick a guide star: unsaturated, isolated, away from edges, highest SNR. */
export function selectGuideStar(img: Image, opts: { saturation?: number; margin?: number; isolation?: number } = {}): Star {
  const w = img.width;
  const h = img.height;
  const sat = opts.saturation ?? 0.9 * 65535;
  const r = detectStars(img.data[0]!, w, h, { saturation: sat, k: 6 });
  const margin = opts.margin ?? 12;
  const iso = opts.isolation ?? 12;
  const cands = r.stars.filter((s) => {
    if (s.saturated || s.peak + s.background >= sat) return false;
    if (s.x < margin || s.y < margin || s.x > w - 1 - margin || s.y > h - 1 - margin) return false;
    return !r.stars.some((o) => o !== s && Math.hypot(o.x - s.x, o.y - s.y) < iso);
  });
  if (!cands.length) throw new DarkroomError('TOO_FEW', `no usable guide star (${r.stars.length} sources, none unsaturated, isolated and ${margin} px from the edges)`);
  cands.sort((a, b) => b.snr - a.snr);
  return cands[0]!;
}

/**
 * The star to guide on anywhere in a frame: the best isolated one away from the edges (selectGuideStar),
 * else the brightest unsaturated source at least `edge` px from the edges; null when there is none.
 */
export function findGuideStar(img: Image, opts: { saturation?: number; margin?: number; edge?: number } = {}): { star: Star | null; sources: number } {
  try {
    return { star: selectGuideStar(img, opts), sources: -1 };
  } catch {
    const sat = opts.saturation ?? 0.9 * 65535;
    const r = detectStars(img.data[0]!, img.width, img.height, { saturation: sat, k: 6 });
    const e = opts.edge ?? 4;
    const ok = r.stars.filter((s) => !s.saturated && s.peak + s.background < sat && s.x >= e && s.y >= e && s.x <= img.width - 1 - e && s.y <= img.height - 1 - e);
    ok.sort((a, b) => b.flux - a.flux);
    return { star: ok[0] ?? null, sources: r.stars.length };
  }
}

/** What a re-acquisition did: the new lock position, whether the mount re-centred it, whether the calibration still holds. */
export interface Reacquisition {
  x: number;
  y: number;
  /** Pixels the mount moved the star to bring it to the frame centre (null: no re-centring). */
  recentred: { x: number; y: number } | null;
  calibrationKept: boolean;
  message: string;
}

/** Centroid of the star near (x0, y0); null when no star is there. */
export function centroid(img: Image, x0: number, y0: number, radius: number): { x: number; y: number; flux: number } | null {
  const w = img.width;
  const h = img.height;
  const d = img.data[0]!;
  let cx = x0;
  let cy = y0;
  let flux = 0;
  for (let pass = 0; pass < 3; pass++) {
    const xa = Math.max(1, Math.round(cx) - radius);
    const xb = Math.min(w - 2, Math.round(cx) + radius);
    const ya = Math.max(1, Math.round(cy) - radius);
    const yb = Math.min(h - 2, Math.round(cy) + radius);
    if (xb - xa < 4 || yb - ya < 4) return null;
    const border: number[] = [];
    for (let x = xa; x <= xb; x++) border.push(d[ya * w + x]!, d[yb * w + x]!);
    for (let y = ya + 1; y < yb; y++) border.push(d[y * w + xa]!, d[y * w + xb]!);
    border.sort((a, b) => a - b);
    const bkg = border[border.length >> 1]!;
    const dev = border.map((v) => Math.abs(v - bkg)).sort((a, b) => a - b);
    const sigma = Math.max(1e-6, 1.4826 * dev[dev.length >> 1]!);
    const thr = bkg + 3 * sigma;
    let sw = 0;
    let sx = 0;
    let sy = 0;
    const nb = new Float64Array(9);
    for (let y = ya + 1; y < yb; y++) {
      for (let x = xa + 1; x < xb; x++) {
        let k = 0;
        for (let j = -1; j <= 1; j++) for (let i = -1; i <= 1; i++) nb[k++] = d[(y + j) * w + x + i]!;
        nb.sort();
        if (nb[4]! <= thr) continue;
        // weights from the median-filtered value too: a hot pixel next to the star adds nothing
        const v = nb[4]! - bkg;
        sw += v;
        sx += v * x;
        sy += v * y;
      }
    }
    if (!(sw > 5 * sigma)) return null;
    cx = sx / sw;
    cy = sy / sw;
    flux = sw;
  }
  return { x: cx, y: cy, flux };
}

const OPP: Record<GuideDirection, GuideDirection> = { west: 'east', east: 'west', north: 'south', south: 'north' };

/** One calibration leg: the star's displacement (px), the pulses and the clock time from first to last frame. */
interface Leg {
  d: { x: number; y: number };
  steps: number;
  seconds: number;
}

/**
 * The mount's drift (px/s) from two pairs of opposite legs: each pair's sum (a + b) is the drift over the
 * pair's time (ta + tb), the pulses cancelling; least squares over both pairs.
 */
export function legDrift(a: Leg, b: Leg, c: Leg, d: Leg): { x: number; y: number } {
  const t1 = a.seconds + b.seconds;
  const t2 = c.seconds + d.seconds;
  const den = t1 * t1 + t2 * t2;
  if (!(den > 0)) return { x: 0, y: 0 };
  return { x: ((a.d.x + b.d.x) * t1 + (c.d.x + d.d.x) * t2) / den, y: ((a.d.y + b.d.y) * t1 + (c.d.y + d.d.y) * t2) / den };
}

/** px per second of pulse toward `forward`'s direction: (forward - back - drift (tf - tb)) / 2 / pulse seconds. */
function pulseVector(forward: Leg, back: Leg, drift: { x: number; y: number }, pulseSeconds: number): { x: number; y: number } {
  const dt = forward.seconds - back.seconds;
  return { x: (forward.d.x - back.d.x - drift.x * dt) / 2 / pulseSeconds, y: (forward.d.y - back.d.y - drift.y * dt) / 2 / pulseSeconds };
}

export class Guider {
  readonly o: Required<GuiderOptions>;
  cal: Calibration | null = null;
  lock: { x: number; y: number } | null = null;
  private pos: { x: number; y: number } | null = null;
  /** Flux of the locked star (running mean): a source of very different flux in the box is another star. */
  private flux = 0;
  private lastOut = { ra: 0, dec: 0 };
  private readonly rng: Rng;
  private readonly scale: number | undefined;
  readonly samples: GuideSample[] = [];

  constructor(
    private readonly cam: GuideFrameSource,
    private readonly out: GuideOutput,
    private readonly clock: Clock,
    opts: GuiderOptions = {},
  ) {
    this.o = {
      exposure: opts.exposure ?? 2,
      pixelScale: opts.pixelScale ?? 1,
      saturation: opts.saturation ?? 0.9 * 65535,
      calibrationStepMs: opts.calibrationStepMs ?? 1000,
      calibrationDistance: opts.calibrationDistance ?? 20,
      maxCalibrationSteps: opts.maxCalibrationSteps ?? 40,
      aggressiveness: opts.aggressiveness ?? 0.7,
      hysteresis: opts.hysteresis ?? 0.1,
      minMove: opts.minMove ?? 0.15,
      maxPulseMs: opts.maxPulseMs ?? 2500,
      searchRadius: opts.searchRadius ?? 10,
      ditherPx: opts.ditherPx ?? 3,
      settlePx: opts.settlePx ?? 0.8,
      settleFrames: opts.settleFrames ?? 3,
      settleTimeoutS: opts.settleTimeoutS ?? 90,
      seed: opts.seed ?? 1,
    };
    this.rng = new Rng(this.o.seed);
    this.scale = opts.pixelScale;
  }

  /** Plate scale of the arcsec statistics: the option, else the frame source's, else 1 (arcsec = px). */
  get pixelScale(): number {
    return this.scale ?? this.cam.pixelScale ?? 1;
  }

  /** Take a frame, pick the guide star and lock on it. */
  async acquire(): Promise<Star> {
    const img = await this.capture();
    const s = selectGuideStar(img, { saturation: this.o.saturation, margin: this.o.searchRadius + 2 });
    this.lockOn(img, s);
    return s;
  }

  /** The last guide frame taken (for the console's guiding view). */
  lastFrame: Image | null = null;

  private async capture(): Promise<Image> {
    this.lastFrame = await this.cam.capture(this.o.exposure);
    return this.lastFrame;
  }

  private lockOn(img: Image, s: { x: number; y: number }): { x: number; y: number } {
    const c = centroid(img, s.x, s.y, this.o.searchRadius) ?? { x: s.x, y: s.y, flux: 0 };
    this.pos = { x: c.x, y: c.y };
    this.lock = { ...this.pos };
    this.flux = c.flux;
    this.lastOut = { ra: 0, dec: 0 };
    return this.pos;
  }

  /** The star searched for in the whole frame: the best isolated one, else the brightest unsaturated one. */
  private async search(): Promise<{ img: Image; star: Star }> {
    const img = await this.capture();
    const { star, sources } = findGuideStar(img, { saturation: this.o.saturation, margin: this.o.searchRadius + 2 });
    if (!star) {
      throw new DarkroomError('TOO_FEW', sources ? `no usable guide star in the whole frame (${sources} sources, all saturated or at the edges): the mount has drifted off the field, slew back to the target` : 'no star in the guide frame: the mount has drifted off the field (or the sky is covered); slew back to the target');
    }
    return { img, star };
  }

  /**
   * The star was lost (or the lock is stale, after the mount sat idle): search the whole frame for a star
   * (the best isolated one, else the brightest unsaturated one) and, when calibrated and the star lies
   * more than a quarter of the frame from its centre, pulse the mount to bring it to the centre. The
   * calibration is kept when the star moved as it predicted (within 35% of the move, or 3 px) and dropped
   * when it did not. Throws (TOO_FEW) when the frame has no usable star.
   */
  async reacquire(): Promise<Reacquisition> {
    const { img, star } = await this.search();
    let at = this.lockOn(img, star);
    const cx = (img.width - 1) / 2;
    const cy = (img.height - 1) / 2;
    const want = { x: cx - at.x, y: cy - at.y };
    if (!this.cal || Math.hypot(want.x, want.y) <= Math.min(img.width, img.height) / 4) {
      return { ...at, recentred: null, calibrationKept: this.cal !== null, message: `guide star re-acquired at (${at.x.toFixed(1)}, ${at.y.toFixed(1)})` };
    }
    await this.move(want);
    const expected = { x: at.x + want.x, y: at.y + want.y };
    const after = await this.capture();
    const c = centroid(after, expected.x, expected.y, this.o.searchRadius);
    const miss = c ? Math.hypot(c.x - expected.x, c.y - expected.y) : Infinity;
    if (c && miss <= Math.max(3, 0.35 * Math.hypot(want.x, want.y))) {
      at = this.lockOn(after, c);
      return { ...at, recentred: want, calibrationKept: true, message: `guide star re-acquired and re-centred at (${at.x.toFixed(1)}, ${at.y.toFixed(1)}) with the mount` };
    }
    this.cal = null;
    const { star: again } = findGuideStar(after, { saturation: this.o.saturation, margin: this.o.searchRadius + 2 });
    if (again) at = this.lockOn(after, again);
    const why = c ? `${miss.toFixed(1)} px from where the calibration put it` : 'not where the calibration put it';
    return { ...at, recentred: null, calibrationKept: false, message: `the star moved ${why} while re-centring: calibration discarded, calibrate again` };
  }

  /** Pulse the mount to move the star by (dx, dy) px on the sensor (with the calibration), in pulses of at most 5 s. */
  private async move(d: { x: number; y: number }): Promise<void> {
    const c = this.cal!;
    const det = c.ra.x * c.dec.y - c.ra.y * c.dec.x;
    // (dx, dy) = a ra + b dec: a seconds of west pulse, b of north (negative: east, south)
    const a = (d.x * c.dec.y - d.y * c.dec.x) / det;
    const b = (c.ra.x * d.y - c.ra.y * d.x) / det;
    for (const [sec, pos, neg] of [[a, 'west', 'east'], [b, 'north', 'south']] as const) {
      let ms = Math.round(Math.abs(sec) * 1000);
      while (ms > 0) {
        const k = Math.min(ms, 5000);
        await this.out.pulseGuide(sec > 0 ? pos : neg, k);
        ms -= k;
      }
    }
  }

  /** Take a calibration or guide frame and centroid the star near its last position; null when it is not there. */
  private async measure(expect?: { x: number; y: number }, radius = this.o.searchRadius): Promise<{ x: number; y: number } | null> {
    if (!this.pos) throw new DarkroomError('BAD_ARGUMENT', 'guider: no guide star selected');
    const img = await this.capture();
    // search where the star is expected (its last position, or where the calibration pulses carry it)
    const at = expect ?? this.pos;
    const c = centroid(img, at.x, at.y, radius);
    if (!c) return this.miss(`no star within ${radius} px of (${at.x.toFixed(1)}, ${at.y.toFixed(1)})`);
    // the box walked onto another source (the star drifted away): a far jump, or a jump of half the box
    // with a flux 3x off, is not our star (the same star dimmed by a cloud, in place, still is)
    const jump = Math.hypot(c.x - at.x, c.y - at.y);
    if (jump > radius) return this.miss(`the star jumped ${jump.toFixed(1)} px (search radius ${radius} px)`);
    if (jump > radius / 2 && this.flux > 0 && (c.flux > 3 * this.flux || c.flux < this.flux / 3)) return this.miss(`a source ${jump.toFixed(1)} px away with ${(c.flux / this.flux).toFixed(2)}x the star's flux`);
    this.pos = { x: c.x, y: c.y };
    this.flux = this.flux > 0 ? 0.8 * this.flux + 0.2 * c.flux : c.flux;
    return c;
  }

  /** The reason the last measure() found no star (for the lost sample). */
  private missed = '';

  private miss(why: string): null {
    this.missed = why;
    return null;
  }

  /**
   * One calibration leg: pulses in one direction until the star moved calibrationDistance (or `steps`
   * pulses). After the first pulse the star is searched where the last step's move (pulse plus drift)
   * carries it, so a long step or a drifting mount does not walk it out of the search box.
   */
  private async leg(dir: GuideDirection, steps: number | null): Promise<Leg> {
    const start = await this.measureOrFail();
    const t0 = this.clock.now();
    let n = 0;
    let p = start;
    let v = { x: 0, y: 0 };
    for (;;) {
      await this.out.pulseGuide(dir, this.o.calibrationStepMs);
      n++;
      const q = await this.measureOrFail(v);
      v = { x: q.x - p.x, y: q.y - p.y };
      p = q;
      if (steps !== null ? n >= steps : Math.hypot(p.x - start.x, p.y - start.y) >= this.o.calibrationDistance || n >= this.o.maxCalibrationSteps) break;
    }
    return { d: { x: p.x - start.x, y: p.y - start.y }, steps: n, seconds: (this.clock.now() - t0) / 1000 };
  }

  /**
   * Measure the star, expected `v` px from its last position: three frames, the search box 1, 2 and 3
   * times searchRadius (a first pulse of unknown length, or a drift that grew while frames were slow,
   * can carry it beyond one box), before it counts as lost.
   */
  private async measureOrFail(v = { x: 0, y: 0 }): Promise<{ x: number; y: number }> {
    if (!this.pos) throw new DarkroomError('BAD_ARGUMENT', 'guider: no guide star selected');
    const expect = { x: this.pos.x + v.x, y: this.pos.y + v.y };
    for (let k = 0; k < 3; k++) {
      const c = await this.measure(expect, (k + 1) * this.o.searchRadius);
      if (c) return c;
    }
    throw new DarkroomError('IO', 'guide star lost during calibration');
  }

  /** Calibrate both axes with pulses. */
  async calibrate(): Promise<Calibration> {
    if (!this.pos) await this.acquire();
    const w = await this.leg('west', null);
    const e = await this.leg('east', w.steps);
    const nn = await this.leg('north', null);
    const s = await this.leg('south', nn.steps);
    const drift = legDrift(w, e, nn, s);
    const ra = pulseVector(w, e, drift, (w.steps * this.o.calibrationStepMs) / 1000);
    const dec = pulseVector(nn, s, drift, (nn.steps * this.o.calibrationStepMs) / 1000);
    const raRate = Math.hypot(ra.x, ra.y);
    const decRate = Math.hypot(dec.x, dec.y);
    if (Math.hypot(w.d.x, w.d.y) < this.o.calibrationDistance / 4 || Math.hypot(nn.d.x, nn.d.y) < this.o.calibrationDistance / 4) {
      throw new DarkroomError('IO', `calibration failed: the star moved only ${Math.hypot(w.d.x, w.d.y).toFixed(1)} px (RA) / ${Math.hypot(nn.d.x, nn.d.y).toFixed(1)} px (Dec) in ${w.steps}/${nn.steps} pulses`);
    }
    const aRa = (Math.atan2(ra.y, ra.x) * 180) / Math.PI;
    const aDec = (Math.atan2(dec.y, dec.x) * 180) / Math.PI;
    let between = Math.abs(aDec - aRa) % 360;
    if (between > 180) between = 360 - between;
    this.cal = { ra, dec, raRate, decRate, cameraAngle: aRa, orthogonalityError: between - 90, steps: { west: w.steps, north: nn.steps } };
    this.lock = this.pos ? { ...this.pos } : this.lock;
    this.lastOut = { ra: 0, dec: 0 };
    return this.cal;
  }

  /**
   * After a meridian flip: flip the calibration (RA reversed on the sensor; Dec too with `reverseDec`,
   * see flipCalibration) or calibrate again (`recalibrate`, or when there is no calibration to flip),
   * then lock on the guide star where it is now (the field turned with the telescope).
   */
  async afterMeridianFlip(o: { recalibrate?: boolean; reverseDec?: boolean } = {}): Promise<Calibration> {
    this.pos = null;
    this.lock = null;
    this.lastOut = { ra: 0, dec: 0 };
    if (o.recalibrate || !this.cal) {
      await this.acquire();
      return this.calibrate();
    }
    this.cal = flipCalibration(this.cal, o.reverseDec);
    await this.acquire();
    return this.cal;
  }

  /** Offset (px) along RA and Dec (in the calibrated, possibly non-orthogonal, axes). */
  private decompose(dx: number, dy: number): { ra: number; dec: number } {
    const c = this.cal!;
    // (dx, dy) = a ra + b dec  (a, b in seconds of pulse)
    const det = c.ra.x * c.dec.y - c.ra.y * c.dec.x;
    const a = (dx * c.dec.y - dy * c.dec.x) / det;
    const b = (c.ra.x * dy - c.ra.y * dx) / det;
    return { ra: a * c.raRate, dec: b * c.decRate };
  }

  /** One guide cycle: expose, measure, correct (when guide is true). */
  async step(guide = true, settling = false): Promise<GuideSample> {
    if (!this.lock) await this.acquire();
    if (guide && !this.cal) throw new DarkroomError('BAD_ARGUMENT', 'guider: calibrate before guiding');
    const t = this.clock.now();
    const c = await this.measure();
    const lock = this.lock!;
    if (!c) {
      const s: GuideSample = { t, dx: NaN, dy: NaN, ra: NaN, dec: NaN, raPulseMs: 0, decPulseMs: 0, settling, lost: true, lostReason: this.missed };
      this.samples.push(s);
      return s;
    }
    const dx = c.x - lock.x;
    const dy = c.y - lock.y;
    const { ra, dec } = this.cal ? this.decompose(dx, dy) : { ra: dx, dec: dy };
    let raMs = 0;
    let decMs = 0;
    if (guide) {
      const axis = (err: number, key: 'ra' | 'dec', rate: number): number => {
        let o = this.o.aggressiveness * ((1 - this.o.hysteresis) * err + this.o.hysteresis * this.lastOut[key]);
        if (Math.abs(err) < this.o.minMove) o = 0;
        this.lastOut[key] = o;
        const ms = Math.min(this.o.maxPulseMs, Math.round((Math.abs(o) / rate) * 1000));
        // negative: pulse away from `pos` (east / south)
        return ms > 0 ? (o > 0 ? -ms : ms) : 0;
      };
      // positive err: the star sits where west (north) pulses would have put it, so pulse east (south)
      raMs = axis(ra, 'ra', this.cal!.raRate);
      decMs = axis(dec, 'dec', this.cal!.decRate);
      if (raMs !== 0) await this.out.pulseGuide(raMs > 0 ? 'west' : OPP.west, Math.abs(raMs));
      if (decMs !== 0) await this.out.pulseGuide(decMs > 0 ? 'north' : OPP.north, Math.abs(decMs));
    }
    const s: GuideSample = { t, dx, dy, ra, dec, raPulseMs: raMs, decPulseMs: decMs, settling, lost: false };
    this.samples.push(s);
    return s;
  }

  /** Guide (or only watch, guide = false) for durationS of clock time. */
  async run(durationS: number, guide = true, onSample?: (s: GuideSample) => void): Promise<GuideStats> {
    const from = this.samples.length;
    const end = this.clock.now() + durationS * 1000;
    while (this.clock.now() < end) {
      const s = await this.step(guide);
      onSample?.(s);
    }
    return this.stats(this.samples.slice(from));
  }

  /** Shift the lock position randomly and guide until settled. */
  async dither(): Promise<{ settled: boolean; seconds: number; offset: { x: number; y: number } }> {
    if (!this.lock || !this.cal) throw new DarkroomError('BAD_ARGUMENT', 'guider: calibrate before dithering');
    const off = { x: (2 * this.rng.uniform() - 1) * this.o.ditherPx, y: (2 * this.rng.uniform() - 1) * this.o.ditherPx };
    this.lock = { x: this.lock.x + off.x, y: this.lock.y + off.y };
    const t0 = this.clock.now();
    let good = 0;
    while (this.clock.now() - t0 < this.o.settleTimeoutS * 1000) {
      const s = await this.step(true, true);
      good = !s.lost && Math.hypot(s.dx, s.dy) < this.o.settlePx ? good + 1 : 0;
      if (good >= this.o.settleFrames) return { settled: true, seconds: (this.clock.now() - t0) / 1000, offset: off };
    }
    return { settled: false, seconds: (this.clock.now() - t0) / 1000, offset: off };
  }

  /** RMS about the lock position (px and arcsec) of the samples that were not settling after a dither. */
  stats(samples: GuideSample[] = this.samples): GuideStats {
    const ok = samples.filter((s) => !s.lost && !s.settling);
    let r2 = 0;
    let d2 = 0;
    let pr = 0;
    let pd = 0;
    for (const s of ok) {
      r2 += s.ra * s.ra;
      d2 += s.dec * s.dec;
      pr = Math.max(pr, Math.abs(s.ra));
      pd = Math.max(pd, Math.abs(s.dec));
    }
    const n = Math.max(1, ok.length);
    const rmsRa = Math.sqrt(r2 / n);
    const rmsDec = Math.sqrt(d2 / n);
    const rmsTotal = Math.hypot(rmsRa, rmsDec);
    const k = this.pixelScale;
    return { samples: ok.length, rmsRa, rmsDec, rmsTotal, rmsRaArcsec: rmsRa * k, rmsDecArcsec: rmsDec * k, rmsTotalArcsec: rmsTotal * k, peakRa: pr, peakDec: pd, lost: samples.filter((s) => s.lost).length };
  }
}

/** The sequencer's meridian flip hook (AutomationHooks.afterFlip) for a guider: flip its calibration or recalibrate, as the plan says. */
export function guiderAfterFlip(guider: Pick<Guider, 'afterMeridianFlip'>): (o: { recalibrate: boolean; reverseDec: boolean }) => Promise<void> {
  return async (o) => {
    await guider.afterMeridianFlip(o);
  };
}
