import { test } from 'node:test';
import assert from 'node:assert/strict';
import { holdUntilTaskChange, startingTask } from '../../src/util/thread-memory.js';
import { asTask } from '../../src/util/frame-pool.js';

test('memory held by one kind of task is released when the thread starts a task of another kind, not before', () => {
  const released: string[] = [];
  const detect = asTask((n: number) => { holdUntilTaskChange('planes', () => released.push(`planes ${n}`)); return n; });
  const write = asTask((n: number) => n * 2);
  assert.deepEqual(detect(1), { value: 1 });
  assert.deepEqual(detect(2), { value: 2 });
  assert.deepEqual(released, [], 'the same kind of task keeps what it held');
  assert.deepEqual(write(3), { value: 6 });
  assert.deepEqual(released, ['planes 2'], 'the latest release of the owner runs once');
  write(4);
  detect(5);
  assert.deepEqual(released, ['planes 2'], 'nothing held: nothing released');
  startingTask('another kind');
  assert.deepEqual(released, ['planes 2', 'planes 5']);
});
