/**
 * Routes of the connected camera: GET /api/camera/status, GET /api/camera/cooler/history, POST /api/camera/cooler,
 * POST /api/camera/expose, POST /api/camera/abort, GET /api/camera/image, GET /api/camera/image/info,
 * GET /api/camera/image/stars, POST /api/camera/image/save, GET /api/camera/settings and POST /api/camera/settings
 * (the QSI-style vendor settings, capabilities and error conditions; the body's options come from
 * CAMERA_SETTINGS_CATALOGUE, as `darkroom camera set`'s).
 */
import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { VERSION } from '../../version.js';
import { writeFits } from '../../fits/index.js';
import { HttpError } from '../errors.js';
import { imageInfo, imageStars, pixelBuffer } from '../images.js';
import { route, sendPixels } from '../route.js';
import type { ServerContext } from '../context.js';
import { CAMERA_SETTINGS_CATALOGUE, settingsPatch, type CameraSettingsInput } from '../../devices/camera-settings.js';
import { catalogueShape } from '../../util/options-schema.js';
import { pick } from '../../util/options.js';
import type { Camera, CameraSettingsState } from '../../devices/types.js';

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
  /** The settings to change (absent ones stay); the pixel mask as a list of unbinned {x, y}. */
  settings: z
    .object({
      ...catalogueShape(pick(CAMERA_SETTINGS_CATALOGUE, ['pixelMask'], true)),
      pixelMask: z.array(z.object({ x: z.number().int().min(0), y: z.number().int().min(0) }).strict()).max(1000).optional().describe('pixels the camera masks (unbinned x, y)'),
    })
    .strict(),
};

/** The camera's settings, or 422 for a camera without them. */
async function settingsOf(cam: Camera): Promise<CameraSettingsState> {
  if (!cam.settingsState) throw new HttpError(422, 'UNSUPPORTED', 'the camera has no QSI-style settings');
  return cam.settingsState();
}

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
  route(app, { method: 'GET', url: '/api/camera/settings', tag: 'camera', summary: 'vendor settings (fan, gain, shutter, anti-blooming, flush, readout, LED, beeper, pixel mask), capabilities and error conditions' }, async () =>
    settingsOf(devices.opened().camera),
  );
  route(app, { method: 'POST', url: '/api/camera/settings', tag: 'camera', summary: 'change some vendor settings; answers the new settings', body: cameraSchemas.settings }, async ({ body }) => {
    const cam = devices.opened().camera;
    await settingsOf(cam);
    const patch = settingsPatch(body as CameraSettingsInput);
    if (!Object.keys(patch).length) throw new HttpError(400, 'BAD_ARGUMENT', 'give at least one setting to change');
    return cam.setSettings!(patch);
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
    mkdirSync(dirname(p), { recursive: true });
    writeFits(p, img, { bitpix: -32, history: [`darkroom ${VERSION} serve: camera image saved from the web UI`] });
    return { path: p };
  });
};
