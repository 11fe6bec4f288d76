/**
 * `darkroom alpaca-sim --port 11111 [--host 127.0.0.1]`: serve the simulated rig over ASCOM Alpaca until
 * interrupted: the QSI camera (camera/0), its filter wheel (filterwheel/0), a focuser whose position
 * blurs the camera's stars (focuser/0, best focus at its start position) and a telescope that takes
 * guide pulses (telescope/0): a simulated mount whose pointing moves the camera's stars, tracking
 * perfectly unless `--drift RA,DEC` (arcsec per simulated second) makes it drift. The camera keeps its
 * settings (fan, gain, pixel mask...) in a file as `--device sim` does: `--settings FILE`, else
 * $DARKROOM_SIM_SETTINGS, else ~/.config/darkroom/sim-camera.json; so a client's `camera set` survives a
 * restart. `--focus-offsets Red=12,Green=-30` gives the wheel's per-filter focus offsets (FocusOffsets).
 * The telescope is also a goto mount (SlewToCoordinatesAsync, SyncToCoordinates, SideOfPier, Park: the
 * simulated mount's pointing model, `--pointing-error` arcmin, at `--site LAT,LONG`); with `--sky` the
 * camera (a 1536x1024 KAF-8300 window behind 530 mm) renders the catalogue stars where the mount really
 * points, so that centering solves for real. safetymonitor/0 says unsafe during `--unsafe FROM-TO`
 * windows (simulated minutes after the start), or as its Action SetSafe True|False says.
 * `--download-rate MBPS` sends each image that slowly (a slow link: a client's download progress).
 */
import type { Command } from 'commander';
import { DarkroomError } from '../util/errors.js';
import { deviceCommand, numberArg } from './device-options.js';
import { AlpacaServer } from '../devices/alpaca/server.js';
import { simulatedRig } from '../devices/sim/rig.js';
import { simSettingsPath } from '../devices/sim/qsi.js';
import { QSI_FILTERS } from '../devices/sim/wheel.js';
import { SimSafetyMonitor } from '../devices/sim/safety.js';
import { sensorModel } from '../devices/sim/sensors.js';
import { skyStars } from '../devices/sim/stars.js';
import type { SimMount } from '../devices/sim/simmount.js';
import type { SimCameraOptions } from '../devices/sim/simcamera.js';
import { SIM_FOCAL_LENGTH, parseUnsafe } from './sequence-sim.js';
import { addOptions, parseCli } from '../util/options.js';
import { ALPACA_SIM_CATALOGUE, type AlpacaSimOptions } from '../devices/alpaca/sim-options.js';

