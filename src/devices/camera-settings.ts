/**
 * The settings and error conditions of a QSI 600-style camera (the Advanced Setup of the QSI user
 * guide), independent of the simulator and of any protocol: what each setting may be, which ones a
 * camera offers (its capabilities), the soft and hard error conditions with their numbers, checks of
 * a settings change, and the option catalogue `darkroom camera set` and the API are made from.
 *
 * Soft errors are ones the camera mitigates (it forces the fan to full speed, it cuts the cooler) and
 * that clear by themselves; a sequence pauses while one is active. Hard errors stop the camera until
 * the operator acts; a sequence stops and keeps what it saved.
 */
import { defineCatalogue, type Catalogue } from '../util/options.js';
import { DeviceError } from './errors.js';
import type { CameraCapabilities, CameraCondition, CameraConditionCode, CameraSettings, PixelXY } from './types.js';

export const FAN_MODES = ['off', 'quiet', 'full'] as const;
export const GAIN_MODES = ['high', 'low'] as const;
export const SHUTTER_PRIORITIES = ['mechanical', 'electronic'] as const;
export const READOUT_MODES = ['quality', 'speed'] as const;
export const PRE_FLUSH_CYCLES = [0, 1, 2, 4, 8] as const;
/** The camera's names of the readout modes (Alpaca ReadoutModes), in the order of READOUT_MODES. */
export const READOUT_MODE_NAMES = ['Image quality', 'Fast readout'];
/** The camera's names of the gain modes (Alpaca Gains), in the order of GAIN_MODES. */
export const GAIN_MODE_NAMES = ['High', 'Low'];

/** Error limits of the QSI user guide. */
export const LIMITS = { heatSinkMaxC: 40, ccdMinC: -40, supplyMinV: 11, supplyMaxV: 14 };

/** Every condition the camera can report: its number, severity and what it means. */
export const CAMERA_CONDITIONS: Record<CameraConditionCode, { number: number; severity: 'soft' | 'hard'; text: string }> = {
  'over-temperature': { number: 101, severity: 'soft', text: `heat sink over ${LIMITS.heatSinkMaxC} C: fan forced to full speed` },
  'ccd-under-temperature': { number: 102, severity: 'soft', text: `CCD under ${LIMITS.ccdMinC} C: cooler power reduced` },
  'supply-low': { number: 103, severity: 'soft', text: `supply voltage below ${LIMITS.supplyMinV} V: cooler off` },
  'supply-high': { number: 104, severity: 'soft', text: `supply voltage above ${LIMITS.supplyMaxV} V: cooler off` },
  'filter-wheel': { number: 201, severity: 'hard', text: 'filter wheel failure' },
  shutter: { number: 202, severity: 'hard', text: 'shutter failure' },
  usb: { number: 203, severity: 'hard', text: 'USB communication failure' },
};

/** A condition with its number, severity and message (`detail`: the measured value in words). */
export function condition(code: CameraConditionCode, detail?: string, value?: number): CameraCondition {
  const c = CAMERA_CONDITIONS[code];
  return { code, number: c.number, severity: c.severity, message: `${c.severity} error ${c.number}: ${c.text}${detail ? ` (${detail})` : ''}`, ...(value !== undefined ? { value } : {}) };
}

export const DEFAULT_SETTINGS: CameraSettings = {
  fanMode: 'full',
  gain: 'high',
  shutterPriority: 'mechanical',
  antiBlooming: true,
  preFlush: 2,
  readout: 'quality',
  led: true,
  beeper: true,
  pixelMask: [],
};

function bad(message: string): never {
  throw new DeviceError('invalid-value', message);
}

function oneOf<T>(name: string, v: T, allowed: readonly T[]): void {
  if (!allowed.includes(v)) bad(`${name} must be one of ${allowed.join(', ')}, got '${String(v)}'`);
}

/** Check a settings change against what the camera offers (DeviceError invalid-value on the first bad value). */
export function checkSettings(patch: Partial<CameraSettings>, caps: CameraCapabilities, size: { width: number; height: number }): void {
  if (patch.fanMode !== undefined) oneOf('fan mode', patch.fanMode, caps.fanModes);
  if (patch.gain !== undefined) oneOf('gain', patch.gain, caps.gainModes);
  if (patch.shutterPriority !== undefined) oneOf('shutter priority', patch.shutterPriority, caps.shutterPriorities);
  if (patch.readout !== undefined) oneOf('readout', patch.readout, caps.readoutModes);
  if (patch.preFlush !== undefined) oneOf('pre-exposure flush', patch.preFlush, caps.preFlushCycles);
  for (const k of ['antiBlooming', 'led', 'beeper'] as const) {
    const v = patch[k];
    if (v === undefined) continue;
    if (typeof v !== 'boolean') bad(`${k} must be true or false, got '${String(v)}'`);
    if (k === 'antiBlooming' && v !== caps.antiBlooming && !caps.antiBloomingSelectable) bad(`anti-blooming is ${caps.antiBlooming ? 'always on' : 'not available'} on this sensor`);
  }
  if (patch.pixelMask !== undefined) checkMask(patch.pixelMask, caps.maxMaskedPixels, size);
}

function checkMask(mask: PixelXY[], max: number, size: { width: number; height: number }): void {
  if (!Array.isArray(mask)) bad('pixel mask must be a list of x,y pixels');
  if (mask.length > max) bad(`pixel mask holds at most ${max} pixels, got ${mask.length}`);
  for (const p of mask) {
    const ok = p && Number.isInteger(p.x) && Number.isInteger(p.y) && p.x >= 0 && p.y >= 0 && p.x < size.width && p.y < size.height;
    if (!ok) bad(`masked pixel ${p?.x},${p?.y} outside the ${size.width}x${size.height} sensor`);
  }
}

