/**
 * Routes of processing: POST /api/processing/plan, POST /api/processing/run, GET /api/processing/status,
 * GET /api/processing/results. A run goes through Processing.start, which applies the pipeline's path
 * refusals (pipeline/safety.ts) as the CLI does. The integration options of plan/run are made from
 * the integration catalogue (integrate/options.ts): every option of `darkroom stack` and
 * `darkroom run`, by the same name (the flag's), with the same values, ranges and defaults.
 */
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { HttpError } from '../errors.js';
import { defaultOut, makePlan, outputFile, results } from '../processing.js';
import { route } from '../route.js';
import type { Roots } from '../roots.js';
import type { ServerContext } from '../context.js';
import { DEFAULT_OPTIONS, type RunOptions } from '../../pipeline/plan.js';
import { INTEGRATE_CATALOGUE, splitRunIntegration, validateRunIntegration } from '../../integrate/options.js';
import { catalogueShape } from '../../util/options-schema.js';
import { RUN_REGISTER_CATALOGUE, runRegisterOptions } from '../../register/options.js';

export const processingSchemas = {
  plan: z
    .object({
      night: z.string().min(1),
      out: z.string().min(1).optional(),
      options: z
        .object({
          ...catalogueShape(INTEGRATE_CATALOGUE),
          ...catalogueShape(RUN_REGISTER_CATALOGUE),
          debayer: z.string().optional(),
          register: z.boolean().optional(),
          cosmetic: z.boolean().optional(),
          force: z.boolean().optional(),
          solve: z.boolean().optional().describe('false: do not plate solve the stacks (as run --no-solve); default: solve each with solve-field and write its WCS'),
          exclude: z.array(z.string().min(1)).max(100).optional().describe('exclusion rules for the scan, globs as in .gitignore (added to the night\'s .darkroomignore)'),
        })
        .strict()
        .default({}),
    })
    .strict(),
  results: z.object({ out: z.string().min(1) }),
  output: z.object({ out: z.string().min(1), file: z.string().min(1).describe('a path relative to OUT: previews/NAME.png or report.html') }),
};

/** The run options of a plan request: its integration options split as a run's, checked together (a range low >= high: 400). */
export function runOptionsOf(o: z.infer<typeof processingSchemas.plan>['options']): Partial<RunOptions> {
  const { debayer, register, cosmetic, force, exclude, solve, interp, ...integration } = o as Record<string, unknown> & Pick<RunOptions, 'debayer' | 'register' | 'cosmetic' | 'force' | 'exclude' | 'solve' | 'interp'>;
  const stacking = splitRunIntegration(integration);
  validateRunIntegration({ ...DEFAULT_OPTIONS, ...stacking });
  const out: Partial<RunOptions> = { ...stacking, ...runRegisterOptions({ interp }) };
  for (const [k, v] of Object.entries({ debayer, register, cosmetic, force, exclude, solve })) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}

/** The night folder and the output folder of a plan request, both under the roots, the output not inside the night. */
function planArgs(roots: Roots, b: z.infer<typeof processingSchemas.plan>): { night: string; out: string } {
  const night = roots.existing(b.night);
  const out = roots.writable(b.out ?? defaultOut(night));
  if (out === night || out.startsWith(night + '/')) throw new HttpError(400, 'BAD_ARGUMENT', `${b.out}: the output folder must not be inside the night folder`);
  return { night, out };
}

export const processingRoutes: FastifyPluginAsync<ServerContext> = async (app, { roots, processing }) => {
  route(app, { method: 'POST', url: '/api/processing/plan', tag: 'processing', summary: 'scan a night folder and return the plan (groups, masters, stacks, steps)', body: processingSchemas.plan }, async ({ body }) => {
    const { night, out } = planArgs(roots, body);
    return makePlan(night, out, runOptionsOf(body.options));
  });
  route(app, { method: 'POST', url: '/api/processing/run', tag: 'processing', summary: 'start processing a night (progress over the WebSocket and /api/processing/status)', body: processingSchemas.plan }, async ({ body, reply }) => {
    const { night, out } = planArgs(roots, body);
    const { status } = processing.start(night, out, runOptionsOf(body.options));
    reply.status(202);
    return status;
  });
  route(app, { method: 'GET', url: '/api/processing/status', tag: 'processing', summary: 'the current or last run: progress, log, report' }, async () => ({ run: processing.status() }));
  route(app, { method: 'GET', url: '/api/processing/results', tag: 'processing', summary: 'results of an output folder: masters, stacks, previews, report.json', query: processingSchemas.results }, async ({ query }) => results(roots.existing(query.out)));
  route(app, { method: 'GET', url: '/api/processing/output', tag: 'processing', summary: "a run's PNG preview or report.html (previews inlined): only files the run recorded in OUT's manifest", query: processingSchemas.output, produces: 'binary' }, async ({ query, reply }) => {
    const f = outputFile(roots.existing(query.out), query.file);
    reply.header('content-type', f.type === 'text/html' ? 'text/html; charset=utf-8' : f.type).header('x-content-type-options', 'nosniff');
    // the report is shown as it is: no scripts, nothing loaded, no forms
    if (f.type === 'text/html') reply.header('content-security-policy', "default-src 'none'; img-src data:; style-src 'unsafe-inline'; sandbox");
    return f.body;
  });
};
