/**
 * Routes of processing: POST /api/processing/plan, POST /api/processing/run, GET /api/processing/status,
 * GET /api/processing/results. A run goes through Processing.start, which applies the pipeline's path
 * refusals (pipeline/safety.ts) as the CLI does. The integration options of plan/run are made from
 * the integration catalogue (integrate/options.ts): the same names, values, ranges and defaults as
 * `darkroom stack` and `darkroom run`.
 */
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { HttpError } from '../errors.js';
import { defaultOut, makePlan, results } from '../processing.js';
import { route } from '../route.js';
import type { Roots } from '../roots.js';
import type { ServerContext } from '../context.js';
import { DEFAULT_OPTIONS, type RunOptions } from '../../pipeline/plan.js';
import { runIntegrationCatalogue, splitRunIntegration, validateRunIntegration } from '../../integrate/options.js';
import { catalogueShape } from '../../util/options-schema.js';

/** The integration options of a run (those of `darkroom stack`, less its extra outputs), with the pipeline's defaults. */
export const RUN_INTEGRATION = runIntegrationCatalogue(DEFAULT_OPTIONS);

export const processingSchemas = {
  plan: z
    .object({
      night: z.string().min(1),
      out: z.string().min(1).optional(),
      options: z
        .object({
          ...catalogueShape(RUN_INTEGRATION),
          debayer: z.string().optional(),
          register: z.boolean().optional(),
          cosmetic: z.boolean().optional(),
          force: z.boolean().optional(),
        })
        .strict()
        .default({}),
    })
    .strict(),
  results: z.object({ out: z.string().min(1) }),
};

/** The run options of a plan request: its integration options split as a run's, checked together (a range low >= high: 400). */
export function runOptionsOf(o: z.infer<typeof processingSchemas.plan>['options']): Partial<RunOptions> {
  const { debayer, register, cosmetic, force, ...integration } = o as Record<string, unknown> & Pick<RunOptions, 'debayer' | 'register' | 'cosmetic' | 'force'>;
  const stacking = splitRunIntegration(integration, RUN_INTEGRATION);
  validateRunIntegration({ ...DEFAULT_OPTIONS, ...stacking });
  const out: Partial<RunOptions> = { ...stacking };
  for (const [k, v] of Object.entries({ debayer, register, cosmetic, force })) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
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
};
