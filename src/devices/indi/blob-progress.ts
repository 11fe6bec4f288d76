/**
 * Following an INDI BLOB as it arrives: the XML reader's `onText` hook reports each chunk that ends
 * inside the text of a `<oneBLOB>` of a `<setBLOBVector>`; the base64 characters are counted (white
 * space, such as the line breaks some servers insert, is left out of the count) against the encoded
 * length expected: `enclen` when the server gives it (INDI 2), else 4*ceil(size/3) for `size` bytes.
 * The fraction is clamped below 1 until the element is complete (the reader then hands it over whole)
 * and never goes back; the bytes reported are the decoded estimate, fraction x size.
 */
import type { DownloadProgress } from '../types.js';
import type { XmlPartialText } from './xml.js';

/** One BLOB element on its way. */
export interface BlobTransfer {
  device: string;
  property: string;
  element: string;
  format?: string;
  /** Decoded bytes announced (`size`; the uncompressed size for a '.z' format); NaN when not given. */
  size: number;
  /** Base64 characters expected (`enclen`, else 4*ceil(size/3)); NaN when neither is known. */
  encoded: number;
  /** Characters of the element's text received so far, white space included. */
  chars: number;
  /** White space among them. */
  blank: number;
}

/** The largest fraction reported before the element is complete. */
const BEFORE_END = 0.999;

/** The progress of `t`: {bytes (decoded estimate), total (size), fraction < 1}. */
export function blobProgress(t: BlobTransfer): DownloadProgress {
  const got = t.chars - t.blank;
  const total = Number.isFinite(t.size) && t.size > 0 ? t.size : undefined;
  if (!(t.encoded > 0)) return { bytes: Math.floor((got * 3) / 4), total, fraction: 0 };
  const fraction = Math.min(got / t.encoded, BEFORE_END);
  return { bytes: total === undefined ? Math.floor((got * 3) / 4) : Math.floor(fraction * total), total, fraction };
}

/** White-space characters (space, tab, CR, LF) in `s`: a scan of the chunk, nothing copied. */
function blanks(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 32 || c === 10 || c === 13 || c === 9) n++;
  }
  return n;
}

const key = (device: string, property: string, element: string): string => `${device}\0${property}\0${element}`;

/** The BLOB elements under way on one INDI connection. */
export class BlobTransfers {
  private readonly map = new Map<string, BlobTransfer>();

  /** `onUpdate` is called after each chunk of a BLOB element's text. */
  constructor(private readonly onUpdate?: (t: BlobTransfer) => void) {}

  /** The XML reader's hook (XmlStream's `onText`). */
  onText(p: XmlPartialText): void {
    const el = p.element;
    const vec = p.path[0];
    if (el.name !== 'oneBLOB' || p.path.length !== 2 || vec?.name !== 'setBLOBVector') return;
    const device = vec.attrs.device;
    const property = vec.attrs.name;
    const element = el.attrs.name;
    if (!device || !property || !element) return;
    const k = key(device, property, element);
    let t = this.map.get(k);
    if (!t) {
      const size = Number(el.attrs.size);
      const enclen = Number(el.attrs.enclen);
      const encoded = Number.isFinite(enclen) && enclen > 0 ? enclen : Number.isFinite(size) && size > 0 ? 4 * Math.ceil(size / 3) : NaN;
      // text of an earlier chunk not seen here (one that ended inside a tag) is taken as base64
      t = { device, property, element, format: el.attrs.format, size: Number.isFinite(size) ? size : NaN, encoded, chars: p.chars, blank: blanks(p.piece) };
      this.map.set(k, t);
    } else {
      t.blank += blanks(p.piece);
      t.chars = p.chars;
    }
    this.onUpdate?.(t);
  }

  /** The transfer of `device`'s `property` element `element`, while it is under way. */
  get(device: string, property: string, element: string): BlobTransfer | undefined {
    return this.map.get(key(device, property, element));
  }

  /** A setBLOBVector was read whole: its elements are no longer under way. */
  end(device: string, property: string): void {
    const pre = key(device, property, '');
    for (const k of this.map.keys()) if (k.startsWith(pre)) this.map.delete(k);
  }

  /** The connection dropped: nothing is under way any more. */
  clear(): void {
    this.map.clear();
  }
}
