import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decideKind, type PixelEvidence } from '../../src/session/evidence.js';

const ev = (stars: number): PixelEvidence => ({ median: 1000, sigma: 10, stars, rows: 100, fullScale: 65535, class: stars >= 5 ? 'stars' : 'unexposed' });

test('a few star-like peaks (cosmic rays) do not overrule a header and a name that agree', () => {
  const d = decideKind('dark', 'dark', ev(6), 120);
  assert.equal(d.kind, 'dark');
  assert.match(d.note ?? '', /too few to overrule both/);
});

test('many stars overrule header and name; a few stars overrule a header the name contradicts', () => {
  assert.equal(decideKind('dark', 'dark', ev(40), 120).kind, 'light');
  assert.equal(decideKind('dark', 'light', ev(6), 120).kind, 'light');
  assert.equal(decideKind('dark', undefined, ev(6), 120).kind, 'light');
});
