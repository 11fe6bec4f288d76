/**
 * Fuzz (seeded, bounded): ~90 corrupted FITS files made from three valid 64x48 frames (BITPIX 16
 * with BZERO 32768, -32, 8): truncations, byte flips in header cards, wrong BITPIX/NAXIS/NAXISn/
 * BZERO/BSCALE values, a lost END, zero and huge axes, duplicated keywords, non-FITS bytes, an
 * empty file, a directory, a FIFO, a socket and a device. Each goes through `info`, `stack` (between
 * two valid frames) and `calibrate` (as the light, and as the master dark). What the user sees must
 * be either exit 2 with exactly one stderr line naming the file, or exit 0 with the pixels Astropy
 * reads; never a hang, a stack trace or another exit code. All command lines run in one process
 * (cli-driver.ts, under a timeout); all the files that read go to Astropy in one Python call.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { readFits, writeFits, type WriteBitpix } from '../../src/fits/index.js';
import { createImage } from '../../src/image/image.js';
import { Rng } from '../../src/util/random.js';
import { fileTempDir, ROOT, runPython } from '../helpers/env.js';
import type { CaseResult } from './cli-driver.js';

const W = 64;
const H = 48;

function baseImage(rng: Rng, bitpix: WriteBitpix): ReturnType<typeof createImage> {
  const img = createImage(W, H);
  const p = img.data[0]!;
  for (let i = 0; i < p.length; i++) {
    const v = bitpix === 8 ? 20 + ((i * 7) % 200) + rng.int(30) : 1000 + ((i * 13) % 700) + rng.int(200);
    p[i] = bitpix === -32 ? v + rng.uniform() : v;
  }
  img.header.set('OBJECT', 'M31');
  img.header.set('EXPTIME', 60);
  return img;
}

// ------------------------------------------------------------- mutations on the bytes of a file

type Mutation = (b: Buffer, rng: Rng) => Buffer;

const pad = (s: string): string => s.padEnd(80).slice(0, 80);

/** Index (in cards) of the END card, and of the card with keyword `key`. */
function cardIndex(b: Buffer, key: string): number {
  for (let i = 0; i * 80 < Math.min(b.length, 2880 * 4); i++) {
    const k = b.toString('latin1', i * 80, i * 80 + 8).trimEnd();
    if (k === key) return i;
  }
  return -1;
}

/** Replace the value of `key` (the whole card, keeping the keyword). */
const setValue = (key: string, value: string): Mutation => (b) => {
  const i = cardIndex(b, key);
  assert.ok(i >= 0, `no ${key} card`);
  const out = Buffer.from(b);
  out.write(pad(`${key.padEnd(8)}= ${value}`), i * 80, 'latin1');
  return out;
};

/** Replace one card by `text` (e.g. a keyword without value, or blanks). */
const setCard = (key: string, text: string): Mutation => (b) => {
  const i = cardIndex(b, key);
  const out = Buffer.from(b);
  out.write(pad(text), i * 80, 'latin1');
  return out;
};

/** Insert a card before END (the header has room: it uses well under 36 cards). */
const insertCard = (text: string): Mutation => (b) => {
  const i = cardIndex(b, 'END');
  const out = Buffer.from(b);
  out.write(pad(text), i * 80, 'latin1');
  out.write(pad('END'), (i + 1) * 80, 'latin1');
  return out;
};

/** Replace the card of `key` by `text` if there is one, else insert `text`. */
const putCard = (key: string, text: string): Mutation => (b, rng) => (cardIndex(b, key) >= 0 ? setCard(key, text) : insertCard(text))(b, rng);

const truncate = (at: (size: number, rng: Rng) => number): Mutation => (b, rng) => b.subarray(0, at(b.length, rng));

/** One random byte of one random card (END included) set to a random value. */
const flip: Mutation = (b, rng) => {
  const out = Buffer.from(b);
  const cards = cardIndex(b, 'END') + 1;
  out[rng.int(cards) * 80 + rng.int(80)] = rng.int(256);
  return out;
};

/** One mutation per card, each putting `card` in place of KEY: named `key-name` (lower case). */
function cardsFor(key: string, cards: Record<string, string>): [string, Mutation][] {
  return Object.entries(cards).map(([name, card]) => [`${key.toLowerCase()}-${name}`, putCard(key, card)]);
}

