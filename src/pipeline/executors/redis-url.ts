/** redis://[user:password@]host[:port][/db][?queue=NAME&tileRows=N&framesPerJob=N] -> ioredis options. */
import type { ConnectionOptions } from 'bullmq';
import { DarkroomError } from '../../util/errors.js';

export interface RedisTarget {
  connection: ConnectionOptions & { host: string; port: number };
  queue: string;
  tileRows?: number;
  framesPerJob?: number;
  url: string;
}

/**
 * Worker lock defaults (ms). A job's lock lasts 15 s and is renewed every 5 s for as long as the job
 * runs (BullMQ's lock manager, on the worker's main thread, kept free by the job threads); each
 * worker looks for expired locks every 5 s. A worker killed mid-job thus hands its job over 10-20 s
 * later (with the former 60 s lock and 30 s checks it took about 80 s).
 */
export const WORKER_DEFAULTS = { lockDuration: 15_000, stalledInterval: 5_000 } as const;

export function parseRedisUrl(url: string): RedisTarget {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new DarkroomError('BAD_ARGUMENT', `not a redis URL: '${url}' (expected redis://HOST:PORT)`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw new DarkroomError('BAD_ARGUMENT', `not a redis URL: '${url}' (expected redis://HOST:PORT)`);
  const db = u.pathname && u.pathname !== '/' ? Number(u.pathname.slice(1)) : 0;
  if (!Number.isInteger(db) || db < 0) throw new DarkroomError('BAD_ARGUMENT', `bad redis database number in '${url}'`);
  const num = (name: string): number | undefined => {
    const v = u.searchParams.get(name);
    if (v === null) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new DarkroomError('BAD_ARGUMENT', `${name} must be a positive integer in '${url}', got '${v}'`);
    return n;
  };
  const queue = u.searchParams.get('queue') ?? 'darkroom';
  if (!/^[A-Za-z0-9_-]+$/.test(queue)) throw new DarkroomError('BAD_ARGUMENT', `queue name must be letters, digits, - or _, got '${queue}'`);
  return {
    connection: {
      host: u.hostname || '127.0.0.1',
      port: u.port ? Number(u.port) : 6379,
      db,
      ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
      ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
      ...(u.protocol === 'rediss:' ? { tls: {} } : {}),
      maxRetriesPerRequest: null,
    },
    queue,
    tileRows: num('tileRows'),
    framesPerJob: num('framesPerJob'),
    url,
  };
}
