/**
 * One frame of the night's history as the server records it and the console's night view shows it
 * (no imports: the web app reads this type too).
 */
export interface FrameRecord {
  /** The image id of the 'image' event (the camera's last image). */
  id: number;
  /** Who took it: a manual exposure ('camera'), 'sequence', 'focus loop', 'autofocus'. */
  source: string;
  /** Wall-clock time the frame arrived, ms since the epoch. */
  at: number;
  width: number;
  height: number;
  exposure: number | null;
  filter: string | null;
  stars: number;
  /** Median half-flux radius of the unsaturated stars, px of the frame (null: no star). */
  hfr: number | null;
  background: number;
  temperature: number | null;
  guideRms: number | null;
  /** Binning of the plane the metrics were measured on. */
  measuredBin: number;
}
