/** What the viewer opens for a FITS file under a served root: its pixels, header and stars. */
import { q } from './api';
import type { Source } from './Viewer';

export const fileSource = (path: string): Source => ({
  label: path.split('/').slice(-2).join('/'),
  pixels: q('/api/images/pixels', { path }),
  info: q('/api/images/info', { path }),
  stars: q('/api/images/stars', { path }),
});
