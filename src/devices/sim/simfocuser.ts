/**
 * A simulated absolute focuser whose position sets the star size of a SimCamera (pass `psf: () => f.psf()`).
 *
 * Defocus model (hyperbola): FWHM(p) = sqrt(seeing^2 + (slope * (p - best))^2) pixels, where
 * slope = stepSize / (focalRatio * pixelSize) px per step (the geometric blur of a cone of light at f/F).
 * Critical focus zone (Wallner): CFZ = 4.88 * lambda * F^2 micrometres (lambda 0.55 um), i.e. a total
 * width of CFZ / stepSize steps centred on the best position.
 */
import { DeviceError } from '../errors.js';
import { realClock, type Clock, type Focuser } from '../types.js';
import { withDefaults } from './defaults.js';
import type { Psf } from './stars.js';

export interface SimFocuserOptions {
  clock?: Clock;
  maxStep?: number;
  /** Start position, steps. */
  position?: number;
  /** True best focus, steps (unknown to the algorithms under test). */
  best?: number;
  /** Step size, micrometres. */
  stepSize?: number;
  focalRatio?: number;
  /** Camera pixel size, micrometres. */
  pixelSize?: number;
  /** FWHM at best focus (seeing), pixels. */
  seeing?: number;
  /** Move speed, steps per second. */
  speed?: number;
}

type Model = Required<Omit<SimFocuserOptions, 'maxStep' | 'position'>>;
const DEFAULTS: Required<SimFocuserOptions> = { clock: realClock, maxStep: 50_000, position: 25_000, best: 25_000, stepSize: 2, focalRatio: 6, pixelSize: 5.4, seeing: 3, speed: 1000 };

// The model's parameters (defaults filled in) are read-only properties of the focuser.
export interface SimFocuser extends Readonly<Model> {}

export class SimFocuser implements Focuser {
  readonly kind = 'focuser' as const;
  readonly max: number;
  private pos: number;
  private from = 0;
  private target = 0;
  private t0 = 0;
  private t1 = 0;
  moves = 0;

  constructor(opts: SimFocuserOptions = {}) {
    const { maxStep, position, ...model } = withDefaults(DEFAULTS, opts);
    Object.assign(this, model);
    this.max = maxStep;
    this.pos = position;
    this.target = position;
  }
  async connect(): Promise<void> {}
  async disconnect(): Promise<void> {}
  async maxStep(): Promise<number> {
    return this.max;
  }
  /** Position now (interpolated while moving). */
  private current(): number {
    const now = this.clock.now();
    if (now >= this.t1) return this.target;
    return Math.round(this.from + ((this.target - this.from) * (now - this.t0)) / (this.t1 - this.t0));
  }
  async position(): Promise<number> {
    return this.current();
  }
  async isMoving(): Promise<boolean> {
    return this.clock.now() < this.t1;
  }
  async move(position: number, timeoutMs = 120_000): Promise<void> {
    if (!(Number.isInteger(position) && position >= 0 && position <= this.max)) {
      throw new DeviceError('invalid-value', `focuser position must be an integer 0..${this.max}, got ${position}`);
    }
    if (await this.isMoving()) throw new DeviceError('invalid-operation', 'the focuser is already moving');
    this.pos = this.current();
    const ms = (Math.abs(position - this.pos) / this.speed) * 1000;
    if (ms > timeoutMs) throw new DeviceError('invalid-operation', `focuser move would take ${Math.round(ms)} ms (timeout ${timeoutMs} ms)`);
    this.from = this.pos;
    this.target = position;
    this.t0 = this.clock.now();
    this.t1 = this.t0 + ms;
    this.moves++;
    if (ms > 0) await this.clock.sleep(ms);
    this.pos = position;
  }
  /** Geometric blur in pixels per step of defocus. */
  get slope(): number {
    return this.stepSize / (this.focalRatio * this.pixelSize);
  }
  /** Model FWHM (pixels) at a position. */
  fwhmAt(p: number): number {
    return Math.hypot(this.seeing, this.slope * (p - this.best));
  }
  /** Critical focus zone, total width in steps. */
  criticalFocusZone(lambdaUm = 0.55): number {
    return (4.88 * lambdaUm * this.focalRatio * this.focalRatio) / this.stepSize;
  }
  /** The PSF the camera sees now. */
  psf(): Psf {
    return { kind: 'moffat', fwhm: this.fwhmAt(this.current()), beta: 3 };
  }
}
