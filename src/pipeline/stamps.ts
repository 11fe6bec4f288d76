/**
 * Step stamps and reuse. A step's hash covers its kind, params and the fingerprints of its inputs
 * (a produced input is fingerprinted by the hash of the step producing it: a Merkle chain). When a
 * step finishes, OUT/.darkroom/steps/<step>.json records its hash, a new run id, the size and
 * sha256 of each output and the run ids of the upstream steps it was built on. A step is reused
 * when its hash is unchanged, its outputs are intact and it was built on the current runs of its
 * upstream steps (a redone master redoes its stack); --force reuses nothing.
 */
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../util/atomic.js';
import { VERSION } from '../version.js';
import { fileDigest, recordFiles, saveManifest, type Manifest } from './manifest.js';
import type { Plan, PlanStep } from './plan.js';
import type { StepEnv, StepOutput } from './steps/env.js';
import { isIntermediate } from './steps/index.js';

export interface Stamp extends StepOutput {
  hash: string;
  /** A new id each time the step runs: the steps built on it record it, so redoing it redoes them. */
  id?: string;
  /** Size, sha256 and mtime of each produced file: checked before the step is reused. */
  files?: Record<string, { size: number; sha256: string; mtimeMs?: number }>;
  /** Stamp ids of every step upstream (transitively) when this step ran. */
  upstream?: Record<string, string>;
  seconds: number;
}

export const stampName = (id: string): string => `${id.replace(/[^A-Za-z0-9._-]+/g, '_')}.json`;
export const stampPath = (out: string, id: string): string => join(out, '.darkroom', 'steps', stampName(id));

/** Read the stamp of a finished step from OUT/.darkroom/steps (what a remote worker sees). */
export function readStampFile(out: string, id: string): Stamp | undefined {
  const p = stampPath(out, id);
  if (!existsSync(p)) return undefined;
  try {
    return JSON.parse(readFileSync(p, 'utf8')) as Stamp;
  } catch {
    return undefined;
  }
}

const sha1 = (s: string): string => createHash('sha1').update(s).digest('hex');
const fileHash = (path: string): string => createHash('sha1').update(readFileSync(path)).digest('hex');

/** Merkle hashes of the plan's steps (memoized). */
export function makeHashOf(plan: Plan, producer: Map<string, PlanStep>): (s: PlanStep) => string {
  const hashes = new Map<string, string>();
  const hashOf = (s: PlanStep): string => {
    const known = hashes.get(s.id);
    if (known) return known;
    const fp = s.inputs.map((p) => {
      const prod = producer.get(p);
      if (prod) return `${p}@${hashOf(prod)}`;
      return `${p}#${plan.fingerprints[p] ?? (existsSync(p) ? fileHash(p) : 'missing')}`;
    });
    const h = sha1(JSON.stringify({ v: VERSION, kind: s.kind, params: s.params, inputs: fp, outputs: s.outputs }));
    hashes.set(s.id, h);
    return h;
  };
  return hashOf;
}

/** Every step upstream of a step (its dependencies, theirs, ...), memoized. */
export function upstreamIds(env: StepEnv): (id: string) => string[] {
  const memo = new Map<string, string[]>();
  const get = (id: string): string[] => {
    let r = memo.get(id);
    if (!r) {
      const set = new Set<string>();
      for (const d of env.steps.get(id)?.deps ?? []) {
        set.add(d);
        for (const x of get(d)) set.add(x);
      }
      r = [...set];
      memo.set(id, r);
    }
    return r;
  };
  return get;
}

/**
 * Every produced file of a stamp is there with the size and sha256 recorded when it was written.
 * `quick` (intermediates, which can be thousands of frames): an unchanged size and mtime is trusted
 * without hashing; final outputs are always hashed.
 */
export function outputsIntact(out: string, st: Stamp, quick: boolean): boolean {
  return st.produced.every((p) => {
    const f = st.files?.[p];
    const path = join(out, p);
    if (!f || !existsSync(path)) return false;
    const stat = statSync(path);
    if (stat.size !== f.size) return false;
    if (quick && stat.mtimeMs === f.mtimeMs) return true;
    return fileDigest(path).sha256 === f.sha256;
  });
}

/** The reuse decision of each step (memoized): its stamp when it can be reused, else undefined. */
export function makeFresh(env: StepEnv, results: Map<string, Stamp>, hashOf: (s: PlanStep) => string, force: boolean): (s: PlanStep) => Stamp | undefined {
  const out = env.plan.out;
  const memo = new Map<string, Stamp | null>();
  const up = upstreamIds(env);
  const check = (s: PlanStep): Stamp | undefined => {
    const st = readStampFile(out, s.id);
    if (!st || st.hash !== hashOf(s) || !st.id || !st.upstream || !outputsIntact(out, st, isIntermediate(s))) return undefined;
    for (const d of up(s.id)) {
      // A dependency without a stamp (a removed intermediate) is covered by the hash chain.
      const cur = results.get(d) ?? (readStampFile(out, d) ? (fresh(env.steps.get(d)!) ?? null) : undefined);
      if (cur === null || (cur && st.upstream[d] !== cur.id)) return undefined;
    }
    return st;
  };
  const fresh = (s: PlanStep): Stamp | undefined => {
    if (force) return undefined;
    if (!memo.has(s.id)) memo.set(s.id, check(s) ?? null);
    return memo.get(s.id) ?? undefined;
  };
  return fresh;
}

/** Stamp a finished step (outputs' size and sha256, the upstream runs it was built on) and record its files in the manifest. */
export function writeStamp(env: StepEnv, manifest: Manifest, s: PlanStep, st: StepOutput, meta: { hash: string; upstream: string[]; results: Map<string, Stamp>; seconds: number }): Stamp {
  const out = env.plan.out;
  const files = Object.fromEntries(st.produced.map((p) => [p, { ...fileDigest(join(out, p)), mtimeMs: statSync(join(out, p)).mtimeMs }]));
  const upstream = Object.fromEntries(meta.upstream.flatMap((d) => (meta.results.get(d)?.id ? [[d, meta.results.get(d)!.id!]] : [])));
  const stamp: Stamp = { ...st, hash: meta.hash, id: randomUUID(), files, upstream, seconds: meta.seconds };
  writeFileAtomic(stampPath(out, s.id), [Buffer.from(JSON.stringify(stamp, null, 1))]);
  recordFiles(out, manifest, s.outputs, files);
  saveManifest(out, manifest);
  return stamp;
}
