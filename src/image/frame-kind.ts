/**
 * The kind of a frame (calibration or light), as acquisition writes it and as the session classifier
 * reads it back. One definition for every layer: devices and the simulator write IMAGETYP from it,
 * session/ maps the spellings seen in the wild onto it.
 */

/** The frame kinds, in the order commands list them. */
export const FRAME_KINDS = ['light', 'dark', 'bias', 'flat', 'flatdark'] as const;
export type FrameKind = (typeof FRAME_KINDS)[number];

export function isFrameKind(v: unknown): v is FrameKind {
  return typeof v === 'string' && (FRAME_KINDS as readonly string[]).includes(v);
}

/** The IMAGETYP value written for each kind (MaxIm DL spelling, which every reader understands). */
export const IMAGETYP: Record<FrameKind, string> = {
  bias: 'Bias Frame',
  dark: 'Dark Frame',
  flat: 'Flat Field',
  flatdark: 'Flat Dark',
  light: 'Light Frame',
};
