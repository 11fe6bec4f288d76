/**
 * The zod schemas of option catalogues (util/options.ts), for the HTTP API: an enum is a z.enum, a
 * number keeps its range, an integer is whole, a size is a whole number of bytes or a size text
 * ('512MB', as on the command line), a 'string' with its
 * own syntax is checked by the catalogue's parser. Every option is optional; with `defaults` an
 * absent one takes the catalogue's default.
 */
import { z, type ZodType } from 'zod';
import { formatValue, parseSize, valueProblem, type Catalogue, type OptionDef } from './options.js';

/** A size: a whole number of bytes, or its text as on the command line ('512MB', '2GB'), read as bytes. */
function sizeSchema(): ZodType {
  const text = z.string().transform((v, ctx) => {
    try {
      const n = parseSize(v);
      if (n > 0) return n;
      ctx.addIssue({ code: 'custom', message: `'${v}' must be more than 0` });
    } catch (e) {
      ctx.addIssue({ code: 'custom', message: (e as Error).message });
    }
    return z.NEVER;
  });
  return z.union([z.number().int().positive(), text]);
}

function numberSchema(d: OptionDef): ZodType {
  if (d.type === 'size') return sizeSchema();
  let s = d.type === 'number' ? z.number() : z.number().int();
  if (d.min !== undefined) s = d.exclusive ? s.gt(d.min) : s.gte(d.min);
  if (d.max !== undefined) s = d.exclusive ? s.lt(d.max) : s.lte(d.max);
  return s;
}

/** The zod schema of one option's value (as JSON carries it). */
export function optionSchema(d: OptionDef): ZodType {
  const described = (s: ZodType): ZodType => s.describe(d.help);
  switch (d.type) {
    case 'enum':
      return described(z.enum(d.values as [string, ...string[]]));
    case 'boolean':
      return described(z.boolean());
    case 'string':
      return described(
        z.string().superRefine((v, ctx) => {
          const p = valueProblem(d, v);
          if (p) ctx.addIssue({ code: 'custom', message: p });
        }),
      );
    default:
      return described(numberSchema(d));
  }
}

/** The zod object shape of a catalogue: each option optional (or, with `defaults`, defaulting to the catalogue's value). */
export function catalogueShape(cat: Catalogue, opts: { defaults?: boolean } = {}): Record<string, ZodType> {
  const shape: Record<string, ZodType> = {};
  for (const d of cat) {
    const s = optionSchema(d);
    const wire = d.default === undefined ? undefined : d.format ? formatValue(d, d.default) : d.default;
    shape[d.key] = opts.defaults && wire !== undefined ? s.default(wire as never) : s.optional();
  }
  return shape;
}

/** The strict zod object of a catalogue (unknown keys are refused). */
export function catalogueSchema(cat: Catalogue, opts: { defaults?: boolean } = {}): z.ZodObject {
  return z.object(catalogueShape(cat, opts)).strict();
}
