/**
 * The in-memory image: planar float32 in ADU as read (not rescaled), `data[c][y * width + x]`.
 * Row 0 is the first row stored in the FITS file.
 */
import { FitsHeader } from '../fits/header.js';

/** Bayer patterns named in file row order (row 0 first), e.g. RGGB = R at (0,0), G at (1,0). */
export type BayerPattern = 'RGGB' | 'BGGR' | 'GRBG' | 'GBRG';

export interface Image {
  width: number;
  height: number;
  /** 1 for mono or CFA mosaics, 3 for RGB. */
  channels: number;
  /** One Float32Array of width*height per channel. */
  data: Float32Array[];
  /** The header the image came with (or will be written with); structural keys are ignored. */
  header: FitsHeader;
  /** CFA layout for one-shot-colour mosaics (channels === 1). */
  cfa?: BayerPattern | string;
}

export function createImage(width: number, height: number, channels = 1, header = new FitsHeader()): Image {
  const data: Float32Array[] = [];
  for (let c = 0; c < channels; c++) data.push(new Float32Array(width * height));
  return { width, height, channels, data, header };
}

export function cloneImage(img: Image): Image {
  return {
    width: img.width,
    height: img.height,
    channels: img.channels,
    data: img.data.map((d) => d.slice()),
    header: img.header.clone(),
    cfa: img.cfa,
  };
}

export function sameGeometry(a: Image, b: Image): boolean {
  return a.width === b.width && a.height === b.height && a.channels === b.channels;
}
