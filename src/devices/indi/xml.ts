/**
 * A streaming XML tokenizer for the INDI protocol: feed it chunks as they arrive on the socket;
 * it emits each complete top-level element as a small tree. Handles attributes (single or double
 * quoted), self-closing tags, text, the five predefined entities and numeric character references,
 * comments and processing instructions. No DTDs or namespaces (INDI uses neither).
 *
 * Progress inside a long element (a BLOB of megabytes of base64): when a chunk ends in the middle of
 * an element's text, the optional `onText` hook is told which element it is (its attributes are
 * known, its text not yet), the open elements above it, the piece of text that chunk brought (the
 * slice the reader keeps anyway: nothing more is copied) and how many characters of text have
 * arrived for it so far. It is called at most once per chunk; the element itself still comes whole,
 * through `onElement`, once its closing tag is read.
 */
export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  text: string;
}

/** A chunk ended inside the text of `element` (see the file comment). */
export interface XmlPartialText {
  element: XmlElement;
  /** The open elements, outermost (the top-level one) first; `element` is the last. Live: read it in the call. */
  path: readonly XmlElement[];
  /** The text this chunk brought for it (raw: entities not decoded). */
  piece: string;
  /** Characters of its text received so far (raw), `piece` included. */
  chars: number;
}

export function decodeEntities(s: string): string {
  if (!s.includes('&')) return s;
  return s.replace(/&(#x[0-9a-fA-F]+|#\d+|lt|gt|amp|quot|apos);/g, (_, e: string) => {
    if (e[0] === '#') return String.fromCodePoint(e[1] === 'x' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10));
    return { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" }[e]!;
  });
}

export function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

const ATTR_RE = /([A-Za-z_:][-A-Za-z0-9_:.]*)\s*=\s*("([^"]*)"|'([^']*)')/g;

export class XmlStream {
  private buf = '';
  private pos = 0;
  private stack: XmlElement[] = [];
  private textParts: string[][] = [];
  /** Characters of text received so far by each open element (parallel to `stack`). */
  private textChars: number[] = [];

  constructor(
    private readonly onElement: (e: XmlElement) => void,
    private readonly onText?: (p: XmlPartialText) => void,
  ) {}

  feed(chunk: string): void {
    this.buf = this.buf.slice(this.pos) + chunk;
    this.pos = 0;
    const b = this.buf;
    for (;;) {
      const lt = b.indexOf('<', this.pos);
      if (lt < 0) {
        const piece = b.slice(this.pos);
        this.text(piece);
        this.pos = b.length;
        const top = this.stack.length - 1;
        if (this.onText && top >= 0 && piece) this.onText({ element: this.stack[top]!, path: this.stack, piece, chars: this.textChars[top]! });
        return;
      }
      if (lt > this.pos) this.text(b.slice(this.pos, lt));
      this.pos = lt;
      if (b.startsWith('<!--', lt)) {
        const end = b.indexOf('-->', lt + 4);
        if (end < 0) return;
        this.pos = end + 3;
        continue;
      }
      if (b.startsWith('<?', lt) || b.startsWith('<!', lt)) {
        const end = b.indexOf('>', lt);
        if (end < 0) return;
        this.pos = end + 1;
        continue;
      }
      const gt = findTagEnd(b, lt + 1);
      if (gt < 0) return; // incomplete tag: wait for more
      const raw = b.slice(lt + 1, gt);
      this.pos = gt + 1;
      if (raw[0] === '/') this.close(raw.slice(1).trim());
      else this.open(raw);
    }
  }

  private text(t: string): void {
    const top = this.stack.length - 1;
    if (top < 0) return;
    this.textParts[top]!.push(t);
    this.textChars[top]! += t.length;
  }

  private open(raw: string): void {
    const selfClose = raw.endsWith('/');
    const body = selfClose ? raw.slice(0, -1) : raw;
    const m = /^([^\s/>]+)/.exec(body);
    if (!m) return;
    const attrs: Record<string, string> = {};
    ATTR_RE.lastIndex = m[1]!.length;
    let a: RegExpExecArray | null;
    while ((a = ATTR_RE.exec(body))) attrs[a[1]!] = decodeEntities(a[3] ?? a[4] ?? '');
    const el: XmlElement = { name: m[1]!, attrs, children: [], text: '' };
    if (selfClose) this.finish(el);
    else {
      this.stack.push(el);
      this.textParts.push([]);
      this.textChars.push(0);
    }
  }

  private close(name: string): void {
    // tolerate mismatched closes by unwinding to the matching open element
    let i = this.stack.length - 1;
    while (i >= 0 && this.stack[i]!.name !== name) i--;
    if (i < 0) return;
    while (this.stack.length > i) {
      const el = this.stack.pop()!;
      this.textChars.pop();
      el.text = decodeEntities(this.textParts.pop()!.join(''));
      this.finish(el);
    }
  }

  private finish(el: XmlElement): void {
    const parent = this.stack[this.stack.length - 1];
    if (parent) parent.children.push(el);
    else this.onElement(el);
  }
}

function findTagEnd(b: string, from: number): number {
  let q = '';
  for (let i = from; i < b.length; i++) {
    const c = b[i]!;
    if (q) {
      if (c === q) q = '';
    } else if (c === '"' || c === "'") q = c;
    else if (c === '>') return i;
  }
  return -1;
}
