/**
 * The Darkroom API server (fastify): every UI action goes through these routes, each validated with
 * zod; the OpenAPI document at /api/openapi.json is generated from the same route table. Events
 * (cooler samples, exposures, run progress) go to every client of the WebSocket at /api/ws.
 * Safety: bound to 127.0.0.1 unless told otherwise; files only inside the configured roots; who may call
 * what (token, Host, Origin, JSON content type) is decided in one place, security.ts.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import fastifyWebsocket from '@fastify/websocket';
import fastifyStatic from '@fastify/static';
import { z, type ZodType } from 'zod';
import type { WebSocket } from 'ws';
import { VERSION } from '../version.js';
import { writeFits } from '../fits/index.js';
import { HttpError, toHttp, zodMessage } from './errors.js';
import { Roots } from './roots.js';
import { DeviceSession, DEVICE_KINDS } from './devices.js';
import { imageInfo, imageStars, loadImage, pixelBuffer } from './images.js';
import { defaultOut, makePlan, Processing, results } from './processing.js';
import { AcquireSession, acquireSchemas } from './acquire.js';
import { installAccessPolicy, LOOPBACK, publicRoutes } from './security.js';

export interface ServerOptions {
  roots: string[];
  /** Address the server will listen on (only used for the Host-header check; default 127.0.0.1). */
  host?: string;
  token?: string;
  /** Folder of the built front end (default: dist/web found from this file). */
  webDir?: string | null;
  simSpeed?: number;
  /** Speed of the simulated guiding clock (default 20). */
  guideSpeed?: number;
  logger?: boolean;
}

/** The listening policy: loopback by default; any other host requires a token (generated when not given). */
export function servePolicy(o: { host?: string; token?: string }): { host: string; token?: string; generated: boolean } {
  const host = o.host ?? '127.0.0.1';
  if (o.token !== undefined && o.token.length < 8) throw new HttpError(400, 'BAD_ARGUMENT', '--token must be at least 8 characters');
  if (!LOOPBACK.has(host) && !o.token) return { host, token: randomBytes(18).toString('base64url'), generated: true };
  return { host, token: o.token, generated: false };
}

/** dist/web, whether this file runs from src/server (tsx) or dist/server (compiled). */
export function findWebDir(): string | null {
  const here = fileURLToPath(new URL('.', import.meta.url));
  for (const c of [join(here, '../../dist/web'), join(here, '../web')]) if (existsSync(join(c, 'index.html'))) return c;
  return null;
}

// ---- schemas ---------------------------------------------------------------------------------
const FRAME_TYPES = ['light', 'dark', 'bias', 'flat', 'flatdark'] as const;
export const schemas = {
  connect: z.object({ spec: z.string().min(1).describe('sim | indi://HOST:PORT[/DEVICE] | alpaca://HOST:PORT/N') }).strict(),
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
  savePath: z.object({ path: z.string().min(1) }).strict(),
  path: z.object({ path: z.string().min(1) }),
  optPath: z.object({ path: z.string().min(1).optional() }),
  stars: z.object({ path: z.string().min(1), max: z.coerce.number().int().min(1).max(5000).default(500) }),
  camStars: z.object({ max: z.coerce.number().int().min(1).max(5000).default(500) }),
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

interface RouteDef {
  method: 'GET' | 'POST';
  url: string;
  tag: string;
  summary: string;
  query?: ZodType;
  body?: ZodType;
  produces?: 'json' | 'binary';
}

const ERROR_SCHEMA = { type: 'object', properties: { error: { type: 'string' }, message: { type: 'string' } }, required: ['error', 'message'] };

function jsonSchema(s: ZodType): Record<string, unknown> {
  const j = z.toJSONSchema(s, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  delete j.$schema;
  return j;
}

export function openApi(routes: RouteDef[]): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const op: Record<string, unknown> = { tags: [r.tag], summary: r.summary, operationId: `${r.method.toLowerCase()}${r.url.replace(/[^A-Za-z0-9]+(.)?/g, (_, c: string | undefined) => (c ? c.toUpperCase() : ''))}` };
    if (r.query) {
      const js = jsonSchema(r.query) as { properties?: Record<string, unknown>; required?: string[] };
      op.parameters = Object.entries(js.properties ?? {}).map(([name, schema]) => ({ name, in: 'query', required: (js.required ?? []).includes(name), schema }));
    }
    if (r.body) op.requestBody = { required: true, content: { 'application/json': { schema: jsonSchema(r.body) } } };
    op.responses = {
      '200':
        r.produces === 'binary'
          ? {
              description: 'float32 pixels, little-endian, planar (channel after channel); X-Width, X-Height, X-Channels headers',
              headers: { 'X-Width': { schema: { type: 'integer' } }, 'X-Height': { schema: { type: 'integer' } }, 'X-Channels': { schema: { type: 'integer' } } },
              content: { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } },
            }
          : { description: 'OK', content: { 'application/json': { schema: { type: 'object' } } } },
      '4XX': { description: 'bad request, unauthorized, forbidden path, not found, conflict', content: { 'application/json': { schema: ERROR_SCHEMA } } },
    };
    (paths[r.url] ??= {})[r.method.toLowerCase()] = op;
  }
  paths['/api/ws'] = {
    get: {
      tags: ['events'],
      summary: 'WebSocket of events: {type: cooler|exposure|image|connected|disconnected|error|run|run-progress|run-log|sequence|focus|guide, ...}',
      operationId: 'getApiWs',
      responses: { '101': { description: 'switching protocols (WebSocket)' } },
    },
  };
  return {
    openapi: '3.1.0',
    info: { title: 'Darkroom API', version: VERSION, description: 'Camera control, image viewing and processing for the Darkroom web UI. Every POST must send Content-Type: application/json (an empty body is allowed on routes without one); requests with an Origin other than this server are refused.' },
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } }, schemas: { Error: ERROR_SCHEMA } },
    security: [{ bearer: [] }, {}],
    paths,
  };
}

