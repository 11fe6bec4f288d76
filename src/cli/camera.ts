/**
 * `darkroom camera status|set|cool|warm|expose --device sim|indi://HOST:PORT[/DEVICE]|alpaca://HOST:PORT/N`
 * (`set`: the QSI-style vendor settings, options from CAMERA_SETTINGS_CATALOGUE)
 */
import type { Command } from 'commander';
import { DarkroomError, isDarkroomError } from '../util/errors.js';
import { writeFits } from '../fits/index.js';
import { VERSION } from '../version.js';
import { MIN_SETPOINT, MAX_SETPOINT } from '../devices/sim/simcamera.js';
import { openDevice as openDeviceSpec, type OpenedDevice } from '../acquire/open.js';
import type { Camera, CameraSettingsState } from '../devices/types.js';
import { CAMERA_SETTINGS_CATALOGUE, describeSettings, settingsPatch, type CameraSettingsInput } from '../devices/camera-settings.js';
import { addOptions, parseCli } from '../util/options.js';
import { FRAME_KINDS, isFrameKind, type FrameKind } from '../image/frame-kind.js';
import { deviceCommand, type DeviceCommandOptions } from './device-options.js';

async function openDevice(spec: string): Promise<OpenedDevice> {
  // the built-in simulator runs on a clock 600x faster than real time (a simulated minute per 100 ms)
  return openDeviceSpec(spec, { simSpeed: 600 });
}

/** Open the device, run fn on it and let go of it; user errors that name no file name the device. */
async function onDevice<T>(spec: string, fn: (d: OpenedDevice) => Promise<T>): Promise<T> {
  return withDevice(spec, async () => {
    const d = await openDevice(spec);
    try {
      return await fn(d);
    } finally {
      d.close();
    }
  });
}

/** Attach the device to user errors that do not name a file. */
async function withDevice<T>(spec: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (isDarkroomError(e) && !e.file) throw new DarkroomError(e.code, e.message, spec);
    throw e;
  }
}

function parseSetpoint(v: string | undefined, spec: string): number | undefined {
  if (v === undefined) return undefined;
  const c = Number(v);
  if (!Number.isFinite(c)) throw new DarkroomError('BAD_ARGUMENT', `--setpoint must be a number, got '${v}'`, spec);
  if (spec === 'sim' && (c < MIN_SETPOINT || c > MAX_SETPOINT)) throw new DarkroomError('BAD_ARGUMENT', `set point ${c} C out of range ${MIN_SETPOINT}..${MAX_SETPOINT} C`, spec);
  return c;
}

