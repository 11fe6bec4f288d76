/** Routes of the files under the roots: GET /api/files, GET /api/images/info, GET /api/images/pixels, GET /api/images/stars. */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { HttpError } from '../errors.js';
import { imageInfo, imageStars, loadImage, pixelBuffer } from '../images.js';
import { route, sendPixels } from '../route.js';
import type { Roots } from '../roots.js';
import type { ServerContext } from '../context.js';

export const fileSchemas = {
  list: z.object({ path: z.string().min(1).optional() }),
  path: z.object({ path: z.string().min(1) }),
  stars: z.object({ path: z.string().min(1), max: z.coerce.number().int().min(1).max(5000).default(500) }),
};

interface Entry {
  name: string;
  path: string;
  type: 'dir' | 'file';
  size?: number;
  fits?: boolean;
}

function entry(dir: string, name: string, isDir: boolean): Entry {
  const p = join(dir, name);
  let type: 'dir' | 'file' = isDir ? 'dir' : 'file';
  let size = 0;
  try {
    const st = statSync(p);
    type = st.isDirectory() ? 'dir' : 'file';
    size = st.size;
  } catch {
    /* dangling link */
  }
  return { name, path: p, type, size, fits: type === 'file' && /\.(fits?|fts)$/i.test(name) };
}

/** A folder under a root, folders first then by name (hidden entries left out); no path: the roots. */
export function listFolder(roots: Roots, path: string | undefined): { path: string | null; parent: string | null; entries: Entry[] } {
  if (!path) return { path: null, parent: null, entries: roots.dirs.map((d) => ({ name: d, path: d, type: 'dir' })) };
  const real = roots.existing(path);
  if (!statSync(real).isDirectory()) throw new HttpError(400, 'BAD_ARGUMENT', `${path}: not a folder`);
  const entries = readdirSync(real, { withFileTypes: true })
    .filter((e) => !e.name.startsWith('.'))
    .map((e) => entry(real, e.name, e.isDirectory()))
    .sort((a, b) => (a.type === b.type ? a.name.localeCompare(b.name) : a.type === 'dir' ? -1 : 1));
  const parent = roots.dirs.includes(real) ? null : join(real, '..');
  return { path: real, parent, entries };
}

export const fileRoutes: FastifyPluginAsync<ServerContext> = async (app, { roots }) => {
  route(app, { method: 'GET', url: '/api/files', tag: 'files', summary: 'list a folder under a root (no path: the roots)', query: fileSchemas.list }, async ({ query }) => listFolder(roots, query.path));
  route(app, { method: 'GET', url: '/api/images/info', tag: 'images', summary: 'a FITS file: header cards and statistics', query: fileSchemas.path }, async ({ query }) => ({ path: roots.existing(query.path), ...imageInfo(loadImage(roots.existing(query.path))) }));
  route(app, { method: 'GET', url: '/api/images/pixels', tag: 'images', summary: 'a FITS file: float32 pixels', query: fileSchemas.path, produces: 'binary' }, async ({ query, reply }) => {
    const img = loadImage(roots.existing(query.path));
    return sendPixels(reply, img, pixelBuffer(img));
  });
  route(app, { method: 'GET', url: '/api/images/stars', tag: 'images', summary: 'a FITS file: stars with FWHM and HFR', query: fileSchemas.stars }, async ({ query }) => {
    const p = roots.existing(query.path);
    return imageStars(loadImage(p), query.max, p);
  });
};
