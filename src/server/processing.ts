/**
 * Processing for the API: scan a night folder into a plan (pipeline/plan), run it in the background
 * with the local executor (one run at a time), progress as events, and the results of an output
 * folder (masters, stacks, previews, report.json).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { buildPlan, type Plan, type RunOptions } from '../pipeline/plan.js';
import { executePlan, type RunReport } from '../pipeline/execute.js';
import { checkRunPaths } from '../pipeline/safety.js';
import { isDarkroomError } from '../util/errors.js';
import { HttpError } from './errors.js';

export interface RunStatus {
  id: number;
  state: 'running' | 'done' | 'failed';
  night: string;
  out: string;
  done: number;
  total: number;
  step: string | null;
  log: string[];
  startedAt: number;
  seconds?: number;
  error?: string;
  report?: RunReport;
}

/** The default output folder of a night: a sibling named NIGHT-darkroom (never inside the night, which is scanned). */
export function defaultOut(night: string): string {
  return join(dirname(night), `${basename(night)}-darkroom`);
}

export function makePlan(night: string, out: string, opts: Partial<RunOptions>): Plan {
  if (!statSync(night).isDirectory()) throw new HttpError(400, 'BAD_ARGUMENT', `${night}: not a folder`);
  return buildPlan(night, out, opts, { saveCache: false });
}

export class Processing {
  private current: RunStatus | null = null;
  private seq = 0;
  constructor(private readonly onEvent: (ev: Record<string, unknown>) => void = () => undefined) {}

  status(): RunStatus | null {
    return this.current;
  }

  /** Start a run; returns at once (the promise of the run is returned for tests). */
  start(night: string, out: string, opts: Partial<RunOptions>): { status: RunStatus; finished: Promise<void> } {
    if (this.current?.state === 'running') throw new HttpError(409, 'BUSY', `a run is already in progress (${this.current.night})`);
    // The refusals of every run (as the CLI's): OUT == night, OUT inside the night, the night inside a folder of OUT.
    checkRunPaths(night, out, { library: opts.library });
    const plan = makePlan(night, out, opts);
    if (plan.stacks.length === 0) throw new HttpError(422, 'TOO_FEW', `${night}: no light frames to stack were found`);
    const st: RunStatus = { id: ++this.seq, state: 'running', night, out, done: 0, total: plan.steps.length, step: null, log: [], startedAt: Date.now() };
    this.current = st;
    this.onEvent({ type: 'run', status: st });
    const finished = (async () => {
      try {
        st.report = await executePlan(plan, {
          log: (line) => {
            st.log.push(line);
            if (st.log.length > 500) st.log.splice(0, st.log.length - 500);
            this.onEvent({ type: 'run-log', id: st.id, line });
          },
          onEvent: (e) => {
            if (e.type === 'step-start') return;
            st.done = e.index;
            st.total = e.total;
            st.step = e.id;
            this.onEvent({ type: 'run-progress', id: st.id, done: e.index, total: e.total, step: e.id });
          },
        });
        st.state = 'done';
        st.done = st.total;
      } catch (e) {
        st.state = 'failed';
        st.error = isDarkroomError(e) ? e.oneLine() : (e as Error)?.message ?? String(e);
      }
      st.seconds = (Date.now() - st.startedAt) / 1000;
      this.onEvent({ type: 'run', status: { ...st, log: undefined } });
    })();
    return { status: st, finished };
  }
}

export interface Results {
  out: string;
  report: RunReport | null;
  masters: string[];
  stacks: string[];
  previews: string[];
}

function list(dir: string, ext: RegExp): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((n) => ext.test(n))
    .sort()
    .map((n) => join(dir, n));
}

export function results(out: string): Results {
  if (!existsSync(out)) throw new HttpError(404, 'ENOENT', `${out}: no such output folder`);
  const rp = join(out, 'report.json');
  let report: RunReport | null = null;
  if (existsSync(rp)) {
    try {
      report = JSON.parse(readFileSync(rp, 'utf8')) as RunReport;
    } catch {
      throw new HttpError(422, 'BAD_REPORT', `${rp}: not valid JSON`);
    }
  }
  return { out, report, masters: list(join(out, 'masters'), /\.fits?$/i), stacks: list(join(out, 'stacks'), /\.fits?$/i), previews: list(join(out, 'previews'), /\.png$/i) };
}