const MUTATIONS: [string, Mutation][] = [
  ['cut-in-header', truncate((_, r) => 1 + r.int(2879))],
  ['cut-after-header', truncate(() => 2880)],
  ['cut-in-data', truncate((n, r) => 2881 + r.int(n - 2880 - 2880))],
  ['cut-padding', truncate((n) => n - 1)],
  ['flip-1', flip],
  ['flip-2', flip],
  ['flip-3', flip],
  ['flip-4', flip],
  ['flip-5', flip],
  ['flip-6', flip],
  ['bitpix-12', setValue('BITPIX', '                  12')],
  ['bitpix-string', setValue('BITPIX', "'16'")],
  ['bitpix-float', setValue('BITPIX', '                16.0')],
  ['bitpix-64', setValue('BITPIX', '                  64')],
  ['naxis-3', setValue('NAXIS', '                   3')],
  ['naxis-minus', setValue('NAXIS', '                  -1')],
  ['naxis-1000', setValue('NAXIS', '                1000')],
  ['naxis1-zero', setValue('NAXIS1', '                   0')],
  ['naxis2-zero', setValue('NAXIS2', '                   0')],
  ['naxis1-huge', setValue('NAXIS1', '          2000000000')],
  ['both-huge', (b, r) => setValue('NAXIS2', '          2000000000')(setValue('NAXIS1', '          2000000000')(b, r), r)],
  ['naxis1-half', setValue('NAXIS1', '                  32')],
  ['naxis1-float', setValue('NAXIS1', '                64.5')],
  ['naxis1-twice', insertCard('NAXIS1  =                   64')],
  ...cardsFor('BZERO', { abc: "BZERO   = 'abc'", nan: 'BZERO   =                  NaN', '1e400': 'BZERO   =                1E400', empty: 'BZERO   =', m1e30: 'BZERO   =               -1E30', 'no-equals': 'BZERO   32768' }),
  ...cardsFor('BSCALE', { 0: 'BSCALE  =                    0', 2: 'BSCALE  =                    2', '1e400': 'BSCALE  =                1E400' }),
  ['object-twice', insertCard("OBJECT  = 'M33'")],
  ['no-end', setCard('END', '')],
  ['end-garbage', setCard('END', 'END     garbage')],
  ['simple-f', setValue('SIMPLE', '                   F')],
  ['comment-latin1', insertCard('COMMENT temperature in \u00b0C')],
];

/** Files that are not FITS at all, and things that are not files. */
function specials(dir: string, rng: Rng): string[] {
  const out: string[] = [];
  const put = (name: string, data: Buffer | string): void => {
    writeFileSync(join(dir, name), data);
    out.push(join(dir, name));
  };
  put('empty.fits', '');
  put('random.fits', Buffer.from(Array.from({ length: 7000 }, () => rng.int(256))));
  put('text.fits', 'hello, this is not FITS\n'.repeat(300));
  put('simple-only.fits', 'SIMPLE  =');
  put('png.fits', Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(4000, 7)]));
  mkdirSync(join(dir, 'x.fits'));
  out.push(join(dir, 'x.fits'));
  const fifo = join(dir, 'fifo.fits');
  const r = spawnSync('mkfifo', [fifo]);
  assert.equal(r.status, 0, `mkfifo: ${String(r.stderr)}`);
  out.push(fifo, '/dev/null', join(dir, 'socket.fits'));
  return out;
}

// ------------------------------------------------------------- the reference: Astropy

const PY = String.raw`
import sys, json, warnings, numpy as np
from astropy.io import fits
warnings.simplefilter('ignore')
res = []
for arg in sys.argv[2:]:
    p, hdu = arg.rsplit('@', 1)
    try:
        with fits.open(p, memmap=False) as h:
            d = np.asarray(h[int(hdu)].data, dtype='<f8')
        d.tofile(p + '.astropy')
        fin = lambda x: float(x) if np.isfinite(x) else str(x)   # JSON has no inf or nan
        res.append({'shape': list(d.shape), 'min': fin(np.nanmin(d)), 'max': fin(np.nanmax(d))})
    except Exception as e:
        res.append({'error': f'{type(e).__name__}: {e}'})
print(json.dumps(res))
`;

interface Ref {
  shape?: number[];
  min?: number | string;
  max?: number | string;
  error?: string;
}

function sameAsAstropy(path: string, ref: Ref, info: { width: number; height: number; stats: { min: number; max: number } }): void {
  assert.ok(!ref.error, `${path}: darkroom read it but Astropy cannot: ${ref.error}`);
  assert.deepEqual([info.height, info.width], ref.shape, `${path}: size`);
  assert.equal(info.stats.min, Math.fround(Number(ref.min)), `${path}: min`);
  assert.equal(info.stats.max, Math.fround(Number(ref.max)), `${path}: max`);
  const b = readFileSync(`${path}.astropy`);
  const want = new Float64Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
  const got = readFits(path).data[0]!;
  assert.equal(got.length, want.length, path);
  let diff = 0;
  for (let i = 0; i < want.length; i++) if (!Object.is(got[i], Math.fround(want[i]!))) diff++;
  assert.equal(diff, 0, `${path}: ${diff} pixels differ from Astropy`);
}

// ------------------------------------------------------------- the test

function expectRefusal(r: CaseResult, file: string): void {
  const lines = r.stderr.replace(/\n$/, '').split('\n');
  assert.equal(lines.length, 1, `${r.id}: exactly one stderr line, got:\n${r.stderr}`);
  assert.ok(lines[0]!.startsWith('darkroom: ') && lines[0]!.includes(file), `${r.id}: the line names the file: ${lines[0]}`);
}

