/**
 * Option catalogues: each operation's options are defined once (key, flag, type, default, range,
 * help, doc) and everything else is made from that definition: the commander options and their
 * help text (src/cli/), the zod schemas of the HTTP API (options-schema.ts) and the checks of
 * typed values (when a plan is built, when an operation starts). As PixInsight's parameter
 * classes: one definition of each option's default and range feeds every front end.
 *
 * No commander or zod here: the algorithms that check their options with a catalogue load neither.
 */
import type { Command } from 'commander';
import { DarkroomError } from './errors.js';

export type OptionType = 'enum' | 'number' | 'integer' | 'boolean' | 'string' | 'size';

/** One option of an operation. */
export interface OptionSpec<T = unknown> {
  /** The commander flag: '--reject <method>', '--rejection-maps', '--no-clip-low' (a boolean that defaults to true). */
  flag: string;
  type: OptionType;
  /** The allowed values of an enum (and the listed spellings of a 'string' with its own `parse`). */
  values?: readonly string[];
  /** The default; undefined when it is chosen at run time (`defaultText` then says how). */
  default?: T;
  /** The help text's words for a default chosen at run time ('all cores'). */
  defaultText?: string;
  min?: number;
  max?: number;
  /** min and max themselves are outside the range (e.g. a sigma > 0, a fraction 0 < f < 1). */
  exclusive?: boolean;
  /** One line of help (no default, range or value list: those are added from the fields above). */
  help: string;
  /** The longer description (what the option does, where its default comes from). */
  doc: string;
  /** Parse the text of a 'string' (or 'enum') option given on a command line or in JSON; throws a message. */
  parse?: (text: string) => T;
  /** How a value reads in help and in JSON (weights {keyword} -> 'keyword:NAME'). */
  format?: (value: T) => string;
}

export interface OptionDef<T = unknown> extends OptionSpec<T> {
  /** The property name in typed options (and in the API's JSON). */
  key: string;
}

export type Catalogue = readonly OptionDef[];

/** The specs of an options type, one per property (the compiler checks none is missing). */
export type CatalogueSpecs<T> = { [K in keyof T & string]-?: OptionSpec<NonNullable<T[K]>> };

/** A catalogue from one spec per property of `T`, in the order given. */
export function defineCatalogue<T>(specs: CatalogueSpecs<T>): Catalogue {
  return Object.entries(specs).map(([key, s]) => ({ key, ...(s as OptionSpec) }));
}

/** The long flag without its value: '--reject <method>' -> '--reject'. */
export function longFlag(d: OptionSpec): string {
  const f = d.flag.split(/[ ,|]+/).find((s) => s.startsWith('--'));
  if (!f) throw new Error(`option ${d.flag}: no long flag`);
  return f;
}

/** The property commander stores the flag's value under: '--sigma-low <k>' -> 'sigmaLow', '--no-clip-low' -> 'clipLow'. */
export function attributeName(d: OptionSpec): string {
  return longFlag(d)
    .slice(2)
    .replace(/^no-/, '')
    .replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** Only the options named (or all but those named, with `except`). */
export function pick(cat: Catalogue, keys: readonly string[], except = false): Catalogue {
  return cat.filter((d) => keys.includes(d.key) !== except);
}

export function formatValue(d: OptionDef, v: unknown): string {
  return d.format ? d.format(v as never) : String(v);
}

/** The range of a numeric option in words: '> 0', '0 < x < 1', '>= 0'. */
export function rangeText(d: OptionSpec): string | undefined {
  const lt = d.exclusive ? '<' : '<=';
  const gt = d.exclusive ? '>' : '>=';
  if (d.min !== undefined && d.max !== undefined) return `${d.min} ${lt} x ${lt} ${d.max}`;
  if (d.min !== undefined) return `${gt} ${d.min}`;
  if (d.max !== undefined) return `${lt} ${d.max}`;
  return undefined;
}

/** The default as help prints it ('winsorized', '4', 'all cores'), or undefined. */
export function defaultText(d: OptionDef): string | undefined {
  if (d.type === 'boolean') return undefined; // a flag's default is its form: --x (off) or --no-x (on)
  return d.default !== undefined ? formatValue(d, d.default) : d.defaultText;
}

/** The help line of an option: its help, then the values, the range and the default, all from the definition. */
export function helpText(d: OptionDef): string {
  const extra: string[] = [];
  const r = d.type === 'number' || d.type === 'integer' ? rangeText(d) : undefined;
  if (r) extra.push(r);
  const def = defaultText(d);
  if (def !== undefined) extra.push(`default: ${def}`);
  const values = d.values ? `: ${d.values.join('|')}` : '';
  return `${d.help}${values}${extra.length ? ` (${extra.join('; ')})` : ''}`;
}

/** Add the options of a catalogue to a command (help built from the definitions; values parsed by `parseCli`). */
export function addOptions(cmd: Command, cat: Catalogue): Command {
  for (const d of cat) cmd.option(d.flag, helpText(d));
  return cmd;
}

function bad(msg: string): never {
  throw new DarkroomError('BAD_ARGUMENT', msg);
}

/** '2GB', '512MB', '100k', '1000000' -> bytes (a message on anything else). */
export function parseSize(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?\s*$/i.exec(text);
  if (!m) throw new Error(`'${text}' is not a size (e.g. 2GB, 512MB)`);
  const mult = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 }[m[2]!.toLowerCase() as '' | 'k' | 'm' | 'g' | 't'];
  return Math.floor(Number(m[1]) * mult);
}

