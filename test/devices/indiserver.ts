import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IndiClient } from '../../src/devices/indi/client.js';
import { closedPort } from './ports.js';

export interface IndiServer {
  port: number;
  stop: () => void;
  /** Resolves when the indiserver process has exited. */
  exited: Promise<void>;
}

/**
 * Debian's indiserver with the given drivers on a free port, with a fresh $HOME (drivers keep their
 * config there) and its own local socket (-u; the default allows one indiserver per machine);
 * `env` adds to the drivers' environment; `port` and `home` start it again where a stopped one was
 * (a server restart: a `home` given is left in place).
 * Resolves once it accepts connections.
 */
export async function startIndiServer(drivers: string[], opts: { env?: Record<string, string>; port?: number; home?: string } = {}): Promise<IndiServer> {
  const port = opts.port ?? (await closedPort());
  const home = opts.home ?? mkdtempSync(join(tmpdir(), 'darkroom-indi-home-'));
  const proc = spawn('indiserver', ['-p', String(port), '-u', `/tmp/darkroom-indiserver-${port}`, ...drivers], { stdio: 'ignore', env: { ...process.env, ...opts.env, HOME: home } });
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  const stop = (): void => {
    proc.kill();
    if (!opts.home) rmSync(home, { recursive: true, force: true });
  };
  for (let i = 0; i < 50; i++) {
    const c = new IndiClient('127.0.0.1', port);
    const ok = await c.connect(500).then(() => true, () => false);
    c.close();
    if (ok) return { port, stop, exited };
    await new Promise((r) => setTimeout(r, 100));
  }
  stop();
  throw new Error('indiserver did not start (install Debian package indi-bin)');
}
