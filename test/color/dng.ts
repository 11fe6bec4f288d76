/**
 * Test helper: write a minimal uncompressed CFA DNG (TIFF, little endian, one IFD) so that the real
 * dcraw path can be exercised without a camera raw file in the repository.
 */
import { writeFileSync } from 'node:fs';

interface Entry { tag: number; type: number; count: number; value: Buffer }
const SIZE: Record<number, number> = { 1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 10: 8 };

/** pixels: width*height 16-bit values in row order; cfa: 4 colour indices (0 R, 1 G, 2 B) of the 2x2 cell. */
export function writeDng(path: string, width: number, height: number, pixels: Uint16Array, cfa: number[], opts: { exposure?: [number, number]; iso?: number; model?: string } = {}): void {
  const entries: Entry[] = [];
  const short = (tag: number, ...v: number[]) => {
    const b = Buffer.alloc(2 * v.length);
    v.forEach((x, i) => b.writeUInt16LE(x, 2 * i));
    entries.push({ tag, type: 3, count: v.length, value: b });
  };
  const long = (tag: number, ...v: number[]) => {
    const b = Buffer.alloc(4 * v.length);
    v.forEach((x, i) => b.writeUInt32LE(x, 4 * i));
    entries.push({ tag, type: 4, count: v.length, value: b });
  };
  const bytes = (tag: number, ...v: number[]) => entries.push({ tag, type: 1, count: v.length, value: Buffer.from(v) });
  const ascii = (tag: number, s: string) => entries.push({ tag, type: 2, count: s.length + 1, value: Buffer.from(`${s}\0`, 'latin1') });
  const rational = (tag: number, type: 5 | 10, ...v: Array<[number, number]>) => {
    const b = Buffer.alloc(8 * v.length);
    v.forEach(([n, d], i) => {
      if (type === 5) b.writeUInt32LE(n, 8 * i);
      else b.writeInt32LE(n, 8 * i);
      b.writeUInt32LE(d, 8 * i + 4);
    });
    entries.push({ tag, type, count: v.length, value: b });
  };
  const dataBytes = width * height * 2;
  long(254, 0);
  long(256, width);
  long(257, height);
  short(258, 16);
  short(259, 1);
  short(262, 32803);
  ascii(271, 'Darkroom');
  ascii(272, opts.model ?? 'TestCam');
  long(273, 0); // patched below
  short(274, 1);
  short(277, 1);
  long(278, height);
  long(279, dataBytes);
  short(284, 1);
  short(33421, 2, 2);
  bytes(33422, ...cfa);
  if (opts.exposure) rational(33434, 5, opts.exposure);
  if (opts.iso) short(34855, opts.iso);
  bytes(50706, 1, 4, 0, 0);
  ascii(50708, `Darkroom ${opts.model ?? 'TestCam'}`);
  rational(50721, 10, [10000, 10000], [0, 10000], [0, 10000], [0, 10000], [10000, 10000], [0, 10000], [0, 10000], [0, 10000], [10000, 10000]);
  short(50778, 21);
  entries.sort((a, b) => a.tag - b.tag);
  const ifdOffset = 8;
  const ifdSize = 2 + entries.length * 12 + 4;
  let extra = ifdOffset + ifdSize;
  const extras: Buffer[] = [];
  const ifd = Buffer.alloc(ifdSize);
  ifd.writeUInt16LE(entries.length, 0);
  const placed: Array<{ e: Entry; pos: number }> = [];
  entries.forEach((e, k) => {
    const p = 2 + 12 * k;
    ifd.writeUInt16LE(e.tag, p);
    ifd.writeUInt16LE(e.type, p + 2);
    ifd.writeUInt32LE(e.count, p + 4);
    const len = SIZE[e.type]! * e.count;
    if (len <= 4) e.value.copy(ifd, p + 8);
    else {
      ifd.writeUInt32LE(extra, p + 8);
      const padded = Buffer.alloc(len + (len & 1));
      e.value.copy(padded);
      extras.push(padded);
      extra += padded.length;
    }
    placed.push({ e, pos: p });
  });
  ifd.writeUInt32LE(0, ifdSize - 4);
  const dataOffset = extra;
  const strip = placed.find((x) => x.e.tag === 273)!;
  ifd.writeUInt32LE(dataOffset, strip.pos + 8);
  const head = Buffer.from([0x49, 0x49, 42, 0, 8, 0, 0, 0]);
  const data = Buffer.alloc(dataBytes);
  for (let i = 0; i < width * height; i++) data.writeUInt16LE(pixels[i]!, 2 * i);
  writeFileSync(path, Buffer.concat([head, ifd, ...extras, data]));
}
