/**
 * Following an INDI BLOB as it arrives: the XML reader's onText hook (a chunk ending inside an
 * element's text), the BLOB transfer count (base64 characters, white space left out, against enclen
 * or 4*ceil(size/3)), the throttled reports, and the client's 'blobProgress' events over a socket.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import { XmlStream, type XmlElement, type XmlPartialText } from '../../src/devices/indi/xml.js';
import { BlobTransfers, blobProgress, type BlobTransfer } from '../../src/devices/indi/blob-progress.js';
import { Reporter } from '../../src/devices/alpaca/transfer.js';
import { IndiClient } from '../../src/devices/indi/client.js';
import type { DownloadProgress } from '../../src/devices/types.js';

/** A setBLOBVector holding `data` in base64, with a line break every `lineLen` characters when given. */
function blobXml(data: Buffer, o: { enclen?: boolean; lineLen?: number } = {}): { xml: string; b64: string } {
  const b64 = data.toString('base64');
  let text = b64;
  if (o.lineLen) text = b64.match(new RegExp(`.{1,${o.lineLen}}`, 'g'))!.join('\n');
  const enc = o.enclen ? ` enclen="${b64.length}"` : '';
  const xml = `<setBLOBVector device="CCD Simulator" name="CCD1" state="Ok">\n    <oneBLOB name="CCD1" size="${data.length}"${enc} format=".fits">\n${text}\n    </oneBLOB>\n</setBLOBVector>\n`;
  return { xml, b64 };
}

function chunks(s: string, n: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < s.length; i += n) out.push(s.slice(i, i + n));
  return out;
}

test('the XML reader reports each chunk that ends inside an element text, once, with the characters so far', () => {
  const body = 'x'.repeat(95);
  const xml = `<a k="1"><b n="2">${body}</b></a>`;
  const seen: { name: string; path: string; piece: string; chars: number; n: string | undefined }[] = [];
  const els: XmlElement[] = [];
  const s = new XmlStream(
    (e) => els.push(e),
    (p: XmlPartialText) => seen.push({ name: p.element.name, path: p.path.map((e) => e.name).join('/'), piece: p.piece, chars: p.chars, n: p.element.attrs.n }),
  );
  for (const c of chunks(xml, 10)) s.feed(c);
  // the text of <b> starts at offset 18 and runs 95 characters: chunks end at 20, 30, ... 110 inside it
  const want = [20, 30, 40, 50, 60, 70, 80, 90, 100, 110].map((end) => ({ name: 'b', path: 'a/b', piece: xml.slice(Math.max(18, end - 10), end), chars: end - 18, n: '2' }));
  assert.deepEqual(seen, want);
  assert.equal(els.length, 1);
  assert.equal(els[0]!.children[0]!.text, body);
});

