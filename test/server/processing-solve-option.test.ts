import { test } from 'node:test';
import assert from 'node:assert/strict';
import { processingSchemas, runOptionsOf } from '../../src/server/routes/processing.js';

test('API run options: solve false is accepted and reaches the run options (as run --no-solve)', () => {
  const body = processingSchemas.plan.parse({ night: 'n', options: { solve: false } });
  assert.equal(runOptionsOf(body.options).solve, false);
  const dflt = processingSchemas.plan.parse({ night: 'n', options: {} });
  assert.equal('solve' in runOptionsOf(dflt.options), false);
  assert.throws(() => processingSchemas.plan.parse({ night: 'n', options: { solve: 'no' } }));
});
