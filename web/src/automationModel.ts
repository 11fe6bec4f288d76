/**
 * The night automation part of a sequence plan (cooling, autofocus triggers, dither, loop/until, target
 * and centering, meridian flip, safety, warming, site) as the sequence editor edits it. What each key
 * is (type, range, default, choices) comes from the server's own plan schema (the zod PlanSchema of
 * src/acquire/plan.ts, as JSON Schema in GET /api/openapi.json): nothing here repeats a default or a
 * range. Keys left empty are left out of the plan, so the CLI's defaults apply; keys of a loaded plan
 * that the editor does not show are kept as they were.
 */

/** A JSON Schema node as z.toJSONSchema writes it. */
export interface SchemaNode {
  type?: string;
  properties?: Record<string, SchemaNode>;
  default?: unknown;
  minimum?: number;
  exclusiveMinimum?: number;
  maximum?: number;
  enum?: string[];
  anyOf?: SchemaNode[];
}

/** One key of the plan the editor shows: a top-level value, or an object whose fields are shown. */
export interface Section {
  key: string;
  label: string;
  /** An object key: only these of its fields (default: all the schema has). */
  fields?: string[];
  /** An object key that is on or off as a whole (off: left out of the plan); profile is always on. */
  toggle?: boolean;
}

export const SECTIONS: Section[] = [
  { key: 'cooling', label: 'Cool at start', toggle: true },
  { key: 'warmTo', label: 'Warm at end to (°C)' },
  { key: 'warmRate', label: 'Warming rate (°C/min)' },
  { key: 'autofocus', label: 'Autofocus', toggle: true },
  { key: 'ditherEvery', label: 'Dither every N lights' },
  { key: 'loop', label: 'Loop the plan' },
  { key: 'until', label: 'Until', toggle: true },
  { key: 'target', label: 'Target (J2000°)', toggle: true },
  { key: 'center', label: 'Center', toggle: true },
  { key: 'meridian', label: 'Meridian flip', toggle: true },
  { key: 'safety', label: 'Safety', toggle: true },
  { key: 'profile', label: 'Site', fields: ['siteLat', 'siteLong', 'focalLength'] },
];

/** Words for the fields (the key itself where none). */
export const FIELD_LABELS: Record<string, string> = {
  setpoint: 'set point °C',
  tolerance: 'tolerance',
  stableMinutes: 'stable min',
  timeoutMinutes: 'timeout min',
  atStart: 'at start',
  everyFrames: 'every N lights',
  tempChange: 'on temp change °C',
  onFilterChange: 'on filter change',
  hfrIncrease: 'on HFR growth %',
  hfrFrames: 'HFR of last N',
  time: 'time (ISO 8601)',
  altitude: 'altitude °',
  frames: 'frames',
  ra: 'RA °',
  dec: 'Dec °',
  exposure: 'exposure s',
  binning: 'binning',
  maxIterations: 'max iterations',
  limitMinutes: 'limit min past',
  afterMinutes: 'earliest min past',
  marginS: 'download margin s',
  recenter: 're-center',
  action: 'action',
  pollS: 'poll s',
  device: 'device',
  siteLat: 'latitude °',
  siteLong: 'longitude °',
  focalLength: 'focal length mm',
};

/** The editor's values: 'section' or 'section.field' -> what the input holds (untouched: absent). */
export type AutoValues = Record<string, string | boolean>;

export interface AutomationState {
  values: AutoValues;
  /** Object sections switched on. */
  on: Record<string, boolean>;
  /** Keys of a loaded plan the editor does not show (kept for the next save). */
  rest: Record<string, unknown>;
}

export const emptyAutomation = (): AutomationState => ({ values: {}, on: {}, rest: {} });

/** The node of a schema that may be wrapped in anyOf (optional keys). */
const unwrap = (n: SchemaNode | undefined): SchemaNode | undefined => n?.anyOf?.find((a) => a.type !== 'null') ?? n;

/** The plan's top-level keys in the schema. */
export const planKeys = (plan: SchemaNode): Record<string, SchemaNode> => plan.properties ?? {};