test('a long setBLOBVector fed in small chunks: counted base64 exactly, throttled reports monotonic to 1, the BLOB decodes equal', () => {
  for (const o of [{}, { enclen: true, lineLen: 72 }]) {
    const data = randomBytes(300_001);
    const { xml, b64 } = blobXml(data, o);
    const expectedEnc = o.enclen ? b64.length : 4 * Math.ceil(data.length / 3);
    assert.equal(expectedEnc, b64.length);
    const transfers: BlobTransfer[] = [];
    const reports: DownloadProgress[] = [];
    const rep = new Reporter((p) => reports.push(p), 0.01, 1e9);
    let started = false;
    const blobs = new BlobTransfers((t) => {
      transfers.push({ ...t });
      const p = blobProgress(t);
      if (!started) rep.report(0, p.total);
      started = true;
      rep.report(p.bytes, p.total);
    });
    let whole: XmlElement | undefined;
    const s = new XmlStream(
      (e) => {
        whole = e;
        blobs.end(e.attrs.device!, e.attrs.name!);
      },
      (p) => blobs.onText(p),
    );
    const textStart = xml.indexOf('>', xml.indexOf('<oneBLOB')) + 1;
    const textEnd = xml.indexOf('</oneBLOB>');
    let fed = 0;
    const expected: number[] = [];
    for (const c of chunks(xml, 997)) {
      s.feed(c);
      fed += c.length;
      // the ground truth: the base64 characters among those fed so far
      if (fed > textStart && fed < textEnd) expected.push(xml.slice(textStart, fed).replace(/\s/g, '').length);
    }
    assert.ok(whole && !blobs.get('CCD Simulator', 'CCD1', 'CCD1'), 'the element came whole and its transfer ended');
    rep.report(data.length, data.length, true);
    assert.deepEqual(
      transfers.map((t) => t.chars - t.blank),
      expected,
    );
    for (const t of transfers) {
      assert.equal(t.encoded, expectedEnc);
      // the decoded estimate: fraction x size, 3 bytes per 4 base64 characters (to the padding of the last quantum)
      const got = t.chars - t.blank;
      assert.equal(blobProgress(t).bytes, Math.floor(Math.min(got / expectedEnc, 0.999) * data.length));
      if (got / expectedEnc < 0.999) assert.ok(Math.abs(blobProgress(t).bytes - (got * 3) / 4) <= 3, `${blobProgress(t).bytes} bytes for ${got} characters`);
    }
    // the fraction of each: base64 so far over the expected length, held below 1 until the end
    for (const [i, t] of transfers.entries()) assert.equal(blobProgress(t).fraction, Math.min(expected[i]! / expectedEnc, 0.999));
    // decoded: the element's text is the data
    const blob = Buffer.from(whole!.children[0]!.text.replace(/\s+/g, ''), 'base64');
    assert.ok(blob.equals(data), 'the decoded BLOB');
    // the throttled reports: 0 first, then one as soon as 1 % more has come (a 997-character chunk is
    // ~0.25 %: every 5th chunk, so gaps of 1 % to 1 % + one chunk), then 1
    assert.deepEqual(reports[0], { bytes: 0, total: data.length, fraction: 0 });
    assert.deepEqual(reports[reports.length - 1], { bytes: data.length, total: data.length, fraction: 1 });
    const partial = reports.slice(1, -1);
    const perChunk = 997 / expectedEnc;
    assert.ok(partial.length >= Math.floor(0.99 / (0.01 + perChunk)) && partial.length <= 100, `${partial.length} partial reports`);
    for (let i = 1; i < partial.length; i++) {
      const gap = partial[i]!.fraction - partial[i - 1]!.fraction;
      assert.ok(gap >= 0.01 && gap < 0.01 + perChunk, `gap ${gap} at report ${i}`);
    }
    for (let i = 1; i < reports.length; i++) {
      assert.ok(reports[i]!.fraction > reports[i - 1]!.fraction, `report ${i}: ${JSON.stringify(reports.slice(i - 1, i + 1))}`);
      assert.ok(reports[i]!.bytes > reports[i - 1]!.bytes, `bytes ${i}: ${JSON.stringify(reports.slice(i - 1, i + 1))}`);
    }
    for (const p of partial) {
      assert.ok(p.fraction > 0 && p.fraction < 1, JSON.stringify(p));
      assert.ok(Math.abs(p.bytes - p.fraction * data.length) < 1e-6, JSON.stringify(p));
    }
  }
});

test('the INDI client follows a BLOB arriving over the socket in pieces and stores it whole', async () => {
  const data = randomBytes(200_000);
  const { xml, b64 } = blobXml(data, { lineLen: 64 });
  let peer: Socket | undefined;
  const srv = createServer((sock) => {
    peer = sock;
    sock.setNoDelay(true);
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const client = new IndiClient('127.0.0.1', (srv.address() as AddressInfo).port);
  try {
    await client.connect();
    while (!peer) await new Promise((r) => setTimeout(r, 5));
    const events: { fraction: number; during: boolean }[] = [];
    client.on('blobProgress', (t: BlobTransfer) => events.push({ fraction: blobProgress(t).fraction, during: client.blobTransfer('CCD Simulator', 'CCD1', 'CCD1') === t }));
    const updated = new Promise<void>((r) => client.on('update', (_d: string, name: string) => name === 'CCD1' && r()));
    for (const c of chunks(xml, 8192)) {
      await new Promise<void>((r) => peer!.write(c, () => r()));
      await new Promise((r) => setTimeout(r, 5));
    }
    await updated;
    const el = client.property('CCD Simulator', 'CCD1')!.elements.get('CCD1')!;
    assert.ok(el.blob!.equals(data));
    assert.equal(client.blobTransfer('CCD Simulator', 'CCD1', 'CCD1'), undefined, 'no transfer under way once the BLOB is whole');
    // ~b64.length/8192 chunks: most arrive alone (a few may be joined by the socket)
    const n = Math.ceil(xml.length / 8192);
    assert.ok(events.length >= n / 2 && events.length <= n, `${events.length} events for ${n} chunks`);
    assert.ok(events.every((e) => e.during && e.fraction > 0 && e.fraction < 1));
    for (let i = 1; i < events.length; i++) assert.ok(events[i]!.fraction > events[i - 1]!.fraction);
    assert.ok(events[events.length - 1]!.fraction > 1 - 8192 / b64.length - 0.01);
  } finally {
    client.close();
    peer?.destroy();
    await new Promise<void>((r) => srv.close(() => r()));
  }
});
