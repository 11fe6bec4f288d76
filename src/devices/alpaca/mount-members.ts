/**
 * The Alpaca members of a goto telescope (on top of telescope/0's pulse guiding) and of a
 * SafetyMonitor, served by AlpacaServer from the device interfaces. The telescope speaks J2000
 * (EquatorialSystem 2), RA in hours; SideOfPier pierEast 0 / pierWest 1 (ASCOM's names: the side of
 * the pier the telescope is on); a SideOfPier write is a meridian flip. Slews, flips and parks run in
 * the background: Slewing is true until they end, AtPark once parked (a slew while parked is refused
 * with InvalidWhileParked, as ASCOM asks: Unpark first).
 */
import { DeviceError } from '../errors.js';
import type { GotoTelescope, SafetyMonitor } from '../types.js';
import { ALPACA_ERRORS } from './protocol.js';
import { AlpacaError } from './members.js';
import type { Member, Members } from './members.js';
import { bool, int, num, param, type Params } from './request.js';

/** A safety monitor a client (a test, a demo) can tell to be safe or not: the Action SetSafe True|False. */
export interface ServedSafetyMonitor extends SafetyMonitor {
  setSafe?(safe: boolean | undefined): void;
}

const fixed = (v: unknown): Member => ({ get: () => v });

function invalid(message: string): never {
  throw new AlpacaError(ALPACA_ERRORS.invalidValue, message);
}

export function gotoMembers(m: GotoTelescope): Members {
  let busy = 0;
  let parked = false;
  /** Run a move in the background (Slewing while it lasts); its later failure is dropped, as the device's own. */
  const background = (op: () => Promise<void>, after?: () => void): void => {
    busy++;
    void op()
      .then(after, () => undefined)
      .finally(() => busy--);
  };
  const idle = (what: string): void => {
    if (parked) throw new AlpacaError(ALPACA_ERRORS.invalidWhileParked, `cannot ${what} while parked (Unpark first)`);
    if (busy > 0) throw new DeviceError('invalid-operation', `cannot ${what} while the telescope is moving`);
  };
  const coords = (p: Params): { ra: number; dec: number } => {
    const ra = num(p, 'RightAscension');
    const dec = num(p, 'Declination');
    return { ra, dec };
  };
  const check = (c: { ra: number; dec: number }): void => {
    if (!(c.ra >= 0 && c.ra < 24)) invalid(`RightAscension must be 0..24 hours, got ${c.ra}`);
    if (!(c.dec >= -90 && c.dec <= 90)) invalid(`Declination must be -90..90 degrees, got ${c.dec}`);
  };
  const slew = (c: { ra: number; dec: number }): void => {
    check(c);
    idle('slew');
    background(() => m.slewTo(c.ra * 15, c.dec));
  };
  const side = async (): Promise<number> => ((await m.pierSide()) === 'east' ? 0 : 1);
  return {
    alignmentmode: fixed(2),
    canslew: fixed(false),
    canslewasync: fixed(true),
    cansync: fixed(true),
    canpark: fixed(true),
    canunpark: fixed(true),
    cansetpierside: fixed(true),
    cansettracking: fixed(false),
    canfindhome: fixed(false),
    canslewaltaz: fixed(false),
    canslewaltazasync: fixed(false),
    cansyncaltaz: fixed(false),
    cansetpark: fixed(false),
    equatorialsystem: fixed(2),
    doesrefraction: fixed(false),
    tracking: { get: () => true, put: (p) => { const on = bool(p, 'Tracking'); return () => { if (!on) throw new AlpacaError(ALPACA_ERRORS.notImplemented, 'tracking cannot be switched off (CanSetTracking is false)'); }; } },
    rightascension: { get: async () => (await m.position()).ra / 15 },
    declination: { get: async () => (await m.position()).dec },
    siderealtime: { get: async () => ((((await m.position()).ra / 15 + (await m.hourAngle())) % 24) + 24) % 24 },
    slewing: { get: () => busy > 0 },
    atpark: { get: () => parked },
    athome: fixed(false),
    sideofpier: {
      get: side,
      put: (p) => {
        const want = int(p, 'SideOfPier');
        return async () => {
          if (want !== 0 && want !== 1) invalid(`SideOfPier must be 0 (pierEast) or 1 (pierWest), got ${want}`);
          if (want === (await side())) return;
          idle('flip');
          if (want === 1) throw new DeviceError('invalid-operation', 'the mount flips only from the west side to the east side of the pier (past the meridian)');
          background(() => m.flip());
        };
      },
    },
    slewtocoordinatesasync: { put: (p) => { const c = coords(p); return () => slew(c); } },
    synctocoordinates: {
      put: (p) => {
        const c = coords(p);
        return () => {
          check(c);
          idle('sync');
          return m.syncTo(c.ra * 15, c.dec);
        };
      },
    },
    park: {
      put: () => () => {
        if (parked) return;
        idle('park');
        background(() => m.park(), () => (parked = true));
      },
    },
    unpark: { put: () => () => { parked = false; } },
  };
}

/** IsSafe, and the Action SetSafe (Parameters True, False, or empty: back to the monitor's own verdict) when the monitor can be told. */
export function safetyMembers(s: ServedSafetyMonitor): Members {
  const can = !!s.setSafe;
  return {
    issafe: { get: () => s.isSafe() },
    supportedactions: fixed(can ? ['SetSafe'] : []),
    action: {
      put: (p) => {
        const name = param(p, 'Action');
        const value = param(p, 'Parameters').trim().toLowerCase();
        return () => {
          if (!can || name.toLowerCase() !== 'setsafe') throw new AlpacaError(ALPACA_ERRORS.actionNotImplemented, `action '${name}' is not supported${can ? ' (supported: SetSafe)' : ''}`);
          if (value !== 'true' && value !== 'false' && value !== '') invalid(`SetSafe takes True, False or nothing, got '${value}'`);
          s.setSafe!(value === '' ? undefined : value === 'true');
          return '';
        };
      },
    },
  };
}
