// `darkroom sequence --device indi://...` against Debian's indiserver with indi_simulator_ccd and
// indi_simulator_wheel, and the server restarted in the middle of an exposure: the client reconnects
// (with back-off: the server stays away for a while), connects the devices again, puts the cooler set
// point, the filter and the binning back, takes the lost frame again and finishes the plan. Every
// planned frame is there once, each a whole FITS file, and the log tells what happened.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IndiCamera, IndiClient, type IndiLinkEvent } from '../../src/devices/indi/client.js';
import { readFits } from '../../src/fits/index.js';
import { ROOT, fitsverify, useTempDir } from '../helpers/env.js';
import { startIndiServer, type IndiServer } from '../devices/indiserver.js';

const DRIVERS = ['indi_simulator_ccd', 'indi_simulator_wheel'];
const CCD = 'CCD Simulator';
const SETPOINT = -3;
// filters away from the wheel's first slot (where a restarted wheel starts), binned 2x2 (a restarted camera is 1x1)
const GROUPS = [
  { filter: 'Green', exposure: 2, binning: 2, count: 2 },
  { filter: 'Blue', exposure: 2, binning: 2, count: 3 },
];

/** The CLI from source in its own process, its output collected as it comes. */
function startCli(args: string[]): { out: () => string; err: () => string; exited: Promise<number> } {
  const proc = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/run.ts'), ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_OPTIONS: '' } });
  let out = '';
  let err = '';
  proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number>((r) => proc.once('exit', (code) => r(code ?? -1)));
  return { out: () => out, err: () => err, exited };
}

async function until(pred: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const t0 = Date.now();
  while (!pred()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('indiserver restarted during an exposure: the sequence reconnects, restores the rig, takes the frame again and ends with every planned frame', async (t) => {
  const home = mkdtempSync(join(tmpdir(), 'darkroom-indi-home-'));
  const servers: IndiServer[] = [];
  const watcher: IndiClient[] = [];
  t.after(() => {
    for (const c of watcher) c.close();
    for (const s of servers) s.stop();
    rmSync(home, { recursive: true, force: true });
  });
  servers.push(await startIndiServer(DRIVERS, { home }));
  const port = servers[0]!.port;
  const dir = useTempDir(t);
  const out = join(dir, 'frames');
  const plan = join(dir, 'plan.json');
  writeFileSync(plan, JSON.stringify({ object: 'M 31', base: 'm31', order: 'group', cooling: { setpoint: SETPOINT, tolerance: 3.5, stableMinutes: 0, timeoutMinutes: 2 }, groups: GROUPS }));

  const cli = startCli(['sequence', plan, '--device', `indi://127.0.0.1:${port}`, '--out', out]);
  // a client of the test's own sees the camera's CCD_EXPOSURE go Busy: the second frame is being exposed
  const c = new IndiClient('127.0.0.1', port);
  watcher.push(c);
  await c.connect();
  // cooling first, then the frame: minutes on a loaded machine
  await until(() => (cli.out().match(/^saved /gm) ?? []).length >= 1, 240_000, `the first frame (${cli.out()}${cli.err()})`);
  await c.waitFor(() => c.property(CCD, 'CCD_EXPOSURE')?.state === 'Busy', 20_000, 'the second exposure');
  await new Promise((r) => setTimeout(r, 700));
  assert.equal((cli.out().match(/^saved /gm) ?? []).length, 1, 'killed while the second frame was exposing');
  servers[0]!.stop();
  await servers[0]!.exited;
  // away for a while: the first attempts to reconnect are refused
  await new Promise((r) => setTimeout(r, 2000));
  servers.push(await startIndiServer(DRIVERS, { home, port }));

  const code = await cli.exited;
  const log = cli.out();
  assert.equal(code, 0, `${log}\n${cli.err()}`);
  assert.match(log, /warning: lost the connection to the INDI server indi:\/\/127\.0\.0\.1:\d+: reconnecting/);
  const re = /reconnected to the INDI server indi:\/\/127\.0\.0\.1:\d+ after (\d+) attempts .*devices restored/.exec(log);
  assert.ok(re && Number(re[1]) >= 2, `reconnected after back-off: ${log}`);
  assert.match(log, /the 2 s light exposure on 'CCD Simulator' was lost with the connection: taking it again/);

  // every planned frame, once, whole; nothing else in the folder (no temporary or partial file)
  const saved = [...log.matchAll(/^saved (.*)$/gm)].map((m) => m[1]!);
  const planned = GROUPS.flatMap((g) => Array.from({ length: g.count }, () => g));
  assert.equal(saved.length, planned.length, log);
  assert.deepEqual(readdirSync(out).sort(), saved.map((p) => p.slice(out.length + 1)).sort());
  const info = { w: c.num(CCD, 'CCD_INFO', 'CCD_MAX_X'), h: c.num(CCD, 'CCD_INFO', 'CCD_MAX_Y') };
  const temps: number[] = [];
  saved.forEach((path, i) => {
    const img = readFits(path);
    const h = img.header;
    const g = planned[i]!;
    assert.equal(fitsverify(path).errors, 0, path);
    assert.equal(h.getString('FILTER'), g.filter, `${path}: the wheel was turned back to the frame's filter`);
    assert.equal(h.getNumber('XBINNING'), 2, `${path}: binning restored`);
    assert.equal(img.width, info.w / 2, path);
    assert.equal(img.height, info.h / 2, path);
    assert.equal(h.getNumber('EXPTIME'), 2);
    assert.equal(h.getNumber('SET-TEMP'), SETPOINT);
    temps.push(h.getNumber('CCD-TEMP')!);
  });
  // the restarted camera starts at 0 C: with the set point restored it cools again (0.5 C/s in the simulator)
  assert.ok(temps.at(-1)! <= SETPOINT + 1, `CCD-TEMP of the frames: ${temps.join(', ')}`);
  const c2 = new IndiClient('127.0.0.1', port);
  watcher.push(c2);
  await c2.connect();
  await c2.waitFor(() => Math.abs(c2.num(CCD, 'CCD_TEMPERATURE', 'CCD_TEMPERATURE_VALUE') - SETPOINT) < 0.1, 20_000, `the restarted CCD at the set point ${SETPOINT} C`);
});

test('a server that does not come back: the client gives up after its time, the exposure waiting on it fails with one clear error', async (t) => {
  const srv = await startIndiServer(['indi_simulator_ccd']);
  t.after(() => srv.stop());
  const client = new IndiClient('127.0.0.1', srv.port);
  t.after(() => client.close());
  await client.connect();
  client.enableReconnect({ initialDelayMs: 100, maxDelayMs: 400, giveUpMs: 1500 });
  const events: IndiLinkEvent[] = [];
  client.on('link', (e: IndiLinkEvent) => events.push(e));
  const cam = new IndiCamera(client, CCD);
  await cam.connect();
  await cam.startExposure({ type: 'light', duration: 5 });
  const image = cam.download(10_000);
  srv.stop();
  await assert.rejects(image, { code: 'IO', message: /lost the INDI server for good \(could not reconnect\)/ });
  assert.deepEqual(events.map((e) => e.kind), ['lost', 'failed']);
  // back-off 100, 200, 400, 400... ms: a few attempts within the 1.5 s
  assert.ok(events[1]!.attempts! >= 3, `${events[1]!.attempts} attempts`);
  assert.equal(client.up, false);
});
