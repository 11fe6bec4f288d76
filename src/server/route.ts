/**
 * How a route plugin declares a route: one description (method, URL, tag, summary, zod schemas of the
 * query and body, what it produces) that both registers the fastify route and documents it. The
 * descriptions of every route land in one table (collectRoutes), from which /api/openapi.json is made.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ZodType } from 'zod';
import { HttpError, zodMessage } from './errors.js';

export interface RouteDef<Q = unknown, B = unknown> {
  method: 'GET' | 'POST';
  url: string;
  tag: string;
  summary: string;
  query?: ZodType<Q>;
  body?: ZodType<B>;
  produces?: 'json' | 'binary';
}

/** The route config key under which a route's description travels to the onRoute hook. */
const ROUTE_DOC = 'darkroomRoute';

export interface RouteArgs<Q, B> {
  query: Q;
  body: B;
  req: FastifyRequest;
  reply: FastifyReply;
}

function parse<T>(s: ZodType<T>, v: unknown, where: string): T {
  const r = s.safeParse(v ?? {});
  if (!r.success) throw new HttpError(400, 'BAD_ARGUMENT', zodMessage(r.error, where));
  return r.data;
}

/** Register a documented route whose query and body are validated with its zod schemas (400 with one line otherwise). */
export function route<Q = unknown, B = unknown>(app: FastifyInstance, def: RouteDef<Q, B>, handler: (a: RouteArgs<Q, B>) => Promise<unknown>): void {
  app.route({
    method: def.method,
    url: def.url,
    config: { [ROUTE_DOC]: def },
    handler: async (req, reply) => {
      const query = (def.query ? parse(def.query, req.query, 'query') : req.query) as Q;
      const body = (def.body ? parse(def.body, req.body, 'body') : req.body) as B;
      return handler({ query, body, req, reply });
    },
  });
}

/** Collect the description of every route registered after this call (in any plugin) into `table`. */
export function collectRoutes(app: FastifyInstance, table: RouteDef[]): void {
  app.addHook('onRoute', (r) => {
    const def = (r.config as Record<string, unknown> | undefined)?.[ROUTE_DOC] as RouteDef | undefined;
    // a GET route also registers its HEAD twin with the same config: document it once
    if (def && r.method === def.method) table.push(def);
  });
}

/** Send an image's planar float32 pixels with its size in headers. */
export function sendPixels(reply: FastifyReply, img: { width: number; height: number; channels: number }, buf: Buffer): Buffer {
  reply
    .header('content-type', 'application/octet-stream')
    .header('x-width', String(img.width))
    .header('x-height', String(img.height))
    .header('x-channels', String(img.channels))
    .header('x-byte-order', 'little')
    .header('access-control-expose-headers', 'x-width, x-height, x-channels');
  return buf;
}
