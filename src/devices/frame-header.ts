/**
 * The FITS header every downloaded frame carries, whatever the camera protocol:
 * IMAGETYP, EXPTIME/EXPOSURE, DATE-OBS (UTC), CCD-TEMP, SET-TEMP, XBINNING/YBINNING, XPIXSZ/YPIXSZ,
 * INSTRUME, EGAIN, GAIN/OFFSET (when known), FILTER (when known), subframe origin. The one writer of
 * these keywords: the Alpaca and INDI clients, the simulated camera and the image simulator all use it.
 */
import type { FitsHeader } from '../fits/index.js';
import { IMAGETYP, type FrameKind } from '../image/frame-kind.js';

export interface FrameFacts {
  type: FrameKind;
  exposure: number;
  dateObs: Date;
  ccdTemp?: number;
  setTemp?: number;
  binX: number;
  binY: number;
  pixelSizeX?: number;
  pixelSizeY?: number;
  instrument?: string;
  egain?: number;
  gain?: number;
  offset?: number;
  filter?: string;
  originX?: number;
  originY?: number;
  coolerPower?: number;
}

/** Set the standard acquisition keywords on h (existing values are replaced). */
export function applyFrameHeader(h: FitsHeader, f: FrameFacts): FitsHeader {
  h.set('IMAGETYP', IMAGETYP[f.type], 'frame type');
  h.set('EXPTIME', f.exposure, '[s] exposure time', { float: true });
  h.set('EXPOSURE', f.exposure, '[s] exposure time', { float: true });
  h.set('DATE-OBS', f.dateObs.toISOString().slice(0, 23), 'UTC start of exposure');
  if (f.ccdTemp !== undefined && Number.isFinite(f.ccdTemp)) h.set('CCD-TEMP', Math.round(f.ccdTemp * 100) / 100, '[C] sensor temperature', { float: true });
  if (f.setTemp !== undefined && Number.isFinite(f.setTemp)) h.set('SET-TEMP', f.setTemp, '[C] cooler set point', { float: true });
  h.set('XBINNING', f.binX, 'binning factor in x');
  h.set('YBINNING', f.binY, 'binning factor in y');
  if (f.pixelSizeX !== undefined) h.set('XPIXSZ', f.pixelSizeX * f.binX, '[um] pixel size in x including binning', { float: true });
  if (f.pixelSizeY !== undefined) h.set('YPIXSZ', f.pixelSizeY * f.binY, '[um] pixel size in y including binning', { float: true });
  if (f.instrument) h.set('INSTRUME', f.instrument, 'camera');
  if (f.egain !== undefined && Number.isFinite(f.egain)) h.set('EGAIN', f.egain, '[e-/ADU] electrons per ADU', { float: true });
  if (f.gain !== undefined && Number.isFinite(f.gain)) h.set('GAIN', f.gain, 'camera gain setting');
  if (f.offset !== undefined && Number.isFinite(f.offset)) h.set('OFFSET', f.offset, 'camera offset setting');
  if (f.filter) h.set('FILTER', f.filter, 'filter');
  if (f.originX !== undefined) h.set('XORGSUBF', f.originX, 'subframe origin x (binned pixels)');
  if (f.originY !== undefined) h.set('YORGSUBF', f.originY, 'subframe origin y (binned pixels)');
  if (f.coolerPower !== undefined && Number.isFinite(f.coolerPower)) h.set('COOLPOW', Math.round(f.coolerPower * 10) / 10, '[%] cooler power', { float: true });
  return h;
}
