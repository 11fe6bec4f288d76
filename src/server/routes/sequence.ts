/**
 * Routes of the sequence runner: POST /api/sequence/estimate, POST /api/sequence/start, POST /api/sequence/pause,
 * POST /api/sequence/resume, POST /api/sequence/abort, GET /api/sequence/status.
 */
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { PlanSchema } from '../../acquire/plan.js';
import { route } from '../route.js';
import type { ServerContext } from '../context.js';

export const sequenceSchemas = {
  estimate: z.strictObject({ plan: PlanSchema }),
  start: z.strictObject({ plan: PlanSchema, out: z.string().min(1).describe('output folder (inside a root; created when missing)') }),
};

export const sequenceRoutes: FastifyPluginAsync<ServerContext> = async (app, { acquire: { sequence } }) => {
  route(app, { method: 'POST', url: '/api/sequence/estimate', tag: 'sequence', summary: 'validate a sequence plan (up to 16 groups) and estimate its duration on the connected camera', body: sequenceSchemas.estimate }, async ({ body }) => sequence.estimate(body.plan));
  route(app, { method: 'POST', url: '/api/sequence/start', tag: 'sequence', summary: 'start a sequence on the connected camera, saving into an output folder under a root (progress: sequence events)', body: sequenceSchemas.start }, async ({ body, reply }) => {
    const st = await sequence.start(body.plan, body.out);
    reply.status(202);
    return st;
  });
  route(app, { method: 'POST', url: '/api/sequence/pause', tag: 'sequence', summary: 'pause the sequence after the current frame' }, async () => sequence.pause());
  route(app, { method: 'POST', url: '/api/sequence/resume', tag: 'sequence', summary: 'resume a paused sequence' }, async () => sequence.resume());
  route(app, { method: 'POST', url: '/api/sequence/abort', tag: 'sequence', summary: 'abort the sequence (the running exposure is dropped)' }, async () => sequence.abort());
  route(app, { method: 'GET', url: '/api/sequence/status', tag: 'sequence', summary: 'the current or last sequence: state, frame i of n, current file, saved frames' }, async () => sequence.status());
};
