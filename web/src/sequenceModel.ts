/** The sequence editor's data: exposure groups, the plan sent to the server, and duration formatting. */
import { automationPlan, type AutomationState, type SchemaNode } from './automationModel';

export const TYPES = ['light', 'dark', 'bias', 'flat', 'flatdark'];
export const MAX_GROUPS = 16;

export type Order = 'cycle' | 'group';

export interface Group {
  type: string;
  filter: string;
  exposure: number;
  binning: number;
  count: number;
  suffix: string;
  delay: number;
  active: boolean;
}

/** The plan's fields outside the groups. */
export interface PlanHead {
  base: string;
  object: string;
  order: Order;
  /** The night automation keys (and a loaded plan's keys the editor does not show). */
  automation?: AutomationState;
  /** The plan's JSON Schema from the server (null until it came). */
  schema?: SchemaNode | null;
}

/** The plan keys the head and the groups table edit (the automation state keeps the others). */
export const HEAD_KEYS = ['base', 'object', 'order', 'groups'];

export const newGroup = (filter = ''): Group => ({ type: 'light', filter, exposure: 60, binning: 1, count: 5, suffix: '', delay: 0, active: true });

/** The plan as the server takes it: an empty filter means "no filter" and is left out. */
export const toPlan = ({ base, object, order, automation, schema }: PlanHead, groups: Group[]) => ({
  ...(automation ? automationPlan(automation, schema ?? null) : {}),
  base,
  object,
  order,
  groups: groups.map((g) => ({ type: g.type, ...(g.filter ? { filter: g.filter } : {}), exposure: g.exposure, binning: g.binning, count: g.count, suffix: g.suffix, delay: g.delay, active: g.active })),
});

export function fmt(s: number): string {
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = Math.round(s % 60);
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m${String(sec).padStart(2, '0')}s` : `${m}m${String(sec).padStart(2, '0')}s`;
}

/** The estimate line: the error, the frames and durations, or an ellipsis while none has come. */
export function estimateText(estimate: any, estError: string | null): string {
  if (estError) return estError;
  if (!estimate) return '…';
  const e = estimate.estimate;
  return `${estimate.frames} frames · ${fmt(e.totalS)} (exposures ${fmt(e.exposureS)}, downloads ${fmt(e.downloadS)}, filters ${fmt(e.filterS)})`;
}
