/** Routes of the focus runner: GET /api/focus/status, POST /api/focus/loop, POST /api/focus/autofocus, POST /api/focus/abort, POST /api/focus/move. */
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { route } from '../route.js';
import type { ServerContext } from '../context.js';

export const focusSchemas = {
  loop: z.strictObject({ exposure: z.number().min(0.001).max(60).default(5), count: z.number().int().min(1).max(100).default(5) }),
  autofocus: z.strictObject({
    exposure: z.number().min(0.001).max(60).default(10),
    step: z.number().int().min(1).max(5000).default(40).describe('focuser steps between samples'),
    points: z.number().int().min(2).max(10).default(4).describe('samples on each side of the centre'),
    metric: z.enum(['fwhm', 'hfr']).default('fwhm'),
  }),
  move: z.strictObject({ position: z.number().int().min(0) }),
};

export const focusRoutes: FastifyPluginAsync<ServerContext> = async (app, { acquire: { focus } }) => {
  route(app, { method: 'GET', url: '/api/focus/status', tag: 'focus', summary: 'focuser position, focus loop measures, autofocus points and fitted V-curve' }, async () => focus.status());
  route(app, { method: 'POST', url: '/api/focus/loop', tag: 'focus', summary: 'a focus loop: short exposures, each measured (HFR, FWHM)', body: focusSchemas.loop }, async ({ body, reply }) => {
    reply.status(202);
    return focus.loop(body);
  });
  route(app, { method: 'POST', url: '/api/focus/autofocus', tag: 'focus', summary: 'autofocus: sample a V-curve around the position, fit a hyperbola, move to its minimum', body: focusSchemas.autofocus }, async ({ body, reply }) => {
    reply.status(202);
    return focus.autofocus(body);
  });
  route(app, { method: 'POST', url: '/api/focus/abort', tag: 'focus', summary: 'abort the focus loop or autofocus (the exposure in progress is dropped)' }, async () => focus.abort());
  route(app, { method: 'POST', url: '/api/focus/move', tag: 'focus', summary: 'move the focuser to an absolute position', body: focusSchemas.move }, async ({ body }) => focus.move(body.position));
};
