/**
 * Frame metadata from headers as acquisition software writes them (MaxIm DL, N.I.N.A., SGP, APT, Ekos,
 * SharpCap...): kind, exposure, temperature, binning, filter, gain/offset.
 */
import type { FitsHeader } from '../fits/header.js';
import { basename, dirname } from 'node:path';

import type { FrameKind } from '../image/frame-kind.js';
export type { FrameKind };

/** Normalize an IMAGETYP value ("Light Frame", "DARKFLAT", "Flat Dark", "Master Bias"...) to a kind. */
export function kindFromImagetyp(value: string | undefined): FrameKind | undefined {
  if (!value) return undefined;
  const v = value.toLowerCase().replace(/[^a-z]/g, ' ').replace(/\s+/g, ' ').trim();
  if (v === '') return undefined;
  const words = new Set(v.split(' '));
  const has = (w: string): boolean => words.has(w) || v.replace(/ /g, '').includes(w);
  if (has('darkflat') || has('flatdark') || has('flatdarks') || has('darkflats')) return 'flatdark';
  if (has('bias') || has('offset') || has('zero')) return 'bias';
  if (has('dark')) return 'dark';
  if (has('flat') || has('skyflat') || has('domeflat')) return 'flat';
  if (has('light') || has('object') || has('science') || has('lightframe')) return 'light';
  return undefined;
}

/** Fallback from file and folder names: `.../darks/...`, `Bias_001.fit`, `FlatDark_...`. */
export function kindFromPath(path: string): FrameKind | undefined {
  const parts = [basename(path), basename(dirname(path))].map((s) => s.toLowerCase());
  for (const p of parts) {
    const s = p.replace(/[^a-z]/g, '');
    if (/darkflat|flatdark/.test(s)) return 'flatdark';
    if (/bias|offset/.test(s)) return 'bias';
    if (/dark/.test(s)) return 'dark';
    if (/flat/.test(s)) return 'flat';
    if (/light/.test(s)) return 'light';
  }
  return undefined;
}

export interface FrameMeta {
  kind?: FrameKind;
  exposure?: number;
  temperature?: number;
  setTemperature?: number;
  filter?: string;
  binning: { x: number; y: number };
  gain?: number;
  offset?: number;
  egain?: number;
  object?: string;
  instrument?: string;
  dateObs?: string;
  bayer?: string;
}

export function frameMeta(h: FitsHeader, path?: string): FrameMeta {
  const kind = kindFromImagetyp(h.getString('IMAGETYP') ?? h.getString('FRAME') ?? h.getString('FRAMETYP')) ?? (path ? kindFromPath(path) : undefined);
  const exposure = h.getNumber('EXPTIME') ?? h.getNumber('EXPOSURE') ?? h.getNumber('EXP_TIME');
  const temperature = h.getNumber('CCD-TEMP') ?? h.getNumber('CCD_TEMP') ?? h.getNumber('SET-TEMP') ?? h.getNumber('SET_TEMP');
  const xb = h.getNumber('XBINNING') ?? h.getNumber('BINX') ?? 1;
  const yb = h.getNumber('YBINNING') ?? h.getNumber('BINY') ?? xb;
  const filter = h.getString('FILTER')?.trim();
  return {
    kind,
    exposure,
    temperature,
    setTemperature: h.getNumber('SET-TEMP') ?? h.getNumber('SET_TEMP'),
    filter: filter === '' ? undefined : filter,
    binning: { x: xb, y: yb },
    gain: h.getNumber('GAIN'),
    offset: h.getNumber('OFFSET') ?? h.getNumber('BLKLEVEL'),
    egain: h.getNumber('EGAIN'),
    object: h.getString('OBJECT')?.trim() || undefined,
    instrument: h.getString('INSTRUME')?.trim() || undefined,
    dateObs: h.getString('DATE-OBS')?.trim() || undefined,
    bayer: h.getString('BAYERPAT')?.trim().toUpperCase() || undefined,
  };
}
