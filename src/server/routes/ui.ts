/**
 * The web UI: its built files as public routes (or a page saying it is not built), and the page as the
 * fallback for unmatched GET paths outside /api/ (the browser's routes).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import fastifyStatic from '@fastify/static';
import { publicRoutes } from '../security.js';

/** The not-found handler (on the root instance): 404 as JSON, or the UI page for a GET outside /api/. */
export function setUiFallback(app: FastifyInstance, webDir: string | null): void {
  app.setNotFoundHandler((req, reply) => {
    // unmatched paths passed the access policy as protected ones; the UI page is the fallback for GET
    if (req.url.startsWith('/api/') || !webDir || !['GET', 'HEAD'].includes(req.method)) return reply.status(404).send({ error: 'NOT_FOUND', message: `no route ${req.method} ${req.url.split('?')[0]}` });
    return reply.type('text/html; charset=utf-8').send(readFileSync(join(webDir, 'index.html')));
  });
}

/** The static UI files, registered as public routes. */
export async function uiRoutes(app: FastifyInstance, webDir: string | null): Promise<void> {
  await publicRoutes(app, async (ui) => {
    if (webDir) await ui.register(fastifyStatic, { root: webDir, prefix: '/', wildcard: false });
    else ui.get('/', async (_req, reply) => reply.type('text/plain').send('darkroom: the web UI is not built (run: npx vite build web --outDir ../dist/web --emptyOutDir)\n'));
  });
}