/** 'x,y;x,y' (also spaces between pairs) -> pixels; '' or 'none' -> no pixels. Throws a message. */
export function parseMask(text: string): PixelXY[] {
  const t = text.trim();
  if (t === '' || t.toLowerCase() === 'none') return [];
  return t.split(/[;\s]+/).filter(Boolean).map((pair) => {
    const m = /^(\d+),(\d+)$/.exec(pair);
    if (!m) throw new Error(`'${pair}' is not a pixel x,y (e.g. 120,45;300,17)`);
    return { x: Number(m[1]), y: Number(m[2]) };
  });
}

export function formatMask(mask: PixelXY[]): string {
  return mask.length ? mask.map((p) => `${p.x},${p.y}`).join(';') : 'none';
}

/** Settings as `camera set` and the API take them (on/off words for the switches). */
export interface CameraSettingsInput {
  fanMode?: CameraSettings['fanMode'];
  gain?: CameraSettings['gain'];
  shutterPriority?: CameraSettings['shutterPriority'];
  antiBlooming?: 'on' | 'off';
  preFlush?: number;
  readout?: CameraSettings['readout'];
  led?: 'on' | 'off';
  beeper?: 'on' | 'off';
  pixelMask?: PixelXY[];
}

const ON_OFF = ['on', 'off'] as const;

/** The options of `darkroom camera set` and PUT /api/camera/settings (no defaults: an absent option is left as it is). */
export const CAMERA_SETTINGS_CATALOGUE: Catalogue = defineCatalogue<CameraSettingsInput>({
  fanMode: { flag: '--fan <mode>', type: 'enum', values: FAN_MODES, help: 'fan speed', doc: 'Fan mode: off, quiet or full speed. Above 40 C at the heat sink the camera runs the fan at full speed whatever the mode.' },
  gain: { flag: '--gain <mode>', type: 'enum', values: GAIN_MODES, help: 'camera gain', doc: 'High gain: fewer electrons per ADU (faint targets); low gain: the whole full well within the ADC range.' },
  shutterPriority: { flag: '--shutter <priority>', type: 'enum', values: SHUTTER_PRIORITIES, help: 'shutter priority', doc: 'Mechanical or electronic shutter (interline sensors). With the electronic shutter nothing covers the sensor: dark frames need the telescope capped.' },
  antiBlooming: { flag: '--anti-blooming <on|off>', type: 'enum', values: ON_OFF, help: 'anti-blooming gate (ABG sensors)', doc: 'On: charge above the full well is drained; off: it spills along the columns (blooming).' },
  preFlush: { flag: '--pre-flush <cycles>', type: 'integer', min: 0, max: 8, help: 'pre-exposure flush cycles: 0|1|2|4|8', doc: 'Flush cycles before each exposure: each removes most of the residual charge of the previous frame and adds to the start latency.' },
  readout: { flag: '--readout <mode>', type: 'enum', values: READOUT_MODES, help: 'readout optimization', doc: 'quality: slower, lower read noise; speed: faster download, higher read noise.' },
  led: { flag: '--led <on|off>', type: 'enum', values: ON_OFF, help: 'status LED', doc: 'The status LED in normal states (errors are always shown).' },
  beeper: { flag: '--beeper <on|off>', type: 'enum', values: ON_OFF, help: 'beeper', doc: 'The audible beeper.' },
  pixelMask: {
    flag: '--mask <x,y;x,y>',
    type: 'string',
    help: "pixels the camera masks, unbinned sensor x,y ('none' clears)",
    doc: 'The camera replaces each listed pixel with the mean of its unmasked neighbours in every frame; the list is stored in the camera.',
    parse: parseMask,
    format: formatMask,
  },
});

/** The typed settings change of catalogue values (absent ones left out). */
export function settingsPatch(v: CameraSettingsInput): Partial<CameraSettings> {
  const out: Partial<CameraSettings> = {};
  if (v.fanMode !== undefined) out.fanMode = v.fanMode;
  if (v.gain !== undefined) out.gain = v.gain;
  if (v.shutterPriority !== undefined) out.shutterPriority = v.shutterPriority;
  if (v.antiBlooming !== undefined) out.antiBlooming = v.antiBlooming === 'on';
  if (v.preFlush !== undefined) out.preFlush = v.preFlush as CameraSettings['preFlush'];
  if (v.readout !== undefined) out.readout = v.readout;
  if (v.led !== undefined) out.led = v.led === 'on';
  if (v.beeper !== undefined) out.beeper = v.beeper === 'on';
  if (v.pixelMask !== undefined) out.pixelMask = v.pixelMask;
  return out;
}

/** Settings as lines of text (`camera status`). */
export function describeSettings(s: CameraSettings, fanOverride = false): string[] {
  const onOff = (b: boolean): string => (b ? 'on' : 'off');
  return [
    `fan: ${s.fanMode}${fanOverride ? ' (forced to full speed: heat sink over temperature)' : ''}`,
    `gain: ${s.gain}`,
    `shutter priority: ${s.shutterPriority}`,
    `anti-blooming: ${onOff(s.antiBlooming)}`,
    `pre-exposure flush: ${s.preFlush} cycle${s.preFlush === 1 ? '' : 's'}`,
    `readout: ${s.readout === 'quality' ? 'image quality' : 'readout speed'}`,
    `LED: ${onOff(s.led)}, beeper: ${onOff(s.beeper)}`,
    `pixel mask: ${s.pixelMask.length ? `${s.pixelMask.length} pixel${s.pixelMask.length === 1 ? '' : 's'} (${formatMask(s.pixelMask)})` : 'none'}`,
  ];
}
