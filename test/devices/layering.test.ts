// The device layer's shape: interfaces, errors and protocol clients never import the simulator.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ROOT } from '../helpers/env.js';

const walk = (d: string): string[] => readdirSync(d).flatMap((n) => (statSync(join(d, n)).isDirectory() ? walk(join(d, n)) : n.endsWith('.ts') ? [join(d, n)] : []));

test('nothing under src/devices/ outside sim/ imports from sim/', () => {
  const devices = join(ROOT, 'src/devices');
  const offenders: string[] = [];
  for (const f of walk(devices)) {
    const rel = relative(devices, f);
    if (rel.startsWith('sim/')) continue;
    for (const m of readFileSync(f, 'utf8').matchAll(/^\s*(?:import|export)[^'"]*from\s+'([^']+)'/gm)) {
      if (/(^|\/)sim\//.test(m[1]!)) offenders.push(`${rel} imports ${m[1]}`);
    }
  }
  assert.deepEqual(offenders, []);
});

test('simulated devices live under src/devices/sim/; DeviceError in src/devices/errors.ts', async () => {
  const top = readdirSync(join(ROOT, 'src/devices')).filter((n) => n.endsWith('.ts'));
  assert.deepEqual(top.filter((n) => /^sim/.test(n)), []);
  const { DeviceError } = await import('../../src/devices/errors.js');
  const e = new DeviceError('invalid-value', 'bad');
  assert.equal(e.code, 'BAD_ARGUMENT');
});
