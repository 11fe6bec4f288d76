/**
 * A small PNG encoder (8-bit grey or RGB, and 16-bit), zlib from Node. Enough for previews; no dependency.
 */
import { deflateSync } from 'node:zlib';

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(buf: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < buf.length; i++) c = CRC_TABLE[(c ^ buf[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  out.set(data, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

/**
 * Encode interleaved samples (`channels` = 1 grey or 3 RGB, `depth` 8 or 16) as PNG. Rows use
 * the "up" filter, which compresses smooth astronomical images well.
 */
export function encodePng(width: number, height: number, channels: 1 | 3, pixels: Uint8Array | Uint16Array, depth: 8 | 16 = 8): Buffer {
  const bpp = channels * (depth / 8);
  const stride = width * bpp;
  const raw = Buffer.alloc((stride + 1) * height);
  const row = Buffer.alloc(stride);
  const prev = Buffer.alloc(stride);
  for (let y = 0; y < height; y++) {
    if (depth === 8) row.set((pixels as Uint8Array).subarray(y * width * channels, (y + 1) * width * channels));
    else {
      const p = pixels as Uint16Array;
      for (let i = 0, o = y * width * channels; i < width * channels; i++) row.writeUInt16BE(p[o + i]!, i * 2);
    }
    const base = y * (stride + 1);
    raw[base] = 2; // filter: up
    for (let i = 0; i < stride; i++) raw[base + 1 + i] = (row[i]! - prev[i]!) & 0xff;
    prev.set(row);
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = depth;
  ihdr[9] = channels === 3 ? 2 : 0;
  ihdr[10] = 0;
  ihdr[11] = 0;
  ihdr[12] = 0;
  const sig = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([sig, chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw, { level: 6 })), chunk('IEND', new Uint8Array(0))]);
}
