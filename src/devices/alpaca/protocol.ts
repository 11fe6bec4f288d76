/**
 * ASCOM Alpaca protocol constants shared by the server and the client.
 * Error numbers from the Alpaca Device API; ImageBytes per the ASCOM Alpaca ImageBytes spec.
 */
export const ALPACA_ERRORS = {
  notImplemented: 0x400,
  invalidValue: 0x401,
  valueNotSet: 0x402,
  notConnected: 0x407,
  invalidWhileParked: 0x408,
  invalidWhileSlaved: 0x409,
  invalidOperation: 0x40b,
  actionNotImplemented: 0x40c,
  driverError: 0x500,
} as const;

export const DISCOVERY_PORT = 32227;
export const DISCOVERY_MESSAGE = 'alpacadiscovery1';
export const IMAGEBYTES_MIME = 'application/imagebytes';
export const IMAGEBYTES_HEADER = 44;

/** ASCOM element type codes used in ImageBytes and the JSON Type field. */
export const ELEMENT_TYPE = { unknown: 0, int16: 1, int32: 2, double: 3, single: 4, uint64: 5, byte: 6, int64: 7, uint16: 8, uint32: 9 } as const;

/** ASCOM CameraStates. */
export const CAMERA_STATES = ['idle', 'waiting', 'exposing', 'reading', 'downloading', 'error'] as const;

export interface ImageBytesHeader {
  metadataVersion: number;
  errorNumber: number;
  clientTransactionId: number;
  serverTransactionId: number;
  dataStart: number;
  imageElementType: number;
  transmissionElementType: number;
  rank: number;
  dims: [number, number, number];
}

/**
 * Encode a 2-D image (row-major data[y*w+x]) as ImageBytes: element order column-major [x][y]
 * (y fastest), ImageElementType Int32, transmitted as UInt16 when all values fit, else Int32.
 */
export function encodeImageBytes(data: Float32Array, width: number, height: number, clientTx: number, serverTx: number): Buffer {
  let fits16 = true;
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (!(v >= 0 && v <= 65535 && Number.isInteger(v))) {
      fits16 = false;
      break;
    }
  }
  const bpe = fits16 ? 2 : 4;
  const buf = Buffer.alloc(IMAGEBYTES_HEADER + width * height * bpe);
  const hdr = [1, 0, clientTx, serverTx, IMAGEBYTES_HEADER, ELEMENT_TYPE.int32, fits16 ? ELEMENT_TYPE.uint16 : ELEMENT_TYPE.int32, 2, width, height, 0];
  hdr.forEach((v, i) => buf.writeInt32LE(v, i * 4));
  let o = IMAGEBYTES_HEADER;
  if (fits16) {
    const out = new Uint16Array(buf.buffer, buf.byteOffset + o, width * height);
    let k = 0;
    for (let x = 0; x < width; x++) for (let y = 0; y < height; y++) out[k++] = data[y * width + x]!;
  } else {
    for (let x = 0; x < width; x++) {
      for (let y = 0; y < height; y++) {
        buf.writeInt32LE(Math.round(data[y * width + x]!), o);
        o += 4;
      }
    }
  }
  return buf;
}

/** An ImageBytes error response: header with ErrorNumber and the UTF-8 message at DataStart. */
export function encodeImageBytesError(errorNumber: number, message: string, clientTx: number, serverTx: number): Buffer {
  const msg = Buffer.from(message, 'utf8');
  const buf = Buffer.alloc(IMAGEBYTES_HEADER + msg.length);
  [1, errorNumber, clientTx, serverTx, IMAGEBYTES_HEADER, 0, 0, 0, 0, 0, 0].forEach((v, i) => buf.writeInt32LE(v, i * 4));
  msg.copy(buf, IMAGEBYTES_HEADER);
  return buf;
}

export function parseImageBytesHeader(buf: Buffer): ImageBytesHeader {
  if (buf.length < IMAGEBYTES_HEADER) throw new Error(`ImageBytes response too short (${buf.length} bytes)`);
  const r = (i: number): number => buf.readInt32LE(i * 4);
  return {
    metadataVersion: r(0),
    errorNumber: r(1),
    clientTransactionId: r(2),
    serverTransactionId: r(3),
    dataStart: r(4),
    imageElementType: r(5),
    transmissionElementType: r(6),
    rank: r(7),
    dims: [r(8), r(9), r(10)],
  };
}

/** Decode a rank-2 ImageBytes body into a row-major Float32Array. */
export function decodeImageBytes(buf: Buffer, h: ImageBytesHeader): { width: number; height: number; data: Float32Array } {
  if (h.rank !== 2) throw new Error(`ImageBytes rank ${h.rank} not supported (mono cameras only)`);
  const [width, height] = h.dims;
  const n = width * height;
  const data = new Float32Array(n);
  const start = h.dataStart;
  const sizes: Record<number, number> = { [ELEMENT_TYPE.int16]: 2, [ELEMENT_TYPE.uint16]: 2, [ELEMENT_TYPE.int32]: 4, [ELEMENT_TYPE.uint32]: 4, [ELEMENT_TYPE.byte]: 1, [ELEMENT_TYPE.double]: 8, [ELEMENT_TYPE.single]: 4 };
  const t = h.transmissionElementType;
  const bpe = sizes[t];
  if (!bpe) throw new Error(`ImageBytes transmission element type ${t} not supported`);
  if (buf.length < start + n * bpe) throw new Error(`ImageBytes body truncated: ${buf.length} bytes for ${width}x${height}`);
  let k = 0;
  for (let x = 0; x < width; x++) {
    for (let y = 0; y < height; y++, k++) {
      const o = start + k * bpe;
      let v: number;
      switch (t) {
        case ELEMENT_TYPE.uint16: v = buf.readUInt16LE(o); break;
        case ELEMENT_TYPE.int16: v = buf.readInt16LE(o); break;
        case ELEMENT_TYPE.int32: v = buf.readInt32LE(o); break;
        case ELEMENT_TYPE.uint32: v = buf.readUInt32LE(o); break;
        case ELEMENT_TYPE.byte: v = buf[o]!; break;
        case ELEMENT_TYPE.double: v = buf.readDoubleLE(o); break;
        default: v = buf.readFloatLE(o);
      }
      data[y * width + x] = v;
    }
  }
  return { width, height, data };
}
