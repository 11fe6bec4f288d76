/**
 * `darkroom serve [--port 8080] [--host H] [--token T] [--root DIR...]`: the web UI and its API.
 * Listens on 127.0.0.1 unless --host is given; with --host a token is required (generated and
 * printed when --token is not given). The API refuses cross-origin requests and any POST that is not
 * `Content-Type: application/json` (src/server/security.ts), e.g.
 * `curl -X POST -H 'Content-Type: application/json' http://127.0.0.1:8080/api/camera/abort`.
 */
import type { Command } from 'commander';
import { DarkroomError } from '../util/errors.js';
import { HttpError } from '../server/errors.js';
import { buildServer, servePolicy } from '../server/app.js';

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('serve the web UI (camera console, viewer, processing) and its HTTP/WebSocket API')
    .option('--port <n>', 'TCP port', '8080')
    .option('--host <addr>', 'address to listen on (default 127.0.0.1; any other requires a token)')
    .option('--token <t>', 'access token for the API (generated when --host is given without one)')
    .option('--root <dir...>', 'folders the UI may read and write (default: the current folder)')
    .option('--sim-speed <x>', 'speed of the simulator clock relative to real time', '60')
    .action(async (o: { port: string; host?: string; token?: string; root?: string[]; simSpeed: string }) => {
      const port = Number(o.port);
      if (!(Number.isInteger(port) && port >= 0 && port < 65536)) throw new DarkroomError('BAD_ARGUMENT', `--port must be 0..65535, got '${o.port}'`);
      const simSpeed = Number(o.simSpeed);
      if (!(simSpeed > 0 && simSpeed <= 10000)) throw new DarkroomError('BAD_ARGUMENT', `--sim-speed must be a number in (0, 10000], got '${o.simSpeed}'`);
      let policy;
      let server;
      try {
        policy = servePolicy({ host: o.host, token: o.token });
        server = await buildServer({ roots: o.root ?? [process.cwd()], host: policy.host, token: policy.token, simSpeed });
      } catch (e) {
        if (e instanceof HttpError) throw new DarkroomError(e.code === 'ENOENT' ? 'ENOENT' : 'BAD_ARGUMENT', e.message);
        throw e;
      }
      const addr = await server.app.listen({ port, host: policy.host }).catch((e: Error) => {
        throw new DarkroomError('IO', `cannot listen on ${policy.host}:${port}: ${e.message}`);
      });
      const url = policy.token ? `${addr}/?token=${policy.token}` : addr;
      process.stdout.write(`darkroom serve: ${url}\n`);
      if (policy.generated) process.stdout.write(`token (generated): ${policy.token}\n`);
      process.stdout.write(`roots: ${server.roots.dirs.join(', ')}\n`);
      await new Promise<void>((resolve) => {
        const stop = (): void => {
          void server.app.close().then(() => resolve());
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    });
}
