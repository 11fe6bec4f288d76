/**
 * The access policy of `darkroom serve`, decided in ONE place: an onRequest hook that looks at the route
 * the router matched (after it decoded and looked up the path), never at the raw URL.
 *
 * - Public: only routes registered through `publicRoutes()` (the static UI files, or the "not built" page).
 *   Everything else, API routes, the WebSocket and unmatched paths alike, is protected.
 * - DNS rebinding: a loopback server without a token answers only requests addressed to a loopback name.
 * - Cross-site: on a protected route, an `Origin` other than the served origin (`http(s)://` + the Host the
 *   request was addressed to) and `Sec-Fetch-Site: cross-site | same-site` are refused with 403.
 * - Token: when one is configured every protected route needs it (Authorization: Bearer TOKEN or ?token=).
 * - State changes: the rule is that every request other than GET/HEAD/OPTIONS must carry
 *   `Content-Type: application/json` (with a JSON body, or an empty one on the routes that take none).
 *   Browsers cannot send that type cross-origin without a CORS preflight, which this server never grants,
 *   and HTML forms cannot send it at all; anything else gets 415.
 */
import { timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { HttpError } from './errors.js';

/** The route config flag that marks a route as part of the public static UI. */
export const PUBLIC_ROUTE = 'darkroomPublic';
export const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export interface AccessPolicy {
  token?: string;
  /** The server listens on a loopback address (enables the Host check when there is no token). */
  loopbackOnly: boolean;
}

/** What the policy needs to know about a request (plain data, so the decision is a pure function). */
export interface RequestFacts {
  method: string;
  /** The raw URL, only for its ?token= query parameter. */
  url: string;
  headers: IncomingHttpHeaders;
  protocol: 'http' | 'https';
  /** The matched route is part of the public static UI. */
  isPublic: boolean;
}

const one = (h: string | string[] | undefined): string | undefined => (Array.isArray(h) ? h[0] : h);

function checkHost(p: AccessPolicy, f: RequestFacts): HttpError | null {
  if (!p.loopbackOnly || p.token) return null;
  const host = (one(f.headers.host) ?? '').replace(/:\d+$/, '').replace(/^\[|\]$/g, '').toLowerCase();
  return LOOPBACK.has(host) ? null : new HttpError(403, 'FORBIDDEN', `host '${host}' not allowed: this server only answers on localhost`);
}

/** The origin a browser shows for a page served at this request's Host, or null when Host is unusable. */
function servedOrigin(f: RequestFacts): string | null {
  const host = one(f.headers.host);
  if (!host) return null;
  try {
    return new URL(`${f.protocol}://${host}`).origin;
  } catch {
    return null;
  }
}

function checkOrigin(f: RequestFacts): HttpError | null {
  const site = one(f.headers['sec-fetch-site'])?.toLowerCase();
  if (site === 'cross-site' || site === 'same-site') return new HttpError(403, 'FORBIDDEN', `cross-site request refused (Sec-Fetch-Site: ${site})`);
  const origin = one(f.headers.origin);
  if (origin === undefined) return null;
  let given: string | null = null;
  try {
    given = new URL(origin).origin;
  } catch {
    /* 'null' or garbage: refused below */
  }
  const self = servedOrigin(f);
  if (given === null || given === 'null' || self === null || given !== self) return new HttpError(403, 'FORBIDDEN', `cross-origin request refused: Origin '${origin}' is not this server (${self ?? 'no Host'})`);
  return null;
}

function givenToken(f: RequestFacts): string | undefined {
  const auth = one(f.headers.authorization);
  if (auth?.startsWith('Bearer ')) return auth.slice(7).trim();
  const q = f.url.indexOf('?');
  return q < 0 ? undefined : new URLSearchParams(f.url.slice(q + 1)).get('token') ?? undefined;
}

function checkToken(token: string, f: RequestFacts): HttpError | null {
  const given = givenToken(f);
  if (given === undefined) return new HttpError(401, 'UNAUTHORIZED', 'a token is required: send Authorization: Bearer TOKEN or ?token=TOKEN');
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b) ? null : new HttpError(401, 'UNAUTHORIZED', 'wrong token');
}

function checkContentType(f: RequestFacts): HttpError | null {
  if (SAFE_METHODS.has(f.method.toUpperCase())) return null;
  const type = (one(f.headers['content-type']) ?? '').split(';')[0]!.trim().toLowerCase();
  if (type === 'application/json') return null;
  return new HttpError(415, 'UNSUPPORTED_MEDIA_TYPE', `${f.method} requests must send Content-Type: application/json (with a JSON body, or none), got '${type || 'no type'}'`);
}

/** The refusal for a request, or null when it may proceed (pure: no I/O). */
export function checkAccess(p: AccessPolicy, f: RequestFacts): HttpError | null {
  const host = checkHost(p, f);
  if (host || f.isPublic) return host;
  return checkOrigin(f) ?? (p.token ? checkToken(p.token, f) : null) ?? checkContentType(f);
}

function facts(req: FastifyRequest): RequestFacts {
  const config = (req.routeOptions?.config ?? {}) as unknown as Record<string, unknown>;
  const encrypted = (req.raw.socket as { encrypted?: boolean } | undefined)?.encrypted === true;
  return { method: req.method, url: req.raw.url ?? req.url, headers: req.headers, protocol: encrypted ? 'https' : 'http', isPublic: config[PUBLIC_ROUTE] === true };
}

/**
 * Install the policy on the root instance (before any route is registered); also lets a JSON body be
 * empty, so routes without a body accept `Content-Type: application/json` with nothing after it.
 */
export function installAccessPolicy(app: FastifyInstance, policy: AccessPolicy): void {
  app.addHook('onRequest', async (req) => {
    const refusal = checkAccess(policy, facts(req));
    if (refusal) throw refusal;
  });
  const json = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
    const text = String(body);
    if (text.trim() === '') return done(null, undefined);
    return json(req, text, done);
  });
}

/** Register routes (e.g. @fastify/static) that are part of the public static UI. */
export async function publicRoutes(app: FastifyInstance, register: (scope: FastifyInstance) => Promise<void>): Promise<void> {
  await app.register(async (scope) => {
    scope.addHook('onRoute', (r) => {
      r.config = { ...(r.config as object | undefined), [PUBLIC_ROUTE]: true } as typeof r.config;
    });
    await register(scope);
  });
}
