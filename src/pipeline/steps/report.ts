/**
 * report: nothing to compute as a step; executePlan writes report.json and report.html from the
 * stamps at the end of every run (src/pipeline/report.ts).
 */
import type { ReportStep } from '../plan.js';
import type { StepEnv, StepOutput } from './env.js';

export async function runReport(_env: StepEnv, _s: ReportStep): Promise<StepOutput> {
  return { produced: [], rejected: [], info: {} };
}
