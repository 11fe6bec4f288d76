/**
 * `darkroom alpaca-sim --port 11111 [--host 127.0.0.1]`: serve the simulated rig over ASCOM Alpaca until
 * interrupted: the QSI camera (camera/0), its filter wheel (filterwheel/0), a focuser whose position
 * blurs the camera's stars (focuser/0, best focus at its start position) and a telescope that takes
 * guide pulses (telescope/0).
 */
import type { Command } from 'commander';
import { DarkroomError } from '../util/errors.js';
import { deviceCommand, numberArg } from './device-options.js';
import { AlpacaServer } from '../devices/alpaca/server.js';
import { simulatedRig } from '../devices/sim/rig.js';

export function registerAlpacaSim(program: Command): void {
  deviceCommand(program, 'alpaca-sim', 'run an ASCOM Alpaca server with the simulated camera, filter wheel, focuser (it blurs the camera\'s stars) and telescope (guide pulses)', {
    speed: { help: 'simulated time runs this many times faster (cooling, exposures)', default: '1' },
  })
    .option('--port <n>', 'HTTP port (0 = any free port)', '11111')
    .option('--host <addr>', 'address to bind', '127.0.0.1')
    .option('--discovery-port <n>', 'UDP discovery port (0 = any; "off" to disable)', '32227')
    .action(async (o: { port: string; host: string; discoveryPort: string; speed: string }) => {
      const port = numberArg('port', o.port, (n) => Number.isInteger(n) && n >= 0 && n < 65536, '0..65535');
      const speed = numberArg('speed', o.speed, (n) => n >= 1, '>= 1');
      const dp = o.discoveryPort === 'off' ? null : Number(o.discoveryPort);
      const server = new AlpacaServer({ ...simulatedRig({ speed }), discoveryPort: dp });
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