/** The fields of an object section: the schema's, or the section's own list. */
export function sectionFields(s: Section, plan: SchemaNode): [string, SchemaNode][] {
  const props = unwrap(planKeys(plan)[s.key])?.properties ?? {};
  return (s.fields ?? Object.keys(props)).filter((f) => props[f]).map((f) => [f, unwrap(props[f])!]);
}

/** Object keys are the ones with fields or a switch. */
export const isObject = (s: Section): boolean => !!(s.toggle || s.fields);

/**
 * An input's text as the plan's value: numbers as numbers (text that is no number is sent as it is, for
 * the server to refuse in words). Before the schema came (n undefined), text that reads as a number.
 */
function typed(v: string | boolean, n: SchemaNode | undefined): unknown {
  if (typeof v === 'boolean') return v;
  const numeric = n ? n.type === 'number' || n.type === 'integer' : true;
  return numeric && v.trim() !== '' && Number.isFinite(Number(v)) ? Number(v) : v;
}

const isSet = (v: string | boolean | undefined): v is string | boolean => v !== undefined && v !== '';

/** The plan keys of the editor's automation values (merged over the kept keys of a loaded plan). */
export function automationPlan(a: AutomationState, plan: SchemaNode | null): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a.rest };
  for (const s of SECTIONS) {
    const node = plan ? unwrap(planKeys(plan)[s.key]) : undefined;
    if (plan && !node) continue;
    if (!isObject(s)) {
      const v = a.values[s.key];
      if (isSet(v)) out[s.key] = typed(v, node);
      continue;
    }
    if (s.toggle && !a.on[s.key]) continue;
    const obj: Record<string, unknown> = s.toggle ? {} : { ...((a.rest[s.key] as Record<string, unknown>) ?? {}) };
    const props = unwrap(node)?.properties;
    for (const [k, v] of Object.entries(a.values)) {
      const f = k.startsWith(`${s.key}.`) ? k.slice(s.key.length + 1) : null;
      if (f === null || !isSet(v) || (props && !props[f]) || (s.fields && !s.fields.includes(f))) continue;
      obj[f] = typed(v, unwrap(props?.[f]));
    }
    if (s.toggle || Object.keys(obj).length) out[s.key] = obj;
  }
  return out;
}

/** The editor's automation state from a plan (a loaded file): what it shows, and the rest kept. */
export function automationFrom(p: Record<string, unknown>, handled: string[]): AutomationState {
  const a = emptyAutomation();
  const shown = new Set(SECTIONS.map((s) => s.key));
  for (const [k, v] of Object.entries(p)) if (!shown.has(k) && !handled.includes(k)) a.rest[k] = v;
  const text = (v: unknown): string | boolean | undefined => (typeof v === 'boolean' ? v : typeof v === 'number' || typeof v === 'string' ? String(v) : undefined);
  for (const s of SECTIONS) {
    const v = p[s.key];
    if (v === undefined) continue;
    if (!isObject(s)) {
      const t = text(v);
      if (t !== undefined) a.values[s.key] = t;
      continue;
    }
    const obj = v as Record<string, unknown>;
    if (s.toggle) a.on[s.key] = true;
    const fields = new Set(s.fields ?? Object.keys(obj));
    const kept: Record<string, unknown> = {};
    for (const [f, fv] of Object.entries(obj)) {
      const t = text(fv);
      if (fields.has(f) && t !== undefined) a.values[`${s.key}.${f}`] = t;
      else kept[f] = fv;
    }
    if (!s.toggle && Object.keys(kept).length) a.rest[s.key] = kept;
  }
  return a;
}

/** The default of a schema node as a placeholder ('' when it has none). */
export const placeholder = (n: SchemaNode): string => (n.default === undefined ? '' : String(n.default));

/** The lowest value an input takes (exclusive minimums too: the server refuses the bound itself). */
export const minOf = (n: SchemaNode): number | undefined => n.minimum ?? n.exclusiveMinimum;
