import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, tempDir, fitsverify } from '../helpers/env.js';
import { readFits } from '../../src/fits/index.js';
import { noiseMRS } from '../../src/image/noise.js';

test('darkroom demo simulates a small LRGB night and processes it end to end', { timeout: 300_000 }, () => {
  const { dir, cleanup } = tempDir();
  try {
    const out = join(dir, 'demo');
    const r = runCli(['demo', '--out', out, '--size', '256x200', '--lights', '4', '--seed', '11']);
    assert.equal(r.code, 0, r.stderr.slice(-3000));
    assert.match(r.stdout, /demo finished/);
    const report = JSON.parse(readFileSync(join(out, 'results', 'report.json'), 'utf8')) as {
      version: number;
      stacks: Array<{ path: string; filter: string; frames: number }>;
      masters: Array<{ kind: string }>;
    };
    assert.equal(report.version, 1);
    assert.deepEqual(report.stacks.map((s) => s.filter).sort(), ['B', 'G', 'L', 'R']);
    for (const s of report.stacks) assert.equal(s.frames, 4, `${s.path} frames`);
    const kinds = report.masters.map((m) => m.kind).sort();
    for (const k of ['bias', 'dark', 'flat']) assert.ok(kinds.includes(k), `a master ${k} (${kinds.join(', ')})`);
    assert.ok(existsSync(join(out, 'results', 'report.html')));

    // Stacking 4 frames lowers the background noise of one calibrated frame by about 2x.
    const lStack = readFits(join(out, 'results', report.stacks.find((s) => s.filter === 'L')!.path));
    const lRaw = readFits(join(out, 'night', 'lights', 'L', 'NGC7000_L_120s_001.fit'));
    const nStack = noiseMRS(lStack.data[0]!, lStack.width, lStack.height).sigma;
    const nRaw = noiseMRS(lRaw.data[0]!, lRaw.width, lRaw.height).sigma;
    assert.ok(nStack < nRaw * 0.7, `stack noise ${nStack} vs one frame ${nRaw}`);

    // The colour picture: 3 planes, passes fitsverify, and its stars have colours (R/B differs between stars).
    const colourPath = join(out, 'results', 'stacks', 'NGC_7000_LRGB.fits');
    const v = fitsverify(colourPath);
    assert.equal(v.errors + v.warnings, 0, v.text);
    const c = readFits(colourPath);
    assert.equal(c.channels, 3);
    const ratios: number[] = [];
    const [R, , B] = c.data as [Float32Array, Float32Array, Float32Array];
    for (let i = 0; i < R.length; i++) {
      if (R[i]! + B[i]! > 2000 && R[i]! < 20000 && B[i]! < 20000) ratios.push(R[i]! / B[i]!);
    }
    ratios.sort((a, b) => a - b);
    assert.ok(ratios.length > 20, `bright star pixels: ${ratios.length}`);
    const lo = ratios[Math.floor(ratios.length * 0.1)]!;
    const hi = ratios[Math.floor(ratios.length * 0.9)]!;
    assert.ok(hi / lo > 1.5, `star colours R/B spread ${lo.toFixed(2)}..${hi.toFixed(2)}`);
    assert.ok(existsSync(join(out, 'results', 'previews', 'NGC_7000_LRGB.png')));

    const bad = runCli(['demo', '--out', out, '--size', '10x10']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--size must be between/);
  } finally {
    cleanup();
  }
});