function parse<T>(s: ZodType<T>, v: unknown, where: string): T {
  const r = s.safeParse(v ?? {});
  if (!r.success) throw new HttpError(400, 'BAD_ARGUMENT', zodMessage(r.error, where));
  return r.data;
}

function sendPixels(reply: FastifyReply, img: { width: number; height: number; channels: number }, buf: Buffer): Buffer {
  reply
    .header('content-type', 'application/octet-stream')
    .header('x-width', String(img.width))
    .header('x-height', String(img.height))
    .header('x-channels', String(img.channels))
    .header('x-byte-order', 'little')
    .header('access-control-expose-headers', 'x-width, x-height, x-channels');
  return buf;
}

export interface DarkroomServer {
  app: FastifyInstance;
  roots: Roots;
  devices: DeviceSession;
  processing: Processing;
  acquire: AcquireSession;
  token?: string;
}

export async function buildServer(opts: ServerOptions): Promise<DarkroomServer> {
  const roots = new Roots(opts.roots);
  const app = Fastify({ logger: opts.logger ?? false, bodyLimit: 1 << 20 });
  const clients = new Set<WebSocket>();
  const broadcast = (ev: Record<string, unknown>): void => {
    if (clients.size === 0) return;
    const s = JSON.stringify(ev);
    for (const c of clients) if (c.readyState === 1) c.send(s);
  };
  const devices = new DeviceSession({ simSpeed: opts.simSpeed, onEvent: broadcast });
  const processing = new Processing(broadcast);
  const acquire = new AcquireSession(devices, roots, broadcast, opts.guideSpeed);
  const token = opts.token;
  const loopbackOnly = LOOPBACK.has(opts.host ?? '127.0.0.1');

  app.setErrorHandler((e, _req, reply) => {
    const h = toHttp(e);
    if (h.status >= 500) app.log.error(e);
    void reply.status(h.status).send(h.body);
  });
  app.setNotFoundHandler((req, reply) => {
    // unmatched paths passed the access policy as protected ones; the UI page is the fallback for GET
    if (req.url.startsWith('/api/') || !webDir || !['GET', 'HEAD'].includes(req.method)) return reply.status(404).send({ error: 'NOT_FOUND', message: `no route ${req.method} ${req.url.split('?')[0]}` });
    return reply.type('text/html; charset=utf-8').send(readFileSync(join(webDir, 'index.html')));
  });

  installAccessPolicy(app, { token, loopbackOnly });

  await app.register(fastifyWebsocket);
  const webDir = opts.webDir === undefined ? findWebDir() : opts.webDir;
  await publicRoutes(app, async (ui) => {
    if (webDir) await ui.register(fastifyStatic, { root: webDir, prefix: '/', wildcard: false });
    else ui.get('/', async (_req, reply) => reply.type('text/plain').send('darkroom: the web UI is not built (run: npx vite build web --outDir ../dist/web --emptyOutDir)\n'));
  });

  const table: RouteDef[] = [];
  const route = <Q = unknown, B = unknown>(def: RouteDef, handler: (a: { query: Q; body: B; req: FastifyRequest; reply: FastifyReply }) => Promise<unknown>): void => {
    table.push(def);
    const h = async (req: FastifyRequest, reply: FastifyReply): Promise<unknown> => {
      const query = (def.query ? parse(def.query, req.query, 'query') : req.query) as Q;
      const body = (def.body ? parse(def.body, req.body, 'body') : req.body) as B;
      return handler({ query, body, req, reply });
    };
    if (def.method === 'GET') app.get(def.url, h);
    else app.post(def.url, h);
  };

  // ---- general
  route({ method: 'GET', url: '/api/health', tag: 'general', summary: 'version, roots and whether a token is required' }, async () => ({
    darkroom: VERSION,
    roots: roots.dirs,
    auth: token ? 'token' : 'none',
  }));
  route({ method: 'GET', url: '/api/openapi.json', tag: 'general', summary: 'this OpenAPI document' }, async () => openApi(table));

  // ---- devices and camera
  route({ method: 'GET', url: '/api/devices', tag: 'devices', summary: 'device kinds that can be connected, and the connected camera' }, async () => ({ kinds: DEVICE_KINDS, camera: await devices.status() }));
  route<unknown, z.infer<typeof schemas.connect>>({ method: 'POST', url: '/api/devices/connect', tag: 'devices', summary: 'connect a camera (sim, indi://..., alpaca://...)', body: schemas.connect }, async ({ body }) => devices.connect(body.spec));
  route({ method: 'POST', url: '/api/devices/disconnect', tag: 'devices', summary: 'disconnect the camera' }, async () => {
    await devices.disconnect();
    return devices.status();
  });
  route({ method: 'GET', url: '/api/camera/status', tag: 'camera', summary: 'state, cooler, binning, filter, current exposure, last error' }, async () => devices.status());
  route({ method: 'GET', url: '/api/camera/cooler/history', tag: 'camera', summary: 'CCD temperature and cooler power sampled once a second (last 15 minutes)' }, async () => ({ samples: devices.coolerHistory() }));
  route<unknown, z.infer<typeof schemas.cooler>>({ method: 'POST', url: '/api/camera/cooler', tag: 'camera', summary: 'cooler on/off and set point', body: schemas.cooler }, async ({ body }) => devices.cooler(body.on, body.setpoint));
  route<unknown, z.infer<typeof schemas.expose>>({ method: 'POST', url: '/api/camera/expose', tag: 'camera', summary: 'start an exposure (type, filter, exposure, binning, delay)', body: schemas.expose }, async ({ body, reply }) => {
    const { wait, ...p } = body;
    const job = await devices.expose(p, wait);
    if (job.phase === 'failed') throw new HttpError(409, 'CAMERA', `exposure failed: ${job.error}`);
    reply.status(wait ? 200 : 202);
    return job;
  });
  route({ method: 'POST', url: '/api/camera/abort', tag: 'camera', summary: 'abort the exposure in progress' }, async () => devices.abort());
  route({ method: 'GET', url: '/api/camera/image', tag: 'camera', summary: 'the last image: float32 pixels', produces: 'binary' }, async ({ reply }) => {
    const img = devices.lastImage();
    return sendPixels(reply, img, pixelBuffer(img));
  });
  route({ method: 'GET', url: '/api/camera/image/info', tag: 'camera', summary: 'the last image: header and statistics' }, async () => imageInfo(devices.lastImage()));
  route<z.infer<typeof schemas.camStars>>({ method: 'GET', url: '/api/camera/image/stars', tag: 'camera', summary: 'the last image: stars with FWHM', query: schemas.camStars }, async ({ query }) => imageStars(devices.lastImage(), query.max));
  route<unknown, z.infer<typeof schemas.savePath>>({ method: 'POST', url: '/api/camera/image/save', tag: 'camera', summary: 'write the last image as FITS under a root', body: schemas.savePath }, async ({ body }) => {
    const img = devices.lastImage();
    const p = roots.writable(body.path);
    if (!/\.fits?$/i.test(p)) throw new HttpError(400, 'BAD_ARGUMENT', `${body.path}: the file name must end in .fits or .fit`);
    if (existsSync(p)) throw new HttpError(409, 'EXISTS', `${body.path}: already exists`);
    writeFits(p, img, { bitpix: -32, history: [`darkroom ${VERSION} serve: camera image saved from the web UI`] });
    return { path: p };
  });

  // ---- files and images
  route<z.infer<typeof schemas.optPath>>({ method: 'GET', url: '/api/files', tag: 'files', summary: 'list a folder under a root (no path: the roots)', query: schemas.optPath }, async ({ query }) => {
    if (!query.path) return { path: null, parent: null, entries: roots.dirs.map((d) => ({ name: d, path: d, type: 'dir' })) };
    const real = roots.existing(query.path);
    if (!statSync(real).isDirectory()) throw new HttpError(400, 'BAD_ARGUMENT', `${query.path}: not a folder`);
    const entries = readdirSync(real, { withFileTypes: true })
      .filter((e) => !e.name.startsWith('.'))
      .map((e) => {
        const p = join(real, e.name);
        let type: 'dir' | 'file' = e.isDirectory() ? 'dir' : 'file';
        let size = 0;
        try {
          const st = statSync(p);
          type = st.isDirectory() ? 'dir' : 'file';
          size = st.size;
        } catch {
          /* dangling link */
        }
        return { name: e.name, path: p, type, size, fits: type === 'file' && /\.(fits?|fts)$/i.test(e.name) };
      })
      .sort((a, b) => (a.type === b.type ? a.name.localeCompare(b.name) : a.type === 'dir' ? -1 : 1));
    const parent = roots.dirs.includes(real) ? null : join(real, '..');
    return { path: real, parent, entries };
  });
  route<z.infer<typeof schemas.path>>({ method: 'GET', url: '/api/images/info', tag: 'images', summary: 'a FITS file: header cards and statistics', query: schemas.path }, async ({ query }) => ({ path: roots.existing(query.path), ...imageInfo(loadImage(roots.existing(query.path))) }));
  route<z.infer<typeof schemas.path>>({ method: 'GET', url: '/api/images/pixels', tag: 'images', summary: 'a FITS file: float32 pixels', query: schemas.path, produces: 'binary' }, async ({ query, reply }) => {
    const img = loadImage(roots.existing(query.path));
    return sendPixels(reply, img, pixelBuffer(img));
  });
  route<z.infer<typeof schemas.stars>>({ method: 'GET', url: '/api/images/stars', tag: 'images', summary: 'a FITS file: stars with FWHM and HFR', query: schemas.stars }, async ({ query }) => {
    const p = roots.existing(query.path);
    return imageStars(loadImage(p), query.max, p);
  });

  // ---- processing
  const planArgs = (b: z.infer<typeof schemas.plan>): { night: string; out: string } => {
    const night = roots.existing(b.night);
    const out = roots.writable(b.out ?? defaultOut(night));
    if (out === night || out.startsWith(night + '/')) throw new HttpError(400, 'BAD_ARGUMENT', `${b.out}: the output folder must not be inside the night folder`);
    return { night, out };
  };
  route<unknown, z.infer<typeof schemas.plan>>({ method: 'POST', url: '/api/processing/plan', tag: 'processing', summary: 'scan a night folder and return the plan (groups, masters, stacks, steps)', body: schemas.plan }, async ({ body }) => {
    const { night, out } = planArgs(body);
    return makePlan(night, out, body.options);
  });
  route<unknown, z.infer<typeof schemas.plan>>({ method: 'POST', url: '/api/processing/run', tag: 'processing', summary: 'start processing a night (progress over the WebSocket and /api/processing/status)', body: schemas.plan }, async ({ body, reply }) => {
    const { night, out } = planArgs(body);
    const { status } = processing.start(night, out, body.options);
    reply.status(202);
    return status;
  });
  route({ method: 'GET', url: '/api/processing/status', tag: 'processing', summary: 'the current or last run: progress, log, report' }, async () => ({ run: processing.status() }));
  route<z.infer<typeof schemas.results>>({ method: 'GET', url: '/api/processing/results', tag: 'processing', summary: 'results of an output folder: masters, stacks, previews, report.json', query: schemas.results }, async ({ query }) => results(roots.existing(query.out)));

  // ---- sequence
  type Est = z.infer<typeof acquireSchemas.estimate>;
  type Start = z.infer<typeof acquireSchemas.start>;
  route<unknown, Est>({ method: 'POST', url: '/api/sequence/estimate', tag: 'sequence', summary: 'validate a sequence plan (up to 16 groups) and estimate its duration on the connected camera', body: acquireSchemas.estimate }, async ({ body }) => acquire.estimate(body.plan));
  route<unknown, Start>({ method: 'POST', url: '/api/sequence/start', tag: 'sequence', summary: 'start a sequence on the connected camera, saving into an output folder under a root (progress: sequence events)', body: acquireSchemas.start }, async ({ body, reply }) => {
    const st = await acquire.startSequence(body.plan, body.out);
    reply.status(202);
    return st;
  });
  route({ method: 'POST', url: '/api/sequence/pause', tag: 'sequence', summary: 'pause the sequence after the current frame' }, async () => acquire.pause());
  route({ method: 'POST', url: '/api/sequence/resume', tag: 'sequence', summary: 'resume a paused sequence' }, async () => acquire.resume());
  route({ method: 'POST', url: '/api/sequence/abort', tag: 'sequence', summary: 'abort the sequence (the running exposure is dropped)' }, async () => acquire.abort());
  route({ method: 'GET', url: '/api/sequence/status', tag: 'sequence', summary: 'the current or last sequence: state, frame i of n, current file, saved frames' }, async () => acquire.sequenceStatus());

  // ---- focus
  route({ method: 'GET', url: '/api/focus/status', tag: 'focus', summary: 'focuser position, focus loop measures, autofocus points and fitted V-curve' }, async () => acquire.focusStatus());
  route<unknown, z.infer<typeof acquireSchemas.focusLoop>>({ method: 'POST', url: '/api/focus/loop', tag: 'focus', summary: 'a focus loop: short exposures, each measured (HFR, FWHM)', body: acquireSchemas.focusLoop }, async ({ body, reply }) => {
    reply.status(202);
    return acquire.focusLoop(body);
  });
  route<unknown, z.infer<typeof acquireSchemas.autofocus>>({ method: 'POST', url: '/api/focus/autofocus', tag: 'focus', summary: 'autofocus: sample a V-curve around the position, fit a hyperbola, move to its minimum', body: acquireSchemas.autofocus }, async ({ body, reply }) => {
    reply.status(202);
    return acquire.autofocus(body);
  });
  route<unknown, z.infer<typeof acquireSchemas.focusMove>>({ method: 'POST', url: '/api/focus/move', tag: 'focus', summary: 'move the focuser to an absolute position', body: acquireSchemas.focusMove }, async ({ body }) => acquire.focusMove(body.position));

  // ---- guiding (simulated mount and guide camera)
  route({ method: 'GET', url: '/api/guide/status', tag: 'guide', summary: 'guiding state, calibration, recent samples (RA/Dec px) and RMS (px, arcsec)' }, async () => acquire.status());
  route({ method: 'POST', url: '/api/guide/calibrate', tag: 'guide', summary: 'select a guide star and calibrate RA and Dec with pulses' }, async () => acquire.calibrate());
  route<unknown, z.infer<typeof acquireSchemas.guideStart>>({ method: 'POST', url: '/api/guide/start', tag: 'guide', summary: 'start guiding (samples: guide events)', body: acquireSchemas.guideStart }, async ({ body, reply }) => {
    reply.status(202);
    return acquire.startGuiding(body.exposure);
  });
  route({ method: 'POST', url: '/api/guide/stop', tag: 'guide', summary: 'stop guiding' }, async () => acquire.stopGuiding());

  // ---- events
  app.get('/api/ws', { websocket: true }, (socket: WebSocket) => {
    clients.add(socket);
    socket.on('close', () => clients.delete(socket));
    socket.on('error', () => clients.delete(socket));
    void devices.status().then((s) => socket.send(JSON.stringify({ type: 'hello', camera: s, run: processing.status(), sequence: acquire.sequenceStatus(), focus: acquire.focusStatus(), guide: acquire.status() })));
  });

  app.addHook('onClose', async () => {
    for (const c of clients) c.close();
    await acquire.close();
    await devices.close();
  });
  return { app, roots, devices, processing, acquire, token };
}