export function registerAlpacaSim(program: Command): void {
  const cmd = deviceCommand(program, 'alpaca-sim', 'run an ASCOM Alpaca server with the simulated camera, filter wheel, focuser (it blurs the camera\'s stars) and telescope (guide pulses)', {
    speed: { help: 'simulated time runs this many times faster (cooling, exposures)', default: '1' },
  })
    .option('--port <n>', 'HTTP port (0 = any free port)', '11111')
    .option('--host <addr>', 'address to bind', '127.0.0.1')
    .option('--discovery-port <n>', 'UDP discovery port (0 = any; "off" to disable)', '32227')
    .option('--drift <ra,dec>', 'drift of the simulated mount along RA and Dec, arcsec per (simulated) second; guide pulses correct it', '0,0')
    .option('--settings <file>', 'JSON file the camera keeps its settings in (default: $DARKROOM_SIM_SETTINGS, else ~/.config/darkroom/sim-camera.json, as --device sim)')
    .option('--sky', 'the camera renders the catalogue sky where the goto mount points (a 1536x1024 KAF-8300 window behind 530 mm), for centering')
    .option('--pointing-error <arcmin>', "size of the goto mount's pointing model error, arcmin", '3')
    .option('--site <lat,long>', 'site latitude and east longitude of the mount, degrees (hour angle, pier side)', '50,0')
    .option('--no-goto', 'telescope/0 is a guide port only (no slews, syncs, pier side or park)')
    .option('--unsafe <windows>', 'safetymonitor/0 says unsafe FROM-TO simulated minutes after the start (e.g. 20-50,90-100)')
    .option('--focus-offsets <list>', `the filter wheel's focus offsets, focuser steps per filter: NAME=STEPS,... (filters ${QSI_FILTERS.join(', ')}; unlisted 0)`);
  addOptions(cmd, ALPACA_SIM_CATALOGUE)
    .action(async (o: { port: string; host: string; discoveryPort: string; speed: string; drift: string; settings?: string; focusOffsets?: string; sky?: boolean; goto: boolean; pointingError: string; site: string; unsafe?: string }) => {
      const port = numberArg('port', o.port, (n) => Number.isInteger(n) && n >= 0 && n < 65536, '0..65535');
      const speed = numberArg('speed', o.speed, (n) => n >= 1, '>= 1');
      const dp = o.discoveryPort === 'off' ? null : Number(o.discoveryPort);
      const [driftRa, driftDec] = driftArg(o.drift);
      const focusOffsets = o.focusOffsets === undefined ? undefined : focusOffsetsArg(o.focusOffsets);
      const settingsFile = o.settings ?? simSettingsPath();
      const pointingError = numberArg('pointing-error', o.pointingError, (n) => n >= 0 && n <= 600, '0..600 arcmin');
      const [siteLat, siteLong] = siteArg(o.site);
      const { downloadRate } = parseCli(ALPACA_SIM_CATALOGUE, o) as AlpacaSimOptions;
      let mount: SimMount | undefined;
      const rig = simulatedRig({ speed, mount: { driftRa, driftDec, pointingError, siteLat, siteLong }, settingsFile, focusOffsets, ...(o.sky ? skyCamera(() => mount!) : {}) });
      mount = rig.mount;
      const safety = new SimSafetyMonitor(rig.clock, parseUnsafe(o.unsafe, rig.clock.now()));
      const server = new AlpacaServer({ ...rig, gotoMount: o.goto ? rig.mount : undefined, safety, names: { ...rig.names, ...(o.goto ? { telescope: 'Telescope (simulated goto mount)' } : {}), safety: 'Safety monitor (simulated)' }, discoveryPort: dp, downloadRate: downloadRate && downloadRate * 1e6 });
      try {
        await server.start(port, o.host);
      } catch (e) {
        throw new DarkroomError('IO', `cannot listen on ${o.host}:${port} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
      }
      process.stdout.write(`Alpaca simulator listening on http://${o.host}:${server.port}${dp === null ? '' : ` (discovery udp ${server.discoveryPort})`}\n`);
      await new Promise<void>((resolve) => {
        const stop = (): void => {
          void server.close().then(resolve);
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    });
}

/** The camera of `--sky`: a KAF-8300 window rendering the catalogue stars where the mount really points (turned by 180 degrees after a flip). */
function skyCamera(mount: () => SimMount): Pick<SimCameraOptions, 'sensor' | 'skyStars'> {
  const sensor = sensorModel('kaf8300', { width: 1536, height: 1024 });
  const view = { focalLength: SIM_FOCAL_LENGTH, pixelSize: sensor.pixelSize, width: sensor.width, height: sensor.height };
  return { sensor, skyStars: () => skyStars({ ...mount().truePointing(), rotation: mount().side === 'east' ? 180 : 0, ...view }) };
}

/** `--site LAT,LONG`: degrees, latitude -90..90, east longitude -180..360. */
function siteArg(text: string): [number, number] {
  const v = text.split(',').map((t) => (t.trim() === '' ? NaN : Number(t)));
  if (v.length !== 2 || !(Math.abs(v[0]!) <= 90) || !(v[1]! >= -180 && v[1]! <= 360)) throw new DarkroomError('BAD_ARGUMENT', `--site must be LAT,LONG in degrees (latitude -90..90, east longitude -180..360), got '${text}'`);
  return [v[0]!, v[1]!];
}

/** `--drift RA,DEC`: two numbers, arcsec/s, each within +-60. */
function driftArg(text: string): [number, number] {
  const parts = text.split(',');
  const v = parts.map((t) => (t.trim() === '' ? NaN : Number(t)));
  if (v.length !== 2 || !v.every((n) => Number.isFinite(n) && Math.abs(n) <= 60)) {
    throw new DarkroomError('BAD_ARGUMENT', `--drift must be RA,DEC in arcsec/s (each -60..60), got '${text}'`);
  }
  return [v[0]!, v[1]!];
}

/** `--focus-offsets Red=12,Green=-30`: integer focuser steps per filter of the wheel (any casing; each at most once). */
export function focusOffsetsArg(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  const bad = (why: string): never => {
    throw new DarkroomError('BAD_ARGUMENT', `--focus-offsets: ${why} (e.g. Red=12,Green=-30)`);
  };
  for (const item of text.split(',')) {
    const m = /^\s*([^=\s]+)\s*=\s*([+-]?\d+)\s*$/.exec(item);
    if (!m) bad(`'${item.trim()}' is not NAME=STEPS`);
    const name = QSI_FILTERS.find((f) => f.toLowerCase() === m![1]!.toLowerCase()) ?? bad(`no filter named '${m![1]}' (have: ${QSI_FILTERS.join(', ')})`);
    const steps = Number(m![2]);
    if (Math.abs(steps) > 100_000) bad(`${name}: ${steps} steps is beyond +-100000`);
    if (name in out) bad(`${name} is given twice`);
    out[name] = steps;
  }
  return out;
}
