/**
 * Routes of the connected camera: GET /api/camera/status, GET /api/camera/cooler/history, POST /api/camera/cooler,
 * POST /api/camera/expose, POST /api/camera/abort, GET /api/camera/image, GET /api/camera/image/info,
 * GET /api/camera/image/stars, POST /api/camera/image/save.
 */
import { existsSync } from 'node:fs';
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { VERSION } from '../../version.js';
import { writeFits } from '../../fits/index.js';
import { HttpError } from '../errors.js';
import { imageInfo, imageStars, pixelBuffer } from '../images.js';
import { route, sendPixels } from '../route.js';
import type { ServerContext } from '../context.js';

const FRAME_TYPES = ['light', 'dark', 'bias', 'flat', 'flatdark'] as const;

export const cameraSchemas = {
  cooler: z.object({ on: z.boolean(), setpoint: z.number().min(-100).max(60).optional().describe('C') }).strict(),
  expose: z
    .object({
      type: z.enum(FRAME_TYPES).default('light'),
      exposure: z.number().min(0).max(3600).describe('seconds'),
      binning: z.number().int().min(1).max(8).default(1),
      filter: z.string().min(1).optional(),
      delay: z.number().min(0).max(3600).default(0).describe('seconds before the exposure starts'),
      wait: z.boolean().default(false).describe('respond when the image is downloaded'),
    })
    .strict(),
  stars: z.object({ max: z.coerce.number().int().min(1).max(5000).default(500) }),
  save: z.object({ path: z.string().min(1) }).strict(),
};

export const cameraRoutes: FastifyPluginAsync<ServerContext> = async (app, { devices, roots }) => {
  route(app, { method: 'GET', url: '/api/camera/status', tag: 'camera', summary: 'state, cooler, binning, filter, current exposure, last error' }, async () => devices.status());
  route(app, { method: 'GET', url: '/api/camera/cooler/history', tag: 'camera', summary: 'CCD temperature and cooler power sampled once a second (last 15 minutes)' }, async () => ({ samples: devices.coolerHistory() }));
  route(app, { method: 'POST', url: '/api/camera/cooler', tag: 'camera', summary: 'cooler on/off and set point', body: cameraSchemas.cooler }, async ({ body }) => devices.cooler(body.on, body.setpoint));
  route(app, { method: 'POST', url: '/api/camera/expose', tag: 'camera', summary: 'start an exposure (type, filter, exposure, binning, delay)', body: cameraSchemas.expose }, async ({ body, reply }) => {
    const { wait, ...p } = body;
    const job = await devices.expose(p, wait);
    if (job.phase === 'failed') throw new HttpError(409, 'CAMERA', `exposure failed: ${job.error}`);
    reply.status(wait ? 200 : 202);
    return job;
  });
  route(app, { method: 'POST', url: '/api/camera/abort', tag: 'camera', summary: 'abort the exposure in progress' }, async () => devices.abort());
  route(app, { method: 'GET', url: '/api/camera/image', tag: 'camera', summary: 'the last image: float32 pixels', produces: 'binary' }, async ({ reply }) => {
    const img = devices.lastImage();
    return sendPixels(reply, img, pixelBuffer(img));
  });
  route(app, { method: 'GET', url: '/api/camera/image/info', tag: 'camera', summary: 'the last image: header and statistics' }, async () => imageInfo(devices.lastImage()));
  route(app, { method: 'GET', url: '/api/camera/image/stars', tag: 'camera', summary: 'the last image: stars with FWHM', query: cameraSchemas.stars }, async ({ query }) => imageStars(devices.lastImage(), query.max));
  route(app, { method: 'POST', url: '/api/camera/image/save', tag: 'camera', summary: 'write the last image as FITS under a root', body: cameraSchemas.save }, async ({ body }) => {
    const img = devices.lastImage();
    const p = roots.writable(body.path);
    if (!/\.fits?$/i.test(p)) throw new HttpError(400, 'BAD_ARGUMENT', `${body.path}: the file name must end in .fits or .fit`);
    if (existsSync(p)) throw new HttpError(409, 'EXISTS', `${body.path}: already exists`);
    writeFits(p, img, { bitpix: -32, history: [`darkroom ${VERSION} serve: camera image saved from the web UI`] });
    return { path: p };
  });
};
