/**
 * Quality test nights (issue 15): a small simulated night is run through `darkroom run` and its stack
 * measured against the simulator's truth with src/analyze/quality.ts (nb4, large, blk, outliers,
 * HFD, phot). The bench (bench/quality.ts) runs the same measurement on bigger nights, against Siril.
 */
import assert from 'node:assert/strict';
import { readFileSync, renameSync } from 'node:fs';
import { basename, join } from 'node:path';
import { runCli } from '../helpers/env.js';
import { sensorModel, sessionNoise, simulateSession, type SensorModel, type SessionSpec } from '../../src/devices/sim/index.js';
import { readFits } from '../../src/fits/index.js';
import { stackQuality, type QualityMetrics } from '../../src/analyze/quality.js';

export const W = 512;
export const H = 384;

const COMMON: SessionSpec = { lights: 8, darks: 6, bias: 6, flats: 6, dither: 6, seed: 21, starCount: Math.round((W * H) / 700) };

/** The nights of the quality tests, as in the bench. */
export const NIGHTS: Record<string, { sensor: SensorModel; spec: SessionSpec }> = {
  ccd: { sensor: sensorModel('kaf8300', { width: W, height: H }), spec: { ...COMMON, lightExposure: 120, sky: 2 } },
  'cmos-flip': { sensor: sensorModel('cmos', { width: W, height: H }), spec: { ...COMMON, lightExposure: 60, sky: 3, meridianFlip: 4 } },
  osc: { sensor: { ...sensorModel('cmos', { width: W, height: H }), bayer: 'RGGB', colorResponse: [0.75, 1, 0.85] }, spec: { ...COMMON, lightExposure: 60, sky: 3 } },
  'no-bias': {
    sensor: sensorModel('kaf1603', { width: W, height: H, biasLevel: 1000, vignetting: 0.15 }),
    spec: { ...COMMON, bias: 0, lightExposure: 60, darkExposure: 1, flatExposure: 1, sky: 6, ccdTemp: -31 },
  },
};

/** Simulate the night (truth moved beside it), `darkroom run` it, measure the stack against the truth of its first light. */
export function runNight(dir: string, name: keyof typeof NIGHTS & string): { metrics: QualityMetrics; report: { stacks: { path: string }[]; masters?: unknown } } {
  const { sensor, spec } = NIGHTS[name]!;
  const night = join(dir, 'night');
  const ses = simulateSession(night, { ...spec, sensor });
  renameSync(join(night, 'truth'), join(dir, 'truth'));
  const r = runCli(['run', night, '--out', join(dir, 'out'), '--json']);
  assert.equal(r.code, 0, r.stderr.slice(-3000));
  const report = JSON.parse(readFileSync(join(dir, 'out', 'report.json'), 'utf8')) as { stacks: { path: string }[] };
  assert.equal(report.stacks.length, 1);
  const stack = readFits(join(dir, 'out', report.stacks[0]!.path));
  const truth = readFits(join(dir, 'truth', basename(ses.truthSignals[0]!)));
  const q = stackQuality(stack.data, stack.width, stack.height, truth.data[0]!, truth.width, truth.height, { ...sessionNoise(ses, spec), photSnr: 200 });
  return { metrics: q.mean, report };
}

/** Each metric at most its bound (the measured value plus a margin that catches a regression). */
export function assertWithin(m: QualityMetrics, bounds: Partial<Record<keyof QualityMetrics, number>>, label: string): void {
  for (const [k, b] of Object.entries(bounds)) {
    const v = m[k as keyof QualityMetrics];
    assert.ok(Number.isFinite(v) && v <= b!, `${label}: ${k} ${v} above ${b} (${JSON.stringify(m)})`);
  }
}
