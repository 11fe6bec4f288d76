/**
 * The ASCOM Alpaca Telescope as a goto mount (with its pulse guiding: AlpacaGuideOutput) and the
 * SafetyMonitor. Positions are J2000 degrees at this interface: a telescope whose EquatorialSystem is
 * not J2000 (2) is taken to speak the equinox of date (topocentric, 1) and converted. Slews are
 * SlewToCoordinatesAsync followed through Slewing; the pier side is SideOfPier (ASCOM pierEast 0: the
 * telescope east of the pier, looking west; pierWest 1); a meridian flip is a SideOfPier write where
 * CanSetPierSide, else a slew to the same coordinates past the meridian (the mount picks the side).
 */
import { DarkroomError } from '../../util/errors.js';
import { j2000ToJnow, jnowToJ2000 } from '../precess.js';
import type { GotoTelescope, PierSide, SafetyMonitor } from '../types.js';
import { AlpacaGuideOutput, AlpacaPart, type AlpacaTarget } from './client.js';

const PIER: Record<number, PierSide> = { 0: 'east', 1: 'west' };

/** What the telescope said it can do, asked once per connection. */
interface Caps {
  slewAsync: boolean;
  sync: boolean;
  park: boolean;
  unpark: boolean;
  setPierSide: boolean;
  j2000: boolean;
}

export class AlpacaTelescope extends AlpacaGuideOutput implements GotoTelescope {
  private caps?: Caps;
  /** Longest a slew, flip or park may take, ms of wall time. */
  moveTimeoutMs = 600_000;

  override async connect(): Promise<void> {
    await super.connect();
    this.caps = undefined;
  }

  /** Whether the telescope can slew (SlewToCoordinatesAsync) and sync: a goto mount, not only a guide port. */
  async canGoto(): Promise<boolean> {
    const c = await this.capabilities();
    return c.slewAsync && c.sync;
  }

  private async capabilities(): Promise<Caps> {
    if (this.caps) return this.caps;
    const b = (m: string): Promise<boolean> => this.dev.get<boolean>(m).catch(() => false);
    const eq = await this.dev.get<number>('equatorialsystem').catch(() => 1);
    this.caps = { slewAsync: await b('canslewasync'), sync: await b('cansync'), park: await b('canpark'), unpark: await b('canunpark'), setPierSide: await b('cansetpierside'), j2000: eq === 2 };
    return this.caps;
  }

  /** J2000 degrees to the telescope's RA (hours) and Dec. */
  private async native(ra: number, dec: number): Promise<{ RightAscension: number; Declination: number }> {
    const p = (await this.capabilities()).j2000 ? { ra, dec } : j2000ToJnow(ra, dec, Date.now());
    return { RightAscension: p.ra / 15, Declination: p.dec };
  }

  async position(): Promise<{ ra: number; dec: number }> {
    const ra = (await this.dev.get<number>('rightascension')) * 15;
    const dec = await this.dev.get<number>('declination');
    return (await this.capabilities()).j2000 ? { ra, dec } : jnowToJ2000(ra, dec, Date.now());
  }

  async hourAngle(): Promise<number> {
    const h = (await this.dev.get<number>('siderealtime')) - (await this.dev.get<number>('rightascension'));
    const w = ((h % 24) + 24) % 24;
    return w > 12 ? w - 24 : w;
  }

  async pierSide(): Promise<PierSide> {
    const n = await this.dev.get<number>('sideofpier');
    const side = PIER[n];
    if (!side) throw new DarkroomError('UNSUPPORTED', `the telescope does not know its pier side (SideOfPier ${n})`, this.dev.label);
    return side;
  }

  async slewTo(ra: number, dec: number): Promise<void> {
    const c = await this.capabilities();
    if (!c.slewAsync) throw new DarkroomError('UNSUPPORTED', 'the telescope cannot slew (CanSlewAsync is false)', this.dev.label);
    if (c.unpark && (await this.dev.get<boolean>('atpark').catch(() => false))) await this.dev.put('unpark');
    if (!(await this.dev.get<boolean>('tracking').catch(() => true))) await this.dev.put('tracking', { Tracking: true });
    await this.dev.put('slewtocoordinatesasync', await this.native(ra, dec));
    await this.stopped('the slew');
  }

  async syncTo(ra: number, dec: number): Promise<void> {
    if (!(await this.capabilities()).sync) throw new DarkroomError('UNSUPPORTED', 'the telescope cannot sync (CanSync is false)', this.dev.label);
    await this.dev.put('synctocoordinates', await this.native(ra, dec));
  }

  async flip(): Promise<void> {
    const before = await this.pierSide();
    if ((await this.capabilities()).setPierSide) {
      await this.dev.put('sideofpier', { SideOfPier: before === 'east' ? 1 : 0 });
    } else {
      const ra = await this.dev.get<number>('rightascension');
      const dec = await this.dev.get<number>('declination');
      await this.dev.put('slewtocoordinatesasync', { RightAscension: ra, Declination: dec });
    }
    await this.stopped('the meridian flip');
    const after = await this.pierSide();
    if (after === before) throw new DarkroomError('IO', `the meridian flip left the telescope on the ${after} side of the pier`, this.dev.label);
  }

  async park(): Promise<void> {
    if (!(await this.capabilities()).park) throw new DarkroomError('UNSUPPORTED', 'the telescope cannot park (CanPark is false)', this.dev.label);
    await this.dev.put('park');
    const deadline = Date.now() + this.moveTimeoutMs;
    while (!(await this.dev.get<boolean>('atpark'))) {
      if (Date.now() > deadline) throw new DarkroomError('IO', `the telescope did not park within ${this.moveTimeoutMs} ms`, this.dev.label);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Poll Slewing (every 100 ms) until the move ends. */
  private async stopped(what: string): Promise<void> {
    const deadline = Date.now() + this.moveTimeoutMs;
    while (await this.dev.get<boolean>('slewing')) {
      if (Date.now() > deadline) throw new DarkroomError('IO', `${what} did not end within ${this.moveTimeoutMs} ms`, this.dev.label);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/**
 * An Alpaca SafetyMonitor: IsSafe. A monitor that cannot be reached counts as unsafe (as ASCOM asks of
 * clients: no answer is no permission), the reason kept in `lastError`.
 */
export class AlpacaSafetyMonitor extends AlpacaPart implements SafetyMonitor {
  readonly kind = 'safetymonitor' as const;
  lastError?: string;
  constructor(target: Omit<AlpacaTarget, 'type'>) {
    super(target, 'safetymonitor');
  }
  async isSafe(): Promise<boolean> {
    try {
      const safe = await this.dev.get<boolean>('issafe');
      this.lastError = undefined;
      return safe === true;
    } catch (e) {
      this.lastError = (e as Error).message;
      return false;
    }
  }
}
