/**
 * What a step runner sees: the plan, the stamps of the finished steps, a warning sink, and tools
 * shared by the runners (paths in OUT, masters read once, the frames upstream steps produced, the
 * raw light behind a produced frame).
 */
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { loadMaster, type Master } from '../../calibrate/index.js';
import type { WarningCode, WarningEvent } from '../../util/warnings.js';
import type { Plan, PlanStep } from '../plan.js';
import type { Stamp } from '../stamps.js';

/** What a step (or a part of it) produced. */
export interface StepOutput {
  /** Outputs actually written (registration may leave frames out). */
  produced: string[];
  /** Frames left out, with the reason (raw light paths). */
  rejected: Rejection[];
  info: Record<string, unknown>;
}

export interface Rejection {
  path: string;
  reason: string;
}

/** A part of a step: only these frames (indices into its outputs) of a calibrate or debayer step. */
export interface StepPart {
  frames?: number[];
}

/** What a step needs besides its own description: the plan and the finished steps' stamps. */
export interface StepEnv {
  plan: Plan;
  steps: Map<string, PlanStep>;
  producer: Map<string, PlanStep>;
  result: (id: string) => Stamp | undefined;
  /** A warning of the run; `step`: the step that raised it (the scheduler binds it for each step it runs). */
  warn: (w: WarningEvent, step?: string) => void;
  workers?: number;
  masterCache: Map<string, Master>;
}

export function makeStepEnv(plan: Plan, result: (id: string) => Stamp | undefined, warn: (w: WarningEvent, step?: string) => void, workers?: number): StepEnv {
  const producer = new Map<string, PlanStep>();
  for (const s of plan.steps) for (const p of s.outputs) producer.set(p, s);
  return { plan, steps: new Map(plan.steps.map((s) => [s.id, s])), producer, result, warn, workers, masterCache: new Map() };
}

/** Merge the outputs of parts (frames in index order) into the step's output. */
export function mergeParts(parts: StepOutput[]): StepOutput {
  const info: Record<string, unknown> = {};
  const frames: unknown[] = [];
  for (const p of parts) {
    for (const [k, v] of Object.entries(p.info)) if (k !== 'frames') info[k] = v;
    if (Array.isArray(p.info.frames)) frames.push(...(p.info.frames as unknown[]));
  }
  if (parts.some((p) => Array.isArray(p.info.frames))) info.frames = frames;
  return { produced: parts.flatMap((p) => p.produced), rejected: parts.flatMap((p) => p.rejected), info };
}

/** Darkroom's own temp folder of an output folder (emptied at the start of each run). */
export const tmpDirOf = (out: string): string => join(out, '.darkroom', 'tmp');

export function ensureDir(p: string): void {
  mkdirSync(dirname(p), { recursive: true });
}

/** A warning of a step: `code`, about `file` (absent: the whole step). */
export function stepWarning(env: StepEnv, code: WarningCode, message: string, file?: string): void {
  env.warn(file === undefined ? { code, message } : { code, message, file });
}

/** The absolute path of a plan path (produced paths are relative to OUT). */
export function absPath(env: StepEnv, p: string): string {
  return p.startsWith('/') ? p : join(env.plan.out, p);
}

/** A master of the plan (a path in OUT), read once per process. */
export function masterOf(env: StepEnv, rel: string | undefined): Master | undefined {
  if (!rel) return undefined;
  let m = env.masterCache.get(rel);
  if (!m) {
    m = loadMaster(absPath(env, rel));
    env.masterCache.set(rel, m);
  }
  return m;
}

/** Inputs not produced by a step (raw frames, library masters). */
export function rawInputs(env: StepEnv, s: PlanStep): string[] {
  return s.inputs.filter((x) => !env.producer.has(x));
}

/** Produced inputs that exist (registration may have left some out), and the raw ones. */
export function liveInputs(env: StepEnv, s: PlanStep): string[] {
  return s.inputs.filter((p) => {
    const prod = env.producer.get(p);
    if (!prod) return true;
    return env.result(prod.id)?.produced.includes(p) ?? existsSync(absPath(env, p));
  });
}

/** The raw light behind a produced frame, following calibrate/debayer/register. */
export function rawOf(env: StepEnv, p: string): string {
  let cur = p;
  for (let i = 0; i < 4; i++) {
    const prod = env.producer.get(cur);
    if (!prod) return cur;
    const k = prod.outputs.indexOf(cur);
    const next = prod.kind === 'calibrate' || prod.kind === 'debayer' || prod.kind === 'register' ? prod.inputs[k] : undefined;
    if (!next) return cur;
    cur = next;
  }
  return cur;
}

/** The frames every step upstream of `s` left out. */
export function rejectedUpstream(env: StepEnv, s: PlanStep): Rejection[] {
  const seen = new Set<string>();
  const acc: Rejection[] = [];
  const walk = (id: string): void => {
    if (seen.has(id)) return;
    seen.add(id);
    const st = env.result(id);
    if (st) acc.push(...st.rejected);
    for (const d of env.steps.get(id)?.deps ?? []) walk(d);
  };
  for (const d of s.deps) walk(d);
  return acc;
}
