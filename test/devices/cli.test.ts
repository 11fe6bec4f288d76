import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { runCli, fileTempDir, fitsverify } from '../helpers/env.js';
import { startAlpacaSim } from '../helpers/alpaca-sim.js';
import { readFits } from '../../src/fits/index.js';
import { AlpacaCamera } from '../../src/devices/alpaca/client.js';
import { closedPort } from './ports.js';

let proc: ChildProcess;
let port = 0;
const tmp = fileTempDir();
before(async () => {
  // the Alpaca simulator in its own process (runCli blocks this one), 60x simulated time
  ({ proc, port } = await startAlpacaSim(60));
});
after(() => {
  proc.kill('SIGTERM');
});

const REQUIRED = ['IMAGETYP', 'EXPTIME', 'DATE-OBS', 'CCD-TEMP', 'SET-TEMP', 'XBINNING', 'YBINNING', 'FILTER', 'INSTRUME', 'XPIXSZ', 'YPIXSZ', 'GAIN', 'EGAIN'];

test('camera expose --device sim writes a complete, valid FITS', () => {
  const out = join(tmp, 'sim.fits');
  const r = runCli(['camera', 'expose', '--device', 'sim', '--type', 'light', '--exposure', '2', '--bin', '2x2', '--filter', 'Red', '--setpoint', '-10', '-o', out, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const img = readFits(out);
  for (const k of REQUIRED) assert.ok(img.header.has(k), `${k} present`);
  assert.equal(img.header.getString('IMAGETYP'), 'Light Frame');
  assert.equal(img.header.getString('FILTER'), 'Red');
  assert.equal(img.header.getNumber('XBINNING'), 2);
  assert.equal(img.header.getNumber('SET-TEMP'), -10);
  assert.ok(Math.abs(img.header.getNumber('CCD-TEMP')! + 10) <= 0.15);
  assert.match(img.header.getString('DATE-OBS')!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/);
  assert.ok(img.header.history().some((h) => h.includes('camera expose')));
  assert.equal(img.width, 128);
  assert.equal(fitsverify(out).errors, 0);
});

test('camera over Alpaca: cool, status --json, expose, warm', () => {
  const dev = `alpaca://127.0.0.1:${port}/0`;
  let r = runCli(['camera', 'cool', '--device', dev, '--setpoint', '-5', '--timeout', '30']);
  assert.equal(r.code, 0, r.stderr);
  r = runCli(['camera', 'status', '--device', dev, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const st = JSON.parse(r.stdout) as { cooler: { ccdTemp: number; on: boolean }; state: string };
  assert.ok(st.cooler.on && Math.abs(st.cooler.ccdTemp + 5) <= 0.2, r.stdout);
  const out = join(tmp, 'alpaca.fits');
  r = runCli(['camera', 'expose', '--device', dev, '--exposure', '1', '--bin', '2x2', '--filter', 'Luminance', '-o', out]);
  assert.equal(r.code, 0, r.stderr);
  const img = readFits(out);
  for (const k of REQUIRED) assert.ok(img.header.has(k), `${k} present`);
  assert.equal(img.header.getString('FILTER'), 'Luminance');
  assert.equal(fitsverify(out).errors, 0);
  r = runCli(['camera', 'warm', '--device', dev, '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal((JSON.parse(r.stdout) as { on: boolean }).on, false);
});

test('camera errors: one clear line, exit 2', async () => {
  const out = join(tmp, 'x.fits');
  const dead = await closedPort();
  let r = runCli(['camera', 'status', '--device', `alpaca://127.0.0.1:${dead}/0`]);
  assert.equal(r.code, 2);
  assert.equal(r.stderr.trim(), `darkroom: alpaca://127.0.0.1:${dead}/camera/0: cannot reach Alpaca server at 127.0.0.1:${dead} (connection refused)`);
  r = runCli(['camera', 'status', '--device', `indi://127.0.0.1:${dead}`]);
  assert.equal(r.code, 2);
  assert.match(r.stderr.trim(), new RegExp(`^darkroom: indi://127\\.0\\.0\\.1:${dead}: cannot reach INDI server at 127\\.0\\.0\\.1:${dead} \\(connection refused\\)$`));
  r = runCli(['camera', 'status', '--device', `alpaca://127.0.0.1:${port}/3`]);
  assert.equal(r.code, 2);
  assert.match(r.stderr.trim(), /^darkroom: alpaca:\/\/127\.0\.0\.1:\d+\/camera\/3: device not found on the server \(no camera device number 3\)$/);
  r = runCli(['camera', 'cool', '--device', 'sim', '--setpoint', '-45']);
  assert.equal(r.code, 2);
  assert.equal(r.stderr.trim(), 'darkroom: sim: set point -45 C out of range -40..50 C');
  r = runCli(['camera', 'cool', '--device', `alpaca://127.0.0.1:${port}/0`, '--setpoint', '-45']);
  assert.equal(r.code, 2);
  assert.match(r.stderr.trim(), /^darkroom: alpaca:\/\/.*: setccdtemperature: set point -45 C out of range -40\.\.50 C \(Alpaca error 0x401\)$/);
  r = runCli(['camera', 'expose', '--device', 'bogus', '-o', out]);
  assert.equal(r.code, 2);
  assert.match(r.stderr.trim(), /^darkroom: (bogus: )?unknown device 'bogus'/);
  // exposure while another runs: start a long one from here, then ask the CLI for another
  const cam = new AlpacaCamera({ host: '127.0.0.1', port, number: 0 });
  await cam.connect();
  await cam.startExposure({ type: 'dark', duration: 3600 });
  r = runCli(['camera', 'expose', '--device', `alpaca://127.0.0.1:${port}/0`, '--exposure', '1', '-o', out]);
  // this process was blocked while the CLI ran: a GET first (the client sends it again should the
  // server have dropped the idle kept-alive connection meanwhile), so the PUT goes on a live one
  assert.equal(await cam.state(), 'exposing', 'the refused exposure left the running one alone');
  await cam.abortExposure();
  assert.equal(r.code, 2);
  assert.match(r.stderr.trim(), /^darkroom: alpaca:\/\/127\.0\.0\.1:\d+\/.*: an exposure is already in progress/);
  assert.equal(r.stderr.trim().split('\n').length, 1);
});

test('sequence over Alpaca: the plan runs on a networked camera and writes valid frames', () => {
  const plan = join(tmp, 'seq.json');
  writeFileSync(plan, JSON.stringify({ object: 'Test', base: 'T', groups: [{ type: 'bias', exposure: 0, count: 2, suffix: 'B' }, { type: 'dark', exposure: 1, count: 1, suffix: 'D' }] }));
  const out = join(tmp, 'seq');
  const r = runCli(['sequence', plan, '--device', `alpaca://127.0.0.1:${port}/0`, '--out', out, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout) as { saved: string[] };
  assert.deepEqual(j.saved.map((p) => p.slice(out.length + 1)), ['T-001-B0.fit', 'T-002-D1.fit', 'T-003-B0.fit']);
  for (const p of j.saved) assert.equal(fitsverify(p).errors, 0);
  assert.equal(readFits(j.saved[1]!).header.getNumber('EXPTIME'), 1);
});
