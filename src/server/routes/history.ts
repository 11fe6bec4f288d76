/** Routes of the night's frame history: GET /api/history (every frame's metrics), GET /api/history/thumb (a frame's PNG thumbnail). */
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { HttpError } from '../errors.js';
import { route } from '../route.js';
import type { ServerContext } from '../context.js';

export const historySchemas = {
  thumb: z.object({ id: z.coerce.number().int().min(1) }),
};

export const historyRoutes: FastifyPluginAsync<ServerContext> = async (app, { acquire: { history } }) => {
  route(app, { method: 'GET', url: '/api/history', tag: 'history', summary: "the night's frames, oldest first: source, time, exposure, filter, stars, HFR (px), background (ADU), temperature (C), guide RMS (arcsec)" }, async () => ({ frames: history.list() }));
  route(app, { method: 'GET', url: '/api/history/thumb', tag: 'history', summary: "a frame's auto-stretched grey PNG thumbnail (96 px on its long side)", query: historySchemas.thumb, produces: 'binary' }, async ({ query, reply }) => {
    const png = history.thumb(query.id);
    if (!png) throw new HttpError(404, 'ENOENT', `frame ${query.id}: no thumbnail (not taken in this session, or too old)`);
    reply.header('content-type', 'image/png').header('cache-control', 'private, max-age=86400');
    return png;
  });
};
