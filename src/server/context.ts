/** What every route plugin of the server is given (its fastify plugin options). */
import type { AcquireSession } from './acquire.js';
import type { DeviceSession } from './devices.js';
import type { EventHub } from './events.js';
import type { Processing } from './processing.js';
import type { RouteDef } from './route.js';
import type { Roots } from './roots.js';

export interface ServerContext {
  roots: Roots;
  devices: DeviceSession;
  processing: Processing;
  acquire: AcquireSession;
  events: EventHub;
  token?: string;
  /** The description of every documented route (filled as the plugins register; read by /api/openapi.json). */
  routes: RouteDef[];
}
