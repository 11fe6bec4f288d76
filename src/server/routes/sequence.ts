/**
 * Routes of the sequence runner: POST /api/sequence/estimate, POST /api/sequence/start, POST /api/sequence/pause,
 * POST /api/sequence/resume, POST /api/sequence/abort, GET /api/sequence/status, GET /api/sequence/plan (read a
 * plan file), POST /api/sequence/plan (write one): the YAML or JSON files `darkroom sequence --plan` reads.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { stringify as yamlText } from 'yaml';
import { writeFileAtomic } from '../../util/atomic.js';
import { HttpError } from '../errors.js';
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { PlanSchema, parsePlan, readPlan, type Plan } from '../../acquire/plan.js';
import { route } from '../route.js';
import type { ServerContext } from '../context.js';

export const sequenceSchemas = {
  estimate: z.strictObject({ plan: PlanSchema }),
  readPlan: z.object({ path: z.string().min(1) }),
  savePlan: z.strictObject({ path: z.string().min(1).describe('a .yaml, .yml or .json file under a root'), plan: PlanSchema, overwrite: z.boolean().default(false) }),
  start: z.strictObject({ plan: PlanSchema, out: z.string().min(1).describe('output folder (inside a root; created when missing)') }),
};

/** The plan's keys that need one another (loop and until, altitude and site, ...), checked as the CLI checks a plan file (a DarkroomError: 400). */
const checked = (plan: Plan): Plan => parsePlan(plan);

export const sequenceRoutes: FastifyPluginAsync<ServerContext> = async (app, { acquire: { sequence }, roots }) => {
  route(app, { method: 'GET', url: '/api/sequence/plan', tag: 'sequence', summary: 'read a plan file (YAML or JSON, as darkroom sequence --plan)', query: sequenceSchemas.readPlan }, async ({ query }) => ({ path: roots.existing(query.path), plan: readPlan(roots.existing(query.path)) }));
  route(app, { method: 'POST', url: '/api/sequence/plan', tag: 'sequence', summary: 'write a plan file (YAML or JSON by its extension) under a root', body: sequenceSchemas.savePlan }, async ({ body }) => {
    const p = roots.writable(body.path);
    const yaml = /\.ya?ml$/i.test(p);
    if (!yaml && !/\.json$/i.test(p)) throw new HttpError(400, 'BAD_ARGUMENT', `${body.path}: a plan file ends in .yaml, .yml or .json`);
    if (existsSync(p) && !body.overwrite) throw new HttpError(409, 'EXISTS', `${body.path}: already exists`);
    mkdirSync(dirname(p), { recursive: true });
    const plan = checked(body.plan);
    writeFileAtomic(p, [Buffer.from(yaml ? yamlText(plan) : `${JSON.stringify(plan, null, 2)}\n`)]);
    return { path: p };
  });
  route(app, { method: 'POST', url: '/api/sequence/estimate', tag: 'sequence', summary: 'validate a sequence plan (up to 16 groups) and estimate its duration on the connected camera', body: sequenceSchemas.estimate }, async ({ body }) => sequence.estimate(checked(body.plan)));
  route(app, { method: 'POST', url: '/api/sequence/start', tag: 'sequence', summary: 'start a sequence on the connected camera, saving into an output folder under a root (progress: sequence events)', body: sequenceSchemas.start }, async ({ body, reply }) => {
    const st = await sequence.start(checked(body.plan), body.out);
    reply.status(202);
    return st;
  });
  route(app, { method: 'POST', url: '/api/sequence/pause', tag: 'sequence', summary: 'pause the sequence after the current frame' }, async () => sequence.pause());
  route(app, { method: 'POST', url: '/api/sequence/resume', tag: 'sequence', summary: 'resume a paused sequence' }, async () => sequence.resume());
  route(app, { method: 'POST', url: '/api/sequence/abort', tag: 'sequence', summary: 'abort the sequence (the running exposure is dropped)' }, async () => sequence.abort());
  route(app, { method: 'GET', url: '/api/sequence/status', tag: 'sequence', summary: 'the current or last sequence: state, frame i of n, current file, saved frames' }, async () => sequence.status());
};
