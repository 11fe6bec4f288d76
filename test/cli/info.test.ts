import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileTempDir, runCli, runPython } from '../helpers/env.js';

const dir = fileTempDir();

// Astropy writes the files; numpy gives the reference statistics.
const ref = JSON.parse(
  runPython(
    `
import sys, json, numpy as np
from astropy.io import fits
d = sys.argv[1]
rng = np.random.default_rng(7)
sky = rng.normal(1200, 35, (96, 128))
sky[40:43, 60:63] += 20000
out = {}
h = fits.Header(); h['IMAGETYP'] = 'Light Frame'; h['EXPTIME'] = 300.0; h['CCD-TEMP'] = -10.2; h['FILTER'] = 'Ha'; h['XBINNING'] = 2; h['YBINNING'] = 2
fits.PrimaryHDU(np.clip(sky, 0, 65535).astype(np.uint16), header=h).writeto(d + '/u16.fits', overwrite=True)
fits.PrimaryHDU((sky * 1000 - 5e5).astype(np.int32)).writeto(d + '/i32.fits', overwrite=True)
fits.PrimaryHDU(sky.astype(np.float32) / 65535).writeto(d + '/f32.fits', overwrite=True)
rgb = np.stack([sky, sky * 0.8, sky * 1.2]).astype(np.float32)
fits.PrimaryHDU(rgb).writeto(d + '/rgb.fits', overwrite=True)
for name in ['u16', 'i32', 'f32', 'rgb']:
    a = fits.getdata(d + '/' + name + '.fits').astype(np.float64)
    out[name] = dict(mean=float(a.mean()), median=float(np.median(a)), min=float(a.min()), max=float(a.max()), std=float(a.std()))
print(json.dumps(out))
`,
    [dir],
  ),
) as Record<string, { mean: number; median: number; min: number; max: number; std: number }>;

function rel(a: number, b: number): number {
  return Math.abs(a - b) / Math.max(Math.abs(b), 1e-30);
}

test('info --json matches numpy for 16-bit, 32-bit integer, float and RGB files written by Astropy', () => {
  const names = ['u16', 'i32', 'f32', 'rgb'];
  const r = runCli(['info', '--json', ...names.map((n) => join(dir, `${n}.fits`))]);
  assert.equal(r.code, 0, r.stderr);
  const recs = JSON.parse(r.stdout) as Array<Record<string, unknown> & { stats: Record<string, number> }>;
  assert.equal(recs.length, 4);
  names.forEach((n, i) => {
    const s = recs[i]!.stats;
    const e = ref[n]!;
    for (const k of ['mean', 'median', 'min', 'max'] as const) {
      assert.ok(rel(s[k]!, e[k]) < 1e-6, `${n} ${k}: ${s[k]} vs numpy ${e[k]}`);
    }
    assert.ok(rel(s.stdev!, e.std) < 1e-5, `${n} stdev: ${s.stdev} vs ${e.std}`);
    for (const key of ['path', 'width', 'height', 'channels', 'bitpix', 'kind', 'exposure', 'temperature', 'filter', 'binning', 'stats']) {
      assert.ok(key in recs[i]!, `key ${key}`);
    }
    for (const key of ['mean', 'median', 'stdev', 'mad', 'min', 'max', 'noise']) assert.equal(typeof s[key], 'number', key);
  });
  const u16 = recs[0]!;
  assert.equal(u16.bitpix, 16);
  assert.equal(u16.kind, 'light');
  assert.equal(u16.exposure, 300);
  assert.equal(u16.temperature, -10.2);
  assert.equal(u16.filter, 'Ha');
  assert.equal(u16.binning, '2x2');
  assert.equal(u16.width, 128);
  assert.equal(u16.height, 96);
  assert.equal(recs[1]!.bitpix, 32);
  assert.equal(recs[2]!.bitpix, -32);
  assert.equal(recs[3]!.channels, 3);
  // The background noise of the 16-bit frame is the simulated 35 ADU (MRS estimate within 5%).
  assert.ok(Math.abs(u16.stats.noise - 35) / 35 < 0.05, `noise ${u16.stats.noise}`);
});

test('info prints a readable summary', () => {
  const r = runCli(['info', join(dir, 'u16.fits')]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /128 x 96/);
  assert.match(r.stdout, /kind\s+light/);
  assert.match(r.stdout, /exposure\s+300 s/);
  assert.match(r.stdout, /filter\s+Ha/);
});

function oneLineError(args: string[], pattern: RegExp): void {
  const r = runCli(args);
  assert.equal(r.code, 2, `exit code for ${args.join(' ')}: ${r.stderr}`);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `one line expected, got:\n${r.stderr}`);
  assert.match(lines[0]!, pattern);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
}

test('bad input: missing, non-FITS, truncated files give one line naming the file and exit 2', () => {
  const missing = join(dir, 'nope.fits');
  oneLineError(['info', missing], new RegExp(`${missing}: no such file`));
  const text = join(dir, 'notes.fits');
  writeFileSync(text, 'this is not a FITS file at all\n'.repeat(200));
  oneLineError(['info', text], /notes\.fits: not a FITS file/);
  const trunc = join(dir, 'trunc.fits');
  runPython(`import sys; b = open(sys.argv[1], 'rb').read(); open(sys.argv[2], 'wb').write(b[:2880 + 5000])`, [join(dir, 'u16.fits'), trunc]);
  oneLineError(['info', trunc], /trunc\.fits: truncated/);
});

test('one bad file among good ones: the good ones are reported, exit code 2', () => {
  const r = runCli(['info', '--json', join(dir, 'u16.fits'), join(dir, 'missing.fits')]);
  assert.equal(r.code, 2);
  assert.equal((JSON.parse(r.stdout) as unknown[]).length, 1);
  assert.match(r.stderr, /missing\.fits: no such file/);
});

test('info prints what the reader warns about (bytes after the last HDU) and still exits 0 with the statistics', () => {
  const p = join(dir, 'junk-after.fits');
  writeFileSync(p, Buffer.concat([readFileSync(join(dir, 'u16.fits')), Buffer.from('junk')]));
  const r = runCli(['info', p, '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /darkroom: warning: .*junk-after\.fits: 4 byte\(s\) after the last HDU/);
  const [rec] = JSON.parse(r.stdout) as Array<{ warnings: string[]; stats: { mean: number } }>;
  assert.equal(rec!.warnings.length, 1);
  assert.ok(rel(rec!.stats.mean, ref.u16!.mean) < 1e-6);
});
