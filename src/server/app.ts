/**
 * The Darkroom API server (fastify): every UI action goes through these routes, each validated with
 * zod; the OpenAPI document at /api/openapi.json is generated from the same route table. Events
 * (cooler samples, exposures, run progress) go to every client of the WebSocket at /api/ws.
 * Safety: bound to 127.0.0.1 unless told otherwise; files only inside the configured roots; who may call
 * what (token, Host, Origin, JSON content type) is decided in one place, security.ts.
 *
 * The routes are fastify plugins, one a group, in routes/: general (health, openapi), devices, camera,
 * files (and images), processing, sequence, focus, guide, events (the WebSocket); ui.ts serves the UI.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Fastify, { type FastifyInstance } from 'fastify';
import fastifyWebsocket from '@fastify/websocket';
import { HttpError, toHttp } from './errors.js';
import { Roots } from './roots.js';
import { DeviceSession } from './devices.js';
import { Processing } from './processing.js';
import { AcquireSession } from './acquire.js';
import { EventHub } from './events.js';
import { installAccessPolicy, LOOPBACK } from './security.js';
import { collectRoutes } from './route.js';
import type { ServerContext } from './context.js';
import { generalRoutes } from './routes/general.js';
import { deviceRoutes } from './routes/devices.js';
import { cameraRoutes } from './routes/camera.js';
import { fileRoutes } from './routes/files.js';
import { processingRoutes } from './routes/processing.js';
import { historyRoutes } from './routes/history.js';
import { sequenceRoutes } from './routes/sequence.js';
import { focusRoutes } from './routes/focus.js';
import { guideRoutes } from './routes/guide.js';
import { eventRoutes } from './routes/events.js';
import { setUiFallback, uiRoutes } from './routes/ui.js';

export { openApi } from './openapi.js';

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

export interface DarkroomServer {
  app: FastifyInstance;
  roots: Roots;
  devices: DeviceSession;
  processing: Processing;
  acquire: AcquireSession;
  token?: string;
}

/** The sessions behind the routes (devices, processing, acquisition) and the event hub they report to. */
function makeContext(opts: ServerOptions): ServerContext {
  const roots = new Roots(opts.roots);
  const events = new EventHub();
  // every frame that reaches the viewer also goes to the night's history (measured, with a thumbnail)
  const devices = new DeviceSession({ simSpeed: opts.simSpeed, onEvent: (ev) => (events.broadcast(ev), acquire?.history.onEvent(ev)) });
  const processing = new Processing(events.broadcast);
  const acquire: AcquireSession = new AcquireSession(devices, roots, events.broadcast, opts.guideSpeed);
  return { roots, events, devices, processing, acquire, token: opts.token, routes: [] };
}

/** The route groups, in the order of the OpenAPI document. */
const ROUTE_PLUGINS = [generalRoutes, deviceRoutes, cameraRoutes, fileRoutes, processingRoutes, sequenceRoutes, focusRoutes, guideRoutes, historyRoutes, eventRoutes];

export async function buildServer(opts: ServerOptions): Promise<DarkroomServer> {
  const ctx = makeContext(opts);
  const app = Fastify({ logger: opts.logger ?? false, bodyLimit: 1 << 20 });
  const webDir = opts.webDir === undefined ? findWebDir() : opts.webDir;
  app.setErrorHandler((e, _req, reply) => {
    const h = toHttp(e);
    if (h.status >= 500) app.log.error(e);
    void reply.status(h.status).send(h.body);
  });
  setUiFallback(app, webDir);
  installAccessPolicy(app, { token: ctx.token, loopbackOnly: LOOPBACK.has(opts.host ?? '127.0.0.1') });
  await app.register(fastifyWebsocket);
  await uiRoutes(app, webDir);
  collectRoutes(app, ctx.routes);
  for (const plugin of ROUTE_PLUGINS) await app.register(plugin, ctx);
  app.addHook('onClose', async () => {
    ctx.events.close();
    await ctx.acquire.close();
    await ctx.devices.close();
  });
  const { roots, devices, processing, acquire, token } = ctx;
  return { app, roots, devices, processing, acquire, token };
}