async function coolTo(cam: Camera, setpoint: number, timeoutS: number): Promise<void> {
  await cam.setSetpoint(setpoint);
  await cam.setCooler(true);
  const t0 = Date.now();
  for (;;) {
    const st = await cam.coolerStatus();
    if (Math.abs(st.ccdTemp - setpoint) <= 0.1) return;
    if (Date.now() - t0 > timeoutS * 1000) {
      throw new DarkroomError('IO', `did not reach ${setpoint} C within ${timeoutS} s (at ${st.ccdTemp.toFixed(2)} C, power ${st.power.toFixed(0)}%)`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

const CAMERA_DEVICE: DeviceCommandOptions = { device: { help: 'sim | indi://HOST:PORT[/DEVICE] | alpaca://HOST:PORT/N' }, json: 'machine-readable output' };

export function registerCamera(program: Command): void {
  const cmd = program.command('camera').description('control a camera: status, set, cool, warm, expose');
  registerStatus(cmd);
  registerSet(cmd);
  registerCool(cmd);
  registerWarm(cmd);
  registerExpose(cmd);
}

function registerStatus(cmd: Command): void {
  deviceCommand(cmd, 'status', 'camera state and cooler', CAMERA_DEVICE).action(async (o: { device: string; json?: boolean }) => {
    await onDevice(o.device, async (d) => {
      const info = await d.camera.sensorInfo();
      const st = await d.camera.coolerStatus();
      const state = await d.camera.state();
      const bin = await d.camera.getBinning();
      const filter = d.wheel ? await d.wheel.position().then(async (p) => (p >= 0 ? (await d.wheel!.names())[p] : 'moving')) : undefined;
      const settings = await vendorSettings(d.camera);
      const out = { device: o.device, name: info.name, width: info.width, height: info.height, binning: bin, state, cooler: st, filter, ...(settings ? settings : {}) };
      if (o.json) process.stdout.write(JSON.stringify(out) + '\n');
      else {
        process.stdout.write(`${info.name}: ${info.width}x${info.height}, bin ${bin.x}x${bin.y}, ${state}\n`);
        process.stdout.write(`cooler ${st.on ? 'on' : 'off'}: CCD ${st.ccdTemp.toFixed(2)} C, set point ${st.setpoint} C, heat sink ${Number.isFinite(st.ambient) ? st.ambient.toFixed(1) + ' C' : 'n/a'}, power ${Number.isFinite(st.power) ? st.power.toFixed(0) + '%' : 'n/a'}${st.poorRegulation ? ' (poor regulation)' : ''}\n`);
        if (filter) process.stdout.write(`filter: ${filter}\n`);
        if (settings) process.stdout.write(settingsText(settings));
      }
    });
  });
}

/** The camera's vendor settings, or undefined for a camera without them. */
async function vendorSettings(cam: Camera): Promise<CameraSettingsState | undefined> {
  if (!cam.settingsState) return undefined;
  return cam.settingsState().catch((e: unknown) => {
    if (isDarkroomError(e) && e.code === 'UNSUPPORTED') return undefined;
    throw e;
  });
}

/** Settings and conditions as `camera status` prints them. */
function settingsText(s: CameraSettingsState): string {
  const lines = describeSettings(s.settings, s.fanOverride);
  lines.push(s.conditions.length ? `conditions: ${s.conditions.map((c) => c.message).join('; ')}` : 'conditions: none');
  return lines.map((l) => `${l}\n`).join('');
}

function registerSet(cmd: Command): void {
  const set = deviceCommand(cmd, 'set', 'change the camera settings (QSI Advanced Setup): fan, gain, shutter, anti-blooming, flush, readout, LED, beeper, pixel mask', CAMERA_DEVICE);
  addOptions(set, CAMERA_SETTINGS_CATALOGUE).action(async (o: Record<string, unknown> & { device: string; json?: boolean }) => {
    const patch = await withDevice(o.device, async () => settingsPatch(parseCli(CAMERA_SETTINGS_CATALOGUE, o) as CameraSettingsInput));
    if (!Object.keys(patch).length) throw new DarkroomError('BAD_ARGUMENT', `camera set: give at least one setting (${CAMERA_SETTINGS_CATALOGUE.map((d) => d.flag.split(' ')[0]).join(', ')})`);
    await onDevice(o.device, async (d) => {
      if (!d.camera.setSettings) throw new DarkroomError('UNSUPPORTED', 'the camera has no QSI-style settings');
      const st = await d.camera.setSettings(patch);
      process.stdout.write(o.json ? JSON.stringify(st) + '\n' : settingsText(st));
    });
  });
}

function registerCool(cmd: Command): void {
  deviceCommand(cmd, 'cool', 'turn the cooler on and wait for the set point', CAMERA_DEVICE)
    .requiredOption('--setpoint <C>', 'set point in C')
    .option('--timeout <s>', 'give up after this many seconds', '600')
    .action(async (o: { device: string; setpoint: string; timeout: string; json?: boolean }) => {
      const sp = parseSetpoint(o.setpoint, o.device)!;
      await onDevice(o.device, async (d) => {
        await coolTo(d.camera, sp, Number(o.timeout));
        const st = await d.camera.coolerStatus();
        process.stdout.write(o.json ? JSON.stringify(st) + '\n' : `cooled to ${st.ccdTemp.toFixed(2)} C (set point ${sp} C, power ${st.power.toFixed(0)}%)\n`);
      });
    });
}

function registerWarm(cmd: Command): void {
  deviceCommand(cmd, 'warm', 'turn the cooler off', CAMERA_DEVICE).action(async (o: { device: string; json?: boolean }) => {
    await onDevice(o.device, async (d) => {
      await d.camera.setCooler(false);
      const st = await d.camera.coolerStatus();
      process.stdout.write(o.json ? JSON.stringify(st) + '\n' : `cooler off (CCD ${st.ccdTemp.toFixed(2)} C)\n`);
    });
  });
}

function registerExpose(cmd: Command): void {
  deviceCommand(cmd, 'expose', 'take one frame and write it as FITS', { ...CAMERA_DEVICE, exposure: { help: 'exposure in seconds', default: '1' } })
    .option('--type <kind>', FRAME_KINDS.join(' | '), 'light')
    .option('--bin <XxY>', 'binning, e.g. 2x2 or 1x2', '1x1')
    .option('--filter <name>', 'filter to move to first')
    .option('--setpoint <C>', 'cool to this set point first')
    .requiredOption('-o, --output <file>', 'output FITS file')
    .action(async (o: ExposeOpts) => {
      await withDevice(o.device, async () => {
        const args = exposeArgs(o);
        await onDevice(o.device, (d) => exposeFrame(d, o, args));
      });
    });
}

interface ExposeOpts {
  device: string;
  type: string;
  exposure: string;
  bin: string;
  filter?: string;
  setpoint?: string;
  output: string;
  json?: boolean;
}

interface ExposeArgs {
  type: FrameKind;
  exposure: number;
  binX: number;
  binY: number;
  setpoint?: number;
}

function exposeArgs(o: ExposeOpts): ExposeArgs {
  if (!isFrameKind(o.type)) throw new DarkroomError('BAD_ARGUMENT', `--type must be one of ${FRAME_KINDS.join(', ')}, got '${o.type}'`);
  const exposure = Number(o.exposure);
  if (!(Number.isFinite(exposure) && exposure >= 0)) throw new DarkroomError('BAD_ARGUMENT', `--exposure must be a number of seconds >= 0, got '${o.exposure}'`);
  const bm = /^(\d)x(\d)$/.exec(o.bin);
  if (!bm) throw new DarkroomError('BAD_ARGUMENT', `--bin must look like 2x2, got '${o.bin}'`);
  return { type: o.type, exposure, binX: Number(bm[1]), binY: Number(bm[2]), setpoint: parseSetpoint(o.setpoint, o.device) };
}

/** Cool and move the wheel when asked, take the frame, write it (16-bit when the pixels allow) and report it. */
async function exposeFrame(d: OpenedDevice, o: ExposeOpts, a: ExposeArgs): Promise<void> {
  const cam = d.camera;
  const sp = a.setpoint;
  if (sp !== undefined) await coolTo(cam, sp, 600);
  if (o.filter) {
    if (!d.wheel) throw new DarkroomError('BAD_ARGUMENT', `--filter ${o.filter}: the device has no filter wheel`);
    await d.wheel.move(o.filter);
  }
  if (await cam.state() !== 'idle') throw new DarkroomError('IO', 'an exposure is already in progress');
  await cam.setBinning(a.binX, a.binY);
  await cam.setSubframe(null);
  await cam.startExposure({ type: a.type, duration: a.exposure });
  const img = await cam.download(120_000);
  const f = img.data[0]!;
  let ints = true;
  for (let i = 0; i < f.length && ints; i++) ints = Number.isInteger(f[i]) && f[i]! >= 0 && f[i]! <= 65535;
  writeFits(o.output, img, {
    bitpix: ints ? 16 : -32,
    history: [`darkroom ${VERSION} camera expose --device ${o.device} --type ${o.type} --exposure ${a.exposure} --bin ${o.bin}${o.filter ? ` --filter ${o.filter}` : ''}${sp !== undefined ? ` --setpoint ${sp}` : ''}`],
  });
  const h = img.header;
  const out = { file: o.output, width: img.width, height: img.height, imagetyp: h.getString('IMAGETYP'), exptime: h.getNumber('EXPTIME'), ccdTemp: h.getNumber('CCD-TEMP'), filter: h.getString('FILTER') };
  process.stdout.write(o.json ? JSON.stringify(out) + '\n' : `${o.output}: ${img.width}x${img.height} ${out.imagetyp} ${a.exposure} s${out.filter ? ` ${out.filter}` : ''}, CCD ${out.ccdTemp} C\n`);
}
