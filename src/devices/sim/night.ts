/**
 * Writing a simulated night: frames of one camera instance straight from the image simulator, one
 * after the other on a running clock, each written as a 16-bit FITS file. Shared by `simulateSession`
 * (the `darkroom simulate` night with its truth folder) and `simulateDemoNight` (the quick LRGB demo
 * fixture).
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { writeFits, type FitsHeader } from '../../fits/index.js';
import { simulateFrame, type CameraInstance, type FrameKind, type FrameRequest, type SimFrame } from './camera.js';

export interface NightWriterOptions {
  /** Start of the first exposure, ms since the epoch. */
  start: number;
  /** Seconds between the end of one exposure and the start of the next (readout, download). */
  gapS: number;
  /** Frame seed from the running frame number (1, 2, ...); default the number itself. */
  seed?: (frameNo: number) => number;
  /** HISTORY cards of a frame. */
  history?: (kind: FrameKind, exposure: number) => string[];
  /** Cards added to every frame's header. */
  cards?: (h: FitsHeader) => void;
}

/** What a frame's request holds beyond what the writer fills in (kind, temperatures, seed, date). */
export type FrameExtra = Partial<FrameRequest> & { exposure: number };

export class NightWriter {
  private clock: number;
  /** Frames written so far. */
  frames = 0;

  constructor(
    readonly camera: CameraInstance,
    private readonly opts: NightWriterOptions,
  ) {
    this.clock = opts.start;
  }

  /**
   * Simulate and write one frame at the set point `temp` (the sensor wanders 0.05 C around it).
   * `extra` may depend on the frame number (1-based); `cards` adds cards to this frame's header.
   */
  shoot(kind: FrameKind, path: string, temp: number, extra: FrameExtra | ((frameNo: number) => FrameExtra), cards?: (h: FitsHeader) => void): SimFrame {
    const ccdTemp = temp + 0.05 * Math.sin(this.frames);
    const frameNo = ++this.frames;
    const more = typeof extra === 'function' ? extra(frameNo) : extra;
    const req: FrameRequest = { kind, ccdTemp, setTemp: temp, seed: this.opts.seed?.(frameNo) ?? frameNo, dateObs: new Date(this.clock), ...more };
    const f = simulateFrame(this.camera, req);
    this.opts.cards?.(f.image.header);
    cards?.(f.image.header);
    mkdirSync(dirname(path), { recursive: true });
    writeFits(path, f.image, { bitpix: 16, history: this.opts.history?.(kind, req.exposure) });
    this.clock += (req.exposure + this.opts.gapS) * 1000;
    return f;
  }
}
