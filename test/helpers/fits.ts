/** Fixture builders: small FITS frames written from synthetic pixel planes. */
import { join } from 'node:path';
import { writeFits, type WriteOptions } from '../../src/fits/index.js';
import { createImage, type Image } from '../../src/image/image.js';

export interface PlaneOptions extends WriteOptions {
  /** CFA layout of a one-shot-colour mosaic (written as BAYERPAT). */
  cfa?: string;
}

/** A one-plane (mono or CFA mosaic) image of `width` x `height` holding a copy of `plane`. */
export function planeImage(plane: Float32Array, width: number, height: number, cfa?: string): Image {
  const img = createImage(width, height, 1);
  img.data[0]!.set(plane);
  if (cfa !== undefined) img.cfa = cfa;
  return img;
}

/** Write `plane` (`width` x `height`) as a one-plane FITS file at `path`; returns the path. */
export function writePlane(path: string, plane: Float32Array, width: number, height: number, opts: PlaneOptions = {}): string {
  const { cfa, ...write } = opts;
  writeFits(path, planeImage(plane, width, height, cfa), write);
  return path;
}

/** Write each plane as `dir/name(i)`; returns the paths in the order of the planes. */
export function writePlanes(dir: string, planes: Float32Array[], width: number, height: number, name: (i: number) => string, opts: PlaneOptions = {}): string[] {
  return planes.map((p, i) => writePlane(join(dir, name(i)), p, width, height, opts));
}
