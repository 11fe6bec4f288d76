/** The clients of the WebSocket at /api/ws, and the broadcast of every event to them. */
import type { WebSocket } from 'ws';

export class EventHub {
  private readonly clients = new Set<WebSocket>();

  /** Send an event to every open client (a no-op without clients). */
  readonly broadcast = (ev: Record<string, unknown>): void => {
    if (this.clients.size === 0) return;
    const s = JSON.stringify(ev);
    for (const c of this.clients) if (c.readyState === 1) c.send(s);
  };

  add(socket: WebSocket): void {
    this.clients.add(socket);
    socket.on('close', () => this.clients.delete(socket));
    socket.on('error', () => this.clients.delete(socket));
  }

  close(): void {
    for (const c of this.clients) c.close();
  }
}