describe('fuzz: corrupt files are refused in one line (exit 2) or read as Astropy reads them; never a hang or a trace', () => {
  const dir = fileTempDir('darkroom-fuzz-');
  const sockPath = join(dir, 'socket.fits');
  const server = createServer();
  after(() => server.close());
  const files: string[] = [];
  let cases: { id: string; file: string; args: string[] }[];
  let run: SpawnSyncReturns<string>;
  let elapsedMs: number;
  let results: CaseResult[];
  const byFile = new Map<string, CaseResult[]>();
  before(() => {
    server.listen(sockPath);
    const rng = new Rng(20240521);
    const bases: Buffer[] = ([16, -32, 8] as WriteBitpix[]).map((bp) => {
      const p = join(dir, `base${bp}.fits`);
      writeFits(p, baseImage(rng, bp), { bitpix: bp });
      return readFileSync(p);
    });
    const valid = ['v1', 'v2', 'dark'].map((n) => {
      const p = join(dir, `${n}.fits`);
      writeFits(p, baseImage(rng, 16), { bitpix: n === 'dark' ? -32 : 16 });
      return p;
    });
    bases.forEach((b, k) => {
      for (const [name, m] of MUTATIONS) {
        const p = join(dir, `b${k}-${name}.fits`);
        writeFileSync(p, m(b, rng));
        files.push(p);
      }
    });
    files.push(...specials(dir, rng));
    cases = files.flatMap((f, i) => [
      { id: `info ${f}`, file: f, args: ['info', '--json', f] },
      { id: `stack ${f}`, file: f, args: ['stack', valid[0]!, f, valid[1]!, '--workers', '1', '-o', join(dir, `stack${i}.fits`)] },
      { id: `light ${f}`, file: f, args: ['calibrate', f, '--dark', valid[2]!, '-o', join(dir, `cal${i}`)] },
      { id: `dark ${f}`, file: f, args: ['calibrate', valid[0]!, '--dark', f, '-o', join(dir, `cald${i}`)] },
    ]);
    writeFileSync(join(dir, 'cases.json'), JSON.stringify(cases));
    const resultsFile = join(dir, 'results.json');
    const t0 = Date.now();
    run = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'test/fits/cli-driver.ts'), join(dir, 'cases.json'), resultsFile], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 45_000,
      killSignal: 'SIGKILL',
      env: { ...process.env, NODE_OPTIONS: '' },
    });
    elapsedMs = Date.now() - t0;
    results = existsSync(resultsFile) ? (JSON.parse(readFileSync(resultsFile, 'utf8')) as CaseResult[]) : [];
    results.forEach((r, i) => byFile.set(cases[i]!.file, [...(byFile.get(cases[i]!.file) ?? []), r]));
  });

  test('the inputs: at least 80 corrupt files, a socket among them', () => {
    assert.ok(files.length >= 80, `${files.length} corrupt inputs`);
    assert.ok(existsSync(sockPath), 'the socket exists');
  });

  test('every case ends (no hang): the driver returns one result per case', () => {
    const last = results[results.length - 1];
    assert.equal(run.status, 0, `the driver ended with ${run.status ?? run.signal} after ${elapsedMs} ms (last case: ${last?.id}):\n${run.stderr}`);
    assert.equal(results.length, cases.length);
  });

  test('never a stack trace; exit 0 or 2, and a refusal is one line naming the file', () => {
    results.forEach((r, i) => {
      const c = cases[i]!;
      assert.equal(r.id, c.id);
      assert.doesNotMatch(r.stderr, /^\s+at /m, `${r.id}: a stack trace:\n${r.stderr}`);
      assert.ok(r.code === 0 || r.code === 2, `${r.id}: exit ${r.code}\n${r.stderr}`);
      if (r.code === 2) expectRefusal(r, c.file);
    });
  });

  test('whatever info read is what Astropy reads; stack and calibrate accept only what info read; most are refused', () => {
    const read = files.filter((f) => byFile.get(f)![0]!.code === 0);
    const infos = read.map((f) => (JSON.parse(byFile.get(f)![0]!.stdout) as { width: number; height: number; hdu: number; stats: { min: number; max: number } }[])[0]!);
    const refs = read.length ? (JSON.parse(runPython(PY, ['-', ...read.map((f, i) => `${f}@${infos[i]!.hdu}`)])) as Ref[]) : [];
    read.forEach((f, i) => sameAsAstropy(f, refs[i]!, infos[i]!));
    for (const f of files) {
      const [info, ...others] = byFile.get(f)!;
      for (const r of others) if (r.code === 0) assert.equal(info!.code, 0, `${r.id} accepted a file that info refused`);
    }
    const refused = files.length - read.length;
    assert.ok(refused >= 60, `most corrupt files are refused (${refused} of ${files.length})`);
  });
});
