/**
 * Processing for the API: scan a night folder into a plan (pipeline/plan), run it in the background
 * with the local executor (one run at a time), progress as events, and the results of an output
 * folder (masters, stacks, previews, report.json).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, normalize } from 'node:path';
import { loadManifest } from '../pipeline/manifest.js';
import { buildPlan, type Plan, type RunOptions } from '../pipeline/plan.js';
import { executePlan, warningOf, type RunReport } from '../pipeline/execute.js';
import { checkRunPaths } from '../pipeline/safety.js';
import { isDarkroomError } from '../util/errors.js';
import type { WarningEvent } from '../util/warnings.js';
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

/** A warning's identity for the console (as its warnings panel lists them): code, message, file. */
const warningKey = (w: WarningEvent): string => `${w.code}|${w.message}|${w.file ?? ''}`;

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
    // the plan's warnings (the scan's: duplicates, files skipped ...) reach the console as the run starts, the
    // steps' as they are raised (with the step), not only with its report; each is sent once
    const sent = new Set<string>();
    const send = (w: WarningEvent, step?: string): void => {
      const k = warningKey(w);
      if (sent.has(k)) return;
      sent.add(k);
      this.onEvent({ type: 'warning', source: 'processing', ...w, ...(step ? { step } : {}) });
    };
    for (const w of plan.warningEvents ?? []) send(w);
    const finished = (async () => {
      try {
        st.report = await executePlan(plan, {
          log: (line) => {
            st.log.push(line);
            if (st.log.length > 500) st.log.splice(0, st.log.length - 500);
            this.onEvent({ type: 'run-log', id: st.id, line });
          },
          // the plan's own step count throughout (the scheduler counts without the report step, and
          // intermediates it need not redo never report): done counts the steps finished so far
          onEvent: (e) => {
            if (e.type === 'warning') return send(warningOf(e), e.step);
            if (e.type === 'step-start') return;
            st.done = Math.min(st.total - 1, e.index);
            st.step = e.id;
            this.onEvent({ type: 'run-progress', id: st.id, done: st.done, total: st.total, step: e.id });
          },
        });
        st.state = 'done';
        st.done = st.total;
        // the report's warnings not sent yet (none when every warning went out as it was raised)
        for (const w of st.report.warning_events ?? []) send(w);
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
  /** OUT/report.html when the run wrote it. */
  reportHtml: string | null;
}

function list(dir: string, ext: RegExp): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((n) => ext.test(n))
    .sort()
    .map((n) => join(dir, n));
}

/** A file of a run's output that the console may show: a PNG preview or report.html. */
export interface OutputFile {
  type: 'image/png' | 'text/html';
  body: Buffer;
}

const OUTPUT_TYPES: Record<string, OutputFile['type']> = { '.png': 'image/png', '.html': 'text/html' };

/**
 * A PNG or HTML file of an output folder, served only when the run recorded it in OUT's manifest
 * (written, not an intermediate, the size it recorded): never another file of the folder, nor one a
 * user put there or changed. report.html comes with its previews inlined (data: URLs), so that it shows
 * in a sandboxed page that loads nothing.
 */
export function outputFile(out: string, file: string): OutputFile {
  const rel = normalize(file);
  const type = OUTPUT_TYPES[/\.[a-z]+$/i.exec(rel)?.[0]?.toLowerCase() ?? ''];
  if (!type || isAbsolute(rel) || rel.startsWith('..')) throw new HttpError(400, 'BAD_ARGUMENT', `${file}: only the PNG previews and report.html of a run can be opened`);
  const m = loadManifest(out);
  const rec = m.files[rel];
  const path = join(out, rel);
  if (!rec || rec.pending || rec.intermediate || !existsSync(path) || statSync(path).size !== rec.size) throw new HttpError(404, 'ENOENT', `${file}: not a file this run wrote in ${out}`);
  const body = readFileSync(path);
  if (type !== 'text/html') return { type, body };
  const html = body.toString('utf8').replace(/<img src="([^"]+)"/g, (all, src: string) => {
    const r = m.files[normalize(src)];
    const p = join(out, normalize(src));
    if (!r || r.pending || !/\.png$/i.test(src) || normalize(src).startsWith('..') || !existsSync(p)) return all;
    return `<img src="data:image/png;base64,${readFileSync(p).toString('base64')}"`;
  });
  return { type, body: Buffer.from(html) };
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
  const html = existsSync(join(out, 'report.html')) ? join(out, 'report.html') : null;
  return { out, report, masters: list(join(out, 'masters'), /\.fits?$/i), stacks: list(join(out, 'stacks'), /\.fits?$/i), previews: list(join(out, 'previews'), /\.png$/i), reportHtml: html };
}
