/** Routes of the guide runner (simulated mount and guide camera): GET /api/guide/status, POST /api/guide/calibrate, POST /api/guide/start, POST /api/guide/stop, POST /api/guide/dither, GET /api/guide/frame. */
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { route } from '../route.js';
import { HttpError } from '../errors.js';
import type { ServerContext } from '../context.js';

export const guideSchemas = {
  start: z.strictObject({ exposure: z.number().min(0.05).max(30).default(2) }),
};

export const guideRoutes: FastifyPluginAsync<ServerContext> = async (app, { acquire: { guide } }) => {
  route(app, { method: 'GET', url: '/api/guide/status', tag: 'guide', summary: 'guiding state, calibration, recent samples (RA/Dec px) and RMS (px, arcsec)' }, async () => guide.status());
  route(app, { method: 'POST', url: '/api/guide/calibrate', tag: 'guide', summary: 'select a guide star and calibrate RA and Dec with pulses' }, async () => guide.calibrate());
  route(app, { method: 'POST', url: '/api/guide/start', tag: 'guide', summary: 'start guiding (samples: guide events)', body: guideSchemas.start }, async ({ body, reply }) => {
    reply.status(202);
    return guide.start(body.exposure);
  });
  route(app, { method: 'POST', url: '/api/guide/stop', tag: 'guide', summary: 'stop guiding' }, async () => guide.stop());
  route(app, { method: 'POST', url: '/api/guide/dither', tag: 'guide', summary: 'dither while guiding: move the lock position, answer once the star settled (notices dither, settled)' }, async () => {
    if (guide.status().state !== 'guiding') throw new HttpError(409, 'NOT_GUIDING', 'guiding is not running: start guiding before dithering');
    await guide.dither();
    return guide.status();
  });
  route(app, { method: 'GET', url: '/api/guide/frame', tag: 'guide', summary: 'the last guide frame, auto-stretched PNG (the lock position is in the status: star)', produces: 'binary' }, async ({ reply }) => {
    const png = guide.framePng();
    reply.header('content-type', 'image/png').header('cache-control', 'no-store');
    return png;
  });
};
