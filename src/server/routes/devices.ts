/** Routes: GET /api/devices, POST /api/devices/connect, POST /api/devices/disconnect. */
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { DEVICE_KINDS } from '../devices.js';
import { route } from '../route.js';
import type { ServerContext } from '../context.js';

export const deviceSchemas = {
  connect: z
    .object({
      spec: z.string().min(1).describe('sim | indi://HOST:PORT[/DEVICE] | alpaca://HOST:PORT/N'),
      wheel: z.string().min(1).optional().describe('filter wheel from another server: indi://HOST:PORT[/DEVICE] | alpaca://HOST:PORT/N'),
      focuser: z.string().min(1).optional().describe('focuser from another server: indi://HOST:PORT[/DEVICE] | alpaca://HOST:PORT/N'),
      mount: z.string().min(1).optional().describe('mount (pulse guiding) from another server: indi://HOST:PORT[/DEVICE] | alpaca://HOST:PORT/N'),
    })
    .strict(),
};

export const deviceRoutes: FastifyPluginAsync<ServerContext> = async (app, { devices }) => {
  route(app, { method: 'GET', url: '/api/devices', tag: 'devices', summary: 'device kinds that can be connected, and the connected camera' }, async () => ({ kinds: DEVICE_KINDS, camera: await devices.status() }));
  route(app, { method: 'POST', url: '/api/devices/connect', tag: 'devices', summary: 'connect a camera (sim, indi://..., alpaca://...)', body: deviceSchemas.connect }, async ({ body }) =>
    devices.connect(body.spec, { wheel: body.wheel, focuser: body.focuser, mount: body.mount }),
  );
  route(app, { method: 'POST', url: '/api/devices/disconnect', tag: 'devices', summary: 'disconnect the camera' }, async () => {
    await devices.disconnect();
    return devices.status();
  });
};
