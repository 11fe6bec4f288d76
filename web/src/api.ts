/** The only way the UI talks to the server: JSON and binary fetches with the token, and the event socket. */
import { humanMessage, NO_SERVER } from './messages';

const params = new URLSearchParams(location.search);
const fromUrl = params.get('token');
if (fromUrl) sessionStorage.setItem('darkroom-token', fromUrl);
export const token: string | null = fromUrl ?? sessionStorage.getItem('darkroom-token');

function headers(extra: Record<string, string> = {}): Record<string, string> {
  return token ? { ...extra, authorization: `Bearer ${token}` } : extra;
}

/**
 * A JSON call. Every POST is sent as application/json (an empty object when there is no body): the
 * server refuses state-changing requests of any other type, its guard against cross-site requests.
 */
export async function api<T = any>(method: 'GET' | 'POST', url: string, body?: unknown): Promise<T> {
  const sendsJson = method !== 'GET';
  const r = await fetch(url, {
    method,
    headers: headers(sendsJson ? { 'content-type': 'application/json' } : {}),
    body: sendsJson ? JSON.stringify(body ?? {}) : undefined,
  }).catch(() => {
    throw new Error(NO_SERVER);
  });
  const text = await r.text();
  let json: any = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    /* not JSON */
  }
  if (!r.ok) throw new Error(humanMessage(r.status, json?.error, json?.message ?? `${r.status} ${r.statusText}`));
  return json as T;
}

export const get = <T = any>(url: string): Promise<T> => api<T>('GET', url);
export const post = <T = any>(url: string, body: unknown = {}): Promise<T> => api<T>('POST', url, body);

export interface Pixels {
  width: number;
  height: number;
  channels: number;
  planes: Float32Array[];
}

export async function getPixels(url: string): Promise<Pixels> {
  const r = await fetch(url, { headers: headers() });
  if (!r.ok) {
    const j = await r.json().catch(() => null);
    throw new Error(humanMessage(r.status, j?.error, j?.message ?? `${r.status} ${r.statusText}`));
  }
  const width = Number(r.headers.get('x-width'));
  const height = Number(r.headers.get('x-height'));
  const channels = Number(r.headers.get('x-channels'));
  const buf = await r.arrayBuffer();
  const n = width * height;
  const planes: Float32Array[] = [];
  for (let c = 0; c < channels; c++) planes.push(new Float32Array(buf, c * n * 4, n));
  return { width, height, channels, planes };
}

export const q = (url: string, p: Record<string, string | number>): string =>
  `${url}?${new URLSearchParams(Object.entries(p).map(([k, v]) => [k, String(v)])).toString()}`;

type Listener = (ev: any) => void;
const listeners = new Set<Listener>();
let socket: WebSocket | null = null;

function openSocket(): void {
  const proto = location.protocol === 'https:' ? 'wss' : 'ws';
  const ws = new WebSocket(`${proto}://${location.host}/api/ws${token ? `?token=${encodeURIComponent(token)}` : ''}`);
  socket = ws;
  ws.onmessage = (m) => {
    const ev = JSON.parse(String(m.data));
    for (const l of listeners) l(ev);
  };
  ws.onclose = () => {
    socket = null;
    setTimeout(openSocket, 2000);
  };
}

export function onEvent(l: Listener): () => void {
  if (!socket) openSocket();
  listeners.add(l);
  return () => listeners.delete(l);
}
