/**
 * Integration of one stack split into row tiles, for many workers: a prep job computes what the
 * whole frame set decides (statistics, normalization, weights: `prepareIntegration`), tile jobs
 * integrate rows y0..y1 of every frame with those parameters (each reads only its rows), and the
 * assembly job puts the tiles together and writes the stack. Every pixel depends only on the
 * shared parameters and its own column of values, so the result is bit-identical to the whole.
 */
import type { IntegrateStep } from '../plan.js';
import { integrateInputs, integrateOptions, writeStack } from '../steps/integrate.js';
import type { StepEnv, StepOutput } from '../steps/env.js';
import {
  closeFrames,
  defaultMemoryBytes,
  finishIntegration,
  openFrames,
  prepareIntegration,
  resolveOptions,
  runEngine,
  type PreparedIntegration,
} from '../../integrate/index.js';
import type { Storage } from './storage.js';
import { DarkroomError } from '../../util/errors.js';

/** JSON that keeps typed arrays and non-finite numbers exactly (doubles round-trip in JSON). */
export function encodeJson(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => {
    if (x instanceof Float64Array) return { $f64: Array.from(x) };
    if (typeof x === 'number' && !Number.isFinite(x)) return { $num: String(x) };
    return x;
  });
}

export function decodeJson<T>(s: string): T {
  return JSON.parse(s, (_k, x: unknown) => {
    if (x && typeof x === 'object' && !Array.isArray(x)) {
      const o = x as Record<string, unknown>;
      if (Array.isArray(o.$f64)) return Float64Array.from(o.$f64 as number[]);
      if (typeof o.$num === 'string') return Number(o.$num);
    }
    return x;
  }) as T;
}

export interface PrepResult {
  key: string;
  width: number;
  height: number;
  channels: number;
  frames: number;
}

export interface TileResult {
  key: string;
  y0: number;
  y1: number;
  frameLow: number[];
  frameHigh: number[];
}

/** Row ranges of the tiles of an image `height` rows high. */
export function tileRanges(height: number, tileRows: number): Array<[number, number]> {
  const r: Array<[number, number]> = [];
  for (let y = 0; y < height; y += tileRows) r.push([y, Math.min(height, y + tileRows)]);
  return r;
}

export function integratePrep(env: StepEnv, s: IntegrateStep, storage: Storage, dir: string): PrepResult {
  const { inputs } = integrateInputs(env, s);
  const o = resolveOptions(integrateOptions(s));
  const { frames, geometry: g } = openFrames(inputs);
  try {
    const prep = prepareIntegration(frames, g, o);
    const key = `${dir}/prep.json`;
    storage.write(key, [Buffer.from(encodeJson({ inputs, prep }))]);
    return { key, width: g.width, height: g.height, channels: g.channels, frames: inputs.length };
  } finally {
    closeFrames(frames);
  }
}

function readPrep(storage: Storage, key: string): { inputs: string[]; prep: PreparedIntegration } {
  return decodeJson(storage.read(key).toString('utf8'));
}

export async function integrateTile(storage: Storage, prepKey: string, y0: number, y1: number, dir: string): Promise<TileResult> {
  const { inputs, prep } = readPrep(storage, prepKey);
  const { frames, geometry: g } = openFrames(inputs);
  try {
    if (!(y0 >= 0 && y1 <= g.height && y0 < y1)) throw new Error(`tile rows ${y0}..${y1} outside 0..${g.height}`);
    const eng = await runEngine({ frames, geometry: g, params: prep.params, workers: 1, memoryBytes: defaultMemoryBytes(), maps: false, rows: [y0, y1] });
    const key = `${dir}/tile-${String(y0).padStart(6, '0')}-${y1}.f32`;
    storage.write(key, eng.planes.map((p) => new Uint8Array(p.buffer, p.byteOffset, p.byteLength)));
    return { key, y0, y1, frameLow: Array.from(eng.frameLow), frameHigh: Array.from(eng.frameHigh) };
  } finally {
    closeFrames(frames);
  }
}

export function integrateAssemble(env: StepEnv, s: IntegrateStep, storage: Storage, prepKey: string, tiles: TileResult[]): StepOutput {
  const { inputs, prep } = readPrep(storage, prepKey);
  const o = resolveOptions(integrateOptions(s));
  const { frames, geometry: g } = openFrames(inputs);
  try {
    const W = g.width;
    const planes: Float32Array[] = [];
    for (let c = 0; c < g.channels; c++) planes.push(new Float32Array(W * g.height));
    const frameLow = new Float64Array(frames.length);
    const frameHigh = new Float64Array(frames.length);
    const sorted = [...tiles].sort((a, b) => a.y0 - b.y0);
    let next = 0;
    for (const t of sorted) {
      if (t.y0 !== next) throw new Error(`tiles do not cover the image: rows ${next}..${t.y0} missing`);
      const npix = (t.y1 - t.y0) * W;
      const buf = storage.read(t.key);
      if (buf.byteLength !== npix * g.channels * 4) throw new DarkroomError('TRUNCATED', `tile has ${buf.byteLength} bytes, expected ${npix * g.channels * 4}`, storage.localPath(t.key));
      const f = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
      for (let c = 0; c < g.channels; c++) planes[c]!.set(f.subarray(c * npix, (c + 1) * npix), t.y0 * W);
      for (let i = 0; i < frames.length; i++) {
        frameLow[i] += t.frameLow[i]!;
        frameHigh[i] += t.frameHigh[i]!;
      }
      next = t.y1;
    }
    if (next !== g.height) throw new Error(`tiles do not cover the image: rows ${next}..${g.height} missing`);
    const rowsPerBand = sorted.length ? sorted[0]!.y1 - sorted[0]!.y0 : g.height;
    const r = finishIntegration(frames, g, o, prep, { planes, rejLow: null, rejHigh: null, frameLow, frameHigh, bands: sorted.length, rowsPerBand }, 1, 0);
    r.history.push(`distributed: ${sorted.length} row tile(s) of ${rowsPerBand} rows integrated by workers`);
    return writeStack(env, s, r);
  } finally {
    closeFrames(frames);
  }
}
