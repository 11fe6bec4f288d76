/**
 * An INDI telescope as a goto mount, and an INDI weather station as a safety monitor (libindi's
 * standard properties):
 * - goto: ON_COORD_SET {TRACK, SLEW, SYNC} chooses what a new EQUATORIAL_EOD_COORD {RA (hours), DEC}
 *   does (slew and track, or sync); the coordinates are of the equinox of date (JNow): J2000 positions
 *   are precessed both ways. A slew is Busy until the mount stops (Ok) or fails (Alert).
 * - TELESCOPE_PIER_SIDE {PIER_WEST, PIER_EAST}; a meridian flip is a slew to the same coordinates past
 *   the meridian (the driver picks the side); the hour angle is the local sidereal time at
 *   GEOGRAPHIC_COORD.LONG minus RA.
 * - TELESCOPE_PARK {PARK, UNPARK}: a slew first unparks.
 * - WEATHER_STATUS, a light vector of the weather parameters: its state is the driver's verdict (Ok
 *   safe, Busy a warning but still safe, Alert danger); Idle (no reading yet), a lost link or a
 *   missing property count as unsafe.
 */
import { DarkroomError } from '../../util/errors.js';
import { localSiderealDeg } from '../../session/sidereal.js';
import { j2000ToJnow, jnowToJ2000 } from '../precess.js';
import type { GotoTelescope, PierSide, SafetyMonitor } from '../types.js';
import { IndiGuideOutput, type IndiClient, type IndiProperty, type IndiRestorable, type PropState } from './client.js';

const EQ = 'EQUATORIAL_EOD_COORD';

export class IndiTelescope extends IndiGuideOutput implements GotoTelescope {
  /** Longest a slew, flip or park may take, ms. */
  moveTimeoutMs = 600_000;

  private prop(name: string): IndiProperty {
    const p = this.client.property(this.device, name);
    if (!p) throw new DarkroomError('UNSUPPORTED', `INDI telescope '${this.device}' has no ${name} property`, this.client.label);
    return p;
  }

  /** Whether the device has the goto properties (a mount, not only a guide port). */
  canGoto(): boolean {
    return !!this.client.property(this.device, EQ) && !!this.client.property(this.device, 'ON_COORD_SET');
  }

  /**
   * Send a new vector and wait for the driver's answer: the first update of the property after it
   * (with `busyFirst`, the first one after a Busy: a slew's end), Alert an error.
   */
  private async answered(name: string, send: () => void, what: string, busyFirst: boolean, until: () => boolean = () => true): Promise<void> {
    const states: PropState[] = [];
    const on = (d: string, n: string | undefined, p?: IndiProperty): void => {
      if (d === this.device && n === name && p) states.push(p.state);
    };
    this.client.on('update', on);
    try {
      send();
      await this.client.waitFor(
        () => {
          if (states.includes('Alert')) throw new DarkroomError('IO', `${what} failed: ${this.device}.${name} went to Alert${this.prop(name).message ? `: ${this.prop(name).message}` : ''}`, this.client.label);
          const from = busyFirst ? states.indexOf('Busy') : 0;
          return from >= 0 && states.slice(from).some((s) => s !== 'Busy') && until();
        },
        this.moveTimeoutMs,
        what,
      );
    } finally {
      this.client.off('update', on);
    }
  }

  private setCoordMode(mode: 'TRACK' | 'SYNC' | 'SLEW'): void {
    const p = this.prop('ON_COORD_SET');
    this.client.setSwitch(this.device, 'ON_COORD_SET', Object.fromEntries([...p.elements.keys()].map((k) => [k, k === mode])));
  }

  private coords(ra: number, dec: number): Record<string, number> {
    const p = j2000ToJnow(ra, dec, Date.now());
    return { RA: p.ra / 15, DEC: p.dec };
  }

  async position(): Promise<{ ra: number; dec: number }> {
    this.prop(EQ);
    return jnowToJ2000(this.client.num(this.device, EQ, 'RA') * 15, this.client.num(this.device, EQ, 'DEC'), Date.now());
  }

  async hourAngle(): Promise<number> {
    const long = this.client.num(this.device, 'GEOGRAPHIC_COORD', 'LONG');
    if (!Number.isFinite(long)) throw new DarkroomError('UNSUPPORTED', `INDI telescope '${this.device}' reports no GEOGRAPHIC_COORD.LONG (for the hour angle)`, this.client.label);
    const h = (localSiderealDeg(Date.now(), long) / 15 - this.client.num(this.device, EQ, 'RA')) % 24;
    const w = (h + 24) % 24;
    return w > 12 ? w - 24 : w;
  }

