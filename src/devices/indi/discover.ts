/**
 * Which INDI device plays which part of a rig (camera, filter wheel, focuser, mount), decided from
 * each device's DRIVER_INFO.DRIVER_INTERFACE bits (libindi basedevice.h DRIVER_INTERFACE). Drivers
 * define DRIVER_INFO before they are connected, while most other properties (CCD_EXPOSURE,
 * FILTER_SLOT, ABS_FOCUS_POSITION, ...) appear only after CONNECTION is on; property names are
 * used only for devices that report no interface. Pure: works on a summary of the property table.
 */

/** INDI DRIVER_INTERFACE bits (libindi basedevice.h). */
export const INDI_INTERFACE = { telescope: 1, ccd: 2, guider: 4, focuser: 8, filter: 16, weather: 128 } as const;

export type IndiRole = 'camera' | 'wheel' | 'focuser' | 'mount' | 'weather';

export interface IndiDeviceSummary {
  name: string;
  /** DRIVER_INTERFACE bit mask; NaN when the device reports none. */
  iface: number;
  /** Names of the properties defined so far. */
  props: ReadonlySet<string>;
}

interface RoleRule {
  /** The interface bit that says a device can play the role. */
  bit: number;
  /** Bits of a device that is something else first (a camera with a built-in wheel is a camera). */
  notBits: number;
  /** For devices without DRIVER_INTERFACE: a property that only such a device has. */
  prop: string;
}

const RULES: Record<IndiRole, RoleRule> = {
  camera: { bit: INDI_INTERFACE.ccd, notBits: 0, prop: 'CCD_EXPOSURE' },
  wheel: { bit: INDI_INTERFACE.filter, notBits: INDI_INTERFACE.ccd, prop: 'FILTER_SLOT' },
  focuser: { bit: INDI_INTERFACE.focuser, notBits: INDI_INTERFACE.ccd | INDI_INTERFACE.telescope, prop: 'ABS_FOCUS_POSITION' },
  mount: { bit: INDI_INTERFACE.telescope, notBits: 0, prop: 'EQUATORIAL_EOD_COORD' },
  weather: { bit: INDI_INTERFACE.weather, notBits: 0, prop: 'WEATHER_STATUS' },
};

const has = (d: IndiDeviceSummary, bit: number): boolean => Number.isFinite(d.iface) && (d.iface & bit) !== 0;

/**
 * The device for `role`, other than the camera `camera` (when given): first a device made for the
 * role, then one that also does it (a camera's own filter wheel or focuser, the camera itself last),
 * then, among devices that report no interface, one with the role's property.
 */
export function deviceFor(role: IndiRole, devices: readonly IndiDeviceSummary[], camera?: string): string | undefined {
  const r = RULES[role];
  const others = devices.filter((d) => d.name !== camera);
  const dedicated = others.find((d) => has(d, r.bit) && !has(d, r.notBits));
  if (dedicated) return dedicated.name;
  const also = others.find((d) => has(d, r.bit));
  if (also) return also.name;
  const self = devices.find((d) => d.name === camera && has(d, r.bit) && role !== 'camera');
  if (self) return self.name;
  return others.find((d) => !Number.isFinite(d.iface) && d.props.has(r.prop))?.name;
}
