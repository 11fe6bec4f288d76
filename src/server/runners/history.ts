/**
 * The night's frame history for the console's imaging view: every frame that reaches the viewer (a
 * single exposure, the sequence's, the focus loop's, autofocus's) gets a record with its quality
 * metrics and a small stretched PNG thumbnail, sent as a {type: 'frame', frame} event.
 *
 * Metrics, kept cheap: the detection plane (stars/metrics.ts: mono as is, RGB averaged, CFA 2x2) is
 * block-averaged by f = ceil(max(width, height) / 1024) per axis, stars are detected and measured on
 * that binned plane (at most 400), and HFR is given back in the frame's pixels: binned HFR x f, less the
 * widening of the block mean (HFR^2 - 2 ln 2 (f^2 - 1) / 12, exact for a Gaussian star).
 * Background: the detection's global background (ADU). Temperature: the frame's CCD-TEMP, else the
 * cooler's last sample. Guide RMS: the guider's total RMS (arcsec) while it guides, else null.
 */
import { createImage, type Image } from '../../image/image.js';
import { encodePng } from '../../render/png.js';
import { autoStf, renderStretched } from '../../render/stretch.js';
import { detectStars } from '../../stars/detect.js';
import { detectionPlane, metricsFromStars } from '../../stars/metrics.js';
import type { FrameRecord } from './frame-record.js';

export type { FrameRecord };

/** Records kept; thumbnails kept (the newest). */
const KEEP = 1000;
const KEEP_THUMBS = 300;
const THUMB = 96;

/** Block means of f x f pixels (partial blocks at the edges averaged over what they have). */
export function blockMean(plane: Float32Array, w: number, h: number, f: number): { plane: Float32Array; width: number; height: number } {
  if (f <= 1) return { plane, width: w, height: h };
  const bw = Math.ceil(w / f);
  const bh = Math.ceil(h / f);
  const sum = new Float64Array(bw * bh);
  const n = new Uint32Array(bw * bh);
  for (let y = 0; y < h; y++) {
    const row = ((y / f) | 0) * bw;
    for (let x = 0; x < w; x++) {
      const v = plane[y * w + x]!;
      if (!Number.isFinite(v)) continue;
      const k = row + ((x / f) | 0);
      sum[k]! += v;
      n[k]!++;
    }
  }
  const out = new Float32Array(bw * bh);
  for (let i = 0; i < out.length; i++) out[i] = n[i] ? sum[i]! / n[i]! : NaN;
  return { plane: out, width: bw, height: bh };
}

/** Long side of the plane the metrics are measured on, at most (px). */
const BIN_TO = 1024;

/** Stars, HFR (frame px) and background of a frame, measured on its plane binned to at most BIN_TO px. */
export function quickMetrics(img: Image): { stars: number; hfr: number | null; background: number; bin: number } {
  const f = Math.max(1, Math.ceil(Math.max(img.width, img.height) / BIN_TO));
  const b = blockMean(detectionPlane(img), img.width, img.height, f);
  const sat = img.header.getNumber('SATURATE');
  const r = detectStars(b.plane, b.width, b.height, { maxStars: 400, ...(sat ? { saturation: 0.9 * sat } : {}) });
  const m = metricsFromStars('', r.stars, r.background.globalBackground, r.background.globalNoise);
  // the f x f block mean widens a star by a box of f pixels: variance (f^2 - 1) / 12 px^2 more than at
  // full resolution, HFR^2 = 2 ln 2 sigma^2 more for a Gaussian; taken out again
  const hfr = Number.isFinite(m.hfr) && m.stars > 0 ? Math.sqrt(Math.max(0, (m.hfr * f) ** 2 - (2 * Math.LN2 * (f * f - 1)) / 12)) : null;
  return { stars: m.stars, hfr, background: m.background, bin: f };
}

/** A grey PNG of the frame, auto-stretched, at most THUMB px on its long side. */
export function thumbnail(img: Image): Buffer {
  const f = Math.max(1, Math.ceil(Math.max(img.width, img.height) / THUMB));
  const b = blockMean(detectionPlane(img), img.width, img.height, f);
  const small = createImage(b.width, b.height, 1);
  small.data[0] = b.plane;
  return encodePng(b.width, b.height, 1, renderStretched(small, autoStf(small)));
}

export interface HistorySources {
  /** The image of an 'image' event, read when the event is emitted (null when there is none). */
  image: () => Image | null;
  temperature: () => number | null;
  guideRms: () => number | null;
  emit: (ev: Record<string, unknown>) => void;
}

export class FrameHistory {
  private readonly records: FrameRecord[] = [];
  private readonly thumbs = new Map<number, Buffer>();
  private pending: Promise<void> = Promise.resolve();

  constructor(private readonly src: HistorySources) {}

  /** Feed it every device event: an 'image' event's frame is measured (after the event, off its path). */
  onEvent(ev: Record<string, unknown>): void {
    if (ev.type !== 'image' || typeof ev.id !== 'number') return;
    const img = this.src.image();
    if (!img) return;
    const at = Date.now();
    const source = typeof ev.source === 'string' ? ev.source : 'camera';
    const guideRms = this.src.guideRms();
    const id = ev.id;
    this.pending = this.pending.then(() => new Promise<void>((done) => setImmediate(() => {
      try {
        this.add(img, id, source, at, guideRms);
      } finally {
        done();
      }
    })));
  }

  private add(img: Image, id: number, source: string, at: number, guideRms: number | null): void {
    const m = quickMetrics(img);
    const h = img.header;
    const rec: FrameRecord = {
      id,
      source,
      at,
      width: img.width,
      height: img.height,
      exposure: h.getNumber('EXPTIME') ?? null,
      filter: h.getString('FILTER')?.trim() || null,
      stars: m.stars,
      hfr: m.hfr,
      background: m.background,
      temperature: h.getNumber('CCD-TEMP') ?? this.src.temperature(),
      guideRms,
      measuredBin: m.bin,
    };
    this.records.push(rec);
    if (this.records.length > KEEP) this.records.splice(0, this.records.length - KEEP);
    this.thumbs.set(id, thumbnail(img));
    if (this.thumbs.size > KEEP_THUMBS) this.thumbs.delete(this.thumbs.keys().next().value!);
    this.src.emit({ type: 'frame', frame: rec });
  }

  /** Resolves once every frame seen so far is measured (tests). */
  settled(): Promise<void> {
    return this.pending;
  }

  list(): FrameRecord[] {
    return [...this.records];
  }

  thumb(id: number): Buffer | undefined {
    return this.thumbs.get(id);
  }
}