function inRange(d: OptionSpec, x: number): boolean {
  if (d.min !== undefined && !(d.exclusive ? x > d.min : x >= d.min)) return false;
  if (d.max !== undefined && !(d.exclusive ? x < d.max : x <= d.max)) return false;
  return true;
}

/** Why a typed value is not valid for its option, or undefined when it is. */
export function valueProblem(d: OptionDef, v: unknown): string | undefined {
  const shown = typeof v === 'object' ? JSON.stringify(v) : String(v);
  switch (d.type) {
    case 'enum':
      return d.values!.includes(v as string) ? undefined : `unknown value '${shown}' (choose ${d.values!.join(', ')})`;
    case 'boolean':
      return typeof v === 'boolean' ? undefined : `'${shown}' is not true or false`;
    case 'string':
      if (d.parse) return parsedProblem(d, typeof v === 'string' ? v : formatValue(d, v));
      return typeof v === 'string' && v.length > 0 ? undefined : `'${shown}' is not a text`;
    default: {
      if (typeof v !== 'number' || !Number.isFinite(v)) return `'${shown}' is not a number`;
      if ((d.type === 'integer' || d.type === 'size') && !Number.isInteger(v)) return `'${shown}' is not a whole number`;
      if (d.type === 'size' && !(v > 0)) return `'${shown}' must be more than 0`;
      return inRange(d, v) ? undefined : `${shown} is out of range (${rangeText(d)})`;
    }
  }
}

function parsedProblem(d: OptionDef, text: string): string | undefined {
  try {
    d.parse!(text);
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

/** Check typed values (absent ones are skipped): a DarkroomError naming `label(option)` on the first bad one. */
export function checkValues(cat: Catalogue, values: Record<string, unknown>, label: (d: OptionDef) => string = (d) => d.key): void {
  for (const d of cat) {
    const v = values[d.key];
    if (v === undefined) continue;
    const p = valueProblem(d, v);
    if (p) bad(`${label(d)}: ${p}`);
  }
}

/** The typed value of one option's command-line text. */
export function parseText(d: OptionDef, text: string): unknown {
  const name = longFlag(d);
  const fail = (why: string): never => bad(`${name}: ${why}`);
  let v: unknown = text;
  if (d.parse) {
    try {
      v = d.parse(text);
    } catch (e) {
      fail((e as Error).message);
    }
  } else if (d.type === 'size') {
    try {
      v = parseSize(text);
    } catch (e) {
      fail((e as Error).message);
    }
  } else if (d.type === 'number' || d.type === 'integer') {
    v = Number(text);
    if (text.trim() === '' || !Number.isFinite(v)) fail(`'${text}' is not a number`);
  }
  const p = d.parse ? undefined : valueProblem(d, v);
  if (p) fail(d.type === 'size' ? `'${text}' must be more than 0` : p);
  return v;
}

/**
 * The typed values of a command's parsed flags (commander's `opts()`), defaults filled in: every
 * option of the catalogue gets its value (undefined only for a default chosen at run time).
 */
export function parseCli(cat: Catalogue, flags: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const d of cat) {
    const raw = flags[attributeName(d)];
    if (raw === undefined) out[d.key] = d.default;
    else if (d.type === 'boolean') out[d.key] = raw === true;
    else out[d.key] = parseText(d, String(raw));
  }
  return out;
}

/** The values that differ from the catalogue's defaults (what a plan records, so that default runs keep their hashes). */
export function nonDefault(cat: Catalogue, values: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const d of cat) {
    const v = values[d.key];
    if (v === undefined) continue;
    if (d.default !== undefined && formatValue(d, v) === formatValue(d, d.default)) continue;
    out[d.key] = v;
  }
  return out;
}
