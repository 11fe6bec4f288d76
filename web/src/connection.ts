/** Whether a camera is connected, for the panels whose buttons need one (kept current by the server's events). */
import { useEffect, useState } from 'react';
import { get, onEvent } from './api';

export function useConnected(): boolean {
  const [connected, setConnected] = useState(false);
  useEffect(() => {
    const load = () =>
      get('/api/camera/status')
        .then((s) => setConnected(!!s.connected))
        .catch(() => setConnected(false));
    void load();
    return onEvent((ev) => {
      if (ev.type === 'hello') setConnected(!!ev.camera?.connected);
      if (ev.type === 'connected' || ev.type === 'disconnected') void load();
    });
  }, []);
  return connected;
}

/** The hint shown next to buttons that need a camera. */
export const NEEDS_CAMERA = 'Connect a camera in the Camera tab first';
