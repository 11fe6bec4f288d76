/** Routes: GET /api/health, GET /api/openapi.json. */
import type { FastifyPluginAsync } from 'fastify';
import { VERSION } from '../../version.js';
import { openApi } from '../openapi.js';
import { route } from '../route.js';
import type { ServerContext } from '../context.js';

export const generalRoutes: FastifyPluginAsync<ServerContext> = async (app, ctx) => {
  route(app, { method: 'GET', url: '/api/health', tag: 'general', summary: 'version, roots and whether a token is required' }, async () => ({
    darkroom: VERSION,
    roots: ctx.roots.dirs,
    auth: ctx.token ? 'token' : 'none',
  }));
  route(app, { method: 'GET', url: '/api/openapi.json', tag: 'general', summary: 'this OpenAPI document' }, async () => openApi(ctx.routes));
};
