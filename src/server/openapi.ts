/** The OpenAPI 3.1 document of the API, made from the route table (route.ts) and the routes' zod schemas. */
import { z, type ZodType } from 'zod';
import { VERSION } from '../version.js';
import type { RouteDef } from './route.js';

const ERROR_SCHEMA = { type: 'object', properties: { error: { type: 'string' }, message: { type: 'string' } }, required: ['error', 'message'] };

function jsonSchema(s: ZodType): Record<string, unknown> {
  const j = z.toJSONSchema(s, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  delete j.$schema;
  return j;
}

const BINARY_RESPONSE = {
  description: 'float32 pixels, little-endian, planar (channel after channel); X-Width, X-Height, X-Channels headers',
  headers: { 'X-Width': { schema: { type: 'integer' } }, 'X-Height': { schema: { type: 'integer' } }, 'X-Channels': { schema: { type: 'integer' } } },
  content: { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } },
};
const JSON_RESPONSE = { description: 'OK', content: { 'application/json': { schema: { type: 'object' } } } };

function operation(r: RouteDef): Record<string, unknown> {
  const op: Record<string, unknown> = { tags: [r.tag], summary: r.summary, operationId: `${r.method.toLowerCase()}${r.url.replace(/[^A-Za-z0-9]+(.)?/g, (_, c: string | undefined) => (c ? c.toUpperCase() : ''))}` };
  if (r.query) {
    const js = jsonSchema(r.query) as { properties?: Record<string, unknown>; required?: string[] };
    op.parameters = Object.entries(js.properties ?? {}).map(([name, schema]) => ({ name, in: 'query', required: (js.required ?? []).includes(name), schema }));
  }
  if (r.body) op.requestBody = { required: true, content: { 'application/json': { schema: jsonSchema(r.body) } } };
  op.responses = {
    '200': r.produces === 'binary' ? BINARY_RESPONSE : JSON_RESPONSE,
    '4XX': { description: 'bad request, unauthorized, forbidden path, not found, conflict', content: { 'application/json': { schema: ERROR_SCHEMA } } },
  };
  return op;
}

const WS_PATH = {
  get: {
    tags: ['events'],
    summary: 'WebSocket of events: {type: cooler|exposure|image|connected|disconnected|error|run|run-progress|run-log|sequence|focus|guide, ...}',
    operationId: 'getApiWs',
    responses: { '101': { description: 'switching protocols (WebSocket)' } },
  },
};

export function openApi(routes: RouteDef[]): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) (paths[r.url] ??= {})[r.method.toLowerCase()] = operation(r);
  paths['/api/ws'] = WS_PATH;
  return {
    openapi: '3.1.0',
    info: { title: 'Darkroom API', version: VERSION, description: 'Camera control, image viewing and processing for the Darkroom web UI. Every POST must send Content-Type: application/json (an empty body is allowed on routes without one); requests with an Origin other than this server are refused.' },
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } }, schemas: { Error: ERROR_SCHEMA } },
    security: [{ bearer: [] }, {}],
    paths,
  };
}
