// `darkroom run` plate solves each stack (real solve-field, hints from the header) and writes the
// reference's TAN WCS into it; report.json has `wcs`. The night crosses the meridian: lights rendered from
// the catalogue sky on both sides of the pier (the field turned by 180 degrees after the flip, PIERSIDE
// EAST then WEST) give ONE stack with every frame registered together. Checked against the simulator's
// ground truth of the reference frame; --no-solve leaves the stack without a WCS.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { readFits, readFitsHeader } from '../../src/fits/index.js';
import { readStampFile } from '../../src/pipeline/stamps.js';
import { separationDeg } from '../../src/session/coords.js';
import { fileTempDir, runCli } from '../helpers/env.js';
import { skyFrame, type SkyFrame } from '../helpers/sky.js';

const dir = fileTempDir();
const M42 = { ra: 83.8221, dec: -5.3911 };
const sha = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');
const angle = (a: number) => ((((a + 180) % 360) + 360) % 360) - 180;

interface Report {
  stacks: { path: string; frames: number; rejected_frames: unknown[]; reference?: string; wcs?: { ra: number; dec: number; scale: number; rotation: number } | { reason: string } }[];
}

async function night(): Promise<{ dir: string; frames: Map<string, SkyFrame> }> {
  const n = join(dir, 'night');
  mkdirSync(n, { recursive: true });
  const frames = new Map<string, SkyFrame>();
  // 3 lights before the flip (rotation 20), 3 after (200): dithered by up to half an arcminute
  for (let i = 0; i < 6; i++) {
    const side = i < 3 ? 'EAST' : 'WEST';
    const d = ((i * 37) % 7) - 3;
    const ra = M42.ra + (d * 8) / 3600;
    const dec = M42.dec + (((i * 53) % 5) - 2) * (10 / 3600);
    const name = `Light_M42_Luminance_5s_00${i + 1}.fits`;
    const f = await skyFrame(join(n, name), {
      ra, dec, rotation: i < 3 ? 20 : 200, focalLength: 111, exposure: 5, seed: 100 + i,
      header: { OBJECT: 'M42', FILTER: 'Luminance', IMAGETYP: 'Light Frame', PIERSIDE: side, OBJCTRA: '05 35 17', OBJCTDEC: '-05 23 28' },
    });
    frames.set(name, f);
  }
  return { dir: n, frames };
}

test('darkroom run: one stack across the meridian flip, its WCS solved and written; --no-solve', async () => {
  const { dir: n, frames } = await night();
  const before = readdirSync(n).map((f) => sha(join(n, f)));
  const out = join(dir, 'out');
  const r = runCli(['run', n, '--out', out, '--json', '--keep-intermediates']);
  assert.equal(r.code, 0, r.stderr.slice(-3000));
  const rep = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as Report;
  assert.equal(rep.stacks.length, 1, 'one stack for both pier sides');
  const st = rep.stacks[0]!;
  assert.equal(st.frames, 6, `every frame registered and integrated: ${JSON.stringify(st.rejected_frames)}`);
  assert.deepEqual(st.rejected_frames, []);
  // (the register step's stamp, kept with the intermediates) the frames of the other side of the pier registered turned by 180 degrees, those of the reference's side not turned
  const reg = (JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as { steps: { id: string }[] }).steps.find((x) => x.id.startsWith('register:'));
  const shifts = (readStampFile(out, reg!.id)!.info.frames as { path: string; shift: { rotation: number } }[]).map((f) => [basename(f.path), f.shift.rotation] as const);
  assert.equal(shifts.length, 6);
  const refSide = readFitsHeader(join(n, basename(st.reference ?? ''))).header.getString('PIERSIDE');
  for (const [name, rot] of shifts) {
    const turned = readFitsHeader(join(n, name)).header.getString('PIERSIDE') !== refSide;
    assert.ok(Math.abs(angle(rot - (turned ? 180 : 0))) < 0.2, `${name}: rotation ${rot} (turned ${turned})`);
  }
  // the WCS is the reference frame's: its simulated pointing, scale and rotation
  const ref = frames.get(basename(st.reference ?? ''));
  assert.ok(ref, `reference ${st.reference}`);
  const w = st.wcs;
  assert.ok(w && 'ra' in w, JSON.stringify(w));
  const off = separationDeg(w.ra, w.dec, ref.ra, ref.dec) * 3600;
  assert.ok(off <= 2, `centre ${off.toFixed(2)}" from the reference's pointing`);
  assert.ok(Math.abs(w.scale / ref.scale - 1) < 0.005, `scale ${w.scale} vs ${ref.scale}`);
  assert.ok(Math.abs(angle(w.rotation - ref.rotation)) < 0.2, `rotation ${w.rotation} vs ${ref.rotation}`);
  // written into the stack (and the pixels untouched by it); the night's files are not modified
  const stack = readFits(join(out, st.path));
  assert.equal(stack.header.getString('CTYPE1'), 'RA---TAN');
  assert.ok(Math.abs((stack.header.getNumber('CRVAL2') ?? 99) - ref.dec) < 0.05);
  assert.ok(stack.header.history().some((l) => /plate solved by astrometry.net/.test(l)));
  assert.deepEqual(readdirSync(n).map((f) => sha(join(n, f))), before);
  // a second run reuses the stack (the WCS was written before the step's stamp)
  const again = runCli(['run', n, '--out', out, '--json', '--keep-intermediates']);
  assert.equal(again.code, 0, again.stderr.slice(-2000));
  const steps = (JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as { steps: { id: string; status: string }[] }).steps;
  assert.deepEqual(steps.filter((x) => x.id.startsWith('integrate:')).map((x) => x.status), ['reused']);
  const off2 = join(dir, 'out-nosolve');
  const ns = runCli(['run', n, '--out', off2, '--json', '--no-solve']);
  assert.equal(ns.code, 0, ns.stderr.slice(-2000));
  const rep2 = JSON.parse(readFileSync(join(off2, 'report.json'), 'utf8')) as Report;
  assert.equal(rep2.stacks[0]!.wcs, undefined);
  assert.equal(readFitsHeader(join(off2, rep2.stacks[0]!.path)).header.getString('CTYPE1'), undefined);
});
