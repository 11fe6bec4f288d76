/**
 * `debayerFiles`: the file-level driver of demosaicing, used by `darkroom debayer`, the pipeline's
 * debayer step and the server alike: each one-plane CFA mosaic is read, demosaiced into R, G, B and
 * written atomically (float32, HISTORY). The pattern comes from the header (BAYERPAT, XBAYROFF,
 * YBAYROFF, ROWORDER: see cfa.ts) unless the caller gives one; `fallbackPattern` serves frames
 * without one (the pipeline knows the pattern of its group).
 */
import { basename } from 'node:path';
import { readFits, writeFits } from '../fits/index.js';
import type { Image } from '../image/image.js';
import { DarkroomError, isDarkroomError } from '../util/errors.js';
import { assertOutputsAreNotInputs } from '../util/paths.js';
import { makeOutputDirs, resolveOutputs, type FrameErrors, type OutputPaths, type Sinks } from '../util/sinks.js';
import type { WarningEvent } from '../util/warnings.js';
import { cfaFromHeader, cfaName, requireCfa, type CfaFromHeader } from './cfa.js';
import { DEBAYER_METHODS, debayerImage, type DebayerMethod } from './debayer.js';

export interface DebayerFilesOptions {
  /** Default 'rcd'. */
  method?: DebayerMethod;
  /** 'auto' (default: from the header) or a pattern in stored row order that overrides the header. */
  pattern?: string;
  /** The pattern of frames whose header has none (default: such a frame is refused). */
  fallbackPattern?: string;
  /** A user error of one frame: 'throw' (default) or 'reject' (the frame is left out with its reason). */
  frameErrors?: FrameErrors;
  /** First HISTORY lines of each output (default `debayer FILE method=METHOD`). */
  historyHead?: (input: string) => string[];
}

export type DebayeredFrame = { input: string; output: string; ok: true; cfa: string; method: DebayerMethod; width: number; height: number };
export type FailedDebayer = { input: string; output: string; ok: false; reason: string };

export interface DebayerFilesResult {
  frames: (DebayeredFrame | FailedDebayer)[];
  warnings: WarningEvent[];
}

export function checkDebayerMethod(method: string): DebayerMethod {
  const m = method.toLowerCase() as DebayerMethod;
  if (!DEBAYER_METHODS.includes(m)) throw new DarkroomError('BAD_ARGUMENT', `unknown method '${method}' (choose ${DEBAYER_METHODS.join(', ')})`);
  return m;
}

/** The CFA of a frame: the header's (or the caller's override), else the fallback. */
function frameCfa(img: Image, file: string, o: DebayerFilesOptions): CfaFromHeader {
  if (img.channels !== 1) throw new DarkroomError('BAD_ARGUMENT', `image has ${img.channels} planes: it is already colour, there is no mosaic to debayer`, file);
  const found = cfaFromHeader(img.header, img.height, o.pattern, file);
  if (found) return found;
  if (o.fallbackPattern) {
    const cfa = requireCfa(o.fallbackPattern, 'CFA pattern', file);
    return { cfa, note: `CFA ${cfaName(cfa)} (first stored row) of the frame's group (no BAYERPAT in the header)` };
  }
  throw new DarkroomError('BAD_HEADER', 'no BAYERPAT keyword: not a known CFA mosaic (give --pattern RGGB|BGGR|GRBG|GBRG)', file);
}

function debayerOne(file: string, dest: string, method: DebayerMethod, o: DebayerFilesOptions): DebayeredFrame {
  const img = readFits(file);
  const found = frameCfa(img, file, o);
  const out = debayerImage(img, found.cfa, method, file);
  const head = o.historyHead ? o.historyHead(file) : [`debayer ${basename(file)} method=${method}`];
  writeFits(dest, out, { bitpix: -32, history: [...head, found.note] });
  return { input: file, output: dest, ok: true, cfa: cfaName(found.cfa), method, width: out.width, height: out.height };
}

/** Demosaic `inputs` into `outputs` (a list in the same order, or a function of the input); one progress event per frame. */
export async function debayerFiles(inputs: string[], outputs: OutputPaths, o: DebayerFilesOptions = {}, sinks: Sinks<DebayeredFrame | FailedDebayer> = {}): Promise<DebayerFilesResult> {
  const method = checkDebayerMethod(o.method ?? 'rcd');
  const outs = resolveOutputs(inputs, outputs);
  assertOutputsAreNotInputs(outs, inputs, inputs);
  makeOutputDirs(outs);
  const warnings: WarningEvent[] = [];
  const frames: DebayerFilesResult['frames'] = [];
  for (let i = 0; i < inputs.length; i++) {
    const file = inputs[i]!;
    try {
      frames.push(debayerOne(file, outs[i]!, method, o));
    } catch (e) {
      if (!isDarkroomError(e) || (o.frameErrors ?? 'throw') === 'throw') throw e;
      const w: WarningEvent = { code: 'FRAME_FAILED', file, message: `cannot be debayered, left out: ${e.message}` };
      warnings.push(w);
      sinks.onWarning?.(w);
      frames.push({ input: file, output: outs[i]!, ok: false, reason: e.message });
    }
    sinks.onProgress?.({ done: i + 1, total: inputs.length, file, frame: frames[frames.length - 1] });
  }
  return { frames, warnings };
}
