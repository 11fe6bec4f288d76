/**
 * The two-stage thermoelectric cooler of the simulated QSI camera (lazy, integrated in 1 s steps of
 * the injected clock):
 *   dT/dt = (Teq(P) - T) / tau,  Teq(P) = ambient - dTmax * P / 100   (tau 90 s, dTmax 45 C)
 *   Control: full power while T > setpoint + 3 C, then a PI loop (with bumpless transfer from full
 *   power, which gives a slight overshoot), power clamped to 0..100 %. The cooler cannot heat: a set
 *   point above the body temperature leaves the CCD at ambient with 0 % power. Set points below
 *   -40 C are refused. Power > 85 % is flagged as poor regulation. Cooler off: power 0, warms back up.
 */
import { DeviceError } from '../errors.js';
import type { Clock, CoolerStatus } from '../types.js';

export const MIN_SETPOINT = -40;
export const MAX_SETPOINT = 50;

const TAU = 90;
const DT_MAX = 45;
const KP = 8;
const KI = 0.4;

export class CoolerModel {
  private temp: number;
  private tempT: number;
  private on = false;
  private setpoint = 0;
  private power = 0;
  private integ = 0;
  private regulating = false;
  private history: { t: number; temp: number }[] = [];
  /** Supply voltage low: the cooler gets no power. */
  powerCut = false;

  constructor(
    readonly ambient: number,
    private readonly clock: Clock,
  ) {
    this.temp = ambient;
    this.tempT = clock.now();
  }

  get isOn(): boolean {
    return this.on;
  }
  get setpointC(): number {
    return this.setpoint;
  }
  /** Cooler power now, percent. */
  get powerPct(): number {
    return this.power;
  }
  /** CCD temperature now, C. */
  temperature(): number {
    this.advance();
    return this.temp;
  }

  setOn(on: boolean): void {
    this.advance();
    if (on && !this.on) {
      this.regulating = false;
      this.integ = 0;
    }
    this.on = on;
  }
  setSetpoint(celsius: number): void {
    if (!Number.isFinite(celsius) || celsius < MIN_SETPOINT || celsius > MAX_SETPOINT) {
      throw new DeviceError('invalid-value', `set point ${celsius} C out of range ${MIN_SETPOINT}..${MAX_SETPOINT} C`);
    }
    this.advance();
    this.setpoint = celsius;
    this.regulating = false;
  }
  status(): CoolerStatus {
    this.advance();
    return {
      on: this.on,
      setpoint: this.setpoint,
      ccdTemp: this.temp,
      ambient: this.ambient,
      power: this.power,
      locked: this.isLocked(),
      poorRegulation: this.on && this.power > 85,
    };
  }

  /** Locked: on, and within 0.1 C of the set point for the last 30 simulated seconds. */
  private isLocked(): boolean {
    if (!this.on || this.history.length < 30) return false;
    const last = this.history.slice(-30);
    return last.every((h) => Math.abs(h.temp - this.setpoint) <= 0.1);
  }

  /** Integrate the thermal model up to clock.now(). */
  private advance(): void {
    const now = this.clock.now();
    let dtTotal = (now - this.tempT) / 1000;
    if (dtTotal <= 0) return;
    // very long gaps: the system is at equilibrium long before; cap the work
    if (dtTotal > 7200) {
      this.stepFor(dtTotal - 7200, true);
      dtTotal = 7200;
    }
    this.stepFor(dtTotal, false);
    this.tempT = now;
  }
  private stepFor(seconds: number, coarse: boolean): void {
    const step = coarse ? 10 : 1;
    let left = seconds;
    while (left > 1e-9) {
      const dt = Math.min(step, left);
      this.step(dt);
      left -= dt;
      if (!coarse) {
        this.history.push({ t: this.tempT, temp: this.temp });
        if (this.history.length > 120) this.history.shift();
      }
    }
  }
  private step(dt: number): void {
    const body = this.ambient;
    this.power = !this.on || this.powerCut ? 0 : this.control(dt);
    const teq = body - (DT_MAX * this.power) / 100;
    this.temp += ((teq - this.temp) * Math.min(dt, TAU)) / TAU;
    if (this.temp > body) this.temp = body;
  }
  /** Power of the controller after dt seconds: full power far above the set point, then PI. */
  private control(dt: number): number {
    const err = this.temp - this.setpoint;
    if (!this.regulating && err > 3) return 100;
    if (!this.regulating) {
      // bumpless transfer: the integral starts at the current power
      this.regulating = true;
      this.integ = this.power - KP * err;
    }
    this.integ += KI * err * dt;
    this.integ = Math.max(-20, Math.min(110, this.integ));
    return Math.max(0, Math.min(100, KP * err + this.integ));
  }
}
