/**
 * The vendor settings of a QSI-style camera over Alpaca, as ASCOM camera drivers expose them: the gain
 * modes through Gains/Gain, the readout optimization through ReadoutModes/ReadoutMode, and the rest
 * through SupportedActions and Action (PUT Action=NAME, Parameters=VALUE; an empty Parameters reads the
 * value). Values are text: FanMode off|quiet|full, ShutterPriority mechanical|electronic, AntiBlooming /
 * LED / Beeper True|False, PreFlush 0|1|2|4|8, PixelMask a JSON list of [x, y] pairs (unbinned; also
 * 'x,y;x,y' or 'none' when set), ErrorStatus and Capabilities JSON (read only). Action names are matched
 * in any casing. Shared by the server (members) and the client.
 */
import { DeviceError } from '../errors.js';
import { READOUT_MODES, READOUT_MODE_NAMES, parseMask } from '../camera-settings.js';
import type { Camera, CameraSettings, CameraSettingsState } from '../types.js';

export const CAMERA_ACTIONS = ['FanMode', 'ShutterPriority', 'AntiBlooming', 'PreFlush', 'PixelMask', 'LED', 'Beeper', 'ErrorStatus', 'Capabilities'] as const;
export type CameraAction = (typeof CAMERA_ACTIONS)[number];

type Key = 'fanMode' | 'shutterPriority' | 'antiBlooming' | 'preFlush' | 'pixelMask' | 'led' | 'beeper';
/** The setting each settable action reads and writes. */
export const ACTION_KEYS: Record<Exclude<CameraAction, 'ErrorStatus' | 'Capabilities'>, Key> = {
  FanMode: 'fanMode',
  ShutterPriority: 'shutterPriority',
  AntiBlooming: 'antiBlooming',
  PreFlush: 'preFlush',
  PixelMask: 'pixelMask',
  LED: 'led',
  Beeper: 'beeper',
};

function invalid(message: string): never {
  throw new DeviceError('invalid-value', message);
}

/** The action of a name in any casing; undefined when it is none of ours. */
export function findAction(name: string): CameraAction | undefined {
  return CAMERA_ACTIONS.find((a) => a.toLowerCase() === name.trim().toLowerCase());
}

/** A setting as an action's text value. */
export function actionValue(key: Key, s: CameraSettings): string {
  const v = s[key];
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (key === 'pixelMask') return JSON.stringify(s.pixelMask.map((p) => [p.x, p.y]));
  return String(v);
}

function parseBool(name: string, text: string): boolean {
  const t = text.trim().toLowerCase();
  if (t === 'true' || t === 'on') return true;
  if (t === 'false' || t === 'off') return false;
  return invalid(`${name} must be True or False, got '${text}'`);
}

/** An action's text value as a settings change (DeviceError invalid-value when it does not read). */
export function actionPatch(action: CameraAction, text: string): Partial<CameraSettings> {
  if (action === 'ErrorStatus' || action === 'Capabilities') invalid(`${action} is read only (send an empty Parameters)`);
  const key = ACTION_KEYS[action];
  const t = text.trim();
  switch (key) {
    case 'antiBlooming':
    case 'led':
    case 'beeper':
      return { [key]: parseBool(action, t) };
    case 'preFlush':
      if (!/^\d+$/.test(t)) invalid(`PreFlush must be a number of cycles (0, 1, 2, 4, 8), got '${text}'`);
      return { preFlush: Number(t) as CameraSettings['preFlush'] };
    case 'pixelMask':
      return { pixelMask: parseMaskText(t) };
    default:
      return { [key]: t.toLowerCase() } as Partial<CameraSettings>;
  }
}

function parseMaskText(t: string): CameraSettings['pixelMask'] {
  if (t.startsWith('[')) {
    let v: unknown;
    try {
      v = JSON.parse(t);
    } catch {
      invalid(`PixelMask is not a JSON list of [x, y] pairs: '${t}'`);
    }
    if (!Array.isArray(v) || !v.every((p) => Array.isArray(p) && p.length === 2)) invalid('PixelMask must be a JSON list of [x, y] pairs');
    return (v as number[][]).map(([x, y]) => ({ x: x!, y: y! }));
  }
  try {
    return parseMask(t);
  } catch (e) {
    return invalid(`PixelMask: ${(e as Error).message}`);
  }
}

/** Run an action on a camera that has the settings: its value after any change, as text. */
export async function runAction(cam: Camera, action: CameraAction, parameters: string): Promise<string> {
  const read = async (): Promise<CameraSettingsState> => cam.settingsState!();
  if (action === 'ErrorStatus') return JSON.stringify(parameters.trim() ? invalid('ErrorStatus is read only') : (await read()).conditions);
  if (action === 'Capabilities') return JSON.stringify(parameters.trim() ? invalid('Capabilities is read only') : (await read()).capabilities);
  const st = parameters.trim() ? await cam.setSettings!(actionPatch(action, parameters)) : await read();
  return actionValue(ACTION_KEYS[action], st.settings);
}

/** ReadoutMode index of a readout setting and back. */
export function readoutIndex(r: CameraSettings['readout']): number {
  return READOUT_MODES.indexOf(r);
}
export function readoutOfIndex(i: number): CameraSettings['readout'] {
  const r = READOUT_MODES[i];
  if (r === undefined) invalid(`ReadoutMode must be 0..${READOUT_MODES.length - 1} (${READOUT_MODE_NAMES.join(', ')}), got ${i}`);
  return r;
}
