/**
 * Debian's INDI simulators with a sky: an indiserver whose drivers find the GSC stand-in
 * (gsc-stand-in.mjs) as `gsc` on their PATH, so the CCD simulator draws stars where the mount points
 * and blurs them by the focuser's distance from its ideal position; and a helper that sets a number
 * property and waits for the driver's answer.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { IndiClient } from '../../src/devices/indi/client.js';
import { startIndiServer } from '../devices/indiserver.js';

const STAND_IN = fileURLToPath(new URL('./gsc-stand-in.mjs', import.meta.url));

export const CCD = 'CCD Simulator';
export const FOCUSER = 'Focuser Simulator';
export const SCOPE = 'Telescope Simulator';

export interface IndiSky {
  port: number;
  /** A client of the test's own, to set up the simulators. */
  client: IndiClient;
  stop: () => void;
}

/** indiserver with `drivers` and the GSC stand-in; a connected client; every device connected. */
export async function startIndiSky(drivers: string[], devices: string[]): Promise<IndiSky> {
  const bin = mkdtempSync(join(tmpdir(), 'darkroom-gsc-'));
  writeFileSync(join(bin, 'gsc'), `#!/bin/sh\nexec "${process.execPath}" "${STAND_IN}" "$@"\n`, { mode: 0o755 });
  const srv = await startIndiServer(drivers, { env: { PATH: `${bin}:${process.env.PATH ?? ''}` } });
  const client = new IndiClient('127.0.0.1', srv.port);
  const stop = (): void => {
    client.close();
    srv.stop();
    rmSync(bin, { recursive: true, force: true });
  };
  try {
    await client.connect();
    for (const d of devices) await client.connectDevice(d);
  } catch (e) {
    stop();
    throw e;
  }
  return { port: srv.port, client, stop };
}

/** Set elements of a number property and wait until the driver has answered (no longer Busy), Ok. */
export async function setNumbers(client: IndiClient, device: string, name: string, values: Record<string, number>, timeoutMs = 10_000): Promise<void> {
  await client.waitProperty(device, name, timeoutMs);
  client.setNumber(device, name, values);
  await client.waitFor(() => client.property(device, name)!.state !== 'Busy', timeoutMs, `${device}.${name}`);
  if (client.property(device, name)!.state === 'Alert') throw new Error(`${device}.${name} went to Alert`);
}

/**
 * Turn a switch of a one-of-many property on (the others off) and wait for the driver's answer
 * (Busy may be the answer: a tracking mount keeps TELESCOPE_TRACK_STATE Busy).
 */
export async function setSwitchOn(client: IndiClient, device: string, name: string, on: string, timeoutMs = 10_000): Promise<void> {
  const p = await client.waitProperty(device, name, timeoutMs);
  let answered = false;
  const seen = (d: string, n?: string): void => {
    if (d === device && n === name) answered = true;
  };
  client.on('update', seen);
  try {
    client.setSwitch(device, name, Object.fromEntries([...p.elements.keys()].map((k) => [k, k === on])));
    await client.waitFor(() => answered, timeoutMs, `${device}.${name}`);
  } finally {
    client.off('update', seen);
  }
  const st = client.property(device, name)!.state;
  if (!client.switchOn(device, name, on) || st === 'Alert') throw new Error(`${device}.${name}: ${on} is not on (${st})`);
}
