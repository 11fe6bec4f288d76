/**
 * The two-stage thermoelectric cooler of the simulated QSI camera (lazy, integrated in 1 s steps of
 * the injected clock):
 *   dT/dt = (Teq(P) - T) / tau,  Teq(P) = ambient - dTmax * P / 100   (tau 90 s, dTmax 45 C)
 *   Control: full power while T > setpoint + 3 C, then a PI loop (with bumpless transfer from full
 *   power, which gives a slight overshoot), power clamped to 0..100 %. The cooler cannot heat: a set
 *   point above the body temperature leaves the CCD at ambient with 0 % power. Set points below
 *   -40 C are refused. Power > 85 % is flagged as poor regulation. Cooler off: power 0, warms back up.
 * The hot side: the heat sink runs above `ambient` by RISE[fan] * P / 100 (0 C at full fan speed, so
 * `ambient` is the heat sink temperature with the fan at full speed; 8 C quiet, 25 C with the fan off),
 * reached with a time constant of 60 s, and the CCD cools from the heat sink temperature:
 *   Teq(P) = Ths - dTmax * P / 100. A slower fan leaves less cooling margin.
 * QSI's protections: heat sink over 40 C forces the fan to full speed until it is back under 38 C;
 * the CCD under -40 C cuts the cooler power; supply voltage out of 11..14 V switches the cooler off.
 */
import { DeviceError } from '../errors.js';
import type { Clock, CoolerStatus, FanMode } from '../types.js';
import { LIMITS } from '../camera-settings.js';

export const MIN_SETPOINT = -40;
export const MAX_SETPOINT = 50;

const TAU = 90;
const DT_MAX = 45;
const KP = 8;
const KI = 0.4;
/** Heat sink rise over ambient at full cooler power, C, by fan mode. */
export const HEAT_SINK_RISE: Record<FanMode, number> = { off: 25, quiet: 8, full: 0 };
const HEAT_SINK_TAU = 60;
/** The over-temperature override ends when the heat sink is back under this, C. */
const OVERRIDE_CLEAR = LIMITS.heatSinkMaxC - 2;

export class CoolerModel {
  private temp: number;
  private tempT: number;
  private on = false;
  private setpoint = 0;
  private power = 0;
  private integ = 0;
  private regulating = false;
  private history: { t: number; temp: number }[] = [];
  /** Supply voltage out of range: the cooler gets no power. */
  powerCut = false;
  /** The fan mode chosen. */
  fanMode: FanMode = 'full';
  private heatSink: number;
  private override = false;

  constructor(
    private ambientC: number,
    private readonly clock: Clock,
  ) {
    this.temp = ambientC;
    this.heatSink = ambientC;
    this.tempT = clock.now();
  }

  /** Ambient temperature (heat sink with the fan at full speed and no load), C. */
  get ambient(): number {
    return this.ambientC;
  }
  /** Change the ambient temperature (the model runs up to now first). */
  setAmbient(c: number): void {
    this.advance();
    this.ambientC = c;
  }
  /** Heat sink temperature now, C. */
  heatSinkTemp(): number {
    this.advance();
    return this.heatSink;
  }
  /** True while the heat sink's over-temperature forces the fan to full speed. */
  get fanOverride(): boolean {
    this.advance();
    return this.override;
  }
  /** The fan speed running now. */
  get fanRunning(): FanMode {
    return this.override ? 'full' : this.fanMode;
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
      ambient: this.heatSink,
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
    const body = this.heatSink;
    // the CCD under -40 C: the camera cuts the cooler power
    this.power = !this.on || this.powerCut || this.temp < LIMITS.ccdMinC ? 0 : this.control(dt);
    const hsTarget = this.ambientC + (HEAT_SINK_RISE[this.fanRunning] * this.power) / 100;
    this.heatSink += ((hsTarget - this.heatSink) * Math.min(dt, HEAT_SINK_TAU)) / HEAT_SINK_TAU;
    if (this.heatSink > LIMITS.heatSinkMaxC) this.override = true;
    else if (this.heatSink < OVERRIDE_CLEAR) this.override = false;
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
