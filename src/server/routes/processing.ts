/**
 * Routes of processing: POST /api/processing/plan, POST /api/processing/run, GET /api/processing/status,
 * GET /api/processing/results. A run goes through Processing.start, which applies the pipeline's path
 * refusals (pipeline/safety.ts) as the CLI does.
 */
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { HttpError } from '../errors.js';
import { defaultOut, makePlan, results } from '../processing.js';
import { route } from '../route.js';
import type { Roots } from '../roots.js';
import type { ServerContext } from '../context.js';

export const processingSchemas = {
  plan: z
    .object({
      night: z.string().min(1),
      out: z.string().min(1).optional(),
      options: z
        .object({
          reject: z.string().optional(),
          normalize: z.string().optional(),
          weights: z.string().optional(),
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
    return makePlan(night, out, body.options);
  });
  route(app, { method: 'POST', url: '/api/processing/run', tag: 'processing', summary: 'start processing a night (progress over the WebSocket and /api/processing/status)', body: processingSchemas.plan }, async ({ body, reply }) => {
    const { night, out } = planArgs(roots, body);
    const { status } = processing.start(night, out, body.options);
    reply.status(202);
    return status;
  });
  route(app, { method: 'GET', url: '/api/processing/status', tag: 'processing', summary: 'the current or last run: progress, log, report' }, async () => ({ run: processing.status() }));
  route(app, { method: 'GET', url: '/api/processing/results', tag: 'processing', summary: 'results of an output folder: masters, stacks, previews, report.json', query: processingSchemas.results }, async ({ query }) => results(roots.existing(query.out)));
};
