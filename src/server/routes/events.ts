/** Route: GET /api/ws, the WebSocket of events; a new client first gets {type: 'hello'} with every status. */
import type { FastifyPluginAsync } from 'fastify';
import type { WebSocket } from 'ws';
import type { ServerContext } from '../context.js';

export const eventRoutes: FastifyPluginAsync<ServerContext> = async (app, { events, devices, processing, acquire }) => {
  app.get('/api/ws', { websocket: true }, (socket: WebSocket) => {
    events.add(socket);
    void devices.status().then((s) =>
      socket.send(JSON.stringify({ type: 'hello', camera: s, run: processing.status(), sequence: acquire.sequence.status(), focus: acquire.focus.status(), guide: acquire.guide.status() })),
    );
  });
};
