/**
 * Per-group progress of a running sequence (runners/sequence.ts groupProgress): frames saved of each
 * group's total and the time until its last frame is saved, from the plan's own duration model, worked
 * out by hand for a two-filter plan in cycle order.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { expandPlan, parsePlan } from '../../../src/acquire/plan.js';
import { groupProgress } from '../../../src/server/runners/sequence.js';

const plan = parsePlan({ base: 'M42', groups: [{ filter: 'Red', exposure: 10, count: 2 }, { filter: 'Green', exposure: 20, count: 2 }] });
const frames = expandPlan(plan); // Red 1, Green 1, Red 2, Green 2
const model = { readoutS: 1, filterSlotS: 0.4, filterNames: ['Red', 'Green', 'Blue'], startSlot: 0 };

test('each group: frames done of its total, and the estimate up to its last frame (exposure + 1 s readout + 0.4 s a slot)', () => {
  const now = 1_000_000;
  // the first Red frame saved; left: Green 1 (move 1 slot), Red 2 (move back), Green 2 (move again)
  const g = groupProgress(frames, 1, model, now, false);
  const red = 0.4 + 20 + 1 + (0.4 + 10 + 1);
  const green = red + 0.4 + 20 + 1;
  assert.deepEqual(
    g.map((x) => [x.group, x.filter, x.done, x.total]),
    [
      [1, 'Red', 1, 2],
      [2, 'Green', 0, 2],
    ],
  );
  assert.ok(Math.abs(g[0]!.remainingS - red) < 1e-9, `${g[0]!.remainingS} vs ${red}`);
  assert.ok(Math.abs(g[1]!.remainingS - green) < 1e-9, `${g[1]!.remainingS} vs ${green}`);
  assert.equal(g[1]!.eta, now + green * 1000);
  // a group whose frames are all saved has nothing left
  const late = groupProgress(frames, 3, model, now, false);
  assert.deepEqual(late.map((x) => [x.done, x.remainingS]), [[2, 0], [1, 0.4 + 20 + 1]]);
  // the sequence ended: nothing left anywhere
  assert.deepEqual(groupProgress(frames, 4, model, now, true).map((x) => [x.done, x.remainingS, x.eta]), [[2, 0, now], [2, 0, now]]);
});