  async pierSide(): Promise<PierSide> {
    this.prop('TELESCOPE_PIER_SIDE');
    if (this.client.switchOn(this.device, 'TELESCOPE_PIER_SIDE', 'PIER_WEST')) return 'west';
    if (this.client.switchOn(this.device, 'TELESCOPE_PIER_SIDE', 'PIER_EAST')) return 'east';
    throw new DarkroomError('UNSUPPORTED', `INDI telescope '${this.device}' does not know its pier side`, this.client.label);
  }

  async slewTo(ra: number, dec: number): Promise<void> {
    await this.unpark();
    const c = this.coords(ra, dec);
    await this.client.resilient(() =>
      this.answered(EQ, () => {
        this.setCoordMode('TRACK');
        this.client.setNumber(this.device, EQ, c);
      }, `the slew to RA ${c.RA!.toFixed(4)} h Dec ${c.DEC!.toFixed(3)}`, true),
    );
  }

  async syncTo(ra: number, dec: number): Promise<void> {
    const c = this.coords(ra, dec);
    try {
      // a tracking update sent before the driver read the sync may come first: wait for the synced coordinates
      const near = (): boolean => Math.abs(this.client.num(this.device, EQ, 'RA') - c.RA!) < 1 / 3600 && Math.abs(this.client.num(this.device, EQ, 'DEC') - c.DEC!) < 1 / 60;
      await this.answered(EQ, () => {
        this.setCoordMode('SYNC');
        this.client.setNumber(this.device, EQ, c);
      }, 'the sync', false, near);
    } finally {
      this.setCoordMode('TRACK');
    }
    await this.client.waitFor(() => this.client.switchOn(this.device, 'ON_COORD_SET', 'TRACK'), 5000, 'ON_COORD_SET back to TRACK');
  }

  async flip(): Promise<void> {
    const before = await this.pierSide();
    const ra = this.client.num(this.device, EQ, 'RA');
    const dec = this.client.num(this.device, EQ, 'DEC');
    await this.answered(EQ, () => {
      this.setCoordMode('TRACK');
      this.client.setNumber(this.device, EQ, { RA: ra, DEC: dec });
    }, 'the meridian flip', true);
    // the driver may report the new side just after the slew's end
    await this.client.waitFor(() => !this.client.switchOn(this.device, 'TELESCOPE_PIER_SIDE', before === 'west' ? 'PIER_WEST' : 'PIER_EAST'), 5000, 'the new pier side').catch(() => undefined);
    const after = await this.pierSide();
    if (after === before) throw new DarkroomError('IO', `the meridian flip left the telescope on the ${after} side of the pier`, this.client.label);
  }

  /** Whether TELESCOPE_PARK says parked. */
  parked(): boolean {
    return this.client.switchOn(this.device, 'TELESCOPE_PARK', 'PARK');
  }

  async park(): Promise<void> {
    this.prop('TELESCOPE_PARK');
    if (this.parked() && this.prop('TELESCOPE_PARK').state !== 'Busy') return;
    await this.answered('TELESCOPE_PARK', () => this.client.setSwitch(this.device, 'TELESCOPE_PARK', { PARK: true, UNPARK: false }), 'parking', true);
    if (!this.parked()) throw new DarkroomError('IO', `INDI telescope '${this.device}' did not park`, this.client.label);
  }

  private async unpark(): Promise<void> {
    if (!this.client.property(this.device, 'TELESCOPE_PARK') || !this.parked()) return;
    await this.answered('TELESCOPE_PARK', () => this.client.setSwitch(this.device, 'TELESCOPE_PARK', { PARK: false, UNPARK: true }), 'unparking', false);
  }
}

export class IndiWeather implements SafetyMonitor, IndiRestorable {
  readonly kind = 'weather' as const;
  constructor(
    readonly client: IndiClient,
    readonly device: string,
  ) {}
  async connect(): Promise<void> {
    await this.restore();
    this.client.attach(this);
  }
  async restore(): Promise<void> {
    await this.client.connectDevice(this.device);
    await this.client.waitProperty(this.device, 'WEATHER_STATUS', 5000).catch(() => {
      throw new DarkroomError('UNSUPPORTED', `INDI device '${this.device}' has no WEATHER_STATUS property (not a weather station)`, this.client.label);
    });
  }
  async disconnect(): Promise<void> {
    this.client.detach(this);
  }
  /** The driver's verdict and the parameters it is made of (element name: Ok, Busy, Alert, Idle). */
  status(): { state: PropState | 'missing'; parameters: Record<string, string> } {
    const p = this.client.up ? this.client.property(this.device, 'WEATHER_STATUS') : undefined;
    if (!p) return { state: 'missing', parameters: {} };
    return { state: p.state, parameters: Object.fromEntries([...p.elements.values()].map((e) => [e.name, e.value])) };
  }
  async isSafe(): Promise<boolean> {
    const s = this.status().state;
    return s === 'Ok' || s === 'Busy';
  }
}
