/**
 * Open the camera of an Alpaca server from `alpaca://HOST:PORT/N`, with the server's filter wheel and,
 * when it has one that can pulse-guide, its telescope/0 as guide output.
 */
import { connectedOrNone, realClock, type OpenedDevice } from '../types.js';
import { AlpacaCamera, AlpacaFilterWheel, AlpacaGuideOutput, parseAlpacaUrl } from './client.js';

export async function openAlpaca(spec: string): Promise<OpenedDevice> {
  const t = parseAlpacaUrl(spec);
  const camera = new AlpacaCamera(t);
  await camera.connect();
  const wheel = await connectedOrNone(new AlpacaFilterWheel(t));
  if (wheel) camera.wheel = wheel;
  const guide = await connectedOrNone(new AlpacaGuideOutput({ host: t.host, port: t.port, number: 0, timeoutMs: t.timeoutMs }));
  return { spec, camera, wheel, guide, clock: realClock, close: () => undefined };
}
