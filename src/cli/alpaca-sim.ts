/**
 * `darkroom alpaca-sim --port 11111 [--host 127.0.0.1]`: serve the simulated QSI camera, its filter
 * wheel and a guide port over ASCOM Alpaca until interrupted.
 */
import type { Command } from 'commander';
import { DarkroomError } from '../util/errors.js';
import { AlpacaServer } from '../devices/alpaca/server.js';
import { SimCamera } from '../devices/simcamera.js';
import { AcceleratedClock } from '../devices/types.js';

export function registerAlpacaSim(program: Command): void {
  program
    .command('alpaca-sim')
    .description('run an ASCOM Alpaca server with the simulated camera, filter wheel and guide port')
    .option('--port <n>', 'HTTP port (0 = any free port)', '11111')
    .option('--host <addr>', 'address to bind', '127.0.0.1')
    .option('--discovery-port <n>', 'UDP discovery port (0 = any; "off" to disable)', '32227')
    .option('--speed <x>', 'simulated time runs this many times faster (cooling, exposures)', '1')
    .action(async (o: { port: string; host: string; discoveryPort: string; speed: string }) => {
      const port = Number(o.port);
      if (!(Number.isInteger(port) && port >= 0 && port < 65536)) throw new DarkroomError('BAD_ARGUMENT', `--port must be 0..65535, got '${o.port}'`);
      const speed = Number(o.speed);
      if (!(speed >= 1)) throw new DarkroomError('BAD_ARGUMENT', `--speed must be >= 1, got '${o.speed}'`);
      const dp = o.discoveryPort === 'off' ? null : Number(o.discoveryPort);
      const server = new AlpacaServer({ camera: new SimCamera({ clock: new AcceleratedClock(speed) }), discoveryPort: dp });
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
